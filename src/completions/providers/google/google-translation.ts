import type { RequestBody } from '../../request-body';
import type { DeploymentSource } from '../deployment-source';
import type { ProviderCall, Translation } from '../provider';
import { toChatCompletion } from './chat-answer';
import { toGenerateContentRequest, type GoogleRequestDefaults } from './chat-request';
import { GenerateContentStream } from './chat-stream';
import { geminiEmbeddingRequest, geminiEmbeddingsAnswer, vertexEmbeddingRequest, vertexEmbeddingsAnswer } from './embeddings';

/** Which of Google's APIs a deployment calls: they share `generateContent` and differ in embeddings. */
export type GoogleApi = 'gemini' | 'vertex';

/** The body of one call: a `generateContent` request, or the API's embeddings request. */
export function googleRequestBody(api: GoogleApi, call: ProviderCall, defaults: GoogleRequestDefaults): string {
  const body: RequestBody = call.body;
  if (call.endpoint === 'chat') return JSON.stringify(toGenerateContentRequest(body, defaults));
  return JSON.stringify(api === 'gemini' ? geminiEmbeddingRequest(body, call.upstreamModel) : vertexEmbeddingRequest(body));
}

export function googleTranslation(api: GoogleApi): Translation {
  const embeddingsAnswer = api === 'gemini' ? geminiEmbeddingsAnswer : vertexEmbeddingsAnswer;
  return {
    answer: (bytes, call) => (call.endpoint === 'chat' ? toChatCompletion(bytes, call) : embeddingsAnswer(bytes, call)),
    stream: (call) => new GenerateContentStream(call),
    streamContentTypes: ['text/event-stream'],
  };
}

/**
 * The Google parameters a deployment may set for every call in `litellm_params` (the OpenAI ones are the table's
 * request defaults): `safety_settings`, passed to Google as written, as LiteLLM does, and `top_k`.
 */
export function readGoogleDefaults(source: DeploymentSource): GoogleRequestDefaults {
  const safetySettings = source.raw('safety_settings');
  const topK = source.number('top_k');
  return {
    ...(safetySettings !== undefined && safetySettings !== null ? { safetySettings } : {}),
    ...(topK !== undefined ? { topK } : {}),
  };
}
