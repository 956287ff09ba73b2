/**
 * Labelled counters, gauges and histograms whose series are plain objects the request path changes in place, rendered
 * in Prometheus' text format at scrape time.
 *
 * Why not prom-client's metrics for these: its `inc(labels)` and `observe(labels)` hash and check the label object on
 * every call, even through a `labels(...)` child (0.75 µs per counter, 1 µs per histogram with 8 labels on this
 * machine), and a chat call feeds a dozen of these series. Here the series is found once per key and route and kept
 * (llm-metrics.ts), and then a call costs a few additions. prom-client still renders everything else on `/metrics`.
 */

/** One series of a counter or gauge: `labels` is its rendered label set, `{a="x",b="y"}`. */
export interface ValueSeries {
  readonly labels: string;
  value: number;
}

/** One series of a histogram. `counts[i]` is the observations of bucket i alone (made cumulative when rendered). */
export interface HistogramSeries {
  readonly labels: string;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

type Kind = 'counter' | 'gauge' | 'histogram';

abstract class Family<S extends { readonly labels: string }> {
  private readonly series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly kind: Kind,
  ) {}

  /** The series of these label values (in `labelNames` order), made on first use. Not for the request path's every call. */
  seriesOf(values: readonly string[]): S {
    const labels = renderLabels(this.labelNames, values);
    let found = this.series.get(labels);
    if (found === undefined) {
      found = this.create(labels);
      this.series.set(labels, found);
    }
    return found;
  }

  get size(): number {
    return this.series.size;
  }

  /** Forgets every series (gauges recomputed at each scrape). */
  clear(): void {
    this.series.clear();
  }

  render(lines: string[]): void {
    if (this.series.size === 0) return;
    lines.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.kind}`);
    for (const series of this.series.values()) this.renderSeries(series, lines);
  }

  protected abstract create(labels: string): S;
  protected abstract renderSeries(series: S, lines: string[]): void;
}

export class CounterFamily extends Family<ValueSeries> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, 'counter');
  }

  protected create(labels: string): ValueSeries {
    return { labels, value: 0 };
  }

  protected renderSeries(series: ValueSeries, lines: string[]): void {
    lines.push(`${this.name}${series.labels} ${formatValue(series.value)}`);
  }
}

export class GaugeFamily extends Family<ValueSeries> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, 'gauge');
  }

  set(values: readonly string[], value: number): void {
    this.seriesOf(values).value = value;
  }

  protected create(labels: string): ValueSeries {
    return { labels, value: 0 };
  }

  protected renderSeries(series: ValueSeries, lines: string[]): void {
    lines.push(`${this.name}${series.labels} ${formatValue(series.value)}`);
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  private readonly bucketLabels: readonly string[];

  /** `bounds`: the buckets' upper bounds, ascending, without +Inf (added when rendered). */
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames, 'histogram');
    this.bucketLabels = [...bounds.map((bound) => `le="${formatValue(bound)}"`), 'le="+Inf"'];
  }

  protected create(labels: string): HistogramSeries {
    return { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  protected renderSeries(series: HistogramSeries, lines: string[]): void {
    // `{a="x"}` becomes `{a="x",le="..."}`; an empty label set becomes `{le="..."}`.
    const open = series.labels === '' ? '{' : `${series.labels.slice(0, -1)},`;
    let cumulative = 0;
    for (let i = 0; i < this.bucketLabels.length; i++) {
      cumulative += series.counts[i];
      lines.push(`${this.name}_bucket${open}${this.bucketLabels[i]}} ${cumulative}`);
    }
    lines.push(`${this.name}_sum${series.labels} ${formatValue(series.sum)}`, `${this.name}_count${series.labels} ${series.count}`);
  }
}

/** Records one observation: the first bucket whose bound is at least `value` (binary search), its sum and count. */
export function observe(series: HistogramSeries, bounds: readonly number[], value: number): void {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (bounds[middle] < value) low = middle + 1;
    else high = middle;
  }
  series.counts[low]++;
  series.sum += value;
  series.count++;
}

/** `{a="x",b="y"}`, or '' without labels. */
export function renderLabels(names: readonly string[], values: readonly string[]): string {
  if (names.length !== values.length) throw new Error(`${names.length} label names, ${values.length} values`);
  if (names.length === 0) return '';
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ',';
    out += `${names[i]}="${escapeLabelValue(values[i])}"`;
  }
  return `${out}}`;
}

/** The text format's escapes for a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}
