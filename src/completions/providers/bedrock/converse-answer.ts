import type { OpenAiAnswer, ProviderCall } from '../provider';
import { UpstreamProtocolError } from '../provider';

type Json = Record<string, unknown>;

/** Converse's `stopReason` as OpenAI's `finish_reason` (an unknown reason reads as a normal stop). */
export function finishReason(stopReason: unknown): string {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/**
 * Converse's token usage as OpenAI's, LiteLLM's way: tokens read from and written to the prompt cache count as
 * prompt tokens (they were sent), the read ones also as `prompt_tokens_details.cached_tokens`.
 */
export function openAiUsage(value: unknown): Json {
  if (value === null || typeof value !== 'object') throw new UpstreamProtocolError('the usage is missing');
  const usage = value as Json;
  const input = count(usage.inputTokens);
  const output = count(usage.outputTokens);
  const cacheRead = count(usage.cacheReadInputTokens);
  const cacheWrite = count(usage.cacheWriteInputTokens);
  const prompt = input + cacheRead + cacheWrite;
  const out: Json = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };
  if (cacheRead > 0 || cacheWrite > 0) {
    out.prompt_tokens_details = { cached_tokens: cacheRead };
    out.cache_read_input_tokens = cacheRead;
    out.cache_creation_input_tokens = cacheWrite;
  }
  return out;
}

/** A Converse answer (`output.message`, `stopReason`, `usage`) as OpenAI's `chat.completion`. */
export function chatCompletion(bytes: Buffer, call: ProviderCall): OpenAiAnswer {
  const answer = parseObject(bytes, 'the answer is not a JSON object');
  const output = answer.output;
  const message = output !== null && typeof output === 'object' ? (output as Json).message : undefined;
  const content = message !== null && typeof message === 'object' ? (message as Json).content : undefined;
  if (!Array.isArray(content) || typeof answer.stopReason !== 'string') {
    throw new UpstreamProtocolError('the answer has no output.message.content or stopReason');
  }
  let text = '';
  let reasoning = '';
  const toolCalls: Json[] = [];
  for (const raw of content) {
    if (raw === null || typeof raw !== 'object') throw new UpstreamProtocolError('a content block is not an object');
    const block = raw as Json;
    if (typeof block.text === 'string') text += block.text;
    const toolUse = block.toolUse as Json | undefined;
    if (toolUse !== undefined && toolUse !== null) {
      if (typeof toolUse.toolUseId !== 'string' || typeof toolUse.name !== 'string') throw new UpstreamProtocolError('a toolUse block has no toolUseId or name');
      toolCalls.push({ id: toolUse.toolUseId, type: 'function', function: { name: toolUse.name, arguments: JSON.stringify(toolUse.input ?? {}) } });
    }
    const reasoningText = ((block.reasoningContent as Json | undefined)?.reasoningText as Json | undefined)?.text;
    if (typeof reasoningText === 'string') reasoning += reasoningText;
  }
  const openAiMessage: Json = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text };
  if (toolCalls.length > 0) openAiMessage.tool_calls = toolCalls;
  if (reasoning !== '') openAiMessage.reasoning_content = reasoning;
  return {
    id: completionId(call),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: call.upstreamModel,
    choices: [{ index: 0, message: openAiMessage, finish_reason: finishReason(answer.stopReason) }],
    usage: openAiUsage(answer.usage),
  };
}

/** Converse answers carry no id; the gateway's call id names the completion, as stable as OpenAI's. */
export function completionId(call: ProviderCall): string {
  return `chatcmpl-${call.callId}`;
}

/** The bytes as a JSON object; `problem` (made only when needed) names what they should have been. */
export function parseObject(bytes: Buffer | Uint8Array, problem: string | (() => string)): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    parsed = null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UpstreamProtocolError(typeof problem === 'string' ? problem : problem());
  return parsed as Json;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
