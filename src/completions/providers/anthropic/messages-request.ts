import type { RequestBody } from '../../request-body';
import { addTurn, invalid, messageTexts, numberParam, objectParam, type Turn } from '../request-params';

type Json = Record<string, unknown>;
type Block = Json;

/** LiteLLM's default when the caller sets no `max_tokens`: Anthropic requires one. */
export const DEFAULT_MAX_TOKENS = 4096;
/** LiteLLM's thinking budgets for `reasoning_effort` on Claude. */
const THINKING_BUDGETS: Readonly<Record<string, number>> = { low: 1024, medium: 2048, high: 4096 };
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]*)$/i;
/**
 * Anthropic may refuse a `metadata.user_id` that carries personal data; an email address or an international phone
 * number is therefore not sent (as LiteLLM does): the id only serves Anthropic's abuse detection. Digits alone are
 * a database id far more often than a phone number, and are sent.
 */
const PERSONAL_ID = /@|^\+[\d\s().-]{7,}$/;

/**
 * An OpenAI chat body as an Anthropic Messages request, as LiteLLM builds it: system and developer messages become
 * the top-level `system`; user, assistant and tool messages alternate as `user` / `assistant` turns of content
 * blocks (text, images, `tool_use`, `tool_result`), consecutive turns of one role merged; `max_tokens` defaulted;
 * stop, user, tools, tool_choice, parallel_tool_calls, reasoning_effort mapped. What Anthropic cannot do is the
 * caller's 400 naming the field, before any call.
 */
export function messagesRequest(body: RequestBody, model: string, stream: boolean): Json {
  refuseUnsupported(body);
  const messages = body.messages;
  if (!Array.isArray(messages)) throw invalid('messages', 'must be an array');
  const system: Block[] = [];
  const turns: Turn[] = [];
  messages.forEach((raw, i) => {
    const path = `messages[${i}]`;
    const message = objectParam(raw, path);
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message, path));
        break;
      case 'user':
        addTurn(turns, 'user', userBlocks(message, path));
        break;
      case 'assistant':
        addTurn(turns, 'assistant', assistantBlocks(message, path));
        break;
      case 'tool':
        addTurn(turns, 'user', [toolResult(message, path)]);
        break;
      default:
        throw invalid(`${path}.role`, 'must be system, developer, user, assistant or tool');
    }
  });
  // Anthropic requires one message at least; a conversation of system messages only still gets its answer, as in LiteLLM.
  if (turns.length === 0) turns.push({ role: 'user', content: [{ type: 'text', text: '.' }] });

  const thinking = readThinking(body);
  const request: Json = { model, messages: turns, max_tokens: maxTokens(body, thinking) };
  if (system.length > 0) request.system = system;
  if (thinking !== undefined) request.thinking = thinking;
  setNumber(request, 'temperature', body, 'temperature');
  setNumber(request, 'top_p', body, 'top_p');
  setNumber(request, 'top_k', body, 'top_k');
  const stop = stopSequences(body.stop);
  if (stop.length > 0) request.stop_sequences = stop;
  const userId = body.user;
  if (typeof userId === 'string' && userId !== '' && !PERSONAL_ID.test(userId)) request.metadata = { user_id: userId };
  const tools = readTools(body.tools);
  if (tools.length > 0) {
    request.tools = tools;
    const choice = toolChoice(body.tool_choice, body.parallel_tool_calls);
    if (choice !== undefined) request.tool_choice = choice;
  }
  if (stream) request.stream = true;
  return request;
}

/** A system, developer or assistant message's text: a string or text parts. Empty text is left out (Anthropic refuses it). */
function textBlocks(message: Json, path: string): Block[] {
  const blocks: Block[] = [];
  for (const { text, part } of messageTexts(message, path)) {
    if (text !== '') blocks.push(part === null ? { type: 'text', text } : withCacheControl({ type: 'text', text }, part));
  }
  return messageCacheControl(blocks, message);
}

function userBlocks(message: Json, path: string): Block[] {
  const content = message.content;
  if (!Array.isArray(content)) return textBlocks(message, path);
  const blocks: Block[] = [];
  content.forEach((raw, j) => {
    const at = `${path}.content[${j}]`;
    const part = objectParam(raw, at);
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw invalid(`${at}.text`, 'must be a string');
      if (part.text !== '') blocks.push(withCacheControl({ type: 'text', text: part.text }, part));
    } else if (part.type === 'image_url') {
      blocks.push(withCacheControl(imageBlock(part.image_url, `${at}.image_url`), part));
    } else {
      throw invalid(`${at}.type`, `content parts of type ${JSON.stringify(part.type)} are not supported for Anthropic (text and image_url are)`);
    }
  });
  return messageCacheControl(blocks, message);
}

