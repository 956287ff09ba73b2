import type { RequestBody } from '../../request-body';
import { addTurn, invalid, messageTexts, numberParam, objectParam, type Turn } from '../request-params';
import type { BedrockModel } from './model-id';

type Json = Record<string, unknown>;
type Block = Json;

/** Converse settings a deployment may fix in `litellm_params` (LiteLLM passes them through); the caller's win. */
export interface ConverseDefaults {
  readonly guardrailConfig?: unknown;
  readonly performanceConfig?: unknown;
  /** Not an OpenAI parameter, so not among the table's request defaults; LiteLLM users set it per deployment. */
  readonly topK?: number;
}

/** LiteLLM's budgets for `reasoning_effort` on Claude. */
const THINKING_BUDGETS: Readonly<Record<string, number>> = { low: 1024, medium: 2048, high: 4096 };
const IMAGE_FORMATS: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };
const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]*)$/i;

/**
 * The Converse request for an OpenAI chat body, as LiteLLM builds it: system and developer messages become
 * `system` blocks; user, assistant and tool messages become alternating `messages` with content blocks (text,
 * images from data URLs, `toolUse`, `toolResult`), consecutive turns of one role merged; `inferenceConfig` from
 * max_tokens / temperature / top_p / stop; `toolConfig` from tools and tool_choice; `top_k` and reasoning in
 * `additionalModelRequestFields` for the families that take them. What Converse cannot express is refused with
 * a 400 naming the field, before any call.
 */
export function converseRequest(body: RequestBody, model: BedrockModel, defaults: ConverseDefaults): Json {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  const system: Block[] = [];
  const turns: Turn[] = [];
  messages.forEach((raw, i) => {
    const message = objectParam(raw, `messages[${i}]`);
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message, `messages[${i}]`));
        break;
      case 'user':
        addTurn(turns, 'user', userBlocks(message, `messages[${i}]`));
        break;
      case 'assistant':
        addTurn(turns, 'assistant', assistantBlocks(message, `messages[${i}]`));
        break;
      case 'tool':
        addTurn(turns, 'user', [toolResult(message, `messages[${i}]`)]);
        break;
      default:
        throw invalid(`messages[${i}].role`, 'must be system, developer, user, assistant or tool');
    }
  });

  const request: Json = { messages: turns };
  if (system.length > 0) request.system = system;
  const inference = inferenceConfig(body);
  if (Object.keys(inference).length > 0) request.inferenceConfig = inference;
  const toolConfig = readToolConfig(body, turns);
  if (toolConfig !== null) request.toolConfig = toolConfig;
  const additional = additionalFields(body, model, defaults.topK);
  if (Object.keys(additional).length > 0) request.additionalModelRequestFields = additional;
  for (const name of ['guardrailConfig', 'performanceConfig'] as const) {
    const value = body[name] ?? defaults[name];
    if (value !== undefined && value !== null) request[name] = value;
  }
  refuseUnsupported(body);
  return request;
}

/** Text of a system, developer or assistant message: a string or text parts. Blank text is left out (Converse refuses it). */
function textBlocks(message: Json, path: string): Block[] {
  const blocks: Block[] = [];
  for (const { text, part } of messageTexts(message, path)) {
    if (text !== '') blocks.push({ text });
    if (part !== null) cachePoint(blocks, part);
  }
  cachePoint(blocks, message);
  return blocks;
}

function userBlocks(message: Json, path: string): Block[] {
  const content = message.content;
  if (!Array.isArray(content)) return textBlocks(message, path);
  const blocks: Block[] = [];
  content.forEach((raw, j) => {
    const part = objectParam(raw, `${path}.content[${j}]`);
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw invalid(`${path}.content[${j}].text`, 'must be a string');
      if (part.text !== '') blocks.push({ text: part.text });
    } else if (part.type === 'image_url') {
      blocks.push(imageBlock(part.image_url, `${path}.content[${j}].image_url`));
    } else {
      throw invalid(`${path}.content[${j}].type`, `content parts of type ${JSON.stringify(part.type)} are not supported for Bedrock (text and image_url are)`);
    }
    cachePoint(blocks, part);
  });
  cachePoint(blocks, message);
  return blocks;
}

