import { NO_LIMITS } from '../budgets/usage-limits';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeUpstream, unusedPort, type FakeUpstreamOptions } from '../../test/support/fake-upstream';
import { SecretRedactor } from '../common/secret-redactor';
import type { ModelDeployment } from '../config/gateway-config.types';
import { AppException, toErrorBody } from '../errors';
import { ModelAccess } from '../keys/model-access';
import type { Principal } from '../keys/principal';
import { CALL_RECORD, type RequestWithCallRecord } from '../logging/request/call-record';
import type { StandardLoggingPayload } from '../logging/standard-logging-payload';
import { CompletionsService } from './completions.service';
import { DeploymentTable } from './deployment-table';

/** The parts of the gateway's JSON answers these tests read: a chat completion, an embedding list or an error body. */
interface AnswerJson {
  choices: Array<{ message: { content: string } }>;
  usage: { completion_tokens: number };
  error: { code: string; message: string; type?: string; param?: string };
}

/** The parts of a recorded `response` these tests read: the assembled completion, or the embeddings without vectors. */
interface RecordedResponse {
  choices: Array<{ message: { content: string } }>;
  data: unknown[];
}

/**
 * Drives the service through a bare Node server (no Nest): the global filter's part is played by a few
 * lines that render AppException, the logging interceptor's by collecting `request[CALL_RECORD]`.
 */
class Harness {
  readonly records: StandardLoggingPayload[] = [];
  private pendingRecords: Array<Promise<unknown>> = [];
  principal: Principal = principal(null);

  private constructor(
    private readonly server: Server,
    readonly table: DeploymentTable,
  ) {}

  static async start(modelList: ModelDeployment[]): Promise<Harness> {
    const table = new DeploymentTable(modelList, { env: {} });
    const service = new CompletionsService(table, new SecretRedactor([]));
    let harness: Harness | null = null;
    const server = createServer((req, res) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) {
          chunks.push(chunk as Buffer);
        }
        const tracked = req as IncomingMessage & RequestWithCallRecord & { body?: unknown; principal?: Principal };
        tracked.body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
        tracked.principal = (harness as Harness).principal;
        const route = (req.url ?? '').split('?')[0];
        try {
          await (route.endsWith('/embeddings') ? service.embeddings(tracked, res, route) : service.chat(tracked, res, route));
        } catch (error) {
          const app = error instanceof AppException ? error : new AppException('internal_error', String(error));
          res.writeHead(app.status, { ...app.headers, 'content-type': 'application/json' });
          res.end(JSON.stringify(toErrorBody(app)));
        }
        const record = tracked[CALL_RECORD];
        if (record) {
          (harness as Harness).pendingRecords.push(
            new Promise((resolve) => record.whenSettled((build) => resolve((harness as Harness).records.push(build())))),
          );
        }
      })();
    });
    harness = new Harness(server, table);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return harness;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async post(path: string, body: unknown): Promise<{ status: number; headers: Record<string, unknown>; text: string; json: AnswerJson }> {
    const response = await fetch(this.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    // `json` is null when the body is not JSON; the tests read it only where they expect JSON.
    return { status: response.status, headers: Object.fromEntries(response.headers.entries()), text, json: json as AnswerJson };
  }

  /** Waits for the records of every finished request. */
  async settled(count: number): Promise<StandardLoggingPayload[]> {
    for (let i = 0; i < 100 && this.records.length < count; i++) {
      await Promise.all(this.pendingRecords);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.records;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.table.close();
  }
}

function principal(allowedModels: string[] | null): Principal {
  return {
    kind: 'key',
    isProxyAdmin: false,
    role: null,
    keyHash: 'hash-1',
    keyAlias: 'alias-1',
    teamId: 'team-1',
    teamAlias: 'Team One',
    allowedModels: allowedModels ? ModelAccess.of(allowedModels, []) : null,
    keyMetadata: {},
    teamMetadata: {},
    teamLoggingDisabled: false,
    userId: null,
    adminTeamIds: [],
    limits: NO_LIMITS,
  };
}

function openai(model_name: string, apiBase: string, extra: Record<string, unknown> = {}, info: Record<string, unknown> = {}): ModelDeployment {
  return { model_name, litellm_params: { model: `openai/${model_name}-upstream`, api_base: apiBase, ...extra }, model_info: info };
}

/** Swaps a fake for one with other options, closing the old one so no server outlives the test. */
async function restart(fake: FakeUpstream, options: FakeUpstreamOptions): Promise<FakeUpstream> {
  await fake.close();
  return FakeUpstream.start(options);
}

const chatBody = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'Hi' }], ...extra });

