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
  if (!Object.prototype.hasOwnProperty.call(next, 'logging')) {
    if (stored.logging !== undefined) next.logging = stored.logging;
  } else if (next.logging === null) {
    delete next.logging;
  }
  return next;
}

/** Ids are used in URL paths (`/team/{team_id}/callback`), so no slashes, whitespace or URL syntax. */
export const RESOURCE_ID_PATTERN = /^[^\s/\\?#%]{1,256}$/;
