import { AppException } from '../../../errors';
import type { RequestBody } from '../../request-body';

/**
 * OpenAI request bodies as Ollama's native API takes them, the way LiteLLM maps them: `ollama_chat/` to `/api/chat`
 * (messages, images as base64, tool calls with arguments as objects), `ollama/` to `/api/generate` with one prompt
 * built from the messages (LiteLLM's `ollama_pt`), embeddings to `/api/embed`. Sampling parameters go into
 * `options`; what Ollama cannot express is refused with a 400 rather than dropped.
 */

/** Ollama's model options a request (or `litellm_params`) may set by their own names, as LiteLLM passes them through. */
export const OLLAMA_OPTION_NAMES = [
  'num_ctx',
  'num_predict',
  'num_keep',
  'top_k',
  'min_p',
  'typical_p',
  'repeat_last_n',
  'repeat_penalty',
  'mirostat',
  'mirostat_eta',
  'mirostat_tau',
  'tfs_z',
  'num_gpu',
  'num_thread',
  'num_batch',
  'num_gqa',
] as const;

type Json = Record<string, unknown>;

/** The `options` object: OpenAI's sampling parameters under Ollama's names, then Ollama's own names as given. */
export function ollamaOptions(body: RequestBody, defaults: Readonly<Json>): Json {
  const options: Json = { ...defaults };
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) options.num_predict = maxTokens;
  for (const name of ['temperature', 'top_p', 'seed', 'frequency_penalty', 'presence_penalty'] as const) {
    if (body[name] !== undefined && body[name] !== null) options[name] = body[name];
  }
  if (typeof body.stop === 'string') options.stop = [body.stop];
  else if (Array.isArray(body.stop)) options.stop = body.stop;
  for (const name of OLLAMA_OPTION_NAMES) {
    if (body[name] !== undefined && body[name] !== null) options[name] = body[name];
  }
  return options;
}

/** Settings outside `options` shared by /api/chat and /api/generate. */
function commonFields(body: RequestBody, model: string, stream: boolean, options: Json, keepAlive: unknown): Json {
  if (typeof body.n === 'number' && body.n > 1) {
    throw badRequest('n', 'Ollama answers with one choice; `n` greater than 1 is not supported');
  }
  const out: Json = { model, stream };
  if (Object.keys(options).length > 0) out.options = options;
  const format = formatOf(body.response_format);
  if (format !== undefined) out.format = format;
  const alive = body.keep_alive ?? keepAlive;
  if (alive !== undefined && alive !== null) out.keep_alive = alive;
  return out;
}

/** `response_format` as Ollama's `format`: `"json"` for JSON mode, the schema itself for structured outputs. */
function formatOf(responseFormat: unknown): unknown {
  if (responseFormat === null || typeof responseFormat !== 'object') return undefined;
  const format = responseFormat as { type?: unknown; json_schema?: { schema?: unknown } };
  if (format.type === 'json_object') return 'json';
  if (format.type === 'json_schema') {
    const schema = format.json_schema?.schema;
    if (schema === undefined) throw badRequest('response_format', '`response_format.json_schema.schema` is missing');
    return schema;
  }
  return undefined;
}

/** `reasoning_effort` as `think` (gpt-oss takes the level, other thinking models a switch), as LiteLLM maps it. */
function thinkOf(body: RequestBody, model: string): unknown {
  const effort = body.reasoning_effort;
  if (effort === undefined || effort === null) return body.think;
  return model.startsWith('gpt-oss') ? effort : effort === 'low' || effort === 'medium' || effort === 'high';
}

export function chatBody(body: RequestBody, model: string, stream: boolean, defaults: { options: Json; keepAlive: unknown }): Json {
  const out = commonFields(body, model, stream, ollamaOptions(body, defaults.options), defaults.keepAlive);
  out.messages = chatMessages(body.messages);
  // `tool_choice` is left out: Ollama has no such field (LiteLLM drops it for the same reason).
  if (Array.isArray(body.tools) && body.tools.length > 0) out.tools = body.tools;
  const think = thinkOf(body, model);
  if (think !== undefined && think !== null) out.think = think;
  return out;
}

export function generateBody(body: RequestBody, model: string, stream: boolean, defaults: { options: Json; keepAlive: unknown }): Json {
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    throw badRequest('tools', 'tools need Ollama\'s chat API: configure the model as `ollama_chat/<model>` instead of `ollama/<model>`');
  }
  const out = commonFields(body, model, stream, ollamaOptions(body, defaults.options), defaults.keepAlive);
  const { prompt, images } = generatePrompt(body.messages);
  out.prompt = prompt;
  if (images.length > 0) out.images = images;
  return out;
}

export function embedBody(body: RequestBody, model: string, defaults: { options: Json; keepAlive: unknown }): Json {
  const input = body.input;
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.some((item) => typeof item !== 'string')) {
    throw badRequest('input', 'Ollama embeds text: `input` must be a string or a list of strings (token arrays are not supported)');
  }
  const out: Json = { model, input: texts };
  if (typeof body.dimensions === 'number') out.dimensions = body.dimensions;
  if (Object.keys(defaults.options).length > 0) out.options = defaults.options;
  const alive = body.keep_alive ?? defaults.keepAlive;
  if (alive !== undefined && alive !== null) out.keep_alive = alive;
  return out;
}

