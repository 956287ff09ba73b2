import type { GeneratedKeyJson, NewTeamJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { postJson } from '../support/post-json';
import { createTestApp, type TestApp } from '../support/test-app';

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Every sample of `name` in a Prometheus text page. */
function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, label, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[label] = value;
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

/** The one sample of `name` whose labels include `labels` (fails on none or several). */
function value(text: string, name: string, labels: Record<string, string>): number {
  const found = samples(text, name).filter((s) => Object.entries(labels).every(([label, wanted]) => s.labels[label] === wanted));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} with ${JSON.stringify(labels)}:\n${samples(text, name).map((s) => JSON.stringify(s)).join('\n')}`);
  return found[0].value;
}

const USAGE = { prompt_tokens: 13, completion_tokens: 5 };
const INPUT_COST = 0.000002;
const OUTPUT_COST = 0.000008;

function config(ok: FakeUpstream, broken: FakeUpstream): string {
  return `
model_list:
  - model_name: chat-model
    litellm_params:
      model: openai/upstream-chat
      api_base: ${ok.url}
    model_info:
      id: chat-deployment
      input_cost_per_token: ${INPUT_COST}
      output_cost_per_token: ${OUTPUT_COST}
  - model_name: broken-model
    litellm_params:
      model: openai/upstream-broken
      api_base: ${broken.url}
    model_info:
      id: broken-deployment
router_settings:
  num_retries: 1
`;
}

async function newKey(gw: TestApp, body: Record<string, unknown>): Promise<GeneratedKeyJson> {
  const generated = await gw.http().post('/key/generate').set('Authorization', `Bearer ${gw.masterKey}`).send(body);
  expect(generated.status).toBe(200);
  return generated.body as GeneratedKeyJson;
}

function chat(gw: TestApp, key: string, model: string, stream = false) {
  return postJson(`${gw.baseUrl}/v1/chat/completions`, key, { model, messages: [{ role: 'user', content: 'Hello' }], stream });
}

describe('/metrics: LiteLLM metrics after real calls, process metrics, default access', () => {
  let gw: TestApp;
  let ok: FakeUpstream;
  let broken: FakeUpstream;
  let key: GeneratedKeyJson;
  let teamId: string;
  let page: string;

  beforeAll(async () => {
    ok = await FakeUpstream.start({ usage: USAGE, chunkDelayMs: 5 });
    broken = await FakeUpstream.start({ behaviour: { type: 'status', status: 500, body: '{"error":{"message":"deployment broken"}}' } });
    gw = await createTestApp({ configYaml: config(ok, broken) });
    const team = await gw.http().post('/team/new').set('Authorization', `Bearer ${gw.masterKey}`).send({ team_alias: 'Metrics Team' });
    expect(team.status).toBe(200);
    teamId = (team.body as NewTeamJson).team_id;
    key = await newKey(gw, { key_alias: 'metrics-key', team_id: teamId, max_budget: 5, model_rpm_limit: { 'chat-model': 100 } });

    expect((await chat(gw, key.key, 'chat-model')).status).toBe(200);
    const streamed = await chat(gw, key.key, 'chat-model', true);
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain('data: [DONE]');
    expect((await chat(gw, key.key, 'broken-model')).status).toBe(500);
    const scraped = await gw.http().get('/metrics').set('Authorization', `Bearer ${gw.masterKey}`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
    page = scraped.text;
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([ok, broken].map((fake) => fake?.close()));
  });

  const caller = () => ({ hashed_api_key: key.token, api_key_alias: 'metrics-key', team: teamId, team_alias: 'Metrics Team' });

  it('counts requests and failures per key, team and requested model, with the status and exception class', () => {
    expect(value(page, 'litellm_proxy_total_requests_metric_total', { ...caller(), end_user: '', requested_model: 'chat-model', status_code: '200' })).toBe(2);
    expect(value(page, 'litellm_proxy_total_requests_metric_total', { ...caller(), requested_model: 'broken-model', status_code: '500' })).toBe(1);
    expect(value(page, 'litellm_proxy_failed_requests_metric_total', { ...caller(), requested_model: 'broken-model', exception_status: '500', exception_class: 'APIError' })).toBe(1);
    expect(samples(page, 'litellm_proxy_failed_requests_metric_total')).toHaveLength(1);
  });

  it("counts the fake upstream's tokens and the spend they cost, per key, team, model and requested model", () => {
    const labels = { ...caller(), model: 'upstream-chat', requested_model: 'chat-model' };
    expect(value(page, 'litellm_input_tokens_metric_total', labels)).toBe(2 * USAGE.prompt_tokens);
    expect(value(page, 'litellm_output_tokens_metric_total', labels)).toBe(2 * USAGE.completion_tokens);
    expect(value(page, 'litellm_total_tokens_metric_total', labels)).toBe(2 * (USAGE.prompt_tokens + USAGE.completion_tokens));
    const spend = value(page, 'litellm_spend_metric_total', { ...caller(), model: 'upstream-chat' });
    expect(spend).toBeGreaterThan(0);
    expect(spend).toBeCloseTo(2 * (USAGE.prompt_tokens * INPUT_COST + USAGE.completion_tokens * OUTPUT_COST), 12);
  });

  it('times requests and upstream calls, and the first token of the stream only', () => {
    expect(value(page, 'litellm_request_total_latency_metric_count', { ...caller(), model: 'upstream-chat', requested_model: 'chat-model' })).toBe(2);
    expect(value(page, 'litellm_llm_api_latency_metric_count', { ...caller(), model: 'upstream-chat', requested_model: 'chat-model' })).toBe(2);
    expect(value(page, 'litellm_llm_api_time_to_first_token_metric_count', { ...caller(), model: 'upstream-chat' })).toBe(1);
    const firstToken = value(page, 'litellm_llm_api_time_to_first_token_metric_sum', { model: 'upstream-chat' });
    const upstream = value(page, 'litellm_llm_api_latency_metric_sum', { model: 'upstream-chat' });
    expect(firstToken).toBeGreaterThan(0);
    expect(firstToken).toBeLessThan(upstream);
    expect(value(page, 'litellm_llm_api_time_to_first_token_metric_bucket', { model: 'upstream-chat', le: '+Inf' })).toBe(1);
  });

  it('counts upstream calls per deployment: successes, and every failed attempt (retries included)', () => {
    const chatDeployment = { requested_model: 'chat-model', litellm_model_name: 'upstream-chat', model_id: 'chat-deployment', api_base: ok.url, api_provider: 'openai', ...caller() };
    expect(value(page, 'litellm_deployment_success_responses_total', chatDeployment)).toBe(2);
    expect(value(page, 'litellm_deployment_total_requests_total', chatDeployment)).toBe(2);
    // num_retries: 1 — the router tried the broken deployment twice: two failures of it.
    expect(broken.count).toBe(2);
    const brokenDeployment = { requested_model: 'broken-model', litellm_model_name: 'upstream-broken', model_id: 'broken-deployment', api_provider: 'openai', ...caller() };
    expect(value(page, 'litellm_deployment_failure_responses_total', { ...brokenDeployment, exception_status: '500', exception_class: 'InternalServerError' })).toBe(2);
    expect(value(page, 'litellm_deployment_total_requests_total', brokenDeployment)).toBe(2);
    expect(samples(page, 'litellm_deployment_success_responses_total').filter((s) => s.labels.model_id === 'broken-deployment')).toEqual([]);
  });

  it("shows the key's remaining budget and what its model rpm limit has left", () => {
    const spend = value(page, 'litellm_spend_metric_total', { model: 'upstream-chat' });
    expect(value(page, 'litellm_remaining_api_key_budget_metric', { hashed_api_key: key.token, api_key_alias: 'metrics-key' })).toBeCloseTo(5 - spend, 12);
    expect(value(page, 'litellm_api_key_max_budget_metric', { hashed_api_key: key.token })).toBe(5);
    // Two calls were counted against the key's limit for chat-model (the broken one asked for another model).
    expect(value(page, 'litellm_remaining_api_key_requests_for_model', { hashed_api_key: key.token, api_key_alias: 'metrics-key', model: 'chat-model' })).toBe(98);
  });

  it("has prom-client's process and Node.js metrics, the delivery and HTTP metrics as before, and never a raw key", () => {
    for (const family of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds']) {
      expect(page).toContain(`# TYPE ${family} `);
    }
    expect(value(page, 'gatehouse_http_requests_total', { method: 'POST', route: '/v1/chat/completions', status: '200' })).toBeGreaterThanOrEqual(2);
    expect(page).toContain('# TYPE gatehouse_log_events_enqueued_total counter');
    expect(page).not.toContain(key.key);
    expect(page).not.toContain(gw.masterKey);
  });

  it('is a well-formed text page: every sample of a family declared once, no series twice', () => {
    const declared = new Map<string, string>();
    const seen = new Set<string>();
    for (const line of page.split('\n')) {
      if (line === '' || line.startsWith('# HELP ')) continue;
      const type = /^# TYPE ([a-zA-Z_:][\w:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type) {
        expect(declared.has(type[1])).toBe(false);
        declared.set(type[1], type[2]);
        continue;
      }
      const sample = /^([a-zA-Z_:][\w:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$/.exec(line);
      if (sample === null) throw new Error(`not a sample line: ${line}`);
      const [, name, labels = '', text] = sample;
      const histogramPart = /^(.*)_(bucket|sum|count)$/.exec(name);
      const family = declared.has(name) ? name : histogramPart !== null && ['histogram', 'summary'].includes(declared.get(histogramPart[1]) ?? '') ? histogramPart[1] : undefined;
      if (family === undefined) throw new Error(`a sample of no declared family: ${line}`);
      expect(Number.isNaN(Number(text)) && !['+Inf', '-Inf', 'NaN'].includes(text)).toBe(false);
      expect(seen.has(name + labels)).toBe(false);
      seen.add(name + labels);
    }
    expect(declared.get('litellm_proxy_total_requests_metric_total')).toBe('counter');
    expect(declared.get('litellm_llm_api_time_to_first_token_metric')).toBe('histogram');
  });

  it('is the proxy admin\'s by default: 401 without a key, 403 with a plain key, 200 with the master key', async () => {
    expect((await gw.http().get('/metrics')).status).toBe(401);
    expect((await gw.http().get('/metrics').set('Authorization', `Bearer ${key.key}`)).status).toBe(403);
    expect((await gw.http().get('/metrics').set('Authorization', `Bearer ${gw.masterKey}`)).status).toBe(200);
  });
});

