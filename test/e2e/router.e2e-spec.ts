import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoggingService } from '../../src/logging/request/logging.service';
import type { StandardLoggingPayload } from '../../src/logging/standard-logging-payload';
import type { ChatCompletionJson, ErrorJson, FetchedAnswer, GeneratedKeyJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { postJson } from '../support/post-json';
import { AZURE_CONTENT_FILTERED } from '../support/fakes/fake-azure-openai';
import { FakeAnthropic } from '../support/fakes/fake-anthropic';
import { sleep } from '../support/logging/harness';
import { RecordingLogging } from '../support/recording-logging';
import { createTestApp, type TestApp } from '../support/test-app';

const ANTHROPIC_KEY = 'sk-ant-api03-router-e2e-key-0123456789abcdef';
const SONNET = 'claude-sonnet-4-5-20250929';
const OPENAI_CONTEXT_ERROR = JSON.stringify({
  error: {
    message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
    type: 'invalid_request_error',
    param: 'messages',
    code: 'context_length_exceeded',
  },
});
const CLAUDE_ANSWER = 'Hello from the fake Anthropic!';

/**
 * Issue 25 item 2, LiteLLM's router through the whole app: two providers (an OpenAI-style fake and the Anthropic fake)
 * in one model group and as each other's fallbacks, `router_settings` in LiteLLM's forms, and the one log event per
 * client call that names the deployment that answered and the attempts before it.
 */
describe('router: strategies, retries, fallbacks and cooldowns across providers', () => {
  let gw: TestApp;
  let recorder: RecordingLogging;
  let primary: FakeUpstream;
  let pairOpenAi: FakeUpstream;
  let longContext: FakeUpstream;
  let anthropic: FakeAnthropic;

  beforeAll(async () => {
    primary = await FakeUpstream.start({ content: 'from the primary' });
    pairOpenAi = await FakeUpstream.start({ content: 'from the OpenAI half of the pair' });
    longContext = await FakeUpstream.start({ content: 'from the long-context model' });
    anthropic = await FakeAnthropic.start({ apiKeys: [ANTHROPIC_KEY] });
    recorder = new RecordingLogging();
    gw = await createTestApp({
      override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, api_base: "${primary.url}", api_key: sk-primary-upstream-key }
    model_info: { id: primary-openai }
  - model_name: claude-sonnet
    litellm_params: { model: anthropic/${SONNET}, api_base: "${anthropic.url}", api_key: ${ANTHROPIC_KEY} }
    model_info: { id: claude }
  - model_name: long-context
    litellm_params: { model: openai/gpt-4.1, api_base: "${longContext.url}" }
    model_info: { id: long-context }
  - model_name: pair
    litellm_params: { model: openai/pair-model, api_base: "${pairOpenAi.url}", weight: 3 }
    model_info: { id: pair-openai }
  - model_name: pair
    litellm_params: { model: anthropic/${SONNET}, api_base: "${anthropic.url}", api_key: ${ANTHROPIC_KEY}, weight: 1 }
    model_info: { id: pair-anthropic }
  - model_name: "anthropic/*"
    litellm_params: { model: "anthropic/*", api_base: "${anthropic.url}", api_key: ${ANTHROPIC_KEY} }
    model_info: { id: any-claude }
router_settings:
  routing_strategy: simple-shuffle
  allowed_fails: 1
  cooldown_time: 1
  fallbacks: [{"gpt-4o": ["claude-sonnet"]}]
  context_window_fallbacks: [{"gpt-4o": ["long-context"]}, {"claude-sonnet": ["long-context"]}]
  content_policy_fallbacks: [{"gpt-4o": ["claude-sonnet"]}]
`,
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([primary?.close(), pairOpenAi?.close(), longContext?.close(), anthropic?.close()]);
  });

  beforeEach(() => {
    for (const fake of [primary, pairOpenAi, longContext]) fake.reset();
    anthropic.reset();
  });

  function post(body: Record<string, unknown>, auth = gw.masterKey): Promise<FetchedAnswer> {
    return postJson(`${gw.baseUrl}/v1/chat/completions`, auth, { messages: [{ role: 'user', content: 'Hi' }], ...body });
  }

  function contentOf(answer: FetchedAnswer): string | null {
    return (answer.json as ChatCompletionJson).choices[0].message.content;
  }

  /** The call's record, after checking the call produced exactly one. */
  async function onlyRecordOf(answer: FetchedAnswer): Promise<StandardLoggingPayload> {
    const callId = answer.headers['x-litellm-call-id'];
    const record = await recorder.recordFor(callId);
    await sleep(50);
    expect(recorder.records.filter((r) => r.payload.litellm_call_id === callId)).toHaveLength(1);
    return record;
  }

  it('spreads a two-provider group by weight (3:1) within ±10 % over 1,000 calls, and both providers answer', async () => {
    const calls = 1000;
    const answers = new Map<string, number>();
    // 20 at a time: the shares are the router's choice, not the order the calls arrive in.
    for (let sent = 0; sent < calls; sent += 20) {
      for (const answer of await Promise.all(Array.from({ length: 20 }, () => post({ model: 'pair' })))) {
        expect(answer.status).toBe(200);
        const content = contentOf(answer) ?? '';
        answers.set(content, (answers.get(content) ?? 0) + 1);
      }
    }
    const openAiCalls = answers.get('from the OpenAI half of the pair') ?? 0;
    expect(openAiCalls / calls).toBeGreaterThanOrEqual(0.75 * 0.9);
    expect(openAiCalls / calls).toBeLessThanOrEqual(0.75 * 1.1);
    expect(answers.get(CLAUDE_ANSWER)).toBe(calls - openAiCalls);
  });

  it('cools a deployment answering 500 down after allowed_fails, and brings it back after cooldown_time', async () => {
    const broken = { type: 'status' as const, status: 500, body: '{"error":{"message":"deployment broken"}}' };
    pairOpenAi.next(broken, broken);
    // Each failure falls over to the Anthropic deployment of the group; the second one (> allowed_fails: 1) cools it down.
    while (pairOpenAi.count < 2) {
      const answer = await post({ model: 'pair' });
      expect(answer.status).toBe(200);
    }
    const failedAt = Date.now();
    for (let i = 0; i < 20; i++) expect(contentOf(await post({ model: 'pair' }))).toBe(CLAUDE_ANSWER);
    expect(Date.now() - failedAt).toBeLessThan(1000); // all 20 fell inside the cooldown
    expect(pairOpenAi.count).toBe(2);
    await sleep(1000 - (Date.now() - failedAt) + 100);
    for (let i = 0; i < 40 && pairOpenAi.count === 2; i++) await post({ model: 'pair' });
    expect(pairOpenAi.count).toBeGreaterThan(2);
  });

  it('falls back to another provider on a 500: 200, and one log event naming both attempts', async () => {
    primary.next({ type: 'status', status: 500, body: '{"error":{"message":"primary is down"}}' });
    const answer = await post({ model: 'gpt-4o' });
    expect(answer.status).toBe(200);
    expect(contentOf(answer)).toBe(CLAUDE_ANSWER);
    expect(answer.headers['x-litellm-attempted-fallbacks']).toBe('1');
    const record = await onlyRecordOf(answer);
    expect(record).toMatchObject({ status: 'success', model_group: 'claude-sonnet', model_id: 'claude', custom_llm_provider: 'anthropic', model: SONNET });
    expect(record.metadata).toMatchObject({
      attempted_fallbacks: 1,
      attempted_retries: 0,
      failed_attempts: [
        {
          model_group: 'gpt-4o',
          model_id: 'primary-openai',
          model: 'gpt-4o',
          custom_llm_provider: 'openai',
          api_base: primary.url,
          error_class: 'InternalServerError',
          error_code: '500',
        },
      ],
    });
    expect(record.metadata.failed_attempts?.[0].duration_ms).toBeGreaterThan(0);
    expect(JSON.stringify(record)).not.toContain('sk-primary-upstream-key');
    expect(JSON.stringify(record)).not.toContain(ANTHROPIC_KEY);
  });

  it('a call answered at the first try carries no routing fields and no attempt headers', async () => {
    const answer = await post({ model: 'gpt-4o' });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-litellm-attempted-fallbacks']).toBeUndefined();
    const record = await onlyRecordOf(answer);
    expect(record.metadata.failed_attempts).toBeUndefined();
    expect(record.model_group).toBe('gpt-4o');
  });

  it('context-window fallbacks trigger on OpenAI\'s context_length_exceeded and on Anthropic\'s "prompt is too long"', async () => {
    primary.next({ type: 'status', status: 400, body: OPENAI_CONTEXT_ERROR });
    const fromOpenAi = await post({ model: 'gpt-4o' });
    expect(fromOpenAi.status).toBe(200);
    expect(contentOf(fromOpenAi)).toBe('from the long-context model');
    expect(anthropic.calls).toHaveLength(0); // the generic fallback (claude-sonnet) is not used for this error
    const openAiRecord = await onlyRecordOf(fromOpenAi);
    expect(openAiRecord.metadata.failed_attempts?.[0]).toMatchObject({ error_class: 'ContextWindowExceededError', error_code: '400' });

    anthropic.next({ type: 'error', status: 400, errorType: 'invalid_request_error', message: 'prompt is too long: 208310 tokens > 200000 maximum' });
    const fromAnthropic = await post({ model: 'claude-sonnet' });
    expect(fromAnthropic.status).toBe(200);
    expect(contentOf(fromAnthropic)).toBe('from the long-context model');
    expect(longContext.count).toBe(2);
  });

  it('content-policy fallbacks trigger on Azure\'s content_filter 400', async () => {
    primary.next({ type: 'status', status: 400, body: JSON.stringify(AZURE_CONTENT_FILTERED) });
    const answer = await post({ model: 'gpt-4o' });
    expect(answer.status).toBe(200);
    expect(contentOf(answer)).toBe(CLAUDE_ANSWER);
    const record = await onlyRecordOf(answer);
    expect(record.metadata.failed_attempts?.[0]).toMatchObject({ error_class: 'ContentPolicyViolationError', error_code: '400' });
  });

  it('a caller\'s 4xx is neither retried nor sent to a fallback', async () => {
    primary.next({ type: 'status', status: 400, body: '{"error":{"message":"temperature must be at most 2","param":"temperature"}}' });
    const answer = await post({ model: 'gpt-4o', temperature: 3 });
    expect(answer.status).toBe(400);
    expect((answer.json as ErrorJson).error.code).toBe('validation_failed');
    expect(anthropic.calls).toHaveLength(0);
    expect(longContext.count).toBe(0);
    expect(primary.count).toBe(1);
  });

  it('a stream falls back before its first byte, and is never retried after it', async () => {
    primary.next({ type: 'status', status: 503, body: '{"error":{"message":"unavailable"}}' });
    const before = await post({ model: 'gpt-4o', stream: true });
    expect(before.status).toBe(200);
    expect(before.text).toContain('Hello');
    expect(anthropic.calls).toHaveLength(1);

    primary.next({ type: 'close-mid-stream', afterChunks: 2 });
    const after = await post({ model: 'gpt-4o', stream: true });
    expect(after.status).toBe(200);
    const events = after.text.trim().split('\n\n');
    expect(JSON.parse(events[events.length - 1].slice('data: '.length))).toMatchObject({ error: { code: 'upstream_error' } });
    expect(primary.count).toBe(2);
    expect(anthropic.calls).toHaveLength(1); // no fallback once the client had bytes
    const record = await onlyRecordOf(after);
    expect(record.status).toBe('failure');
    expect(record.metadata.failed_attempts).toBeUndefined();
  });

  it('takes fallbacks, num_retries and mock_testing_fallbacks from the request body, and never sends them upstream', async () => {
    const mocked = await post({ model: 'long-context', fallbacks: ['claude-sonnet'], mock_testing_fallbacks: true });
    expect(mocked.status).toBe(200);
    expect(contentOf(mocked)).toBe(CLAUDE_ANSWER);
    expect(longContext.count).toBe(0);
    expect(JSON.stringify(anthropic.calls[0].json)).not.toMatch(/fallbacks|mock_testing/);
    const record = await onlyRecordOf(mocked);
    expect(record.metadata).toMatchObject({ attempted_fallbacks: 1, failed_attempts: [{ model_id: 'long-context', error_class: 'InternalServerError', error_code: '500' }] });

    const plain = await post({ model: 'gpt-4o', num_retries: 0, fallbacks: ['long-context'] });
    expect(plain.status).toBe(200);
    expect(Object.keys(primary.last.body ?? {})).not.toEqual(expect.arrayContaining(['num_retries']));
    expect(primary.last.body).not.toHaveProperty('fallbacks');

    const bad = await post({ model: 'gpt-4o', fallbacks: 'claude-sonnet' });
    expect(bad.status).toBe(400);
    expect((bad.json as ErrorJson).error).toMatchObject({ code: 'validation_failed', param: 'fallbacks' });
  });

  it('a call’s own timeout (`timeout` in the body, or x-litellm-timeout) beats the deployment’s, and never goes upstream', async () => {
    longContext.next({ type: 'hang' }, { type: 'hang' });
    for (const [body, headers] of [[{ timeout: 0.3 }, {}], [{}, { 'x-litellm-timeout': '0.3' }]] as const) {
      const started = performance.now();
      const answer = await postJson(`${gw.baseUrl}/v1/chat/completions`, gw.masterKey, { model: 'long-context', messages: [{ role: 'user', content: 'Hi' }], ...body }, headers);
      expect([answer.status, (answer.json as ErrorJson).error.code]).toEqual([504, 'upstream_timeout']);
      expect((answer.json as ErrorJson).error.message).toContain('within 0.3s');
      expect(performance.now() - started).toBeLessThan(3000);
    }
    const answered = await post({ model: 'long-context', timeout: 30, stream_timeout: 10 });
    expect(answered.status).toBe(200);
    expect(longContext.requests.at(-1)?.body).not.toHaveProperty('timeout');
    expect(longContext.requests.at(-1)?.body).not.toHaveProperty('stream_timeout');
    const refused = await post({ model: 'long-context', timeout: 'soon' });
    expect([refused.status, (refused.json as ErrorJson).error.param]).toEqual([400, 'timeout']);
  });

  it('a fallback a model_name pattern serves is routed like a request: the pattern fills in the model', async () => {
    const answer = await post({ model: 'gpt-4o', mock_testing_fallbacks: true, fallbacks: ['anthropic/claude-haiku-4-5'] });
    expect(answer.status).toBe(200);
    expect(contentOf(answer)).toBe(CLAUDE_ANSWER);
    expect(anthropic.calls.map((call) => (call.json as { model?: string }).model)).toEqual(['claude-haiku-4-5']);
    const record = await onlyRecordOf(answer);
    expect(record).toMatchObject({ model: 'claude-haiku-4-5', custom_llm_provider: 'anthropic', model_id: 'any-claude' });
  });

  it('a key may not name a fallback model it is not allowed to use', async () => {
    const generated = await gw.http().post('/key/generate').set('Authorization', `Bearer ${gw.masterKey}`).send({ models: ['gpt-4o'] });
    const key = (generated.body as GeneratedKeyJson).key;
    const answer = await post({ model: 'gpt-4o', fallbacks: ['claude-sonnet'] }, key);
    expect(answer.status).toBe(401);
    expect((answer.json as ErrorJson).error).toMatchObject({ code: 'key_model_access_denied', param: 'fallbacks' });
    expect(primary.count).toBe(0);
  });
});

/** The README's Routing example, read from the README itself, answers its curl as the README says. */
describe('router: the README example', () => {
  let gw: TestApp;

  beforeAll(async () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Routing\n'));
    const configYaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(configYaml).toContain('router_settings:');
    gw = await createTestApp({ configYaml });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('mock_testing_fallbacks answers from the fallback, with the attempt headers', async () => {
    const answer = await postJson(`${gw.baseUrl}/v1/chat/completions`, gw.masterKey, {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Hello' }],
      mock_testing_fallbacks: true,
    });
    expect(answer.status).toBe(200);
    expect((answer.json as ChatCompletionJson).choices[0].message.content).toBe('from claude-sonnet');
    expect(answer.headers['x-litellm-attempted-fallbacks']).toBe('1');
    expect(answer.headers['x-litellm-attempted-retries']).toBe('0');
  });
});
