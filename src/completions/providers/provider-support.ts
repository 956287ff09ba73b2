import { UpstreamProtocolError } from './provider';
import type { DeploymentSource } from './deployment-source';

/** An upstream base URL split the way the pool and the paths need it. */
export interface BaseUrl {
  readonly origin: string;
  /** Without a trailing slash (`/v1`, or `''`). */
  readonly path: string;
  /** `?...` of the configured URL, kept on every call (some hosts take their version or key there), or `''`. */
  readonly search: string;
}

/**
 * Reads a base URL setting (`api_base` unless named otherwise), resolved from `os.environ/`, else the first of
 * `fallbackEnv` that is set — or takes `fallback` when the caller already read it. A missing or malformed URL is a
 * problem naming the setting; the value itself is never echoed (people paste credentials into query strings).
 */
export function readBaseUrl(
  source: DeploymentSource,
  options: { setting?: string; fallbackEnv?: readonly string[]; fallback?: string | null; what?: string } = {},
): BaseUrl | null {
  const setting = options.setting ?? 'api_base';
  const text = options.fallback ?? source.string(setting, options.fallbackEnv ?? []);
  if (text === undefined || text === null) {
    const variables = options.fallbackEnv?.length ? ` or the environment variable ${options.fallbackEnv.join(' / ')}` : '';
    source.problem(`${options.what ?? 'the server address'} is missing: set litellm_params.${setting}${variables}`);
    return null;
  }
  return parseBaseUrl(source, setting, text);
}

export function parseBaseUrl(source: DeploymentSource, setting: string, text: string): BaseUrl | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    source.problem(`litellm_params.${setting} is not a valid URL`);
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    source.problem(`litellm_params.${setting} must be an http(s) URL`);
    return null;
  }
  return { origin: url.origin, path: url.pathname.replace(/\/+$/, ''), search: url.search };
}

/**
 * `extra_headers` from `litellm_params` (LiteLLM sends them with every call), merged over the provider's own.
 * Values may be `os.environ/` references; anything that is not a string map is a problem.
 */
export function withExtraHeaders(source: DeploymentSource, headers: Record<string, string>): Record<string, string> {
  const extra = source.raw('extra_headers');
  if (extra === undefined || extra === null) return headers;
  if (typeof extra !== 'object' || Array.isArray(extra)) {
    source.problem('litellm_params.extra_headers must be a mapping of header names to strings');
    return headers;
  }
  const out = { ...headers };
  for (const [name, value] of Object.entries(extra as Record<string, unknown>)) {
    const resolved = typeof value === 'string' ? source.resolve(`extra_headers.${name}`, value) : value;
    if (typeof resolved !== 'string' && typeof resolved !== 'number') {
      source.problem(`litellm_params.extra_headers.${name} must be a string`);
      continue;
    }
    out[name.toLowerCase()] = String(resolved);
  }
  return out;
}

/** Token counts as a provider with a prompt cache reports them (Anthropic's Messages API, Bedrock's Converse). */
export interface PromptCacheTokens {
  readonly input: unknown;
  readonly output: unknown;
  readonly cacheRead: unknown;
  readonly cacheWrite: unknown;
}

/**
 * Such counts as OpenAI's usage, LiteLLM's way: tokens read from and written to the prompt cache count as prompt
 * tokens (they were sent), the read ones also as `prompt_tokens_details.cached_tokens`. A count that is missing or
 * not a non-negative number reads as 0.
 */
export function usageWithPromptCache(tokens: PromptCacheTokens): Record<string, unknown> {
  const input = tokenCount(tokens.input);
  const output = tokenCount(tokens.output);
  const cacheRead = tokenCount(tokens.cacheRead);
  const cacheWrite = tokenCount(tokens.cacheWrite);
  const prompt = input + cacheRead + cacheWrite;
  const usage: Record<string, unknown> = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };
  if (cacheRead > 0 || cacheWrite > 0) {
    usage.prompt_tokens_details = { cached_tokens: cacheRead };
    usage.cache_read_input_tokens = cacheRead;
    usage.cache_creation_input_tokens = cacheWrite;
  }
  return usage;
}

function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** The bytes (or text) as a JSON object; `problem` (made only when needed) names what they should have been. */
export function parseJsonObject(input: string | Uint8Array, problem: string | (() => string)): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8'));
  } catch {
    parsed = null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UpstreamProtocolError(typeof problem === 'string' ? problem : problem());
  return parsed as Record<string, unknown>;
}

/**
 * A Claude-style stop reason (Anthropic's Messages API, and Bedrock's Converse, which took its vocabulary) as OpenAI's
 * `finish_reason`; an unknown reason, or Anthropic's `pause_turn`, reads as a normal stop.
 */
export function finishReasonOfStop(stopReason: unknown): string {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'stop';
  }
}
