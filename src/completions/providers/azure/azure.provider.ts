import { upstreamBody, type RequestBody } from '../../request-body';
import { nativeBody } from '../../responses-api/native-body';
import type { DeploymentSource } from '../deployment-source';
import type { Endpoint, Provider, ProviderCall, ProviderDeployment, UpstreamRequest } from '../provider';
import { readBaseUrl, withExtraHeaders } from '../provider-support';
import { DEFAULT_AUTHORITY_HOST, DEFAULT_SCOPE, EntraTokenSource, type EntraGrant } from './entra-token';

/** LiteLLM's default when neither `api_version` nor AZURE_API_VERSION is set. */
export const DEFAULT_AZURE_API_VERSION = '2025-02-01-preview';
const BOTH: ReadonlySet<Endpoint> = new Set(['chat', 'embeddings']);
/**
 * LiteLLM's routing markers (`azure/o_series/<deployment>`, `azure/gpt5_series/<deployment>`): they pick LiteLLM's
 * parameter mapping, the deployment is the name after them.
 */
const ROUTING_MARKERS = /^(?:o_series|gpt5_series)\//;
/** Azure refuses `stream_options` before this API version ("Unrecognized request argument supplied"). */
const FIRST_VERSION_WITH_STREAM_OPTIONS = '2024-09-01';

/**
 * Azure OpenAI: OpenAI's body and answers, at `{api_base}/openai/deployments/{deployment}/...?api-version=...`,
 * where `azure/<deployment>` names the deployment. Authenticated by `api_key` (sent as `api-key`, not
 * `Authorization`), a fixed `azure_ad_token`, or an Entra ID token fetched and cached for a service principal
 * (`tenant_id`, `client_id`, `client_secret`) or a user (`client_id`, `azure_username`, `azure_password`). Answers
 * and streams are relayed untouched (Azure's first stream chunk, with `prompt_filter_results` and no choices, included).
 */
export const azureProvider: Provider = {
  name: 'azure',
  prefixes: ['azure'],
  settings: [
    'api_base',
    'api_key',
    'api_version',
    'azure_ad_token',
    'tenant_id',
    'client_id',
    'client_secret',
    'azure_username',
    'azure_password',
    'azure_scope',
    'azure_authority_host',
    'extra_headers',
  ],
  compile(source: DeploymentSource): ProviderDeployment {
    const base = readBaseUrl(source, { fallbackEnv: ['AZURE_API_BASE', 'AZURE_OPENAI_ENDPOINT'], what: 'the Azure OpenAI endpoint' });
    const apiVersion = source.string('api_version', ['AZURE_API_VERSION']) ?? DEFAULT_AZURE_API_VERSION;
    const auth = readAuth(source);
    const deployment = source.upstreamModel.replace(ROUTING_MARKERS, '');
    if (deployment === '') source.problem('litellm_params.model names no Azure deployment after its routing marker');
    // `https://x.openai.azure.com/openai` and `https://x.openai.azure.com` mean the same resource.
    const root = (base?.path ?? '').replace(/\/openai$/, '');
    const query = new URLSearchParams(base?.search ?? '');
    query.set('api-version', apiVersion);
    const deploymentPath = `${root}/openai/deployments/${encodeURIComponent(deployment)}`;
    const chatPath = `${deploymentPath}/chat/completions?${query.toString()}`;
    const embeddingsPath = `${deploymentPath}/embeddings?${query.toString()}`;
    const headers = withExtraHeaders(source, { 'content-type': 'application/json', accept: 'application/json', ...auth.staticHeaders });
    const streamOptions = supportsStreamOptions(apiVersion);
    // Azure's Responses API is per resource, not per deployment: the deployment is named as the body's `model`.
    const responsesPath = `${root}/openai/responses?${query.toString()}`;
    const storedPath = (id: string): string => `${root}/openai/responses/${encodeURIComponent(id)}?${query.toString()}`;

    const requestWith = (call: ProviderCall, allHeaders: Readonly<Record<string, string>>): UpstreamRequest =>
      call.native !== undefined
        ? { path: responsesPath, headers: allHeaders, body: nativeBody(call.native.body, deployment) }
        : {
            path: call.endpoint === 'chat' ? chatPath : embeddingsPath,
            headers: allHeaders,
            body: call.stream && !streamOptions ? bodyWithoutStreamOptions(call.body, deployment) : upstreamBody(call.body, deployment, call.stream),
          };
    const tokens = auth.tokens;
    const withToken = <T>(make: (allHeaders: Readonly<Record<string, string>>) => T): T | Promise<T> => {
      if (tokens === null) return make(headers);
      const token = tokens.get();
      return typeof token === 'string' ? make({ ...headers, authorization: `Bearer ${token}` }) : token.then((value) => make({ ...headers, authorization: `Bearer ${value}` }));
    };
    return {
      origin: base?.origin ?? 'http://invalid',
      apiBaseForLog: (base?.origin ?? '') + root,
      endpoints: BOTH,
      native: 'openai-responses',
      translation: null,
      request: (call) => withToken((allHeaders) => requestWith(call, allHeaders)),
      storedResponse: (id) => withToken((allHeaders) => ({ path: storedPath(id), headers: allHeaders })),
    };
  },
};

