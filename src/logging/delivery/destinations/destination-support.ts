import { createHash } from 'node:crypto';
import { request, type Agent } from 'undici';
import type { DeliveryResult, HealthResult } from '../../log-destination';
import type { StandardLoggingPayload } from '../../standard-logging-payload';
import { createGuardedAgent } from '../../ssrf-guard';

/** Helpers shared by the HTTP destinations: outcome classification, stable ids, keep-alive agents. */

/** Connect-time egress policy for a destination instance; see ssrf-guard.ts. */
export interface EgressOptions {
  /**
   * When set, every connection is checked against the SSRF rules and only these hosts (`host` or `host:port`) may
   * be non-public. Leave unset only for trusted deployments and loopback tests.
   */
  allowedHosts?: readonly string[];
  connectTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Events serialised between two turns of the event loop when a batch is prepared (see `mapInSlices`). */
export const EVENTS_PER_SLICE = 32;

/**
 * `items.map(map)`, giving the event loop a turn after every EVENTS_PER_SLICE items. A batch of a few hundred
 * events takes tens of milliseconds to serialise; in one piece, every request arriving meanwhile waited for
 * all of it (it was most of the p99 latency with logging on).
 */
export async function mapInSlices<T, R>(items: readonly T[], map: (item: T) => R): Promise<R[]> {
  const mapped: R[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % EVENTS_PER_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    mapped.push(map(items[i]));
  }
  return mapped;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | string[] | null | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === null || raw.trim() === '') {
    return undefined;
  }
  if (/^\d+(\.\d+)?$/.test(raw.trim())) {
    return Math.round(Number(raw.trim()) * 1000);
  }
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Generic HTTP rule: overload and server errors may pass later; other client errors will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** The OTLP/HTTP spec names exactly these as retryable. */
export function isRetryableOtlpStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** A short, secret-free code for a transport failure (ECONNREFUSED, ETIMEDOUT, ERR_SSRF_BLOCKED, ...). */
export function networkErrorCode(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    const candidate = current as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (candidate.name === 'TimeoutError' || candidate.name === 'AbortError') {
      return 'ETIMEDOUT';
    }
    if (typeof candidate.code === 'string' && candidate.code !== '') {
      return candidate.code === 'UND_ERR_CONNECT_TIMEOUT' ? 'ETIMEDOUT' : candidate.code;
    }
    if (Array.isArray(candidate.errors) && candidate.errors.length > 0) {
      current = candidate.errors[0];
      continue;
    }
    current = candidate.cause;
  }
  return 'network error';
}

export function isSsrfBlocked(err: unknown): boolean {
  return networkErrorCode(err) === 'ERR_SSRF_BLOCKED';
}

/** Message of the SSRF error inside `err` (it names the host and reason, never a secret). */
export function ssrfMessage(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (candidate.code === 'ERR_SSRF_BLOCKED' && typeof candidate.message === 'string') {
      return candidate.message;
    }
    current = candidate.cause;
  }
  return 'connection blocked by the SSRF guard';
}

/** A delivery failure for a transport error: retryable unless the SSRF guard refused the address. */
export function networkFailure(err: unknown, target: string): DeliveryResult {
  if (isSsrfBlocked(err)) {
    return { ok: false, retryable: false, error: `blocked: ${ssrfMessage(err)}` };
  }
  return { ok: false, retryable: true, error: `cannot reach ${target}: ${networkErrorCode(err)}` };
}

export function httpFailure(
  status: number,
  target: string,
  retryable: boolean,
  retryAfter: string | string[] | null | undefined,
  detail?: string,
): DeliveryResult {
  const retryAfterMs = retryable ? parseRetryAfter(retryAfter) : undefined;
  return {
    ok: false,
    retryable,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    error: `${target} answered HTTP ${status}${detail ? `: ${detail}` : ''}`,
  };
}

/** Hex digest of `parts` joined unambiguously; used for ids that must be equal on redelivery. */
export function stableHex(parts: readonly string[], hexChars: number): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, hexChars);
}

