import { estimateTokens, type TokenUsage } from './usage';

/**
 * The offline provider (`mock/<anything>` or `mock_response`): deterministic answers with plausible usage,
 * so the gateway, its keys and its logging can be exercised without any upstream.
 */

export interface MockChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: null;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string; refusal: null };
    logprobs: null;
    finish_reason: 'stop';
  }>;
  usage: TokenUsage;
}

export function mockChatCompletion(params: {
  callId: string;
  model: string;
  content: string;
  messages: readonly unknown[];
}): MockChatCompletion {
  const promptTokens = estimateTokens(messageText(params.messages));
  const completionTokens = estimateTokens(params.content);
  return {
    id: `chatcmpl-${params.callId}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: params.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: params.content, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

export const STREAM_PIECES = 4;

/** The same answer as server-sent events: role chunk, a few content chunks, a finish chunk, optional usage, [DONE]. */
export function mockChatStream(completion: MockChatCompletion, includeUsage: boolean): string {
  const base = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model };
  const events: string[] = [];
  const chunk = (delta: Record<string, unknown>, finishReason: string | null): void => {
    events.push(
      sse({
        ...base,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      }),
    );
  };
  chunk({ role: 'assistant', content: '' }, null);
  for (const piece of splitIntoPieces(completion.choices[0].message.content, STREAM_PIECES)) {
    chunk({ content: piece }, null);
  }
  chunk({}, 'stop');
  if (includeUsage) {
    events.push(sse({ ...base, choices: [], usage: completion.usage }));
  }
  events.push('data: [DONE]\n\n');
  return events.join('');
}

export interface MockEmbeddingResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

const DEFAULT_EMBEDDING_DIMENSIONS = 1536;
const MAX_EMBEDDING_DIMENSIONS = 4096;

export function mockEmbeddings(params: { model: string; input: unknown; dimensions: unknown }): MockEmbeddingResponse {
  const inputs = embeddingInputs(params.input);
  const dims =
    typeof params.dimensions === 'number' &&
    Number.isInteger(params.dimensions) &&
    params.dimensions > 0 &&
    params.dimensions <= MAX_EMBEDDING_DIMENSIONS
      ? params.dimensions
      : DEFAULT_EMBEDDING_DIMENSIONS;
  let tokens = 0;
  const data = inputs.map((input, index) => {
    const text = typeof input === 'string' ? input : input.join(',');
    tokens += typeof input === 'string' ? estimateTokens(input) : input.length;
    return { object: 'embedding' as const, index, embedding: unitVector(text, dims) };
  });
  return { object: 'list', data, model: params.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

/** Splits at word boundaries into at most `pieces` parts that concatenate back to the text. */
export function splitIntoPieces(text: string, pieces: number): string[] {
  const words = text.split(/(?<=\s)/);
  const size = Math.max(1, Math.ceil(words.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < words.length; i += size) {
    out.push(words.slice(i, i + size).join(''));
  }
  return out.length > 0 ? out : [''];
}

/** Concatenated text of chat messages (string contents and text parts), for rough token counts. */
export function messageText(messages: readonly unknown[]): string {
  let text = '';
  for (const message of messages) {
    if (message === null || typeof message !== 'object') {
      continue;
    }
    const content = (message as { content?: unknown }).content;
    if (typeof content === 'string') {
      text += content;
    } else if (Array.isArray(content)) {
      for (const part of content) {
        const partText = part !== null && typeof part === 'object' ? (part as { text?: unknown }).text : undefined;
        if (typeof partText === 'string') {
          text += partText;
        }
      }
    }
  }
  return text;
}

function embeddingInputs(input: unknown): Array<string | number[]> {
  if (typeof input === 'string') {
    return [input];
  }
  if (!Array.isArray(input) || input.length === 0) {
    return [];
  }
  if (input.every((item) => typeof item === 'number')) {
    return [input];
  }
  return input.map((item) => (typeof item === 'string' ? item : Array.isArray(item) ? (item as number[]) : String(item)));
}

/** Deterministic for a given text: seeded from an FNV-1a hash, xorshift-generated, normalised to length 1. */
function unitVector(text: string, dims: number): number[] {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  if (seed === 0) {
    seed = 1;
  }
  const vector = new Array<number>(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    const value = seed / 0xffffffff - 0.5;
    vector[i] = value;
    norm += value * value;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dims; i++) {
    vector[i] = Math.round(vector[i] * scale * 1e6) / 1e6;
  }
  return vector;
}

function sse(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}
