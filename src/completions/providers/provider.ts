import type { CacheEndpoint } from '../../cache/cache-key';
import type { AppException } from '../../errors';
import type { RequestBody } from '../request-body';
import type { DeploymentSource } from './deployment-source';

/**
 * The one interface every upstream provider implements (one folder each under `providers/`). A provider reads a
 * `model_list` entry once at boot (`compile`) and answers with a `ProviderDeployment`: how to make the HTTP call for
 * a request, and — unless the upstream already speaks OpenAI — how to turn its answers, streams and errors into
 * OpenAI's. Everything else (routing, cache, privacy, the call record, logging) never sees a provider's format.
 */
export interface Provider {
  /** The name logged as `custom_llm_provider` when the prefix is an alias (`ollama_chat` → `ollama`). */
  readonly name: string;
  /** LiteLLM's `model:` prefixes this provider answers to (`anthropic`, `groq`, ...). */
  readonly prefixes: readonly string[];
  /** The `litellm_params` names it reads (config validation knows them, so a near miss is reported as a typo). */
  readonly settings: readonly string[];
  /**
   * True when each request is built from `ProviderCall.upstreamModel` alone, so one compiled deployment can serve a
   * wildcard `model:` (`anthropic/*`) for any name. Providers that fix the model at boot (in a path or a signed
   * route) leave it unset, and a wildcard for them stops start-up.
   */
  readonly servesAnyModel?: boolean;
  /** Reads the deployment's `litellm_params`; problems go to `source.problem()`, naming the setting or variable. */
  compile(source: DeploymentSource): ProviderDeployment;
}

/** The OpenAI routes a deployment may serve (the same union the response cache keys by). */
export type Endpoint = CacheEndpoint;

/** What one call asks of a deployment. */
export interface ProviderCall {
  readonly endpoint: Endpoint;
  readonly stream: boolean;
  /** The caller's OpenAI body with the deployment's request defaults filled in; gateway-only fields still in it. */
  readonly body: RequestBody;
  /** Model name the upstream knows (the `model:` value without its prefix). */
  readonly upstreamModel: string;
  readonly callId: string;
  /** Set when the caller speaks this deployment's own format (`ProviderDeployment.native`): send its body instead. */
  readonly native?: NativeCall;
}

/** A caller's API that an upstream speaks too: Anthropic's Messages (`POST /v1/messages`), OpenAI's Responses (`POST /v1/responses`). */
export type NativeFormat = 'anthropic-messages' | 'openai-responses';

/**
 * A call whose caller speaks the deployment's own format: its body goes upstream as it is (with the deployment's
 * model) and the answer comes back as the upstream sent it; the call's record still reads it through the
 * provider's Translation, so it stays OpenAI-shaped.
 */
export interface NativeCall {
  readonly format: NativeFormat;
  /** The caller's body, the gateway's own fields removed. */
  readonly body: RequestBody;
  /** Caller headers the upstream should see (Anthropic's `anthropic-beta`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Tells the client's writer that the upstream's answer goes out unchanged. */
  passThrough(): void;
  /** A stream that broke, as an error event in the caller's format. */
  errorEvent(failure: AppException): string;
  /**
   * How the record reads this format, when the provider's own Translation does not: an OpenAI deployment has none
   * (its chat answers are relayed as bytes), yet its Responses answers must still be read as chat for the record.
   */
  readonly translation?: Translation;
  /**
   * Why the body cannot be read as chat (a built-in tool, stored state): a deployment that does not speak this
   * format natively answers the caller with it, one that does is sent the body as it came.
   */
  readonly chatProblem?: AppException | null;
}

