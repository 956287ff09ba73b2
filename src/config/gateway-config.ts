import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Tags } from 'yaml';
import { envReferenceName, isEnvReference, isValidEnvName } from './env-reference';
import { PRIVACY_FIELDS, readFlag, readPrivacyLayer } from '../logging/privacy/privacy-settings';
import { DEFAULT_CONFIG_FILE } from './environment';
import {
  ConfigIssue,
  GatewayConfig,
  GeneralSettings,
  LitellmParams,
  LitellmSettings,
  ModelDeployment,
  TeamDefaultSettings,
} from './gateway-config.types';

// ---------------------------------------------------------------------------------------------------------------
// Known keys. "used" keys are typed and validated; "ignored" keys are real LiteLLM settings that load with a
// warning. A key in neither list that is a near miss of one of them is treated as a typo and stops start-up
// (LiteLLM silently ignores `success_callbacks`, issue #5907); anything else is only warned about.
// ---------------------------------------------------------------------------------------------------------------

/** Upstream providers Gatehouse can call. `mock` answers offline. */
export const SUPPORTED_PROVIDERS = ['openai', 'mock'] as const;
export type SupportedProvider = (typeof SUPPORTED_PROVIDERS)[number];

const TOP_LEVEL_USED = ['model_list', 'litellm_settings', 'general_settings', 'environment_variables'] as const;

const TOP_LEVEL_IGNORED = [
  'router_settings',
  'callback_settings',
  'guardrails',
  'credential_list',
  'mcp_servers',
  'mcp_aliases',
  'files_settings',
  'assistant_settings',
  'finetune_settings',
  'default_vertex_config',
  'vector_store_registry',
  'search_tools',
  'prompts',
  'include',
] as const;

const LITELLM_SETTINGS_USED = [
  'success_callback',
  'failure_callback',
  'callbacks',
  'default_team_settings',
  'cache',
  'cache_params',
  'turn_off_message_logging',
  'redact_user_api_key_info',
  'global_disable_no_log_param',
] as const;

const LITELLM_SETTINGS_IGNORED = [
  // logging and callbacks
  'service_callback',
  'service_callbacks',
  'input_callback',
  'callback_settings',
  'redact_messages_in_exceptions',
  'langfuse_default_tags',
  'log_raw_request_response',
  'store_audit_logs',
  'json_logs',
  'set_verbose',
  'suppress_debug_info',
  'telemetry',
  'datadog_params',
  's3_callback_params',
  'generic_logger_headers',
  // request handling
  'drop_params',
  'additional_drop_params',
  'modify_params',
  'num_retries',
  'request_timeout',
  'force_ipv4',
  'ssl_verify',
  'ssl_certificate',
  'return_response_headers',
  'enable_preview_features',
  'enable_json_schema_validation',
  'enable_key_alias_format_validation',
  'disable_add_transform_inline_image_block',
  'use_chat_completions_url_for_anthropic_messages',
  'disable_hf_tokenizer_download',
  'disable_copilot_system_to_assistant',
  'disable_token_counter',
  'check_provider_endpoint',
  'model_alias_map',
  'custom_provider_map',
  'mcp_aliases',
  'guardrails',
  'prompt_injection_params',
  'post_call_rules',
  'require_auth_for_metrics_endpoint',
  // reliability (LiteLLM also reads router settings from here)
  'fallbacks',
  'default_fallbacks',
  'content_policy_fallbacks',
  'context_window_fallbacks',
  'max_fallbacks',
  'allowed_fails',
  'cooldown_time',
  'disable_cooldowns',
  // budgets and key defaults
  'max_budget',
  'budget_duration',
  'max_end_user_budget',
  'max_internal_user_budget',
  'default_max_internal_user_budget',
  'internal_user_budget_duration',
  'upperbound_key_generate_params',
  'default_key_generate_params',
  'default_internal_user_params',
  'default_team_params',
  'key_generation_settings',
  'disable_end_user_cost_tracking',
  'disable_end_user_cost_tracking_prometheus_only',
  'tag_budget_config',
  // caching details
  'default_in_memory_ttl',
  'default_redis_ttl',
  'default_redis_batch_cache_expiry',
  'enable_caching_on_provider_specific_optional_params',
  'cache_kwargs',
] as const;

const GENERAL_SETTINGS_USED = ['master_key', 'database_url', 'allowed_logging_hosts', 'global_disable_no_log_param'] as const;

const GENERAL_SETTINGS_IGNORED = [
  // database
  'database_connection_pool_limit',
  'database_connection_timeout',
  'allow_requests_on_db_unavailable',
  'disable_prisma_schema_update',
  'store_model_in_db',
  'supported_db_objects',
  'use_redis_transaction_buffer',
  // spend tracking
  'disable_spend_logs',
  'disable_spend_updates',
  'disable_error_logs',
  'store_prompts_in_spend_logs',
  'proxy_batch_write_at',
  'proxy_batch_polling_interval',
  'proxy_budget_rescheduler_min_time',
  'proxy_budget_rescheduler_max_time',
  'disable_reset_budget',
  'maximum_spend_logs_retention_period',
  'maximum_spend_logs_retention_interval',
  'spend_report_frequency',
  // auth and master key
  'disable_master_key_return',
  'disable_adding_master_key_hash_to_db',
  'disable_responses_id_security',
  'enable_jwt_auth',
  'litellm_jwtauth',
  'enable_oauth2_auth',
  'enable_oauth2_proxy_auth',
  'oauth2_config_mappings',
  'custom_auth',
  'custom_key_generate',
  'custom_sso',
  'allow_user_auth',
  'allow_client_side_credentials',
  'user_api_key_cache_ttl',
  'litellm_key_header_name',
  'litellm_license',
  'key_management_system',
  'key_management_settings',
  'use_azure_key_vault',
  'use_google_kms',
  'role_permissions',
  'service_account_settings',
  'default_team_disabled',
  'ui_access_mode',
  'user_mcp_management_mode',
  // routes and requests
  'allowed_routes',
  'admin_only_routes',
  'public_routes',
  'allowed_ips',
  'use_x_forwarded_for',
  'enforce_user_param',
  'enforced_params',
  'reject_clientside_metadata_tags',
  'forward_openai_org_id',
  'forward_client_headers_to_llm_api',
  'use_client_credentials_pass_through_routes',
  'pass_through_endpoints',
  'max_request_size_mb',
  'max_response_size_mb',
  'max_parallel_requests',
  'global_max_parallel_requests',
  'disable_retry_on_max_parallel_request_limit_error',
  'infer_model_from_keys',
  'completion_model',
  'embedding_model',
  'image_generation_model',
  'moderation_model',
  // health and alerting
  'background_health_checks',
  'health_check_interval',
  'health_check_details',
  'alerting',
  'alerting_threshold',
  'alerting_args',
  'alert_types',
  'alert_to_webhook_url',
] as const;

