import { upstreamBody } from '../../request-body';
import type { DeploymentSource } from '../deployment-source';
import type { Endpoint, Provider, ProviderCall, ProviderDeployment, UpstreamRequest } from '../provider';
import { readBaseUrl, withExtraHeaders } from '../provider-support';
import { COMPATIBLE_HOSTS } from './compatible-hosts';

const BOTH: ReadonlySet<Endpoint> = new Set(['chat', 'embeddings']);

/**
 * OpenAI and every host that speaks its wire format (`compatible-hosts.ts`). The fast path: headers are built once
 * at boot, the body is the caller's with the deployment's model, and answers and streams go back byte for byte.
 */
export const openAiProvider: Provider = {
  name: 'openai',
  prefixes: Object.keys(COMPATIBLE_HOSTS),
  settings: ['api_base', 'api_key', 'organization', 'extra_headers'],
  compile(source: DeploymentSource): ProviderDeployment {
    const host = COMPATIBLE_HOSTS[source.prefix];
    const configuredBase = source.string('api_base', host.baseEnv);
    const base = readBaseUrl(source, { fallback: configuredBase ?? host.defaultBase, what: `the ${source.prefix} server address` });
    // The provider's own API refuses calls without a key; a server of one's own behind `api_base` may want none.
    const apiKey =
      host.keyRequired && configuredBase === undefined
        ? source.required('api_key', host.keyEnv, `the ${source.prefix} API key`)
        : source.string('api_key', host.keyEnv);
    const organization = source.string('organization', source.prefix === 'openai' ? ['OPENAI_ORGANIZATION'] : []);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    if (organization) headers['openai-organization'] = organization;
    const allHeaders = withExtraHeaders(source, headers);
    const path = base?.path ?? '';
    const search = base?.search ?? '';
    const chatPath = `${path}/chat/completions${search}`;
    const embeddingsPath = `${path}/embeddings${search}`;
    return {
      origin: base?.origin ?? 'http://invalid',
      apiBaseForLog: (base?.origin ?? '') + path,
      endpoints: BOTH,
      translation: null,
      request(call: ProviderCall): UpstreamRequest {
        return {
          path: call.endpoint === 'chat' ? chatPath : embeddingsPath,
          headers: allHeaders,
          body: upstreamBody(call.body, call.upstreamModel, call.stream),
        };
      },
    };
  },
};
