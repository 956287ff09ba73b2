import { GoogleGenAI, type GoogleGenAIOptions } from '@google/genai';
import { DefaultTransporter, JWT, UserRefreshClient } from 'google-auth-library';
import { getGlobalDispatcher } from 'undici';
import { DEFAULT_TEXT, DEFAULT_USAGE, FakeGemini, makeServiceAccount, makeUserCredential, vector } from '../support/fakes/fake-gemini';

const API_KEY = 'AIzaFakeGeminiKey0123456789abcdefghijkl';
const account = makeServiceAccount('vertex-caller');
const stranger = makeServiceAccount('stranger');
const user = makeUserCredential('gcloud-user');

type TokenRequest = Parameters<DefaultTransporter['request']>[0];

/**
 * A service-account token from the fake's token endpoint, the way a Node program gets one with google-auth-library:
 * its JWT client signs the RS256 assertion; since the library always posts to Google's own endpoint, its
 * transporter is pointed at the key file's `token_uri` and the assertion's audience names it.
 */
async function accessToken(fake: FakeGemini, signer = account): Promise<string> {
  const transporter = new DefaultTransporter();
  const client = new JWT({
    email: account.clientEmail,
    key: signer.privateKeyPem,
    scopes: ['https://www.googleapis.com/auth/cloud-platform'],
    additionalClaims: { aud: fake.tokenUri },
    transporter: { request: <T>(options: TokenRequest) => transporter.request<T>({ ...options, url: fake.tokenUri }) },
  });
  const { token } = await client.getAccessToken();
  return token as string;
}

/**
 * The Gemini/Vertex fake (test/support/fakes/fake-gemini.ts) proven with Google's own clients: `@google/genai`
 * (Gemini API with an API key, Vertex AI with a Bearer token, both with a custom base URL) and google-auth-library
 * for the OAuth2 token endpoint. What these clients accept, the gateway's Google providers may be tested against.
 */
