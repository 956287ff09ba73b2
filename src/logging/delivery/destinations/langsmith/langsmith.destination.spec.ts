import { FakeLangsmith } from '../../../../../test/support/fakes/fake-langsmith';
import { failurePayload, samplePayload } from '../../../../../test/support/fakes/sample-payload';
import type { DeliveryItem } from '../../../log-destination';
import { LangsmithDestination, type LangsmithSettings } from './langsmith.destination';

const API_KEY = 'lsv2_pt_CANARY_9e8d7c';

function item(eventId: string, overrides: Parameters<typeof samplePayload>[0] = {}): DeliveryItem {
  return { eventId, payload: samplePayload({ litellm_call_id: eventId.split(':')[0], ...overrides }) };
}

describe('LangsmithDestination', () => {
  let fake: FakeLangsmith;
  let destination: LangsmithDestination;
  let settings: LangsmithSettings;

  const parse = (vars: Record<string, string>): LangsmithSettings => {
    const parsed = destination.parseSettings(vars);
    if (!('settings' in parsed)) {
      throw new Error(JSON.stringify(parsed.errors));
    }
    return parsed.settings;
  };

  beforeEach(async () => {
    fake = await FakeLangsmith.start({ apiKeys: [API_KEY] });
    destination = new LangsmithDestination({ requestTimeoutMs: 2_000 });
    settings = parse({ langsmith_api_key: API_KEY, langsmith_project: 'team-a-project', langsmith_base_url: fake.url });
  });

  afterEach(async () => {
    await destination.close();
    await fake.close();
  });

  it('parses settings with LiteLLM defaults', () => {
    expect(destination.parseSettings({ langsmith_api_key: 'k' })).toEqual({
      settings: { baseUrl: 'https://api.smith.langchain.com', apiKey: 'k', project: 'default' },
    });
    expect(destination.parseSettings({ langsmith_project: 'p' })).toMatchObject({ errors: [{ field: 'langsmith_api_key' }] });
  });

  it('posts one llm run per event into the project', async () => {
    expect(await destination.send([item('call-1:ls')], settings)).toEqual({ ok: true });
    const [run] = fake.runs(API_KEY, 'team-a-project');
    expect(run.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(run).toMatchObject({
      trace_id: run.id,
      dotted_order: `20260101T000000250000Z${run.id}`,
      run_type: 'llm',
      name: 'litellm-acompletion',
      start_time: '2026-01-01T00:00:00.250Z',
      end_time: '2026-01-01T00:00:01.000Z',
      inputs: { messages: [{ role: 'user', content: 'Hello, Claude gm!' }] },
      outputs: { choices: [{ message: { role: 'assistant', content: 'gm!' } }], usage_metadata: { input_tokens: 10, output_tokens: 5, total_tokens: 15 } },
      tags: ['prod'],
      extra: {
        invocation_params: { model: 'gpt-4o-mini', temperature: 0.2 },
        metadata: { team_id: 'team-a', user_api_key_alias: 'ci-key', user_api_key_hash: 'hash-of-key-1', litellm_call_id: 'call-1', ls_provider: 'openai' },
      },
    });
    expect(run.error).toBeUndefined();
  });

  it('puts the router’s attempts before the answer in the run’s metadata', async () => {
    const attempt = { model_group: 'gpt-4o', model_id: 'primary', model: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1', error_class: 'InternalServerError', error_code: '500', duration_ms: 41.2 };
    const metadata = { ...samplePayload().metadata, attempted_retries: 0, attempted_fallbacks: 1, failed_attempts: [attempt] };
    await destination.send([item('call-r:ls', { metadata })], settings);
    expect(fake.runs(API_KEY)[0].extra).toMatchObject({ metadata: { attempted_retries: 0, attempted_fallbacks: 1, failed_attempts: [attempt] } });
  });

  it('records failures with the error string', async () => {
    await destination.send([{ eventId: 'call-f:ls', payload: failurePayload({ litellm_call_id: 'call-f' }) }], settings);
    expect(fake.runs(API_KEY)[0]).toMatchObject({ error: 'RateLimitError: upstream said slow down', outputs: {} });
  });

  it('is idempotent on redelivery, also when a batch mixes old and new runs', async () => {
    expect(await destination.send([item('call-2:ls')], settings)).toEqual({ ok: true });
    expect(await destination.send([item('call-2:ls')], settings)).toEqual({ ok: true });
    expect(fake.runs(API_KEY)).toHaveLength(1);
    expect(await destination.send([item('call-2:ls'), item('call-3:ls')], settings)).toEqual({ ok: true });
    expect(fake.runs(API_KEY)).toHaveLength(2);
  });

  it('reports a wrong key as not retryable', async () => {
    const wrong = parse({ langsmith_api_key: 'lsv2_wrong', langsmith_base_url: fake.url });
    expect(await destination.send([item('call-4:ls')], wrong)).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/HTTP 401/) as unknown });
  });

  it.each([
    [503, '5', 5_000],
    [429, '1', 1_000],
  ])('reports %s as retryable with Retry-After', async (status, retryAfter, ms) => {
    fake.setFailure({ status, retryAfter, times: 1 });
    expect(await destination.send([item('call-5:ls')], settings)).toMatchObject({ ok: false, retryable: true, retryAfterMs: ms });
  });

  it('reports connection refused as retryable', async () => {
    await fake.refuseConnections();
    expect(await destination.send([item('call-6:ls')], settings)).toEqual({ ok: false, retryable: true, error: `cannot reach ${fake.url}: ECONNREFUSED` });
  });

  it('sends the API key only in x-api-key', async () => {
    await destination.send([{ eventId: 'call-7:ls', payload: samplePayload({ model_parameters: { langsmith_api_key: API_KEY, api_key: API_KEY } }) }], settings);
    await destination.checkHealth(settings);
    for (const request of fake.requests) {
      expect(request.text).not.toContain(API_KEY);
      for (const [name, value] of Object.entries(request.headers)) {
        if (name !== 'x-api-key') {
          expect(String(value)).not.toContain(API_KEY);
        }
      }
    }
  });

  describe('checkHealth', () => {
    it('is healthy with a valid key and writes nothing', async () => {
      expect(await destination.checkHealth(settings)).toEqual({ healthy: true, details: `LangSmith accepted the API key at ${fake.url}` });
      expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/sessions' });
      expect(fake.runs(API_KEY)).toHaveLength(0);
    });

    it('is unhealthy with a wrong key or an unreachable host', async () => {
      const wrong = parse({ langsmith_api_key: 'lsv2_wrong_CANARY', langsmith_base_url: fake.url });
      const health = await destination.checkHealth(wrong);
      expect(health).toEqual({ healthy: false, details: `LangSmith rejected the API key (HTTP 401) at ${fake.url}` });
      await fake.refuseConnections();
      expect(await destination.checkHealth(settings)).toEqual({ healthy: false, details: `cannot reach ${fake.url}: ECONNREFUSED` });
    });
  });
});
