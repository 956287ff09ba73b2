import { customPatternProblem } from './custom-pattern';
import { PII_DETECTORS, type CustomPiiPattern, type PiiDetector, type PiiMaskingConfig } from './pii-masker';

/**
 * One level's privacy switches as written: the global `litellm_settings`, a team (`metadata.logging_settings`
 * or its `default_team_settings` entry), or a key (`metadata.logging_settings`). Absent means "inherit".
 */
export interface PrivacyLayer {
  /** LiteLLM's switch: destinations get the call's metadata, the messages and the answer become a marker. */
  readonly turn_off_message_logging?: boolean;
  /** LiteLLM's switch: key hash and alias, user and team identifiers are left out of what destinations get. */
  readonly redact_user_api_key_info?: boolean;
  /** Refuse a request's `"no-log": true` with a 400 (LiteLLM's `global_disable_no_log_param`, per level). */
  readonly disable_no_log_param?: boolean;
  /** Honour the `litellm-disable-message-redaction` request header (LiteLLM's key/team opt-in of that name). */
  readonly allow_client_message_redaction_opt_out?: boolean;
  /** `null`: masking explicitly off at this level. */
  readonly pii_masking?: PiiMaskingConfig | null;
}

export const PRIVACY_SWITCHES = [
  'turn_off_message_logging',
  'redact_user_api_key_info',
  'disable_no_log_param',
  'allow_client_message_redaction_opt_out',
] as const;
export type PrivacySwitch = (typeof PRIVACY_SWITCHES)[number];
export const PRIVACY_FIELDS: readonly string[] = [...PRIVACY_SWITCHES, 'pii_masking'];

/**
 * Switches only the proxy admin may set on a team or key: each one lets callers keep something out of the logs
 * the company relies on, or hides who made a call. Switching message redaction or key-info redaction ON is
 * open to whoever manages the team; switching it (or PII masking) OFF explicitly is not (see `relaxations`).
 */
export const ADMIN_ONLY_SWITCHES: readonly PrivacySwitch[] = ['disable_no_log_param', 'allow_client_message_redaction_opt_out'];

export const MAX_CUSTOM_PATTERNS = 20;
const PATTERN_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

export interface PrivacyProblem {
  /** Relative to the layer: `pii_masking.patterns[0].regex`. */
  readonly path: string;
  readonly message: string;
}

/**
 * Reads one layer from an object that may hold other settings too (a team entry of config.yaml, say): only the
 * privacy fields are looked at. Booleans may be written as LiteLLM's strings ("true"/"false").
 */
export interface ReadOptions {
  /**
   * Check each custom pattern here, compiling it on the calling thread: only where no request is being served
   * (config.yaml at boot). Otherwise patterns are taken as they are: the API checks them off the request loop
   * (`customPatternsProblem` in privacy-metadata.ts), and stored ones were checked when written (the delivery
   * thread compiles what it runs, and sends no content at all for a pattern that does not compile).
   */
  readonly checkPatterns: boolean;
}

export function readPrivacyLayer(source: Readonly<Record<string, unknown>>, options: ReadOptions): { layer: PrivacyLayer } | { problem: PrivacyProblem } {
  const layer: { -readonly [K in keyof PrivacyLayer]: PrivacyLayer[K] } = {};
  for (const name of PRIVACY_SWITCHES) {
    if (!Object.prototype.hasOwnProperty.call(source, name) || source[name] === null || source[name] === undefined) continue;
    const value = readFlag(source[name]);
    if (value === undefined) return { problem: { path: name, message: `${name} must be true or false` } };
    layer[name] = value;
  }
  if (Object.prototype.hasOwnProperty.call(source, 'pii_masking') && source.pii_masking !== undefined) {
    const masking = readPiiMasking(source.pii_masking, options);
    if ('problem' in masking) return masking;
    layer.pii_masking = masking.config;
  }
  return { layer };
}

/** A `logging_settings` object of team or key metadata: unknown fields are refused (a typo would do nothing). */
export function readLoggingSettings(raw: unknown, options: ReadOptions): { layer: PrivacyLayer } | { problem: PrivacyProblem } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { problem: { path: '', message: `logging_settings must be an object with any of ${PRIVACY_FIELDS.join(', ')}` } };
  }
  for (const field of Object.keys(raw)) {
    if (!PRIVACY_FIELDS.includes(field)) return { problem: { path: field, message: `unknown setting ${field}; known: ${PRIVACY_FIELDS.join(', ')}` } };
  }
  return readPrivacyLayer(raw as Record<string, unknown>, options);
}

export function readFlag(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  return undefined;
}

