import type { CompiledDeployment } from './deployment-table';
import {
  UpstreamErrorEvent,
  UpstreamProtocolError,
  type Endpoint,
  type FailedAnswer,
  type OpenAiAnswer,
  type OpenAiChunk,
  type ProviderCall,
  type ProviderDeployment,
  type StreamTranslator,
  type Translation,
} from './providers/provider';
import { parseJsonObject } from './providers/provider-support';
import { invalid } from './providers/request-params';
import { ServerSentEvents } from './providers/server-sent-events';
import type { RequestBody } from './request-body';
import { readUsage, type TokenUsage } from './usage';

/**
 * OpenAI's legacy text completions (`/v1/completions`). A deployment whose upstream has that route gets the body
 * unchanged; any other chat deployment is asked LiteLLM's way: the prompt becomes user messages, and the chat
 * answer (or stream) comes back as `text_completion` objects. Nothing here is a second pipeline: the chat
 * deployment is wrapped so the forwarder sees one more translating provider.
 */

export interface TextChoice {
  text: string;
  index: number;
  logprobs: null;
  finish_reason: string | null;
}

export interface TextCompletion {
  id: string | null;
  object: 'text_completion';
  created: number | null;
  model: string | null;
  system_fingerprint?: unknown;
  choices: TextChoice[];
  usage: TokenUsage | null;
}

/** `prompt` as OpenAI takes it: a text, a list of texts, token ids, or lists of token ids. */
export function requirePrompt(body: RequestBody): void {
  const prompt = body.prompt;
  if (typeof prompt === 'string') return;
  if (Array.isArray(prompt) && prompt.length > 0 && (prompt.every((item) => typeof item === 'string') || isTokenIds(prompt) || prompt.every(isTokenIds))) return;
  throw invalid('prompt', 'is required and must be a string, a non-empty array of strings, or token ids');
}

function isTokenIds(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.every((item) => Number.isInteger(item));
}

/** The prompt as chat messages: one user message per text (LiteLLM's reading of a list of prompts). */
function promptMessages(prompt: unknown): Array<{ role: 'user'; content: string }> {
  if (typeof prompt === 'string') return [{ role: 'user', content: prompt }];
  if (Array.isArray(prompt) && prompt.every((item) => typeof item === 'string')) {
    return prompt.map((content: string) => ({ role: 'user' as const, content }));
  }
  throw invalid('prompt', 'as token ids needs a deployment with a /v1/completions route; this model answers through chat, so send text');
}

/** Parameters only the legacy route knows; a chat model cannot honour them, so a meaningful value is refused. */
function refuseTextOnlyParameters(body: RequestBody): void {
  if (body.echo !== undefined && body.echo !== null && body.echo !== false) throw invalid('echo', 'is not available for a chat model');
  if (typeof body.suffix === 'string' && body.suffix !== '') throw invalid('suffix', 'is not available for a chat model');
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1) throw invalid('best_of', 'is not available for a chat model');
  if (body.logprobs !== undefined && body.logprobs !== null) throw invalid('logprobs', 'is not available for a chat model');
}

const TEXT_ONLY_FIELDS = new Set(['prompt', 'echo', 'suffix', 'best_of', 'logprobs']);

/** A text-completion body as a chat body: the prompt as messages, the other parameters as they are. */
export function chatBodyFromPrompt(body: RequestBody): RequestBody {
  refuseTextOnlyParameters(body);
  const out: RequestBody = {};
  for (const key in body) {
    if (!TEXT_ONLY_FIELDS.has(key)) out[key] = body[key];
  }
  out.messages = promptMessages(body.prompt);
  return out;
}

/** A `chat.completion` as a `text_completion` (each choice's message content as its text). */
export function textCompletionFromChat(chat: OpenAiAnswer, id?: string): TextCompletion {
  const choices = Array.isArray(chat.choices) ? (chat.choices as unknown[]) : [];
  const completion: TextCompletion = {
    id: id ?? (typeof chat.id === 'string' ? chat.id : null),
    object: 'text_completion',
    created: typeof chat.created === 'number' ? chat.created : null,
    model: typeof chat.model === 'string' ? chat.model : null,
    choices: choices.map((raw, position) => {
      const choice = (raw ?? {}) as { index?: unknown; message?: { content?: unknown }; finish_reason?: unknown };
      return {
        text: typeof choice.message?.content === 'string' ? choice.message.content : '',
        index: typeof choice.index === 'number' ? choice.index : position,
        logprobs: null,
        finish_reason: typeof choice.finish_reason === 'string' ? choice.finish_reason : null,
      };
    }),
    usage: readUsage(chat.usage),
  };
  if (chat.system_fingerprint !== undefined && chat.system_fingerprint !== null) completion.system_fingerprint = chat.system_fingerprint;
  return completion;
}

