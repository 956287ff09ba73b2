import { AppException } from '../../../errors';
import type { RequestBody } from '../../request-body';
import { estimateTokens } from '../../usage';
import type { OpenAiAnswer, ProviderCall } from '../provider';
import { UpstreamProtocolError } from '../provider';

/**
 * OpenAI embeddings on Google's two embedding APIs: the Gemini API's `batchEmbedContents` (one request per input)
 * and Vertex AI's `predict` (one instance per input). `dimensions` becomes `outputDimensionality`. Vertex reports
 * the tokens of each input; the Gemini API reports none, so its usage is an estimate (about four characters a
 * token), as LiteLLM's is.
 */
export function geminiEmbeddingRequest(body: RequestBody, model: string): Record<string, unknown> {
  const dimensions = body.dimensions;
  return {
    requests: embeddingInputs(body).map((text) => ({
      model: `models/${model}`,
      content: { parts: [{ text }] },
      ...(typeof dimensions === 'number' ? { outputDimensionality: dimensions } : {}),
    })),
  };
}

export function vertexEmbeddingRequest(body: RequestBody): Record<string, unknown> {
  const dimensions = body.dimensions;
  return {
    instances: embeddingInputs(body).map((content) => ({ content })),
    ...(typeof dimensions === 'number' ? { parameters: { outputDimensionality: dimensions } } : {}),
  };
}

export function geminiEmbeddingsAnswer(bytes: Buffer, call: ProviderCall): OpenAiAnswer {
  const answer = parseObject(bytes);
  const embeddings = answer.embeddings;
  if (!Array.isArray(embeddings)) throw new UpstreamProtocolError('`embeddings` is missing');
  const vectors = embeddings.map((item) => vectorOf((item as Record<string, unknown> | null)?.values));
  const prompt = embeddingInputs(call.body).reduce((sum, text) => sum + estimateTokens(text), 0);
  return embeddingList(vectors, call, prompt);
}

export function vertexEmbeddingsAnswer(bytes: Buffer, call: ProviderCall): OpenAiAnswer {
  const answer = parseObject(bytes);
  const predictions = answer.predictions;
  if (!Array.isArray(predictions)) throw new UpstreamProtocolError('`predictions` is missing');
  let tokens = 0;
  const vectors = predictions.map((prediction) => {
    const embeddings = (prediction as Record<string, unknown> | null)?.embeddings as Record<string, unknown> | undefined;
    const statistics = embeddings?.statistics as Record<string, unknown> | undefined;
    if (typeof statistics?.token_count === 'number') tokens += statistics.token_count;
    return vectorOf(embeddings?.values);
  });
  return embeddingList(vectors, call, tokens);
}

function embeddingList(vectors: number[][], call: ProviderCall, promptTokens: number): OpenAiAnswer {
  const base64 = call.body.encoding_format === 'base64';
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: base64 ? toBase64(vector) : vector })),
    model: call.upstreamModel,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** OpenAI's base64 encoding: the vector's little-endian float32 bytes (what the `openai` client asks for by default). */
function toBase64(vector: number[]): string {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

/** Google embeds text: token-id arrays (which OpenAI also accepts) have no meaning to it. */
function embeddingInputs(body: RequestBody): string[] {
  const input = body.input;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'string')) return input;
  throw new AppException('validation_failed', '`input` must be a string or a non-empty array of strings for Google embedding models (token arrays are not supported)', {
    param: 'input',
  });
}

function parseObject(bytes: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UpstreamProtocolError('the answer is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UpstreamProtocolError('the answer is not a JSON object');
  return parsed as Record<string, unknown>;
}

function vectorOf(values: unknown): number[] {
  if (!Array.isArray(values) || !values.every((value) => typeof value === 'number')) {
    throw new UpstreamProtocolError('an embedding has no numeric `values`');
  }
  return values;
}
