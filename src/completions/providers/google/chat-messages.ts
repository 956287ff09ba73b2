import { AppException } from '../../../errors';
import { mediaPart } from './media-parts';
import { thoughtSignatureOf } from './tool-call-ids';
import type { GoogleContent, GooglePart } from './wire';

type Message = Record<string, unknown>;

/** What a turn of `contents` holds: consecutive messages of one kind share a turn, as LiteLLM sends them. */
type TurnKind = 'user' | 'model' | 'tool-results';

export interface ConvertedMessages {
  readonly systemParts: GooglePart[];
  readonly contents: GoogleContent[];
}

/**
 * OpenAI `messages` as Google `contents`: system and developer messages become `systemInstruction` (wherever they
 * stand), user messages `user` turns, assistant messages `model` turns (tool calls as `functionCall` parts), tool
 * results `functionResponse` parts named after the call they answer. Consecutive messages of one kind are merged
 * into one turn. A message Google cannot be given is a 400 naming it.
 */
export function convertMessages(messages: readonly unknown[]): ConvertedMessages {
  const systemParts: GooglePart[] = [];
  const contents: GoogleContent[] = [];
  const kinds: TurnKind[] = [];
  /** Tool call id → function name, so a tool result can name the function Google called. */
  const calledFunctions = new Map<string, string>();
  const append = (kind: TurnKind, parts: GooglePart[]): void => {
    if (parts.length === 0) return;
    if (kinds.length > 0 && kinds[kinds.length - 1] === kind) {
      contents[contents.length - 1].parts.push(...parts);
      return;
    }
    kinds.push(kind);
    contents.push({ role: kind === 'model' ? 'model' : 'user', parts });
  };

  messages.forEach((raw, index) => {
    const param = `messages[${index}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw invalid(param, 'must be an object');
    }
    const message = raw as Message;
    switch (message.role) {
      case 'system':
      case 'developer':
        systemParts.push(...textParts(message.content, `${param}.content`));
        return;
      case 'user':
        append('user', userParts(message.content, `${param}.content`));
        return;
      case 'assistant':
        append('model', modelParts(message, param, calledFunctions));
        return;
      case 'tool':
      case 'function':
        append('tool-results', [functionResponse(message, param, calledFunctions)]);
        return;
      default:
        throw invalid(`${param}.role`, 'must be one of system, developer, user, assistant, tool');
    }
  });
  return { systemParts, contents };
}

/** Text only (system messages, tool results): a string or an array of text parts. Empty text is left out: Google refuses it. */
function textParts(content: unknown, param: string): GooglePart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw invalid(param, 'must be a string or an array of content parts');
  const parts: GooglePart[] = [];
  content.forEach((element, index) => {
    const part = element as Record<string, unknown> | null;
    if (part === null || typeof part !== 'object' || (part.type !== 'text' && part.type !== 'refusal')) {
      throw invalid(`${param}[${index}]`, 'must be a text part here');
    }
    const text = part.type === 'text' ? part.text : part.refusal;
    if (typeof text !== 'string') throw invalid(`${param}[${index}]`, 'must carry a string');
    if (text !== '') parts.push({ text });
  });
  return parts;
}

function userParts(content: unknown, param: string): GooglePart[] {
  if (!Array.isArray(content)) return textParts(content, param);
  const parts: GooglePart[] = [];
  content.forEach((element, index) => {
    const at = `${param}[${index}]`;
    if (element === null || typeof element !== 'object') throw invalid(at, 'must be a content part object');
    const part = element as Record<string, unknown>;
    switch (part.type) {
      case 'text':
        if (typeof part.text !== 'string') throw invalid(`${at}.text`, 'must be a string');
        if (part.text !== '') parts.push({ text: part.text });
        return;
      case 'image_url': {
        const image = part.image_url;
        const url = typeof image === 'string' ? image : (image as Record<string, unknown> | null)?.url;
        const format = typeof image === 'object' && image !== null ? (image as Record<string, unknown>).format : undefined;
        parts.push(mediaPart(url, format, `${at}.image_url.url`));
        return;
      }
      case 'input_audio': {
        const audio = (part.input_audio ?? {}) as Record<string, unknown>;
        if (typeof audio.data !== 'string' || typeof audio.format !== 'string') {
          throw invalid(`${at}.input_audio`, 'must have string `data` (base64) and `format`');
        }
        const mimeType = audio.format.includes('/') ? audio.format : `audio/${audio.format}`;
        parts.push({ inlineData: { mimeType, data: audio.data } });
        return;
      }
      case 'file': {
        const file = (part.file ?? {}) as Record<string, unknown>;
        parts.push(mediaPart(file.file_data ?? file.file_id, file.format, `${at}.file`));
        return;
      }
      default:
        throw invalid(`${at}.type`, 'must be text, image_url, input_audio or file');
    }
  });
  return parts;
}

function modelParts(message: Message, param: string, calledFunctions: Map<string, string>): GooglePart[] {
  const parts = textParts(message.content, `${param}.content`);
  const toolCalls = message.tool_calls;
  if (toolCalls !== undefined && toolCalls !== null) {
    if (!Array.isArray(toolCalls)) throw invalid(`${param}.tool_calls`, 'must be an array');
    toolCalls.forEach((raw, index) => {
      const at = `${param}.tool_calls[${index}]`;
      const call = (raw ?? {}) as Record<string, unknown>;
      const fn = (call.function ?? {}) as Record<string, unknown>;
      const part = functionCallPart(fn, `${at}.function`);
      const signature = thoughtSignatureOf(call.id);
      if (signature !== undefined) part.thoughtSignature = signature;
      if (typeof call.id === 'string' && part.functionCall !== undefined) calledFunctions.set(call.id, part.functionCall.name);
      parts.push(part);
    });
  }
  const legacyCall = message.function_call;
  if (legacyCall !== undefined && legacyCall !== null) {
    parts.push(functionCallPart(legacyCall as Record<string, unknown>, `${param}.function_call`));
  }
  return parts;
}

function functionCallPart(fn: Record<string, unknown>, param: string): GooglePart {
  if (typeof fn.name !== 'string' || fn.name === '') throw invalid(`${param}.name`, 'must be a non-empty string');
  const text = fn.arguments;
  let args: unknown = {};
  if (typeof text === 'string' && text.trim() !== '') {
    try {
      args = JSON.parse(text);
    } catch {
      throw invalid(`${param}.arguments`, 'must be a JSON object');
    }
  } else if (text !== undefined && text !== null && text !== '') {
    throw invalid(`${param}.arguments`, 'must be a string holding a JSON object');
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) throw invalid(`${param}.arguments`, 'must be a JSON object');
  return { functionCall: { name: fn.name, args: args as Record<string, unknown> } };
}

function functionResponse(message: Message, param: string, calledFunctions: Map<string, string>): GooglePart {
  const callId = message.tool_call_id;
  const name = (typeof callId === 'string' ? calledFunctions.get(callId) : undefined) ?? message.name;
  if (typeof name !== 'string' || name === '') {
    throw invalid(`${param}.tool_call_id`, 'must name a tool call of an earlier assistant message (Google needs the function name)');
  }
  const content = textParts(message.content, `${param}.content`)
    .map((part) => part.text)
    .join('');
  // As LiteLLM sends it: Google wants an object, the tool's text goes under `content`.
  return { functionResponse: { name, response: { content } } };
}

function invalid(param: string, what: string): AppException {
  return new AppException('validation_failed', `\`${param}\` ${what}`, { param });
}
