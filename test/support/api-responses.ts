/**
 * The gateway's JSON answers as the e2e specs read them (only the fields they look at), so a spec says which answer
 * it expects once (`res.body as GeneratedKeyJson`) instead of reading an untyped supertest body.
 */

/** The OpenAI-shaped error body every 4xx/5xx carries. */
export interface ErrorJson {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * The error of an answer (supertest's, or the specs' own `{ status, body }`), checked to be the whole OpenAI
 * envelope: a spec reading `.message` of something else fails here, saying what came instead.
 */
export function errorOf(res: { status: number; body: unknown; text?: string }): ErrorJson['error'] {
  const error = (res.body as Partial<ErrorJson> | null)?.error;
  if (!error || typeof error.message !== 'string' || typeof error.type !== 'string' || !('param' in error) || !('code' in error)) {
    throw new Error(`not an OpenAI error envelope (${res.status}): ${res.text ?? JSON.stringify(res.body)}`);
  }
  return error;
}

/** A logging entry as keys and teams show it (`metadata.logging[]`), its secrets masked. */
export interface LoggingEntryJson {
  callback_name: string;
  callback_type: string;
  callback_vars: Record<string, string>;
}

/** A key's or team's metadata; `logging` as far as the spec reading it knows the entity has entries. */
export type MetadataJson = Record<string, unknown> & { logging: LoggingEntryJson[] };

/** `POST /key/generate`: the key, shown once, and its SHA-256 token. */
export interface GeneratedKeyJson {
  key: string;
  token: string;
  team_id: string | null;
  metadata: MetadataJson;
}

/** `POST /team/new`. */
export interface NewTeamJson {
  team_id: string;
}

/** `GET /team/info`. */
export interface TeamInfoJson {
  team_info: { team_id: string; metadata: MetadataJson };
}

/** `GET /key/info`. */
export interface KeyInfoJson {
  info: { team_id: string | null; key_alias: string | null; metadata: MetadataJson };
}

/** The `{ data }` answers (`/audit`, `/team/update`, `/team/{id}/callback`, `/logging/dead-letters` …). */
export interface DataJson<T> {
  data: T;
}

/** A chat completion (`/v1/chat/completions` without `stream`), as the upstream or the cache answered it. */
export interface ChatCompletionJson {
  id: string;
  model: string;
  choices: { index: number; message: { role: string; content: string | null }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/**
 * An answer the specs read with `fetch` themselves (to see the exact bytes): status, headers, the raw text, and that
 * text parsed as JSON (null when it is not JSON), to be cast at the read site (`res.json as ChatCompletionJson`).
 */
export interface FetchedAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: unknown;
}

/** `GET /team/{id}/callback`; its POST answers the same `data` with `status: 'success'`. */
export interface TeamCallbackJson {
  status?: string;
  data: { team_id: string; success_callbacks: string[]; failure_callbacks: string[]; callback_vars: Record<string, string> };
}
