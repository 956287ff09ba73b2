import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { CachedAnswer, isReplayableStream } from '../cache/cached-answer';
import type { SecretRedactor } from '../common/secret-redactor';
import { AppException, toErrorBody } from '../errors';
import { CLIENT_GONE, type CallTracker } from './call-tracker';
import type { RecordedStream } from './call-payload';
import { ChunkRelay } from './chunk-relay';
import type { CompiledDeployment } from './deployment-table';
import { UpstreamErrorEvent, UpstreamProtocolError, type NativeCall, type ProviderCall, type ProviderDeployment, type StreamTranslator, type Translation, type UpstreamRequest } from './providers/provider';
import { callerWantsUsageChunk, type RequestBody } from './request-body';
import { SSE_HEADERS, SseRelay } from './sse-relay';
import type { UpstreamSpan } from '../tracing/tracing';
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
 * With tracing on, the attempt is a client span of the request's trace and the upstream request names it in `traceparent`.
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
  const trace = call.trace;
  // Tracing off: this check is all it costs.
  if (trace === undefined) return attempt(call, res, deployment, providerCall, request, remember, redactor, null);
  // On: a client span for this attempt (a retry gets its own), named as the upstream's parent in `traceparent`.
  const span = trace.upstreamCall({ endpoint: providerCall.endpoint, stream: call.stream, deployment });
  try {
    const failure = await attempt(call, res, deployment, providerCall, { ...request, headers: span.headers(request.headers) }, remember, redactor, span);
    if (failure !== null) span.failed(failure.exception);
    return failure;
  } catch (error) {
    span.failed(error === CLIENT_GONE ? CLIENT_DISCONNECTED : { code: 'error' });
    throw error;
  } finally {
    span.end();
  }
}

const CLIENT_DISCONNECTED = { code: 'client_disconnected' };

async function attempt(
  call: CallTracker,
  res: ServerResponse,
  deployment: CompiledDeployment,
  providerCall: ProviderCall,
  request: UpstreamRequest,
  remember: RememberAnswer,
  redactor: SecretRedactor,
  span: UpstreamSpan | null,
): Promise<UpstreamFailure | null> {
  const stream = call.stream;
  const own = call.timeouts;
  const timeoutMs = stream
    ? (own?.streamTimeoutMs ?? own?.timeoutMs ?? deployment.streamTimeoutMs)
    : (own?.timeoutMs ?? deployment.timeoutMs);
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
  span?.answered(upstream.statusCode);

  if (upstream.statusCode < 200 || upstream.statusCode >= 300) {
    const failure = await failureOfAnswer(upstream, target, provider, redactor);
    if (call.upstreamAbort.aborted) {
      throw CLIENT_GONE;
    }
    return failure;
  }
  // A native caller's answer is read through its own format's reading when the call brings one (an OpenAI
  // deployment's Responses answers: the provider has no translation, its chat answers being relayed as bytes).
  const translation = providerCall.native?.translation ?? target.translation;

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
    // A native caller gets the upstream's own bytes; the cache keeps the OpenAI form, as for every other call.
    const native = providerCall.native;
    native?.passThrough();
    const sent = native === undefined ? answer : bytes;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': sent.length });
    res.end(sent);
    // Before the response's 'close' ends the request's span: a child ends within its parent.
    span?.end();
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
  const pipe =
    translation === null
      ? openAiPipe(call, provider, redactor)
      : providerCall.native !== undefined
        ? nativePipe(translation.stream(providerCall), providerCall.native, provider, redactor)
        : translatedPipe(call, translation.stream(providerCall), provider, redactor);
  await relay(call, res, upstream.body, pipe, { provider, timeoutMs, remember, span });
  return null;
}

const OPENAI_STREAM_TYPES: Translation['streamContentTypes'] = ['text/event-stream'];

/** The upstream stream broke off: the events before the faulty one, and the failure its error event reports. */
interface StreamFault {
  readonly before: string;
  readonly failure: AppException;
  /** The upstream's own error event is in `before` already: no second one is added. */
  readonly reported?: boolean;
}

