import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { CachedAnswer, isReplayableStream } from '../cache/cached-answer';
import type { SecretRedactor } from '../common/secret-redactor';
import { toErrorBody, type AppException } from '../errors';
import { CLIENT_GONE, type CallTracker } from './call-tracker';
import { ChunkRelay } from './chunk-relay';
import type { CompiledDeployment } from './deployment-table';
import { UpstreamErrorEvent, UpstreamProtocolError, type ProviderCall, type ProviderDeployment, type StreamTranslator, type Translation, type UpstreamRequest } from './providers/provider';
import { callerWantsUsageChunk, type RequestBody } from './request-body';
import { SSE_HEADERS, SseRelay } from './sse-relay';
import {
  failureFromStatus,
  failureFromTransport,
  midStreamFailure,
  notAStream,
  streamFaultFailure,
  translationFailure,
  type UpstreamFailure,
} from './upstream-errors';

/** Offers the answer just sent to the response cache, which decides whether to keep it. */
export type RememberAnswer = (call: CallTracker, answer: () => CachedAnswer | null) => void;

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * One upstream call to one deployment, with undici: the answer goes back to the client as it arrives and the call's
 * tracker is told how it ended. An upstream that speaks OpenAI is relayed as its bytes (plain JSON, or events through
 * an SseRelay); any other goes through its provider's Translation (answers parsed and rebuilt, streams turned into
 * OpenAI chunks by a StreamTranslator and written by a ChunkRelay). Resolves null once the client has been answered,
 * or the failure for the router to retry or answer with. Upstream error text passes `redactor` before it reaches anyone.
 */
export async function forwardOnce(
  call: CallTracker,
  res: ServerResponse,
  deployment: CompiledDeployment,
  providerCall: ProviderCall,
  request: UpstreamRequest,
  remember: RememberAnswer,
  redactor: SecretRedactor,
): Promise<UpstreamFailure | null> {
  const stream = call.stream;
  const timeoutMs = stream ? deployment.streamTimeoutMs : deployment.timeoutMs;
  const provider = deployment.providerLabel;
  const target = deployment.target as ProviderDeployment;
  let upstream: Dispatcher.ResponseData;
  try {
    call.dispatched();
    upstream = await (deployment.pool as NonNullable<CompiledDeployment['pool']>).request({
      path: request.path,
      method: 'POST',
      headers: request.headers,
      body: request.body,
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
    const reading = target.readError?.({ status: upstream.statusCode, headers: upstream.headers, body: text });
    return failureFromStatus({
      status: reading?.status ?? upstream.statusCode,
      retryAfter: headerValue(upstream.headers['retry-after']),
      contentType: headerValue(upstream.headers['content-type']),
      body: text,
      message: reading?.message,
      provider,
      redactor,
    });
  }
  const translation = target.translation;

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
    let answer = bytes;
    if (translation !== null) {
      let translated: Record<string, unknown>;
      try {
        translated = translation.answer(bytes, providerCall, upstream.headers);
      } catch (error) {
        return { exception: translationFailure(error, provider, redactor), retryable: false };
      }
      answer = Buffer.from(JSON.stringify(translated));
      call.answeredWithObject(translated);
    } else {
      call.answeredWithBytes(bytes);
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.end(answer);
    // Only a plain 200 is cached: other 2xx answers are unusual enough not to replay.
    if (upstream.statusCode === 200) {
      remember(call, () => CachedAnswer.fromJson(answer));
    }
    return null;
  }

  const contentType = headerValue(upstream.headers['content-type']);
  const streamTypes = translation?.streamContentTypes ?? OPENAI_STREAM_TYPES;
  // An absent type claims nothing (the event checks still apply); another type is not a stream at all.
  if (contentType !== undefined && !streamTypes.some((type) => contentType.toLowerCase().includes(type))) {
    upstream.body.destroy();
    return notAStream(provider, contentType, streamTypes);
  }
  const options = { provider, timeoutMs, remember, redactor };
  if (translation === null) {
    await relayStream(call, res, upstream.body, options);
  } else {
    await relayTranslatedStream(call, res, upstream.body, translation.stream(providerCall), options);
  }
  return null;
}

const OPENAI_STREAM_TYPES: Translation['streamContentTypes'] = ['text/event-stream'];

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

/**
 * A provider's stream turned into OpenAI's as it arrives: each upstream piece goes through the translator, the
 * chunks it completes are written at once. A piece the translator cannot read, or an error event of the provider's,
 * ends the stream with one error event (the upstream's message redacted) and the call is a failure.
 */
function relayTranslatedStream(
  call: CallTracker,
  res: ServerResponse,
  source: Dispatcher.ResponseData['body'],
  translator: StreamTranslator,
  options: RelayOptions,
): Promise<void> {
  const { provider, timeoutMs, remember, redactor } = options;
  const relay = new ChunkRelay(callerWantsUsageChunk(call.body as RequestBody));
  call.streamStarted(relay);
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();

  return new Promise<void>((resolve) => {
    let settled = false;
    const fail = (thrown: unknown): void => {
      settled = true;
      source.destroy();
      const error = translationFailure(thrown, provider, redactor);
      // The good events before the faulty one still reach the client (and the record), then the error event.
      const before = thrown instanceof UpstreamProtocolError || thrown instanceof UpstreamErrorEvent ? relay.write(thrown.chunksBefore) : '';
      call.streamEnded(error);
      if (!res.writableEnded && !res.destroyed) {
        res.end(`${before}data: ${JSON.stringify(toErrorBody(error))}\n\n`);
      }
      resolve();
    };
    const resume = (): void => {
      source.resume();
    };
    source.on('data', (chunk: Buffer) => {
      if (settled) {
        return;
      }
      let out: string;
      try {
        out = relay.write(translator.push(chunk));
      } catch (error) {
        fail(error);
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
      let tail: string;
      try {
        tail = relay.write(translator.end());
      } catch (error) {
        fail(error);
        return;
      }
      settled = true;
      call.streamEnded(null);
      res.end(`${tail}data: [DONE]\n\n`);
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
      const failure = midStreamFailure(error, provider, timeoutMs);
      call.streamEnded(failure);
      if (!res.writableEnded && !res.destroyed) {
        res.end(`data: ${JSON.stringify(toErrorBody(failure))}\n\n`);
      }
      resolve();
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
