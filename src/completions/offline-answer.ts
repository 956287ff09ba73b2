import type { ServerResponse } from 'node:http';
import { CachedAnswer } from '../cache/cached-answer';
import type { CallTracker } from './call-tracker';
import type { CompiledDeployment } from './deployment-table';
import { mockChatCompletion, mockChatStream, mockEmbeddings, splitIntoPieces, STREAM_PIECES } from './mock-provider';
import type { Endpoint } from './providers/provider';
import { callerWantsUsageChunk, type RequestBody } from './request-body';
import { SSE_HEADERS } from './sse-relay';
import { mockTextStreamEvents, textCompletionFromChat } from './text-completion';
import type { RememberAnswer } from './upstream-forwarder';

/**
 * The offline provider (`mock/`, or any deployment with `mock_response`) answers in the gateway itself, as an
 * upstream would: chat (plain or streamed), embeddings and text completions, recorded and cached like any answer.
 */
export function answerOffline(
  call: CallTracker,
  res: ServerResponse,
  deployment: CompiledDeployment,
  endpoint: Endpoint,
  messages: unknown[] | null,
  remember: RememberAnswer,
): void {
  const body = call.body as RequestBody;
  call.dispatched();
  if (endpoint === 'completions') {
    answerText(call, res, deployment, remember);
    return;
  }
  if (endpoint === 'embeddings') {
    const response = mockEmbeddings({ model: deployment.upstreamModel, input: body.input, dimensions: body.dimensions });
    call.answeredWithObject(response);
    const bytes = sendJson(res, response);
    remember(call, () => CachedAnswer.fromJson(bytes));
    return;
  }
  const completion = mockChatCompletion({
    callId: call.callId,
    model: deployment.upstreamModel,
    content: deployment.mockResponse ?? '',
    messages: messages ?? [],
  });
  if (!call.stream) {
    call.answeredWithObject(completion);
    const bytes = sendJson(res, completion);
    remember(call, () => CachedAnswer.fromJson(bytes));
    return;
  }
  call.streamStarted(null, completion);
  res.writeHead(200, SSE_HEADERS);
  res.end(mockChatStream(completion, callerWantsUsageChunk(body)));
  call.streamEnded(null);
  remember(call, () => CachedAnswer.fromJson(Buffer.from(JSON.stringify(completion))));
}

/** A text completion: the chat answer to the prompt, as text. */
function answerText(call: CallTracker, res: ServerResponse, deployment: CompiledDeployment, remember: RememberAnswer): void {
  const body = call.body as RequestBody;
  const prompt = body.prompt;
  const messages = typeof prompt === 'string' ? [{ content: prompt }] : Array.isArray(prompt) ? prompt.map((content: unknown) => ({ content })) : [];
  const chat = mockChatCompletion({ callId: call.callId, model: deployment.upstreamModel, content: deployment.mockResponse ?? '', messages });
  const completion = textCompletionFromChat(chat as unknown as Record<string, unknown>, `cmpl-${call.callId}`);
  if (!call.stream) {
    call.answeredWithObject(completion);
    const bytes = sendJson(res, completion);
    remember(call, () => CachedAnswer.fromJson(bytes));
    return;
  }
  const events = mockTextStreamEvents(completion, splitIntoPieces(completion.choices[0].text, STREAM_PIECES));
  const shown = callerWantsUsageChunk(body) ? events : events.slice(0, -1);
  call.streamStarted(null, completion);
  res.writeHead(200, SSE_HEADERS);
  res.end(`${shown.map((event) => `data: ${event}\n\n`).join('')}data: [DONE]\n\n`);
  call.streamEnded(null);
  remember(call, () => CachedAnswer.fromEvents(events));
}

function sendJson(res: ServerResponse, value: unknown): Buffer {
  const bytes = Buffer.from(JSON.stringify(value));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
  res.end(bytes);
  return bytes;
}
