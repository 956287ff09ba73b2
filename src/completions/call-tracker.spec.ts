import { NO_LIMITS } from '../budgets/usage-limits';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { CALL_RECORD } from '../logging/request/call-record';
import type { CachePlan } from '../cache/response-cache.service';
import { CallTracker, CLIENT_GONE, type TrackedRequest } from './call-tracker';
import { DeploymentTable } from './deployment-table';
import { SseRelay } from './sse-relay';

const principal: Principal = {
  kind: 'key',
  isProxyAdmin: false,
  role: null,
  keyHash: 'abc123',
  keyAlias: 'my-key',
  teamId: 'team-a',
  teamAlias: 'Team A',
  allowedModels: null,
  keyMetadata: { logging: [{ callback_vars: { langfuse_secret_key: 'sk-lf-secret' } }] },
  teamMetadata: {},
  teamLoggingDisabled: false,
  userId: null,
  adminTeamIds: [],
  limits: NO_LIMITS,
};

/** Just enough of a ServerResponse: headers, status and the close/finish lifecycle. */
class FakeResponse extends EventEmitter {
  statusCode = 200;
  writableFinished = false;
  readonly headers: Record<string, string> = {};
  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  finish(): void {
    this.writableFinished = true;
    this.emit('close');
  }
  disconnect(): void {
    this.emit('close');
  }
}

function setup(body: unknown = null) {
  const req: TrackedRequest & { body?: unknown } = {
    headers: { 'user-agent': 'test-agent/1.0', 'x-litellm-trace-id': 'trace-from-header', authorization: 'Bearer sk-raw-virtual-key' },
    ip: '10.1.2.3',
    socket: { remoteAddress: '10.1.2.3' },
    principal,
    body,
  };
  const res = new FakeResponse();
  const tracker = new CallTracker(req, res as unknown as ServerResponse, 'acompletion', '/v1/chat/completions');
  return { req, res, tracker };
}

const table = new DeploymentTable(
  [
    {
      model_name: 'gpt-4o',
      litellm_params: { model: 'openai/gpt-4o-real', api_base: 'http://127.0.0.1:1/v1', api_key: 'sk-upstream' },
      model_info: { id: 'dep-1', input_cost_per_token: 0.5, output_cost_per_token: 1 },
    },
  ],
  { env: {} },
);
const deployment = table.group('gpt-4o')!.deployments[0];
afterAll(() => table.close());

