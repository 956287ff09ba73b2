/**
 * `logging_settings` (the privacy switches) is kept the same way, so an unrelated edit cannot relax privacy.
 * `cache_namespace` is kept the same way: only the proxy admin may set a team's shared cache namespace, so a
 * team admin's unrelated metadata edit must not drop it either.
 */
const KEPT_UNLESS_NAMED = ['logging', 'logging_settings', 'cache_namespace'] as const;

/**
 * `metadata.logging` holds a key's or team's logging destinations. LiteLLM replaces the whole metadata
 * object on update, so an unrelated edit silently dropped the logging config (LiteLLM issue #31447).
 * Here an update keeps the stored `logging` unless the new metadata names it explicitly; `"logging": null`
 * removes it (the key or team then falls through to the next logging source).
 */
export function mergeMetadataKeepingLogging(
  stored: Readonly<Record<string, unknown>>,
  incoming: Readonly<Record<string, unknown>> | null,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...(incoming ?? {}) };
  for (const field of KEPT_UNLESS_NAMED) {
    if (!Object.prototype.hasOwnProperty.call(next, field)) {
      if (stored[field] !== undefined) next[field] = stored[field];
    } else if (next[field] === null) {
      delete next[field];
    }
  }
  return next;
}

/** Ids are used in URL paths (`/team/{team_id}/callback`), so no slashes, whitespace or URL syntax. */
export const RESOURCE_ID_PATTERN = /^[^\s/\\?#%]{1,256}$/;

/** What the audit log compares: logging destinations and privacy settings (stored form, secrets encrypted). */
export function loggingFingerprint(metadata: Readonly<Record<string, unknown>>): string {
  return JSON.stringify([metadata.logging ?? null, metadata.logging_settings ?? null]);
}
