import type { AppException } from '../../errors';
import { invalid, objectParam } from '../providers/request-params';
import type { RequestBody } from '../request-body';
import { ROUTER_BODY_FIELDS } from '../router/request-routing';

type Json = Record<string, unknown>;

/**
 * A Responses body read as chat. `problem` is set when part of it only a deployment that speaks the Responses API
 * itself can serve (built-in tools, stored state, file ids, ...): such a body still goes to an OpenAI or Azure
 * deployment as it came, and is the caller's 400 anywhere else. The chat body then leaves that part out; it is
 * still the call's record (and never a cache key: see `ResponsesResponse.read`).
 */
export interface ResponsesReading {
  readonly chatBody: RequestBody;
  readonly problem: AppException | null;
}

/** Gateway controls kept on the chat body (the router's, the cache's, the privacy switch) and the caller's own fields. */
const KEPT_FIELDS: readonly string[] = ['metadata', 'user', 'no-log', 'cache', ...ROUTER_BODY_FIELDS];
/** Fields that name state an OpenAI or Azure upstream keeps (a stored response, a conversation, a saved prompt). */
const REQUIRES_STATE = ['previous_response_id', 'conversation', 'prompt'] as const;

/**
 * Reads an OpenAI Responses request (`POST /v1/responses`) as a chat body: `instructions` as a system message;
 * `input` as a string or as items — messages (text, images, files), `function_call` items as the assistant's
 * tool calls, `function_call_output` items as `tool` messages — function tools, tool_choice, max_output_tokens,
 * temperature, top_p, `text.format` (as `response_format`), `reasoning.effort` and stream mapped. What is malformed
 * is the caller's 400 at once, whatever the deployment; what is well formed but has no chat counterpart is the
 * reading's `problem`. Reasoning items are dropped, as another model's reasoning means nothing to this one.
 */
export function readResponsesRequest(body: RequestBody): ResponsesReading {
  const problems = new Problems();
  const model = body.model;
  if (typeof model !== 'string' || model === '') throw invalid('model', 'is required and must be a non-empty string');

  const messages: Json[] = [];
  const instructions = body.instructions;
  if (typeof instructions === 'string') {
    if (instructions !== '') messages.push({ role: 'system', content: instructions });
  } else if (instructions !== undefined && instructions !== null) {
    throw invalid('instructions', 'must be a string');
  }
  const input = body.input;
  if (typeof input === 'string') messages.push({ role: 'user', content: input });
  else if (Array.isArray(input)) input.forEach((raw, i) => readItem(raw, `input[${i}]`, messages, problems));
  else if (input !== undefined && input !== null) throw invalid('input', 'must be a string or an array of input items');

  for (const field of REQUIRES_STATE) {
    if (body[field] !== undefined && body[field] !== null) problems.add(field, 'needs state the upstream keeps: only an OpenAI or Azure deployment can serve it');
  }
  if (body.background === true) problems.add('background', 'is only served by an OpenAI or Azure deployment');
  if (messages.length === 0 && !problems.any) throw invalid('input', 'is required: a string or a non-empty array of input items');

  const chat: RequestBody = { model, messages };
  const maxTokens = body.max_output_tokens;
  if (maxTokens !== undefined && maxTokens !== null) {
    if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) throw invalid('max_output_tokens', 'must be a positive integer');
    chat.max_tokens = maxTokens;
  }
  copyNumber(body, 'temperature', chat);
  copyNumber(body, 'top_p', chat);
  if (body.parallel_tool_calls !== undefined && body.parallel_tool_calls !== null) {
    if (typeof body.parallel_tool_calls !== 'boolean') throw invalid('parallel_tool_calls', 'must be a boolean');
    chat.parallel_tool_calls = body.parallel_tool_calls;
  }
  const tools = readTools(body.tools, problems);
  if (tools.length > 0) chat.tools = tools;
  const choice = toolChoice(body.tool_choice, problems);
  if (choice !== undefined) chat.tool_choice = choice;
  const format = responseFormat(body.text);
  if (format !== null) chat.response_format = format;
  const effort = (body.reasoning as Json | null | undefined)?.effort;
  if (typeof effort === 'string' && effort !== '') chat.reasoning_effort = effort;
  for (const field of KEPT_FIELDS) if (body[field] !== undefined) chat[field] = body[field];
  if (body.stream === true) {
    chat.stream = true;
    // `response.completed` carries the usage, which a chat stream sends only when asked.
    chat.stream_options = { include_usage: true };
  } else if (body.stream !== undefined && body.stream !== null && body.stream !== false) {
    throw invalid('stream', 'must be a boolean');
  }
  return { chatBody: chat, problem: problems.first };
}

