import { REQUEST_DEFAULT_PARAMS, TABLE_PARAMS } from '../../completions/deployment-table';
import { PROVIDERS } from '../../completions/providers/registry';
import { PRIVACY_FIELDS } from '../../logging/privacy/privacy-settings';
import { reportUnknownKey, type Issues } from './problems';
import { LITELLM_ROUTER_TWINS } from './router-settings';

// ---------------------------------------------------------------------------------------------------------------
// Known keys. "used" keys are typed and validated; "ignored" keys are real LiteLLM settings that load with a
// warning. A key in neither list that is a near miss of one of them is treated as a typo and stops start-up
// (LiteLLM silently ignores `success_callbacks`, issue #5907); anything else is only warned about.
// ---------------------------------------------------------------------------------------------------------------

/** Upstream providers Gatehouse can call. `mock` answers offline. */

export const TOP_LEVEL_USED = ['model_list', 'litellm_settings', 'general_settings', 'environment_variables', 'credential_list', 'router_settings'] as const;

export const TOP_LEVEL_IGNORED = [
  'callback_settings',
  'guardrails',
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

export const LITELLM_SETTINGS_USED = [
  'success_callback',
  'failure_callback',
  'callbacks',
  'default_team_settings',
  'cache',
  'cache_params',
  'turn_off_message_logging',
  'redact_user_api_key_info',
  'global_disable_no_log_param',
  'model_group_alias',
  'max_end_user_budget',
  's3_callback_params',
  // Router settings LiteLLM also reads here (router-settings.ts)
  ...LITELLM_ROUTER_TWINS,
] as const;

export const LITELLM_SETTINGS_IGNORED = [
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
  'generic_logger_headers',
  // request handling
  'drop_params',
  'additional_drop_params',
  'modify_params',
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
  // budgets and key defaults
  'max_budget',
  'budget_duration',
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

export const GENERAL_SETTINGS_USED = [
  'master_key',
  'database_url',
  'allowed_logging_hosts',
  'allowed_logging_env_vars',
  'global_disable_no_log_param',
] as const;

export const GENERAL_SETTINGS_IGNORED = [
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

export const DEPLOYMENT_KEYS = ['model_name', 'litellm_params', 'model_info'] as const;

/**
 * LiteLLM `litellm_params` Gatehouse knows by name, used or not: a key one or two letters away from one of them is
 * reported as a typo, any other unknown key is accepted here and named in the deployment table's start-up warning.
 * LiteLLM settings Gatehouse does not act on are listed too, so `top_k` is never "corrected" to `top_p`.
 */
const LITELLM_PARAMS_NOT_USED = [
  'order',
  'tags',
  'top_k',
  'num_retries',
  'drop_params',
  'additional_drop_params',
  'input_cost_per_second',
  'output_cost_per_second',
  // Taken from credential_list before this check (see credential-list.ts).
  'litellm_credential_name',
  'use_in_pass_through',
  'merge_reasoning_content_in_choices',
  'cache_control_injection_points',
  'region_name',
  'max_budget',
  'budget_duration',
  'model_info',
];

/** `model` is left out of the typo check: `mode` is a legitimate model_info key people misplace here. */
export const LITELLM_PARAMS_CHECKED: readonly string[] = [
  ...new Set([...TABLE_PARAMS, ...REQUEST_DEFAULT_PARAMS, ...PROVIDERS.flatMap((provider) => provider.settings), ...LITELLM_PARAMS_NOT_USED]),
];

export const MODEL_INFO_CHECKED = ['input_cost_per_token', 'output_cost_per_token'] as const;

export const TEAM_ENTRY_KEYS = [
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
  // Gatehouse's per-entry forms of settings LiteLLM reads from its environment (ARIZE_*, PHOENIX_*).
  'arize_endpoint',
  'arize_project_name',
  'phoenix_api_key',
  'phoenix_collector_endpoint',
  'phoenix_project_name',
  'posthog_api_key',
  'posthog_api_url',
  'wandb_api_key',
  'weave_project_id',
  'dd_api_key',
  'dd_site',
  'dd_agent_host',
  'dd_agent_port',
  'dd_base_url',
  'generic_logger_endpoint',
  'generic_logger_headers',
  'generic_logger_log_format',
  'newrelic_api_key',
  'newrelic_region',
  // LiteLLM's s3_callback_params names, which Gatehouse's s3 destination also takes per team and key.
  's3_bucket_name',
  's3_region_name',
  's3_path',
  's3_endpoint_url',
  's3_aws_access_key_id',
  's3_aws_secret_access_key',
  's3_aws_session_token',
  's3_use_team_prefix',
  's3_use_key_prefix',
  's3_use_virtual_hosted_style',
  's3_log_prompts_only',
  's3_server_side_encryption',
  's3_sse_kms_key_id',
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

export function reportMisplaced(issues: Issues, path: string, key: string, here: 'top level' | 'litellm_settings' | 'general_settings'): boolean {
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

/**
 * A key a settings section's reader does not handle itself: a LiteLLM setting Gatehouse ignores (warned), a key of
 * the other section, or an unknown key (an error naming the likely typo, else a warning). True when the value is
 * kept as it was written (LiteLLM settings Gatehouse does not use, and unknown keys that are no typo).
 */
export function readOtherSetting(issues: Issues, path: string, key: string, section: 'litellm_settings' | 'general_settings'): boolean {
  const { used, ignored } = section === 'litellm_settings' ? KNOWN_CONFIG_KEYS.litellmSettings : KNOWN_CONFIG_KEYS.generalSettings;
  if ((ignored as readonly string[]).includes(key)) {
    issues.warn(path, 'LiteLLM setting not used by Gatehouse; ignored');
    return true;
  }
  return !reportMisplaced(issues, path, key, section) && !reportUnknownKey(issues, path, key, [...used, ...ignored], section);
}
