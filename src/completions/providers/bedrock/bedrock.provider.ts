import type { DeploymentSource } from '../deployment-source';
import type { Endpoint, Provider, ProviderCall, ProviderDeployment, Translation, UpstreamRequest } from '../provider';
import { withExtraHeaders } from '../provider-support';
import { AWS_SETTINGS, readAuth, readEndpoint, readRegion, type BedrockAuth } from './aws-settings';
import { readBedrockError } from './bedrock-errors';
import { chatCompletion } from './converse-answer';
import { converseRequest, type ConverseDefaults } from './converse-request';
import { ConverseStreamTranslator } from './converse-stream';
import { embeddingFamily, embeddingList, embeddingRequest, type EmbeddingFamily } from './embeddings';
import { parseBedrockModel, type BedrockModel } from './model-id';
import { RequestSigner } from './request-signer';

const EVENT_STREAM = 'application/vnd.amazon.eventstream';
const CHAT: ReadonlySet<Endpoint> = new Set(['chat']);
const EMBEDDINGS: ReadonlySet<Endpoint> = new Set(['embeddings']);

/**
 * Amazon Bedrock: `bedrock/<model id>` (or LiteLLM's `bedrock/converse/<model id>`) through the Converse API —
 * `POST /model/{id}/converse`, `/converse-stream` for streams (AWS event-stream framing) — and embedding models
 * (Titan, Cohere) through `POST /model/{id}/invoke` with their own bodies. Calls are signed with SigV4 from static
 * credentials (or carry a Bedrock API key as a bearer token). Everything is translated both ways: the caller only
 * ever sees OpenAI's shapes.
 */
export const bedrockProvider: Provider = {
  name: 'bedrock',
  prefixes: ['bedrock'],
  settings: [...AWS_SETTINGS, 'model_id', 'extra_headers', 'guardrailConfig', 'performanceConfig', 'top_k'],
  compile(source: DeploymentSource): ProviderDeployment {
    const model = parseBedrockModel(source.upstreamModel);
    // LiteLLM's `model_id`: the ARN to call (provisioned throughput, a custom model) while `model:` names the model.
    const modelId = source.string('model_id');
    const target = modelId === undefined ? model : parseBedrockModel(modelId);
    const auth = readAuth(source);
    const region = readRegion(source, target);
    const endpoint = region === null ? null : readEndpoint(source, region);
    const headers = withExtraHeaders(source, { 'content-type': 'application/json' });
    const defaults: ConverseDefaults = { guardrailConfig: source.raw('guardrailConfig'), performanceConfig: source.raw('performanceConfig'), topK: source.number('top_k') };
    const family = embeddingFamily(model);
    const origin = endpoint?.origin ?? 'http://invalid';
    const basePath = endpoint?.path ?? '';
    const modelPath = `${basePath}/model/${target.pathSegment}`;
    const authorize = authorizer(auth, region, origin);

    return {
      origin,
      apiBaseForLog: origin + basePath,
      upstreamModel: model.id,
      endpoints: family === null ? CHAT : EMBEDDINGS,
      translation: bedrockTranslation,
      readError: readBedrockError,
      request: (call) => {
        const { path, body, accept } = prepare(call, model, family, defaults, modelPath);
        return authorize(path, { ...headers, accept }, body);
      },
    };
  },
};

function prepare(
  call: ProviderCall,
  model: BedrockModel,
  family: EmbeddingFamily | null,
  defaults: ConverseDefaults,
  modelPath: string,
): { path: string; body: string; accept: string } {
  if (call.endpoint === 'embeddings' && family !== null) {
    return { path: `${modelPath}/invoke`, body: JSON.stringify(embeddingRequest(call.body, family)), accept: 'application/json' };
  }
  const body = JSON.stringify(converseRequest(call.body, model, defaults));
  return call.stream
    ? { path: `${modelPath}/converse-stream`, body, accept: EVENT_STREAM }
    : { path: `${modelPath}/converse`, body, accept: 'application/json' };
}

/** Signs (SigV4) or adds the bearer token; a deployment with a start-up problem never reaches a call. */
function authorizer(
  auth: BedrockAuth | null,
  region: string | null,
  origin: string,
): (path: string, headers: Record<string, string>, body: string) => UpstreamRequest | Promise<UpstreamRequest> {
  if (auth?.kind === 'bearer') {
    const authorization = `Bearer ${auth.token}`;
    return (path, headers, body) => ({ path, headers: { ...headers, authorization }, body });
  }
  if (auth === null || region === null) return (path, headers, body) => ({ path, headers, body });
  const signer = new RequestSigner(auth.credentials, region, new URL(origin).host);
  return async (path, headers, body) => ({ path, headers: await signer.sign(path, headers, body), body });
}

const bedrockTranslation: Translation = {
  answer: (bytes, call, headers) => (call.endpoint === 'embeddings' ? embeddingList(bytes, call, headers) : chatCompletion(bytes, call)),
  stream: (call) => new ConverseStreamTranslator(call),
  streamContentTypes: [EVENT_STREAM],
};
