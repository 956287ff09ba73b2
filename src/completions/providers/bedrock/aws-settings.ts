import type { DeploymentSource } from '../deployment-source';
import { parseBaseUrl, type BaseUrl } from '../provider-support';
import { isRegionName, type BedrockModel } from './model-id';

export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** How calls are authenticated: SigV4 with static keys, or a Bedrock API key sent as a bearer token. */
export type BedrockAuth = { readonly kind: 'sigv4'; readonly credentials: StaticCredentials } | { readonly kind: 'bearer'; readonly token: string };

/**
 * LiteLLM's other ways to obtain AWS credentials: each needs an STS call, a profile file or the instance metadata
 * service, which Gatehouse does not make. Named in a start-up problem rather than silently ignored.
 */
const UNSUPPORTED_CREDENTIAL_SETTINGS = ['aws_role_name', 'aws_profile_name', 'aws_web_identity_token', 'aws_session_name', 'aws_sts_endpoint', 'aws_external_id'] as const;

export const AWS_SETTINGS = [
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_session_token',
  'aws_region_name',
  'aws_bedrock_runtime_endpoint',
  'api_base',
  'api_key',
  ...UNSUPPORTED_CREDENTIAL_SETTINGS,
] as const;

/**
 * The deployment's credentials, in LiteLLM's names: `api_key` (a Bedrock API key, sent as a bearer token), else
 * `aws_access_key_id` / `aws_secret_access_key` / `aws_session_token`, else the same from AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else AWS_BEARER_TOKEN_BEDROCK.
 */
export function readAuth(source: DeploymentSource): BedrockAuth | null {
  const unsupported = UNSUPPORTED_CREDENTIAL_SETTINGS.filter((name) => source.has(name));
  for (const name of unsupported) {
    source.raw(name);
    source.problem(
      `litellm_params.${name} is not supported: Gatehouse does not assume roles or read AWS profiles; give the credentials ` +
        'as aws_access_key_id, aws_secret_access_key and aws_session_token (or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)',
    );
  }
  if (unsupported.length > 0) return null;
  if (source.has('api_key')) {
    const apiKey = source.string('api_key');
    return apiKey === undefined ? null : { kind: 'bearer', token: apiKey };
  }
  // Keys come together from the config or together from the environment: a key id in the config signed with a
  // stray AWS_SESSION_TOKEN (or secret) of another identity would fail on every call.
  const inConfig = source.has('aws_access_key_id') || source.has('aws_secret_access_key');
  const accessKeyId = source.string('aws_access_key_id', inConfig ? [] : ['AWS_ACCESS_KEY_ID']);
  const secretAccessKey = source.string('aws_secret_access_key', inConfig ? [] : ['AWS_SECRET_ACCESS_KEY']);
  const sessionToken = source.string('aws_session_token', inConfig ? [] : ['AWS_SESSION_TOKEN']);
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    return { kind: 'sigv4', credentials: sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken } };
  }
  if (inConfig) {
    // A reference to an unset variable was reported already; a key given without its pair is reported here.
    const absent = ['aws_access_key_id', 'aws_secret_access_key'].find((name) => !source.has(name));
    if (absent !== undefined) source.problem(`the AWS credentials are incomplete: litellm_params.${absent} is missing (the key id and the secret go together)`);
    return null;
  }
  if (accessKeyId !== undefined || secretAccessKey !== undefined) {
    source.problem(`the AWS credentials are incomplete: the environment variable ${accessKeyId === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'} is not set`);
    return null;
  }
  const bearer = source.env.AWS_BEARER_TOKEN_BEDROCK;
  if (bearer !== undefined && bearer.trim() !== '') return { kind: 'bearer', token: bearer };
  source.problem(
    'the AWS credentials are missing: set litellm_params.aws_access_key_id and aws_secret_access_key ' +
      '(or the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or a Bedrock API key in litellm_params.api_key ' +
      '(or AWS_BEARER_TOKEN_BEDROCK); AWS profiles, role assumption and instance roles are not supported',
  );
  return null;
}

/** `aws_region_name`, else the region of an ARN model id, else AWS_REGION_NAME / AWS_REGION / AWS_DEFAULT_REGION. */
export function readRegion(source: DeploymentSource, model: BedrockModel): string | null {
  if (source.has('aws_region_name')) {
    const configured = source.string('aws_region_name');
    return configured === undefined ? null : checkedRegion(source, configured);
  }
  const region = model.arnRegion ?? source.string('aws_region_name', ['AWS_REGION_NAME', 'AWS_REGION', 'AWS_DEFAULT_REGION']);
  if (region === undefined) {
    source.problem('the AWS region is missing: set litellm_params.aws_region_name or the environment variable AWS_REGION_NAME / AWS_REGION / AWS_DEFAULT_REGION');
    return null;
  }
  return checkedRegion(source, region);
}

function checkedRegion(source: DeploymentSource, region: string): string | null {
  if (isRegionName(region)) return region;
  source.problem('the AWS region is not a region name (lower-case letters, digits and hyphens, e.g. us-east-1): check litellm_params.aws_region_name or AWS_REGION');
  return null;
}

/** `api_base`, else `aws_bedrock_runtime_endpoint` (or AWS_BEDROCK_RUNTIME_ENDPOINT), else the region's public endpoint. */
export function readEndpoint(source: DeploymentSource, region: string): BaseUrl | null {
  const apiBase = source.string('api_base');
  if (apiBase !== undefined) return parseBaseUrl(source, 'api_base', apiBase);
  const endpoint = source.string('aws_bedrock_runtime_endpoint', ['AWS_BEDROCK_RUNTIME_ENDPOINT']);
  if (endpoint !== undefined) return parseBaseUrl(source, 'aws_bedrock_runtime_endpoint', endpoint);
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return { origin: `https://bedrock-runtime.${region}.${suffix}`, path: '', search: '' };
}