describe(CompletionsService.name, () => {
  let a: FakeUpstream;
  let b: FakeUpstream;
  let gateway: Harness | null = null;

  beforeEach(async () => {
    a = await FakeUpstream.start({ content: 'from A' });
    b = await FakeUpstream.start({ content: 'from B' });
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = null;
    await a.close();
    await b.close();
  });

  it('spreads calls round robin over the deployments of a model', async () => {
    gateway = await Harness.start([openai('m', a.url), openai('m', b.url)]);
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      answers.push((await gateway.post('/v1/chat/completions', chatBody('m'))).json.choices[0].message.content);
    }
    expect(answers).toEqual(['from A', 'from B', 'from A', 'from B']);
    expect([a.count, b.count]).toEqual([2, 2]);
  });

  it('forwards the upstream bytes unchanged, with the deployment key and model, not the caller headers', async () => {
    gateway = await Harness.start([openai('m', a.url, { api_key: 'sk-upstream-secret' }, { input_cost_per_token: 0.001, output_cost_per_token: 0.002 })]);
    const response = await gateway.post('/v1/chat/completions', chatBody('m', { temperature: 0.3, brand_new_param: { x: 1 }, metadata: { tags: ['t1'] } }));
    expect(response.status).toBe(200);
    expect(response.text).toBe(a.last.sent);
    expect(a.last.headers.authorization).toBe('Bearer sk-upstream-secret');
    expect(a.last.body).toEqual({ model: 'm-upstream', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.3, brand_new_param: { x: 1 } });
    const [record] = await gateway.settled(1);
    expect(record.status).toBe('success');
    expect(record.litellm_call_id).toBe(response.headers['x-litellm-call-id']);
    expect(record.id).toBe('chatcmpl-fake-1');
    expect(record.model).toBe('m-upstream');
    expect(record.model_group).toBe('m');
    expect(record.api_base).toBe(a.url);
    expect([record.prompt_tokens, record.completion_tokens, record.total_tokens]).toEqual([11, 7, 18]);
    expect(record.response_cost).toBeCloseTo(11 * 0.001 + 7 * 0.002, 10);
    expect(record.request_tags).toEqual(['t1']);
    expect(record.metadata.user_api_key_hash).toBe('hash-1');
    expect(record.metadata.team_alias).toBe('Team One');
    expect(JSON.stringify(record)).not.toContain('sk-upstream-secret');
  });

  it('fails over to the next deployment on a 5xx and on a refused connection', async () => {
    const dead = `http://127.0.0.1:${await unusedPort()}/v1`;
    gateway = await Harness.start([openai('m', a.url), openai('m', dead), openai('m', b.url)]);
    a.next({ type: 'status', status: 500, body: '{"error":{"message":"boom"}}' });
    const response = await gateway.post('/v1/chat/completions', chatBody('m'));
    expect(response.status).toBe(200);
    expect(response.json.choices[0].message.content).toBe('from B');
    expect([a.count, b.count]).toEqual([1, 1]);
    const [record] = await gateway.settled(1);
    expect(record.status).toBe('success');
    expect(record.api_base).toBe(b.url);
  });

  it('gives each deployment its retries, then answers with the last upstream status', async () => {
    gateway = await Harness.start([openai('m', a.url, { max_retries: 2 }), openai('m', b.url)]);
    const failing = { type: 'status' as const, status: 503, body: '{"error":{"message":"unavailable"}}' };
    a.next(failing, failing, failing);
    b.next(failing);
    const response = await gateway.post('/v1/chat/completions', chatBody('m'));
    expect(response.status).toBe(503);
    expect(response.json.error).toMatchObject({ code: 'upstream_error', type: 'api_error' });
    expect(response.json.error.message).toContain('unavailable');
    expect([a.count, b.count]).toEqual([3, 1]);
    const records = await gateway.settled(1);
    expect(records).toHaveLength(1);
    expect(records[0].error_information?.error_code).toBe('503');
  });

  it('retries a 429 on the next deployment (as LiteLLM does), and a lone 429 keeps its retry-after', async () => {
    gateway = await Harness.start([openai('m', a.url), openai('m', b.url), openai('solo', a.url)]);
    const rateLimited = { type: 'status' as const, status: 429, body: '{"error":{"message":"rate"}}', headers: { 'retry-after': '12' } };
    a.next(rateLimited);
    const retried = await gateway.post('/v1/chat/completions', chatBody('m'));
    expect(retried.status).toBe(200);
    expect(retried.json.choices[0].message.content).toBe('from B');
    a.next(rateLimited);
    const response = await gateway.post('/v1/chat/completions', chatBody('solo'));
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBe('12');
    expect(b.count).toBe(1);
  });

  it('times out with 504 at the deployment timeout', async () => {
    gateway = await Harness.start([openai('m', a.url, { timeout: 0.3 })]);
    a.next({ type: 'hang' });
    const started = Date.now();
    const response = await gateway.post('/v1/chat/completions', chatBody('m'));
    expect(response.status).toBe(504);
    expect(response.json.error.code).toBe('upstream_timeout');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('streams chunk by chunk, strips the usage chunk it asked for, and records the assembled answer', async () => {
    a = await restart(a, { content: 'one two three' });
    gateway = await Harness.start([openai('m', a.url, {}, { input_cost_per_token: 1, output_cost_per_token: 1 })]);
    const response = await gateway.post('/v1/chat/completions', chatBody('m', { stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/event-stream');
    expect(a.last.body?.stream_options).toEqual({ include_usage: true });
    const usageEvent = a.last.sent.split('\n\n').find((e) => e.includes('"choices":[]'));
    expect(usageEvent).toBeDefined();
    expect(response.text).toBe(a.last.sent.replace(`${usageEvent}\n\n`, ''));
    expect(response.text.endsWith('data: [DONE]\n\n')).toBe(true);
    const [record] = await gateway.settled(1);
    expect(record.stream).toBe(true);
    expect(record.status).toBe('success');
    expect((record.response as RecordedResponse).choices[0].message.content).toBe('one two three');
    expect(record.total_tokens).toBe(18);
    expect(record.response_cost).toBe(18);
    expect(record.completionStartTime).toBeGreaterThanOrEqual(record.startTime);
    expect(record.completionStartTime).toBeLessThanOrEqual(record.endTime);
  });

  it('passes the usage chunk through when the caller asked for it', async () => {
    gateway = await Harness.start([openai('m', a.url)]);
    const response = await gateway.post('/v1/chat/completions', chatBody('m', { stream: true, stream_options: { include_usage: true } }));
    expect(response.text).toBe(a.last.sent);
  });

  it('ends a stream the upstream cut with an error event and records the partial answer', async () => {
    a = await restart(a, { content: 'one two three four' });
    gateway = await Harness.start([openai('m', a.url)]);
    a.next({ type: 'close-mid-stream', afterChunks: 2 });
    const response = await gateway.post('/v1/chat/completions', chatBody('m', { stream: true }));
    expect(response.status).toBe(200);
    const events = response.text.trim().split('\n\n');
    expect((JSON.parse(events[events.length - 1].slice(6)) as AnswerJson).error.code).toBe('upstream_error');
    const [record] = await gateway.settled(1);
    expect(record.status).toBe('failure');
    expect((record.response as RecordedResponse).choices[0].message.content).toBe('one two ');
    expect(record.completion_tokens).toBeGreaterThan(0);
  });

  it('aborts the upstream when the client leaves mid-stream and records client_disconnected', async () => {
    a = await restart(a, { content: 'a b c d e f g h i j', chunkDelayMs: 100 });
    gateway = await Harness.start([openai('m', a.url)]);
    const req = httpRequest(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.end(JSON.stringify(chatBody('m', { stream: true })));
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    await once(res, 'data');
    req.destroy();
    await a.waitForAbort();
    const [record] = await gateway.settled(1);
    expect(record.status).toBe('failure');
    expect(record.error_information?.error_code).toBe('client_disconnected');
    expect(record.stream).toBe(true);
  });

  it('aborts the upstream when the client leaves before a non-stream answer', async () => {
    gateway = await Harness.start([openai('m', a.url)]);
    a.next({ type: 'hang' });
    const req = httpRequest(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end(JSON.stringify(chatBody('m')));
    await a.waitForRequests(1);
    req.destroy();
    await a.waitForAbort();
    const [record] = await gateway.settled(1);
    expect(record.error_information?.error_code).toBe('client_disconnected');
  });

  it('enforces the allowed models before looking the model up', async () => {
    gateway = await Harness.start([openai('m', a.url), openai('other', a.url)]);
    gateway.principal = principal(['other']);
    const denied = await gateway.post('/v1/chat/completions', chatBody('m'));
    expect(denied.status).toBe(401);
    expect(denied.json.error).toMatchObject({ type: 'key_model_access_denied', code: 'key_model_access_denied', param: 'model' });
    expect(denied.json.error.message).toContain('Tried to access m');
    gateway.principal = principal(null);
    const unknown = await gateway.post('/v1/chat/completions', chatBody('nope'));
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(a.count).toBe(0);
    const records = await gateway.settled(2);
    expect(records.map((r) => r.error_information?.error_code)).toEqual(['401', '400']);
  });

  it('answers from the mock provider, streamed or not', async () => {
    gateway = await Harness.start([{ model_name: 'fake', litellm_params: { model: 'mock/x' }, model_info: {} }]);
    const plain = await gateway.post('/v1/chat/completions', chatBody('fake'));
    expect(plain.json.choices[0].message.content).toBe('This is a mock response from Gatehouse.');
    expect(plain.json.usage.completion_tokens).toBe(10);
    const streamed = await gateway.post('/v1/chat/completions', chatBody('fake', { stream: true, stream_options: { include_usage: true } }));
    expect(streamed.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(streamed.text).toContain('"usage":{"prompt_tokens":1');
    const records = await gateway.settled(2);
    expect(records.map((r) => [r.status, r.custom_llm_provider, r.completion_tokens])).toEqual([
      ['success', 'mock', 10],
      ['success', 'mock', 10],
    ]);
  });

  it('forwards embeddings and records them without the vectors', async () => {
    gateway = await Harness.start([openai('emb', a.url)]);
    const response = await gateway.post('/v1/embeddings', { model: 'emb', input: ['x', 'y'] });
    expect(response.status).toBe(200);
    expect(response.text).toBe(a.last.sent);
    expect(a.last.path).toBe('/v1/embeddings');
    const [record] = await gateway.settled(1);
    expect(record.call_type).toBe('aembedding');
    expect(record.messages).toEqual(['x', 'y']);
    expect((record.response as RecordedResponse).data[0]).toEqual({ object: 'embedding', index: 0, dimensions: 3 });
    expect(record.prompt_tokens).toBe(10);
  });
});