describe(CallTracker.name, () => {
  it('attaches the pending record and the call id header at once, and settles only when the response closes', async () => {
    const { req, res, tracker } = setup();
    expect(req[CALL_RECORD]).toBe(tracker);
    expect(res.headers['x-litellm-call-id']).toBe(tracker.callId);
    let settled = false;
    void tracker.done.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    res.finish();
    await tracker.done;
  });

  it('builds a complete success record from the upstream bytes', async () => {
    const body = {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.1,
      user: 'end-user-7',
      metadata: { tags: ['a'], trace_id: 'trace-from-body', user_api_key_alias: 'spoofed', session_id: 's1' },
    };
    const { res, tracker } = setup(body);
    tracker.body = body;
    tracker.deployment = deployment;
    tracker.dispatched();
    tracker.answeredWithBytes(
      Buffer.from(JSON.stringify({ id: 'chatcmpl-9', choices: [{ message: { content: 'yo' } }], usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } })),
    );
    res.finish();
    const record = await tracker.done;
    expect(record).toMatchObject({
      id: 'chatcmpl-9',
      trace_id: 'trace-from-body',
      litellm_call_id: tracker.callId,
      call_type: 'acompletion',
      stream: false,
      status: 'success',
      custom_llm_provider: 'openai',
      model: 'gpt-4o-real',
      model_group: 'gpt-4o',
      model_id: 'dep-1',
      api_base: 'http://127.0.0.1:1/v1',
      response_cost: 4,
      cost_breakdown: { input_cost: 2, output_cost: 2, total_cost: 4 },
      prompt_tokens: 4,
      completion_tokens: 2,
      total_tokens: 6,
      cache_hit: false,
      request_tags: ['a'],
      end_user: 'end-user-7',
      requester_ip_address: '10.1.2.3',
      user_agent: 'test-agent/1.0',
      messages: body.messages,
      model_parameters: { temperature: 0.1, user: 'end-user-7' },
      error_str: null,
      error_information: null,
      metadata: {
        user_api_key_hash: 'abc123',
        user_api_key_alias: 'my-key',
        user_api_key_team_id: 'team-a',
        user_api_key_team_alias: 'Team A',
        user_api_key_end_user_id: 'end-user-7',
        user_api_key_request_route: '/v1/chat/completions',
        requester_metadata: { tags: ['a'], trace_id: 'trace-from-body', session_id: 's1' },
        team_id: 'team-a',
        team_alias: 'Team A',
      },
    });
    expect(record.endTime).toBeGreaterThanOrEqual(record.completionStartTime);
    expect(record.completionStartTime).toBeGreaterThanOrEqual(record.startTime);
    expect(record.hidden_params.litellm_overhead_time_ms).not.toBeNull();
    const text = JSON.stringify(record);
    for (const secret of ['sk-upstream', 'sk-raw-virtual-key', 'sk-lf-secret', 'spoofed']) {
      expect(text).not.toContain(secret);
    }
  });

  it('records a failure with the status as error_code and the header trace id as fallback', async () => {
    const { res, tracker } = setup({ model: 'gpt-4o', messages: [] });
    tracker.body = { model: 'gpt-4o', messages: [] };
    tracker.deployment = deployment;
    tracker.failed(new AppException('rate_limited', 'slow down', { status: 429 }));
    res.statusCode = 429;
    res.finish();
    const record = await tracker.done;
    expect(record.status).toBe('failure');
    expect(record.trace_id).toBe('trace-from-header');
    expect(record.error_str).toBe('slow down');
    expect(record.error_information).toEqual({ error_code: '429', error_class: 'RateLimitError', llm_provider: 'openai', error_message: 'slow down' });
    expect(record.response).toBeNull();
    expect(record.response_cost).toBe(0);
  });

  it('answers a failure while the client waits, and not once the client has gone (or the service said so)', () => {
    const waiting = setup();
    const failure = new AppException('upstream_error', 'boom');
    expect(waiting.tracker.failed(failure)).toBe(failure);
    expect(waiting.tracker.failed('not an Error')).toEqual(new Error('not an Error'));
    expect(waiting.tracker.failed(CLIENT_GONE)).toBeNull();

    const gone = setup();
    gone.res.disconnect();
    expect(gone.tracker.failed(failure)).toBeNull();
  });

  it('records a cache hit: no cost, the cache key, as bytes or as a replayed stream', async () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
    const answer = { id: 'chatcmpl-cached', choices: [{ index: 0, message: { role: 'assistant', content: 'again' } }], usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } };
    const plain = setup(body);
    plain.tracker.body = body;
    plain.tracker.deployment = deployment;
    plain.tracker.cachePlan = { key: 'cache-key-1' } as CachePlan;
    plain.tracker.answeredFromCache({ bytes: Buffer.from(JSON.stringify(answer)) });
    plain.res.finish();
    const hit = await plain.tracker.done;
    expect(hit).toMatchObject({ status: 'success', cache_hit: true, cache_key: 'cache-key-1', response_cost: 0, total_tokens: 6, id: 'chatcmpl-cached' });
    expect(hit.completionStartTime).toBeGreaterThanOrEqual(hit.startTime);

    const streamed = setup({ ...body, stream: true });
    streamed.tracker.body = { ...body, stream: true };
    streamed.tracker.stream = true;
    streamed.tracker.deployment = deployment;
    streamed.tracker.answeredFromCache({
      events: ['{"id":"chatcmpl-cached","choices":[{"index":0,"delta":{"role":"assistant","content":"again"}}]}', '{"id":"chatcmpl-cached","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}'],
    });
    streamed.res.finish();
    const replayed = await streamed.tracker.done;
    expect(replayed).toMatchObject({ status: 'success', stream: true, cache_hit: true, response_cost: 0, total_tokens: 6 });
    expect((replayed.response as { choices: Array<{ message: { content: string } }> }).choices[0].message.content).toBe('again');
  });

  it('records a request whose body never parsed', async () => {
    const { res, tracker } = setup();
    tracker.failed(new AppException('validation_failed', 'The request body must be a JSON object'));
    res.finish();
    const record = await tracker.done;
    expect(record.model_group).toBe('');
    expect(record.messages).toBeNull();
    expect(record.model_parameters).toEqual({});
    expect(record.error_information?.error_code).toBe('400');
  });

  it('aborts the upstream and records client_disconnected with the partial stream when the client leaves', async () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'tell me a story' }], stream: true };
    const { res, tracker } = setup(body);
    tracker.body = body;
    tracker.stream = true;
    tracker.deployment = deployment;
    const relay = new SseRelay(true);
    relay.push(Buffer.from('data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Once upon"}}]}\n\n'));
    tracker.streamStarted(relay);
    let aborted = false;
    tracker.upstreamAbort.once('abort', () => (aborted = true));
    res.disconnect();
    const record = await tracker.done;
    expect(aborted).toBe(true);
    expect(tracker.clientGone).toBe(true);
    expect(record.status).toBe('failure');
    expect(record.stream).toBe(true);
    expect(record.error_information?.error_code).toBe('client_disconnected');
    expect((record.response as { choices: Array<{ message: { content: string } }> }).choices[0].message.content).toBe('Once upon');
    // No usage chunk arrived: the tokens are estimated rather than reported as zero.
    expect(record.completion_tokens).toBe(3);
    expect(record.prompt_tokens).toBe(4);
    expect(record.completionStartTime).toBeGreaterThan(0);
  });
});