/**
 * A `chat.completion.chunk` as a `text_completion` chunk; null when it carries nothing a text client reads (the
 * role chunk, Azure's prompt-filter chunk). The usage chunk stays a usage chunk (empty `choices`).
 */
export function textChunkFromChatChunk(chunk: OpenAiChunk): OpenAiChunk | null {
  const base = { id: chunk.id, object: 'text_completion', created: chunk.created, model: chunk.model };
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as unknown[]) : [];
  const usage = chunk.usage;
  if (choices.length === 0) return usage !== undefined && usage !== null ? { ...base, choices: [], usage } : null;
  const out: TextChoice[] = [];
  choices.forEach((raw, position) => {
    const choice = (raw ?? {}) as { index?: unknown; delta?: { content?: unknown }; finish_reason?: unknown };
    const text = typeof choice.delta?.content === 'string' ? choice.delta.content : '';
    const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
    if (text === '' && finishReason === null) return;
    out.push({ text, index: typeof choice.index === 'number' ? choice.index : position, logprobs: null, finish_reason: finishReason });
  });
  if (out.length === 0) return null;
  return usage !== undefined && usage !== null ? { ...base, choices: out, usage } : { ...base, choices: out };
}

function textChunks(chunks: readonly OpenAiChunk[]): OpenAiChunk[] {
  const out: OpenAiChunk[] = [];
  for (const chunk of chunks) {
    const text = textChunkFromChatChunk(chunk);
    if (text !== null) out.push(text);
  }
  return out;
}

/** Another provider's stream, translated to chat by its own translator, then to text chunks. */
class TextFromTranslatedChat implements StreamTranslator {
  constructor(private readonly chat: StreamTranslator) {}

  push(bytes: Buffer): readonly OpenAiChunk[] {
    return textChunks(this.chat.push(bytes));
  }

  end(): readonly OpenAiChunk[] {
    return textChunks(this.chat.end());
  }
}

/** An OpenAI-format chat stream (relayed as bytes on the chat route) read event by event into text chunks. */
class TextFromOpenAiChat implements StreamTranslator {
  private readonly events = new ServerSentEvents();

  push(bytes: Buffer): readonly OpenAiChunk[] {
    return this.chunksOf(this.events.push(bytes));
  }

  end(): readonly OpenAiChunk[] {
    return this.chunksOf(this.events.end());
  }

  private chunksOf(events: readonly string[]): OpenAiChunk[] {
    const out: OpenAiChunk[] = [];
    for (const data of events) {
      if (data === '[DONE]') continue;
      const chunk = parseJsonObject(data, 'a stream event of the chat answer is not a JSON object');
      if (chunk.error !== undefined && chunk.error !== null) {
        const message = (chunk.error as { message?: unknown }).message;
        const error = new UpstreamErrorEvent(typeof message === 'string' ? message : 'the upstream reported an error inside the stream');
        error.chunksBefore = out;
        throw error;
      }
      const text = textChunkFromChatChunk(chunk);
      if (text !== null) out.push(text);
    }
    return out;
  }
}

const COMPLETIONS: ReadonlySet<Endpoint> = new Set(['completions']);