const DEPLOYMENT_KEYS = ['model_name', 'litellm_params', 'model_info'] as const;

/** `model` is left out of the typo check: `mode` is a legitimate model_info key people misplace here. */
const LITELLM_PARAMS_CHECKED = [
  'api_base',
  'api_key',
  'timeout',
  'stream_timeout',
  'max_retries',
  'mock_response',
  'custom_llm_provider',
  'input_cost_per_token',
  'output_cost_per_token',
] as const;

const MODEL_INFO_CHECKED = ['input_cost_per_token', 'output_cost_per_token'] as const;

const TEAM_ENTRY_KEYS = [
  'team_id',
  'success_callback',
  'failure_callback',
  'callbacks',
  'callback_vars',
  'cache',
  'cache_ttl',
  ...PRIVACY_FIELDS,
] as const;

/** LiteLLM's `StandardCallbackDynamicParams` (litellm-behaviour.md §2.2). */
export const KNOWN_CALLBACK_VARS = [
  'langfuse_public_key',
  'langfuse_secret',
  'langfuse_secret_key',
  'langfuse_host',
  'langfuse_prompt_version',
  'langfuse_environment',
  'langfuse_span_scope',
  'otel_span_scope',
  'gcs_bucket_name',
  'gcs_path_service_account',
  'langsmith_api_key',
  'langsmith_project',
  'langsmith_base_url',
  'langsmith_sampling_rate',
  'langsmith_tenant_id',
  'humanloop_api_key',
  'arize_api_key',
  'arize_space_key',
  'arize_space_id',
  'arize_success_sampling_rate',
  'arize_error_sampling_rate',
  'posthog_api_key',
  'posthog_api_url',
  'wandb_api_key',
  'weave_project_id',
  'dd_api_key',
  'dd_site',
  'dd_agent_host',
  'dd_agent_port',
  'newrelic_api_key',
  'newrelic_region',
  'turn_off_message_logging',
  'litellm_disabled_callbacks',
] as const;

