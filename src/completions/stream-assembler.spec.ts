import { assembleStream } from './stream-assembler';

const ev = (value: unknown) => JSON.stringify(value);

describe(assembleStream.name, () => {
  it("skips the empty id, model and created of Azure's first chunk (prompt filter results, no choices)", () => {
    const { completion } = assembleStream([
      ev({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] }),
      ev({ id: 'chatcmpl-az', created: 9, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' } }] }),
    ]);
    expect(completion).toMatchObject({ id: 'chatcmpl-az', created: 9, model: 'gpt-4o-2024-08-06', choices: [{ message: { content: 'Hi' } }] });
  });

  it('rebuilds text, finish reason, ids and usage into a chat.completion', () => {
    const { completion, malformedEvents } = assembleStream([
      ev({ id: 'c1', created: 5, model: 'm', system_fingerprint: 'fp', choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }),
      ev({ id: 'c1', choices: [{ index: 0, delta: { content: 'Hel' } }] }),
      ev({ id: 'c1', choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: null }] }),
      ev({ id: 'c1', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
      ev({ id: 'c1', choices: [], usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } }),
    ]);
    expect(malformedEvents).toBe(0);
    expect(completion).toEqual({
      id: 'c1',
      object: 'chat.completion',
      created: 5,
      model: 'm',
      system_fingerprint: 'fp',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
    });
  });

  it("keeps a reasoning model's streamed thoughts (reasoning_content) beside its answer", () => {
    const { completion } = assembleStream([
      ev({ choices: [{ index: 0, delta: { role: 'assistant', reasoning_content: 'The user ' } }] }),
      ev({ choices: [{ index: 0, delta: { reasoning_content: 'greets me.' } }] }),
      ev({ choices: [{ index: 0, delta: { content: 'Hello!' }, finish_reason: 'stop' }] }),
    ]);
    expect(completion.choices[0]?.message).toEqual({ role: 'assistant', content: 'Hello!', reasoning_content: 'The user greets me.' });
  });

  it('merges tool-call fragments by index', () => {
    const { completion } = assembleStream([
      ev({ choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_', arguments: '' } }] } }] }),
      ev({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: 'weather', arguments: '{"ci' } }] } }] }),
      ev({ choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_2', function: { name: 'now', arguments: '{}' } }] } }] }),
      ev({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] } }] }),
      ev({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }),
    ]);
    expect(completion.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'now', arguments: '{}' } },
        ],
      },
      finish_reason: 'tool_calls',
    });
    expect(completion.usage).toBeNull();
  });

  it('keeps several choices apart and counts events that are not JSON', () => {
    const { completion, malformedEvents } = assembleStream([
      ev({ choices: [{ index: 1, delta: { content: 'b' } }, { index: 0, delta: { content: 'a' } }] }),
      '{"choices":[{"index":0,"delta":{"content"',
      'null',
    ]);
    expect(completion.choices.map((c) => c.message.content)).toEqual(['a', 'b']);
    expect(malformedEvents).toBe(2);
  });
});
