import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { corrupted, eventFrame, exceptionFrame } from '../support/fakes/bedrock-wire';
import { FakeBedrock } from '../support/fakes/fake-bedrock';
import { FakeLangfuse, type StoredObject } from '../support/fakes/fake-langfuse';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { langfuseProject } from '../support/logging/fixtures';
import { addCallback, expectCostOf, langfuseCallGenerations, langfuseEntry, LOGGING_ENV, newKey, newTeam, rawChatStream, waitFor } from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

const CREDENTIALS = { accessKeyId: 'AKIAGATEWAYBEDROCK01', secretAccessKey: 'gateway+bedrock/secret0123456789abcdefghij', sessionToken: 'IQoJb3JpZ2luX2VjEGatewaySessionToken/+=' };
const SONNET = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const PROFILE = 'us.anthropic.claude-3-5-sonnet-20241022-v2:0';
/** Bedrock list prices of Claude 3.5 Sonnet, USD per token. */
const SONNET_PRICES = { input: 3 / 1e6, output: 15 / 1e6 };
const weather: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

function deployment(name: string, model: string, endpoint: string, secret = CREDENTIALS.secretAccessKey, extra: string[] = []): string {
  return [
    `  - model_name: ${name}`,
    '    litellm_params:',
    `      model: ${model}`,
    `      aws_access_key_id: ${CREDENTIALS.accessKeyId}`,
    `      aws_secret_access_key: "${secret}"`,
    `      aws_session_token: "${CREDENTIALS.sessionToken}"`,
    '      aws_region_name: us-east-1',
    `      aws_bedrock_runtime_endpoint: ${endpoint}`,
    ...extra,
  ].join('\n');
}

/**
 * Issue 24, Bedrock through the gateway with the official openai client: the fake verifies every SigV4 signature
 * and speaks Converse, ConverseStream (AWS event-stream frames) and InvokeModel; the record of each call reaches a
 * Langfuse destination with provider `bedrock`, the model id, usage, the whole answer and its cost at list price.
 */