/**
 * `true` (every detector), `false`/`null` (off), or `{detectors: [...] | "all", patterns: [{name, regex}]}`.
 */
function readPiiMasking(raw: unknown, options: ReadOptions): { config: PiiMaskingConfig | null } | { problem: PrivacyProblem } {
  const flag = raw === null ? false : readFlag(raw);
  if (flag !== undefined) return { config: flag ? { detectors: PII_DETECTORS, patterns: [] } : null };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { problem: { path: 'pii_masking', message: 'pii_masking must be true, false, or an object with detectors and/or patterns' } };
  }
  const object = raw as Record<string, unknown>;
  for (const field of Object.keys(object)) {
    if (field !== 'detectors' && field !== 'patterns') return { problem: { path: `pii_masking.${field}`, message: `unknown field ${field}; pii_masking takes detectors and patterns` } };
  }
  let detectors: readonly PiiDetector[] = [];
  if (object.detectors === 'all') detectors = PII_DETECTORS;
  else if (object.detectors !== undefined && object.detectors !== null) {
    const list = object.detectors;
    const known: readonly unknown[] = PII_DETECTORS;
    if (!Array.isArray(list)) return { problem: { path: 'pii_masking.detectors', message: `detectors must be "all" or a list of ${PII_DETECTORS.join(', ')}` } };
    const unknownIndex = list.findIndex((item) => !known.includes(item));
    if (unknownIndex >= 0) {
      return { problem: { path: `pii_masking.detectors[${unknownIndex}]`, message: `unknown detector ${JSON.stringify(list[unknownIndex])}; known: ${PII_DETECTORS.join(', ')}` } };
    }
    detectors = PII_DETECTORS.filter((name) => list.includes(name));
  }
  const patterns: CustomPiiPattern[] = [];
  if (object.patterns !== undefined && object.patterns !== null) {
    if (!Array.isArray(object.patterns)) return { problem: { path: 'pii_masking.patterns', message: 'patterns must be a list of {name, regex}' } };
    if (object.patterns.length > MAX_CUSTOM_PATTERNS) return { problem: { path: 'pii_masking.patterns', message: `at most ${MAX_CUSTOM_PATTERNS} patterns` } };
    for (const [index, item] of (object.patterns as unknown[]).entries()) {
      const path = `pii_masking.patterns[${index}]`;
      const pattern = item as Record<string, unknown> | null;
      if (pattern === null || typeof pattern !== 'object' || Array.isArray(pattern) || Object.keys(pattern).some((key) => key !== 'name' && key !== 'regex')) {
        return { problem: { path, message: 'each pattern is an object {name, regex}' } };
      }
      if (typeof pattern.name !== 'string' || !PATTERN_NAME.test(pattern.name)) {
        return { problem: { path: `${path}.name`, message: 'name must be 1-32 letters, digits or _, starting with a letter (it names the placeholder: employee_id → [EMPLOYEE_ID])' } };
      }
      if (typeof pattern.regex !== 'string') return { problem: { path: `${path}.regex`, message: 'regex must be a string' } };
      const custom = { name: pattern.name, regex: pattern.regex };
      const reason = options.checkPatterns ? customPatternProblem(custom.regex) : null;
      if (reason !== null) return { problem: patternProblem(index, custom, reason) };
      patterns.push(custom);
    }
  }
  if (detectors.length === 0 && patterns.length === 0) {
    return { problem: { path: 'pii_masking', message: 'pii_masking names no detector and no pattern; use false to turn it off' } };
  }
  return { config: { detectors, patterns } };
}

/** A refused custom pattern, named by its place, its name and its text. */
export function patternProblem(index: number, pattern: CustomPiiPattern, reason: string): PrivacyProblem {
  return { path: `pii_masking.patterns[${index}].regex`, message: `pattern ${pattern.name} (${truncate(pattern.regex)}) ${reason}` };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * What a write would relax compared with what is stored, for a caller who is not the proxy admin: an admin-only
 * switch changed, or message/key-info redaction explicitly switched off. Re-sending the stored value is no change.
 */
export function relaxations(incoming: PrivacyLayer, stored: PrivacyLayer): string[] {
  const found: string[] = [];
  for (const name of ADMIN_ONLY_SWITCHES) {
    if (incoming[name] !== undefined && incoming[name] !== stored[name]) found.push(name);
  }
  for (const name of ['turn_off_message_logging', 'redact_user_api_key_info'] as const) {
    if (incoming[name] === false && stored[name] !== false) found.push(name);
  }
  if (incoming.pii_masking === null && stored.pii_masking !== null) found.push('pii_masking');
  return found;
}
