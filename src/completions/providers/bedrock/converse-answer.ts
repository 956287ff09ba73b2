import type { OpenAiAnswer, ProviderCall } from '../provider';
import { UpstreamProtocolError } from '../provider';
import { finishReasonOfStop, parseJsonObject, usageWithPromptCache } from '../provider-support';

type Json = Record<string, unknown>;

/** Converse's token usage as OpenAI's (the prompt cache counted LiteLLM's way, see usageWithPromptCache). */
export function openAiUsage(value: unknown): Json {
  if (value === null || typeof value !== 'object') throw new UpstreamProtocolError('the usage is missing');
  const usage = value as Json;
  return usageWithPromptCache({ input: usage.inputTokens, output: usage.outputTokens, cacheRead: usage.cacheReadInputTokens, cacheWrite: usage.cacheWriteInputTokens });
}

/** A Converse answer (`output.message`, `stopReason`, `usage`) as OpenAI's `chat.completion`. */
export function chatCompletion(bytes: Buffer, call: ProviderCall): OpenAiAnswer {
  const answer = parseJsonObject(bytes, 'the answer is not a JSON object');
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
    choices: [{ index: 0, message: openAiMessage, finish_reason: finishReasonOfStop(answer.stopReason) }],
    usage: openAiUsage(answer.usage),
  };
}

/** Converse answers carry no id; the gateway's call id names the completion, as stable as OpenAI's. */
export function completionId(call: ProviderCall): string {
  return `chatcmpl-${call.callId}`;
}
