import { UpstreamErrorEvent, UpstreamProtocolError } from '../providers/provider';
import { responsesReading } from './chat-reading';

const call = { endpoint: 'chat' as const, stream: true, body: {}, upstreamModel: 'gpt-4o', callId: 'c1' };
const response = {
  id: 'resp_1',
  object: 'response',
  created_at: 7,
  model: 'gpt-4o-2024-08-06',
  status: 'completed',
  output: [
    { type: 'reasoning', id: 'rs_1', summary: [] },
    { type: 'message', id: 'msg_1', role: 'assistant', content: [{ type: 'output_text', text: 'Hi', annotations: [] }] },
    { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '{"a":1}' },
  ],
  usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 2 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 1 }, total_tokens: 13 },
};
const sse = (events: Array<Record<string, unknown>>): Buffer => Buffer.from(events.map((event, i) => `event: ${event.type as string}\ndata: ${JSON.stringify({ ...event, sequence_number: i })}\n\n`).join(''));

describe(responsesReading.name, () => {
  it('reads a response as a chat.completion for the record and learns its id', () => {
    const ids: string[] = [];
    const completion = responsesReading((id) => ids.push(id)).answer(Buffer.from(JSON.stringify(response)), call);
    expect(ids).toEqual(['resp_1']);
    expect(completion).toEqual({
      id: 'resp_1',
      object: 'chat.completion',
      created: 7,
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: 'Hi', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] } }],
      usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 1 } },
    });
    expect(() => responsesReading(() => undefined).answer(Buffer.from('{"object":"chat.completion"}'), call)).toThrow(UpstreamProtocolError);
  });

  it('reads a stream as chat chunks, however the bytes are split, ending with finish and usage chunks', () => {
    const ids: string[] = [];
    const reading = responsesReading((id) => ids.push(id));
    const reader = reading.stream(call);
    const bytes = sse([
      { type: 'response.created', response: { ...response, status: 'in_progress', output: [], usage: null } },
      { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'H' },
      { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'i' },
      { type: 'response.output_item.added', output_index: 2, item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '' } },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 2, delta: '{"a":1}' },
      { type: 'response.completed', response },
    ]);
    const chunks = [...reader.push(bytes.subarray(0, 50)), ...reader.push(bytes.subarray(50, 333)), ...reader.push(bytes.subarray(333)), ...reader.end()];
    expect(ids).toEqual(['resp_1']);
    expect(reading.lastSequence()).toBe(5);
    const deltas = chunks.map((chunk) => ((chunk.choices as Array<{ delta: unknown }>)[0] as { delta: unknown } | undefined)?.delta);
    expect(deltas).toEqual([
      { role: 'assistant', content: '' },
      { content: 'H' },
      { content: 'i' },
      { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] },
      {},
      undefined,
    ]);
    expect(chunks.at(-1)).toMatchObject({ id: 'resp_1', choices: [], usage: { prompt_tokens: 10, completion_tokens: 3 } });
  });

  it('response.failed and error events are the upstream’s errors; a stream ending early is a protocol error', () => {
    const failed = responsesReading(() => undefined).stream(call);
    expect(() => failed.push(sse([{ type: 'response.created', response }, { type: 'response.failed', response: { ...response, status: 'failed', error: { code: 'server_error', message: 'boom' } } }]))).toThrow(UpstreamErrorEvent);
    const early = responsesReading(() => undefined).stream(call);
    early.push(sse([{ type: 'response.created', response }]));
    expect(() => early.end()).toThrow(UpstreamProtocolError);
  });
});
