import { AzureOpenAI, BadRequestError, AuthenticationError } from 'openai';
import { FakeAzureOpenAi, FakeEntraId } from '../support/fakes/fake-azure-openai';

/** The Azure OpenAI fake is what Azure is to `openai`'s own AzureOpenAI client: if the SDK is happy, so are we. */
describe('fake Azure OpenAI, driven by the official AzureOpenAI client', () => {
  const API_VERSION = '2024-10-21';
  let azure: FakeAzureOpenAi;
  let entra: FakeEntraId;
  const tokens: string[] = [];

  beforeAll(async () => {
    azure = await FakeAzureOpenAi.start({
      deployments: { 'chat-deploy': 'gpt-4o-2024-08-06', 'embed-deploy': 'text-embedding-3-small' },
      apiKeys: ['azure-key-1'],
      bearerTokens: tokens,
      blockedWord: 'forbidden-topic',
      filteredAnswerWord: 'cut-me-off',
    });
    entra = await FakeEntraId.start(
      { tenantId: 'tenant-1', clientId: 'client-1', clientSecret: 'secret-1', scope: 'https://cognitiveservices.azure.com/.default' },
      tokens,
    );
  });
  afterAll(async () => {
    await azure?.close();
    await entra?.close();
  });

  const client = (options: Partial<ConstructorParameters<typeof AzureOpenAI>[0]> = {}): AzureOpenAI =>
    new AzureOpenAI({ endpoint: azure.endpoint, apiKey: 'azure-key-1', apiVersion: API_VERSION, maxRetries: 0, ...options });

  it('answers a chat at /openai/deployments/{deployment}/chat/completions?api-version=... with Azure content filter results', async () => {
    const answer = await client({ deployment: 'chat-deploy' }).chat.completions.create({ model: 'ignored', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0].message.content).toBe('Hello from the fake Azure OpenAI!');
    expect(answer.model).toBe('gpt-4o-2024-08-06');
    expect((answer as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results).toHaveLength(1);
    const request = azure.requests[azure.requests.length - 1];
    expect(request.path).toBe('/openai/deployments/chat-deploy/chat/completions');
    expect(request.query.get('api-version')).toBe(API_VERSION);
    expect(request.headers['api-key']).toBe('azure-key-1');
  });

  it('streams with a first chunk that has no choices, and the usage chunk on request', async () => {
    const stream = await client({ deployment: 'chat-deploy' }).chat.completions.create({
      model: 'chat-deploy',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].choices).toEqual([]);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello from the fake Azure OpenAI!');
    expect(chunks[chunks.length - 1].usage).toEqual({ prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 });
  });

  it('refuses stream_options on API versions older than 2024-09-01, as Azure does', async () => {
    const old = client({ deployment: 'chat-deploy', apiVersion: '2023-05-15' });
    await expect(
      old.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } }),
    ).rejects.toThrow(/Unrecognized request argument supplied: stream_options/);
  });

  it('calls a tool and answers with its result', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const first = await client({ deployment: 'chat-deploy' }).chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'weather?' }], tools });
    const call = first.choices[0].message.tool_calls![0] as { id: string; function: { name: string; arguments: string } };
    expect(call.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(first.choices[0].finish_reason).toBe('tool_calls');
  });

  it('embeds, base64 included (the SDK asks for base64 and decodes it)', async () => {
    const answer = await client({ deployment: 'embed-deploy' }).embeddings.create({ model: 'x', input: ['a', 'b'] });
    expect(answer.data).toHaveLength(2);
    expect(answer.data[1].embedding).toEqual([0.5, -0.5, 0.125]);
    expect(azure.requests[azure.requests.length - 1].path).toBe('/openai/deployments/embed-deploy/embeddings');
  });

  it("answers Azure's content filter 400 and 401 bodies, which the SDK maps to its error classes", async () => {
    const blocked = client({ deployment: 'chat-deploy' }).chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'forbidden-topic' }] });
    await expect(blocked).rejects.toBeInstanceOf(BadRequestError);
    await expect(blocked).rejects.toMatchObject({ code: 'content_filter', param: 'prompt' });
    await expect(client({ deployment: 'chat-deploy', apiKey: 'wrong' }).chat.completions.create({ model: 'x', messages: [] })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    const cut = await client({ deployment: 'chat-deploy' }).chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'cut-me-off' }] });
    expect(cut.choices[0].finish_reason).toBe('content_filter');
  });

  it('takes an Entra ID token from the fake token endpoint (client-credentials grant) as Authorization: Bearer', async () => {
    const fetchToken = async (): Promise<string> => {
      const response = await fetch(`${entra.authorityHost}/tenant-1/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1', scope: 'https://cognitiveservices.azure.com/.default' }),
      });
      return ((await response.json()) as { access_token: string }).access_token;
    };
    const withToken = new AzureOpenAI({ endpoint: azure.endpoint, azureADTokenProvider: fetchToken, apiVersion: API_VERSION, deployment: 'chat-deploy', maxRetries: 0 });
    const answer = await withToken.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0].message.content).toBe('Hello from the fake Azure OpenAI!');
    expect(azure.requests[azure.requests.length - 1].headers.authorization).toBe(`Bearer ${tokens[0]}`);

    const refused = await fetch(`${entra.authorityHost}/tenant-1/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'nope', scope: 'https://cognitiveservices.azure.com/.default' }),
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_client');
  });
});
