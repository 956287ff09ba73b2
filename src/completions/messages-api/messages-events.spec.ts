import { MessagesEventWriter } from './messages-events';

function parse(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      return { event: eventLine.slice('event: '.length), data: JSON.parse(dataLine.slice('data: '.length)) as Record<string, unknown> };
    });
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
  JSON.stringify({ id: 'chatcmpl-1', model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] });

describe(MessagesEventWriter.name, () => {
  it("text then two tool calls as Anthropic's event sequence, usage in message_delta", () => {
    const writer = new MessagesEventWriter();
    let out = writer.chunk(chunk({ role: 'assistant', content: '' }));
    out += writer.chunk(chunk({ content: 'Hi' }));
    out += writer.chunk(chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '' } }] }));
    out += writer.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] }));
    out += writer.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }));
    out += writer.chunk(chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'g', arguments: '{}' } }] }));
    out += writer.chunk(chunk({}, 'tool_calls'));
    out += writer.chunk(JSON.stringify({ id: 'chatcmpl-1', choices: [], usage: { prompt_tokens: 7, completion_tokens: 4 } }));
    out += writer.chunk('[DONE]');
    out += writer.end();
    const events = parse(out);
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events.every((e) => e.data.type === e.event)).toBe(true);
    expect(events[0].data.message).toMatchObject({ id: 'msg_1', model: 'gpt-4o', role: 'assistant', content: [] });
    expect(events[3].data).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } });
    expect(events[5].data).toEqual({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_a', name: 'f', input: {} } });
    expect(events[7].data).toEqual({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } });
    expect(events[9].data).toMatchObject({ index: 2, content_block: { id: 'call_b', name: 'g' } });
    expect(events[12].data).toEqual({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 7, output_tokens: 4 } });
  });

  it('reasoning as a thinking block before the text', () => {
    const writer = new MessagesEventWriter();
    const events = parse(writer.chunk(chunk({ reasoning_content: 'hm' })) + writer.chunk(chunk({ content: 'ok' }, 'stop')) + writer.end());
    expect(events.filter((e) => e.event === 'content_block_start').map((e) => (e.data.content_block as { type: string }).type)).toEqual(['thinking', 'text']);
    expect(events.find((e) => e.event === 'message_delta')?.data.delta).toEqual({ stop_reason: 'end_turn', stop_sequence: null });
  });

  it("the gateway's error event as Anthropic's, and nothing after it", () => {
    const writer = new MessagesEventWriter();
    writer.chunk(chunk({ content: 'partial' }));
    const events = parse(writer.chunk(JSON.stringify({ error: { message: 'upstream broke', type: 'api_error' } })) + writer.end());
    expect(events).toEqual([{ event: 'error', data: { type: 'error', error: { type: 'api_error', message: 'upstream broke' } } }]);
  });
});