describe('the Gemini/Vertex fake, driven by @google/genai and google-auth-library', () => {
  let fake: FakeGemini;

  beforeAll(async () => {
    // @google/genai sends through the undici global dispatcher Node's fetch keeps on the real global; Jest's test
    // context is another global, where loading undici puts one.
    expect(getGlobalDispatcher()).toBeDefined();
    fake = await FakeGemini.start({ apiKeys: [API_KEY], serviceAccounts: [account], users: [user] });
  });
  afterAll(() => fake?.close());
  beforeEach(() => fake.reset());

  describe('Gemini API (x-goog-api-key)', () => {
    const gemini = (): GoogleGenAI => new GoogleGenAI({ apiKey: API_KEY, apiVersion: 'v1beta', httpOptions: { baseUrl: fake.url } });

    it('generateContent: system instruction, config and function declarations reach the fake; text and usage come back', async () => {
      const answer = await gemini().models.generateContent({
        model: 'gemini-2.5-flash',
        contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
        config: {
          systemInstruction: 'Be brief.',
          temperature: 0.2,
          maxOutputTokens: 64,
          stopSequences: ['END'],
          tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'OBJECT' as never, properties: { city: { type: 'STRING' as never } }, required: ['city'] } }] }],
        },
      });
      expect(answer.text).toBe(DEFAULT_TEXT);
      expect(answer.usageMetadata).toMatchObject(DEFAULT_USAGE);
      expect(answer.modelVersion).toBe('gemini-2.5-flash-001');
      const call = fake.modelCalls[0];
      expect(call).toMatchObject({ api: 'gemini', model: 'gemini-2.5-flash', method: 'generateContent' });
      expect(call.request.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
      expect(call.request.headers['x-goog-api-key']).toBe(API_KEY);
      expect(call.request.json).toMatchObject({
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        generationConfig: { temperature: 0.2, maxOutputTokens: 64, stopSequences: ['END'] },
        tools: [{ functionDeclarations: [{ name: 'get_weather' }] }],
      });
    });

    it('streamGenerateContent?alt=sse: the client reads every piece and the final usage', async () => {
      fake.next({ type: 'text', pieces: ['One ', 'two ', 'three.'], usage: { candidatesTokenCount: 3, totalTokenCount: 15 } });
      const pieces: string[] = [];
      let usage: unknown;
      for await (const chunk of await gemini().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Count' })) {
        pieces.push(chunk.text ?? '');
        usage = chunk.usageMetadata ?? usage;
      }
      expect(pieces.join('')).toBe('One two three.');
      expect(usage).toMatchObject({ promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 });
      expect(fake.modelCalls[0].request.url).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    });

    it('function calls, a blocked prompt and a safety stop read as the client expects', async () => {
      fake.next(
        { type: 'function-call', calls: [{ name: 'get_weather', args: { city: 'Paris' } }] },
        { type: 'prompt-blocked', blockReason: 'SAFETY' },
        { type: 'filtered', finishReason: 'SAFETY' },
      );
      const called = await gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'Weather in Paris?' });
      expect(called.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }]);
      const blocked = await gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'something bad' });
      expect(blocked.promptFeedback?.blockReason).toBe('SAFETY');
      expect(blocked.candidates).toBeUndefined();
      const filtered = await gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'something else' });
      expect(filtered.candidates?.[0].finishReason).toBe('SAFETY');
      expect(filtered.text).toBeUndefined();
    });

    it('embedContent with several texts goes to batchEmbedContents; outputDimensionality is honoured', async () => {
      const answer = await gemini().models.embedContent({ model: 'gemini-embedding-001', contents: ['alpha', 'beta'], config: { outputDimensionality: 4 } });
      expect(answer.embeddings?.map((embedding) => embedding.values)).toEqual([vector('alpha', 4), vector('beta', 4)]);
      expect(fake.modelCalls[0].request.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    });

    it('errors arrive as Google sends them: a wrong key is 400 API_KEY_INVALID, quota 429, overload 503', async () => {
      const wrongKey = new GoogleGenAI({ apiKey: 'AIzaWrongKey', apiVersion: 'v1beta', httpOptions: { baseUrl: fake.url } });
      await expect(wrongKey.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('API key not valid') as unknown });
      fake.next({ type: 'error', status: 429, googleStatus: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota).' });
      await expect(gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' })).rejects.toMatchObject({ status: 429 });
      fake.next({ type: 'error', status: 503, googleStatus: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' });
      await expect(gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' })).rejects.toMatchObject({ status: 503 });
    });

    it('refuses what Google refuses (the client never sends it, so plain HTTP): an unknown field, an OBJECT without properties', async () => {
      const post = async (body: unknown): Promise<{ status: number; message: string }> => {
        const res = await fetch(`${fake.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
          method: 'POST',
          headers: { 'x-goog-api-key': API_KEY, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, message: ((await res.json()) as { error: { message: string } }).error.message };
      };
      const contents = [{ role: 'user', parts: [{ text: 'hi' }] }];
      const parameters = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false };
      await expect(post({ contents, tools: [{ functionDeclarations: [{ name: 'f', parameters }] }] })).resolves.toEqual({
        status: 400,
        message: `Invalid JSON payload received. Unknown name "additionalProperties" at 'tools[0].function_declarations[0].parameters': Cannot find field.`,
      });
      await expect(post({ contents, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: {} } }] }] })).resolves.toMatchObject({
        status: 400,
        message: expect.stringContaining('should be non-empty for OBJECT type') as unknown,
      });
      await expect(post({ contents: [{ role: 'assistant', parts: [{ text: 'hi' }] }] })).resolves.toMatchObject({ status: 400, message: 'Please use a valid role: user, model.' });
      await expect(post({ contents, generationConfig: { max_tokens: 5 } })).resolves.toMatchObject({ status: 400 });
    });
  });

  describe('Vertex AI (service-account OAuth2 token)', () => {
    const vertex = (token: string): GoogleGenAI => {
      // @google/genai asks google-auth-library for the request's headers; the token came from the fake's endpoint.
      const authClient = { getRequestHeaders: () => Promise.resolve(new Headers({ authorization: `Bearer ${token}` })) };
      const options: GoogleGenAIOptions = {
        vertexai: true,
        project: 'gatehouse-test',
        location: 'europe-west4',
        apiVersion: 'v1',
        httpOptions: { baseUrl: fake.url },
        googleAuthOptions: { authClient } as unknown as GoogleGenAIOptions['googleAuthOptions'],
      };
      return new GoogleGenAI(options);
    };

    it('the token endpoint verifies the RS256 assertion of the key file\'s account and issues a token Vertex accepts', async () => {
      const token = await accessToken(fake);
      expect(fake.grantedAssertions).toHaveLength(1);
      expect(fake.grantedAssertions[0].header).toMatchObject({ alg: 'RS256' });
      expect(fake.grantedAssertions[0].claims).toMatchObject({ iss: account.clientEmail, aud: fake.tokenUri, scope: 'https://www.googleapis.com/auth/cloud-platform' });

      const answer = await vertex(token).models.generateContent({ model: 'gemini-2.5-pro', contents: 'Hello' });
      expect(answer.text).toBe(DEFAULT_TEXT);
      expect(fake.modelCalls[0]).toMatchObject({ api: 'vertex', project: 'gatehouse-test', location: 'europe-west4', model: 'gemini-2.5-pro', method: 'generateContent' });
      expect(fake.modelCalls[0].request.path).toBe('/v1/projects/gatehouse-test/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent');

      const pieces: string[] = [];
      for await (const chunk of await vertex(token).models.generateContentStream({ model: 'gemini-2.5-pro', contents: 'Hello' })) pieces.push(chunk.text ?? '');
      expect(pieces.join('')).toBe(DEFAULT_TEXT);

      const embedded = await vertex(token).models.embedContent({ model: 'text-embedding-005', contents: ['alpha'], config: { outputDimensionality: 4 } });
      expect(embedded.embeddings?.[0].values).toEqual(vector('alpha', 4));
      expect(fake.modelCalls[2].request.path).toBe('/v1/projects/gatehouse-test/locations/europe-west4/publishers/google/models/text-embedding-005:predict');
    });

    it('a gcloud user credential (authorized_user): UserRefreshClient pointed at the file\'s token_uri exchanges the refresh token; Vertex accepts the token', async () => {
      const client = new UserRefreshClient({ clientId: user.clientId, clientSecret: user.clientSecret, refreshToken: user.refreshToken, endpoints: { oauth2TokenUrl: fake.tokenUri } });
      const { token } = await client.getAccessToken();
      expect(fake.refreshedClients).toEqual([user.clientId]);
      expect(Object.fromEntries(new URLSearchParams(fake.tokenRequests[0].text))).toEqual({
        refresh_token: user.refreshToken,
        client_id: user.clientId,
        client_secret: user.clientSecret,
        grant_type: 'refresh_token',
      });
      const answer = await vertex(token as string).models.generateContent({ model: 'gemini-2.5-pro', contents: 'Hello' });
      expect(answer.text).toBe(DEFAULT_TEXT);

      const wrongSecret = new UserRefreshClient({ clientId: user.clientId, clientSecret: 'nope', refreshToken: user.refreshToken, endpoints: { oauth2TokenUrl: fake.tokenUri } });
      await expect(wrongSecret.getAccessToken()).rejects.toMatchObject({ response: { status: 401, data: { error: 'invalid_client' } } });
      const revoked = new UserRefreshClient({ clientId: user.clientId, clientSecret: user.clientSecret, refreshToken: '1//revoked', endpoints: { oauth2TokenUrl: fake.tokenUri } });
      await expect(revoked.getAccessToken()).rejects.toMatchObject({ response: { status: 400, data: { error: 'invalid_grant' } } });
    });

    it('an assertion signed with another key is refused (invalid_grant), and a token it never issued is 401', async () => {
      await expect(accessToken(fake, stranger)).rejects.toThrow(/invalid_grant: Invalid JWT Signature/);
      await expect(vertex('ya29.not-issued').models.generateContent({ model: 'gemini-2.5-pro', contents: 'Hello' })).rejects.toMatchObject({ status: 401 });
    });
  });
});