/** The first thing only the Responses API can serve, as the 400 a chat deployment's caller gets. */
class Problems {
  first: AppException | null = null;

  get any(): boolean {
    return this.first !== null;
  }

  add(param: string, problem: string): void {
    this.first ??= invalid(param, problem);
  }
}

function readItem(raw: unknown, path: string, messages: Json[], problems: Problems): void {
  const item = objectParam(raw, path);
  // An item without a type is a message (`{"role": "user", "content": "hi"}`), as OpenAI reads it.
  const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message':
      readMessage(item, path, messages, problems);
      return;
    case 'function_call':
      addToolCall(item, path, messages);
      return;
    case 'function_call_output':
      messages.push({ role: 'tool', tool_call_id: nonEmpty(item.call_id, `${path}.call_id`), content: toolOutput(item.output, `${path}.output`, problems) });
      return;
    case 'reasoning':
      return;
    default:
      problems.add(`${path}.type`, `${describeType(type, 'items')} can only be sent to an OpenAI or Azure deployment`);
  }
}

function readMessage(item: Json, path: string, messages: Json[], problems: Problems): void {
  const role = item.role;
  const content = item.content;
  if (role === 'assistant') {
    const text = partsOf(content, path)
      .map((part, j) => assistantText(part, `${path}.content[${j}]`))
      .join('');
    messages.push({ role: 'assistant', content: text });
    return;
  }
  if (role !== 'user' && role !== 'system' && role !== 'developer') throw invalid(`${path}.role`, 'must be user, assistant, system or developer');
  const parts = partsOf(content, path)
    .map((part, j) => inputPart(part, `${path}.content[${j}]`, problems))
    .filter((part): part is Json => part !== null);
  if (role !== 'user') {
    // Few chat providers know `developer`; a system message is what it means to them.
    const texts = parts.map((part, j) => {
      if (part.type !== 'text') throw invalid(`${path}.content[${j}].type`, `must be input_text in a ${role} message`);
      return part.text as string;
    });
    messages.push({ role: 'system', content: texts.join('\n') });
    return;
  }
  if (parts.length === 0) return;
  messages.push({ role: 'user', content: parts.length === 1 && parts[0].type === 'text' ? parts[0].text : parts });
}

function partsOf(content: unknown, path: string): Json[] {
  if (typeof content === 'string') return [{ type: 'input_text', text: content }];
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be a string or an array of content parts');
  return content.map((raw, j) => objectParam(raw, `${path}.content[${j}]`));
}

function inputPart(part: Json, path: string, problems: Problems): Json | null {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: stringField(part.text, `${path}.text`) };
    case 'input_image': {
      if (typeof part.image_url !== 'string' || part.image_url === '') {
        if (part.file_id !== undefined && part.file_id !== null) problems.add(`${path}.file_id`, 'uploaded files can only be read by an OpenAI or Azure deployment');
        else throw invalid(`${path}.image_url`, 'must be a URL or a data URL');
        return null;
      }
      const image: Json = { url: part.image_url };
      if (typeof part.detail === 'string') image.detail = part.detail;
      return { type: 'image_url', image_url: image };
    }
    case 'input_file': {
      if (typeof part.file_data === 'string' && part.file_data !== '') {
        const file: Json = { file_data: part.file_data };
        if (typeof part.filename === 'string') file.filename = part.filename;
        return { type: 'file', file };
      }
      problems.add(`${path}`, 'only a file sent as file_data can be read by this model');
      return null;
    }
    default:
      problems.add(`${path}.type`, `${describeType(part.type, 'content parts')} can only be sent to an OpenAI or Azure deployment`);
      return null;
  }
}

