import type { OpenAiAnswer, ProviderCall } from '../provider';
import { UpstreamProtocolError } from '../provider';
import { finishReasonOfStop, parseJsonObject, usageWithPromptCache } from '../provider-support';

type Json = Record<string, unknown>;

/** Anthropic's usage (the whole message's, or a stream's running counts) as OpenAI's. */
export function openAiUsage(usage: Json): Json {
  return usageWithPromptCache({ input: usage.input_tokens, output: usage.output_tokens, cacheRead: usage.cache_read_input_tokens, cacheWrite: usage.cache_creation_input_tokens });
}

/**
 * A Messages answer as OpenAI's `chat.completion`: text blocks joined as the content, `tool_use` blocks as tool calls
 * (their input as JSON arguments), thinking as `reasoning_content` (and LiteLLM's `thinking_blocks`, which a caller
 * sends back with a tool result). Anthropic's message id and the model that answered are kept.
 */
export function chatCompletion(bytes: Buffer, call: ProviderCall): OpenAiAnswer {
  const message = parseJsonObject(bytes, 'the answer is not a JSON object');
  if (message.type !== 'message' || !Array.isArray(message.content)) throw new UpstreamProtocolError('it is not a Messages answer (no type "message" with content)');
  let text = '';
  let reasoning = '';
  const toolCalls: Json[] = [];
  const thinkingBlocks: Json[] = [];
  for (const raw of message.content as unknown[]) {
    if (raw === null || typeof raw !== 'object') throw new UpstreamProtocolError('a content block is not an object');
    const block = raw as Json;
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string') text += block.text;
        break;
      case 'tool_use':
        if (typeof block.id !== 'string' || typeof block.name !== 'string') throw new UpstreamProtocolError('a tool_use block has no id or name');
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
        break;
      case 'thinking':
        if (typeof block.thinking === 'string') reasoning += block.thinking;
        thinkingBlocks.push(block);
        break;
      case 'redacted_thinking':
        thinkingBlocks.push(block);
        break;
      default:
      // Server tools' blocks (web search results, ...) have no OpenAI counterpart.
    }
  }
  const openAiMessage: Json = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text };
  if (toolCalls.length > 0) openAiMessage.tool_calls = toolCalls;
  if (reasoning !== '') openAiMessage.reasoning_content = reasoning;
  if (thinkingBlocks.length > 0) openAiMessage.thinking_blocks = thinkingBlocks;
  const usage = message.usage;
  if (usage === null || typeof usage !== 'object') throw new UpstreamProtocolError('the usage is missing');
  return {
    id: messageId(message, call),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: answeringModel(message, call),
    choices: [{ index: 0, message: openAiMessage, logprobs: null, finish_reason: finishReasonOfStop(message.stop_reason) }],
    usage: openAiUsage(usage as Json),
  };
}

/** Anthropic's `msg_…` id, as LiteLLM keeps it; the gateway's call id when there is none. */
export function messageId(message: Json, call: ProviderCall): string {
  return typeof message.id === 'string' && message.id !== '' ? message.id : `chatcmpl-${call.callId}`;
}

export function answeringModel(message: Json, call: ProviderCall): string {
  return typeof message.model === 'string' && message.model !== '' ? message.model : call.upstreamModel;
}
