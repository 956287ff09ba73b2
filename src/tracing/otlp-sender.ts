import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Agent, request } from 'undici';
import { isRetryableOtlpStatus, networkErrorCode, parseRetryAfter } from '../logging/delivery/destinations/destination-support';
import type { TracingSettings } from './tracing-settings';

const gzipAsync = promisify(gzip);

/** Waits before the second and third attempt of a batch the collector asked to retry (429, 502–504) or never answered. */
const RETRY_DELAYS_MS = [1_000, 2_000];

export type SendOutcome = { ok: true } | { ok: false; reason: string };

/**
 * POSTs OTLP/HTTP bodies to the collector: the configured headers, one attempt's time limit, gzip when asked (in
 * zlib's thread pool, off the request loop), the TLS files, and retries of what the OTLP specification calls
 * retryable within the batch's time limit. A failure names the status or the network error only: a collector's
 * text can echo the headers, which may hold credentials.
 */
export class OtlpSender {
  private readonly agent: Agent;
  private readonly headers: Record<string, string>;
  private closed = false;

  constructor(
    private readonly settings: Pick<TracingSettings, 'tracesUrl' | 'protocol' | 'headers' | 'timeoutMs' | 'compression' | 'tls'>,
    private readonly retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
  ) {
    const { ca, cert, key } = settings.tls;
    this.agent = new Agent({ connections: 2, connect: { ...(ca !== undefined ? { ca } : {}), ...(cert !== undefined ? { cert, key } : {}) } });
    this.headers = {
      ...settings.headers,
      'content-type': settings.protocol === 'http/protobuf' ? 'application/x-protobuf' : 'application/json',
      ...(settings.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    };
  }

  /** Sends one batch's body, retrying until it is accepted, refused for good, or `timeLimitMs` has passed. */
  async send(body: Buffer | string, timeLimitMs: number): Promise<SendOutcome> {
    const deadline = Date.now() + timeLimitMs;
    const payload = this.settings.compression === 'gzip' ? await gzipAsync(body) : body;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(payload, Math.max(1, Math.min(this.settings.timeoutMs, deadline - Date.now())));
      if (outcome.ok || !outcome.retryable || this.closed) return outcome.ok ? { ok: true } : { ok: false, reason: outcome.reason };
      const wait = outcome.retryAfterMs ?? this.retryDelaysMs[attempt];
      if (wait === undefined || Date.now() + wait >= deadline) return { ok: false, reason: outcome.reason };
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.agent.close();
  }

  private async attempt(body: Buffer | string, timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string; retryable: boolean; retryAfterMs?: number }> {
    try {
      const response = await request(this.settings.tracesUrl, {
        method: 'POST',
        headers: this.headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body.dump();
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { ok: true };
      const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
      return {
        ok: false,
        reason: `the collector answered HTTP ${status}`,
        retryable: isRetryableOtlpStatus(status),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    } catch (error) {
      return { ok: false, reason: `the collector could not be reached (${networkErrorCode(error)})`, retryable: true };
    }
  }
}
