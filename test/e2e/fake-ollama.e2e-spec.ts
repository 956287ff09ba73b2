import { Ollama } from 'ollama';
import { FakeOllama } from '../support/fakes/fake-ollama';

/** The Ollama fake, driven by the official `ollama` npm client: if the client reads it, it is Ollama's format. */
describe('fake Ollama, driven by the official ollama client', () => {
  let fake: FakeOllama;
  let client: Ollama;

  beforeAll(async () => {
    fake = await FakeOllama.start({ models: ['llama3.2', 'nomic-embed-text'] });
    client = new Ollama({ host: fake.url });
  });
  afterAll(() => fake?.close());

  it('chat, not streamed: message, done_reason and the eval counts', async () => {
    const answer = await client.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.message).toEqual({ role: 'assistant', content: 'Hello from the fake Ollama!' });
    expect(answer).toMatchObject({ done: true, done_reason: 'stop', prompt_eval_count: 26, eval_count: 9 });
    expect(fake.last.path).toBe('/api/chat');
    expect((fake.last.json as { stream: boolean }).stream).toBe(false);
  });

  it('chat, streamed as NDJSON', async () => {
    const stream = await client.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    let final: { done: boolean; eval_count: number } | null = null;
    for await (const part of stream) {
      text += part.message.content;
      if (part.done) final = part;
    }
    expect(text).toBe('Hello from the fake Ollama!');
    expect(final).toMatchObject({ done: true, eval_count: 9 });
  });

  it('tool calls carry their arguments as an object; images go as base64', async () => {
    const answer = await client.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'weather?', images: ['aGVsbG8='] }],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'w', parameters: { type: 'object', properties: {} } } }],
    });
    expect(answer.message.tool_calls).toEqual([{ function: { name: 'get_weather', arguments: { city: 'Paris', days: 2 } } }]);
    expect((fake.last.json as { messages: Array<{ images: string[] }> }).messages[0].images).toEqual(['aGVsbG8=']);
  });

  it('generate and embed', async () => {
    const generated = await client.generate({ model: 'llama3.2', prompt: '### User:\nhi\n\n' });
    expect(generated.response).toBe('Hello from the fake Ollama!');
    expect(fake.last.path).toBe('/api/generate');
    const embedded = await client.embed({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(embedded.embeddings).toEqual([
      [0.5, -0.25, 0.125, 0],
      [1, -0.25, 0.125, 0],
    ]);
  });

  it("answers an unknown model with Ollama's 404 error body, which the client raises", async () => {
    await expect(client.chat({ model: 'missing', messages: [] })).rejects.toMatchObject({
      status_code: 404,
      error: 'model "missing" not found, try pulling it first',
    });
  });

  it('a stream told to fail ends with an error line, which the client raises', async () => {
    fake.streamFaults.push({ kind: 'error-line', message: 'llama runner process has terminated' });
    const stream = await client.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const read = async (): Promise<void> => {
      for await (const part of stream) void part;
    };
    await expect(read()).rejects.toThrow('llama runner process has terminated');
  });
});
