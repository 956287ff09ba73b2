import type { DeploymentSource } from '../deployment-source';
import type { Endpoint, Provider, ProviderCall, ProviderDeployment, UpstreamRequest } from '../provider';
import { readBaseUrl, withExtraHeaders } from '../provider-support';
import { readGoogleError } from './google-errors';
import { googleRequestBody, googleTranslation, readGoogleDefaults } from './google-translation';
import { modelPaths, pathFor, type ModelPaths } from './model-paths';

/** The Gemini API's versioned root; a configured `api_base` replaces all of it, as in LiteLLM. */
export const DEFAULT_GEMINI_API_BASE = 'https://generativelanguage.googleapis.com/v1beta';
const BOTH: ReadonlySet<Endpoint> = new Set(['chat', 'embeddings']);

/**
 * Google AI Studio's Gemini API (`gemini/<model>`): `{api_base}/models/{model}:generateContent`, streamed with
 * `:streamGenerateContent?alt=sse`, embeddings with `:batchEmbedContents`. The key (`api_key`, else GEMINI_API_KEY)
 * travels in the `x-goog-api-key` header, never in the URL, where it would reach access logs and error text.
 */
export const geminiProvider: Provider = {
  name: 'gemini',
  prefixes: ['gemini'],
  settings: ['api_key', 'api_base', 'extra_headers', 'safety_settings', 'top_k'],
  servesAnyModel: true,
  compile(source: DeploymentSource): ProviderDeployment {
    const base = readBaseUrl(source, { fallback: source.string('api_base') ?? DEFAULT_GEMINI_API_BASE, what: 'the Gemini API address' });
    const apiKey = source.required('api_key', ['GEMINI_API_KEY'], 'the Gemini API key');
    const headers = withExtraHeaders(source, { 'content-type': 'application/json', accept: 'application/json', 'x-goog-api-key': apiKey });
    const defaults = readGoogleDefaults(source);
    const pathsOf = (model: string): ModelPaths => modelPaths(`${base?.path ?? ''}/models/${encodeURIComponent(model)}`, base?.search ?? '', 'batchEmbedContents');
    const paths = pathsOf(source.upstreamModel);
    return {
      origin: base?.origin ?? 'http://invalid',
      apiBaseForLog: (base?.origin ?? '') + (base?.path ?? ''),
      endpoints: BOTH,
      translation: googleTranslation('gemini'),
      readError: readGoogleError,
      request(call: ProviderCall): UpstreamRequest {
        // A wildcard deployment serves other models than the one compiled: their paths are made per call.
        const callPaths = call.upstreamModel === source.upstreamModel ? paths : pathsOf(call.upstreamModel);
        return { path: pathFor(callPaths, call), headers, body: googleRequestBody('gemini', call, defaults) };
      },
    };
  },
};
