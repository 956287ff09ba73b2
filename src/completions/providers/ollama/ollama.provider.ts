import type { DeploymentSource } from '../deployment-source';
import type { Endpoint, Provider, ProviderCall, ProviderDeployment, Translation, UpstreamRequest } from '../provider';
import { parseBaseUrl, withExtraHeaders } from '../provider-support';
import { translateAnswer, translateStream, type OllamaRoute } from './ollama-answer';
import { chatBody, embedBody, generateBody, OLLAMA_OPTION_NAMES } from './ollama-request';

/** Where Ollama listens unless `api_base` or OLLAMA_API_BASE says otherwise (LiteLLM's default too). */
export const DEFAULT_OLLAMA_BASE = 'http://localhost:11434';
const BOTH: ReadonlySet<Endpoint> = new Set(['chat', 'embeddings']);

/**
 * Ollama's native API, as LiteLLM speaks to it: `ollama_chat/<model>` at `/api/chat`, `ollama/<model>` at
 * `/api/generate` with a prompt built from the messages, embeddings at `/api/embed` for both. No key is needed; an
 * `api_key` (or OLLAMA_API_KEY) is sent as `Authorization: Bearer`, for an Ollama behind a proxy. Ollama's option
 * names (`num_ctx`, `top_k`, ...) and `keep_alive` may be set in `litellm_params` as defaults for every call.
 */
export const ollamaProvider: Provider = {
  name: 'ollama',
  prefixes: ['ollama', 'ollama_chat'],
  settings: ['api_base', 'api_key', 'extra_headers', 'keep_alive', ...OLLAMA_OPTION_NAMES],
  servesAnyModel: true,
  compile(source: DeploymentSource): ProviderDeployment {
    const text = source.string('api_base', ['OLLAMA_API_BASE']) ?? DEFAULT_OLLAMA_BASE;
    const base = parseBaseUrl(source, 'api_base', text);
    // LiteLLM also takes a base that already names the route (`http://host:11434/api/chat`).
    const root = (base?.path ?? '').replace(/\/api\/(?:chat|generate|embed)$/, '');
    const apiKey = source.string('api_key', ['OLLAMA_API_KEY']);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    const allHeaders = withExtraHeaders(source, headers);
    const options: Record<string, unknown> = {};
    for (const name of OLLAMA_OPTION_NAMES) {
      const value = source.raw(name);
      if (value !== undefined && value !== null) options[name] = value;
    }
    const defaults = { options, keepAlive: source.raw('keep_alive') };
    const route: OllamaRoute = source.prefix === 'ollama_chat' ? 'chat' : 'generate';
    const search = base?.search ?? '';
    const translation: Translation = {
      answer: (bytes, call) => translateAnswer(bytes, call, route),
      stream: (call) => translateStream(call, route),
      streamContentTypes: ['application/x-ndjson'],
    };
    return {
      origin: base?.origin ?? 'http://invalid',
      apiBaseForLog: (base?.origin ?? '') + root,
      endpoints: BOTH,
      translation,
      request(call: ProviderCall): UpstreamRequest {
        if (call.endpoint === 'embeddings') {
          return { path: `${root}/api/embed${search}`, headers: allHeaders, body: JSON.stringify(embedBody(call.body, call.upstreamModel, defaults)) };
        }
        const body = route === 'chat' ? chatBody(call.body, call.upstreamModel, call.stream, defaults) : generateBody(call.body, call.upstreamModel, call.stream, defaults);
        return { path: `${root}/api/${route}${search}`, headers: allHeaders, body: JSON.stringify(body) };
      },
    };
  },
};
