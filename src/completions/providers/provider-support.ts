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