/** How one streamed answer's pieces become the client's server-sent events (and the call's record of them). */
interface StreamPipe {
  readonly recorded: RecordedStream;
  /** What to send for this piece of the upstream stream (possibly nothing yet), or the fault that ends it. */
  push(chunk: Buffer): Buffer | string | StreamFault;
  /** The upstream ended: the last events, `[DONE]` included, or a fault. */
  end(): string | StreamFault;
  /** The event that tells the client of a failure; absent: OpenAI's `{"error": {...}}` data event. */
  errorEvent?(failure: AppException): string;
}

/** An OpenAI upstream: its events relayed as they are (SseRelay), the usage chunk removed unless asked for. */
function openAiPipe(call: CallTracker, provider: string, redactor: SecretRedactor): StreamPipe {
  const relay = new SseRelay(!callerWantsUsageChunk(call.body as RequestBody));
  const faultAfter = (before: Buffer | string): StreamFault => ({
    before: before.toString(),
    failure: streamFaultFailure(relay.fault as NonNullable<SseRelay['fault']>, provider, redactor),
  });
  return {
    recorded: relay,
    push: (chunk) => {
      const out = relay.push(chunk);
      return relay.fault === null ? out : faultAfter(out);
    },
    end: () => {
      const tail = relay.end();
      if (relay.fault !== null) return faultAfter(tail);
      return relay.sawDone ? tail : `${tail}data: [DONE]\n\n`;
    },
  };
}

/** Another provider's stream: each piece through its StreamTranslator, the chunks written by a ChunkRelay. */
function translatedPipe(call: CallTracker, translator: StreamTranslator, provider: string, redactor: SecretRedactor): StreamPipe {
  const relay = new ChunkRelay(callerWantsUsageChunk(call.body as RequestBody));
  const faultOf = (thrown: unknown): StreamFault => ({
    // The good events before the faulty one still reach the client (and the record), then the error event.
    before: thrown instanceof UpstreamProtocolError || thrown instanceof UpstreamErrorEvent ? relay.write(thrown.chunksBefore) : '',
    failure: translationFailure(thrown, provider, redactor),
  });
  return {
    recorded: relay,
    push: (chunk) => {
      try {
        return relay.write(translator.push(chunk));
      } catch (error) {
        return faultOf(error);
      }
    },
    end: () => {
      try {
        return `${relay.write(translator.end())}data: [DONE]\n\n`;
      } catch (error) {
        return faultOf(error);
      }
    },
  };
}

/**
 * A caller that speaks the upstream's format (NativeCall): the upstream's events go to the client as they came,
 * while its StreamTranslator reads them into OpenAI chunks for the call's record and the cache.
 */
function nativePipe(translator: StreamTranslator, native: NativeCall, provider: string, redactor: SecretRedactor): StreamPipe {
  const recorded = new ChunkRelay(false);
  native.passThrough();
  const faultOf = (thrown: unknown, before: string): StreamFault => {
    if (thrown instanceof UpstreamProtocolError || thrown instanceof UpstreamErrorEvent) recorded.write(thrown.chunksBefore);
    return { before, failure: translationFailure(thrown, provider, redactor), reported: thrown instanceof UpstreamErrorEvent };
  };
  return {
    recorded,
    push: (chunk) => {
      try {
        recorded.write(translator.push(chunk));
        return chunk;
      } catch (error) {
        return faultOf(error, chunk.toString());
      }
    },
    end: () => {
      try {
        recorded.write(translator.end());
        return '';
      } catch (error) {
        return faultOf(error, '');
      }
    },
    errorEvent: (failure) => native.errorEvent(failure),
  };
}

function isFault(out: Buffer | string | StreamFault): out is StreamFault {
  return typeof out === 'object' && !Buffer.isBuffer(out);
}

/**
 * Relays an upstream stream to the client as it arrives, with back-pressure. Headers are out once it starts, so a
 * failure can no longer be a status: the client gets the complete events before it, then one `error` data event
 * (which OpenAI clients raise), and the call is recorded as failed. Only complete events are ever written, so the
 * error event never lands inside a half-sent one.
 */
