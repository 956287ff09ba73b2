import type { RequestBody } from '../request-body';
import { invalid, objectParam } from '../providers/request-params';

type Json = Record<string, unknown>;

/** Thinking budgets at or above these read as the next `reasoning_effort` (LiteLLM's low/medium/high budgets, rounded up). */
const EFFORT_BY_BUDGET: ReadonlyArray<readonly [number, string]> = [
  [4096, 'high'],
  [2048, 'medium'],
];

/**
 * An Anthropic Messages request as an OpenAI chat body, for a deployment that does not speak Messages: `system` as a
 * system message; each turn's content blocks as OpenAI parts (text, base64 or URL images, PDFs as files), `tool_use`
 * as the assistant's tool calls and `tool_result` as `tool` messages placed right after them; tools, tool_choice,
 * stop_sequences, max_tokens, temperature, top_p, `metadata.user_id` and `thinking` (as `reasoning_effort`) mapped.
 * Thinking blocks, cache markers, top_k and Anthropic-only fields have no OpenAI counterpart and are left out; what
 * cannot be read is the caller's 400 naming the field. The model name is kept: the gateway routes by it.
 */
export function chatRequest(body: RequestBody): RequestBody {
  const model = body.model;
  if (typeof model !== 'string' || model === '') throw invalid('model', 'is required and must be a non-empty string');
  const maxTokens = body.max_tokens;
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) throw invalid('max_tokens', 'is required and must be a positive integer');
  const input = body.messages;
  if (!Array.isArray(input)) throw invalid('messages', 'is required and must be an array');

  const messages: Json[] = [];
  const system = systemText(body.system);
  if (system !== null) messages.push({ role: 'system', content: system });
  input.forEach((raw, i) => {
    const path = `messages[${i}]`;
    const message = objectParam(raw, path);
    if (message.role === 'user') messages.push(...userMessages(message.content, path));
    else if (message.role === 'assistant') messages.push(assistantMessage(message.content, path));
    else throw invalid(`${path}.role`, 'must be user or assistant');
  });

  const chat: RequestBody = { model, messages, max_tokens: maxTokens };
  copyNumber(body, 'temperature', chat);
  copyNumber(body, 'top_p', chat);
  if (body.stop_sequences !== undefined && body.stop_sequences !== null) chat.stop = stopSequences(body.stop_sequences);
  const userId = (body.metadata as Json | undefined)?.user_id;
  if (typeof userId === 'string' && userId !== '') chat.user = userId;
  const tools = readTools(body.tools);
  if (tools.length > 0) {
    chat.tools = tools;
    Object.assign(chat, toolChoice(body.tool_choice));
  }
  const effort = reasoningEffort(body.thinking);
  if (effort !== null) chat.reasoning_effort = effort;
  if (body.stream === true) {
    chat.stream = true;
    // The stop reason's usage (`message_delta`) needs the counts OpenAI sends only when asked.
    chat.stream_options = { include_usage: true };
  } else if (body.stream !== undefined && body.stream !== null && body.stream !== false) {
    throw invalid('stream', 'must be a boolean');
  }
  return chat;
}

function systemText(system: unknown): string | null {
  if (system === undefined || system === null) return null;
  if (typeof system === 'string') return system === '' ? null : system;
  if (!Array.isArray(system)) throw invalid('system', 'must be a string or an array of text blocks');
  const texts = system.map((raw, i) => {
    const block = objectParam(raw, `system[${i}]`);
    if (block.type !== 'text' || typeof block.text !== 'string') throw invalid(`system[${i}]`, 'must be a text block');
    return block.text;
  });
  return texts.length === 0 ? null : texts.join('\n');
}

function blocksOf(content: unknown, path: string): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be a string or an array of content blocks');
  return content.map((raw, j) => objectParam(raw, `${path}.content[${j}]`));
}

/** Tool results come first, as `tool` messages (OpenAI wants them right after the tool calls); the rest is one user message. */
function userMessages(content: unknown, path: string): Json[] {
  const results: Json[] = [];
  const parts: Json[] = [];
  blocksOf(content, path).forEach((block, j) => {
    const at = `${path}.content[${j}]`;
    switch (block.type) {
      case 'text':
        parts.push(textPart(block, at));
        break;
      case 'image':
        parts.push({ type: 'image_url', image_url: { url: sourceUrl(block.source, `${at}.source`) } });
        break;
      case 'document':
        parts.push(documentPart(block.source, `${at}.source`));
        break;
      case 'tool_result':
        results.push(toolResult(block, at));
        break;
      default:
        throw unsupportedBlock(block, at);
    }
  });
  if (parts.length > 0) results.push({ role: 'user', content: parts.length === 1 && parts[0].type === 'text' ? parts[0].text : parts });
  return results;
}

