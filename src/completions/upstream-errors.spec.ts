import { REDACTION_MARKER, SecretRedactor } from '../common/secret-redactor';
import { errorCode, failureFromStatus, failureFromTransport, midStreamFailure, notAStream, streamFaultFailure } from './upstream-errors';

describe('upstream error mapping', () => {
  const providerKey = 'configured-provider-key-0042';
  const redactor = new SecretRedactor([providerKey]);
  const base = { retryAfter: undefined, contentType: 'application/json', provider: 'openai', redactor };

  it('keeps a 5xx status, passes the upstream JSON message through and allows another attempt', () => {
    const failure = failureFromStatus({ ...base, status: 503, body: JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } }) });
    expect(failure.retryable).toBe(true);
    expect(failure.exception.status).toBe(503);
    expect(failure.exception.code).toBe('upstream_error');
    expect(failure.exception.message).toContain('overloaded');
  });

  it('keeps 429 with its retry-after and does not retry', () => {
    const failure = failureFromStatus({ ...base, status: 429, retryAfter: '7', body: '{"error":{"message":"slow down"}}' });
    expect(failure.retryable).toBe(false);
    expect(failure.exception.status).toBe(429);
    expect(failure.exception.code).toBe('rate_limited');
    expect(failure.exception.headers).toEqual({ 'retry-after': '7' });
  });

  it('wraps HTML error pages instead of passing them on', () => {
    const failure = failureFromStatus({ ...base, status: 502, contentType: 'text/html', body: '<html><body>Bad gateway</body></html>' });
    expect(failure.exception.message).toBe('openai upstream returned HTTP 502');
    const text = failureFromStatus({ ...base, status: 500, contentType: 'text/plain', body: 'database   exploded\n' });
    expect(text.exception.message).toBe('openai upstream error (HTTP 500): database exploded');
  });

  it('maps upstream 400 to validation_failed with the upstream param, and 401 to a gateway-side 502', () => {
    const bad = failureFromStatus({ ...base, status: 400, body: '{"error":{"message":"bad temperature","param":"temperature"}}' });
    expect(bad.exception.code).toBe('validation_failed');
    expect(bad.exception.param).toBe('temperature');
    expect(bad.retryable).toBe(false);
    const auth = failureFromStatus({ ...base, status: 401, body: '{"error":{"message":"Incorrect API key"}}' });
    expect(auth.exception.status).toBe(502);
    expect(auth.exception.code).toBe('upstream_error');
  });

  it('maps timeouts to 504 and connection failures to a retryable 502 without naming the URL', () => {
    const timeout = failureFromTransport({ error: Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), provider: 'openai', timeoutMs: 1500 });
    expect(timeout.exception.status).toBe(504);
    expect(timeout.exception.code).toBe('upstream_timeout');
    expect(timeout.retryable).toBe(false);
    const refused = failureFromTransport({
      error: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443 http://secret@host'), { code: 'ECONNREFUSED' }),
      provider: 'openai',
      timeoutMs: 1000,
    });
    expect(refused.exception.status).toBe(502);
    expect(refused.retryable).toBe(true);
    expect(refused.exception.message).not.toContain('10.0.0.1');
    expect(refused.exception.message).not.toContain('secret');
  });

  it('redacts the configured key and anything key-shaped the upstream quotes, in the message and the param', () => {
    const body = JSON.stringify({ error: { message: `Incorrect API key provided: ${providerKey}. Also sk-proj-abcdefghijklmnop0123.`, param: providerKey } });
    for (const status of [400, 401, 429, 500]) {
      const failure = failureFromStatus({ ...base, status, body });
      expect(failure.exception.message).not.toContain(providerKey);
      expect(failure.exception.message).not.toContain('sk-proj-abcdefghijklmnop0123');
      expect(failure.exception.message).toContain(`Incorrect API key provided: ${REDACTION_MARKER}`);
      expect(failure.exception.param ?? '').not.toContain(providerKey);
    }
    const text = failureFromStatus({ ...base, status: 401, contentType: 'text/plain', body: `bad key ${providerKey}` });
    expect(text.exception.message).not.toContain(providerKey);
  });

  it('describes a stream the relay stopped: the upstream error event redacted, a protocol error without its bytes', () => {
    const error = streamFaultFailure({ kind: 'error', data: JSON.stringify({ error: { message: `key ${providerKey} revoked` } }) }, 'openai', redactor);
    expect([error.code, error.status]).toEqual(['upstream_error', 502]);
    expect(error.message).toBe(`openai upstream error in the stream: key ${REDACTION_MARKER} revoked`);
    const malformed = streamFaultFailure({ kind: 'malformed' }, 'openai', redactor);
    expect([malformed.code, malformed.status, malformed.type]).toEqual(['upstream_protocol_error', 502, 'api_error']);
    const wrongType = notAStream('openai', 'application/json; charset=utf-8', ['text/event-stream']);
    expect([wrongType.exception.code, wrongType.retryable]).toEqual(['upstream_protocol_error', true]);
    expect(wrongType.exception.message).toContain('application/json');
    expect(notAStream('openai', `x ${providerKey}`, ['text/event-stream']).exception.message).not.toContain(providerKey);
  });

  it('finds the code inside AggregateErrors', () => {
    expect(errorCode(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]))).toBe('ECONNREFUSED');
    expect(errorCode('nope')).toBeUndefined();
  });

  it('describes a broken stream', () => {
    expect(midStreamFailure(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }), 'openai', 1000).code).toBe('upstream_error');
    expect(midStreamFailure(Object.assign(new Error('x'), { code: 'UND_ERR_BODY_TIMEOUT' }), 'openai', 1000).code).toBe('upstream_timeout');
  });
});
