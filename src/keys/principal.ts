import type { ModelAccess } from './model-access';

/** Roles a virtual key can carry. A key without a role is a plain key: LLM routes and its own info/health. */
export const KEY_ROLES = ['proxy_admin', 'team_admin'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

/**
 * Who is calling, resolved once per request by the auth guard and cached with the key.
 * It never holds the raw key: `keyHash` is the SHA-256 hex LiteLLM calls `token`.
 */
export interface Principal {
  /** `master` for the master key, `key` for a virtual key. */
  readonly kind: 'master' | 'key';
  readonly isProxyAdmin: boolean;
  readonly role: KeyRole | null;
  readonly keyHash: string | null;
  readonly keyAlias: string | null;
  readonly teamId: string | null;
  readonly teamAlias: string | null;
  /** Models this caller may use (key and team lists, patterns included); `null` means no restriction. */
  readonly allowedModels: ModelAccess | null;
  readonly keyMetadata: Readonly<Record<string, unknown>>;
  readonly teamMetadata: Readonly<Record<string, unknown>>;
  /** The team turned its logging off: nothing is logged anywhere for this caller. */
  readonly teamLoggingDisabled: boolean;
}
