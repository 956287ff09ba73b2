import { AppException } from '../../../errors';
import type { RequestBody } from '../../request-body';
import { convertMessages } from './chat-messages';
import { toGoogleSchema } from './function-schema';
import type { GenerateContentRequest } from './wire';

/** Google's own tools a caller may list next to functions (LiteLLM passes them through the same way). */
const GOOGLE_TOOLS = new Set(['googleSearch', 'google_search', 'googleSearchRetrieval', 'google_search_retrieval', 'codeExecution', 'code_execution', 'urlContext', 'url_context', 'enterpriseWebSearch']);

/** LiteLLM's thinking budgets for `reasoning_effort` (litellm/constants.py). */
const THINKING_BUDGETS: Readonly<Record<string, number>> = { none: 0, disable: 0, minimal: 128, low: 1024, medium: 2048, high: 4096 };

/** What a deployment adds to every request unless the request sets it (`litellm_params.safety_settings`, `top_k`). */
export interface GoogleRequestDefaults {
  readonly safetySettings?: unknown;
  readonly topK?: number;
}

/**
 * An OpenAI chat request as Google's `generateContent` body. Mapped: messages (chat-messages.ts), `tools` and
 * `functions` → `functionDeclarations`, `tool_choice` → `functionCallingConfig`, and into `generationConfig`:
 * temperature, top_p, top_k, max_tokens / max_completion_tokens, stop, n, seed, presence and frequency penalty,
 * logprobs / top_logprobs, response_format (JSON mode and JSON schema) and reasoning_effort (a thinking budget).
 * OpenAI parameters Google has no counterpart for (user, logit_bias, parallel_tool_calls, ...) are not sent.
 */
export function toGenerateContentRequest(body: RequestBody, defaults: GoogleRequestDefaults): GenerateContentRequest {
  const { systemParts, contents } = convertMessages(body.messages as unknown[]);
  // Google refuses an empty `contents`; a conversation of system messages only still gets its answer (as in LiteLLM).
  const request: GenerateContentRequest = { contents: contents.length > 0 ? contents : [{ role: 'user', parts: [{ text: ' ' }] }] };
  if (systemParts.length > 0) request.systemInstruction = { parts: systemParts };
  const tools = readTools(body);
  if (tools.length > 0) request.tools = tools;
  const toolConfig = readToolChoice(body.tool_choice ?? body.function_call, body.tool_choice !== undefined ? 'tool_choice' : 'function_call');
  if (toolConfig !== undefined) request.toolConfig = toolConfig;
  const generationConfig = readGenerationConfig(body, defaults);
  if (Object.keys(generationConfig).length > 0) request.generationConfig = generationConfig;
  const safetySettings = body.safety_settings ?? defaults.safetySettings;
  if (safetySettings !== undefined && safetySettings !== null) request.safetySettings = safetySettings;
  return request;
}

function readTools(body: RequestBody): Array<Record<string, unknown>> {
  const declarations: Array<Record<string, unknown>> = [];
  const googleTools: Array<Record<string, unknown>> = [];
  const read = (list: unknown, name: 'tools' | 'functions'): void => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) throw invalid(name, 'must be an array');
    list.forEach((raw, index) => {
      const param = `${name}[${index}]`;
      if (raw === null || typeof raw !== 'object') throw invalid(param, 'must be an object');
      const tool = raw as Record<string, unknown>;
      if (name === 'functions') {
        declarations.push(declaration(tool, param));
      } else if (tool.type === 'function' && tool.function !== null && typeof tool.function === 'object') {
        declarations.push(declaration(tool.function as Record<string, unknown>, `${param}.function`));
      } else if (Object.keys(tool).length === 1 && GOOGLE_TOOLS.has(Object.keys(tool)[0])) {
        googleTools.push(tool);
      } else {
        throw invalid(param, 'must be a function tool ({"type": "function", "function": {...}}) or one of Google\'s tools (googleSearch, codeExecution, urlContext)');
      }
    });
  };
  read(body.tools, 'tools');
  read(body.functions, 'functions');
  return declarations.length > 0 ? [{ functionDeclarations: declarations }, ...googleTools] : googleTools;
}

function declaration(fn: Record<string, unknown>, param: string): Record<string, unknown> {
  if (typeof fn.name !== 'string' || fn.name === '') throw invalid(`${param}.name`, 'must be a non-empty string');
  const out: Record<string, unknown> = { name: fn.name };
  if (typeof fn.description === 'string' && fn.description !== '') out.description = fn.description;
  if (fn.parameters !== undefined && fn.parameters !== null) {
    const parameters = toGoogleSchema(fn.parameters, { propertyOrdering: false, param: `${param}.parameters` });
    // A function without arguments: Google refuses an OBJECT whose properties are empty, so none are declared.
    if (parameters.properties !== undefined) out.parameters = parameters;
  }
  return out;
}

function readToolChoice(choice: unknown, param: string): GenerateContentRequest['toolConfig'] {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required' || choice === 'any') return { functionCallingConfig: { mode: 'ANY' } };
  if (typeof choice === 'object') {
    const named = choice as Record<string, unknown>;
    const name = (named.function as Record<string, unknown> | undefined)?.name ?? named.name;
    if (typeof name === 'string' && name !== '') return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
  }
  throw invalid(param, 'must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}');
}

function readGenerationConfig(body: RequestBody, defaults: GoogleRequestDefaults): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const set = (field: string, value: unknown): void => {
    if (value !== undefined && value !== null) config[field] = value;
  };
  set('temperature', body.temperature);
  set('topP', body.top_p);
  set('topK', body.top_k ?? defaults.topK);
  set('maxOutputTokens', body.max_completion_tokens ?? body.max_tokens);
  set('stopSequences', typeof body.stop === 'string' ? [body.stop] : body.stop);
  set('candidateCount', body.n);
  set('seed', body.seed);
  set('presencePenalty', body.presence_penalty);
  set('frequencyPenalty', body.frequency_penalty);
  set('responseLogprobs', body.logprobs);
  set('logprobs', body.top_logprobs);
  readResponseFormat(body.response_format, config);
  const effort = body.reasoning_effort;
  if (typeof effort === 'string') {
    const budget = THINKING_BUDGETS[effort];
    if (budget === undefined) throw invalid('reasoning_effort', 'must be one of none, minimal, low, medium, high');
    config.thinkingConfig = budget === 0 ? { thinkingBudget: 0 } : { thinkingBudget: budget, includeThoughts: true };
  }
  return config;
}

function readResponseFormat(format: unknown, config: Record<string, unknown>): void {
  if (format === undefined || format === null) return;
  const type = (format as Record<string, unknown>).type;
  if (type === 'text') return;
  if (type === 'json_object') {
    config.responseMimeType = 'application/json';
    return;
  }
  if (type === 'json_schema') {
    const schema = ((format as Record<string, unknown>).json_schema as Record<string, unknown> | undefined)?.schema;
    config.responseMimeType = 'application/json';
    if (schema !== undefined && schema !== null) {
      config.responseSchema = toGoogleSchema(schema, { propertyOrdering: true, param: 'response_format.json_schema.schema' });
    }
    return;
  }
  throw invalid('response_format', 'must be {"type": "text"}, {"type": "json_object"} or {"type": "json_schema", "json_schema": {...}}');
}

function invalid(param: string, what: string): AppException {
  return new AppException('validation_failed', `\`${param}\` ${what}`, { param });
}
