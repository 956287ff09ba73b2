import { CounterFamily, escapeLabelValue, GaugeFamily, HistogramFamily, observe } from './series';

function rendered(family: { render(lines: string[]): void }): string[] {
  const lines: string[] = [];
  family.render(lines);
  return lines;
}

describe('series in the Prometheus text format', () => {
  it('renders a counter with HELP, TYPE and one line per label set, in label-name order; a series is found again by its values', () => {
    const counter = new CounterFamily('requests_total', 'Requests\nby model', ['model', 'status']);
    counter.seriesOf(['gpt-4o', '200']).value += 2;
    counter.seriesOf(['gpt-4o', '200']).value += 1;
    counter.seriesOf(['claude', '500']).value++;
    expect(counter.size).toBe(2);
    expect(rendered(counter)).toEqual([
      '# HELP requests_total Requests\\nby model',
      '# TYPE requests_total counter',
      'requests_total{model="gpt-4o",status="200"} 3',
      'requests_total{model="claude",status="500"} 1',
    ]);
  });

  it('renders nothing for a family without series, and refuses values that do not match the label names', () => {
    const gauge = new GaugeFamily('budget', 'Budget', ['team']);
    expect(rendered(gauge)).toEqual([]);
    expect(() => gauge.seriesOf(['a', 'b'])).toThrow('1 label names, 2 values');
  });

  it('escapes backslashes, quotes and line feeds in label values, and writes infinities as +Inf/-Inf', () => {
    expect(escapeLabelValue('plain-value_1')).toBe('plain-value_1');
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const gauge = new GaugeFamily('remaining', 'Remaining', ['alias']);
    gauge.set(['my "team"\n'], Infinity);
    gauge.set(['other'], -Infinity);
    expect(rendered(gauge).slice(2)).toEqual(['remaining{alias="my \\"team\\"\\n"} +Inf', 'remaining{alias="other"} -Inf']);
    gauge.clear();
    expect(rendered(gauge)).toEqual([]);
  });

  it('counts an observation in the first bucket whose bound is at least the value, and renders buckets cumulatively', () => {
    const bounds = [0.1, 0.5, 1];
    const histogram = new HistogramFamily('latency_seconds', 'Latency', ['model'], bounds);
    const series = histogram.seriesOf(['m']);
    for (const value of [0, 0.1, 0.10001, 0.5, 0.7, 1, 3]) observe(series, bounds, value);
    expect(Array.from(series.counts)).toEqual([2, 2, 2, 1]);
    expect(rendered(histogram)).toEqual([
      '# HELP latency_seconds Latency',
      '# TYPE latency_seconds histogram',
      'latency_seconds_bucket{model="m",le="0.1"} 2',
      'latency_seconds_bucket{model="m",le="0.5"} 4',
      'latency_seconds_bucket{model="m",le="1"} 6',
      'latency_seconds_bucket{model="m",le="+Inf"} 7',
      `latency_seconds_sum{model="m"} ${0 + 0.1 + 0.10001 + 0.5 + 0.7 + 1 + 3}`,
      'latency_seconds_count{model="m"} 7',
    ]);
  });

  it('renders a histogram without labels', () => {
    const histogram = new HistogramFamily('plain_seconds', 'Plain', [], [1]);
    observe(histogram.seriesOf([]), [1], 2);
    expect(rendered(histogram).slice(2)).toEqual(['plain_seconds_bucket{le="1"} 0', 'plain_seconds_bucket{le="+Inf"} 1', 'plain_seconds_sum 2', 'plain_seconds_count 1']);
  });
});
