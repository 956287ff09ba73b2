/**
 * The gateway's JSON answers as the e2e specs read them (only the fields they look at), so a spec says which answer
 * it expects once (`res.body as GeneratedKeyJson`) instead of reading an untyped supertest body.
 */

/** The OpenAI-shaped error body every 4xx/5xx carries. */
export interface ErrorJson {
  error: { message: string; type: string; param: string | null; code: string };
}

/** The error of a response (supertest's or the specs' own `{ body }` answers). */
export const errorOf = (res: { body: unknown }): ErrorJson['error'] => (res.body as ErrorJson).error;

/** `POST /key/generate`: the key, shown once, and its SHA-256 token. */
export interface GeneratedKeyJson {
  key: string;
  token: string;
  team_id: string | null;
  metadata: unknown;
}

/** `POST /team/new`. */
export interface NewTeamJson {
  team_id: string;
}

/** `GET /team/info`. */
export interface TeamInfoJson {
  team_info: { team_id: string; metadata: Record<string, unknown> | null };
}

/** `GET /key/info`. */
export interface KeyInfoJson {
  info: { team_id: string | null; key_alias: string | null; metadata: Record<string, unknown> | null };
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
