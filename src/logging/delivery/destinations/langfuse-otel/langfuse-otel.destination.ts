import { checkVarNames, COMMON_VARS, type DestinationVarsSpec, type SettingsErrors, VarKinds } from '../../../log-destination';
import type { EgressOptions } from '../destination-support';
import { openInferenceAttributes } from '../otel/openinference';
import type { OtelSettings } from '../otel/otel.destination';
import { baseUrl, OtlpVariantDestination } from '../otel/otlp-variant';

/** LiteLLM's default for `langfuse_otel`: Langfuse Cloud's US region. */
export const LANGFUSE_OTEL_DEFAULT_HOST = 'https://us.cloud.langfuse.com';

/** The Langfuse callback_vars LiteLLM reads (the same names as the `langfuse` destination). */
export const LANGFUSE_OTEL_VARS: DestinationVarsSpec = {
  vars: {
    ...COMMON_VARS,
    langfuse_public_key: VarKinds.secret,
    langfuse_secret_key: VarKinds.secret,
    langfuse_secret: { ...VarKinds.secret, aliasOf: 'langfuse_secret_key' },
    langfuse_host: VarKinds.url,
  },
  required: [['langfuse_public_key'], ['langfuse_secret_key', 'langfuse_secret']],
  requiredForNonAdmin: [],
};

export interface LangfuseOtelDefaults {
  host: string;
}

/**
 * `langfuse_otel`: OTLP/HTTP to Langfuse's OpenTelemetry endpoint `<host>/api/public/otel/v1/traces`, with Basic
 * authentication of `public_key:secret_key`. Langfuse makes each span a generation (it carries the model), with
 * the OpenInference input/output values and the GenAI token usage.
 */
export function langfuseOtelDestination(
  defaults: LangfuseOtelDefaults,
  options: { egress?: EgressOptions; requestTimeoutMs?: number } = {},
): OtlpVariantDestination {
  return new OtlpVariantDestination(
    {
      kind: 'langfuse_otel',
      spanAttributes: openInferenceAttributes,
      settings: (vars) => {
        const errors: SettingsErrors = checkVarNames('langfuse_otel', LANGFUSE_OTEL_VARS, vars);
        const host = baseUrl('langfuse_host', vars.langfuse_host?.trim() || defaults.host, errors);
        if (errors.length > 0) return { errors };
        const publicKey = (vars.langfuse_public_key ?? '').trim();
        const secretKey = (vars.langfuse_secret_key ?? vars.langfuse_secret ?? '').trim();
        const endpoint = `${host}/api/public/otel`;
        const settings: OtelSettings = {
          endpoint,
          tracesUrl: `${endpoint}/v1/traces`,
          headers: { authorization: `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString('base64')}` },
          serviceName: 'gatehouse',
        };
        return { settings };
      },
    },
    options,
  );
}
