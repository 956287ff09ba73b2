import type { DeliveryItem, DeliveryResult, HealthResult, LogDestination, SettingsErrors } from '../../../log-destination';
import { httpUrlError, type EgressOptions } from '../destination-support';
import { type AttributeInput, OtelDestination, type OtelSettings } from './otel.destination';

/**
 * What distinguishes an OTLP product (Arize, Phoenix, Langfuse's OTLP endpoint) from the generic `otel` destination:
 * its own `callback_vars`, turned into the traces URL, headers and resource attributes. Spans, batching, the
 * acknowledgement rules and the health probe are the `otel` destination's.
 */
export interface OtlpVariant {
  readonly kind: string;
  /** The product's settings from its vars, or field errors (values never echoed). */
  settings(vars: Readonly<Record<string, string>>): { settings: OtelSettings } | { errors: SettingsErrors };
  /** Span attributes the product reads beyond the GenAI ones. */
  readonly spanAttributes?: (item: DeliveryItem) => Record<string, AttributeInput>;
}

/** A `LogDestination` for one OTLP product: its own vars, the `otel` destination's sender. */
export class OtlpVariantDestination implements LogDestination<OtelSettings> {
  readonly kind: string;
  private readonly sender: OtelDestination;

  constructor(
    private readonly variant: OtlpVariant,
    options: { egress?: EgressOptions; requestTimeoutMs?: number } = {},
  ) {
    this.kind = variant.kind;
    // Protobuf, as LiteLLM's exporters send it to these products (Phoenix refuses JSON with 415).
    this.sender = new OtelDestination({ ...options, kind: variant.kind, extraSpanAttributes: variant.spanAttributes, encoding: 'protobuf' });
  }

  parseSettings(vars: Readonly<Record<string, string>>): { settings: OtelSettings } | { errors: SettingsErrors } {
    return this.variant.settings(vars);
  }

  send(items: readonly DeliveryItem[], settings: OtelSettings): Promise<DeliveryResult> {
    return this.sender.send(items, settings);
  }

  checkHealth(settings: OtelSettings): Promise<HealthResult> {
    return this.sender.checkHealth(settings);
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}

/**
 * A base URL checked as `field` (http(s), no credentials), trailing slashes dropped; `https://` is assumed when no
 * scheme is given, as LiteLLM does for its Langfuse host.
 */
export function baseUrl(field: string, raw: string, errors: SettingsErrors): string {
  let url = raw.trim().replace(/\/+$/, '');
  if (url !== '' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = `https://${url}`;
  const error = httpUrlError(field, url);
  if (error) errors.push(error);
  return url;
}

/** `<base>/v1/traces` unless the URL already names the signal path (`…/v1` gets `/traces`). */
export function tracesUrlOf(url: string): string {
  if (/\/v1\/traces$/.test(url)) return url;
  if (/\/v1$/.test(url)) return `${url}/traces`;
  return `${url}/v1/traces`;
}

/** A header value must not carry CR/LF/NUL (it would split the request). */
export function headerValueError(field: string, value: string): SettingsErrors[number] | undefined {
  return /[\r\n\0]/.test(value) ? { field, message: `${field} contains a control character` } : undefined;
}
