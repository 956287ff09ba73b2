import type { PrincipalLimits } from '../budgets/usage-limits';
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
  /** The user who owns the key (LiteLLM's `user_id`). */
  readonly userId: string | null;
  /** Teams whose `admin` member the key's user is: it manages them as a `team_admin` key manages its own. */
  readonly adminTeamIds: readonly string[];
  /** Budgets and rate limits of the key, its team and its user. */
  readonly limits: PrincipalLimits;
}

/** The proxy admin any team; a `team_admin` key its own; a key whose user is an admin member of the team, that team. */
export function managesTeam(principal: Principal, teamId: string | null): boolean {
  if (principal.isProxyAdmin) return true;
  if (teamId === null) return false;
  return (principal.role === 'team_admin' && principal.teamId === teamId) || principal.adminTeamIds.includes(teamId);
}

/** May call the team-admin routes at all (each then checks the team it touches with `managesTeam`). */
export function isSomeTeamAdmin(principal: Principal): boolean {
  return principal.isProxyAdmin || principal.role === 'team_admin' || principal.adminTeamIds.length > 0;
}
