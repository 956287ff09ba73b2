type Json = Record<string, unknown>;

/** OpenAI's `finish_reason` as Anthropic's `stop_reason`. */
export function stopReasonOf(finishReason: unknown): string {
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/**
 * OpenAI's usage as Anthropic's: OpenAI counts prompt-cache reads inside `prompt_tokens`, Anthropic apart from
 * `input_tokens`. LiteLLM's `cache_creation_input_tokens` (set when the answer came from Anthropic or Bedrock) is kept.
 */
export function anthropicUsage(usage: unknown): Json {
  const counts = usage !== null && typeof usage === 'object' ? (usage as Json) : {};
  const cached = count((counts.prompt_tokens_details as Json | undefined)?.cached_tokens);
  const written = count(counts.cache_creation_input_tokens);
  const out: Json = { input_tokens: Math.max(0, count(counts.prompt_tokens) - cached - written), output_tokens: count(counts.completion_tokens) };
  if (cached > 0 || written > 0) {
    out.cache_read_input_tokens = cached;
    out.cache_creation_input_tokens = written;
  }
  return out;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** A tool call's arguments as the `input` object Anthropic's clients read; arguments that are not a JSON object are kept as `{}`. */
export function toolInput(argumentsText: unknown): Json {
  if (typeof argumentsText !== 'string' || argumentsText.trim() === '') return {};
  try {
    const parsed = JSON.parse(argumentsText) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : {};
  } catch {
    return {};
  }
}

/**
 * An OpenAI `chat.completion` as an Anthropic Messages answer: reasoning as a thinking block, the text as a text
 * block, each tool call as a `tool_use` block with its arguments parsed into `input`.
 */
export function messagesAnswer(completion: Json): Json {
  const choice = (Array.isArray(completion.choices) ? (completion.choices[0] as Json | undefined) : undefined) ?? {};
  const message = (choice.message as Json | undefined) ?? {};
  const content: Json[] = [];
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    content.push({ type: 'thinking', thinking: message.reasoning_content, signature: '' });
  }
  if (typeof message.content === 'string' && message.content !== '') content.push({ type: 'text', text: message.content });
  if (Array.isArray(message.tool_calls)) {
    for (const raw of message.tool_calls as Json[]) {
      const fn = (raw.function as Json | undefined) ?? {};
      content.push({ type: 'tool_use', id: raw.id, name: fn.name, input: toolInput(fn.arguments) });
    }
  }
  return {
    id: messageIdOf(completion.id),
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content,
    stop_reason: stopReasonOf(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(completion.usage),
  };
}

/** Anthropic's clients show `msg_…` ids; an OpenAI id keeps its unique part. */
export function messageIdOf(id: unknown): string {
  if (typeof id !== 'string' || id === '') return 'msg_gatehouse';
  return id.startsWith('msg_') ? id : `msg_${id.replace(/^chatcmpl-/, '')}`;
}