interface OpenAiMessage {
  role?: unknown;
  content?: unknown;
  tool_calls?: unknown;
  tool_call_id?: unknown;
  reasoning_content?: unknown;
}

function chatMessages(messages: unknown): Json[] {
  if (!Array.isArray(messages)) throw badRequest('messages', '`messages` must be a list');
  const toolNames = new Map<string, string>();
  return (messages as OpenAiMessage[]).map((message, index) => {
    const { text, images } = readContent(message.content, `messages[${index}].content`);
    // OpenAI's `developer` role is a system message to Ollama.
    const out: Json = { role: message.role === 'developer' ? 'system' : message.role, content: text };
    if (images.length > 0) out.images = images;
    if (typeof message.reasoning_content === 'string') out.thinking = message.reasoning_content;
    if (Array.isArray(message.tool_calls)) {
      out.tool_calls = (message.tool_calls as unknown[]).map((call, i) => {
        const { id, name, args } = readToolCall(call, `messages[${index}].tool_calls[${i}]`);
        if (id !== undefined) toolNames.set(id, name);
        return { function: { name, arguments: args } };
      });
    }
    if (message.role === 'tool' && typeof message.tool_call_id === 'string' && toolNames.has(message.tool_call_id)) {
      out.tool_name = toolNames.get(message.tool_call_id);
    }
    return out;
  });
}

/** Text parts joined; `image_url` parts as the base64 Ollama takes. Image URLs are not fetched (the gateway fetches nothing for a caller). */
function readContent(content: unknown, param: string): { text: string; images: string[] } {
  if (content === null || content === undefined) return { text: '', images: [] };
  if (typeof content === 'string') return { text: content, images: [] };
  if (!Array.isArray(content)) throw badRequest(param, 'message content must be a string or a list of parts');
  let text = '';
  const images: string[] = [];
  for (const part of content as Array<{ type?: unknown; text?: unknown; image_url?: unknown }>) {
    if (part?.type === 'text' && typeof part.text === 'string') text += part.text;
    else if (part?.type === 'image_url') images.push(imageData(part.image_url, param));
  }
  return { text, images };
}

function imageData(imageUrl: unknown, param: string): string {
  const url = typeof imageUrl === 'string' ? imageUrl : (imageUrl as { url?: unknown } | null)?.url;
  if (typeof url !== 'string') throw badRequest(param, 'an image_url part needs a url');
  const match = /^data:image\/[a-z0-9.+-]+;base64,(.+)$/is.exec(url);
  if (match === null) {
    throw badRequest(param, 'Ollama takes images as data: URIs (data:image/png;base64,...); image URLs are not fetched by the gateway');
  }
  return match[1];
}

function readToolCall(call: unknown, param: string): { id: string | undefined; name: string; args: unknown } {
  const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
  const name = typeof fn?.name === 'string' ? fn.name : '';
  const raw = fn?.arguments;
  let args: unknown = {};
  if (typeof raw === 'string' && raw.trim() !== '') {
    try {
      args = JSON.parse(raw);
    } catch {
      throw badRequest(`${param}.function.arguments`, 'tool call arguments must be JSON text (Ollama takes them as an object)');
    }
  } else if (raw !== null && typeof raw === 'object') {
    args = raw;
  }
  const id = (call as { id?: unknown } | null)?.id;
  return { id: typeof id === 'string' ? id : undefined, name, args };
}

/**
 * LiteLLM's `ollama_pt` prompt for `/api/generate`: runs of user and tool messages under `### User:`, system
 * messages under `### System:`, assistant messages (and their tool calls, as JSON) under `### Assistant:`.
 */
export function generatePrompt(messages: unknown): { prompt: string; images: string[] } {
  if (!Array.isArray(messages)) throw badRequest('messages', '`messages` must be a list');
  const list = messages as OpenAiMessage[];
  let prompt = '';
  const images: string[] = [];
  let i = 0;
  while (i < list.length) {
    const start = i;
    let user = '';
    while (i < list.length && (list[i].role === 'user' || list[i].role === 'tool' || list[i].role === 'function')) {
      const content = readContent(list[i].content, `messages[${i}].content`);
      user += content.text;
      images.push(...content.images);
      i++;
    }
    if (user !== '') prompt += `### User:\n${user}\n\n`;
    let system = '';
    while (i < list.length && (list[i].role === 'system' || list[i].role === 'developer')) {
      system += readContent(list[i].content, `messages[${i}].content`).text;
      i++;
    }
    if (system !== '') prompt += `### System:\n${system}\n\n`;
    let assistant = '';
    while (i < list.length && list[i].role === 'assistant') {
      assistant += readContent(list[i].content, `messages[${i}].content`).text;
      const calls = list[i].tool_calls;
      if (Array.isArray(calls) && calls.length > 0) {
        const rendered = (calls as unknown[]).map((call, c) => {
          const { id, name, args } = readToolCall(call, `messages[${i}].tool_calls[${c}]`);
          return { id, type: 'function', function: { name, arguments: args } };
        });
        assistant += `Tool Calls: ${JSON.stringify(rendered, null, 2)}`;
      }
      i++;
    }
    if (assistant !== '') prompt += `### Assistant:\n${assistant}\n\n`;
    if (i === start) throw badRequest(`messages[${i}].role`, `Ollama cannot take a message with role ${JSON.stringify(list[i].role)}`);
  }
  return { prompt, images };
}

function badRequest(param: string, message: string): AppException {
  return new AppException('validation_failed', message, { param });
}
