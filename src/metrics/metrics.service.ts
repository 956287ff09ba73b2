import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one gateway instance. A registry per app (not prom-client's global one), so
 * several apps in one process (tests) do not collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly collectors: (() => Promise<void>)[] = [];
  private readonly renderers: ((lines: string[]) => void)[] = [];

  /** Gauges read from elsewhere (the outbox depth) are refreshed by collectors on every scrape. */
  addCollector(collect: () => Promise<void>): void {
    this.collectors.push(collect);
  }

  /** Families kept outside prom-client's registry (llm-metrics.ts) add their text lines after the registry's. */
  addRenderer(render: (lines: string[]) => void): void {
    this.renderers.push(render);
  }

  async scrape(): Promise<string> {
    await Promise.allSettled(this.collectors.map((collect) => collect()));
    const text = await this.registry.metrics();
    const lines: string[] = [];
    for (const render of this.renderers) render(lines);
    return lines.length === 0 ? text : `${text}\n${lines.join('\n')}\n`;
  }

  private readonly eventLabels = ['kind', 'team'] as const;
  readonly logEnqueued = new Counter({ name: 'gatehouse_log_events_enqueued_total', help: 'Log events accepted for delivery', labelNames: this.eventLabels, registers: [this.registry] });
  readonly logDelivered = new Counter({ name: 'gatehouse_log_events_delivered_total', help: 'Log events acknowledged by their destination', labelNames: this.eventLabels, registers: [this.registry] });
  readonly logRetried = new Counter({ name: 'gatehouse_log_events_retried_total', help: 'Failed deliveries scheduled for another attempt', labelNames: this.eventLabels, registers: [this.registry] });
  readonly logDeadLettered = new Counter({ name: 'gatehouse_log_events_dead_lettered_total', help: 'Log events moved to the dead-letter state', labelNames: this.eventLabels, registers: [this.registry] });
  readonly logDropped = new Counter({
    name: 'gatehouse_log_events_dropped_total',
    help: 'Log events dropped before reaching the outbox (buffer full)',
    labelNames: ['kind', 'team', 'reason'] as const,
    registers: [this.registry],
  });
  readonly logHandoverFailures = new Counter({
    name: 'gatehouse_log_handover_failures_total',
    help: 'Log events that could not be copied to the delivery thread as they were: sent with their content replaced, or dropped',
    labelNames: ['kind', 'team', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly outboxDepth = new Gauge({ name: 'gatehouse_log_outbox_events', help: 'Events in the outbox', labelNames: ['kind', 'status'] as const, registers: [this.registry] });
  readonly outboxOldestAge = new Gauge({
    name: 'gatehouse_log_outbox_oldest_event_age_seconds',
    help: 'Age of the oldest event in the outbox',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });
  readonly bufferedEvents = new Gauge({ name: 'gatehouse_log_buffer_events', help: 'Log events held only in memory: neither acknowledged by their destination nor written to the outbox yet', registers: [this.registry] });
  readonly deliveryThreadRestarts = new Counter({ name: 'gatehouse_log_delivery_thread_restarts_total', help: 'Times the log delivery thread died and was started again', registers: [this.registry] });
  readonly cacheEvents = new Counter({ name: 'gatehouse_cache_events_total', help: 'Response cache hits, misses and errors', labelNames: ['event'] as const, registers: [this.registry] });
  readonly softBudgetCrossed = new Counter({
    name: 'gatehouse_soft_budget_crossed_total',
    help: 'Times a key, team or user crossed its soft_budget (seen by this instance)',
    labelNames: ['entity'] as const,
    registers: [this.registry],
  });
  readonly budgetExceeded = new Counter({
    name: 'gatehouse_budget_exceeded_total',
    help: 'Requests refused because a key, team, team member, user, end user or model budget is spent',
    labelNames: ['entity'] as const,
    registers: [this.registry],
  });
  readonly spendFlushFailures = new Counter({
    name: 'gatehouse_spend_flush_failures_total',
    help: 'Spend ledger writes that failed (their spend is kept and written by a later flush)',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  private readonly httpSeries = new Map<string, { readonly requests: Counter.Internal; readonly duration: Histogram.Internal<string> }>();

  /**
   * Counts one answered request. The label children are looked up once per method, route and status (a handful of
   * each: the route is the matched pattern), because prom-client hashes a label object on every call (~2 µs a request).
   */
  recordHttpRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.httpSeries.get(key);
    if (series === undefined) {
      const labels = { method, route, status: String(status) };
      series = { requests: this.httpRequests.labels(labels), duration: this.httpDuration.labels(labels) };
      this.httpSeries.set(key, series);
    }
    series.requests.inc();
    series.duration.observe(seconds);
  }
}