function assistantText(part: Json, path: string): string {
  if (part.type === 'output_text' || part.type === 'input_text') return stringField(part.text, `${path}.text`);
  if (part.type === 'refusal') return stringField(part.refusal, `${path}.refusal`);
  throw invalid(`${path}.type`, 'must be output_text or refusal in an assistant message');
}

/** Tool calls join the assistant message before them: chat wants the text and the calls of one turn together. */
function addToolCall(item: Json, path: string, messages: Json[]): void {
  const call = {
    id: nonEmpty(item.call_id, `${path}.call_id`),
    type: 'function',
    function: { name: nonEmpty(item.name, `${path}.name`), arguments: typeof item.arguments === 'string' ? item.arguments : '{}' },
  };
  const last = messages[messages.length - 1];
  if (last !== undefined && last.role === 'assistant') {
    ((last.tool_calls as Json[] | undefined) ?? (last.tool_calls = [])).push(call);
    if (last.content === '') last.content = null;
    return;
  }
  messages.push({ role: 'assistant', content: null, tool_calls: [call] });
}

function toolOutput(output: unknown, path: string, problems: Problems): string {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) throw invalid(path, 'must be a string or an array of content parts');
  return output
    .map((raw, k) => {
      const part = objectParam(raw, `${path}[${k}]`);
      if (part.type === 'input_text' || part.type === 'output_text') return stringField(part.text, `${path}[${k}].text`);
      // Chat's tool messages carry text only.
      problems.add(`${path}[${k}].type`, 'must be input_text: only text tool outputs can be sent to this model');
      return '';
    })
    .join('\n');
}

/** Function tools (the flat Responses form); the built-in ones (web search, file search, ...) run at OpenAI only. */
function readTools(value: unknown, problems: Problems): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid('tools', 'must be an array');
  const tools: Json[] = [];
  value.forEach((raw, i) => {
    const tool = objectParam(raw, `tools[${i}]`);
    if (tool.type !== 'function') {
      problems.add(`tools[${i}].type`, `${describeType(tool.type, 'tools')} are only served by an OpenAI or Azure deployment`);
      return;
    }
    const fn: Json = { name: nonEmpty(tool.name, `tools[${i}].name`) };
    if (typeof tool.description === 'string') fn.description = tool.description;
    if (tool.parameters !== undefined && tool.parameters !== null) fn.parameters = objectParam(tool.parameters, `tools[${i}].parameters`);
    if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
    tools.push({ type: 'function', function: fn });
  });
  return tools;
}

function toolChoice(value: unknown, problems: Problems): unknown {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  if (typeof value === 'string') throw invalid('tool_choice', 'must be auto, none, required or an object');
  const choice = objectParam(value, 'tool_choice');
  if (choice.type === 'function') return { type: 'function', function: { name: nonEmpty(choice.name, 'tool_choice.name') } };
  problems.add('tool_choice.type', 'only function tool choices can be sent to this model');
  return undefined;
}

function responseFormat(value: unknown): Json | null {
  if (value === undefined || value === null) return null;
  const format = objectParam(value, 'text').format;
  if (format === undefined || format === null) return null;
  const spec = objectParam(format, 'text.format');
  switch (spec.type) {
    case 'text':
      return null;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const schema: Json = { name: nonEmpty(spec.name, 'text.format.name'), schema: objectParam(spec.schema, 'text.format.schema') };
      if (typeof spec.description === 'string') schema.description = spec.description;
      if (typeof spec.strict === 'boolean') schema.strict = spec.strict;
      return { type: 'json_schema', json_schema: schema };
    }
    default:
      throw invalid('text.format.type', 'must be text, json_object or json_schema');
  }
}

function copyNumber(from: RequestBody, name: string, to: RequestBody): void {
  const value = from[name];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(name, 'must be a number');
  to[name] = value;
}

function nonEmpty(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(path, 'must be a non-empty string');
  return value;
}

function stringField(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalid(path, 'must be a string');
  return value;
}

/** A type name echoed only when it looks like one (the caller's text never goes into an error unchecked). */
function describeType(type: unknown, what: string): string {
  return typeof type === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(type) ? `${what} of type ${JSON.stringify(type)}` : `these ${what}`;
}
