import Anthropic, { AnthropicError, AuthenticationError, BadRequestError, InternalServerError, OverloadedError, RateLimitError } from '@anthropic-ai/sdk';
import { getGlobalDispatcher } from 'undici';
import { COUNT_OVERHEAD, DEFAULT_TEXT, DEFAULT_USAGE, FakeAnthropic } from '../support/fakes/fake-anthropic';

const API_KEY = 'sk-ant-api03-fake-anthropic-key-0123456789';
const weather: Anthropic.Tool = { name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

/** The `error` of a promise that should reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('the call succeeded');
}

/**
 * The Anthropic fake (test/support/fakes/fake-anthropic.ts) proven with Anthropic's own client, `@anthropic-ai/sdk`:
 * what that client sends, the fake accepts (and checks as Anthropic would); what the fake answers — a Message, the
 * streamed event sequence, errors — the client reads as it reads Anthropic's. The gateway's `anthropic/` provider is
 * tested against this fake.
 */
describe('the Anthropic fake, driven by @anthropic-ai/sdk', () => {
  let fake: FakeAnthropic;
  const client = (options: Partial<ConstructorParameters<typeof Anthropic>[0]> = {}): Anthropic => new Anthropic({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0, ...options });

  beforeAll(async () => {
    // The SDK sends through the undici global dispatcher Node's fetch keeps (see fake-gemini.e2e-spec.ts).
    expect(getGlobalDispatcher()).toBeDefined();
    fake = await FakeAnthropic.start({ apiKeys: [API_KEY] });
  });
  afterAll(() => fake?.close());
  beforeEach(() => fake.reset());

  it('messages.create: system, stop sequences and tools reach the fake; text, stop reason and usage come back', async () => {
    const message = await client().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      system: 'Be brief.',
      stop_sequences: ['END'],
      tools: [weather],
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: DEFAULT_TEXT }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject(DEFAULT_USAGE);
    expect(message.model).toBe('claude-sonnet-4-5');
    expect(message.id).toMatch(/^msg_/);
    const [call] = fake.calls;
    expect(call.request.path).toBe('/v1/messages');
    // @anthropic-ai/sdk 1.x sends the key as a bearer token, and its own API version.
    expect(call.auth).toBe('bearer');
    expect(call.request.headers['anthropic-version']).toBe('2026-10-21');
    expect(call.json).toMatchObject({ system: 'Be brief.', stop_sequences: ['END'], max_tokens: 64, tools: [weather] });
  });

  it('the key in x-api-key, as the HTTP API documents it, is accepted too', async () => {
    const message = await client({ apiKey: null, defaultHeaders: { 'x-api-key': API_KEY } }).messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content[0]).toMatchObject({ text: DEFAULT_TEXT });
    expect(fake.calls[0].auth).toBe('x-api-key');
  });

  it('a stream of text: the SDK assembles every delta, the thinking block and the final usage', async () => {
    fake.next({ type: 'text', pieces: ['One ', 'two ', 'three.'], thinking: 'Counting.', usage: { output_tokens: 3 } });
    const stream = client().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'Count' }] });
    const pieces: string[] = [];
    stream.on('text', (text) => pieces.push(text));
    const message = await stream.finalMessage();
    expect(pieces).toEqual(['One ', 'two ', 'three.']);
    expect(message.content[0]).toMatchObject({ type: 'thinking', thinking: 'Counting.' });
    expect(message.content[1]).toEqual({ type: 'text', text: 'One two three.', citations: undefined });
    expect(message.usage).toMatchObject({ input_tokens: 12, output_tokens: 3 });
    expect(message.stop_reason).toBe('end_turn');
    expect(fake.calls[0].json.stream).toBe(true);
  });

  it('tool use, streamed and not: the input JSON in fragments becomes the tool_use input; a tool_result goes back', async () => {
    fake.next({ type: 'tool-use', text: 'Let me check.', calls: [{ name: 'get_weather', input: { city: 'Paris' } }] });
    const streamed = await client().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, tools: [weather], messages: [{ role: 'user', content: 'Weather in Paris?' }] }).finalMessage();
    expect(streamed.stop_reason).toBe('tool_use');
    const toolUse = streamed.content[1] as Anthropic.ToolUseBlock;
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });

    fake.next({ type: 'text', text: 'It is 18°C.' });
    const answer = await client().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: streamed.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '18°C' }] },
      ],
    });
    expect(answer.content).toEqual([{ type: 'text', text: 'It is 18°C.' }]);

    fake.next({ type: 'tool-use', calls: [{ name: 'get_weather', input: { city: 'Oslo' } }] });
    const plain = await client().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, tools: [weather], tool_choice: { type: 'tool', name: 'get_weather' }, messages: [{ role: 'user', content: 'Oslo?' }] });
    expect(plain.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'get_weather', input: { city: 'Oslo' } })]);
  });

  it('errors arrive as the SDK\'s classes: rate limit (retry-after kept), overloaded 529, server error 500, wrong key 401', async () => {
    fake.next(
      { type: 'error', status: 429, errorType: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit', retryAfter: '7' },
      { type: 'error', status: 529, errorType: 'overloaded_error', message: 'Overloaded' },
      { type: 'error', status: 500, errorType: 'api_error', message: 'Internal server error' },
    );
    const request = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] };
    const limited = await rejection(client().messages.create(request));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers?.get('retry-after')).toBe('7');
    expect((limited as RateLimitError).type).toBe('rate_limit_error');
    const overloaded = await rejection(client().messages.create(request));
    expect(overloaded).toBeInstanceOf(OverloadedError);
    expect(overloaded).toMatchObject({ status: 529, type: 'overloaded_error' });
    expect(await rejection(client().messages.create(request))).toBeInstanceOf(InternalServerError);
    const refused = await rejection(client({ apiKey: 'sk-ant-not-known' }).messages.create(request));
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect(refused).toMatchObject({ status: 401, type: 'authentication_error', apiMessage: 'invalid x-api-key' });
  });

  it('refuses what Anthropic refuses: a system role in messages, a tool_result without its tool_use, an unknown field', async () => {
    const invalid = async (body: Record<string, unknown>): Promise<string> => {
      const error = await rejection(client().messages.create(body as unknown as Anthropic.MessageCreateParamsNonStreaming));
      expect(error).toBeInstanceOf(BadRequestError);
      return (error as BadRequestError).apiMessage as string;
    };
    expect(await invalid({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'system', content: 'Be brief.' }] })).toContain('Unexpected role "system"');
    expect(await invalid({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_nope', content: 'x' }] }] })).toContain('unexpected `tool_use_id`');
    expect(await invalid({ model: 'claude-sonnet-4-5', max_tokens: 16, n: 2, messages: [{ role: 'user', content: 'hi' }] })).toBe('n: Extra inputs are not permitted');
    expect(await invalid({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] })).toBe('max_tokens: Field required');
  });

  it('broken streams as the SDK meets them: an error event is its APIError, invalid JSON and an early end its errors', async () => {
    fake.next({ type: 'fault', fault: 'error-event' }, { type: 'fault', fault: 'invalid-json' }, { type: 'fault', fault: 'early-end' });
    const request = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] };
    // The SDK logs the event it could not parse; that is expected here.
    const quiet = client({ logLevel: 'off' });
    const overloaded = await rejection(quiet.messages.stream(request).finalMessage());
    expect(overloaded).toMatchObject({ type: 'overloaded_error', apiMessage: 'Overloaded' });
    const unparsable = await rejection(quiet.messages.stream(request).finalMessage());
    expect(unparsable).toBeInstanceOf(AnthropicError);
    expect(String(unparsable)).toMatch(/JSON/);
    const cut = await rejection(quiet.messages.stream(request).finalMessage());
    expect(cut).toBeInstanceOf(AnthropicError);
  });

  it('messages.countTokens: the count of the words the model reads, as Anthropic answers `{"input_tokens": n}`', async () => {
    const counted = await client().messages.countTokens({ model: 'claude-sonnet-4-5', system: 'Be brief.', tools: [weather], messages: [{ role: 'user', content: 'Say hello' }] });
    // "Be brief." (2) + "user" "Say hello" (3) + the fake's overhead.
    expect(counted).toEqual({ input_tokens: COUNT_OVERHEAD + 5 });
    expect(fake.countCalls).toHaveLength(1);
    expect(fake.calls).toHaveLength(0);
    const refused = await rejection(client().messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'system' as 'user', content: 'x' }] }));
    expect(refused).toBeInstanceOf(BadRequestError);
  });
});
