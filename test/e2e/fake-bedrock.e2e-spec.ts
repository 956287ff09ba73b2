import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  ThrottlingException,
  ValidationException,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { eventFrame, exceptionFrame } from '../support/fakes/bedrock-wire';
import { FakeBedrock } from '../support/fakes/fake-bedrock';

const CREDENTIALS = {
  accessKeyId: 'AKIAFAKEBEDROCK00001',
  secretAccessKey: 'fake+secret/0123456789abcdefghijklmnopqrstu',
  sessionToken: 'FwoGZXIvYXdzEFakeSessionToken/with+slashes=',
};
const SONNET = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const PROFILE = 'us.anthropic.claude-3-5-sonnet-20241022-v2:0';
const ARN = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6';

/**
 * The fake Bedrock proven against AWS's own client: whatever @aws-sdk/client-bedrock-runtime signs is accepted,
 * a wrong secret or token is refused as AWS refuses it, and its answers, event streams and errors decode into the
 * SDK's types. The gateway's Bedrock provider is then tested against this fake.
 */
describe('fake Bedrock, driven by @aws-sdk/client-bedrock-runtime', () => {
  let fake: FakeBedrock;
  let client: BedrockRuntimeClient;

  const clientWith = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    // HTTP/1.1, as the gateway speaks to Bedrock (the client's default handler is HTTP/2).
    new BedrockRuntimeClient({ region: 'us-east-1', endpoint: fake.url, credentials, maxAttempts: 1, requestHandler: new NodeHttpHandler() });

  beforeAll(async () => {
    fake = await FakeBedrock.start({ credentials: [CREDENTIALS] });
    client = clientWith(CREDENTIALS);
  });

  afterAll(async () => {
    client?.destroy();
    await fake?.close();
  });

  beforeEach(() => fake.reset());

  it('Converse with a versioned model id: the SDK signature verifies, the ":" travels as %3A, text and usage come back', async () => {
    const out = await client.send(
      new ConverseCommand({ modelId: SONNET, system: [{ text: 'Be brief.' }], messages: [{ role: 'user', content: [{ text: 'hello there' }] }], inferenceConfig: { maxTokens: 64 } }),
    );
    expect(out.output?.message?.content?.[0]?.text).toBe('Echo: hello there');
    expect(out.stopReason).toBe('end_turn');
    expect(out.usage?.inputTokens).toBeGreaterThan(0);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0].rawModelId).toBe('anthropic.claude-3-5-sonnet-20240620-v1%3A0');
    expect(fake.calls[0].modelId).toBe(SONNET);
    expect(fake.calls[0].signedBy).toBe(CREDENTIALS.accessKeyId);
  });

  it('a cross-region inference profile and an ARN (its ":" and "/" encoded) are accepted as model ids', async () => {
    for (const modelId of [PROFILE, ARN]) {
      const out = await client.send(new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
      expect(out.output?.message?.content?.[0]?.text).toBe('Echo: hi');
    }
    expect(fake.calls.map((call) => call.modelId)).toEqual([PROFILE, ARN]);
    expect(fake.calls[1].rawModelId).toBe(encodeURIComponent(ARN));
  });

  it.each(['frames', 'split'] as const)('ConverseStream (%s): the SDK decodes every event of a tool call and its usage', async (chunking) => {
    fake.streamChunking = chunking;
    const out = await client.send(
      new ConverseStreamCommand({
        modelId: SONNET,
        messages: [{ role: 'user', content: [{ text: 'weather in Paris?' }] }],
        toolConfig: { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }] },
      }),
    );
    const events: ConverseStreamOutput[] = [];
    for await (const event of out.stream ?? []) events.push(event);
    expect(events[0].messageStart?.role).toBe('assistant');
    const text = events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join('');
    expect(text).toBe('Let me check.');
    expect(events.find((e) => e.contentBlockStart)?.contentBlockStart?.start?.toolUse?.name).toBe('get_weather');
    const input = events.map((e) => e.contentBlockDelta?.delta?.toolUse?.input ?? '').join('');
    expect(JSON.parse(input)).toEqual({ city: 'Paris' });
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe('tool_use');
    expect(events[events.length - 1].metadata?.usage?.outputTokens).toBeGreaterThan(0);
  });

  it('an exception message inside a stream reaches the SDK as that exception', async () => {
    fake.nextStream({ pieces: [eventFrame('messageStart', { role: 'assistant' }), exceptionFrame('throttlingException', 'Too many tokens, please wait before trying again.')] });
    const out = await client.send(new ConverseStreamCommand({ modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    const consume = async () => {
      for await (const event of out.stream ?? []) void event;
    };
    await expect(consume()).rejects.toThrow('Too many tokens, please wait before trying again.');
  });

  it('InvokeModel embeddings: Titan v2 and Cohere bodies, token counts in the headers', async () => {
    const titan = await client.send(
      new InvokeModelCommand({ modelId: 'amazon.titan-embed-text-v2:0', contentType: 'application/json', body: JSON.stringify({ inputText: 'embed me', dimensions: 256 }) }),
    );
    const titanBody = JSON.parse(Buffer.from(titan.body).toString()) as { embedding: number[]; inputTextTokenCount: number };
    expect(titanBody.embedding).toHaveLength(256);
    expect(titanBody.inputTextTokenCount).toBeGreaterThan(0);
    const cohere = await client.send(
      new InvokeModelCommand({ modelId: 'cohere.embed-english-v3', body: JSON.stringify({ texts: ['a', 'b'], input_type: 'search_document' }) }),
    );
    const cohereBody = JSON.parse(Buffer.from(cohere.body).toString()) as { embeddings: number[][] };
    expect(cohereBody.embeddings).toHaveLength(2);
    expect(fake.calls.map((call) => call.operation)).toEqual(['invoke', 'invoke']);
    expect(fake.calls[1].request.headers['x-amz-content-sha256']).toBeDefined();
  });

  it('errors carry x-amzn-errortype: the SDK raises ThrottlingException (429) and ValidationException (400)', async () => {
    fake.failNext('ThrottlingException', 429, 'Too many requests, please wait before trying again.');
    const throttled = client.send(new ConverseCommand({ modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    await expect(throttled).rejects.toBeInstanceOf(ThrottlingException);
    await expect(throttled).rejects.toMatchObject({ $metadata: { httpStatusCode: 429 } });
    const invalid = client.send(
      new ConverseCommand({ modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'user', content: [{ text: 'b' }] }] }),
    );
    await expect(invalid).rejects.toBeInstanceOf(ValidationException);
    await expect(invalid).rejects.toThrow('must alternate between user and assistant roles');
  });

  it('a wrong secret is refused with 403 InvalidSignatureException; a missing session token or unknown key with UnrecognizedClientException', async () => {
    const cases: Array<[{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }, string]> = [
      [{ ...CREDENTIALS, secretAccessKey: 'not-the-secret' }, 'InvalidSignatureException'],
      [{ accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: CREDENTIALS.secretAccessKey }, 'UnrecognizedClientException'],
      [{ ...CREDENTIALS, accessKeyId: 'AKIAUNKNOWNKEY000001' }, 'UnrecognizedClientException'],
    ];
    for (const [credentials, name] of cases) {
      const other = clientWith(credentials);
      const refused = other.send(new ConverseCommand({ modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
      await expect(refused).rejects.toMatchObject({ name, $metadata: { httpStatusCode: 403 } });
      other.destroy();
    }
    expect(fake.calls).toHaveLength(0);
  });
});