/** The chat deployment answering text completions: requests turned into chat, answers and streams back into text. */
function textCompletionsThroughChat(target: ProviderDeployment): ProviderDeployment {
  // One chat request per call, shared by the request and the answer's translation (which reads the call too).
  const chatCalls = new WeakMap<ProviderCall, ProviderCall>();
  const asChat = (call: ProviderCall): ProviderCall => {
    let chat = chatCalls.get(call);
    if (chat === undefined) {
      chat = { ...call, endpoint: 'chat', body: chatBodyFromPrompt(call.body) };
      chatCalls.set(call, chat);
    }
    return chat;
  };
  const inner = target.translation;
  const translation: Translation = {
    answer: (bytes, call, headers) =>
      textCompletionFromChat(inner === null ? parseJsonObject(bytes, 'the chat answer is not a JSON object') : inner.answer(bytes, asChat(call), headers)) as unknown as OpenAiAnswer,
    stream: (call) => (inner === null ? new TextFromOpenAiChat() : new TextFromTranslatedChat(inner.stream(asChat(call)))),
    streamContentTypes: inner?.streamContentTypes ?? ['text/event-stream'],
  };
  const adapted: ProviderDeployment = {
    origin: target.origin,
    apiBaseForLog: target.apiBaseForLog,
    endpoints: COMPLETIONS,
    translation,
    request: (call) => target.request(asChat(call)),
  };
  return {
    ...adapted,
    ...(target.upstreamModel !== undefined ? { upstreamModel: target.upstreamModel } : {}),
    ...(target.readError !== undefined ? { readError: (answer: FailedAnswer) => target.readError?.(answer) ?? {} } : {}),
  };
}

const THROUGH_CHAT = new WeakMap<CompiledDeployment, CompiledDeployment>();

/**
 * The deployment to send a text completion to: itself when its upstream has `/v1/completions` (or it is the
 * offline provider), its chat route wrapped in translation otherwise (made once per deployment), null when it
 * has neither.
 */
export function deploymentForTextCompletions(deployment: CompiledDeployment): CompiledDeployment | null {
  const target = deployment.target;
  if (target === null || target.endpoints.has('completions')) return deployment;
  if (!target.endpoints.has('chat')) return null;
  let adapted = THROUGH_CHAT.get(deployment);
  if (adapted === undefined) {
    adapted = { ...deployment, target: textCompletionsThroughChat(target) };
    THROUGH_CHAT.set(deployment, adapted);
  }
  return adapted;
}

/** A text-completion stream's events, rebuilt into one `text_completion` for the call record. */
export function assembleTextStream(dataEvents: readonly string[]): { completion: TextCompletion; malformedEvents: number } {
  const completion: TextCompletion = { id: null, object: 'text_completion', created: null, model: null, choices: [], usage: null };
  const byIndex = new Map<number, TextChoice>();
  let malformedEvents = 0;
  for (const data of dataEvents) {
    let chunk: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(data);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UpstreamProtocolError('not an object');
      chunk = parsed as Record<string, unknown>;
    } catch {
      malformedEvents++;
      continue;
    }
    if (completion.id === null && typeof chunk.id === 'string' && chunk.id !== '') completion.id = chunk.id;
    if (completion.created === null && typeof chunk.created === 'number') completion.created = chunk.created;
    if (completion.model === null && typeof chunk.model === 'string' && chunk.model !== '') completion.model = chunk.model;
    const usage = readUsage(chunk.usage);
    if (usage !== null) completion.usage = usage;
    if (!Array.isArray(chunk.choices)) continue;
    for (const raw of chunk.choices as unknown[]) {
      const piece = (raw ?? {}) as { index?: unknown; text?: unknown; finish_reason?: unknown };
      const index = typeof piece.index === 'number' ? piece.index : 0;
      let choice = byIndex.get(index);
      if (choice === undefined) {
        choice = { text: '', index, logprobs: null, finish_reason: null };
        byIndex.set(index, choice);
      }
      if (typeof piece.text === 'string') choice.text += piece.text;
      if (typeof piece.finish_reason === 'string') choice.finish_reason = piece.finish_reason;
    }
  }
  completion.choices = [...byIndex.values()].sort((a, b) => a.index - b.index);
  return { completion, malformedEvents };
}

/** The prompt's text, for rough token counts (an abandoned stream, the offline provider). */
export function promptText(prompt: unknown): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) return prompt.filter((item): item is string => typeof item === 'string').join('\n');
  return '';
}

/** The offline provider's answer as stream events: the text in a few chunks, a finish chunk, then the usage chunk (last). */
export function mockTextStreamEvents(completion: TextCompletion, pieces: readonly string[]): string[] {
  const base = { id: completion.id, object: 'text_completion', created: completion.created, model: completion.model };
  const events = pieces.map((text) => JSON.stringify({ ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: null }] }));
  events.push(JSON.stringify({ ...base, choices: [{ text: '', index: 0, logprobs: null, finish_reason: 'stop' }] }));
  events.push(JSON.stringify({ ...base, choices: [], usage: completion.usage }));
  return events;
}
