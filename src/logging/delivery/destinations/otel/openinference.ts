import type { DeliveryItem } from '../../../log-destination';
import { responseMessage, safeModelParameters } from '../destination-support';
import { type AttributeInput, integer, jsonString } from './otel.destination';

/** Messages past this many are left out of the flattened `llm.input_messages.*` (the whole list stays in `input.value`). */
const MAX_FLATTENED_MESSAGES = 50;

/**
 * OpenInference semantic conventions (what Arize, Phoenix and Langfuse read to show an LLM call): the span kind,
 * the model, flattened input/output messages, token counts, invocation parameters and input/output values. Added
 * by the `arize`, `arize_phoenix` and `langfuse_otel` destinations to the GenAI attributes every OTLP span carries.
 */
export function openInferenceAttributes(item: DeliveryItem): Record<string, AttributeInput> {
  const p = item.payload;
  const failed = p.status === 'failure';
  const out: Record<string, AttributeInput> = {
    'openinference.span.kind': p.call_type === 'aembedding' ? 'EMBEDDING' : 'LLM',
    'llm.model_name': p.model || undefined,
    'llm.provider': p.custom_llm_provider || undefined,
    'llm.token_count.prompt': integer(p.prompt_tokens),
    'llm.token_count.completion': integer(p.completion_tokens),
    'llm.token_count.total': integer(p.total_tokens),
    'llm.invocation_parameters': jsonString(safeModelParameters(p.model_parameters)),
    'user.id': p.end_user ?? undefined,
    'tag.tags': p.request_tags?.length ? p.request_tags : undefined,
  };
  if (p.call_type === 'aembedding') out['embedding.model_name'] = p.model || undefined;

  const input = jsonString(p.messages);
  if (input !== undefined) {
    out['input.value'] = input;
    out['input.mime_type'] = 'application/json';
  }
  if (Array.isArray(p.messages)) {
    p.messages.slice(0, MAX_FLATTENED_MESSAGES).forEach((message, i) => flattenMessage(out, `llm.input_messages.${i}`, message));
  }
  const output = failed ? null : responseMessage(p.response);
  if (output !== null && output !== undefined) {
    flattenMessage(out, 'llm.output_messages.0', output);
    const content = typeof output === 'string' ? output : (output as { content?: unknown }).content;
    if (typeof content === 'string') {
      out['output.value'] = content;
      out['output.mime_type'] = 'text/plain';
    } else {
      out['output.value'] = jsonString(output);
      out['output.mime_type'] = 'application/json';
    }
  }
  return out;
}

function flattenMessage(out: Record<string, AttributeInput>, prefix: string, message: unknown): void {
  if (typeof message === 'string') {
    out[`${prefix}.message.role`] = 'assistant';
    out[`${prefix}.message.content`] = message;
    return;
  }
  if (!message || typeof message !== 'object') return;
  const { role, content, tool_calls: toolCalls } = message as { role?: unknown; content?: unknown; tool_calls?: unknown };
  if (typeof role === 'string') out[`${prefix}.message.role`] = role;
  if (typeof content === 'string') out[`${prefix}.message.content`] = content;
  else if (content !== undefined && content !== null) out[`${prefix}.message.content`] = jsonString(content);
  if (Array.isArray(toolCalls)) {
    toolCalls.forEach((call, j) => {
      const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
      if (typeof fn?.name === 'string') out[`${prefix}.message.tool_calls.${j}.tool_call.function.name`] = fn.name;
      if (typeof fn?.arguments === 'string') out[`${prefix}.message.tool_calls.${j}.tool_call.function.arguments`] = fn.arguments;
    });
  }
}
