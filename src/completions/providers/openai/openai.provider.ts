import { upstreamBody } from '../../request-body';
import { nativeBody } from '../../responses-api/native-body';
import type { DeploymentSource } from '../deployment-source';
import type { Endpoint, Provider, ProviderCall, ProviderDeployment, UpstreamRequest } from '../provider';
import { readBaseUrl, withExtraHeaders, type BaseUrl } from '../provider-support';
import { COMPATIBLE_HOSTS, type CompatibleHost } from './compatible-hosts';

const BOTH: ReadonlySet<Endpoint> = new Set(['chat', 'embeddings']);
const WITH_LEGACY_COMPLETIONS: ReadonlySet<Endpoint> = new Set(['chat', 'embeddings', 'completions']);
/**
 * Hosts that still serve OpenAI's legacy `/completions` (text in, text out): a text completion is relayed to them as
 * it is. The other hosts answer it through their chat route, translated (text-completion.ts).
 */
const LEGACY_COMPLETIONS_HOSTS: ReadonlySet<string> = new Set([
  'openai',
  'text-completion-openai',
  'custom_openai',
  'openai_like',
  'hosted_vllm',
  'lm_studio',
  'llamafile',
  'litellm_proxy',
  'together_ai',
  'fireworks_ai',
  'xinference',
]);

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
    const paths: Readonly<Record<Endpoint, string>> = {
      chat: `${path}/chat/completions${search}`,
      embeddings: `${path}/embeddings${search}`,
      completions: `${path}/completions${search}`,
    };
    const chatModelOf = (model: string): string => host.chatModel?.(model, configuredBase !== undefined) ?? model;
    const chatModel = chatModelOf(source.upstreamModel);
    return {
      origin: base?.origin ?? 'http://invalid',
      apiBaseForLog: (base?.origin ?? '') + path,
      endpoints: host.endpoints !== undefined ? new Set(host.endpoints) : LEGACY_COMPLETIONS_HOSTS.has(source.prefix) ? WITH_LEGACY_COMPLETIONS : BOTH,
      translation: null,
      // OpenAI's own API has the Responses API; the compatible hosts mostly do not, so they are answered through chat.
      ...(source.prefix === 'openai'
        ? {
            native: 'openai-responses' as const,
            storedResponse: (id: string) => ({ path: `${path}/responses/${encodeURIComponent(id)}${search}`, headers: allHeaders }),
          }
        : {}),
      request(call: ProviderCall): UpstreamRequest {
        if (call.native !== undefined) {
          return { path: `${path}/responses${search}`, headers: allHeaders, body: nativeBody(call.native.body, call.upstreamModel) };
        }
        // The chat model rewrite (Fireworks' `accounts/...`) names the model on the text route too.
        return {
          path: paths[call.endpoint],
          headers: allHeaders,
          // A wildcard deployment serves other names than the one compiled: their host form is made per call.
          body: upstreamBody(call.body, call.endpoint === 'embeddings' ? call.upstreamModel : call.upstreamModel === source.upstreamModel ? chatModel : chatModelOf(call.upstreamModel), call.stream),
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
