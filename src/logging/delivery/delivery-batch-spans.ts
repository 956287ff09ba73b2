import { Injectable } from '@nestjs/common';
import { GatewaySettings } from '../../config/gateway-settings';
import type { DeliveryBatchSpan } from '../../tracing/tracing';

/**
 * The delivery thread's batches, kept for the gateway's traces when tracing is on. The thread loads no OpenTelemetry:
 * it hands these records to the main thread with its reports (delivery-thread.ts), and the main thread, which owns
 * the one exporter, makes them spans. Bounded: records beyond MAX_PENDING between two reports are dropped.
 */
@Injectable()
export class DeliveryBatchSpans {
  static readonly MAX_PENDING = 10_000;
  readonly enabled: boolean;
  private pending: DeliveryBatchSpan[] = [];

  constructor(settings: GatewaySettings) {
    this.enabled = settings.environment.tracing !== null;
  }

  record(batch: DeliveryBatchSpan): void {
    if (this.enabled && this.pending.length < DeliveryBatchSpans.MAX_PENDING) this.pending.push(batch);
  }

  /** The records since the last call. */
  take(): readonly DeliveryBatchSpan[] {
    if (this.pending.length === 0) return NONE;
    const taken = this.pending;
    this.pending = [];
    return taken;
  }
}

const NONE: readonly DeliveryBatchSpan[] = [];