/** One HTTP request to the deployment's origin. */
export interface UpstreamRequest {
  /** Path and query on `ProviderDeployment.origin`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

/** A deployment as its provider compiled it at boot. */
export interface ProviderDeployment {
  /** `scheme://host:port`: deployments on one origin share one keep-alive connection pool. */
  readonly origin: string;
  /** For the call record: origin and base path, never a credential or a query string. */
  readonly apiBaseForLog: string;
  /**
   * The model as the upstream names it, when the provider takes a route marker off the `model:` value
   * (Bedrock's `converse/`): logged and priced under this name. Absent: the value without its prefix.
   */
  readonly upstreamModel?: string;
  readonly endpoints: ReadonlySet<Endpoint>;
  /** A caller format the upstream speaks (its `request` then honours `ProviderCall.native`). */
  readonly native?: NativeFormat;
  /**
   * A request about a response the upstream keeps (`GET` / `DELETE /v1/responses/{id}`): path and headers; the
   * id is already checked as one the gateway saw this deployment make.
   */
  storedResponse?(id: string): { path: string; headers: Readonly<Record<string, string>> } | Promise<{ path: string; headers: Readonly<Record<string, string>> }>;
  /** The request for one call; async where a credential must be fetched (OAuth) or the body signed (SigV4). */
  request(call: ProviderCall): UpstreamRequest | Promise<UpstreamRequest>;
  /** Null when the upstream speaks OpenAI: answers and event streams are relayed byte for byte (the fast path). */
  readonly translation: Translation | null;
  /**
   * The upstream's own token counter for an Anthropic-format count request (`POST /v1/messages/count_tokens`),
   * answering `{"input_tokens": n}`. Absent: the gateway estimates the count (messages-api/count-tokens.ts).
   */
  countTokens?(call: { readonly body: RequestBody; readonly upstreamModel: string; readonly headers: Readonly<Record<string, string>> }): UpstreamRequest;
  /**
   * What a non-2xx answer means where the provider differs from OpenAI's conventions (a status to answer with
   * instead, e.g. Anthropic's 529; a message in another place). Absent: the status is kept and the message is read
   * from `{"error": {"message"}}`, `{"message"}` or `{"detail"}`.
   */
  readError?(answer: FailedAnswer): ErrorReading;
}

export interface ErrorReading {
  /** The status the caller gets (before the gateway's own mapping: 401/403 → 502, 5xx retried, ...). */
  readonly status?: number;
  readonly message?: string | null;
}

export interface FailedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** At most 64 kB of the body. */
  readonly body: string;
}

/** How a provider that does not speak OpenAI is translated back. */
export interface Translation {
  /**
   * A 2xx answer as OpenAI's `chat.completion` (or embeddings list). Throws `UpstreamProtocolError` when it is not
   * the provider's format. `headers` are the answer's, for what a provider reports there (Bedrock's token counts).
   */
  answer(bytes: Buffer, call: ProviderCall, headers?: Readonly<Record<string, string | string[] | undefined>>): OpenAiAnswer;
  /** A fresh translator for one streamed answer. */
  stream(call: ProviderCall): StreamTranslator;
  /** Media types a streamed 2xx may carry (e.g. `text/event-stream`, `application/vnd.amazon.eventstream`). */
  readonly streamContentTypes: readonly string[];
}

export type OpenAiAnswer = Record<string, unknown>;

/**
 * An OpenAI `chat.completion.chunk`. Translators end with a chunk carrying `usage` and empty `choices` (what OpenAI
 * sends with `stream_options.include_usage`): it is recorded always and shown only to callers who asked for it.
 */
export type OpenAiChunk = Record<string, unknown>;

export interface StreamTranslator {
  /** The chunks this piece of the upstream stream completes (often none). Throws `UpstreamProtocolError`. */
  push(bytes: Buffer): readonly OpenAiChunk[];
  /** The upstream ended: the remaining chunks. Throws `UpstreamProtocolError` when it ended before the provider said it was done. */
  end(): readonly OpenAiChunk[];
}

/** The upstream answered 2xx in something that is not its provider's format (bad JSON, an unknown event). */
export class UpstreamProtocolError extends Error {
  override readonly name = 'UpstreamProtocolError';
  /**
   * Thrown by `StreamTranslator.push`: the chunks of the good events that came before the faulty one in the same
   * piece of the stream. The client still gets them, before the error event, as with an OpenAI stream.
   */
  chunksBefore: readonly OpenAiChunk[] = [];
}

/** The upstream reported an error inside a 2xx stream (Anthropic's `event: error`, say): its message, to be redacted. */
export class UpstreamErrorEvent extends Error {
  override readonly name = 'UpstreamErrorEvent';
  /** As UpstreamProtocolError's. */
  chunksBefore: readonly OpenAiChunk[] = [];
}
