import { SecretRedactor } from '../../common/secret-redactor';
import { AZURE_CONTENT_FILTERED } from '../../../test/support/fakes/fake-azure-openai';
import { readAnthropicError } from '../providers/anthropic/anthropic-errors';
import { readBedrockError } from '../providers/bedrock/bedrock-errors';
import { readGoogleError } from '../providers/google/google-errors';
import type { ErrorReading, FailedAnswer } from '../providers/provider';
import { failureFromStatus, failureFromTransport } from '../upstream-errors';
import { countsTowardsCooldown, kindOfStatus } from './failure-kind';

/** An upstream error answer through its provider's reader (as upstream-forwarder.ts does), then the gateway's mapping. */
function kindOf(status: number, body: unknown, reader?: (answer: FailedAnswer) => ErrorReading, headers: FailedAnswer['headers'] = {}): string | undefined {
  const text = JSON.stringify(body);
  const reading = reader?.({ status, headers, body: text });
  return failureFromStatus({
    status: reading?.status ?? status,
    retryAfter: undefined,
    contentType: 'application/json',
    body: text,
    message: reading?.message,
    provider: 'p',
    redactor: new SecretRedactor([]),
  }).kind;
}

describe('failure kinds (LiteLLM exception mapping)', () => {
  it('reads each provider\'s context-window error in its real shape', () => {
    // OpenAI
    expect(
      kindOf(400, {
        error: {
          message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      }),
    ).toBe('context_window');
    // Anthropic
    expect(kindOf(400, { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 208310 tokens > 200000 maximum' } }, readAnthropicError)).toBe('context_window');
    // Gemini / Vertex
    expect(
      kindOf(400, { error: { code: 400, message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', status: 'INVALID_ARGUMENT' } }, readGoogleError),
    ).toBe('context_window');
    // Bedrock (Converse), both the service's and Claude's wording
    const bedrock = { 'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/' };
    expect(kindOf(400, { message: 'Input is too long for requested model.' }, readBedrockError, bedrock)).toBe('context_window');
    expect(kindOf(400, { message: 'The model returned the following errors: input length and `max_tokens` exceed context limit: 190000 + 20000 > 200000' }, readBedrockError, bedrock)).toBe('context_window');
  });

  it('reads content-policy refusals: Azure\'s content_filter 400 and OpenAI\'s content_policy_violation', () => {
    expect(kindOf(400, AZURE_CONTENT_FILTERED)).toBe('content_policy');
    expect(kindOf(400, { error: { message: 'Your request was rejected as a result of our safety system.', type: 'invalid_request_error', code: 'content_policy_violation' } })).toBe('content_policy');
  });

  it('sorts statuses the way the router needs them', () => {
    expect(kindOfStatus(429, undefined, null)).toBe('rate_limit');
    expect(kindOfStatus(503, undefined, null)).toBe('server');
    expect(kindOf(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, readAnthropicError)).toBe('server');
    expect(kindOfStatus(401, undefined, null)).toBe('auth');
    expect(kindOfStatus(404, undefined, null)).toBe('not_found');
    expect(kindOfStatus(400, undefined, 'temperature must be at most 2')).toBe('caller');
    expect(kindOfStatus(422, undefined, null)).toBe('caller');
    expect(failureFromTransport({ error: { code: 'ECONNREFUSED' }, provider: 'p', timeoutMs: 1000 }).kind).toBe('connection');
    expect(failureFromTransport({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' }, provider: 'p', timeoutMs: 1000 }).kind).toBe('timeout');
  });

  it('counts 429, 401, 404, 408 and 5xx towards a cooldown, never a caller error or a context-window error', () => {
    expect(['rate_limit', 'server', 'timeout', 'auth', 'not_found'].every((kind) => countsTowardsCooldown(kind as never))).toBe(true);
    expect(['caller', 'context_window', 'content_policy', 'connection'].some((kind) => countsTowardsCooldown(kind as never))).toBe(false);
  });
});