/**
 * The credential, in LiteLLM's order of precedence where it is explicit, with one difference kept on purpose: what
 * `litellm_params` names (a key, a token, a service principal, a user) wins over whatever lies in the environment.
 */
function readAuth(source: DeploymentSource): { staticHeaders: Record<string, string>; tokens: EntraTokenSource | null } {
  const apiKey = source.string('api_key');
  if (apiKey !== undefined) return { staticHeaders: { 'api-key': apiKey }, tokens: null };
  const adToken = source.string('azure_ad_token');
  if (adToken !== undefined) return adTokenAuth(source, adToken);

  const named = (setting: string): boolean => source.has(setting);
  const spNamed = named('tenant_id') || named('client_id') || named('client_secret');
  const userNamed = named('azure_username') || named('azure_password');
  if (spNamed || userNamed) {
    const fromEntra = entraAuth(source);
    if (fromEntra !== null) return fromEntra;
    source.problem(
      userNamed
        ? 'the Azure user credentials are incomplete: azure_username and azure_password need client_id (or AZURE_CLIENT_ID)'
        : 'the Azure service principal is incomplete: set tenant_id, client_id and client_secret (or AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)',
    );
    return { staticHeaders: {}, tokens: null };
  }
  const keyFromEnv = source.string('api_key', ['AZURE_OPENAI_API_KEY', 'AZURE_API_KEY']);
  if (keyFromEnv !== undefined) return { staticHeaders: { 'api-key': keyFromEnv }, tokens: null };
  const adTokenFromEnv = source.string('azure_ad_token', ['AZURE_AD_TOKEN']);
  if (adTokenFromEnv !== undefined) return adTokenAuth(source, adTokenFromEnv);
  const fromEnvironment = entraAuth(source);
  if (fromEnvironment !== null) return fromEnvironment;
  source.problem(
    'the Azure OpenAI credentials are missing: set litellm_params.api_key (or AZURE_API_KEY), litellm_params.azure_ad_token (or AZURE_AD_TOKEN), ' +
      'or tenant_id, client_id and client_secret (or AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)',
  );
  return { staticHeaders: {}, tokens: null };
}

function adTokenAuth(source: DeploymentSource, token: string): { staticHeaders: Record<string, string>; tokens: null } {
  if (token.startsWith('oidc/')) {
    source.problem('litellm_params.azure_ad_token: oidc/ token references (workload identity federation) are not supported; use a service principal or a key');
  }
  return { staticHeaders: { authorization: `Bearer ${token}` }, tokens: null };
}

/** A service principal, else a user with a password, from litellm_params or the standard AZURE_* variables; null when neither is complete. */
function entraAuth(source: DeploymentSource): { staticHeaders: Record<string, string>; tokens: EntraTokenSource } | null {
  const tenantId = source.string('tenant_id', ['AZURE_TENANT_ID']);
  const clientId = source.string('client_id', ['AZURE_CLIENT_ID']);
  const clientSecret = source.string('client_secret', ['AZURE_CLIENT_SECRET']);
  const username = source.string('azure_username', ['AZURE_USERNAME']);
  const password = source.string('azure_password', ['AZURE_PASSWORD']);
  let grant: EntraGrant | null = null;
  if (tenantId !== undefined && clientId !== undefined && clientSecret !== undefined) {
    grant = { kind: 'client_credentials', tenantId, clientId, clientSecret };
  } else if (clientId !== undefined && username !== undefined && password !== undefined) {
    // No tenant: Entra's `organizations` endpoint finds the user's own, as azure-identity does.
    grant = { kind: 'password', tenantId: tenantId ?? 'organizations', clientId, username, password };
  }
  if (grant === null) return null;
  const authorityHost = source.string('azure_authority_host', ['AZURE_AUTHORITY_HOST']) ?? DEFAULT_AUTHORITY_HOST;
  const scope = source.string('azure_scope', ['AZURE_SCOPE']) ?? DEFAULT_SCOPE;
  return { staticHeaders: {}, tokens: new EntraTokenSource(grant, { authorityHost, scope }) };
}

/** Date-named versions before 2024-09-01 refuse the field; `preview`, `latest` and later dates take it. */
export function supportsStreamOptions(apiVersion: string): boolean {
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(apiVersion)?.[1];
  return date === undefined || date >= FIRST_VERSION_WITH_STREAM_OPTIONS;
}

/**
 * An older API version's stream body: the caller's `stream_options` go too (Azure would refuse the whole call), so
 * such a stream carries no usage and the call record estimates it.
 */
function bodyWithoutStreamOptions(body: RequestBody, deployment: string): string {
  const rest: RequestBody = { ...body };
  delete rest.stream_options;
  // `stream: true` stays in the body; only the usage request `upstreamBody` would add is left out.
  return upstreamBody(rest, deployment, false);
}
