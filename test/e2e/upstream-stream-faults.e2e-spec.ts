import OpenAI from 'openai';
import { LoggingService } from '../../src/logging/request/logging.service';
import type { StandardLoggingPayload } from '../../src/logging/standard-logging-payload';
import { errorOf, type GeneratedKeyJson } from '../support/api-responses';
import { FakeUpstream, type FakeBehaviour } from '../support/fake-upstream';
import { sleep } from '../support/logging/harness';
import { RecordingLogging } from '../support/recording-logging';
import { createTestApp, type TestApp } from '../support/test-app';

const UPSTREAM_KEY = 'sk-proj-stream-faults-0123456789abcdefABCDEF';

const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-f', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

/** The `data:` payloads of an SSE answer, in order. */
function dataEvents(text: string): string[] {
  return text
    .split(/\n\n/)
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice(6));
}

/**
 * Issue 23: an upstream stream that is not a well-formed OpenAI event stream ends with one terminal error event,
 * the upstream connection given up, and exactly one failure record; an upstream error event inside the stream
 * reaches the caller with the deployment's key redacted.
 */
describe('upstream streams that break the protocol or carry an error', () => {
  let gw: TestApp;
  let recorder: RecordingLogging;
  let upstream: FakeUpstream;
  let key: string;

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    recorder = new RecordingLogging();
    gw = await createTestApp({
      configYaml: `
model_list:
  - model_name: streamer
    litellm_params:
      model: openai/streamer
      api_base: ${upstream.url}
      api_key: ${UPSTREAM_KEY}
`,
      override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
    });
    const generated = await gw.http().post('/key/generate').set('Authorization', `Bearer ${gw.masterKey}`).send({ key_alias: 'faults' });
    key = (generated.body as GeneratedKeyJson).key;
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  beforeEach(() => upstream.reset());

  async function stream(behaviour: FakeBehaviour, extra: Record<string, unknown> = {}): Promise<{ status: number; text: string; callId: string }> {
    upstream.next(behaviour);
    const response = await fetch(`${gw.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'streamer', messages: [{ role: 'user', content: 'hi' }], stream: true, ...extra }),
      // Without a terminal event the answer would stay open as long as the upstream's: fail fast instead.
      signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, text: await response.text(), callId: response.headers.get('x-litellm-call-id') ?? '' };
  }

  /** The call's records after the dust settled: there must be exactly one. */
  async function onlyRecord(callId: string): Promise<StandardLoggingPayload> {
    await recorder.recordFor(callId);
    await sleep(200);
    const records = recorder.records.filter((r) => r.payload.litellm_call_id === callId);
    expect(records).toHaveLength(1);
    return records[0].payload;
  }

  it.each([
    ['a data payload that is not JSON', 'data: <html>upstream proxy error</html>\n\n'],
    ['a truncated JSON object', 'data: {"id":"chatcmpl-f","choices":[{"index":0,"delta":{"content":"x"\n\n'],
    ['a JSON array', 'data: ["not", "an", "event"]\n\n'],
  ])('%s: the events before it, one upstream_protocol_error event, the end; the upstream released; one failure record', async (_label, bad) => {
    for (const includeUsage of [false, true]) {
      const res = await stream(
        { type: 'raw-stream', pieces: [chunk('Hel'), chunk('lo'), bad, chunk('never shown')], hang: true },
        includeUsage ? { stream_options: { include_usage: true } } : {},
      );
      expect(res.status).toBe(200);
      const events = dataEvents(res.text);
      expect(events.slice(0, 2).map((e) => (JSON.parse(e) as { choices: Array<{ delta: { content: string } }> }).choices[0].delta.content)).toEqual(['Hel', 'lo']);
      expect(events).toHaveLength(3);
      expect(JSON.parse(events[2])).toEqual({
        error: { message: 'The openai upstream sent a stream event that is not a JSON object', type: 'api_error', param: null, code: 'upstream_protocol_error' },
      });
      expect(res.text).not.toContain('never shown');
      expect(res.text).not.toContain('[DONE]');
      // The upstream kept its answer open: the gateway gave the connection up.
      await upstream.waitForAbort();
      const record = await onlyRecord(res.callId);
      expect(record.status).toBe('failure');
      expect(record.error_str).toBe('The openai upstream sent a stream event that is not a JSON object');
      expect((record.response as { choices: Array<{ message: { content: string } }> }).choices[0].message.content).toBe('Hello');
      upstream.reset();
    }
  });

  it('the OpenAI SDK raises on it with the code, after the content before it', async () => {
    upstream.next({ type: 'raw-stream', pieces: [chunk('partial'), 'data: garbage\n\n'] });
    const client = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
    const seen: string[] = [];
    const consume = async () => {
      const s = await client.chat.completions.create({ model: 'streamer', messages: [{ role: 'user', content: 'hi' }], stream: true });
      for await (const part of s) seen.push(part.choices[0]?.delta?.content ?? '');
    };
    await expect(consume()).rejects.toThrow(/not a JSON object/);
    expect(seen).toEqual(['partial']);
  });

  it('a streamed 2xx that is not an event stream: 502 upstream_protocol_error before any byte, one failure record', async () => {
    const res = await stream({ type: 'raw-stream', pieces: ['{"id":"chatcmpl-x","choices":[]}'], contentType: 'application/json', hang: true });
    expect(res.status).toBe(502);
    const error = errorOf({ status: res.status, body: JSON.parse(res.text), text: res.text });
    expect([error.code, error.type]).toEqual(['upstream_protocol_error', 'api_error']);
    expect(error.message).toBe('The openai upstream answered a streaming request with application/json, not text/event-stream');
    await upstream.waitForAbort();
    expect((await onlyRecord(res.callId)).status).toBe('failure');
  });

  it('an upstream error event mid-stream: the caller gets it as the terminal event, the deployment key redacted', async () => {
    const echo = `data: ${JSON.stringify({ error: { message: `Incorrect API key provided: ${UPSTREAM_KEY}. You can find your API key at https://platform.openai.com.`, type: 'invalid_request_error', code: 'invalid_api_key' } })}\n\n`;
    const res = await stream({ type: 'raw-stream', pieces: [chunk('so far'), echo, chunk('after')], hang: true });
    expect(res.text).not.toContain(UPSTREAM_KEY);
    const events = dataEvents(res.text);
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[1])).toEqual({
      error: {
        message: 'openai upstream error in the stream: Incorrect API key provided: [REDACTED]. You can find your API key at https://platform.openai.com.',
        type: 'api_error',
        param: null,
        code: 'upstream_error',
      },
    });
    await upstream.waitForAbort();
    const record = await onlyRecord(res.callId);
    expect(record.status).toBe('failure');
    expect(JSON.stringify(record)).not.toContain(UPSTREAM_KEY);
  });

  it('an upstream 401 echoing the key: the 502 answer and the record never show it', async () => {
    const res = await stream({ type: 'status', status: 401, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${UPSTREAM_KEY}.`, type: 'invalid_request_error' } }) });
    expect(res.status).toBe(502);
    expect(res.text).not.toContain(UPSTREAM_KEY);
    expect(errorOf({ status: res.status, body: JSON.parse(res.text) }).message).toContain('Incorrect API key provided: [REDACTED].');
    expect(JSON.stringify(await onlyRecord(res.callId))).not.toContain(UPSTREAM_KEY);
  });

  it('a well-formed stream still passes byte for byte, with or without the usage chunk', async () => {
    for (const includeUsage of [false, true]) {
      const res = await stream({ type: 'ok' }, includeUsage ? { stream_options: { include_usage: true } } : {});
      expect(res.status).toBe(200);
      if (includeUsage) expect(res.text).toBe(upstream.last.sent);
      expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect((await onlyRecord(res.callId)).status).toBe('success');
    }
  });
});