describe('Bedrock provider through the gateway', () => {
  const project = langfuseProject('bedrock');
  let bedrock: FakeBedrock;
  let langfuse: FakeLangfuse;
  let gw: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    bedrock = await FakeBedrock.start({ credentials: [CREDENTIALS] });
    langfuse = await FakeLangfuse.start({ keys: [project] });
    gw = await createTestApp({
      env: LOGGING_ENV,
      configYaml: [
        'model_list:',
        deployment('claude', `bedrock/${SONNET}`, bedrock.url),
        deployment('claude-profile', `bedrock/converse/${PROFILE}`, bedrock.url),
        deployment('titan-embed', 'bedrock/amazon.titan-embed-text-v2:0', bedrock.url),
        deployment('cohere-embed', 'bedrock/cohere.embed-english-v3', bedrock.url),
        deployment('claude-wrong-secret', `bedrock/${SONNET}`, bedrock.url, 'not-the-secret'),
        deployment('claude-retry', `bedrock/${SONNET}`, bedrock.url, CREDENTIALS.secretAccessKey, ['      max_retries: 1']),
      ].join('\n'),
    });
    const teamId = await newTeam(gw, { team_alias: 'bedrock-team' });
    await addCallback(gw, teamId, langfuseEntry(project, langfuse.url));
    const { key } = await newKey(gw, { team_id: teamId, key_alias: 'bedrock-key' });
    client = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await bedrock?.close();
    await langfuse?.close();
  });

  beforeEach(() => bedrock.reset());

  const { generationOf, onlyGeneration } = langfuseCallGenerations(() => langfuse, project.publicKey);
  const expectCost = (generation: StoredObject, usage: { prompt_tokens: number; completion_tokens: number }, prices = SONNET_PRICES): void => expectCostOf(generation, usage, prices);

  it('plain: a signed Converse call (the ":" of the model id sent as %3A), the answer and usage in OpenAI form, logged with provider, model and cost', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello bedrock' }], max_tokens: 50, temperature: 0.1 })
      .withResponse();
    expect(data.choices[0].message.content).toBe('Echo: hello bedrock');
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.object).toBe('chat.completion');
    expect(data.usage!.prompt_tokens).toBeGreaterThan(0);
    const [call] = bedrock.calls;
    expect(call.rawModelId).toBe('anthropic.claude-3-5-sonnet-20240620-v1%3A0');
    expect(call.operation).toBe('converse');
    expect(call.signedBy).toBe(CREDENTIALS.accessKeyId);
    expect(call.json).toEqual({
      system: [{ text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ text: 'hello bedrock' }] }],
      inferenceConfig: { maxTokens: 50, temperature: 0.1 },
    });

    const generation = await onlyGeneration(response.headers.get('x-litellm-call-id')!);
    expect(generation.model).toBe(SONNET);
    expect(generation.metadata).toMatchObject({ custom_llm_provider: 'bedrock', api_base: bedrock.url, status: 'success' });
    expect(JSON.stringify(generation.output)).toContain('Echo: hello bedrock');
    expectCost(generation, data.usage!);
  });

  it('streamed (frames cut across TCP writes): OpenAI chunks, the usage chunk, and the whole answer in the log', async () => {
    bedrock.streamChunking = 'split';
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'claude', messages: [{ role: 'user', content: 'stream me a fairly long answer please' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('Echo: stream me a fairly long answer please');
    expect(finish).toBe('stop');
    expect(usage!.completion_tokens).toBeGreaterThan(0);
    expect(bedrock.calls[0].operation).toBe('converse-stream');

    const generation = await onlyGeneration(response.headers.get('x-litellm-call-id')!);
    expect(generation.model).toBe(SONNET);
    expect(JSON.stringify(generation.output)).toContain('Echo: stream me a fairly long answer please');
    expect(generation.metadata).toMatchObject({ custom_llm_provider: 'bedrock', stream: true });
    expectCost(generation, usage!);
  });

  it.each([false, true])('a tool-call round trip (stream: %s): tool_calls out, the tool result back in, the final answer', async (streamed) => {
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
    let toolCall: { id: string; name: string; arguments: string };
    if (streamed) {
      const stream = await client.chat.completions.create({ model: 'claude', messages, tools: [weather], stream: true });
      const calls = new Map<number, { id: string; name: string; arguments: string }>();
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
          const current = calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
          calls.set(delta.index, { id: delta.id ?? current.id, name: current.name + (delta.function?.name ?? ''), arguments: current.arguments + (delta.function?.arguments ?? '') });
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect([...calls.keys()]).toEqual([0]);
      expect(finish).toBe('tool_calls');
      toolCall = calls.get(0)!;
    } else {
      const first = await client.chat.completions.create({ model: 'claude', messages, tools: [weather], tool_choice: 'auto' });
      expect(first.choices[0].finish_reason).toBe('tool_calls');
      expect(first.choices[0].message.content).toBe('Let me check.');
      const call = first.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
      toolCall = { id: call.id, name: call.function.name, arguments: call.function.arguments };
    }
    expect(toolCall.name).toBe('get_weather');
    expect(JSON.parse(toolCall.arguments)).toEqual({ city: 'Paris' });

    messages.push(
      { role: 'assistant', content: null, tool_calls: [{ id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: toolCall.arguments } }] },
      { role: 'tool', tool_call_id: toolCall.id, content: '18°C and sunny' },
    );
    const second = await client.chat.completions.create({ model: 'claude', messages, tools: [weather] });
    expect(second.choices[0].message.content).toBe('The tool said: 18°C and sunny');
    expect(second.choices[0].finish_reason).toBe('stop');
    expect(bedrock.calls[1].json.messages).toEqual([
      { role: 'user', content: [{ text: 'What is the weather in Paris?' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: toolCall.id, name: 'get_weather', input: { city: 'Paris' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: toolCall.id, content: [{ text: '18°C and sunny' }] } }] },
    ]);
  });

  it('bedrock/converse/<cross-region inference profile>: the profile id reaches Bedrock and the log, without the route marker', async () => {
    const { response } = await client.chat.completions.create({ model: 'claude-profile', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(bedrock.calls[0].modelId).toBe(PROFILE);
    const generation = await generationOf(response.headers.get('x-litellm-call-id')!);
    expect(generation.model).toBe(PROFILE);
    expect((generation.costDetails as { total: number }).total).toBeGreaterThan(0);
  });

  it('embeddings: Titan (one text) and Cohere (a batch) through InvokeModel, decoded by the openai client, usage from Bedrock, cost logged', async () => {
    const { data: titan, response } = await client.embeddings.create({ model: 'titan-embed', input: 'embed this text', dimensions: 256 }).withResponse();
    expect(titan.data).toHaveLength(1);
    expect(titan.data[0].embedding).toHaveLength(256);
    expect(titan.usage.prompt_tokens).toBeGreaterThan(0);
    expect(bedrock.calls[0].json).toEqual({ inputText: 'embed this text', dimensions: 256 });
    // The openai client asked for base64 (its default) and decoded float32s; floats on request come as numbers.
    const floats = await client.embeddings.create({ model: 'titan-embed', input: 'embed this text', dimensions: 256, encoding_format: 'float' });
    titan.data[0].embedding.forEach((value, i) => expect(value).toBeCloseTo(floats.data[0].embedding[i], 5));

    const cohere = await client.embeddings.create({ model: 'cohere-embed', input: ['first', 'second'] });
    expect(cohere.data.map((item) => item.index)).toEqual([0, 1]);
    expect(cohere.data[1].embedding).toHaveLength(1024);
    // Cohere's body reports no tokens: the count is Bedrock's x-amzn-bedrock-input-token-count header.
    expect(cohere.usage.prompt_tokens).toBe(4);
    expect(bedrock.calls[2].json).toEqual({ texts: ['first', 'second'], input_type: 'search_document' });

    const generation = await generationOf(response.headers.get('x-litellm-call-id')!);
    expect(generation.model).toBe('amazon.titan-embed-text-v2:0');
    expect((generation.costDetails as { total: number }).total).toBeCloseTo(titan.usage.prompt_tokens * (0.02 / 1e6), 14);
  });

  it('ThrottlingException → 429 rate limit; ValidationException → 400; a wrong secret (InvalidSignatureException) → 502 without AWS\'s canonical request', async () => {
    bedrock.failNext('ThrottlingException', 429, 'Too many requests, please wait before trying again.');
    const throttled = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    expect(throttled).toBeInstanceOf(OpenAI.RateLimitError);
    expect((throttled as InstanceType<typeof OpenAI.APIError>).message).toContain('ThrottlingException: Too many requests, please wait before trying again.');

    const invalid = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'assistant', content: 'I start' }] }).catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
    expect((invalid as InstanceType<typeof OpenAI.APIError>).message).toContain('ValidationException: A conversation must start with a user message');

    const denied = await client.chat.completions.create({ model: 'claude-wrong-secret', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(OpenAI.APIError);
    const apiError = denied as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(502);
    expect(apiError.message).toContain('InvalidSignatureException: The request signature we calculated does not match');
    expect(apiError.message).toContain("the deployment's upstream credentials were rejected");
    expect(apiError.message).not.toContain('Canonical String');
    expect(apiError.message).not.toContain(CREDENTIALS.sessionToken);
  });

  it('a model that is not ready (ModelNotReadyException) is retried as a 5xx and then answers 503', async () => {
    bedrock.failNext('ModelNotReadyException', 429, 'Model is not ready for inference.', { times: 5 });
    const error = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
  });

  it('a retry is signed anew: ServiceUnavailableException after a second, then the retry with its own X-Amz-Date answers', async () => {
    bedrock.failNext('ServiceUnavailableException', 503, 'Bedrock is unavailable.', { delayMs: 1100 });
    const answer = await client.chat.completions.create({ model: 'claude-retry', messages: [{ role: 'user', content: 'try again' }] });
    expect(answer.choices[0].message.content).toBe('Echo: try again');
    const dates = bedrock.requests.map((req) => req.headers['x-amz-date']);
    expect(dates).toHaveLength(2);
    expect(dates[1]).not.toBe(dates[0]);
    expect(bedrock.calls).toHaveLength(1);
  });

  it('an image by URL is a 400 before any call (Bedrock takes images inline); a data-URL image reaches Bedrock as bytes', async () => {
    const byUrl = await client.chat.completions
      .create({ model: 'claude', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] })
      .catch((error: unknown) => error);
    expect(byUrl).toBeInstanceOf(OpenAI.BadRequestError);
    expect((byUrl as InstanceType<typeof OpenAI.APIError>).message).toContain('must be a base64 data: URL for Bedrock');
    expect(bedrock.calls).toHaveLength(0);
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is it?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }],
    });
    expect(bedrock.calls[0].json.messages).toEqual([{ role: 'user', content: [{ text: 'what is it?' }, { image: { format: 'png', source: { bytes: png } } }] }]);
  });

  describe('streams that break Bedrock\'s protocol or carry its exception', () => {
    const start = eventFrame('messageStart', { role: 'assistant' });
    const hello = eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello' } });

    const streamRaw = (): Promise<{ events: string[]; callId: string }> => rawChatStream(gw.baseUrl, client.apiKey ?? '', 'claude');

    it.each([
      ['an unknown event', eventFrame('somethingNew', { x: 1 }), 'The bedrock upstream answered in an unexpected format: an unknown event "somethingNew"'],
      ['a frame whose checksum fails', corrupted(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ' world' } })), 'The bedrock upstream answered in an unexpected format: an event-stream message failed its checksum or could not be decoded'],
    ])('%s: the text before it, one upstream_protocol_error event, no [DONE], the upstream given up, one failure log', async (_label, bad, message) => {
      bedrock.nextStream({ pieces: [start, hello, bad, eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'never shown' } })], hang: true });
      const { events, callId } = await streamRaw();
      expect(events).toHaveLength(3);
      expect((JSON.parse(events[1]) as { choices: Array<{ delta: { content: string } }> }).choices[0].delta.content).toBe('Hello');
      expect(JSON.parse(events[2])).toEqual({ error: { message, type: 'api_error', param: null, code: 'upstream_protocol_error' } });
      expect(events.join('')).not.toContain('never shown');
      expect(events).not.toContain('[DONE]');
      await waitFor('the gateway to give up the upstream stream', () => bedrock.abandonedStreams === 1);
      const generation = await onlyGeneration(callId);
      expect(generation.level).toBe('ERROR');
      expect(generation.statusMessage).toBe(message);
    });

    it('an exception frame (throttlingException) ends the stream with the upstream error event', async () => {
      bedrock.nextStream({ pieces: [start, hello, exceptionFrame('throttlingException', 'Too many tokens, please wait.')] });
      const { events, callId } = await streamRaw();
      expect(JSON.parse(events[events.length - 1])).toEqual({
        error: { message: 'bedrock upstream error in the stream: throttlingException: Too many tokens, please wait.', type: 'api_error', param: null, code: 'upstream_error' },
      });
      expect((await onlyGeneration(callId)).level).toBe('ERROR');
    });

    it('a stream that ends without messageStop and metadata is a protocol error', async () => {
      bedrock.nextStream({ pieces: [start, hello] });
      const { events } = await streamRaw();
      expect(JSON.parse(events[events.length - 1])).toMatchObject({
        error: { code: 'upstream_protocol_error', message: 'The bedrock upstream answered in an unexpected format: the stream ended before messageStop and metadata' },
      });
    });
  });

  describe('the real process (npm start): the standard AWS environment, and what stops start-up', () => {
    const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-bedrock-'));
    const masterKey = 'sk-bedrock-process-0123456789-abcdefghijklmnop';
    const running: GatewayProcess[] = [];
    const config = (name: string, text: string): string => {
      const path = join(workDir, name);
      writeFileSync(path, text);
      return path;
    };
    afterAll(() => {
      for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
      rmSync(workDir, { recursive: true, force: true });
    });

    it('stops start-up naming the deployment and the settings or variables when the region or the credentials are missing', async () => {
      const path = config('no-aws.yaml', `model_list:\n  - model_name: claude\n    litellm_params:\n      model: bedrock/${SONNET}\n`);
      const gateway = await spawnGateway({ env: { MASTER_KEY: masterKey, CONFIG_FILE: path, DATA_DIR: join(workDir, 'data-1') } });
      running.push(gateway);
      expect(await gateway.waitForExit()).toBe(1);
      expect(gateway.output()).toContain('model_list[0] (claude): the AWS credentials are missing: set litellm_params.aws_access_key_id and aws_secret_access_key');
      expect(gateway.output()).toContain('model_list[0] (claude): the AWS region is missing: set litellm_params.aws_region_name or the environment variable AWS_REGION_NAME / AWS_REGION / AWS_DEFAULT_REGION');
    });

    it('answers with credentials, region and endpoint from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_BEDROCK_RUNTIME_ENDPOINT', async () => {
      const path = config('env-aws.yaml', `model_list:\n  - model_name: claude\n    litellm_params:\n      model: bedrock/${SONNET}\n`);
      const gateway = await spawnGateway({
        env: {
          MASTER_KEY: masterKey,
          CONFIG_FILE: path,
          DATA_DIR: join(workDir, 'data-2'),
          AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
          AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
          AWS_REGION: 'us-east-1',
          AWS_BEDROCK_RUNTIME_ENDPOINT: bedrock.url,
        },
      });
      running.push(gateway);
      await gateway.waitForReady();
      const processClient = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: masterKey, maxRetries: 0 });
      const answer = await processClient.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'from the environment' }] });
      expect(answer.choices[0].message.content).toBe('Echo: from the environment');
      expect(bedrock.calls[0].signedBy).toBe(CREDENTIALS.accessKeyId);
      gateway.kill('SIGTERM');
      expect(await gateway.waitForExit()).toBe(0);
    });
  });

  describe('after every call above', () => {
    it('no AWS credential reached the log destination, successes and failures alike (LiteLLM #11150 leaked Bedrock keys to Langfuse)', () => {
      const received = langfuse.requests.map((req) => req.text).join('\n');
      expect(received).toContain('"level":"ERROR"');
      for (const value of [CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken, CREDENTIALS.accessKeyId, 'not-the-secret']) {
        expect(received).not.toContain(value);
      }
    });
  });
});
