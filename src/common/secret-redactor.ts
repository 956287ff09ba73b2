import type { GatewaySettings } from '../config/gateway-settings';
import { resolveEnvReference } from '../config/env-reference';

/** What replaces a credential in text. */
export const REDACTION_MARKER = '[REDACTED]';

/** Shorter values would blank ordinary words; the shape rules still catch real keys of any length. */
const MIN_LITERAL_LENGTH = 6;

/** A `litellm_params` (or cache) setting whose value is a credential: api_key, aws_secret_access_key, vertex_credentials, ... */
const SECRET_PARAM_NAME = /key|secret|token|password|credential/i;

/** A header in a deployment's `extra_headers` that carries a credential (`Authorization`, `x-api-key`, `X-Upstream-Token`, ...). */
const SECRET_HEADER_NAME = /key|secret|token|password|credential|auth|cookie/i;

/**
 * An environment variable holding a credential by its name: the providers' default variables (ANTHROPIC_API_KEY,
 * AWS_SECRET_ACCESS_KEY, AZURE_CLIENT_SECRET, GROQ_API_KEY, ...) are used when `litellm_params` names no key, so the
 * config alone does not list every credential a deployment sends.
 */
const SECRET_ENV_NAME = /(?:API_KEY|ACCESS_KEY_ID|SECRET|SECRET_KEY|SECRET_ACCESS_KEY|TOKEN|PASSWORD)$/i;

/**
 * Credential shapes, whatever their owner. Groups 1 (scheme or URL up to the password) and 2 (what follows the
 * scheme) are kept; the rest of a match is the secret.
 */
