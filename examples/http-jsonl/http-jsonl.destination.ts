import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { DeliveryItem, DeliveryResult, DestinationVarsSpec, HealthResult, LogDestination, LogDestinationDefinition, SettingsErrors } from '../../src/logging/log-destination';

/**
 * An enterprise destination outside the gateway's source: every batch is POSTed to an HTTP endpoint as JSON lines
 * (`application/x-ndjson`), one StandardLoggingPayload per line. Splunk HEC, Vector, Fluent Bit, Logstash and most
 * log shippers accept this shape.
 *
 * What it writes is only the destination itself: the gateway validates `callback_vars` against `vars`, encrypts and
 * masks `http_jsonl_token` (a secret), SSRF-checks `http_jsonl_url` (a URL) when a team admin sets it and again before
 * every connection, queues, batches, retries, dead-letters and counts.
 */

export interface HttpJsonlSettings {
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  readonly token: string | null;
  /** Added to every line as `source`. */
  readonly source: string;
}

export const HTTP_JSONL_VARS: DestinationVarsSpec = {
  vars: {
    http_jsonl_url: { secret: false, url: true, adminOnly: false },
    http_jsonl_token: { secret: true, url: false, adminOnly: false },
    http_jsonl_source: { secret: false, url: false, adminOnly: false },
  },
  required: [['http_jsonl_url']],
  requiredForNonAdmin: [],
};

const TIMEOUT_MS = 10_000;

export class HttpJsonlDestination implements LogDestination<HttpJsonlSettings> {
  readonly kind = 'http_jsonl';

  parseSettings(vars: Readonly<Record<string, string>>): { settings: HttpJsonlSettings } | { errors: SettingsErrors } {
    const url = (vars.http_jsonl_url ?? '').trim();
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      // reported below
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      return { errors: [{ field: 'http_jsonl_url', message: 'http_jsonl_url must be an absolute http(s) URL' }] };
    }
    return { settings: { url, token: vars.http_jsonl_token?.trim() || null, source: vars.http_jsonl_source?.trim() || 'gatehouse' } };
  }

  async send(items: readonly DeliveryItem[], settings: HttpJsonlSettings): Promise<DeliveryResult> {
    if (items.length === 0) return { ok: true };
    const body = items.map((item) => JSON.stringify({ event_id: item.eventId, source: settings.source, ...item.payload })).join('\n') + '\n';
    let response: Response;
    try {
      response = await this.post(settings, body, batchId(items));
    } catch (error) {
      return { ok: false, retryable: true, error: `cannot reach ${settings.url}: ${describe(error)}` };
    }
    await response.body?.cancel();
    if (response.ok) return { ok: true };
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      ok: false,
      retryable,
      ...(retryable && Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      error: `${settings.url} answered HTTP ${response.status}`,
    };
  }

  /** An empty POST: the endpoint must accept the credentials, and nothing is written. */
  async checkHealth(settings: HttpJsonlSettings): Promise<HealthResult> {
    try {
      const response = await this.post(settings, '', 'health');
      await response.body?.cancel();
      return response.ok
        ? { healthy: true, details: `${settings.url} accepted an empty batch` }
        : { healthy: false, details: `${settings.url} answered HTTP ${response.status}` };
    } catch (error) {
      return { healthy: false, details: `cannot reach ${settings.url}: ${describe(error)}` };
    }
  }

  async close(): Promise<void> {}

  private post(settings: HttpJsonlSettings, body: string, batch: string): Promise<Response> {
    return fetch(settings.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-ndjson',
        // Equal for a redelivered batch, so the receiver can drop duplicates.
        'x-batch-id': batch,
        ...(settings.token ? { authorization: `Bearer ${settings.token}` } : {}),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  }
}

/** The registered definition: a Nest provider of the module below (it could inject GatewaySettings, say). */
@Injectable()
export class HttpJsonlDefinition implements LogDestinationDefinition<HttpJsonlSettings> {
  readonly callbackName = 'http_jsonl';
  readonly vars = HTTP_JSONL_VARS;
  /** For `success_callback: ["http_jsonl"]` in config.yaml. */
  readonly environment = { http_jsonl_url: 'HTTP_JSONL_URL', http_jsonl_token: 'HTTP_JSONL_TOKEN' };

  /** It connects with the global fetch, not a guarded agent: the gateway checks team admins' URLs before each use. */
  create(): HttpJsonlDestination {
    return new HttpJsonlDestination();
  }
}

function batchId(items: readonly DeliveryItem[]): string {
  const hash = createHash('sha256');
  for (const item of items) hash.update(item.eventId).update('\n');
  return hash.digest('hex').slice(0, 32);
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error && error.name === 'TimeoutError' ? 'ETIMEDOUT' : 'network error';
}