/**
 * A base64 data URL is sent inline; an http(s) URL is handed to Anthropic to fetch (the gateway never fetches a
 * caller's URL: that would make it a proxy into its own network).
 */
function imageBlock(value: unknown, path: string): Block {
  const url = typeof value === 'string' ? value : value !== null && typeof value === 'object' ? (value as Json).url : undefined;
  if (typeof url !== 'string') throw invalid(`${path}.url`, 'must be a string');
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  const match = DATA_URL.exec(url);
  if (match === null) throw invalid(`${path}.url`, 'must be a base64 data: URL or an http(s) URL');
  const mediaType = match[1].toLowerCase() === 'image/jpg' ? 'image/jpeg' : match[1].toLowerCase();
  if (!IMAGE_TYPES.has(mediaType)) throw invalid(`${path}.url`, 'must be a JPEG, PNG, GIF or WebP image');
  return { type: 'image', source: { type: 'base64', media_type: mediaType, data: match[2].replace(/\s+/g, '') } };
}

/** Thinking blocks the caller sends back (LiteLLM's `thinking_blocks`) come first: Anthropic wants them before the tool use they led to. */
function assistantBlocks(message: Json, path: string): Block[] {
  const blocks: Block[] = [];
  const thinking = message.thinking_blocks;
  if (Array.isArray(thinking)) {
    thinking.forEach((raw, j) => {
      const block = objectParam(raw, `${path}.thinking_blocks[${j}]`);
      if (block.type !== 'thinking' && block.type !== 'redacted_thinking') throw invalid(`${path}.thinking_blocks[${j}].type`, 'must be thinking or redacted_thinking');
      blocks.push(block);
    });
  }
  blocks.push(...textBlocks(message, path));
  const calls = message.tool_calls;
  if (calls === undefined || calls === null) return blocks;
  if (!Array.isArray(calls)) throw invalid(`${path}.tool_calls`, 'must be an array');
  calls.forEach((raw, j) => {
    const at = `${path}.tool_calls[${j}]`;
    const call = objectParam(raw, at);
    const fn = objectParam(call.function, `${at}.function`);
    if (typeof call.id !== 'string' || call.id === '') throw invalid(`${at}.id`, 'must be a non-empty string');
    if (typeof fn.name !== 'string' || fn.name === '') throw invalid(`${at}.function.name`, 'must be a non-empty string');
    blocks.push({ type: 'tool_use', id: call.id, name: fn.name, input: toolInput(fn.arguments, `${at}.function.arguments`) });
  });
  return blocks;
}

function toolInput(value: unknown, path: string): Json {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'string') throw invalid(path, 'must be a string holding a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalid(path, 'is not valid JSON (Anthropic takes tool input as a JSON object)');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(path, 'must be a JSON object');
  return parsed as Json;
}

function toolResult(message: Json, path: string): Block {
  const id = message.tool_call_id;
  if (typeof id !== 'string' || id === '') throw invalid(`${path}.tool_call_id`, 'must be a non-empty string');
  const content = message.content;
  const result: Block = { type: 'tool_result', tool_use_id: id };
  if (typeof content === 'string') {
    result.content = content;
  } else if (Array.isArray(content)) {
    result.content = content.map((raw, j) => {
      const part = objectParam(raw, `${path}.content[${j}]`);
      if (part.type === 'image_url') return imageBlock(part.image_url, `${path}.content[${j}].image_url`);
      if (part.type !== 'text' || typeof part.text !== 'string') throw invalid(`${path}.content[${j}]`, 'must be a text or image_url part');
      return { type: 'text', text: part.text };
    });
  } else if (content !== undefined && content !== null) {
    throw invalid(`${path}.content`, 'must be a string or an array of content parts');
  }
  return withCacheControl(result, message);
}

/** Prompt caching: `cache_control` on a content part goes on its block, as LiteLLM passes it. */
function withCacheControl(block: Block, holder: Json): Block {
  const cacheControl = holder.cache_control;
  return cacheControl !== undefined && cacheControl !== null ? { ...block, cache_control: cacheControl } : block;
}

/** `cache_control` on a whole message goes on its last block. */
function messageCacheControl(blocks: Block[], message: Json): Block[] {
  if (blocks.length > 0 && message.cache_control !== undefined && message.cache_control !== null) {
    blocks[blocks.length - 1] = withCacheControl(blocks[blocks.length - 1], message);
  }
  return blocks;
}