/** Every key list in one place, for docs and for callers that want to explain a warning. */
export const KNOWN_CONFIG_KEYS = {
  topLevel: { used: TOP_LEVEL_USED, ignored: TOP_LEVEL_IGNORED },
  litellmSettings: { used: LITELLM_SETTINGS_USED, ignored: LITELLM_SETTINGS_IGNORED },
  generalSettings: { used: GENERAL_SETTINGS_USED, ignored: GENERAL_SETTINGS_IGNORED },
  deployment: DEPLOYMENT_KEYS,
  litellmParams: LITELLM_PARAMS_CHECKED,
  teamEntry: TEAM_ENTRY_KEYS,
  callbackVars: KNOWN_CALLBACK_VARS,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------------

export interface LoadedGatewayConfig {
  readonly config: GatewayConfig;
  /** Non-fatal findings (ignored LiteLLM settings, unknown keys): log them at boot. */
  readonly warnings: ConfigIssue[];
}

export interface LoadGatewayConfigOptions {
  /**
   * Whether the operator named this file (CONFIG_FILE or `--config`). A named file must exist; a missing default
   * file means an env-only start. Defaults to true when a path is given and false for null.
   */
  readonly explicit?: boolean;
  /** Base for a relative path; defaults to the working directory. */
  readonly cwd?: string;
}

/** Thrown when config.yaml cannot be used. The message lists every fatal issue, one per line. */
export class ConfigValidationError extends Error {
  constructor(
    readonly source: string | null,
    readonly issues: ConfigIssue[],
    readonly warnings: ConfigIssue[] = [],
  ) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const lines = issues.map((issue) => `  ${formatConfigIssue(issue, source)}`);
    super(`Invalid configuration file ${source ?? DEFAULT_CONFIG_FILE} (${count}):\n${lines.join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

/** `config.yaml:12  litellm_settings.success_callbacks: message`, the form used for errors and for warnings. */
export function formatConfigIssue(issue: ConfigIssue, source: string | null): string {
  const file = source === null ? nodePath.basename(DEFAULT_CONFIG_FILE) : nodePath.basename(source);
  const where = issue.line === null ? file : `${file}:${issue.line}`;
  return issue.path === '' ? `${where}  ${issue.message}` : `${where}  ${issue.path}: ${issue.message}`;
}

export function loadGatewayConfig(path: string | null, options: LoadGatewayConfigOptions = {}): LoadedGatewayConfig {
  const explicit = options.explicit ?? path !== null;
  const absolute = nodePath.resolve(options.cwd ?? process.cwd(), path ?? DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) {
      const message = `no config file at ${absolute}: starting with no models (set CONFIG_FILE or --config to use one)`;
      return { config: emptyConfig(null), warnings: [{ path: '', line: null, message }] };
    }
    const message = code === 'ENOENT' ? 'file not found' : `cannot read the file (${(error as Error).message})`;
    throw new ConfigValidationError(absolute, [{ path: '', line: null, message }]);
  }
  return parseGatewayConfig(text, absolute);
}

/**
 * Parses and validates config.yaml text. Values are kept as written (an `os.environ/NAME` string stays a
 * reference); the only rewrites are LiteLLM's own defaults: a bare model gets `openai/`, a single callback string
 * becomes a list, and each deployment gets a stable `model_info.id`.
 */
export function parseGatewayConfig(text: string, source: string | null): LoadedGatewayConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    // YAML 1.1, because LiteLLM reads config.yaml with PyYAML: `cache: yes` is a boolean and `<<:` merges there.
    version: '1.1',
    prettyErrors: false,
    uniqueKeys: true,
    customTags: pyYamlCompatibleTags,
  });
  const positions = new PositionIndex(doc, lineCounter);
  const issues = new Issues(positions);

  let syntaxBroken = false;
  for (const error of doc.errors) {
    issues.error(positions.pathAt(error.pos[0]) ?? '', error.message, lineCounter.linePos(error.pos[0]).line);
    syntaxBroken ||= error.code !== 'DUPLICATE_KEY';
  }
  for (const warning of doc.warnings) {
    issues.warn(positions.pathAt(warning.pos[0]) ?? '', warning.message, lineCounter.linePos(warning.pos[0]).line);
  }
  for (const offset of positions.unresolvedAliases) {
    issues.error('', 'alias refers to an anchor that is not defined before it', lineCounter.linePos(offset).line);
    syntaxBroken = true;
  }
  // Checking the keys of a half-parsed document would only bury the real error under follow-on noise.
  if (syntaxBroken) {
    throw new ConfigValidationError(source, issues.sortedErrors(), issues.sortedWarnings());
  }

  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigValidationError(source, [{ path: '', line: null, message: (error as Error).message }]);
  }
  const config = readRoot(issues, root, source);
  if (issues.errors.length > 0) {
    throw new ConfigValidationError(source, issues.sortedErrors(), issues.sortedWarnings());
  }
  return { config, warnings: issues.sortedWarnings() };
}

// ---------------------------------------------------------------------------------------------------------------
// YAML positions
// ---------------------------------------------------------------------------------------------------------------

/**
 * PyYAML differs from the yaml package's 1.1 schema in two ways that matter for LiteLLM files: it keeps `y`/`n` as
 * strings, and turns dates into objects that LiteLLM later `str()`s back. Narrowing the booleans and dropping the
 * timestamp tag gives the same strings.
 */
function pyYamlCompatibleTags(tags: Tags): Tags {
  return tags
    .filter((tag) => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:timestamp')
    .map((tag) => {
      if (typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:bool' || !('test' in tag) || !tag.test) {
        return tag;
      }
      const isTrue = tag.test.test('true');
      return { ...tag, test: isTrue ? /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/ : /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/ };
    });
}

/** Maps dotted key paths to 1-based lines by walking the YAML AST, since plain JS values have no positions. */
class PositionIndex {
  private readonly lines = new Map<string, number>();
  private readonly keyOffsets = new Map<number, string>();
  readonly unresolvedAliases: number[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {
    this.walk(doc.contents, '');
  }

  /** The line of the path, or of its nearest ancestor that has one (keys pulled in by `<<:` or an alias have none). */
  lineOf(path: string): number | null {
    for (let current: string | null = path; current !== null; current = parentPath(current)) {
      const line = this.lines.get(current);
      if (line !== undefined) {
        return line;
      }
    }
    return null;
  }

  pathAt(offset: number): string | null {
    return this.keyOffsets.get(offset) ?? null;
  }

  private record(path: string, range: readonly number[] | null | undefined): void {
    if (range && !this.lines.has(path)) {
      this.lines.set(path, this.lineCounter.linePos(range[0]).line);
    }
  }

  private walk(node: unknown, path: string): void {
    if (isAlias(node)) {
      if (node.resolve(this.doc) === undefined && node.range) {
        this.unresolvedAliases.push(node.range[0]);
      }
      return;
    }
    if (isMap(node)) {
      this.record(path, node.range);
      for (const pair of node.items) {
        if (!isPair(pair)) {
          continue;
        }
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (key === '<<') {
          continue;
        }
        const child = joinPath(path, key);
        const keyRange = isScalar(pair.key) ? pair.key.range : null;
        if (keyRange) {
          // A repeated key overwrites: its value is the one toJS keeps, so its line is the one to report.
          this.lines.set(child, this.lineCounter.linePos(keyRange[0]).line);
          this.keyOffsets.set(keyRange[0], child);
        }
        this.walk(pair.value, child);
      }
      return;
    }
    if (isSeq(node)) {
      this.record(path, node.range);
      node.items.forEach((item, index) => {
        const child = `${path}[${index}]`;
        if (isScalar(item) || isMap(item) || isSeq(item) || isAlias(item)) {
          this.record(child, item.range);
        }
        this.walk(item, child);
      });
      return;
    }
    if (isScalar(node)) {
      this.record(path, node.range);
    }
  }
}

function joinPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

function parentPath(path: string): string | null {
  if (path === '') {
    return null;
  }
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut <= 0 ? '' : path.slice(0, cut);
}

class Issues {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  constructor(private readonly positions: PositionIndex) {}

  error(path: string, message: string, line?: number): void {
    this.errors.push({ path, line: line ?? this.positions.lineOf(path), message });
  }

  warn(path: string, message: string, line?: number): void {
    this.warnings.push({ path, line: line ?? this.positions.lineOf(path), message });
  }

  sortedErrors(): ConfigIssue[] {
    return byLine(this.errors);
  }

  sortedWarnings(): ConfigIssue[] {
    return byLine(this.warnings);
  }
}

function byLine(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
}

// ---------------------------------------------------------------------------------------------------------------
// Typo detection
// ---------------------------------------------------------------------------------------------------------------

/** Optimal-string-alignment distance: Levenshtein plus adjacent swaps, so `sucess`/`scucess` both count as one. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[rows - 1][cols - 1];
}

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/-/g, '_');
}

/** Short keys get no slack: at three letters almost every other key is "one edit away". */
function closestKey(key: string, candidates: readonly string[]): string | undefined {
  const normalized = normalizeKey(key);
  const budget = normalized.length <= 3 ? 0 : normalized.length <= 7 ? 1 : 2;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(normalized, candidate);
    if (distance <= budget && (best === undefined || distance < best.distance)) {
      best = { key: candidate, distance };
    }
  }
  return best?.key;
}

/** Returns true when the key was a fatal near miss. */
function reportUnknownKey(issues: Issues, path: string, key: string, candidates: readonly string[], where: string): boolean {
  const suggestion = closestKey(key, candidates);
  if (suggestion !== undefined) {
    issues.error(path, `unknown key; did you mean \`${suggestion}\`?`);
    return true;
  }
  issues.warn(path, `unknown key in ${where}; ignored`);
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Value helpers
// ---------------------------------------------------------------------------------------------------------------

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describeKind(value: unknown): string {
  if (value === null || value === undefined) {
    return 'nothing';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (isMapping(value)) {
    return 'a mapping';
  }
  return `a ${typeof value}`;
}

function readMapping(issues: Issues, path: string, value: unknown, what: string): Mapping | undefined {
  if (value === null || value === undefined) {
    return {};
  }
  if (!isMapping(value)) {
    issues.error(path, `must be ${what}, got ${describeKind(value)}`);
    return undefined;
  }
  return value;
}

function checkEnvReference(issues: Issues, path: string, value: string): void {
  if (isEnvReference(value) && envReferenceName(value) === null) {
    issues.error(path, `\`${value}\` is not a valid os.environ/ reference: the name must match [A-Za-z_][A-Za-z0-9_]*`);
  }
}

function readString(issues: Issues, path: string, value: unknown, hint = ''): string | undefined {
  if (value === undefined) {
    issues.error(path, 'missing: must be a non-empty string');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    issues.error(path, `must be a non-empty string, got ${value === '' ? 'an empty string' : describeKind(value)}${hint}`);
    return undefined;
  }
  checkEnvReference(issues, path, value);
  return value;
}

/** LiteLLM users write `success_callback: langfuse` as often as the list form, and LiteLLM accepts both. */
function readStringList(issues: Issues, path: string, value: unknown): string[] {
  if (value === null || value === undefined) {
    return [];
  }
  if (typeof value === 'string') {
    return readString(issues, path, value) === undefined ? [] : [value];
  }
  if (!Array.isArray(value)) {
    issues.error(path, `must be a list of strings, got ${describeKind(value)}`);
    return [];
  }
  const out: string[] = [];
  value.forEach((item, index) => {
    const itemPath = `${path}[${index}]`;
    if (readString(issues, itemPath, item) !== undefined) {
      out.push(item as string);
    }
  });
  return out;
}

function readBoolean(issues: Issues, path: string, value: unknown): boolean | undefined {
  if (typeof value !== 'boolean') {
    issues.error(path, `must be true or false, got ${describeKind(value)}`);
    return undefined;
  }
  return value;
}

/** A privacy switch: `"true"` / `"false"` pass as well, as they do through LiteLLM's pydantic models. */
function readSwitch(issues: Issues, path: string, value: unknown): boolean | undefined {
  return typeof value === 'string' && readFlag(value) !== undefined ? readFlag(value) : readBoolean(issues, path, value);
}

/** Numeric strings pass, as they do through LiteLLM's pydantic models; `os.environ/` does not, numbers are not secrets. */
function readNumber(
  issues: Issues,
  path: string,
  value: unknown,
  rule: { integer?: boolean; positive?: boolean },
): number | undefined {
  const parsed =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  const wanted = `a ${rule.positive ? 'positive' : 'non-negative'} ${rule.integer ? 'integer' : 'number'}`;
  if (!Number.isFinite(parsed) || (rule.integer && !Number.isInteger(parsed)) || parsed < 0 || (rule.positive && parsed === 0)) {
    const extra = isEnvReference(value) ? ' (os.environ/ references are supported only for string settings)' : '';
    issues.error(path, `must be ${wanted}, got ${typeof value === 'number' ? String(value) : describeKind(value)}${extra}`);
    return undefined;
  }
  return parsed;
}

function scalarToString(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------------------------

function emptyLitellmSettings(): LitellmSettings {
  return {
    success_callback: [],
    failure_callback: [],
    callbacks: [],
    default_team_settings: [],
    cache: false,
    cache_params: {},
    privacy: {},
    other: {},
  };
}

function emptyGeneralSettings(): GeneralSettings {
  return { allowed_logging_hosts: [], other: {} };
}

function emptyConfig(source: string | null): GatewayConfig {
  return {
    source,
    modelList: [],
    litellmSettings: emptyLitellmSettings(),
    generalSettings: emptyGeneralSettings(),
    environmentVariables: {},
  };
}

const ALL_TOP_LEVEL: readonly string[] = [...TOP_LEVEL_USED, ...TOP_LEVEL_IGNORED];

function readRoot(issues: Issues, root: unknown, source: string | null): GatewayConfig {
  if (root === null || root === undefined) {
    return emptyConfig(source);
  }
  if (!isMapping(root)) {
    issues.error('', `the file must be a mapping of sections (model_list, litellm_settings, ...), got ${describeKind(root)}`);
    return emptyConfig(source);
  }
  for (const key of Object.keys(root)) {
    if ((TOP_LEVEL_USED as readonly string[]).includes(key)) {
      continue;
    }
    if (key === 'include') {
      issues.warn(key, 'LiteLLM `include` is not supported by Gatehouse: the listed files are NOT read');
    } else if ((TOP_LEVEL_IGNORED as readonly string[]).includes(key)) {
      issues.warn(key, 'LiteLLM section not used by Gatehouse; ignored');
    } else if (!reportMisplaced(issues, key, key, 'top level')) {
      reportUnknownKey(issues, key, key, ALL_TOP_LEVEL, 'the top level');
    }
  }
  return {
    source,
    modelList: readModelList(issues, root.model_list),
    litellmSettings: readLitellmSettings(issues, root.litellm_settings),
    generalSettings: readGeneralSettings(issues, root.general_settings),
    environmentVariables: readEnvironmentVariables(issues, root.environment_variables),
  };
}

/**
 * A setting written in the wrong section. For a setting Gatehouse acts on this is fatal, because the operator
 * believes it is in force (a `master_key` under litellm_settings would leave the proxy without one).
 */
function reportMisplaced(issues: Issues, path: string, key: string, here: 'top level' | 'litellm_settings' | 'general_settings'): boolean {
  const homes: Array<{ section: 'litellm_settings' | 'general_settings'; used: readonly string[]; ignored: readonly string[] }> = [
    { section: 'litellm_settings', used: LITELLM_SETTINGS_USED, ignored: LITELLM_SETTINGS_IGNORED },
    { section: 'general_settings', used: GENERAL_SETTINGS_USED, ignored: GENERAL_SETTINGS_IGNORED },
  ];
  for (const home of homes) {
    if (home.section === here) {
      continue;
    }
    if (home.used.includes(key)) {
      issues.error(path, `belongs under \`${home.section}\`; here it has no effect`);
      return true;
    }
    if (home.ignored.includes(key)) {
      issues.warn(path, `a LiteLLM \`${home.section}\` setting, not used by Gatehouse; ignored`);
      return true;
    }
  }
  return false;
}

function readLitellmSettings(issues: Issues, value: unknown): LitellmSettings {
  const path = 'litellm_settings';
  const section = readMapping(issues, path, value, 'a mapping of settings');
  if (section === undefined) {
    return emptyLitellmSettings();
  }
  const other: Array<[string, unknown]> = [];
  const known: readonly string[] = [...LITELLM_SETTINGS_USED, ...LITELLM_SETTINGS_IGNORED];
  let result = emptyLitellmSettings();
  for (const [key, raw] of Object.entries(section)) {
    const keyPath = joinPath(path, key);
    switch (key) {
      case 'success_callback':
      case 'failure_callback':
      case 'callbacks':
        result = { ...result, [key]: readStringList(issues, keyPath, raw) };
        break;
      case 'default_team_settings':
        result = { ...result, default_team_settings: readTeamSettings(issues, keyPath, raw) };
        break;
      case 'cache':
        result = { ...result, cache: raw === null ? false : (readBoolean(issues, keyPath, raw) ?? false) };
        break;
      case 'cache_params':
        result = { ...result, cache_params: readMapping(issues, keyPath, raw, 'a mapping') ?? {} };
        break;
      case 'turn_off_message_logging':
      case 'redact_user_api_key_info':
      case 'global_disable_no_log_param': {
        const flag = raw === null ? undefined : readSwitch(issues, keyPath, raw);
        const name = key === 'global_disable_no_log_param' ? 'disable_no_log_param' : key;
        if (flag !== undefined) result = { ...result, privacy: { ...result.privacy, [name]: flag } };
        break;
      }
      default:
        if ((LITELLM_SETTINGS_IGNORED as readonly string[]).includes(key)) {
          issues.warn(keyPath, 'LiteLLM setting not used by Gatehouse; ignored');
          other.push([key, raw]);
        } else if (!reportMisplaced(issues, keyPath, key, 'litellm_settings') && !reportUnknownKey(issues, keyPath, key, known, path)) {
          // LiteLLM sets any litellm_settings key on its module, so an unknown one may still be real: keep it.
          other.push([key, raw]);
        }
    }
  }
  return { ...result, other: Object.fromEntries(other) };
}

function readGeneralSettings(issues: Issues, value: unknown): GeneralSettings {
  const path = 'general_settings';
  const section = readMapping(issues, path, value, 'a mapping of settings');
  if (section === undefined) {
    return emptyGeneralSettings();
  }
  const known: readonly string[] = [...GENERAL_SETTINGS_USED, ...GENERAL_SETTINGS_IGNORED];
  const other: Array<[string, unknown]> = [];
  let masterKey: string | undefined;
  let databaseUrl: string | undefined;
  let allowedLoggingHosts: string[] = [];
  let disableNoLog: boolean | undefined;
  for (const [key, raw] of Object.entries(section)) {
    const keyPath = joinPath(path, key);
    switch (key) {
      case 'master_key':
        // LiteLLM treats an empty master_key as "none"; so does Gatehouse, so the env fallback still applies.
        masterKey = raw === null ? undefined : readString(issues, keyPath, raw, ' (quote it if it looks like a number)');
        break;
      case 'database_url':
        databaseUrl = raw === null ? undefined : readDatabaseUrl(issues, keyPath, raw);
        break;
      case 'allowed_logging_hosts':
        allowedLoggingHosts = readStringList(issues, keyPath, raw);
        allowedLoggingHosts.forEach((host, index) => {
          if (/[\s/]/.test(host)) {
            const hostPath = typeof raw === 'string' ? keyPath : `${keyPath}[${index}]`;
            issues.error(hostPath, 'must be a host name (optionally with :port), without scheme or path');
          }
        });
        break;
      case 'global_disable_no_log_param':
        disableNoLog = raw === null ? undefined : readSwitch(issues, keyPath, raw);
        break;
      default:
        if ((GENERAL_SETTINGS_IGNORED as readonly string[]).includes(key)) {
          issues.warn(keyPath, 'LiteLLM setting not used by Gatehouse; ignored');
          other.push([key, raw]);
        } else if (!reportMisplaced(issues, keyPath, key, 'general_settings') && !reportUnknownKey(issues, keyPath, key, known, path)) {
          other.push([key, raw]);
        }
    }
  }
  return {
    ...(masterKey !== undefined ? { master_key: masterKey } : {}),
    ...(databaseUrl !== undefined ? { database_url: databaseUrl } : {}),
    allowed_logging_hosts: allowedLoggingHosts,
    ...(disableNoLog !== undefined ? { global_disable_no_log_param: disableNoLog } : {}),
    other: Object.fromEntries(other),
  };
}

function readDatabaseUrl(issues: Issues, path: string, value: unknown): string | undefined {
  const url = readString(issues, path, value);
  if (url === undefined || isEnvReference(url)) {
    return url;
  }
  if (!/^postgres(ql)?:\/\/\S+$/.test(url)) {
    issues.error(path, 'must be a postgres:// or postgresql:// URL, or an os.environ/NAME reference');
    return undefined;
  }
  return url;
}

function readEnvironmentVariables(issues: Issues, value: unknown): Record<string, string> {
  const path = 'environment_variables';
  const section = readMapping(issues, path, value, 'a mapping of NAME: value');
  if (section === undefined) {
    return {};
  }
  const out: Array<[string, string]> = [];
  for (const [name, raw] of Object.entries(section)) {
    const keyPath = joinPath(path, name);
    const text = scalarToString(raw);
    if (text === undefined) {
      issues.error(keyPath, `must be a string, number or boolean, got ${describeKind(raw)}`);
      continue;
    }
    if (!isValidEnvName(name)) {
      issues.warn(keyPath, 'not a valid environment variable name, so no os.environ/ reference can reach it');
    }
    out.push([name, text]);
  }
  return Object.fromEntries(out);
}

// ---------------------------------------------------------------------------------------------------------------
// default_team_settings
// ---------------------------------------------------------------------------------------------------------------

function readTeamSettings(issues: Issues, path: string, value: unknown): TeamDefaultSettings[] {
  if (value === null || value === undefined) {
    return [];
  }
  if (!Array.isArray(value)) {
    issues.error(path, `must be a list of team entries (each starting with \`- team_id: ...\`), got ${describeKind(value)}`);
    return [];
  }
  const teams: TeamDefaultSettings[] = [];
  const firstIndexOf = new Map<string, number>();
  value.forEach((entry, index) => {
    const entryPath = `${path}[${index}]`;
    const team = readTeamEntry(issues, entryPath, entry);
    if (team === undefined) {
      return;
    }
    const first = firstIndexOf.get(team.team_id);
    if (first !== undefined) {
      issues.error(joinPath(entryPath, 'team_id'), `duplicate team_id \`${team.team_id}\` (already used by ${path}[${first}])`);
      return;
    }
    firstIndexOf.set(team.team_id, index);
    teams.push(team);
  });
  return teams;
}

/**
 * Every key of an entry that is not structural is a callback variable, as in LiteLLM. A nested `callback_vars`
 * mapping is merged in and wins on a clash, because when LiteLLM finds one it reads only that mapping.
 */
function readTeamEntry(issues: Issues, path: string, entry: unknown): TeamDefaultSettings | undefined {
  if (!isMapping(entry)) {
    issues.error(path, `must be a mapping with a \`team_id\`, got ${describeKind(entry)}`);
    return undefined;
  }
  const errorsBefore = issues.errors.length;
  const candidates: readonly string[] = [...TEAM_ENTRY_KEYS, ...KNOWN_CALLBACK_VARS];
  let teamId: string | undefined;
  const lists = { success_callback: [] as string[], failure_callback: [] as string[], callbacks: [] as string[] };
  let cache: boolean | undefined;
  let cacheTtl: number | undefined;
  const topLevelVars = new Map<string, string>();
  const nestedVars = new Map<string, string>();
  const privacyFields: Record<string, unknown> = {};

  if (!('team_id' in entry)) {
    issues.error(joinPath(path, 'team_id'), 'missing: every default_team_settings entry needs a non-empty string team_id');
  }
  for (const [key, raw] of Object.entries(entry)) {
    const keyPath = joinPath(path, key);
    switch (key) {
      case 'team_id':
        teamId = readString(issues, keyPath, raw, ' (quote it if it looks like a number)');
        if (teamId !== undefined && isEnvReference(teamId)) {
          issues.error(keyPath, 'must be the team id itself, not an os.environ/ reference');
          teamId = undefined;
        }
        break;
      case 'success_callback':
      case 'failure_callback':
      case 'callbacks':
        lists[key] = readStringList(issues, keyPath, raw);
        break;
      case 'cache':
        cache = readBoolean(issues, keyPath, raw);
        break;
      case 'cache_ttl':
        cacheTtl = readNumber(issues, keyPath, raw, { positive: true });
        break;
      case 'turn_off_message_logging':
      case 'redact_user_api_key_info':
      case 'disable_no_log_param':
      case 'allow_client_message_redaction_opt_out':
      case 'pii_masking':
        privacyFields[key] = raw;
        break;
      case 'callback_vars': {
        const nested = readMapping(issues, keyPath, raw, 'a mapping of callback variables') ?? {};
        for (const [name, nestedRaw] of Object.entries(nested)) {
          readCallbackVar(issues, joinPath(keyPath, name), name, nestedRaw, nestedVars, KNOWN_CALLBACK_VARS);
        }
        break;
      }
      default:
        readCallbackVar(issues, keyPath, key, raw, topLevelVars, candidates);
    }
  }
  for (const name of nestedVars.keys()) {
    if (topLevelVars.has(name)) {
      issues.warn(joinPath(path, name), `also set in callback_vars; the callback_vars value is used`);
    }
  }
  const privacy = readPrivacyLayer(privacyFields, { checkPatterns: true });
  if ('problem' in privacy) {
    issues.error(joinPath(path, privacy.problem.path), privacy.problem.message);
  }
  if (teamId === undefined || issues.errors.length > errorsBefore || 'problem' in privacy) {
    return undefined;
  }
  return {
    team_id: teamId,
    privacy: privacy.layer,
    ...lists,
    logging_configured: ['success_callback', 'failure_callback', 'callbacks'].some((key) => key in entry),
    callback_vars: Object.fromEntries([...topLevelVars, ...nestedVars]),
    ...(cache !== undefined ? { cache } : {}),
    ...(cacheTtl !== undefined ? { cache_ttl: cacheTtl } : {}),
  };
}

/** `typoCandidates` decides what a near-miss name was probably meant to be; such a name is fatal, not a variable. */
function readCallbackVar(
  issues: Issues,
  path: string,
  name: string,
  raw: unknown,
  into: Map<string, string>,
  typoCandidates: readonly string[],
): void {
  if (!(KNOWN_CALLBACK_VARS as readonly string[]).includes(name)) {
    const suggestion = closestKey(name, typoCandidates);
    if (suggestion !== undefined) {
      issues.error(path, `unknown key; did you mean \`${suggestion}\`?`);
      return;
    }
    issues.warn(path, 'not a callback variable LiteLLM knows; kept as a callback variable');
  }
  const text = scalarToString(raw);
  if (text === undefined) {
    issues.error(path, `callback variables must be a string, number or boolean, got ${describeKind(raw)}`);
    return;
  }
  checkEnvReference(issues, path, text);
  into.set(name, text);
}

// ---------------------------------------------------------------------------------------------------------------
// model_list
// ---------------------------------------------------------------------------------------------------------------

function readModelList(issues: Issues, value: unknown): ModelDeployment[] {
  const path = 'model_list';
  if (value === null || value === undefined) {
    return [];
  }
  if (!Array.isArray(value)) {
    issues.error(path, `must be a list of deployments (each starting with \`- model_name: ...\`), got ${describeKind(value)}`);
    return [];
  }
  const deployments: ModelDeployment[] = [];
  const idOwners = new Map<string, number>();
  value.forEach((entry, index) => {
    const entryPath = `${path}[${index}]`;
    const deployment = readDeployment(issues, entryPath, entry, index);
    if (deployment === undefined) {
      return;
    }
    const id = String(deployment.model_info.id);
    const owner = idOwners.get(id);
    if (owner !== undefined) {
      issues.error(joinPath(entryPath, 'model_info.id'), `duplicate id \`${id}\` (already used by ${path}[${owner}])`);
      return;
    }
    idOwners.set(id, index);
    deployments.push(deployment);
  });
  return deployments;
}

function readDeployment(issues: Issues, path: string, entry: unknown, index: number): ModelDeployment | undefined {
  if (!isMapping(entry)) {
    issues.error(path, `must be a mapping with model_name and litellm_params, got ${describeKind(entry)}`);
    return undefined;
  }
  const errorsBefore = issues.errors.length;
  for (const key of Object.keys(entry)) {
    if (!(DEPLOYMENT_KEYS as readonly string[]).includes(key)) {
      reportUnknownKey(issues, joinPath(path, key), key, DEPLOYMENT_KEYS, 'a model_list entry');
    }
  }
  const modelName = readString(issues, joinPath(path, 'model_name'), entry.model_name);
  let params: LitellmParams | undefined;
  if (entry.litellm_params === undefined || entry.litellm_params === null) {
    issues.error(joinPath(path, 'litellm_params'), 'missing: every deployment needs litellm_params with at least `model`');
  } else {
    params = readLitellmParams(issues, joinPath(path, 'litellm_params'), entry.litellm_params);
  }
  const modelInfo = readModelInfo(issues, joinPath(path, 'model_info'), entry.model_info, modelName ?? '', index);
  if (modelName === undefined || params === undefined || modelInfo === undefined || issues.errors.length > errorsBefore) {
    return undefined;
  }
  return { model_name: modelName, litellm_params: params, model_info: modelInfo };
}

const STRING_PARAMS_READ_LATER = new Set(['model', 'api_key', 'api_base', 'custom_llm_provider']);
const TYPED_PARAMS = new Set(['api_base', 'api_key', 'timeout', 'stream_timeout', 'max_retries', 'mock_response']);

function readLitellmParams(issues: Issues, path: string, value: unknown): LitellmParams | undefined {
  const params = readMapping(issues, path, value, 'a mapping');
  if (params === undefined) {
    return undefined;
  }
  const errorsBefore = issues.errors.length;
  for (const [key, raw] of Object.entries(params)) {
    const keyPath = joinPath(path, key);
    if (key !== 'model' && !(LITELLM_PARAMS_CHECKED as readonly string[]).includes(key)) {
      const suggestion = closestKey(key, LITELLM_PARAMS_CHECKED);
      if (suggestion !== undefined) {
        issues.error(keyPath, `unknown key; did you mean \`${suggestion}\`?`);
        continue;
      }
    }
    // LiteLLM resolves os.environ/ in every litellm_params string, so every one of them must name a variable
    // (the keys read with readString below are checked there).
    if (typeof raw === 'string' && !STRING_PARAMS_READ_LATER.has(key)) {
      checkEnvReference(issues, keyPath, raw);
    }
  }
  const model = readModel(issues, path, params);
  const numbers: Array<[string, number]> = [];
  for (const key of ['timeout', 'stream_timeout', 'input_cost_per_token', 'output_cost_per_token'] as const) {
    if (params[key] !== undefined && params[key] !== null) {
      const parsed = readNumber(issues, joinPath(path, key), params[key], {});
      if (parsed !== undefined) {
        numbers.push([key, parsed]);
      }
    }
  }
  if (params.max_retries !== undefined && params.max_retries !== null) {
    const parsed = readNumber(issues, joinPath(path, 'max_retries'), params.max_retries, { integer: true });
    if (parsed !== undefined) {
      numbers.push(['max_retries', parsed]);
    }
  }
  if (params.api_key !== undefined && params.api_key !== null) {
    readString(issues, joinPath(path, 'api_key'), params.api_key, ' (quote it if it looks like a number)');
  }
  if (params.mock_response !== undefined && params.mock_response !== null && typeof params.mock_response !== 'string') {
    issues.error(joinPath(path, 'mock_response'), `must be a string, got ${describeKind(params.mock_response)}`);
  }
  if (params.api_base !== undefined && params.api_base !== null) {
    readApiBase(issues, joinPath(path, 'api_base'), params.api_base);
  }
  if (model === undefined || issues.errors.length > errorsBefore) {
    return undefined;
  }
  // `api_key:` left empty is YAML null; the typed fields promise a value or absence, never null.
  const kept = Object.entries(params).filter(([key, raw]) => !(raw === null && TYPED_PARAMS.has(key)));
  return { ...Object.fromEntries(kept), ...Object.fromEntries(numbers), model };
}

/**
 * `provider/upstream-model`, defaulting to `openai/` for a bare name as LiteLLM does. `custom_llm_provider`, when
 * set, names the provider and the model is taken whole (minus a repeated provider prefix), again as in LiteLLM.
 */
function readModel(issues: Issues, path: string, params: Mapping): string | undefined {
  const modelPath = joinPath(path, 'model');
  if (params.model === undefined || params.model === null) {
    issues.error(modelPath, 'missing: the upstream model, e.g. `openai/gpt-4o` or `mock/anything`');
    return undefined;
  }
  const model = readString(issues, modelPath, params.model);
  if (model === undefined) {
    return undefined;
  }
  if (isEnvReference(model)) {
    issues.error(modelPath, 'must name the model itself, not an os.environ/ reference');
    return undefined;
  }
  let provider: string;
  let upstream: string;
  if (params.custom_llm_provider !== undefined && params.custom_llm_provider !== null) {
    const providerPath = joinPath(path, 'custom_llm_provider');
    const custom = readString(issues, providerPath, params.custom_llm_provider);
    if (custom === undefined) {
      return undefined;
    }
    if (!isSupportedProvider(custom)) {
      issues.error(providerPath, unsupportedProviderMessage(custom));
      return undefined;
    }
    provider = custom;
    upstream = model.startsWith(`${custom}/`) ? model.slice(custom.length + 1) : model;
  } else {
    const slash = model.indexOf('/');
    provider = slash === -1 ? 'openai' : model.slice(0, slash);
    upstream = slash === -1 ? model : model.slice(slash + 1);
    if (!isSupportedProvider(provider)) {
      issues.error(modelPath, unsupportedProviderMessage(provider));
      return undefined;
    }
  }
  if (upstream.trim() === '') {
    issues.error(modelPath, `names no model after \`${provider}/\``);
    return undefined;
  }
  return `${provider}/${upstream}`;
}

function isSupportedProvider(provider: string): provider is SupportedProvider {
  return (SUPPORTED_PROVIDERS as readonly string[]).includes(provider);
}

function unsupportedProviderMessage(provider: string): string {
  return `provider \`${provider}\` is not supported by Gatehouse (supported: ${SUPPORTED_PROVIDERS.join(', ')})`;
}

/** The URL is never echoed: people paste credentials into query strings. */
function readApiBase(issues: Issues, path: string, value: unknown): void {
  const text = readString(issues, path, value);
  if (text === undefined || isEnvReference(text)) {
    return;
  }
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    issues.error(path, 'must be an http(s) URL such as https://api.openai.com/v1, or an os.environ/NAME reference');
  }
}

function readModelInfo(
  issues: Issues,
  path: string,
  value: unknown,
  modelName: string,
  index: number,
): Record<string, unknown> | undefined {
  const info = readMapping(issues, path, value, 'a mapping');
  if (info === undefined) {
    return undefined;
  }
  const errorsBefore = issues.errors.length;
  const numbers: Array<[string, number]> = [];
  for (const key of Object.keys(info)) {
    if (!(MODEL_INFO_CHECKED as readonly string[]).includes(key)) {
      const suggestion = closestKey(key, MODEL_INFO_CHECKED);
      if (suggestion !== undefined) {
        issues.error(joinPath(path, key), `unknown key; did you mean \`${suggestion}\`?`);
      }
    }
  }
  for (const key of MODEL_INFO_CHECKED) {
    if (info[key] !== undefined && info[key] !== null) {
      const parsed = readNumber(issues, joinPath(path, key), info[key], {});
      if (parsed !== undefined) {
        numbers.push([key, parsed]);
      }
    }
  }
  let id: string;
  if (info.id === undefined || info.id === null) {
    id = deploymentId(modelName, index);
  } else {
    const given = typeof info.id === 'number' ? String(info.id) : info.id;
    if (typeof given !== 'string' || given.trim() === '') {
      issues.error(joinPath(path, 'id'), `must be a non-empty string, got ${describeKind(info.id)}`);
      return undefined;
    }
    id = given;
  }
  if (issues.errors.length > errorsBefore) {
    return undefined;
  }
  return { ...info, ...Object.fromEntries(numbers), id };
}

/** Stable across restarts as long as the entry keeps its name and position, so logged ids stay comparable. */
function deploymentId(modelName: string, index: number): string {
  return createHash('sha256').update(`${modelName}\u0000${index}`).digest('hex');
}