function assistantMessage(content: unknown, path: string): Json {
  let text = '';
  const toolCalls: Json[] = [];
  blocksOf(content, path).forEach((block, j) => {
    const at = `${path}.content[${j}]`;
    switch (block.type) {
      case 'text':
        text += textPart(block, at).text as string;
        break;
      case 'tool_use':
        if (typeof block.id !== 'string' || block.id === '') throw invalid(`${at}.id`, 'must be a non-empty string');
        if (typeof block.name !== 'string' || block.name === '') throw invalid(`${at}.name`, 'must be a non-empty string');
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
        break;
      case 'thinking':
      case 'redacted_thinking':
        // Another model's signed reasoning means nothing to this one.
        break;
      default:
        throw unsupportedBlock(block, at);
    }
  });
  const message: Json = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

function textPart(block: Json, path: string): Json {
  if (typeof block.text !== 'string') throw invalid(`${path}.text`, 'must be a string');
  return { type: 'text', text: block.text };
}

function toolResult(block: Json, path: string): Json {
  if (typeof block.tool_use_id !== 'string' || block.tool_use_id === '') throw invalid(`${path}.tool_use_id`, 'must be a non-empty string');
  const content = block.content;
  let text: string;
  if (content === undefined || content === null) text = '';
  else if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    // OpenAI's tool messages carry text only: an image in a tool result cannot follow it.
    text = content
      .map((raw, k) => {
        const part = objectParam(raw, `${path}.content[${k}]`);
        if (part.type !== 'text') throw invalid(`${path}.content[${k}].type`, 'must be text: only text tool results can be sent to this model');
        return textPart(part, `${path}.content[${k}]`).text as string;
      })
      .join('\n');
  } else throw invalid(`${path}.content`, 'must be a string or an array of text blocks');
  return { role: 'tool', tool_call_id: block.tool_use_id, content: block.is_error === true && text === '' ? 'Error' : text };
}

function sourceUrl(value: unknown, path: string): string {
  const source = objectParam(value, path);
  if (source.type === 'base64') {
    if (typeof source.media_type !== 'string' || typeof source.data !== 'string') throw invalid(path, 'needs a media_type and base64 data');
    return `data:${source.media_type};base64,${source.data}`;
  }
  if (source.type === 'url' && typeof source.url === 'string') return source.url;
  throw invalid(`${path}.type`, 'must be base64 or url');
}

function documentPart(value: unknown, path: string): Json {
  const source = objectParam(value, path);
  if (source.type === 'text' && typeof source.data === 'string') return { type: 'text', text: source.data };
  if (source.type === 'base64' && source.media_type === 'application/pdf') return { type: 'file', file: { file_data: sourceUrl(source, path) } };
  throw invalid(`${path}.type`, 'must be a base64 PDF or text here');
}

function unsupportedBlock(block: Json, path: string): Error {
  const type = typeof block.type === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(block.type) ? JSON.stringify(block.type) : 'this';
  return invalid(`${path}.type`, `content blocks of type ${type} cannot be sent to this model`);
}

function copyNumber(from: RequestBody, name: string, to: RequestBody): void {
  const value = from[name];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(name, 'must be a number');
  to[name] = value;
}

function stopSequences(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw invalid('stop_sequences', 'must be an array of strings');
  return value;
}

/** Client tools only: Anthropic's server tools (web search, code execution, ...) run at Anthropic and nowhere else. */
function readTools(value: unknown): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid('tools', 'must be an array');
  return value.map((raw, i) => {
    const tool = objectParam(raw, `tools[${i}]`);
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') throw invalid(`tools[${i}].type`, "is one of Anthropic's server tools, which only an Anthropic model can run");
    if (typeof tool.name !== 'string' || tool.name === '') throw invalid(`tools[${i}].name`, 'must be a non-empty string');
    const fn: Json = { name: tool.name, parameters: objectParam(tool.input_schema, `tools[${i}].input_schema`) };
    if (typeof tool.description === 'string') fn.description = tool.description;
    return { type: 'function', function: fn };
  });
}

function toolChoice(value: unknown): Json {
  if (value === undefined || value === null) return {};
  const choice = objectParam(value, 'tool_choice');
  const out: Json = {};
  switch (choice.type) {
    case 'auto':
      out.tool_choice = 'auto';
      break;
    case 'any':
      out.tool_choice = 'required';
      break;
    case 'none':
      out.tool_choice = 'none';
      break;
    case 'tool':
      if (typeof choice.name !== 'string' || choice.name === '') throw invalid('tool_choice.name', 'must be a non-empty string');
      out.tool_choice = { type: 'function', function: { name: choice.name } };
      break;
    default:
      throw invalid('tool_choice.type', 'must be auto, any, tool or none');
  }
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  return out;
}

function reasoningEffort(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const thinking = objectParam(value, 'thinking');
  if (thinking.type !== 'enabled') return null;
  const budget = typeof thinking.budget_tokens === 'number' ? thinking.budget_tokens : 0;
  for (const [atLeast, effort] of EFFORT_BY_BUDGET) if (budget >= atLeast) return effort;
  return 'low';
}
