import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { samplePayload } from '../../../test/support/fakes/sample-payload';
import type { HandedOverEvent } from '../delivery/delivery-thread.protocol';
import type { StandardLoggingPayload } from '../standard-logging-payload';
import { handOverRows, NOT_HANDED_OVER_MARKER } from './clone-safe-handover';

function nested(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function row(eventId: string, payload: Partial<StandardLoggingPayload> = {}): HandedOverEvent {
  return {
    eventId,
    entry: { callback_name: 'langfuse', callback_type: 'success', callback_vars: {}, entry_id: 'entry-1', trusted: true, owner: { table: 'teams', id: 'team-a' } },
    source: 'team',
    teamId: 'team-a',
    payload: samplePayload({ litellm_call_id: eventId, ...payload }),
  };
}

/** What arrives on the other side of a real MessageChannel: structured clone as the delivery thread gets it. */
async function received(port: MessagePort, messages: number): Promise<HandedOverEvent[][]> {
  const batches: HandedOverEvent[][] = [];
  await new Promise<void>((resolve) => {
    port.on('message', (batch: HandedOverEvent[]) => {
      batches.push(batch);
      if (batches.length === messages) resolve();
    });
  });
  return batches;
}

describe(handOverRows.name, () => {
  let channel: MessageChannel;
  let sends: number;
  const send = (rows: HandedOverEvent[]) => {
    sends++;
    channel.port1.postMessage(rows);
  };

  beforeEach(() => {
    channel = new MessageChannel();
    sends = 0;
  });
  afterEach(() => {
    channel.port1.close();
    channel.port2.close();
  });

  it('sends a batch that can be copied in one message', async () => {
    const arrived = received(channel.port2, 1);
    expect(handOverRows([row('a'), row('b')], send)).toEqual({ replaced: [], dropped: [], error: null });
    expect(sends).toBe(1);
    expect((await arrived)[0].map((event) => event.eventId)).toEqual(['a', 'b']);
  });

  it('keeps every row of a batch that one row spoilt: the others as they are, the bad one with its content replaced', async () => {
    const deepResponse = row('deep', { response: { choices: [], deep: nested(10_000) } });
    const deepParameters = row('params', { model_parameters: { temperature: 0.2, user: 'u-1', tools: nested(10_000) } });
    const functionValue = row('fn', { metadata: { ...samplePayload().metadata, requester_metadata: { trace_id: 't-1', hook: () => 1 } } });
    const arrived = received(channel.port2, 5);

    const result = handOverRows([row('a'), deepResponse, deepParameters, functionValue, row('b')], send);

    expect(result.error).toBeInstanceOf(Error);
    expect(result.dropped).toEqual([]);
    expect(result.replaced.map((event) => event.eventId)).toEqual(['deep', 'params', 'fn']);
    const batches = await arrived;
    const byId = new Map(batches.flat().map((event) => [event.eventId, event]));
    expect([...byId.keys()].sort()).toEqual(['a', 'b', 'deep', 'fn', 'params']);
    // Untouched rows arrive as they were.
    expect(byId.get('a')?.payload).toEqual(row('a').payload);
    // Replaced rows keep what the gateway measured and lose what the caller or upstream shaped.
    const deep = byId.get('deep') as HandedOverEvent;
    expect(deep.payload.response).toEqual({ text: NOT_HANDED_OVER_MARKER });
    expect(deep.payload.messages).toEqual([{ role: 'user', content: NOT_HANDED_OVER_MARKER }]);
    const original = row('deep').payload;
    for (const field of ['id', 'litellm_call_id', 'status', 'model', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'response_cost', 'cost_breakdown', 'startTime', 'endTime'] as const) {
      expect([field, deep.payload[field]]).toEqual([field, original[field]]);
    }
    expect(byId.get('params')?.payload.model_parameters).toEqual({ temperature: 0.2, user: 'u-1' });
    expect(byId.get('fn')?.payload.metadata.requester_metadata).toEqual({ trace_id: 't-1' });
  });

  it('drops, and reports, a row that cannot be copied even without its content', () => {
    const broken = { ...row('broken'), entry: { ...row('x').entry, callback_vars: { oops: (() => 1) as unknown as string } } };
    const result = handOverRows([broken], send);
    expect(result.replaced).toEqual([]);
    expect(result.dropped.map((event) => event.eventId)).toEqual(['broken']);
    expect(result.error?.message).toMatch(/could not be cloned/);
  });
});
