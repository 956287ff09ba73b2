import { mockChatCompletion, mockChatStream, mockEmbeddings, splitIntoPieces } from './mock-provider';
import { SseRelay } from './sse-relay';
import { assembleStream } from './stream-assembler';

describe('mock provider', () => {
  const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Hello there' }] }];

  it('answers deterministically with usage counted from the text', () => {
    const completion = mockChatCompletion({ callId: 'abc', model: 'anything', content: 'This is a mock response from Gatehouse.', messages });
    expect(completion.id).toBe('chatcmpl-abc');
    expect(completion.choices[0].message.content).toBe('This is a mock response from Gatehouse.');
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 10, total_tokens: 15 });
  });

  it('streams the same answer in a few chunks, with usage only when asked', () => {
    const completion = mockChatCompletion({ callId: 'abc', model: 'm', content: 'one two three four five six', messages });
    for (const includeUsage of [false, true]) {
      const relay = new SseRelay(false);
      relay.push(Buffer.from(mockChatStream(completion, includeUsage)));
      relay.end();
      expect(relay.sawDone).toBe(true);
      const { completion: assembled, malformedEvents } = assembleStream(relay.dataEvents);
      expect(malformedEvents).toBe(0);
      expect(assembled.choices[0].message.content).toBe('one two three four five six');
      expect(assembled.choices[0].finish_reason).toBe('stop');
      expect(assembled.usage).toEqual(includeUsage ? completion.usage : null);
      expect(relay.dataEvents.length).toBeGreaterThanOrEqual(4);
    }
  });

  it('splits text into at most n pieces that join back', () => {
    expect(splitIntoPieces('a b c d e f g', 4).join('')).toBe('a b c d e f g');
    expect(splitIntoPieces('a b c d e f g', 4).length).toBeLessThanOrEqual(4);
    expect(splitIntoPieces('', 4)).toEqual(['']);
  });

  it('returns deterministic unit-length embeddings of the requested size', () => {
    const a = mockEmbeddings({ model: 'e', input: ['hello', 'world'], dimensions: 8 });
    const b = mockEmbeddings({ model: 'e', input: 'hello', dimensions: 8 });
    expect(a.data).toHaveLength(2);
    expect(a.data[0].embedding).toEqual(b.data[0].embedding);
    expect(a.data[0].embedding).not.toEqual(a.data[1].embedding);
    const norm = Math.sqrt(a.data[0].embedding.reduce((sum, v) => sum + v * v, 0));
    expect(norm).toBeCloseTo(1, 4);
    expect(a.usage.prompt_tokens).toBe(4);
    expect(mockEmbeddings({ model: 'e', input: 'x', dimensions: undefined }).data[0].embedding).toHaveLength(1536);
  });
});
