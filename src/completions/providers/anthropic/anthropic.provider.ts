import type { DeploymentSource } from '../deployment-source';
import type { Endpoint, Provider, ProviderDeployment, Translation } from '../provider';
import { readBaseUrl, withExtraHeaders } from '../provider-support';
import { readAnthropicError } from './anthropic-errors';
import { chatCompletion } from './messages-answer';
import { messagesRequest } from './messages-request';
import { MessagesStreamTranslator } from './messages-stream';

/** Anthropic's API root; LiteLLM appends `/v1/messages` to it, and so does a configured `api_base`. */
export const DEFAULT_ANTHROPIC_API_BASE = 'https://api.anthropic.com';
/** The Messages API version the translation is written for. */
export const ANTHROPIC_VERSION = '2023-06-01';
/** Anthropic has chat only: an embeddings call to such a deployment is the caller's 400. */
const CHAT: ReadonlySet<Endpoint> = new Set(['chat']);
/** A base written with the version or the whole route (`…/v1`, `…/v1/messages`) means the same root. */
const ROUTE_SUFFIX = /\/v1(?:\/messages)?$/;

/**
 * Anthropic's Messages API (`anthropic/<model>`): `POST {api_base}/v1/messages`, the key (`api_key`, else
 * ANTHROPIC_API_KEY) in `x-api-key`, the base from `api_base`, else ANTHROPIC_API_BASE, else Anthropic's. Requests,
 * answers, streams and errors are translated both ways: an OpenAI caller only ever sees OpenAI's shapes. A Messages
 * caller (`/v1/messages`) is sent as it came, and gets Anthropic's answer as it came.
 */
export const anthropicProvider: Provider = {
  name: 'anthropic',
  prefixes: ['anthropic'],
  settings: ['api_key', 'api_base', 'extra_headers'],
  servesAnyModel: true,
  compile(source: DeploymentSource): ProviderDeployment {
    const base = readBaseUrl(source, { fallback: source.string('api_base', ['ANTHROPIC_API_BASE']) ?? DEFAULT_ANTHROPIC_API_BASE, what: 'the Anthropic API address' });
    const apiKey = source.required('api_key', ['ANTHROPIC_API_KEY'], 'the Anthropic API key');
    const headers = withExtraHeaders(source, { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION });
    const root = (base?.path ?? '').replace(ROUTE_SUFFIX, '');
    const path = `${root}/v1/messages${base?.search ?? ''}`;
    const countPath = `${root}/v1/messages/count_tokens${base?.search ?? ''}`;
    return {
      origin: base?.origin ?? 'http://invalid',
      apiBaseForLog: (base?.origin ?? '') + root,
      endpoints: CHAT,
      native: 'anthropic-messages',
      translation: anthropicTranslation,
      readError: readAnthropicError,
      request: (call) =>
        call.native === undefined
          ? { path, headers, body: JSON.stringify(messagesRequest(call.body, call.upstreamModel, call.stream)) }
          : { path, headers: withCallerBetas(headers, call.native.headers), body: JSON.stringify({ ...call.native.body, model: call.upstreamModel }) },
      countTokens: (call) => ({ path: countPath, headers: withCallerBetas(headers, call.headers), body: JSON.stringify({ ...call.body, model: call.upstreamModel }) }),
    };
  },
};

/** A Messages caller's betas join the deployment's own (`extra_headers`), as Anthropic reads a comma-separated list. */
function withCallerBetas(headers: Readonly<Record<string, string>>, caller: Readonly<Record<string, string>>): Record<string, string> {
  const betas = caller['anthropic-beta'];
  if (betas === undefined) return headers;
  const own = headers['anthropic-beta'];
  return { ...headers, 'anthropic-beta': own === undefined ? betas : `${own},${betas}` };
}

const anthropicTranslation: Translation = {
  answer: (bytes, call) => chatCompletion(bytes, call),
  stream: (call) => new MessagesStreamTranslator(call),
  streamContentTypes: ['text/event-stream'],
};
