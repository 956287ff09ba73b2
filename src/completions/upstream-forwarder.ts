import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { CachedAnswer, isReplayableStream } from '../cache/cached-answer';
import type { SecretRedactor } from '../common/secret-redactor';
import { toErrorBody, type AppException } from '../errors';
import { CLIENT_GONE, type CallTracker } from './call-tracker';
import type { CompiledDeployment } from './deployment-table';
import { callerWantsUsageChunk, type RequestBody } from './request-body';
import { SSE_HEADERS, SseRelay } from './sse-relay';
import {
  failureFromStatus,
  failureFromTransport,
  midStreamFailure,
  notAnEventStream,
  streamFaultFailure,
  type UpstreamFailure,
} from './upstream-errors';

export type Endpoint = 'chat' | 'embeddings';

/** Offers the answer just sent to the response cache, which decides whether to keep it. */
export type RememberAnswer = (call: CallTracker, answer: () => CachedAnswer | null) => void;

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * One upstream call to one deployment, with undici: the answer goes back to the client as it arrives (plain
 * JSON as the upstream's bytes, streams through an SseRelay) and the call's tracker is told how it ended.
 * Resolves null once the client has been answered, or the failure for the router to retry or answer with.
 * Upstream error text passes `redactor` before it reaches anyone.
 */
export async function forwardOnce(
  call: CallTracker,
  res: ServerResponse,
  deployment: CompiledDeployment,
  endpoint: Endpoint,
  payload: string,
  remember: RememberAnswer,
  redactor: SecretRedactor,
): Promise<UpstreamFailure | null> {
  const stream = call.stream;
  const timeoutMs = stream ? deployment.streamTimeoutMs : deployment.timeoutMs;
  const provider = deployment.providerLabel;
  let upstream: Dispatcher.ResponseData;
  try {
    call.dispatched();
    upstream = await (deployment.pool as NonNullable<CompiledDeployment['pool']>).request({
      path: endpoint === 'chat' ? deployment.chatPath : deployment.embeddingsPath,
      method: 'POST',
      headers: deployment.headers,
      body: payload,
      signal: call.upstreamAbort,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (error) {
    if (call.upstreamAbort.aborted) {
      throw CLIENT_GONE;
    }
    return failureFromTransport({ error, provider, timeoutMs });
  }

  if (upstream.statusCode < 200 || upstream.statusCode >= 300) {
    let text: string;
    try {
      text = await readCapped(upstream.body, MAX_ERROR_BODY_BYTES);
    } catch {
      if (call.upstreamAbort.aborted) {
        throw CLIENT_GONE;
      }
      text = '';
    }
    return failureFromStatus({
      status: upstream.statusCode,
      retryAfter: headerValue(upstream.headers['retry-after']),
      contentType: headerValue(upstream.headers['content-type']),
      body: text,
      provider,
      redactor,
    });
  }

  if (!stream) {
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await upstream.body.arrayBuffer());
    } catch (error) {
      if (call.upstreamAbort.aborted) {
        throw CLIENT_GONE;
      }
      return failureFromTransport({ error, provider, timeoutMs });
    }
    call.answeredWithBytes(bytes);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
    res.end(bytes);
    // Only a plain 200 is cached: other 2xx answers are unusual enough not to replay.
    if (upstream.statusCode === 200) {
      remember(call, () => CachedAnswer.fromJson(bytes));
    }
    return null;
  }

  const contentType = headerValue(upstream.headers['content-type']);
  // An absent type claims nothing (the event checks still apply); another type is not a stream at all.
  if (contentType !== undefined && !contentType.toLowerCase().includes('text/event-stream')) {
    upstream.body.destroy();
    return notAnEventStream(provider, contentType);
  }
  await relayStream(call, res, upstream.body, { provider, timeoutMs, remember, redactor });
  return null;
}

interface RelayOptions {
  provider: string;
  timeoutMs: number;
  remember: RememberAnswer;
  redactor: SecretRedactor;
}

function relayStream(call: CallTracker, res: ServerResponse, source: Dispatcher.ResponseData['body'], options: RelayOptions): Promise<void> {
  const { provider, timeoutMs, remember, redactor } = options;
  const relay = new SseRelay(!callerWantsUsageChunk(call.body as RequestBody));
  call.streamStarted(relay);
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();

  return new Promise<void>((resolve) => {
    let settled = false;
    const resume = (): void => {
      source.resume();
    };
    /** Headers are out, so the filter cannot answer; OpenAI clients raise on an `error` data event. */
    const endWithError = (before: string, failure: AppException): void => {
      call.streamEnded(failure);
      if (!res.writableEnded && !res.destroyed) {
        res.end(`${before}data: ${JSON.stringify(toErrorBody(failure))}\n\n`);
      }
      resolve();
    };
    /** The upstream broke the protocol or sent an error event: the client gets what came before, then the error. */
    const stopAtFault = (before: Buffer | string): void => {
      settled = true;
      // Nothing more of this answer is wanted: the connection is given up rather than drained.
      source.destroy();
      endWithError(before.toString(), streamFaultFailure(relay.fault as NonNullable<SseRelay['fault']>, provider, redactor));
    };
    source.on('data', (chunk: Buffer) => {
      if (settled) {
        return;
      }
      const out = relay.push(chunk);
      if (relay.fault !== null) {
        stopAtFault(out);
        return;
      }
      if (out.length > 0 && !res.write(out)) {
        source.pause();
        res.once('drain', resume);
      }
    });
    source.once('end', () => {
      if (settled) {
        return;
      }
      settled = true;
      let tail = relay.end();
      if (relay.fault !== null) {
        stopAtFault(tail);
        return;
      }
      if (!relay.sawDone) {
        tail += 'data: [DONE]\n\n';
      }
      call.streamEnded(null);
      res.end(tail);
      // After the client has its last bytes; a stream with a broken or error event is not worth replaying.
      remember(call, () => (isReplayableStream(relay.dataEvents) ? CachedAnswer.fromEvents(relay.dataEvents) : null));
      resolve();
    });
    source.on('error', (error: Error) => {
      if (settled) {
        return;
      }
      settled = true;
      if (call.upstreamAbort.aborted) {
        call.streamEnded(CLIENT_GONE);
        resolve();
        return;
      }
      // The relay forwards complete events only, so the error event never lands inside a half-sent one.
      endWithError('', midStreamFailure(error, provider, timeoutMs));
    });
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Reads at most `limit` bytes of an error body, then drops the rest so the socket can be reused or closed. */
async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    if (size < limit) {
      chunks.push(buffer.subarray(0, limit - size));
    }
    size += buffer.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