/** Bedrock takes image bytes inline; it cannot be given a URL to fetch, and the gateway fetches nothing on a caller's behalf. */
function imageBlock(value: unknown, path: string): Block {
  const url = typeof value === 'string' ? value : value !== null && typeof value === 'object' ? (value as Json).url : undefined;
  if (typeof url !== 'string') throw invalid(`${path}.url`, 'must be a string');
  const match = DATA_URL.exec(url);
  if (match === null) throw invalid(`${path}.url`, 'must be a base64 data: URL for Bedrock (it takes images inline, not by address)');
  const format = IMAGE_FORMATS[match[1].toLowerCase()];
  if (format === undefined) throw invalid(`${path}.url`, 'must be a PNG, JPEG, GIF or WebP image');
  return { image: { format, source: { bytes: match[2].replace(/\s+/g, '') } } };
}

function assistantBlocks(message: Json, path: string): Block[] {
  const blocks = textBlocks(message, path);
  const calls = message.tool_calls;
  if (calls === undefined || calls === null) return blocks;
  if (!Array.isArray(calls)) throw invalid(`${path}.tool_calls`, 'must be an array');
  calls.forEach((raw, j) => {
    const call = objectParam(raw, `${path}.tool_calls[${j}]`);
    const fn = objectParam(call.function, `${path}.tool_calls[${j}].function`);
    if (typeof call.id !== 'string' || call.id === '') throw invalid(`${path}.tool_calls[${j}].id`, 'must be a non-empty string');
    if (typeof fn.name !== 'string' || fn.name === '') throw invalid(`${path}.tool_calls[${j}].function.name`, 'must be a non-empty string');
    blocks.push({ toolUse: { toolUseId: call.id, name: fn.name, input: toolInput(fn.arguments, `${path}.tool_calls[${j}].function.arguments`) } });
  });
  return blocks;
}

function toolInput(value: unknown, path: string): unknown {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'string') throw invalid(path, 'must be a JSON string');
  try {
    return JSON.parse(value);
  } catch {
    throw invalid(path, 'is not valid JSON (Bedrock takes tool input as a JSON document)');
  }
}

function toolResult(message: Json, path: string): Block {
  if (typeof message.tool_call_id !== 'string' || message.tool_call_id === '') throw invalid(`${path}.tool_call_id`, 'must be a non-empty string');
  const content = message.content;
  let text: string;
  if (typeof content === 'string') {
    text = content;
  } else if (Array.isArray(content)) {
    text = content
      .map((raw, j) => {
        const part = objectParam(raw, `${path}.content[${j}]`);
        if (part.type !== 'text' || typeof part.text !== 'string') throw invalid(`${path}.content[${j}]`, 'must be a text part');
        return part.text;
      })
      .join('');
  } else {
    throw invalid(`${path}.content`, 'must be a string or an array of text parts');
  }
  return { toolResult: { toolUseId: message.tool_call_id, content: [{ text }] } };
}

/** LiteLLM turns `cache_control` on a message or part into a Converse cache point after it. */
function cachePoint(blocks: Block[], holder: Json): void {
  if (holder.cache_control !== undefined && holder.cache_control !== null && blocks.length > 0) blocks.push({ cachePoint: { type: 'default' } });
}