function relay(
  call: CallTracker,
  res: ServerResponse,
  source: Dispatcher.ResponseData['body'],
  pipe: StreamPipe,
  options: { provider: string; timeoutMs: number; remember: RememberAnswer; span: UpstreamSpan | null },
): Promise<void> {
  const span = options.span;
  call.streamStarted(pipe.recorded);
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();

  return new Promise<void>((resolve) => {
    let settled = false;
    const resume = (): void => {
      source.resume();
    };
    const endWithError = (before: string, failure: AppException, reported = false): void => {
      settled = true;
      call.streamEnded(failure);
      if (!res.writableEnded && !res.destroyed) {
        const event = reported ? '' : (pipe.errorEvent?.(failure) ?? `data: ${JSON.stringify(toErrorBody(failure))}\n\n`);
        res.end(before + event);
      }
      span?.failed(failure);
      span?.end();
      resolve();
    };
    source.on('data', (chunk: Buffer) => {
      if (settled) {
        return;
      }
      const out = pipe.push(chunk);
      if (isFault(out)) {
        // Nothing more of this answer is wanted: the connection is given up rather than drained.
        source.destroy();
        endWithError(out.before, out.failure, out.reported);
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
      const tail = pipe.end();
      if (isFault(tail)) {
        endWithError(tail.before, tail.failure, tail.reported);
        return;
      }
      settled = true;
      call.streamEnded(null);
      res.end(tail);
      span?.end();
      // After the client has its last bytes; a stream with a broken or error event is not worth replaying.
      const events = pipe.recorded.dataEvents;
      options.remember(call, () => (isReplayableStream(events) ? CachedAnswer.fromEvents(events) : null));
      resolve();
    });
    source.on('error', (error: Error) => {
      if (settled) {
        return;
      }
      if (call.upstreamAbort.aborted) {
        settled = true;
        call.streamEnded(CLIENT_GONE);
        span?.failed(CLIENT_DISCONNECTED);
        resolve();
        return;
      }
      endWithError('', midStreamFailure(error, options.provider, options.timeoutMs));
    });
  });
}

/** A request beside the model call: a token count, a stored response. */
export interface SideRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

/**
 * Sends a side request to the deployment's upstream and returns its 2xx body (at most `maxBytes`: more is an
 * `upstream_error`, not a truncated answer). Any other answer, or no answer, is the AppException the chat path would
 * give for it: the provider's reading of the body, the text redacted, the upstream's 401/403 a 502. `timeoutMs`: the
 * deployment's own unless the caller wants a shorter wait (the model health check).
 */
export async function askUpstream(
  deployment: CompiledDeployment,
  request: SideRequest,
  redactor: SecretRedactor,
  maxBytes: number,
  timeoutMs: number = deployment.timeoutMs,
): Promise<Buffer> {
  const provider = deployment.providerLabel;
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await (deployment.pool as NonNullable<CompiledDeployment['pool']>).request({ ...request, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  } catch (error) {
    throw failureFromTransport({ error, provider, timeoutMs }).exception;
  }
  if (upstream.statusCode < 200 || upstream.statusCode >= 300) {
    throw (await failureOfAnswer(upstream, deployment.target as ProviderDeployment, provider, redactor)).exception;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of upstream.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        upstream.body.destroy();
        throw new AppException('upstream_error', `${provider} upstream answered with more than ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw error instanceof AppException ? error : failureFromTransport({ error, provider, timeoutMs }).exception;
  }
  return Buffer.concat(chunks);
}

/** A non-2xx answer as the failure it means: its body (at most 64 kB) read by the provider, redacted. */
async function failureOfAnswer(upstream: Dispatcher.ResponseData, target: ProviderDeployment, provider: string, redactor: SecretRedactor): Promise<UpstreamFailure> {
  let text = '';
  try {
    text = await readCapped(upstream.body, MAX_ERROR_BODY_BYTES);
  } catch {
    // A body that broke off says nothing more than its status.
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