describe('what metrics read of a settled call', () => {
  /** The record's verdict, which failure() must repeat without building it. */
  async function agree(tracker: CallTracker) {
    const record = await tracker.done;
    const failure = tracker.failure();
    expect(failure === null).toBe(record.status === 'success');
    if (failure !== null) expect([failure.code, failure.errorClass]).toEqual([record.error_information?.error_code, record.error_information?.error_class]);
    return failure;
  }

  it('says answered, failed (with the record\'s code and class), or gone, as the record does', async () => {
    const answered = setup();
    answered.tracker.answeredWithBytes(Buffer.from('{"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'));
    answered.res.finish();
    expect(await agree(answered.tracker)).toBeNull();

    const refused = setup();
    refused.tracker.failed(new AppException('rate_limited', 'slow down', { status: 429 }));
    refused.res.statusCode = 429;
    refused.res.finish();
    expect(await agree(refused.tracker)).toEqual({ code: '429', errorClass: 'RateLimitError', midStream: false });

    const broken = setup();
    broken.tracker.stream = true;
    broken.tracker.streamStarted(new SseRelay(true));
    broken.tracker.streamEnded(new AppException('upstream_error', 'the upstream stream broke off', { status: 502 }));
    broken.res.finish();
    expect(await agree(broken.tracker)).toEqual({ code: '502', errorClass: 'APIConnectionError', midStream: true });

    const gone = setup();
    gone.tracker.stream = true;
    gone.tracker.streamStarted(new SseRelay(true));
    gone.res.disconnect();
    expect(await agree(gone.tracker)).toEqual({ code: 'client_disconnected', errorClass: 'ClientDisconnected', midStream: false });

    const outside = setup();
    outside.res.statusCode = 413;
    outside.res.finish();
    expect(await agree(outside.tracker)).toMatchObject({ code: '500', errorClass: 'Error' });
  });

  it('times the request, the upstream call from its last dispatch, and a stream\'s first token', async () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const plain = setup();
    expect(plain.tracker.upstreamSeconds).toBe(-1);
    await sleep(30);
    plain.tracker.dispatched();
    plain.tracker.answeredWithBytes(Buffer.from('{}'));
    await sleep(30);
    plain.res.finish();
    expect(plain.tracker.requestSeconds).toBeGreaterThanOrEqual(0.055);
    expect(plain.tracker.upstreamSeconds).toBeGreaterThanOrEqual(0.025);
    expect(plain.tracker.upstreamSeconds).toBeLessThan(plain.tracker.requestSeconds - 0.02);
    // Only streams have a time to first token.
    expect(plain.tracker.firstTokenSeconds).toBe(-1);

    const streamed = setup();
    streamed.tracker.stream = true;
    streamed.tracker.dispatched();
    const relay = new SseRelay(true);
    streamed.tracker.streamStarted(relay);
    await sleep(40);
    relay.push(Buffer.from('data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'));
    await sleep(20);
    streamed.res.finish();
    expect(streamed.tracker.firstTokenSeconds).toBeGreaterThanOrEqual(0.035);
    expect(streamed.tracker.firstTokenSeconds).toBeLessThan(streamed.tracker.upstreamSeconds);
  });
});

describe('embedding records', () => {
  it('keep the vector sizes, not the vectors, for float and base64 answers', async () => {
    const { res, tracker } = setup();
    const embedTracker = new CallTracker(
      { headers: {}, socket: {}, principal },
      res as unknown as ServerResponse,
      'aembedding',
      '/v1/embeddings',
    );
    void tracker;
    const base64 = Buffer.from(new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5]).buffer).toString('base64');
    embedTracker.answeredWithBytes(
      Buffer.from(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [1, 2] }, { object: 'embedding', index: 1, embedding: base64 }] })),
    );
    res.finish();
    const record = await embedTracker.done;
    expect((record.response as { data: unknown[] }).data).toEqual([
      { object: 'embedding', index: 0, dimensions: 2 },
      { object: 'embedding', index: 1, dimensions: 5 },
    ]);
  });
});
