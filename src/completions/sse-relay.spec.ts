import { faultOf, isUsageOnlyChunk, SseRelay } from './sse-relay';

const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }], usage: null })}\n\n`;
const usageChunk = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n`;
const done = 'data: [DONE]\n\n';

/** The part of a stream chunk these tests read. */
interface StreamChunk {
  choices: Array<{ delta: { content?: string } }>;
}

function run(relay: SseRelay, pieces: string[]): string {
  let out = '';
  for (const piece of pieces) {
    const result = relay.push(Buffer.from(piece));
    out += typeof result === 'string' ? result : result.toString('utf8');
  }
  return out + relay.end();
}

describe(SseRelay.name, () => {
  it('forwards the upstream chunks untouched when nothing is stripped, and keeps the data events', () => {
    const relay = new SseRelay(false);
    const a = Buffer.from(chunk('Hel'));
    expect(relay.push(a)).toBe(a);
    const text = chunk('lo') + usageChunk + done;
    expect(run(relay, [text])).toBe(text);
    expect(relay.dataEvents).toHaveLength(3);
    expect(relay.sawDone).toBe(true);
    expect(relay.firstTokenAt).toBeGreaterThan(0);
  });

  it("passes Azure's choice-less first chunk through without taking it for the first token", () => {
    const relay = new SseRelay(true);
    const azureFirst = `data: ${JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [] })}\n\n`;
    expect(run(relay, [azureFirst])).toBe(azureFirst);
    expect(relay.firstTokenAt).toBe(0);
    run(relay, [chunk('Hi')]);
    expect(relay.firstTokenAt).toBeGreaterThan(0);
  });

  it('drops only the usage-only chunk when the caller did not ask for it', () => {
    const relay = new SseRelay(true);
    const out = run(relay, [chunk('Hel'), chunk('lo'), usageChunk, done]);
    expect(out).toBe(chunk('Hel') + chunk('lo') + done);
    // The record still gets the usage.
    expect(relay.dataEvents.some((d) => d.includes('"prompt_tokens":3'))).toBe(true);
  });

  it('reassembles events split across chunks at any byte, including inside a multi-byte character', () => {
    const text = chunk('héllo wörld 👋') + usageChunk + done;
    const bytes = Buffer.from(text);
    for (const size of [1, 3, 7, 64]) {
      const relay = new SseRelay(true);
      let out = '';
      for (let i = 0; i < bytes.length; i += size) {
        const result = relay.push(bytes.subarray(i, i + size));
        out += typeof result === 'string' ? result : result.toString('utf8');
      }
      out += relay.end();
      expect(out).toBe(chunk('héllo wörld 👋') + done);
      expect((JSON.parse(relay.dataEvents[0]) as StreamChunk).choices[0].delta.content).toBe('héllo wörld 👋');
    }
  });

  it('understands CRLF line endings, multi-line data and comments', () => {
    const relay = new SseRelay(true);
    const text = ': keep-alive\r\n\r\ndata: {"choices":[{"index":0,\r\ndata: "delta":{"content":"x"}}]}\r\n\r\n' + usageChunk.replace(/\n/g, '\r\n') + 'data: [DONE]\r\n\r\n';
    const out = run(relay, [text]);
    expect(out).toBe(': keep-alive\n\ndata: {"choices":[{"index":0,\ndata: "delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n');
    expect(relay.dataEvents[0]).toBe('{"choices":[{"index":0,\n"delta":{"content":"x"}}]}');
    expect(relay.sawDone).toBe(true);
  });

  it('flushes a last event that lacks its blank line when the upstream ends', () => {
    const relay = new SseRelay(true);
    expect(run(relay, ['data: {"choices":[{"index":0,"delta":{"content":"a"}}]}'])).toBe('data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n');
    expect(relay.sawDone).toBe(false);
  });

  it('passes complete events through as the upstream bytes and holds back an event cut across chunks', () => {
    const relay = new SseRelay(false);
    const first = chunk('a');
    const second = chunk('b');
    const out = relay.push(Buffer.from(first + second.slice(0, 10)));
    expect(out.toString()).toBe(first);
    expect(relay.push(Buffer.from(second.slice(10, 20))).length).toBe(0);
    expect(relay.push(Buffer.from(second.slice(20) + done)).toString()).toBe(second + done);
    expect(relay.end()).toBe('');
    // CRLF blank lines count as event ends too.
    const crlf = new SseRelay(false);
    expect(crlf.push(Buffer.from('data: {"choices":[]}\r\n\r\ndata: {"cho')).toString()).toBe('data: {"choices":[]}\r\n\r\n');
  });
});

