import type { RequestBody } from '../request-body';

type Json = Record<string, unknown>;

/** `resp_…` ids, as the Responses clients show them; a chat id keeps its unique part. */
export function responseIdOf(id: unknown): string {
  if (typeof id !== 'string' || id === '') return 'resp_gatehouse';
  return id.startsWith('resp_') ? id : `resp_${id.replace(/^chatcmpl-/, '')}`;
}

/** The suffix that item ids of one response share (`msg_…`, `fc_…`), so they stay unique per answer. */
export function itemSuffix(responseId: string): string {
  return responseId.replace(/^resp_/, '');
}

/**
 * OpenAI's chat usage as the Responses API's: the same counts under other names; cache reads and reasoning are
 * parts of the input and output counts in both.
 */
export function responsesUsage(usage: unknown): Json | null {
  if (usage === null || typeof usage !== 'object') return null;
  const u = usage as Json;
  const input = count(u.prompt_tokens);
  const output = count(u.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count((u.prompt_tokens_details as Json | undefined)?.cached_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count((u.completion_tokens_details as Json | undefined)?.reasoning_tokens) },
    total_tokens: count(u.total_tokens) || input + output,
  };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** A finish reason as the response's status, and why it is incomplete. */
export function statusOf(finishReason: unknown): { status: 'completed' | 'incomplete'; incomplete_details: Json | null } {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/**
 * The response object's fields that echo the request (what the caller asked for), as OpenAI returns them; the
 * answer's own fields (id, status, output, usage) are the writer's.
 */
export function responseShell(request: RequestBody, id: string, createdAt: number, model: unknown): Json {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: typeof request.instructions === 'string' ? request.instructions : null,
    max_output_tokens: typeof request.max_output_tokens === 'number' ? request.max_output_tokens : null,
    model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls !== false,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    // The gateway keeps no translated response: it cannot be retrieved later.
    store: false,
    temperature: typeof request.temperature === 'number' ? request.temperature : null,
    text: request.text !== null && typeof request.text === 'object' ? request.text : { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: Array.isArray(request.tools) ? request.tools : [],
    top_p: typeof request.top_p === 'number' ? request.top_p : null,
    truncation: 'disabled',
    usage: null,
    user: typeof request.user === 'string' ? request.user : null,
    metadata: request.metadata !== null && typeof request.metadata === 'object' && !Array.isArray(request.metadata) ? request.metadata : {},
  };
}

export function messageItem(id: string, text: string, status: 'in_progress' | 'completed'): Json {
  return { id, type: 'message', status, role: 'assistant', content: status === 'completed' ? [outputText(text)] : [] };
}

export function outputText(text: string): Json {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** A reasoning item: what the model reasoned, as its summary (chat's `reasoning_content`); null while it streams. */
export function reasoningItem(id: string, text: string | null): Json {
  return { id, type: 'reasoning', summary: text === null ? [] : [summaryText(text)] };
}

export function summaryText(text: string): Json {
  return { type: 'summary_text', text };
}

export function functionCallItem(callId: string, name: string, args: string, status: 'in_progress' | 'completed'): Json {
  return { id: `fc_${callId}`, type: 'function_call', status, arguments: args, call_id: callId, name };
}

/**
 * An OpenAI `chat.completion` as a Responses answer, for a deployment that speaks chat only: the text as one
 * `message` item, each tool call as a `function_call` item (its id as `call_id`, what `function_call_output`
 * answers), reasoning as a `reasoning` item's summary.
 */
export function responsesAnswer(completion: Json, request: RequestBody): Json {
  const choice = (Array.isArray(completion.choices) ? (completion.choices[0] as Json | undefined) : undefined) ?? {};
  const message = (choice.message as Json | undefined) ?? {};
  const id = responseIdOf(completion.id);
  const suffix = itemSuffix(id);
  const output: Json[] = [];
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    output.push(reasoningItem(`rs_${suffix}`, message.reasoning_content));
  }
  const text = typeof message.content === 'string' ? message.content : '';
  const refusal = typeof message.refusal === 'string' && message.refusal !== '' ? message.refusal : null;
  if (refusal !== null) {
    output.push({ id: `msg_${suffix}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal }] });
  } else if (text !== '' || !Array.isArray(message.tool_calls) || message.tool_calls.length === 0) {
    output.push(messageItem(`msg_${suffix}`, text, 'completed'));
  }
  if (Array.isArray(message.tool_calls)) {
    for (const raw of message.tool_calls as Json[]) {
      const fn = (raw.function as Json | undefined) ?? {};
      output.push(functionCallItem(typeof raw.id === 'string' ? raw.id : `call_${output.length}`, typeof fn.name === 'string' ? fn.name : '', typeof fn.arguments === 'string' ? fn.arguments : '', 'completed'));
    }
  }
  const created = typeof completion.created === 'number' ? completion.created : Math.floor(Date.now() / 1000);
  return { ...responseShell(request, id, created, completion.model), ...statusOf(choice.finish_reason), output, usage: responsesUsage(completion.usage) };
}
