/**
 * `metadata.logging` holds a key's or team's logging destinations. LiteLLM replaces the whole metadata
 * object on update, so an unrelated edit silently dropped the logging config (LiteLLM issue #31447).
 * Here an update keeps the stored `logging` unless the new metadata names it explicitly.
 */
export function mergeMetadataKeepingLogging(
  stored: Readonly<Record<string, unknown>>,
  incoming: Readonly<Record<string, unknown>> | null,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...(incoming ?? {}) };
  if (!Object.prototype.hasOwnProperty.call(next, 'logging') && stored.logging !== undefined) {
    next.logging = stored.logging;
  }
  return next;
}

/** Ids are used in URL paths (`/team/{team_id}/callback`), so no slashes, whitespace or URL syntax. */
export const RESOURCE_ID_PATTERN = /^[^\s/\\?#%]{1,256}$/;