describe('SseRelay faults', () => {
  const errorEvent = `data: ${JSON.stringify({ error: { message: 'Incorrect API key provided: sk-x', type: 'invalid_request_error' } })}\n\n`;

  it.each([
    ['plain text', 'data: this is not json\n\n'],
    ['a JSON array', 'data: [1,2]\n\n'],
    ['a truncated object', 'data: {"id":"c1","choices":[\n\n'],
    ['an empty payload', 'data:\n\n'],
  ])('stops at %s: the events before it go out, it and everything after do not', (_label, bad) => {
    for (const strip of [true, false]) {
      const relay = new SseRelay(strip);
      const out = relay.push(Buffer.from(chunk('ok') + bad + chunk('after') + done));
      expect([strip, out.toString()]).toEqual([strip, chunk('ok')]);
      expect(relay.fault).toEqual({ kind: 'malformed' });
      expect(relay.push(Buffer.from(chunk('more'))).length).toBe(0);
      expect(relay.end()).toBe('');
      expect(relay.dataEvents).toHaveLength(1);
    }
  });

  it('stops at an upstream error event without forwarding its text, in either mode, even when it arrives in pieces', () => {
    for (const strip of [true, false]) {
      const relay = new SseRelay(strip);
      const bytes = Buffer.from(chunk('ok') + errorEvent + chunk('after'));
      let out = '';
      for (let i = 0; i < bytes.length && relay.fault === null; i += 7) out += relay.push(bytes.subarray(i, i + 7)).toString();
      expect(out).toBe(chunk('ok'));
      expect(relay.fault).toEqual({ kind: 'error', data: errorEvent.slice(6, -2) });
    }
  });

  it('finds a faulty last event when the upstream ends without its blank line', () => {
    const relay = new SseRelay(false);
    expect(relay.push(Buffer.from(chunk('ok') + 'data: {"id":')).toString()).toBe(chunk('ok'));
    expect(relay.end()).toBe('');
    expect(relay.fault).toEqual({ kind: 'malformed' });
  });

  it('checks shape cheaply: braces at both ends, a parse only when "error" appears unescaped', () => {
    expect(faultOf('{"choices":[]}')).toBeNull();
    expect(faultOf(' {"choices":[]} ')).toBeNull();
    expect(faultOf('{"choices":[{"delta":{"content":"an \\"error\\" here"}}]}')).toBeNull();
    expect(faultOf('{"choices":[{"delta":{"content":"error"}}]}')).toBeNull();
    expect(faultOf('{"choices":[{"delta":{"content":"a mirror"}}]}')).toBeNull();
    expect(faultOf('{"object":"error","message":"bad"}')).toEqual({ kind: 'error', data: '{"object":"error","message":"bad"}' });
    // OpenRouter reports a mid-stream failure inside an otherwise normal chunk.
    const embedded = '{"id":"gen-1","object":"chat.completion.chunk","error":{"code":502,"message":"x"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}';
    expect(faultOf(embedded)).toEqual({ kind: 'error', data: embedded });
    expect(faultOf('{"error": "x"')).toEqual({ kind: 'malformed' });
    expect(faultOf('{"a":1} x')).toEqual({ kind: 'malformed' });
    expect(faultOf('{"a":1}')).toBeNull();
    // Deeper breakage passes here and is counted when the record is assembled.
    expect(faultOf('{"a": nope}')).toBeNull();
  });

  it('stops at an event that never ends instead of holding it without bound', () => {
    for (const strip of [true, false]) {
      const relay = new SseRelay(strip);
      relay.push(Buffer.from('data: {"x":"'));
      const piece = Buffer.alloc(1024 * 1024, 'a');
      for (let i = 0; i < 15; i++) relay.push(piece);
      expect(relay.fault).toBeNull();
      relay.push(piece);
      expect(relay.fault).toEqual({ kind: 'oversized' });
      expect(relay.end()).toBe('');
    }
  });

  it('does not fault after [DONE]', () => {
    const relay = new SseRelay(true);
    relay.push(Buffer.from(chunk('ok') + done + 'data: trailing garbage\n\n'));
    expect(relay.fault).toBeNull();
  });
});

describe(isUsageOnlyChunk.name, () => {
  it('recognises the include_usage chunk and nothing else', () => {
    expect(isUsageOnlyChunk(usageChunk.slice(6, -2))).toBe(true);
    expect(isUsageOnlyChunk('{"choices": [ ], "usage": {"prompt_tokens": 1}}')).toBe(true);
    expect(isUsageOnlyChunk(chunk('x').slice(6, -2))).toBe(false);
    expect(isUsageOnlyChunk('{"choices":[],"usage":null}')).toBe(false);
    expect(isUsageOnlyChunk('{"choices":[],"usage":{')).toBe(false);
  });
});

describe('SseRelay end of an unterminated stream', () => {
  it('returns the held event plus the line breaks a pass-through client still needs', () => {
    const cut = new SseRelay(false);
    expect(cut.push(Buffer.from('data: {"choices":[]}')).length).toBe(0);
    expect(cut.end()).toBe('data: {"choices":[]}\n\n');
    const lineDone = new SseRelay(false);
    expect(lineDone.push(Buffer.from('data: {"choices":[]}\n')).length).toBe(0);
    expect(lineDone.end()).toBe('data: {"choices":[]}\n\n');
    const clean = new SseRelay(false);
    clean.push(Buffer.from('data: {"choices":[]}\n\n'));
    expect(clean.end()).toBe('');
  });
});
