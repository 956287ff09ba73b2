import { upstreamBody } from '../../request-body';
import type { DeploymentSource } from '../deployment-source';
import type { Endpoint, Provider, ProviderCall, ProviderDeployment, UpstreamRequest } from '../provider';
import { readBaseUrl, withExtraHeaders, type BaseUrl } from '../provider-support';
import { COMPATIBLE_HOSTS, type CompatibleHost } from './compatible-hosts';

const BOTH: ReadonlySet<Endpoint> = new Set(['chat', 'embeddings']);

/**
 * OpenAI and every host that speaks its wire format (`compatible-hosts.ts`). The fast path: headers are built once
 * at boot, the body is the caller's with the deployment's model, and answers and streams go back byte for byte.
 */
export const openAiProvider: Provider = {
  name: 'openai',
  prefixes: Object.keys(COMPATIBLE_HOSTS),
  settings: ['api_base', 'api_key', 'organization', 'extra_headers'],
  servesAnyModel: true,
  compile(source: DeploymentSource): ProviderDeployment {
    const host = COMPATIBLE_HOSTS[source.prefix];
    const configuredBase = source.string('api_base', host.baseEnv);
    const parsed = readBaseUrl(source, { fallback: configuredBase ?? host.defaultBase, what: `the ${source.prefix} server address` });
    const base = parsed !== null && host.v1Base ? withV1(parsed) : parsed;
    // The provider's own API refuses calls without a key; a server of one's own behind `api_base` may want none.
    const apiKey =
      host.keyRequired && configuredBase === undefined
        ? source.required('api_key', host.keyEnv, `the ${source.prefix} API key`)
        : source.string('api_key', host.keyEnv);
    const organization = source.string('organization', source.prefix === 'openai' ? ['OPENAI_ORGANIZATION'] : []);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...headersFromEnv(host, source.env) };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    if (organization) headers['openai-organization'] = organization;
    const allHeaders = withExtraHeaders(source, headers);
    const path = base?.path ?? '';
    const search = base?.search ?? '';
    const chatPath = `${path}/chat/completions${search}`;
    const embeddingsPath = `${path}/embeddings${search}`;
    const chatModelOf = (model: string): string => host.chatModel?.(model, configuredBase !== undefined) ?? model;
    const chatModel = chatModelOf(source.upstreamModel);
    return {
      origin: base?.origin ?? 'http://invalid',
      apiBaseForLog: (base?.origin ?? '') + path,
      endpoints: host.endpoints === undefined ? BOTH : new Set(host.endpoints),
      translation: null,
      request(call: ProviderCall): UpstreamRequest {
        const chat = call.endpoint === 'chat';
        return {
          path: chat ? chatPath : embeddingsPath,
          headers: allHeaders,
          // A wildcard deployment serves other names than the one compiled: their host form is made per call.
          body: upstreamBody(call.body, !chat ? call.upstreamModel : call.upstreamModel === source.upstreamModel ? chatModel : chatModelOf(call.upstreamModel), call.stream),
        };
      },
    };
  },
};

/** `https://h` and `https://h/v1/chat/completions` both as `https://h/v1` (LiteLLM's reading for hosts that need it). */
function withV1(base: BaseUrl): BaseUrl {
  const path = base.path.replace(/\/chat\/completions$/, '');
  return { ...base, path: path.endsWith('/v1') ? path : `${path}/v1` };
}

function headersFromEnv(host: CompatibleHost, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, variable] of Object.entries(host.headersFromEnv ?? {})) {
    const value = env[variable];
    if (value !== undefined && value.trim() !== '') out[header] = value;
  }
  return out;
}
