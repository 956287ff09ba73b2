import { CachedAnswer, isReplayableStream } from './cached-answer';

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm' };
const events = [
  JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: null }),
  JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: 'Hello' }, finish_reason: null }], usage: null }),
  JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null }),
  JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }),
];

/** The parts of an assembled chat completion these tests read. */
interface Completion {
  choices: Array<{ message: { content: string | null } }>;
  usage: unknown;
}

/** The parts of a replayed stream chunk these tests read. */
interface Chunk {
  choices: Array<{ delta: { tool_calls: unknown[] }; finish_reason: string | null }>;
  usage: unknown;
}

describe('CachedAnswer', () => {
  it('replays a stored stream as SSE, with the usage chunk only when asked for', () => {
    const answer = CachedAnswer.fromEvents(events);
    const withUsage = answer.sseBody(true) as string;
    expect(withUsage).toBe(events.map((event) => `data: ${event}\n\n`).join('') + 'data: [DONE]\n\n');
    const without = answer.sseBody(false) as string;
    expect(without).not.toContain('"prompt_tokens"');
    expect(without.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('assembles a stored stream into a chat completion for a non-stream request', () => {
    const json = JSON.parse((CachedAnswer.fromEvents(events).jsonBody() as Buffer).toString()) as Completion;
    expect(json.choices[0].message.content).toBe('Hello');
    expect(json.usage).toEqual({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
  });

  it('streams a stored chat completion, tool calls included', () => {
    const completion = {
      id: 'c',
      object: 'chat.completion',
      created: 2,
      model: 'm',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    };
    const text = CachedAnswer.fromJson(Buffer.from(JSON.stringify(completion))).sseBody(true) as string;
    const chunks = text
      .split('\n\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice(6)) as Chunk);
    expect(chunks[1].choices[0].delta.tool_calls[0]).toEqual({ index: 0, id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } });
    expect(chunks[2].choices[0].finish_reason).toBe('tool_calls');
    expect(chunks[3].usage).toEqual(completion.usage);
    expect(CachedAnswer.fromJson(Buffer.from('{"data":[]}')).sseBody(false)).toBeNull();
  });

  it('round-trips through the Redis form byte for byte', () => {
    const body = Buffer.from('{"id":"x","choices":[]}');
    const back = CachedAnswer.deserialize(CachedAnswer.fromJson(body, 1234).serialize()) as CachedAnswer;
    expect(back.kind).toBe('json');
    expect(back.storedAt).toBe(1234);
    expect((back.jsonBody() as Buffer).equals(body)).toBe(true);
    const stream = CachedAnswer.deserialize(CachedAnswer.fromEvents(events, 5).serialize()) as CachedAnswer;
    expect(stream.dataEvents).toEqual(events);
    expect(CachedAnswer.deserialize(Buffer.from('garbage'))).toBeNull();
    expect(CachedAnswer.deserialize(Buffer.from('9 json 1\n{}'))).toBeNull();
  });

  it('only clean streams are replayable', () => {
    expect(isReplayableStream(events)).toBe(true);
    expect(isReplayableStream([])).toBe(false);
    expect(isReplayableStream([...events, 'not json'])).toBe(false);
    expect(isReplayableStream([...events, '{"error":{"message":"boom"}}'])).toBe(false);
  });
});