function readThinking(body: RequestBody): Json | undefined {
  const thinking = body.thinking;
  if (thinking !== undefined && thinking !== null) return objectParam(thinking, 'thinking');
  const effort = body.reasoning_effort;
  if (effort === undefined || effort === null || effort === 'none') return undefined;
  const budget = typeof effort === 'string' ? THINKING_BUDGETS[effort] : undefined;
  if (budget === undefined) throw invalid('reasoning_effort', 'must be none, low, medium or high');
  return { type: 'enabled', budget_tokens: budget };
}

/** The caller's limit, else LiteLLM's default; with thinking, the default leaves room beyond the thinking budget (Anthropic requires it). */
function maxTokens(body: RequestBody, thinking: Json | undefined): number {
  const given = numberParam(body, 'max_completion_tokens') ?? numberParam(body, 'max_tokens');
  if (given !== undefined) return given;
  const budget = typeof thinking?.budget_tokens === 'number' ? thinking.budget_tokens : 0;
  return budget >= DEFAULT_MAX_TOKENS ? budget + DEFAULT_MAX_TOKENS : DEFAULT_MAX_TOKENS;
}

/** Anthropic refuses a stop sequence of white space only; LiteLLM drops such sequences. */
function stopSequences(stop: unknown): string[] {
  if (stop === undefined || stop === null) return [];
  const list = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) throw invalid('stop', 'must be a string or an array of strings');
  return list.filter((item) => item.trim() !== '');
}

function readTools(tools: unknown): Block[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalid('tools', 'must be an array');
  return tools.map((raw, i) => {
    const tool = objectParam(raw, `tools[${i}]`);
    if (tool.type !== 'function') throw invalid(`tools[${i}].type`, 'must be "function"');
    const fn = objectParam(tool.function, `tools[${i}].function`);
    if (typeof fn.name !== 'string' || fn.name === '') throw invalid(`tools[${i}].function.name`, 'must be a non-empty string');
    const parameters = fn.parameters === undefined || fn.parameters === null ? { type: 'object', properties: {} } : objectParam(fn.parameters, `tools[${i}].function.parameters`);
    const out: Block = { name: fn.name, input_schema: parameters };
    if (typeof fn.description === 'string' && fn.description !== '') out.description = fn.description;
    return withCacheControl(out, tool);
  });
}

/** `parallel_tool_calls: false` rides on the choice, which then defaults to `auto`; `none` takes no such flag. */
function toolChoice(choice: unknown, parallel: unknown): Json | undefined {
  if (choice === 'none') return { type: 'none' };
  const chosen = choice === undefined || choice === null ? undefined : namedChoice(choice);
  return parallel === false ? { ...(chosen ?? { type: 'auto' }), disable_parallel_tool_use: true } : chosen;
}

function namedChoice(choice: unknown): Json {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  const name = choice !== null && typeof choice === 'object' ? ((choice as Json).function as Json | undefined)?.name : undefined;
  if (typeof name !== 'string' || name === '') throw invalid('tool_choice', 'must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}');
  return { type: 'tool', name };
}

/** OpenAI parameters with no Anthropic counterpart that would change the answer: refused rather than quietly dropped. */
function refuseUnsupported(body: RequestBody): void {
  const n = body.n;
  if (n !== undefined && n !== null && n !== 1) throw invalid('n', 'must be 1 for Anthropic (it answers with one choice)');
  if (body.logprobs === true) throw invalid('logprobs', 'is not supported by Anthropic');
  if (body.top_logprobs !== undefined && body.top_logprobs !== null) throw invalid('top_logprobs', 'is not supported by Anthropic');
  const format = body.response_format;
  if (format !== undefined && format !== null && (format as Json).type !== 'text') {
    throw invalid('response_format', 'only "text" is supported for Anthropic models in Gatehouse');
  }
  for (const name of ['presence_penalty', 'frequency_penalty']) {
    const value = body[name];
    if (value !== undefined && value !== null && value !== 0) throw invalid(name, 'is not supported by Anthropic');
  }
  const bias = body.logit_bias;
  if (bias !== undefined && bias !== null && (typeof bias !== 'object' || Object.keys(bias).length > 0)) throw invalid('logit_bias', 'is not supported by Anthropic');
  if (body.functions !== undefined && body.functions !== null) throw invalid('functions', 'is not supported for Anthropic: use `tools`');
  if (body.audio !== undefined && body.audio !== null) throw invalid('audio', 'is not supported by Anthropic');
}

function setNumber(request: Json, field: string, body: RequestBody, name: string): void {
  const value = numberParam(body, name);
  if (value !== undefined) request[field] = value;
}
