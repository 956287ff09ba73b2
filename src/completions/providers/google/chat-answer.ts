import type { OpenAiAnswer, ProviderCall } from '../provider';
import { UpstreamErrorEvent, UpstreamProtocolError } from '../provider';
import { newToolCallId } from './tool-call-ids';
import type { GenerateContentResponse, GooglePart, UsageMetadata } from './wire';

/** Finish reasons that mean Google withheld (part of) the answer. */
const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']);

/** Google's `finishReason` as OpenAI's; a turn that called functions ends with `tool_calls`, as OpenAI's does. */
export function finishReasonOf(reason: string | undefined, calledFunctions: boolean): string {
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason !== undefined && FILTERED.has(reason)) return 'content_filter';
  return calledFunctions ? 'tool_calls' : 'stop';
}

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

/**
 * `usageMetadata` as OpenAI's usage. Thinking is billed as output, so it counts as completion tokens, unless
 * `candidatesTokenCount` already includes it (some model versions report it so: then prompt + candidates is the
 * total) — the same reading as LiteLLM's.
 */
export function usageOf(metadata: UsageMetadata | undefined): OpenAiUsage | null {
  if (metadata === undefined || metadata === null || typeof metadata !== 'object') return null;
  const prompt = count(metadata.promptTokenCount);
  const candidates = count(metadata.candidatesTokenCount);
  const thoughts = count(metadata.thoughtsTokenCount);
  const reportedTotal = count(metadata.totalTokenCount);
  const completion = prompt + candidates === reportedTotal ? candidates : candidates + thoughts;
  const usage: OpenAiUsage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: reportedTotal || prompt + completion };
  const cached = count(metadata.cachedContentTokenCount);
  if (cached > 0) usage.prompt_tokens_details = { cached_tokens: cached };
  if (thoughts > 0) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

export interface ReadParts {
  content: string | null;
  reasoning: string | null;
  toolCalls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
}

/** A candidate's parts: answer text, thought summaries, and function calls as OpenAI tool calls with fresh ids. */
export function readParts(parts: readonly GooglePart[] | undefined): ReadParts {
  const read: ReadParts = { content: null, reasoning: null, toolCalls: [] };
  if (!Array.isArray(parts)) return read;
  for (const part of parts as readonly GooglePart[]) {
    if (part === null || typeof part !== 'object') continue;
    if (typeof part.text === 'string') {
      if (part.thought === true) read.reasoning = (read.reasoning ?? '') + part.text;
      else read.content = (read.content ?? '') + part.text;
    } else if (part.functionCall !== undefined && part.functionCall !== null && typeof part.functionCall.name === 'string') {
      read.toolCalls.push({
        id: newToolCallId(part.thoughtSignature),
        type: 'function',
        function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
      });
    }
  }
  return read;
}

/**
 * Parses one `GenerateContentResponse` (a whole answer, or one event of a stream). Anything else — not JSON, not an
 * object, an OpenAI answer — is an UpstreamProtocolError; Google's own error object is an UpstreamErrorEvent.
 */
export function parseResponse(text: string): GenerateContentResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UpstreamProtocolError('the answer is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UpstreamProtocolError('the answer is not a JSON object');
  }
  const response = parsed as Record<string, unknown>;
  const error = response.error as Record<string, unknown> | undefined;
  if (error !== undefined && error !== null && typeof error === 'object') {
    throw new UpstreamErrorEvent(typeof error.message === 'string' ? error.message : 'an error without a message');
  }
  const candidates = response.candidates;
  if (candidates !== undefined && !Array.isArray(candidates)) throw new UpstreamProtocolError('`candidates` is not an array');
  if (candidates === undefined && response.promptFeedback === undefined && response.usageMetadata === undefined) {
    throw new UpstreamProtocolError('it is not a GenerateContentResponse (no candidates, promptFeedback or usageMetadata)');
  }
  return response;
}

/** Id, creation time and model of the OpenAI answer, from Google's (`responseId`, `createTime`, `modelVersion`). */
export function answerIdentity(response: GenerateContentResponse, call: ProviderCall): { id: string; created: number; model: string } {
  const created = typeof response.createTime === 'string' ? Math.floor(Date.parse(response.createTime) / 1000) : NaN;
  return {
    id: `chatcmpl-${typeof response.responseId === 'string' && response.responseId !== '' ? response.responseId : call.callId}`,
    created: Number.isFinite(created) ? created : Math.floor(Date.now() / 1000),
    model: typeof response.modelVersion === 'string' && response.modelVersion !== '' ? response.modelVersion : call.upstreamModel,
  };
}

/**
 * A whole `generateContent` answer as OpenAI's `chat.completion`: one choice per candidate. A prompt Google blocked
 * (`promptFeedback.blockReason`, no candidates) is answered as LiteLLM answers it: a 200 whose one choice has no
 * content and `finish_reason: "content_filter"`.
 */
export function toChatCompletion(bytes: Buffer, call: ProviderCall): OpenAiAnswer {
  const response = parseResponse(bytes.toString('utf8'));
  const identity = answerIdentity(response, call);
  const candidates = response.candidates ?? [];
  const choices =
    candidates.length === 0
      ? [{ index: 0, message: { role: 'assistant', content: null }, logprobs: null, finish_reason: response.promptFeedback?.blockReason ? 'content_filter' : 'stop' }]
      : candidates.map((candidate, position) => {
          const read = readParts(candidate?.content?.parts);
          const message: Record<string, unknown> = { role: 'assistant', content: read.content };
          if (read.reasoning !== null) message.reasoning_content = read.reasoning;
          if (read.toolCalls.length > 0) message.tool_calls = read.toolCalls;
          return {
            index: typeof candidate?.index === 'number' ? candidate.index : position,
            message,
            logprobs: null,
            finish_reason: finishReasonOf(candidate?.finishReason, read.toolCalls.length > 0),
          };
        });
  const answer: OpenAiAnswer = { id: identity.id, object: 'chat.completion', created: identity.created, model: identity.model, choices };
  const usage = usageOf(response.usageMetadata);
  if (usage !== null) answer.usage = usage;
  return answer;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
