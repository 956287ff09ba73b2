import { isUsageOnlyChunk, SseRelay } from './sse-relay';

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

  it('knows when the client has seen half an event', () => {
    const relay = new SseRelay(false);
    relay.push(Buffer.from('data: {"cho'));
    expect(relay.midEvent).toBe(true);
    relay.push(Buffer.from('ices":[]}\n\n'));
    expect(relay.midEvent).toBe(false);
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
  it('returns the line breaks a pass-through client still needs', () => {
    const cut = new SseRelay(false);
    cut.push(Buffer.from('data: {"choices":[]}'));
    expect(cut.end()).toBe('\n\n');
    const lineDone = new SseRelay(false);
    lineDone.push(Buffer.from('data: {"choices":[]}\n'));
    expect(lineDone.end()).toBe('\n');
    const clean = new SseRelay(false);
    clean.push(Buffer.from('data: {"choices":[]}\n\n'));
    expect(clean.end()).toBe('');
  });
});