function inferenceConfig(body: RequestBody): Json {
  const config: Json = {};
  const maxTokens = numberParam(body, 'max_completion_tokens') ?? numberParam(body, 'max_tokens');
  if (maxTokens !== undefined) config.maxTokens = maxTokens;
  const temperature = numberParam(body, 'temperature');
  if (temperature !== undefined) config.temperature = temperature;
  const topP = numberParam(body, 'top_p');
  if (topP !== undefined) config.topP = topP;
  const stop = body.stop;
  if (typeof stop === 'string') {
    // Converse refuses an empty stop sequence; LiteLLM drops it.
    if (stop !== '') config.stopSequences = [stop];
  } else if (Array.isArray(stop)) {
    if (!stop.every((item) => typeof item === 'string')) throw invalid('stop', 'must be a string or an array of strings');
    const sequences = stop.filter((item) => item !== '');
    if (sequences.length > 0) config.stopSequences = sequences;
  } else if (stop !== undefined && stop !== null) {
    throw invalid('stop', 'must be a string or an array of strings');
  }
  return config;
}

function readToolConfig(body: RequestBody, turns: readonly Turn[]): Json | null {
  const tools = body.tools;
  if (tools === undefined || tools === null) return null;
  if (!Array.isArray(tools)) throw invalid('tools', 'must be an array');
  if (tools.length === 0) return null;
  const choice = body.tool_choice;
  if (choice === 'none') {
    // Converse has no "none": leaving the tools out says the same, unless the conversation already used them.
    if (!turns.some((turn) => turn.content.some((block) => 'toolUse' in block || 'toolResult' in block))) return null;
    throw invalid('tool_choice', '"none" cannot be expressed for Bedrock in a conversation that used tools');
  }
  const specs = tools.map((raw, i) => {
    const tool = objectParam(raw, `tools[${i}]`);
    if (tool.type !== 'function') throw invalid(`tools[${i}].type`, 'must be function for Bedrock');
    const fn = objectParam(tool.function, `tools[${i}].function`);
    if (typeof fn.name !== 'string' || fn.name === '') throw invalid(`tools[${i}].function.name`, 'must be a non-empty string');
    const spec: Json = { name: fn.name, inputSchema: { json: fn.parameters ?? { type: 'object', properties: {} } } };
    if (typeof fn.description === 'string' && fn.description !== '') spec.description = fn.description;
    return { toolSpec: spec };
  });
  const config: Json = { tools: specs };
  if (choice === 'auto') config.toolChoice = { auto: {} };
  else if (choice === 'required') config.toolChoice = { any: {} };
  else if (choice !== undefined && choice !== null) {
    const named = objectParam(choice, 'tool_choice');
    const name = named.function !== null && typeof named.function === 'object' ? (named.function as Json).name : undefined;
    if (typeof name !== 'string' || name === '') throw invalid('tool_choice', 'must be auto, required, none or {"type": "function", "function": {"name": …}}');
    config.toolChoice = { tool: { name } };
  }
  return config;
}

/** What Converse has no field for, placed where the model family reads it (LiteLLM's choices). */
function additionalFields(body: RequestBody, model: BedrockModel, defaultTopK: number | undefined): Json {
  const fields: Json = {};
  const claude = model.family.startsWith('anthropic.');
  const topK = numberParam(body, 'top_k') ?? defaultTopK;
  if (topK !== undefined) {
    if (claude) fields.top_k = topK;
    else if (model.family.startsWith('amazon.nova')) fields.inferenceConfig = { topK };
  }
  if (claude) {
    const effort = body.reasoning_effort;
    if (body.thinking !== undefined && body.thinking !== null) fields.thinking = body.thinking;
    else if (typeof effort === 'string' && THINKING_BUDGETS[effort] !== undefined) fields.thinking = { type: 'enabled', budget_tokens: THINKING_BUDGETS[effort] };
  }
  return fields;
}

/** OpenAI parameters Converse cannot honour and that change the answer's shape: refused rather than quietly ignored. */
function refuseUnsupported(body: RequestBody): void {
  const n = body.n;
  if (n !== undefined && n !== null && n !== 1) throw invalid('n', 'must be 1 for Bedrock (it answers with one choice)');
  const format = body.response_format;
  if (format !== undefined && format !== null) {
    const type = typeof format === 'object' ? (format as Json).type : undefined;
    if (type !== 'text') throw invalid('response_format', 'only "text" is supported for Bedrock models in Gatehouse');
  }
}
