import { AppException } from '../../errors';
import { readRequestRouting } from './request-routing';

describe('readRequestRouting', () => {
  it('is null for a request that asks nothing of the router', () => {
    expect(readRequestRouting({ model: 'm', messages: [] }, { 'content-type': 'application/json' })).toBeNull();
  });

  it('reads timeout and stream_timeout in seconds from the body, else from LiteLLM’s x-litellm-* headers', () => {
    expect(readRequestRouting({ timeout: 1.5 })?.timeouts).toEqual({ timeoutMs: 1500, streamTimeoutMs: null });
    expect(readRequestRouting({}, { 'x-litellm-timeout': '2', 'x-litellm-stream-timeout': ' 0.25 ' })?.timeouts).toEqual({ timeoutMs: 2000, streamTimeoutMs: 250 });
    expect(readRequestRouting({ timeout: 3 }, { 'x-litellm-timeout': '9' })?.timeouts?.timeoutMs).toBe(3000);
    expect(readRequestRouting({}, { 'x-litellm-num-retries': '4' })).toMatchObject({ numRetries: 4, timeouts: null });
  });

  it.each([
    [{ timeout: 0 }, {}, 'timeout'],
    [{ timeout: 3601 }, {}, 'timeout'],
    [{ stream_timeout: 'soon' }, {}, 'stream_timeout'],
    [{}, { 'x-litellm-timeout': 'ten' }, 'x-litellm-timeout'],
    [{}, { 'x-litellm-stream-timeout': '-1' }, 'x-litellm-stream-timeout'],
    [{}, { 'x-litellm-num-retries': '1.5' }, 'x-litellm-num-retries'],
  ])('refuses %j %j naming %s', (body, headers, param) => {
    let thrown: unknown;
    try {
      readRequestRouting(body, headers);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppException);
    expect((thrown as AppException).param).toBe(param);
  });
});
