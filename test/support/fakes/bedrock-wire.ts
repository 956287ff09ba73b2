import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/**
 * Bedrock's wire formats as a fake speaks them: AWS event-stream messages (encoded with the AWS SDK's own codec,
 * CRCs and all) for ConverseStream, a Converse answer turned into the event sequence Bedrock streams, and the
 * request checks Bedrock applies to a Converse body (what makes it answer 400 ValidationException).
 */

type Json = Record<string, unknown>;

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function stringHeaders(headers: Record<string, string>) {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, { type: 'string' as const, value }]));
}

/** One `:message-type: event` message, as ConverseStream sends each event (with AWS's `p` padding field). */
export function eventFrame(eventType: string, payload: Json): Buffer {
  const body = fromUtf8(JSON.stringify({ ...payload, p: 'abcdefghijklmnopqrstuvwxyzABCDEFGH'.slice(0, 1 + (JSON.stringify(payload).length % 30)) }));
  return Buffer.from(codec.encode({ headers: stringHeaders({ ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' }), body }));
}

/** One `:message-type: exception` message (`throttlingException`, `modelStreamErrorException`, …). */
export function exceptionFrame(exceptionType: string, message: string): Buffer {
  const body = fromUtf8(JSON.stringify({ message }));
  return Buffer.from(codec.encode({ headers: stringHeaders({ ':exception-type': exceptionType, ':content-type': 'application/json', ':message-type': 'exception' }), body }));
}

/** The same message with one payload byte changed: its message CRC no longer matches. */
export function corrupted(frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  copy[copy.length - 6] ^= 0x01;
  return copy;
}

export interface ConverseAnswer {
  output: { message: { role: 'assistant'; content: Json[] } };
  stopReason: string;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number };
  metrics: { latencyMs: number };
}

/** The ConverseStream events for an answer: text in three pieces, tool input JSON in two. */
export function streamFrames(answer: ConverseAnswer): Buffer[] {
  const frames = [eventFrame('messageStart', { role: 'assistant' })];
  answer.output.message.content.forEach((block, contentBlockIndex) => {
    if (typeof block.text === 'string') {
      for (const piece of thirds(block.text)) frames.push(eventFrame('contentBlockDelta', { contentBlockIndex, delta: { text: piece } }));
    } else if (block.toolUse !== undefined) {
      const toolUse = block.toolUse as Json;
      frames.push(eventFrame('contentBlockStart', { contentBlockIndex, start: { toolUse: { toolUseId: toolUse.toolUseId, name: toolUse.name } } }));
      const input = JSON.stringify(toolUse.input);
      const half = Math.ceil(input.length / 2);
      for (const piece of [input.slice(0, half), input.slice(half)]) frames.push(eventFrame('contentBlockDelta', { contentBlockIndex, delta: { toolUse: { input: piece } } }));
    }
    frames.push(eventFrame('contentBlockStop', { contentBlockIndex }));
  });
  frames.push(eventFrame('messageStop', { stopReason: answer.stopReason }));
  frames.push(eventFrame('metadata', { usage: answer.usage, metrics: answer.metrics }));
  return frames;
}

function thirds(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const REQUEST_KEYS = new Set([
  'messages',
  'system',
  'inferenceConfig',
  'toolConfig',
  'guardrailConfig',
  'additionalModelRequestFields',
  'additionalModelResponseFieldPaths',
  'promptVariables',
  'requestMetadata',
  'performanceConfig',
]);
const INFERENCE_KEYS = new Set(['maxTokens', 'temperature', 'topP', 'stopSequences']);
const BLOCK_KEYS = new Set(['text', 'image', 'document', 'toolUse', 'toolResult', 'cachePoint', 'reasoningContent']);

/** Bedrock's checks of a Converse body, as far as a translation can get them wrong; the problem, or null. */
export function converseProblem(request: unknown): string | null {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) return 'Malformed input request, please reformat your input and try again.';
  const body = request as Json;
  const extra = Object.keys(body).find((key) => !REQUEST_KEYS.has(key));
  if (extra !== undefined) return `Malformed input request: extraneous key [${extra}] is not permitted, please reformat your input and try again.`;
  const inference = (body.inferenceConfig ?? {}) as Json;
  const badInference = Object.keys(inference).find((key) => !INFERENCE_KEYS.has(key));
  if (badInference !== undefined) return `Malformed input request: extraneous key [${badInference}] is not permitted, please reformat your input and try again.`;
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  let usedTools = false;
  let expectedRole = 'user';
  let lastToolUses = new Set<string>();
  for (const raw of messages as Json[]) {
    if (raw.role !== expectedRole) {
      return raw.role === 'assistant' && expectedRole === 'user'
        ? 'A conversation must start with a user message. Try again with a conversation that starts with a user message.'
        : 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
    }
    const content = raw.content;
    if (!Array.isArray(content) || content.length === 0) return 'The content field in the Message object is empty. Add a ContentBlock object to the content field and try again.';
    const toolUses = new Set<string>();
    for (const block of content as Json[]) {
      const keys = Object.keys(block);
      if (keys.length !== 1 || !BLOCK_KEYS.has(keys[0])) return `Malformed input request: #: extraneous key [${keys.join(', ')}] is not permitted`;
      if (typeof block.text === 'string' && block.text.trim() === '') return 'The text field in the ContentBlock object is blank. Add text to the text field, and try again.';
      const toolUse = block.toolUse as Json | undefined;
      if (toolUse !== undefined) {
        usedTools = true;
        if (typeof toolUse.input !== 'object' || toolUse.input === null) return 'The toolUse input must be a JSON object.';
        toolUses.add(String(toolUse.toolUseId));
      }
      const toolResult = block.toolResult as Json | undefined;
      if (toolResult !== undefined) {
        usedTools = true;
        if (!lastToolUses.has(String(toolResult.toolUseId))) return 'The toolResult blocks at messages.n.content contain toolUseIds that were not in the previous turn.';
      }
      const image = block.image as Json | undefined;
      if (image !== undefined && (typeof image.format !== 'string' || typeof (image.source as Json | undefined)?.bytes !== 'string')) return 'The image block needs a format and source.bytes.';
    }
    lastToolUses = toolUses;
    expectedRole = expectedRole === 'user' ? 'assistant' : 'user';
  }
  if (usedTools && body.toolConfig === undefined) return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  return null;
}
