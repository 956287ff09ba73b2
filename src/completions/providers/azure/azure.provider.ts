import { upstreamBody } from '../../request-body';
import type { DeploymentSource } from '../deployment-source';
import type { Endpoint, Provider, ProviderCall, ProviderDeployment, UpstreamRequest } from '../provider';
import { readBaseUrl, withExtraHeaders } from '../provider-support';
import { DEFAULT_AUTHORITY_HOST, EntraTokenSource } from './entra-token';

/** LiteLLM's default when neither `api_version` nor AZURE_API_VERSION is set. */
export const DEFAULT_AZURE_API_VERSION = '2025-02-01-preview';
const BOTH: ReadonlySet<Endpoint> = new Set(['chat', 'embeddings']);

/**
 * Azure OpenAI: OpenAI's body and answers, at `{api_base}/openai/deployments/{deployment}/...?api-version=...`,
 * where `azure/<deployment>` names the deployment. Authenticated by `api_key` (sent as `api-key`, not
 * `Authorization`), a fixed `azure_ad_token`, or a service principal (`tenant_id`, `client_id`, `client_secret`)
 * whose Entra ID token is fetched and cached. Answers and streams are relayed untouched (Azure's first stream
 * chunk, with `prompt_filter_results` and no choices, included).
 */
export const azureProvider: Provider = {
  name: 'azure',
  prefixes: ['azure'],
  settings: ['api_base', 'api_key', 'api_version', 'azure_ad_token', 'tenant_id', 'client_id', 'client_secret', 'azure_authority_host', 'extra_headers'],
  compile(source: DeploymentSource): ProviderDeployment {
    const base = readBaseUrl(source, { fallbackEnv: ['AZURE_API_BASE', 'AZURE_OPENAI_ENDPOINT'], what: 'the Azure OpenAI endpoint' });
    const apiVersion = source.string('api_version', ['AZURE_API_VERSION', 'OPENAI_API_VERSION']) ?? DEFAULT_AZURE_API_VERSION;
    const auth = readAuth(source);
    // `https://x.openai.azure.com/openai` and `https://x.openai.azure.com` mean the same resource.
    const root = (base?.path ?? '').replace(/\/openai$/, '');
    const query = new URLSearchParams(base?.search ?? '');
    query.set('api-version', apiVersion);
    const deploymentPath = `${root}/openai/deployments/${encodeURIComponent(source.upstreamModel)}`;
    const chatPath = `${deploymentPath}/chat/completions?${query.toString()}`;
    const embeddingsPath = `${deploymentPath}/embeddings?${query.toString()}`;
    const headers = withExtraHeaders(source, { 'content-type': 'application/json', accept: 'application/json', ...auth.staticHeaders });

    const requestWith = (call: ProviderCall, allHeaders: Readonly<Record<string, string>>): UpstreamRequest => ({
      path: call.endpoint === 'chat' ? chatPath : embeddingsPath,
      headers: allHeaders,
      body: upstreamBody(call.body, call.upstreamModel, call.stream),
    });
    const tokens = auth.tokens;
    return {
      origin: base?.origin ?? 'http://invalid',
      apiBaseForLog: (base?.origin ?? '') + root,
      endpoints: BOTH,
      translation: null,
      request:
        tokens === null
          ? (call) => requestWith(call, headers)
          : (call) => {
              const token = tokens.get();
              return typeof token === 'string'
                ? requestWith(call, { ...headers, authorization: `Bearer ${token}` })
                : token.then((value) => requestWith(call, { ...headers, authorization: `Bearer ${value}` }));
            },
    };
  },
};

function readAuth(source: DeploymentSource): { staticHeaders: Record<string, string>; tokens: EntraTokenSource | null } {
  const apiKey = source.string('api_key');
  if (apiKey !== undefined) return { staticHeaders: { 'api-key': apiKey }, tokens: null };
  const adToken = source.string('azure_ad_token');
  if (adToken !== undefined) return { staticHeaders: { authorization: `Bearer ${adToken}` }, tokens: null };
  const tenantId = source.string('tenant_id', ['AZURE_TENANT_ID']);
  const clientId = source.string('client_id', ['AZURE_CLIENT_ID']);
  const clientSecret = source.string('client_secret', ['AZURE_CLIENT_SECRET']);
  if (tenantId !== undefined && clientId !== undefined && clientSecret !== undefined) {
    const authorityHost = source.string('azure_authority_host', ['AZURE_AUTHORITY_HOST']) ?? DEFAULT_AUTHORITY_HOST;
    return { staticHeaders: {}, tokens: new EntraTokenSource({ tenantId, clientId, clientSecret, authorityHost }) };
  }
  // The key variables last: a service principal named in litellm_params wins over a key lying in the environment.
  const keyFromEnv = source.string('api_key', ['AZURE_API_KEY', 'AZURE_OPENAI_API_KEY']);
  if (keyFromEnv !== undefined) return { staticHeaders: { 'api-key': keyFromEnv }, tokens: null };
  source.problem(
    'the Azure OpenAI credentials are missing: set litellm_params.api_key (or AZURE_API_KEY), litellm_params.azure_ad_token, ' +
      'or tenant_id, client_id and client_secret (or AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)',
  );
  return { staticHeaders: {}, tokens: null };
}