describe('/metrics with METRICS_PUBLIC=true and a small METRICS_MAX_KEY_SERIES', () => {
  let gw: TestApp;
  let ok: FakeUpstream;
  let broken: FakeUpstream;

  beforeAll(async () => {
    ok = await FakeUpstream.start({ usage: USAGE });
    broken = await FakeUpstream.start({ behaviour: { type: 'status', status: 500, body: '{}' } });
    gw = await createTestApp({ configYaml: config(ok, broken), env: { METRICS_PUBLIC: 'true', METRICS_MAX_KEY_SERIES: '2' } });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([ok, broken].map((fake) => fake?.close()));
  });

  it('answers scrapers without a key', async () => {
    const scraped = await gw.http().get('/metrics');
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('# TYPE process_cpu_user_seconds_total counter');
  });

  it('gives the first keys series of their own and counts every later key under "other", losing no call', async () => {
    const keys: GeneratedKeyJson[] = [];
    for (let i = 1; i <= 4; i++) keys.push(await newKey(gw, { key_alias: `bounded-${i}` }));
    for (const [index, each] of keys.entries()) {
      for (let call = 0; call <= index; call++) expect((await chat(gw, each.key, 'chat-model')).status).toBe(200);
    }
    const page = (await gw.http().get('/metrics')).text;
    const requests = samples(page, 'litellm_proxy_total_requests_metric_total');
    expect(requests.map((s) => [s.labels.hashed_api_key, s.labels.api_key_alias, s.value])).toEqual([
      [keys[0].token, 'bounded-1', 1],
      [keys[1].token, 'bounded-2', 2],
      ['other', 'other', 3 + 4],
    ]);
    expect(samples(page, 'litellm_input_tokens_metric_total').reduce((sum, s) => sum + s.value, 0)).toBe(10 * USAGE.prompt_tokens);
    for (const each of keys.slice(2)) expect(page).not.toContain(each.token);
  });
});
