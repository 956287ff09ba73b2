import type { Environment } from '../../config/environment';
import type { GatewayConfig } from '../../config/gateway-config.types';
import type { GatewaySettings } from '../../config/gateway-settings';
import type { DeliveryBatchSpan } from '../../tracing/tracing';
import type { PiiMaskingConfig } from '../privacy/pii-masker';
import type { NewOutboxRow } from './outbox.store';

/** What the delivery thread starts from (structured-cloned into it). */
export interface DeliveryThreadData {
  environment: Environment;
  config: GatewayConfig;
  masterKey: string;
  database: GatewaySettings['database'];
  /** Stable for the gateway instance: a restarted thread takes over (and releases) the claims of the one that died. */
  workerId: string;
  /** The destination modules to host (`@LogDestinationModule`s of the application): JavaScript files and export names. */
  destinationModules: { path: string; exportName: string }[];
}

/** One event as the request loop hands it over: masking, when the caller has it, is the thread's first step. */
export interface HandedOverEvent extends NewOutboxRow {
  piiMasking?: PiiMaskingConfig;
}

/** Counters the thread increments; the main thread adds the increments to its own registry. */
export const RELAYED_COUNTERS = ['logDelivered', 'logRetried', 'logDeadLettered', 'logDropped'] as const;
export type RelayedCounter = (typeof RELAYED_COUNTERS)[number];
export interface CounterIncrement {
  counter: RelayedCounter;
  labels: Record<string, string>;
  value: number;
}

/** Main → thread. Rows of one message that share a payload object arrive sharing it (structured clone keeps identity). */
export type ToThread =
  | { type: 'events'; rows: HandedOverEvent[] }
  | { type: 'request'; id: number; request: ThreadRequest }
  | { type: 'sqlResult'; id: number; result?: unknown; error?: string }
  | { type: 'shutdown' };

/** `report`: send a report now (a /metrics scrape wants current counters); answered after the report. */
export type ThreadRequest = { name: 'purgeTeam'; teamId: string } | { name: 'poll' } | { name: 'report' };

/** Thread → main. */
export type FromThread =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  /**
   * Events that need the main thread's copy no more: acknowledged, purged, or written to the outbox; and, with
   * tracing on, the batches sent since the last report (the main thread makes them spans).
   */
  | { type: 'report'; settled: string[]; counters: CounterIncrement[]; batches: readonly DeliveryBatchSpan[] }
  | { type: 'reply'; id: number; result?: unknown; error?: string }
  /** The embedded database serves one connection, held by the main thread: the thread's SQL goes through it. */
  | { type: 'sql'; id: number; sql: string; params: unknown[] }
  | { type: 'log'; level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal'; message: string; context?: string }
  | { type: 'closed' };
