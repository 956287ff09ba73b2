import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream } from '../support/fake-upstream';
import { FakeOtlp, type ReceivedSpan } from '../support/fakes/fake-otlp';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { secret, waitFor } from '../support/logging/harness';

const PRELOAD = join(__dirname, '..', 'support', 'tracing', 'loaded-modules.js');
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const CALLER_TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

/**
 * The gateway's own tracing with the real process (`dist/src/main.js`, embedded PGlite): spans reach a fake OTLP
 * collector on loopback (test/support/fakes/fake-otlp.ts, proven against OpenTelemetry's own exporter) as one trace
 * with the caller's span and the upstream (the fake upstream records the `traceparent` it got); delivery batches are
 * spans; a malformed `traceparent` starts a new trace and the caller's never reaches a logging destination; the last
 * spans are exported at SIGTERM. Without an endpoint not one OpenTelemetry file is loaded, in either thread.
 */
describe('tracing with the real process', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-tracing-'));
  const masterKey = `sk-${secret('tracing-master-key-0123456789')}`;
  const collectorKey = `sk-${secret('collector-key')}`;
  const upstreamKey = `sk-${secret('upstream-key')}`;
  const running: GatewayProcess[] = [];
  let upstream: FakeUpstream;
  /** The operator's collector: the gateway's own spans. */
  let collector: FakeOtlp;
  /** A team's OTLP logging destination: the call records, which must know nothing of the caller's trace. */
  let logs: FakeOtlp;

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    collector = await FakeOtlp.start({ requiredHeaders: { authorization: `Bearer ${collectorKey}` } });
    logs = await FakeOtlp.start();
  });

  afterAll(async () => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    await Promise.all([upstream?.close(), collector?.close(), logs?.close()]);
    rmSync(workDir, { recursive: true, force: true });
  });

  async function start(label: string, env: Record<string, string>): Promise<GatewayProcess & { modulesFile: string }> {
    const dir = join(workDir, label);
    const config = join(workDir, `${label}.yaml`);
    writeFileSync(
      config,
      [
        'model_list:',
        '  - model_name: traced-gpt',
        '    litellm_params:',
        '      model: openai/gpt-4o-mini',
        `      api_base: ${upstream.url}`,
        `      api_key: ${upstreamKey}`,
        '      max_retries: 0',
        '  - model_name: traced-retry',
        '    litellm_params:',
        '      model: openai/gpt-4o-mini',
        `      api_base: ${upstream.url}`,
        `      api_key: ${upstreamKey}`,
        '      max_retries: 1',
        '',
      ].join('\n'),
    );
    const modulesFile = join(workDir, `${label}-modules`);
    const gateway = await spawnGateway({
      env: {
        DATA_DIR: dir,
        MASTER_KEY: masterKey,
        CONFIG_FILE: config,
        DATABASE_URL: undefined,
        LOG_FLUSH_INTERVAL_MS: '100',
        NODE_OPTIONS: `--require ${PRELOAD}`,
        LOADED_MODULES_FILE: modulesFile,
        ...env,
      },
    });
    running.push(gateway);
    await gateway.waitForReady(90_000);
    return Object.assign(gateway, { modulesFile });
  }

  /** A key whose calls are logged to `logs` (an OTLP logging destination, set by the admin). */
  async function loggedKey(gateway: GatewayProcess): Promise<string> {
    const res = await fetch(`${gateway.baseUrl}/key/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { logging: [{ callback_name: 'otel', callback_type: 'success', callback_vars: { otel_endpoint: logs.url } }] } }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { key: string }).key;
  }

  async function chat(gateway: GatewayProcess, key: string, headers: Record<string, string>, mark: string, stream = false, model = 'traced-gpt'): Promise<{ requestId: string; callId: string }> {
    const res = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: `hello ${mark}` }], ...(stream ? { stream: true } : {}) }),
    });
    const text = await res.text();
    expect([res.status, text]).toEqual([200, expect.any(String)]);
    return { requestId: res.headers.get('x-request-id') as string, callId: res.headers.get('x-litellm-call-id') as string };
  }

  /** The traceparent the upstream received for the call carrying `mark`. */
  function upstreamTraceparent(mark: string): string | undefined {
    const received = upstream.requests.filter((r) => r.rawBody.includes(mark));
    expect(received).toHaveLength(1);
    const value = received[0].headers.traceparent;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /**
   * Per thread of the stopped gateway (by thread id): the files it loaded that belong to OpenTelemetry or are
   * otel-tracing.js, and what is registered in OpenTelemetry's global API slot (see loaded-modules.js).
   */
  function loadedModules(modulesFile: string): Record<string, { loaded: string[]; registered: string[] }> {
    const dir = join(modulesFile, '..');
    const prefix = `${modulesFile.slice(dir.length + 1)}.`;
    const out: Record<string, { loaded: string[]; registered: string[] }> = {};
    for (const name of readdirSync(dir).filter((file) => file.startsWith(prefix))) {
      out[name.slice(prefix.length, -'.json'.length)] = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { loaded: string[]; registered: string[] };
    }
    return out;
  }

  async function stop(gateway: GatewayProcess): Promise<void> {
    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit(60_000)).toBe(0);
  }

  const spanWith = (spans: ReceivedSpan[], key: string, value: unknown): ReceivedSpan => {
    const found = spans.filter((s) => s.attributes[key] === value);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const parentOf = (span: ReceivedSpan): string => span.parentSpanId ?? '';

  it(
    "one trace from the caller's span through the request and upstream spans to the upstream; delivery batches as spans; all exported at SIGTERM",
    async () => {
      // Spans are exported only by the shutdown flush here (a one-minute batch delay): what arrives proves it.
      const gateway = await start('on', {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${collectorKey}`,
        OTEL_SERVICE_NAME: 'gatehouse-e2e',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=e2e',
        OTEL_BSP_SCHEDULE_DELAY: '60000',
      });
      const key = await loggedKey(gateway);

      const traced = await chat(gateway, key, { traceparent: CALLER_TRACEPARENT, tracestate: 'caller=1' }, 'mark-traced');
      const streamed = await chat(gateway, key, { traceparent: CALLER_TRACEPARENT }, 'mark-streamed', true);
      const malformedParent = `00-${CALLER_TRACE.toUpperCase()}-${CALLER_SPAN}-01`;
      const malformed = await chat(gateway, key, { traceparent: malformedParent, tracestate: 'caller=1' }, 'mark-malformed');
      const fresh = await chat(gateway, key, {}, 'mark-fresh');
      upstream.next({ type: 'status', status: 503, body: '{"error": {"message": "overloaded"}}' });
      const retried = await chat(gateway, key, { traceparent: CALLER_TRACEPARENT }, 'mark-retried', false, 'traced-retry');
      // The call records reach the logging destination before the gateway stops.
      await waitFor('5 call records at the logging destination', () => logs.spans().length >= 5 && logs.spans());
      expect(collector.requests).toEqual([]);
      await stop(gateway);

      const spans = collector.uniqueSpans();
      expect(spans.every((s) => s.resource['service.name'] === 'gatehouse-e2e' && s.resource['deployment.environment'] === 'e2e')).toBe(true);
      const serverSpans = spans.filter((s) => s.kind === 2);
      const upstreamSpans = spans.filter((s) => s.name === 'chat gpt-4o-mini');

      // The caller's traceparent: request span child of the caller's span, upstream span child of the request span,
      // and the upstream got a traceparent naming the upstream span in the same trace (with the caller's tracestate).
      const request = spanWith(serverSpans, 'gatehouse.request_id', traced.requestId);
      expect(request).toMatchObject({ traceId: CALLER_TRACE, name: 'POST /v1/chat/completions' });
      expect(parentOf(request)).toBe(CALLER_SPAN);
      expect(request.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v1/chat/completions', 'http.response.status_code': 200, 'gatehouse.call_id': traced.callId });
      const client = upstreamSpans.find((s) => parentOf(s) === request.spanId) as ReceivedSpan;
      expect(client).toMatchObject({ traceId: CALLER_TRACE, kind: 3 });
      expect(client.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gatehouse.model_group': 'traced-gpt', 'http.response.status_code': 200 });
      expect(upstreamTraceparent('mark-traced')).toBe(`00-${CALLER_TRACE}-${client.spanId}-01`);
      expect(upstream.requests.find((r) => r.rawBody.includes('mark-traced'))?.headers.tracestate).toBe('caller=1');

      // A stream: its upstream span ends with the stream and is in the caller's trace too.
      const streamRequest = spanWith(serverSpans, 'gatehouse.request_id', streamed.requestId);
      const streamClient = upstreamSpans.find((s) => parentOf(s) === streamRequest.spanId) as ReceivedSpan;
      expect(streamClient.attributes['gatehouse.stream']).toBe(true);
      expect(upstreamTraceparent('mark-streamed')).toBe(`00-${CALLER_TRACE}-${streamClient.spanId}-01`);
      // Within its parent; the SDK anchors each span's clock on Date.now(), so two spans' times agree to a millisecond only.
      expect(BigInt(streamClient.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(streamRequest.endTimeUnixNano) + 1_000_000n);
      expect(BigInt(streamClient.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(streamRequest.startTimeUnixNano) - 1_000_000n);

      // A malformed traceparent is ignored: a new trace, and the caller's tracestate is not passed on.
      const malformedRequest = spanWith(serverSpans, 'gatehouse.request_id', malformed.requestId);
      expect(parentOf(malformedRequest)).toBe('');
      expect(malformedRequest.traceId).not.toBe(CALLER_TRACE);
      const malformedClient = upstreamSpans.find((s) => parentOf(s) === malformedRequest.spanId) as ReceivedSpan;
      expect(upstreamTraceparent('mark-malformed')).toBe(`00-${malformedRequest.traceId}-${malformedClient.spanId}-01`);
      expect(upstream.requests.find((r) => r.rawBody.includes('mark-malformed'))?.headers.tracestate).toBeUndefined();

      // No traceparent: a new trace all the same, propagated to the upstream.
      const freshRequest = spanWith(serverSpans, 'gatehouse.request_id', fresh.requestId);
      expect(parentOf(freshRequest)).toBe('');
      expect(upstreamTraceparent('mark-fresh')).toMatch(new RegExp(`^00-${freshRequest.traceId}-[0-9a-f]{16}-01$`));

      // A retry is an upstream call of its own: two client spans under the request's, the first failed with the 503,
      // and each attempt named its own span as the upstream's parent.
      const retriedRequest = spanWith(serverSpans, 'gatehouse.request_id', retried.requestId);
      const attempts = upstreamSpans.filter((s) => parentOf(s) === retriedRequest.spanId);
      expect(attempts).toHaveLength(2);
      // In the order the upstream received them, by the span each traceparent names.
      const sent = upstream.requests.filter((r) => r.rawBody.includes('mark-retried')).map((r) => String(r.headers.traceparent));
      const inOrder = sent.map((traceparent) => attempts.find((s) => traceparent === `00-${CALLER_TRACE}-${s.spanId}-01`));
      expect(inOrder.map((s) => [s?.attributes['http.response.status_code'], s?.status?.code ?? 0, typeof s?.attributes['error.type']])).toEqual([
        [503, 2, 'string'],
        [200, 0, 'undefined'],
      ]);

      // Delivery batches of the logging destination, measured in the delivery thread, exported by the main thread.
      const batches = spans.filter((s) => s.name === 'deliver otel');
      expect(batches.length).toBeGreaterThan(0);
      expect(batches.reduce((sum, s) => sum + Number(s.attributes['gatehouse.delivery.delivered']), 0)).toBe(5);
      for (const batch of batches) {
        expect(batch.attributes).toMatchObject({ 'gatehouse.destination.kind': 'otel', 'gatehouse.destination.source': 'key', 'gatehouse.delivery.outcome': 'delivered' });
        expect(parentOf(batch)).toBe('');
      }

      // The caller's trace context never reaches a logging destination, in any form; no secret reaches the collector.
      const logged = logs.requests.map((r) => r.body.toString('latin1') + r.body.toString('hex')).join('\n');
      expect(logs.spans().length).toBeGreaterThanOrEqual(5);
      for (const id of [CALLER_TRACE, CALLER_SPAN, 'caller=1']) expect(logged).not.toContain(id);
      const exported = collector.requests.map((r) => r.body.toString('latin1')).join('\n');
      for (const value of [masterKey, key, upstreamKey, collectorKey, 'hello mark']) expect(exported).not.toContain(value);
      expect(gateway.output()).not.toContain(collectorKey);
      expect(gateway.output()).toContain('tracing on: spans go to');

      // Tracing on loads the SDK in the request loop (the control for the test below: the probe sees what is loaded)
      // and registers nothing global that outlives it: no tracer provider, no context manager, no propagator (its diag
      // logger is removed at shutdown).
      const modules = loadedModules(gateway.modulesFile);
      expect(modules['0'].loaded.some((path) => path.includes('@opentelemetry/sdk-trace-base'))).toBe(true);
      expect(modules['0'].loaded.some((path) => path.endsWith('otel-tracing.js'))).toBe(true);
      expect(modules['0'].registered).toEqual([]);
      // The delivery thread only measures its batches: it loads no SDK.
      const threads = Object.keys(modules).filter((thread) => thread !== '0');
      expect(threads.length).toBeGreaterThan(0);
      for (const thread of threads) expect(modules[thread].loaded.filter((path) => !path.includes('@opentelemetry/api/'))).toEqual([]);
    },
    180_000,
  );

  it('exports OTLP/JSON while running when asked (OTEL_EXPORTER_OTLP_PROTOCOL=http/json)', async () => {
    const gateway = await start('json', {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: `authorization=Bearer%20${collectorKey}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    const before = collector.requests.length;
    const { requestId } = await chat(gateway, masterKey, { traceparent: CALLER_TRACEPARENT }, 'mark-json');
    const request = await waitFor('the request span', () => collector.uniqueSpans().find((s) => s.attributes['gatehouse.request_id'] === requestId));
    expect(collector.requests.slice(before).every((r) => r.headers['content-type'] === 'application/json')).toBe(true);
    expect(request.resource['service.name']).toBe('gatehouse');
    expect(parentOf(request)).toBe(CALLER_SPAN);
    await stop(gateway);
  }, 120_000);

  it('with no endpoint: not one OpenTelemetry file is loaded in either thread, and the upstream gets no traceparent', async () => {
    const gateway = await start('off', {});
    const key = await loggedKey(gateway);
    await chat(gateway, key, { traceparent: CALLER_TRACEPARENT, tracestate: 'caller=1' }, 'mark-off');
    const headers = upstream.requests.find((r) => r.rawBody.includes('mark-off'))?.headers;
    expect(headers?.traceparent).toBeUndefined();
    expect(headers?.tracestate).toBeUndefined();
    await waitFor('the call record at the logging destination', () => logs.spans().some((s) => s.attributes['gatehouse.call_id'] !== undefined && JSON.stringify(s).includes('mark-off')));
    await stop(gateway);

    const modules = loadedModules(gateway.modulesFile);
    // Both threads wrote their list: the request loop's (thread 0) and the delivery thread's.
    expect(Object.keys(modules).length).toBeGreaterThanOrEqual(2);
    for (const { loaded, registered } of Object.values(modules)) {
      // Only OpenTelemetry's API, which prom-client loads for its exemplars whatever the gateway does (a no-op facade):
      // no SDK, exporter, propagator or otel-tracing.js; and nothing registered, so no context manager either.
      expect(loaded.filter((path) => !path.includes('/node_modules/@opentelemetry/api/'))).toEqual([]);
      expect(registered).toEqual([]);
    }
    expect(gateway.output()).not.toContain('tracing on');
  }, 120_000);
});
