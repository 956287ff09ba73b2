import { checkVarNames, COMMON_VARS, type DestinationVarsSpec, type SettingsErrors, VarKinds } from '../../../log-destination';
import type { EgressOptions } from '../destination-support';
import { openInferenceAttributes } from '../otel/openinference';
import type { OtelSettings } from '../otel/otel.destination';
import { baseUrl, headerValueError, OtlpVariantDestination, tracesUrlOf } from '../otel/otlp-variant';

/** A self-hosted Phoenix's default address, LiteLLM's default when no collector endpoint is set. */
export const PHOENIX_DEFAULT_ENDPOINT = 'http://localhost:6006';

/**
 * `arize_phoenix` callback_vars. LiteLLM reads Phoenix's settings from PHOENIX_API_KEY,
 * PHOENIX_COLLECTOR_HTTP_ENDPOINT / PHOENIX_COLLECTOR_ENDPOINT and PHOENIX_PROJECT_NAME only; these are those names
 * lower-cased, so a team or key can have its own Phoenix. A team admin must name the collector (the default is a
 * host on the gateway's own machine).
 */
export const ARIZE_PHOENIX_VARS: DestinationVarsSpec = {
  vars: {
    ...COMMON_VARS,
    phoenix_api_key: VarKinds.secret,
    phoenix_collector_endpoint: VarKinds.url,
    phoenix_project_name: VarKinds.plain,
  },
  required: [],
  requiredForNonAdmin: [['phoenix_collector_endpoint']],
};

export interface ArizePhoenixDefaults {
  endpoint: string;
}

/**
 * `arize_phoenix`: OTLP/HTTP to Phoenix, `authorization: Bearer <PHOENIX_API_KEY>` when a key is set (Phoenix Cloud
 * requires one); the project is the resource attribute `openinference.project.name`, which Phoenix files traces by.
 */
export function arizePhoenixDestination(
  defaults: ArizePhoenixDefaults,
  options: { egress?: EgressOptions; requestTimeoutMs?: number } = {},
): OtlpVariantDestination {
  return new OtlpVariantDestination(
    {
      kind: 'arize_phoenix',
      spanAttributes: openInferenceAttributes,
      settings: (vars) => {
        const errors: SettingsErrors = checkVarNames('arize_phoenix', ARIZE_PHOENIX_VARS, vars);
        const endpoint = baseUrl('phoenix_collector_endpoint', vars.phoenix_collector_endpoint?.trim() || defaults.endpoint, errors);
        const apiKey = (vars.phoenix_api_key ?? '').trim();
        const keyError = headerValueError('phoenix_api_key', apiKey);
        if (keyError) errors.push(keyError);
        if (apiKey === '' && /(^|\.)phoenix\.arize\.com$/i.test(hostOf(endpoint))) {
          errors.push({ field: 'phoenix_api_key', message: 'phoenix_api_key is required for Phoenix Cloud (app.phoenix.arize.com)' });
        }
        if (errors.length > 0) return { errors };
        const project = vars.phoenix_project_name?.trim() || 'default';
        const settings: OtelSettings = {
          endpoint,
          tracesUrl: tracesUrlOf(endpoint),
          headers: apiKey === '' ? {} : { authorization: `Bearer ${apiKey}` },
          serviceName: 'gatehouse',
          resourceAttributes: { 'openinference.project.name': project },
        };
        return { settings };
      },
    },
    options,
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}
