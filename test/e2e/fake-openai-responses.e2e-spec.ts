import OpenAI, { AuthenticationError, BadRequestError, NotFoundError } from 'openai';
import { FakeOpenAiResponses } from '../support/fakes/fake-openai-responses';

const API_KEY = 'sk-fake-responses-key-0123456789abcdef';
const weather: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};

/**
 * The Responses fake (test/support/fakes/fake-openai-responses.ts) proven with OpenAI's own client: what
 * `client.responses` sends the fake accepts; what the fake answers — a response, the streamed events, a stored
 * response, a deletion, errors — the client reads as it reads OpenAI's. The gateway's native Responses path is
 * tested against this fake.
 */
describe('the OpenAI Responses fake, driven by the openai client', () => {
  let fake: FakeOpenAiResponses;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await FakeOpenAiResponses.start({ apiKeys: [API_KEY], content: 'Hi there', toolArguments: '{"city":"Paris"}', usage: { input_tokens: 12, output_tokens: 4 } });
    client = new OpenAI({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0 });
  });
  afterAll(() => fake?.close());

  it('responses.create: output_text, usage and the stored response', async () => {
    const response = await client.responses.create({ model: 'gpt-4o', instructions: 'Be brief.', input: 'Hello' });
    expect(response.output_text).toBe('Hi there');
    expect(response.usage).toMatchObject({ input_tokens: 12, output_tokens: 4, total_tokens: 16 });
    expect(fake.stored.has(response.id)).toBe(true);
    expect(fake.requests.at(-1)?.json).toMatchObject({ model: 'gpt-4o', instructions: 'Be brief.', input: 'Hello' });
  });

  it('stream: the SDK assembles the events into the final response', async () => {
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'Hello' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('Hi there');
    expect(final.output_text).toBe('Hi there');
    expect(final.usage?.output_tokens).toBe(4);
  });

  it('stream: true yields events with increasing sequence numbers, ending with response.completed', async () => {
    const stream = await client.responses.create({ model: 'gpt-4o', input: 'Hello', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0].type).toBe('response.created');
    expect(events.at(-1)?.type).toBe('response.completed');
  });

  it('tools: a function call, then its output answered (plain and streamed)', async () => {
    const first = await client.responses.create({ model: 'gpt-4o', input: 'Weather in Paris?', tools: [weather] });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}' });
    const streamed = await client.responses.stream({ model: 'gpt-4o', input: 'Weather in Paris?', tools: [weather] }).finalResponse();
    expect(streamed.output[0]).toMatchObject({ type: 'function_call', arguments: '{"city":"Paris"}' });
    const second = await client.responses.create({
      model: 'gpt-4o',
      tools: [weather],
      input: [{ role: 'user', content: 'Weather in Paris?' }, call as OpenAI.Responses.ResponseFunctionToolCall, { type: 'function_call_output', call_id: (call as OpenAI.Responses.ResponseFunctionToolCall).call_id, output: 'sunny' }],
    });
    expect(second.output_text).toBe('Hi there sunny');
  });

  it('previous_response_id, retrieve and delete', async () => {
    const first = await client.responses.create({ model: 'gpt-4o', input: 'One' });
    const next = await client.responses.create({ model: 'gpt-4o', input: 'Two', previous_response_id: first.id });
    expect(next.previous_response_id).toBe(first.id);
    expect((await client.responses.retrieve(first.id)).output_text).toBe('Hi there');
    await client.responses.delete(first.id);
    await expect(client.responses.retrieve(first.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.responses.create({ model: 'gpt-4o', input: 'Three', previous_response_id: first.id })).rejects.toBeInstanceOf(BadRequestError);
  });

  it('refuses a wrong key as OpenAI does', async () => {
    const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: fake.url, maxRetries: 0 });
    await expect(wrong.responses.create({ model: 'gpt-4o', input: 'Hi' })).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('answers Azure’s form of the API (api-version, api-key)', async () => {
    const azure = new OpenAI({ baseURL: `${fake.azureEndpoint}/openai`, apiKey: 'unused', defaultQuery: { 'api-version': '2025-04-01-preview' }, defaultHeaders: { 'api-key': API_KEY }, maxRetries: 0 });
    const response = await azure.responses.create({ model: 'my-deployment', input: 'Hello' });
    expect(response.output_text).toBe('Hi there');
    expect((await azure.responses.retrieve(response.id)).id).toBe(response.id);
  });
});
