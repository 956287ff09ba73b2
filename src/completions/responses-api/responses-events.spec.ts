import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import { ResponsesEventWriter } from './responses-events';

type Json = Record<string, unknown>;

/** The events a writer makes of these chunk data texts, parsed; each event's name checked against its type. */
function eventsOf(writer: ResponsesEventWriter, data: readonly string[]): Json[] {
  let text = '';
  for (const item of data) text += writer.chunk(item);
  text += writer.end();
  return text
    .trim()
    .split('\n\n')
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      const parsed = JSON.parse(dataLine.slice('data: '.length)) as Json;
      expect(eventLine).toBe(`event: ${parsed.type as string}`);
      return parsed;
    });
}

const chunk = (delta: Json, extra: Json = {}): string => JSON.stringify({ id: 'chatcmpl-abc', created: 100, model: 'm', choices: [{ index: 0, delta, finish_reason: null }], ...extra });

describe(ResponsesEventWriter.name, () => {
  it('writes text as one message item, numbered events, and response.completed with the usage', () => {
    const events = eventsOf(new ResponsesEventWriter({ model: 'm', instructions: 'Be brief.' }), [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      JSON.stringify({ id: 'chatcmpl-abc', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
      JSON.stringify({ id: 'chatcmpl-abc', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }),
      '[DONE]',
    ]);
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0]).toMatchObject({ response: { id: 'resp_abc', object: 'response', status: 'in_progress', created_at: 100, model: 'm', instructions: 'Be brief.', output: [] } });
    expect(events[4]).toMatchObject({ item_id: 'msg_abc', output_index: 0, content_index: 0, delta: 'Hel' });
    expect(events[6]).toMatchObject({ text: 'Hello' });
    expect(events.at(-1)).toMatchObject({
      response: {
        status: 'completed',
        output: [{ id: 'msg_abc', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello', annotations: [] }] }],
        usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
      },
    });
  });

  it('writes each tool call as a function_call item with argument deltas', () => {
    const events = eventsOf(new ResponsesEventWriter({ model: 'm' }), [
      chunk({ content: 'Let me check.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'g', arguments: '{}' } }] }),
      JSON.stringify({ id: 'chatcmpl-abc', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }),
      '[DONE]',
    ]);
    const argumentsDone = events.filter((event) => event.type === 'response.function_call_arguments.done');
    expect(argumentsDone).toEqual([
      expect.objectContaining({ item_id: 'fc_call_1', output_index: 1, name: 'f', arguments: '{"a":1}' }),
      expect.objectContaining({ item_id: 'fc_call_2', output_index: 2, name: 'g', arguments: '{}' }),
    ]);
    expect(events.filter((event) => event.type === 'response.function_call_arguments.delta').map((event) => event.delta)).toEqual(['{"a"', ':1}', '{}']);
    expect((events.at(-1)?.response as Json).output).toEqual([
      expect.objectContaining({ type: 'message' }),
      { id: 'fc_call_1', type: 'function_call', status: 'completed', arguments: '{"a":1}', call_id: 'call_1', name: 'f' },
      { id: 'fc_call_2', type: 'function_call', status: 'completed', arguments: '{}', call_id: 'call_2', name: 'g' },
    ]);
  });

  it('writes reasoning as a reasoning item with its summary before the text', () => {
    const events = eventsOf(new ResponsesEventWriter({ model: 'm' }), [chunk({ reasoning_content: 'Thinking' }), chunk({ reasoning_content: ' hard' }), chunk({ content: 'Done' }), '[DONE]']);
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect((events.at(-1)?.response as Json).output).toEqual([
      { id: 'rs_abc', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Thinking hard' }] },
      expect.objectContaining({ id: 'msg_abc_1', type: 'message', content: [expect.objectContaining({ text: 'Done' })] }),
    ]);
  });

  it('a cut answer ends in response.incomplete; a broken stream in response.failed', () => {
    const cut = eventsOf(new ResponsesEventWriter({ model: 'm' }), [chunk({ content: 'x' }), JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'length' }] })]);
    expect(cut.at(-1)).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } });
    const broken = eventsOf(new ResponsesEventWriter({ model: 'm' }), [chunk({ content: 'x' }), JSON.stringify({ error: { message: 'upstream went away', type: 'api_error' } })]);
    expect(broken.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'upstream went away' } } });
    expect(broken.map((event) => event.type)).not.toContain('response.completed');
  });

  it("the openai client's own accumulator reads the events into the response the last event carries", () => {
    const events = eventsOf(new ResponsesEventWriter({ model: 'm' }), [
      chunk({ reasoning_content: 'Think' }),
      chunk({ content: 'Hi' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      JSON.stringify({ id: 'chatcmpl-abc', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }),
      '[DONE]',
    ]);
    let snapshot: ReturnType<typeof accumulateResponse> | undefined;
    for (const event of events) snapshot = accumulateResponse(event as unknown as ResponseStreamEvent, snapshot);
    expect(snapshot).toMatchObject({ ...(events.at(-1)?.response as Json), output_text: 'Hi' });
  });
});
