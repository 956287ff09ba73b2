import { checkVarNames, COMMON_VARS, type DestinationVarsSpec, type SettingsErrors, VarKinds } from '../../../log-destination';
import type { EgressOptions } from '../destination-support';
import { openInferenceAttributes } from '../otel/openinference';
import type { OtelSettings } from '../otel/otel.destination';
import { baseUrl, headerValueError, OtlpVariantDestination, tracesUrlOf } from '../otel/otlp-variant';

/** Arize AX's OTLP collector (LiteLLM's default `ARIZE_ENDPOINT`); it takes OTLP/HTTP at `/v1/traces`. */
export const ARIZE_DEFAULT_ENDPOINT = 'https://otlp.arize.com/v1';

/**
 * LiteLLM's Arize callback_vars (`arize_space_key` and its newer name `arize_space_id`, `arize_api_key`), plus the
 * endpoint and project that LiteLLM reads only from ARIZE_HTTP_ENDPOINT / ARIZE_PROJECT_NAME.
 */
export const ARIZE_VARS: DestinationVarsSpec = {
  vars: {
    ...COMMON_VARS,
    arize_space_key: VarKinds.secret,
    arize_space_id: VarKinds.secret,
    arize_api_key: VarKinds.secret,
    arize_endpoint: VarKinds.url,
    arize_project_name: VarKinds.plain,
  },
  required: [['arize_space_key', 'arize_space_id'], ['arize_api_key']],
  requiredForNonAdmin: [],
};

export interface ArizeDefaults {
  /** The endpoint when an entry names none (ARIZE_HTTP_ENDPOINT, ARIZE_ENDPOINT, or Arize's collector). */
  endpoint: string;
}

/**
 * `arize`: OTLP/HTTP to Arize AX, authenticated by the `space_id` and `api_key` headers; the project is the resource
 * attributes `model_id` (what Arize files traces under) and `openinference.project.name`.
 */
export function arizeDestination(defaults: ArizeDefaults, options: { egress?: EgressOptions; requestTimeoutMs?: number } = {}): OtlpVariantDestination {
  return new OtlpVariantDestination(
    {
      kind: 'arize',
      spanAttributes: openInferenceAttributes,
      settings: (vars) => {
        const errors: SettingsErrors = checkVarNames('arize', ARIZE_VARS, vars);
        const endpoint = baseUrl('arize_endpoint', vars.arize_endpoint?.trim() || defaults.endpoint, errors);
        const spaceField = vars.arize_space_id?.trim() ? 'arize_space_id' : 'arize_space_key';
        const spaceId = (vars[spaceField] ?? '').trim();
        const apiKey = (vars.arize_api_key ?? '').trim();
        for (const [field, value] of [[spaceField, spaceId], ['arize_api_key', apiKey]] as const) {
          const error = headerValueError(field, value);
          if (error) errors.push(error);
        }
        if (errors.length > 0) return { errors };
        const project = vars.arize_project_name?.trim() || 'litellm';
        const settings: OtelSettings = {
          endpoint,
          tracesUrl: tracesUrlOf(endpoint),
          headers: { space_id: spaceId, api_key: apiKey },
          serviceName: 'gatehouse',
          resourceAttributes: { model_id: project, 'openinference.project.name': project },
        };
        return { settings };
      },
    },
    options,
  );
}
