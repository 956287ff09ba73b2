import { AppException } from '../errors';
import {
  asRequestBody,
  callerWantsUsageChunk,
  modelParameters,
  readStreamFlag,
  rejectCallerOverrides,
  requestTags,
  requesterMetadata,
  requireMessages,
  requireModel,
  upstreamBody,
} from './request-body';

/** The part of an upstream body these tests read. */
interface UpstreamBody {
  stream_options?: unknown;
}

function caught(fn: () => unknown): AppException {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppException) {
      return error;
    }
    throw error;
  }
  throw new Error('expected an AppException');
}

describe('request body checks', () => {
  it('accepts only JSON objects', () => {
    expect(caught(() => asRequestBody([])).code).toBe('validation_failed');
    expect(caught(() => asRequestBody(null)).code).toBe('validation_failed');
    expect(caught(() => asRequestBody('x')).code).toBe('validation_failed');
    const body = { model: 'm' };
    expect(asRequestBody(body)).toBe(body);
  });

  it('names the field at fault for model, messages and stream', () => {
    expect(caught(() => requireModel({})).param).toBe('model');
    expect(caught(() => requireModel({ model: 3 })).param).toBe('model');
    expect(caught(() => requireModel({ model: '' })).param).toBe('model');
    expect(requireModel({ model: 'gpt-4' })).toBe('gpt-4');
    expect(caught(() => requireMessages({ messages: 'hi' })).param).toBe('messages');
    expect(caught(() => requireMessages({})).param).toBe('messages');
    expect(caught(() => readStreamFlag({ stream: 'yes' })).param).toBe('stream');
    expect(readStreamFlag({ stream: true })).toBe(true);
    expect(readStreamFlag({})).toBe(false);
  });

  it.each([
    ['api_base', 'api_base'],
    ['base_url', 'base_url'],
    ['api_key', 'api_key'],
    ['langfuse_host', 'langfuse_host'],
    ['langfuse_secret_key', 'langfuse_secret_key'],
    ['gcs_bucket_name', 'gcs_bucket_name'],
    ['callbacks', 'callbacks'],
    ['success_callback', 'success_callback'],
  ])('rejects the caller override %s at the top level', (key, param) => {
    const error = caught(() => rejectCallerOverrides({ model: 'm', [key]: 'x' }));
    expect(error.status).toBe(400);
    expect(error.param).toBe(param);
  });

  it('rejects overrides smuggled one level down', () => {
    expect(caught(() => rejectCallerOverrides({ metadata: { logging: [{ callback_name: 'langfuse' }] } })).param).toBe('metadata.logging');
    expect(caught(() => rejectCallerOverrides({ extra_body: { api_base: 'http://evil' } })).param).toBe('extra_body.api_base');
    expect(caught(() => rejectCallerOverrides({ metadata: { langfuse_host: 'http://evil' } })).param).toBe('metadata.langfuse_host');
  });

  it('leaves ordinary OpenAI parameters alone', () => {
    expect(() =>
      rejectCallerOverrides({
        model: 'm',
        messages: [{ role: 'user', content: 'api_key' }],
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { properties: { api_key: {} } } } },
        logit_bias: { '50256': -100 },
        tools: [{ type: 'function', function: { name: 'api_key' } }],
        metadata: { trace_id: 't', tags: ['a'] },
      }),
    ).not.toThrow();
  });

  it('detects whether the caller asked for the usage chunk', () => {
    expect(callerWantsUsageChunk({ stream_options: { include_usage: true } })).toBe(true);
    expect(callerWantsUsageChunk({ stream_options: { include_usage: false } })).toBe(false);
    expect(callerWantsUsageChunk({})).toBe(false);
  });
});

describe(upstreamBody.name, () => {
  it('swaps in the upstream model, keeps unknown fields, drops gateway-only fields', () => {
    const body = { model: 'public', messages: [], temperature: 0.2, some_new_param: { a: 1 }, metadata: { tags: ['x'] }, 'no-log': true };
    expect(JSON.parse(upstreamBody(body, 'real-model', false))).toEqual({
      model: 'real-model',
      messages: [],
      temperature: 0.2,
      some_new_param: { a: 1 },
    });
    expect(body.model).toBe('public');
  });

  it('asks for usage on streams and keeps the caller other stream options', () => {
    expect((JSON.parse(upstreamBody({ model: 'p', stream: true }, 'r', true)) as UpstreamBody).stream_options).toEqual({ include_usage: true });
    expect(
      (JSON.parse(upstreamBody({ model: 'p', stream: true, stream_options: { include_obfuscation: false } }, 'r', true)) as UpstreamBody).stream_options,
    ).toEqual({ include_obfuscation: false, include_usage: true });
  });
});

describe('record fields from the body', () => {
  it('model_parameters are the body minus model, messages, input, stream and metadata', () => {
    expect(modelParameters({ model: 'm', messages: [], input: 'x', stream: true, metadata: {}, temperature: 1, user: 'u', tools: [] })).toEqual({
      temperature: 1,
      user: 'u',
      tools: [],
    });
  });

  it('requester metadata strips user_api_key* keys; tags must be a string list', () => {
    const metadata = requesterMetadata({ metadata: { user_api_key_hash: 'spoof', user_api_key_alias: 'x', trace_id: 't', tags: ['a', 'b'] } });
    expect(metadata).toEqual({ trace_id: 't', tags: ['a', 'b'] });
    expect(requestTags(metadata)).toEqual(['a', 'b']);
    expect(requestTags({ tags: ['a', 1] })).toEqual([]);
    expect(requesterMetadata({ metadata: ['x'] })).toEqual({});
    expect(requesterMetadata(null)).toEqual({});
  });
});