const SHAPES = new RegExp(
  [
    // PEM private keys (service-account JSON), to the END line or the end of the text if it was cut.
    String.raw`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`,
    // The password of a URL: postgres://user:secret@host, redis://:secret@host.
    String.raw`(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)`,
    // Authorization header values.
    String.raw`\b([Bb]earer|[Bb]asic)(\s+)[A-Za-z0-9._~+/=-]{7,}[A-Za-z0-9_~+/=-]`,
    // JWTs: header and payload are base64url JSON, so both start with eyJ.
    String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`,
    // OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), Langfuse (sk-lf-), Gatehouse's own virtual keys.
    String.raw`\bsk-[A-Za-z0-9_-]{16,}`,
    // LangSmith.
    String.raw`\blsv2_[a-z]{2}_[A-Za-z0-9_]{16,}`,
    // AWS access key ids.
    String.raw`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`,
    // Google API keys.
    String.raw`\bAIza[0-9A-Za-z_-]{35}`,
  ].join('|'),
  'g',
);

/**
 * A long opaque token right after a word that announces one: "Incorrect API key provided: abc…", `token=…`,
 * `"secret": "…"` (a sentence's final period is not part of the token). Only tokens that mix letters and digits (or cases) count, so prose is left alone.
 */
const ANNOUNCED_TOKEN =
  /\b((?:api[_-]?key|access[_-]?key|key|token|secret|password|passwd|pwd|credentials?|auth)[a-z_-]*["']?(?:\s+provided)?\s*[:=]?\s*["']?)([A-Za-z0-9._~+/=-]{19,}[A-Za-z0-9_~+/=-])/gi;

function isOpaque(token: string): boolean {
  return /\d/.test(token) ? /[A-Za-z]/.test(token) : /[a-z]/.test(token) && /[A-Z]/.test(token);
}

function shapeReplacer(match: string, urlPrefix: string | undefined, scheme: string | undefined, space: string | undefined): string {
  if (urlPrefix !== undefined) return `${urlPrefix}${REDACTION_MARKER}`;
  if (scheme !== undefined) return `${scheme}${space ?? ' '}${REDACTION_MARKER}`;
  return REDACTION_MARKER;
}

function announcedReplacer(match: string, announcement: string, token: string): string {
  return isOpaque(token) ? `${announcement}${REDACTION_MARKER}` : match;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** The forms a secret takes in text: as is, URL-encoded, and JSON-escaped. */
function textForms(secret: string): string[] {
  const forms = new Set([secret]);
  try {
    forms.add(encodeURIComponent(secret));
  } catch {
    // A lone surrogate cannot be URL-encoded; the plain form is still matched.
  }
  forms.add(JSON.stringify(secret).slice(1, -1));
  return [...forms].filter((form) => form.length >= MIN_LITERAL_LENGTH);
}

const forGatewayCache = new WeakMap<GatewaySettings, SecretRedactor>();

/**
 * Text from outside the gateway — an upstream's error message, a logging destination's error body — can quote a
 * credential: OpenAI's 401 says "Incorrect API key provided: sk-…", a destination's 401 may echo the key it refused.
 * Such text passes here before it reaches a caller, a log event, stdout or the outbox. Two nets: the gateway's own
 * credentials, matched literally (precompiled at boot), and anything shaped like a credential. Only error paths
 * call it, so a successful request pays nothing.
 */
export class SecretRedactor {
  private readonly literals: RegExp | null;

  constructor(secrets: Iterable<string>) {
    const forms = new Set<string>();
    for (const secret of secrets) for (const form of textForms(secret)) forms.add(form);
    // Longest first, so a secret that contains another is replaced whole.
    const sorted = [...forms].sort((a, b) => b.length - a.length);
    this.literals = sorted.length > 0 ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : null;
  }

  /**
   * Every credential the gateway is configured with: each `model_list` deployment's secret `litellm_params`
   * (resolved from `os.environ/`), every environment variable named like a credential, the master key, the salt keys, the database's and Redis's passwords.
   * One instance per settings object, shared by whoever asks.
   */
  static forGateway(settings: GatewaySettings, env: NodeJS.ProcessEnv): SecretRedactor {
    let redactor = forGatewayCache.get(settings);
    if (redactor === undefined) {
      redactor = new SecretRedactor(gatewaySecrets(settings, env));
      forGatewayCache.set(settings, redactor);
    }
    return redactor;
  }

  /** `text` with every known credential and every credential-shaped token replaced; `extra` adds secrets of the moment (a destination's own keys). */
  redact(text: string, extra: readonly string[] = []): string {
    if (text === '') return text;
    let out = text;
    if (extra.length > 0) {
      const forms = extra.flatMap(textForms).sort((a, b) => b.length - a.length);
      for (const form of forms) out = out.split(form).join(REDACTION_MARKER);
    }
    if (this.literals !== null) out = out.replace(this.literals, REDACTION_MARKER);
    return out.replace(SHAPES, shapeReplacer).replace(ANNOUNCED_TOKEN, announcedReplacer);
  }
}

function gatewaySecrets(settings: GatewaySettings, env: NodeJS.ProcessEnv): string[] {
  const secrets: string[] = [settings.masterKey];
  const add = (value: unknown): void => {
    if (typeof value === 'string' && value !== '') secrets.push(value);
  };
  const resolved = (value: unknown): string | undefined => (typeof value === 'string' ? resolveEnvReference(value, env) : undefined);

  for (const deployment of settings.config.modelList) {
    for (const [name, value] of Object.entries(deployment.litellm_params)) {
      if (SECRET_PARAM_NAME.test(name)) collectStrings(value, env, add);
      // An upstream that wants its key in a header of its own gets it through extra_headers; an error may quote it back.
      else if (name === 'extra_headers' && value !== null && typeof value === 'object') {
        for (const [header, headerValue] of Object.entries(value as Record<string, unknown>)) {
          if (SECRET_HEADER_NAME.test(header)) collectStrings(headerValue, env, add);
        }
      }
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if (SECRET_ENV_NAME.test(name)) add(value);
  }
  const general = settings.config.generalSettings;
  add(resolved(general.master_key));
  add(urlPassword(resolved(general.database_url)));

  add(settings.masterKey);
  add(settings.environment.SALT_KEY);
  for (const key of settings.environment.SALT_KEY_PREVIOUS) add(key);
  add(env.REDIS_PASSWORD);
  add(settings.environment.REDIS_PASSWORD);
  add(urlPassword(settings.database.url));
  add(urlPassword(settings.environment.DATABASE_URL));
  add(urlPassword(settings.environment.REDIS_URL));
  const cache = settings.config.litellmSettings.cache_params;
  add(resolved(cache.password));
  add(urlPassword(resolved(cache.url)));
  // The OTLP exporter's headers (OTEL_EXPORTER_OTLP_HEADERS) usually carry the collector's key, often as `Bearer <key>`.
  for (const value of Object.values(settings.environment.tracing?.headers ?? {})) {
    add(value);
    add(value.replace(/^(bearer|basic|token)\s+/i, ''));
  }
  return secrets;
}

/** Strings of a secret setting: a plain value, an `os.environ/` reference's value, or the fields of a JSON credential. */
function collectStrings(value: unknown, env: NodeJS.ProcessEnv, add: (value: string) => void): void {
  if (typeof value === 'string') {
    const text = resolveEnvReference(value, env);
    if (text === undefined) return;
    add(text);
    // A JSON credential (vertex_credentials) is matched by its secret fields: its text as a whole never appears.
    if (text.trimStart().startsWith('{')) {
      try {
        collectStrings(JSON.parse(text), env, add);
      } catch {
        // Not JSON: matched as the plain value above.
      }
    }
  } else if (Array.isArray(value)) {
    for (const item of value) collectStrings(item, env, add);
  } else if (value !== null && typeof value === 'object') {
    for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
      if (typeof item !== 'string' || SECRET_PARAM_NAME.test(name)) collectStrings(item, env, add);
    }
  }
}

function urlPassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    // Decoded: textForms adds the percent-encoded spelling.
    return parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  } catch {
    return undefined;
  }
}
