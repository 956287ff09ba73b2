import { AppException } from '../../../errors';
import type { RequestBody } from '../../request-body';
import type { OpenAiAnswer, ProviderCall } from '../provider';
import { UpstreamProtocolError } from '../provider';
import { parseJsonObject } from '../provider-support';
import type { BedrockModel } from './model-id';

type Json = Record<string, unknown>;

/** The embedding model families InvokeModel takes, each with its own body. */
export type EmbeddingFamily = 'titan-v1' | 'titan-v2' | 'cohere';

export function embeddingFamily(model: BedrockModel): EmbeddingFamily | null {
  if (model.family.startsWith('amazon.titan-embed-text-v2')) return 'titan-v2';
  if (model.family.startsWith('amazon.titan-embed')) return 'titan-v1';
  if (model.family.startsWith('cohere.embed')) return 'cohere';
  return null;
}

/**
 * The InvokeModel body for an OpenAI embeddings request. Titan embeds one text per call (LiteLLM loops; a gateway
 * call is one upstream call, so a list of several is refused with a 400). Cohere takes a batch; its `input_type`
 * defaults to `search_document` as in LiteLLM. `dimensions` maps to Titan v2's `dimensions` and Cohere's
 * `output_dimension`.
 */
export function embeddingRequest(body: RequestBody, family: EmbeddingFamily): Json {
  const texts = inputTexts(body.input);
  const dimensions = body.dimensions;
  if (dimensions !== undefined && dimensions !== null && (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions <= 0)) {
    throw new AppException('validation_failed', '`dimensions` must be a positive integer', { param: 'dimensions' });
  }
  if (family === 'cohere') {
    const request: Json = { texts, input_type: typeof body.input_type === 'string' ? body.input_type : 'search_document' };
    if (typeof dimensions === 'number') request.output_dimension = dimensions;
    return request;
  }
  if (texts.length !== 1) {
    throw new AppException('validation_failed', '`input` must be one text for Amazon Titan embedding models (they embed one text per call)', { param: 'input' });
  }
  const request: Json = { inputText: texts[0] };
  if (family === 'titan-v2' && typeof dimensions === 'number') request.dimensions = dimensions;
  if (family === 'titan-v2' && typeof body.normalize === 'boolean') request.normalize = body.normalize;
  return request;
}

/**
 * An InvokeModel embeddings answer as OpenAI's list. Usage is the input token count Bedrock reports in the
 * `x-amzn-bedrock-input-token-count` header, else Titan's `inputTextTokenCount`. With `encoding_format: base64`
 * (what the openai SDK asks for by default) each vector is sent as OpenAI does: little-endian float32, base64.
 */
export function embeddingList(bytes: Buffer, call: ProviderCall, headers: Readonly<Record<string, string | string[] | undefined>> | undefined): OpenAiAnswer {
  const answer = parseJsonObject(bytes, 'the answer is not a JSON object');
  const vectors = readVectors(answer);
  const headerCount = Number(headerValue(headers?.['x-amzn-bedrock-input-token-count']));
  const bodyCount = answer.inputTextTokenCount;
  const tokens = Number.isFinite(headerCount) && headerCount >= 0 ? headerCount : typeof bodyCount === 'number' ? bodyCount : 0;
  const base64 = call.body.encoding_format === 'base64';
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector })),
    model: call.upstreamModel,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

function readVectors(answer: Json): number[][] {
  // Titan: {"embedding": [...]}; Cohere: {"embeddings": [[...]]} or, with embedding_types, {"embeddings": {"float": [[...]]}}.
  const candidates = answer.embedding !== undefined ? [answer.embedding] : answer.embeddings;
  const list = Array.isArray(candidates) ? candidates : (candidates as Json | undefined)?.float;
  if (!Array.isArray(list) || list.length === 0 || !list.every(isVector)) throw new UpstreamProtocolError('the answer holds no embedding vectors');
  return list;
}

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}

function inputTexts(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'string')) return input;
  throw new AppException('validation_failed', '`input` must be a string or a non-empty array of strings for Bedrock embedding models (token arrays are not accepted)', { param: 'input' });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
