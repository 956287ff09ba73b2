import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { NO_LIMITS } from '../budgets/usage-limits';
import type { Principal } from '../keys/principal';
import { CallTracker, type TrackedRequest } from './call-tracker';
import { streamUsage, trailingUsage } from './call-usage';
import { DeploymentTable } from './deployment-table';

const usage = { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 };
const bytes = (value: unknown, space?: number) => Buffer.from(JSON.stringify(value, null, space));

describe('trailingUsage', () => {
  it('reads the usage that closes an answer, compact or indented, with members after it', () => {
    expect(trailingUsage(bytes({ id: 'x', choices: [{ message: { content: 'hi' } }], usage }))).toEqual(usage);
    expect(trailingUsage(bytes({ id: 'x', choices: [], usage }, 2))).toEqual(usage);
    expect(trailingUsage(bytes({ usage, system_fingerprint: 'fp_1', service_tier: 'default' }))).toEqual(usage);
    expect(trailingUsage(bytes({ object: 'list', data: [{ embedding: [0.1, -0.2] }], usage: { prompt_tokens: 3, total_tokens: 3 } }))).toEqual({
      prompt_tokens: 3,
      total_tokens: 3,
    });
  });

  it('gives up (undefined) on a nested usage, a usage inside text, or none, so the caller parses the whole answer', () => {
    expect(trailingUsage(bytes({ choices: [{ message: { usage: { prompt_tokens: 99 } } }] }))).toBeUndefined();
    expect(trailingUsage(bytes({ choices: [{ message: { content: 'the "usage": {"prompt_tokens": 99} field' } }] }))).toBeUndefined();
    expect(trailingUsage(bytes({ id: 'x' }))).toBeUndefined();
    expect(trailingUsage(Buffer.from('{"usage": {"prompt_tokens": 1'))).toBeUndefined();
    expect(trailingUsage(Buffer.from('{"usage": null}'))).toBeUndefined();
    expect(trailingUsage(Buffer.from('{"usage": null, "x": {"prompt_tokens": 9}}'))).toBeUndefined();
  });
});

describe('streamUsage', () => {
  it('reads the usage chunk among the last events, the last one that has a usage', () => {
    const events = [JSON.stringify({ choices: [{ delta: { content: 'a' } }] }), JSON.stringify({ choices: [], usage }), JSON.stringify({ choices: [], usage: null })];
    expect(streamUsage(events)).toEqual(usage);
    expect(streamUsage(events.slice(0, 1))).toBeUndefined();
  });
});

describe('CallTracker.usage', () => {
  const table = new DeploymentTable(
    [{ model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o', api_base: 'http://127.0.0.1:1/v1', api_key: 'sk-x' }, model_info: { input_cost_per_token: 0.5, output_cost_per_token: 1 } }],
    { env: {} },
  );
  afterAll(() => table.close());
  const principal: Principal = {
    kind: 'key', isProxyAdmin: false, role: null, keyHash: 'abc', keyAlias: null, teamId: null, teamAlias: null, allowedModels: null,
    keyMetadata: {}, teamMetadata: {}, teamLoggingDisabled: false, userId: null, adminTeamIds: [], limits: NO_LIMITS,
  };

  function finished(answer: (tracker: CallTracker) => void): CallTracker {
    const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: false, setHeader: () => undefined });
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], user: 'customer-1' };
    const req = { headers: {}, ip: '127.0.0.1', socket: { remoteAddress: '127.0.0.1' }, principal, body } as TrackedRequest & { body: unknown };
    const tracker = new CallTracker(req, res as unknown as ServerResponse, 'acompletion', '/v1/chat/completions');
    tracker.body = body;
    tracker.deployment = table.group('gpt-4o')!.deployments[0];
    answer(tracker);
    res.writableFinished = true;
    res.emit('close');
    return tracker;
  }

  it.each([
    ['bytes with a trailing usage', (t: CallTracker) => t.answeredWithBytes(bytes({ id: 'c', choices: [], usage }))],
    ['bytes without usage', (t: CallTracker) => t.answeredWithBytes(bytes({ id: 'c', choices: [] }))],
    ['a stream with a usage chunk', (t: CallTracker) => {
      t.streamStarted({ dataEvents: [JSON.stringify({ choices: [{ index: 0, delta: { content: 'yo' } }] }), JSON.stringify({ choices: [], usage })], firstTokenAt: 1 });
      t.streamEnded(null);
    }],
    ['a failure', (t: CallTracker) => t.failed(new Error('boom'))],
  ])('agrees with the record it would build: %s', async (_name, answer) => {
    const measured = finished(answer).usage();
    const record = await finished(answer).done;
    expect(measured).toEqual({
      prompt_tokens: record.prompt_tokens,
      completion_tokens: record.completion_tokens,
      total_tokens: record.total_tokens,
      response_cost: record.response_cost,
      model_group: record.model_group,
      end_user: record.end_user,
      cache_hit: record.cache_hit,
    });
  });
});