/** A UUID-shaped (version 8, "custom") id derived from `parts`, stable across redeliveries. */
export function stableUuid(...parts: string[]): string {
  const hex = stableHex(parts, 32).split('');
  hex[12] = '8';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function sha256Hex(...parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export function epochSecondsToDate(seconds: number | null | undefined): Date | undefined {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(Math.round(seconds * 1000)) : undefined;
}

/** Never trust a response body to be small or safe to log: one line, bounded. */
export function snippet(text: string, max = 200): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

const SECRET_PARAM = /(^|_)(api_?key|secret|password|passwd|authorization|credentials?|access_?token|private_?key)($|_)/i;
const DESTINATION_PARAM = /^(langfuse|langsmith|gcs|otel|dd|arize|posthog|newrelic|humanloop|wandb)_/i;

/**
 * Request parameters minus anything that looks like a credential or a callback setting. The payload is built to
 * exclude them already; this is the second lock, because leaking one is the classic failure of gateways (LiteLLM
 * sent team Langfuse keys inside modelParameters).
 */
export function safeModelParameters(params: Readonly<Record<string, unknown>> | null | undefined): Readonly<Record<string, unknown>> {
  if (params === null || params === undefined) return NO_PARAMETERS;
  // The events of one call share their payload object in the delivery thread: its destinations share one result.
  let safe = safeParameters.get(params);
  if (safe === undefined) {
    safe = filterModelParameters(params);
    safeParameters.set(params, safe);
  }
  return safe;
}

const NO_PARAMETERS: Readonly<Record<string, unknown>> = Object.freeze({});
/** Results by parameters object (payload objects are not mutated once handed to the destinations: event-json.ts). */
const safeParameters = new WeakMap<object, Readonly<Record<string, unknown>>>();

function filterModelParameters(params: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (SECRET_PARAM.test(name) || DESTINATION_PARAM.test(name) || name === 'metadata' || name === 'extra_headers') {
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** The assistant message of a chat completion response (first choice), or the raw response for other shapes. */
export function responseMessage(response: unknown): unknown {
  if (response && typeof response === 'object') {
    const choices = (response as { choices?: unknown }).choices;
    if (Array.isArray(choices) && choices.length > 0) {
      const first = choices[0] as { message?: unknown; delta?: unknown; text?: unknown };
      return first.message ?? first.delta ?? first.text ?? null;
    }
    if ('role' in response || 'content' in response) {
      return response;
    }
    // A redacted answer (LiteLLM's `{"text": "redacted-by-litellm"}`) still shows as the answer.
    if (typeof (response as { text?: unknown }).text === 'string') {
      return { role: 'assistant', content: (response as { text: string }).text };
    }
    return null;
  }
  return response ?? null;
}

/** Keep-alive agents per origin (one connection pool per destination host), closed together on shutdown. */
export class AgentPool {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly egress: EgressOptions = {}) {}

  forUrl(url: string | URL): Agent {
    const origin = new URL(url).origin;
    let agent = this.agents.get(origin);
    if (!agent) {
      agent = createGuardedAgent({
        allowedHosts: this.egress.allowedHosts ?? null,
        connectTimeoutMs: this.egress.connectTimeoutMs,
      });
      this.agents.set(origin, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.allSettled(agents.map((agent) => agent.close()));
  }
}

/** `https://` is prepended to a bare host (LiteLLM prepends `http://`; plaintext is not a safe default for credentials). */
export function normalizeBaseUrl(value: string): string {
  const trimmed = value.trim().replace(/\/+$/, '');
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `https://${trimmed}`;
}

/** Field error when `value` is not an absolute http(s) URL without credentials. */
export function httpUrlError(field: string, value: string): { field: string; message: string } | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { field, message: `${field} must be an absolute http(s) URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { field, message: `${field} must use http or https` };
  }
  if (url.username !== '' || url.password !== '') {
    return { field, message: `${field} must not contain credentials` };
  }
  return null;
}

export interface HttpCallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first 64 KiB of the body: enough for error details, bounded whatever the server sends. */
  text: string;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/** One request through the pool's guarded keep-alive agent; throws on transport errors (see `networkFailure`). */
export async function httpCall(
  agents: AgentPool,
  call: { method: 'GET' | 'POST' | 'PUT' | 'HEAD' | 'OPTIONS'; url: string; headers: Record<string, string>; body?: string | Buffer; timeoutMs: number },
): Promise<HttpCallResult> {
  const response = await request(call.url, {
    method: call.method,
    headers: call.headers,
    body: call.body,
    dispatcher: agents.forUrl(call.url),
    signal: AbortSignal.timeout(call.timeoutMs),
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    if (size < MAX_RESPONSE_BYTES) {
      chunks.push(buffer.subarray(0, MAX_RESPONSE_BYTES - size));
    }
    size += buffer.length;
  }
  return { status: response.statusCode, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') };
}

/** The health answer for a transport error: the SSRF guard's reason, or the network error code. */
export function unreachableHealth(err: unknown, target: string): HealthResult {
  return { healthy: false, details: isSsrfBlocked(err) ? `blocked: ${ssrfMessage(err)}` : `cannot reach ${target}: ${networkErrorCode(err)}` };
}

/**
 * What the router did before the answer, for a destination's metadata: LiteLLM's counts and the failed attempts
 * (deployments, error classes, durations; never error text). Empty for a call answered at the first try.
 */
export function routerAttempts(p: StandardLoggingPayload): Record<string, unknown> {
  const m = p.metadata;
  if (m?.failed_attempts === undefined) return {};
  return { attempted_retries: m.attempted_retries ?? 0, attempted_fallbacks: m.attempted_fallbacks ?? 0, failed_attempts: m.failed_attempts };
}
