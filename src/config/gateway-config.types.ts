/**
 * The parsed and validated `config.yaml`, in LiteLLM's layout. Values are kept as written: a string
 * `os.environ/NAME` stays a reference and is resolved where it is used (boot for the master key and the
 * database URL, delivery time for logging credentials), so a secret never sits in this object twice.
 */
export interface GatewayConfig {
  /** Absolute path of the file it was read from, or null when no file exists (env-only start). */
  readonly source: string | null;
  readonly modelList: readonly ModelDeployment[];
  readonly litellmSettings: LitellmSettings;
  readonly generalSettings: GeneralSettings;
  readonly environmentVariables: Readonly<Record<string, string>>;
  /** `model_group_alias` of `router_settings` and `litellm_settings`: alias → the model group it calls. */
  readonly modelGroupAlias: Readonly<Record<string, ModelGroupAlias>>;
  /** `router_settings` with its `litellm_settings` twins; absent in configs built by hand (tests): the defaults. */
  readonly routerSettings?: RouterSettings;
}

export interface ModelGroupAlias {
  /** The `model_name` (or a name a `model_name` pattern matches) the alias calls. */
  readonly model: string;
  /** Left out of `/v1/models`. */
  readonly hidden: boolean;
}

export type RoutingStrategy = 'simple-shuffle' | 'least-busy' | 'latency-based-routing' | 'usage-based-routing-v2';

/** Model group → the groups tried, in order, when it fails. */
export type FallbackMap = Readonly<Record<string, readonly string[]>>;

/** LiteLLM's Router settings as Gatehouse reads them (times in seconds). */
export interface RouterSettings {
  readonly routing_strategy: RoutingStrategy;
  readonly routing_strategy_args: { readonly lowest_latency_buffer?: number; readonly ttl?: number };
  /** Retries within a model group; unset: every deployment of the group is tried once. */
  readonly num_retries?: number;
  /** Seconds to wait before retrying a deployment already tried in this call. */
  readonly retry_after: number;
  /** Defaults for deployments that set no `timeout` / `stream_timeout` of their own. */
  readonly timeout?: number;
  readonly stream_timeout?: number;
  readonly fallbacks: FallbackMap;
  readonly context_window_fallbacks: FallbackMap;
  readonly content_policy_fallbacks: FallbackMap;
  /** Tried for any group without an entry of its own in `fallbacks`. */
  readonly default_fallbacks: readonly string[];
  readonly max_fallbacks: number;
  /** Failures per minute a deployment may have before it cools down; unset: LiteLLM's default. */
  readonly allowed_fails?: number;
  readonly cooldown_time?: number;
  readonly disable_cooldowns: boolean;
  /** LiteLLM router settings Gatehouse does not act on, as written (`model_group_alias` is read into `modelGroupAlias`). */
  readonly other: Readonly<Record<string, unknown>>;
}

export interface ModelDeployment {
  /** The public name callers use in `model`. */
  readonly model_name: string;
  readonly litellm_params: LitellmParams;
  readonly model_info: Readonly<Record<string, unknown>>;
}

export interface LitellmParams {
  /** `<provider>/<upstream model>`, e.g. `openai/gpt-4o` or `mock/anything`. */
  readonly model: string;
  readonly api_base?: string;
  /** May be an `os.environ/NAME` reference. */
  readonly api_key?: string;
  /** Seconds; these three may also be `os.environ/NAME` references, resolved when the deployment is compiled. */
  readonly timeout?: number | string;
  readonly stream_timeout?: number | string;
  readonly max_retries?: number | string;
  readonly mock_response?: string;
  readonly [extra: string]: unknown;
}

import type { PrivacyLayer } from '../logging/privacy/privacy-settings';

export type CallbackType = 'success' | 'failure' | 'success_and_failure';

export interface TeamDefaultSettings {
  readonly team_id: string;
  readonly success_callback: readonly string[];
  readonly failure_callback: readonly string[];
  readonly callbacks: readonly string[];
  /**
   * Whether the entry names any callback list. Only then is it the team's logging source (an empty list
   * means "log nowhere"); an entry that only sets `cache` leaves the team's logging to the global callbacks.
   */
  readonly logging_configured: boolean;
  /** Every other key of the entry (or its nested `callback_vars`), as written: may hold `os.environ/` references. */
  readonly callback_vars: Readonly<Record<string, string>>;
  /** Per-team cache switch (`cache: false|true`, `cache_ttl`), as the seed promises "logging and caching per team". */
  readonly cache?: boolean;
  readonly cache_ttl?: number;
  /** The entry's privacy switches (`turn_off_message_logging`, `pii_masking`, ...): the team's config level. */
  readonly privacy: PrivacyLayer;
}

export interface LitellmSettings {
  readonly success_callback: readonly string[];
  readonly failure_callback: readonly string[];
  readonly callbacks: readonly string[];
  readonly default_team_settings: readonly TeamDefaultSettings[];
  readonly cache: boolean;
  readonly cache_params: Readonly<Record<string, unknown>>;
  /**
   * LiteLLM's `s3_callback_params`: the settings of the global `s3` callback (`s3_bucket_name`, ...), as written (values
   * may be `os.environ/` references). Handed to the global callbacks as their callback variables.
   */
  readonly s3_callback_params: Readonly<Record<string, string>>;
  /** The global privacy level: `turn_off_message_logging`, `redact_user_api_key_info`, `global_disable_no_log_param`. */
  readonly privacy: PrivacyLayer;
  /** USD: the budget of every end user (a request's `user`) whose `end_users` row sets none. */
  readonly max_end_user_budget?: number;
  /** Everything else LiteLLM accepts that Gatehouse does not act on (kept so later features can read it). */
  readonly other: Readonly<Record<string, unknown>>;
}

export interface GeneralSettings {
  /** As written; may be an `os.environ/NAME` reference. */
  readonly master_key?: string;
  readonly database_url?: string;
  /** Hosts that non-admins may use as logging destinations although they resolve to private addresses. */
  readonly allowed_logging_hosts: readonly string[];
  /**
   * Variables that the proxy admin may reference (`os.environ/NAME`) as logging credentials although they hold one
   * of the gateway's own secrets (see config/protected-env.ts).
   */
  readonly allowed_logging_env_vars: readonly string[];
  /** LiteLLM documents the switch in both sections; either forbids `no-log`. */
  readonly global_disable_no_log_param?: boolean;
  readonly other: Readonly<Record<string, unknown>>;
}

/** A problem found while reading config.yaml: `path` is the dotted key path, `line` the 1-based line. */
export interface ConfigIssue {
  readonly path: string;
  readonly line: number | null;
  readonly message: string;
}
