import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { listPrice } from '../../src/completions/prices/price-list';
import { FakeGceMetadata } from '../support/fakes/fake-gce-metadata';
import { FakeGemini, makeServiceAccount, vector } from '../support/fakes/fake-gemini';
import { FakeLangfuse, type KeyPair } from '../support/fakes/fake-langfuse';
import { EnvScope, LOGGING_ENV, marker, newKey, sleep, waitForLangfuse } from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';
import { apiErrorOf } from '../support/openai-client-errors';

const project: KeyPair = { publicKey: 'pk-lf-vertex-e2e', secretKey: 'sk-lf-vertex-e2e-0123456789' };
const account = makeServiceAccount('gatehouse-vertex', 'gatehouse-test');
const fileAccount = makeServiceAccount('gatehouse-vertex-file', 'gatehouse-test');
/** Used by one test only, so no other test has cached its token. */
const expiringAccount = makeServiceAccount('gatehouse-vertex-expiring', 'gatehouse-test');
/** Not registered at the fake's token endpoint: its assertions are refused. */
const unknownAccount = makeServiceAccount('gatehouse-unknown', 'gatehouse-test');



/** Lines of a PEM key that are long enough to be unmistakable if they leaked anywhere. */
function keyLines(pem: string): string[] {
  return pem.split('\n').filter((line) => line.length > 40 && !line.startsWith('-----'));
}

/**
 * `vertex_ai/<model>` through the gateway with the official `openai` client against the Vertex fake: the service
 * account (JSON in an `os.environ/` variable, or a file) signs an RS256 assertion that the fake's token endpoint —
 * the key file's own `token_uri` — verifies; the token is cached and sent as `Authorization: Bearer`; the model's
 * URL is `api_base` + `:generateContent` / `:streamGenerateContent?alt=sse` / `:predict`. A refused token is a 502
 * naming the reason, with the private key in no answer, log line or log event. A deployment with no key at all uses
 * Application Default Credentials: here (no gcloud ADC file) the metadata server, the GCE fake at GCE_METADATA_HOST.
 */
describe('vertex_ai/ provider through the gateway', () => {
  const env = new EnvScope();
  const logLines: string[] = [];
  let fake: FakeGemini;
  let metadata: FakeGceMetadata;
  let langfuse: FakeLangfuse;
  let gw: TestApp;
  let client: OpenAI;
  let keyDir: string;

  const modelUrl = (model: string): string => `${fake.url}/v1/projects/gatehouse-test/locations/europe-west4/publishers/google/models/${model}`;

  beforeAll(async () => {
    fake = await FakeGemini.start({ serviceAccounts: [account, fileAccount, expiringAccount] });
    metadata = await FakeGceMetadata.start();
    fake.trustTokensFrom(metadata);
    langfuse = await FakeLangfuse.start({ keys: [project] });
    keyDir = mkdtempSync(join(tmpdir(), 'gatehouse-vertex-'));
    for (const name of ['GOOGLE_APPLICATION_CREDENTIALS', 'VERTEXAI_CREDENTIALS', 'GCE_METADATA_IP']) env.unset(name);
    // For the deployment without a key: no gcloud ADC file (an empty config folder), the metadata server at the fake.
    env.set({ CLOUDSDK_CONFIG: keyDir, HOME: keyDir, GCE_METADATA_HOST: metadata.host });
    const keyFile = join(keyDir, 'service-account.json');
    writeFileSync(keyFile, fileAccount.json(fake.tokenUri), { mode: 0o600 });
    env.set({ VERTEX_SA_JSON: account.json(fake.tokenUri), VERTEX_EXPIRING_SA_JSON: expiringAccount.json(fake.tokenUri), VERTEX_UNKNOWN_SA_JSON: unknownAccount.json(fake.tokenUri) });
    gw = await createTestApp({
      configYaml: `
model_list:
  - model_name: pro
    litellm_params:
      model: vertex_ai/gemini-2.5-pro
      vertex_project: gatehouse-test
      vertex_location: europe-west4
      vertex_credentials: os.environ/VERTEX_SA_JSON
      api_base: ${modelUrl('gemini-2.5-pro')}
  - model_name: pro-from-file
    litellm_params:
      model: vertex_ai/gemini-2.5-pro
      vertex_credentials: ${keyFile}
      api_base: ${modelUrl('gemini-2.5-pro')}
  - model_name: expiring
    litellm_params:
      model: vertex_ai/gemini-2.5-pro
      vertex_credentials: os.environ/VERTEX_EXPIRING_SA_JSON
      api_base: ${modelUrl('gemini-2.5-pro')}
  - model_name: embedder
    litellm_params:
      model: vertex_ai/gemini-embedding-001
      vertex_credentials: os.environ/VERTEX_SA_JSON
      api_base: ${modelUrl('gemini-embedding-001')}
  - model_name: refused
    litellm_params:
      model: vertex_ai/gemini-2.5-pro
      vertex_credentials: os.environ/VERTEX_UNKNOWN_SA_JSON
      api_base: ${modelUrl('gemini-2.5-pro')}
  - model_name: adc
    litellm_params:
      model: vertex_ai/gemini-2.5-flash
      vertex_project: gatehouse-test
      vertex_location: europe-west4
      api_base: ${modelUrl('gemini-2.5-flash')}
litellm_settings:
  default_team_settings:
    - team_id: vertex-team
      success_callback: ["langfuse"]
      failure_callback: ["langfuse"]
      langfuse_public_key: ${project.publicKey}
      langfuse_secret: ${project.secretKey}
      langfuse_host: ${langfuse.url}
`,
      env: LOGGING_ENV,
      logLevel: 'debug',
      logDestination: { write: (line: string) => void logLines.push(line) },
    });
    const { key } = await newKey(gw, { team_id: 'vertex-team', key_alias: 'vertex-e2e' });
    client = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([fake?.close(), metadata?.close(), langfuse?.close()]);
    rmSync(keyDir, { recursive: true, force: true });
    env.restore();
  });

  beforeEach(() => {
    fake.reset();
    fake.tokenLifetimeSeconds = 3600;
  });

  it('plain and streamed chat with a Bearer token from the key file\'s token_uri, fetched once and cached; logged with provider, usage and cost', async () => {
    const mark = marker('vertex-plain');
    const answer = await client.chat.completions.create({ model: 'pro', messages: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: `Hello ${mark}` }], max_completion_tokens: 64 });
    expect(answer.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Hello from the fake Gemini!' }, finish_reason: 'stop' });
    expect(answer.model).toBe('gemini-2.5-pro-001');

    const streamMark = marker('vertex-stream');
    fake.next({ type: 'text', pieces: ['Streamed ', 'from ', 'Vertex.'] });
    const pieces: string[] = [];
    for await (const chunk of await client.chat.completions.create({ model: 'pro', messages: [{ role: 'user', content: `Stream ${streamMark}` }], stream: true })) {
      pieces.push(chunk.choices[0]?.delta?.content ?? '');
    }
    expect(pieces.join('')).toBe('Streamed from Vertex.');

    // One token for both calls, from the key file's token_uri.
    expect(fake.tokenRequests).toHaveLength(1);
    const [plainCall, streamCall] = fake.modelCalls;
    expect(plainCall.request.url).toBe('/v1/projects/gatehouse-test/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent');
    expect(streamCall.request.url).toBe('/v1/projects/gatehouse-test/locations/europe-west4/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
    expect(plainCall.request.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
    expect(streamCall.request.headers.authorization).toBe(plainCall.request.headers.authorization);
    expect(plainCall.request.json).toEqual({
      contents: [{ role: 'user', parts: [{ text: `Hello ${mark}` }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { maxOutputTokens: 64 },
    });

    const price = listPrice('vertex_ai', 'gemini-2.5-pro')!;
    for (const [m, text] of [[mark, 'Hello from the fake Gemini!'], [streamMark, 'Streamed from Vertex.']]) {
      const { generation } = await waitForLangfuse(langfuse, project.publicKey, m);
      expect(generation.model).toBe('gemini-2.5-pro');
      expect(generation.metadata).toMatchObject({ custom_llm_provider: 'vertex_ai', api_base: modelUrl('gemini-2.5-pro') });
      expect(JSON.stringify(generation.output)).toContain(text);
      expect(generation.usageDetails).toEqual({ input: 12, output: 6, total: 18 });
      expect((generation.costDetails as { total: number }).total).toBeCloseTo(12 * price.inputCostPerToken + 6 * price.outputCostPerToken, 12);
      expect((generation.costDetails as { total: number }).total).toBeGreaterThan(0);
    }
  });

  it('the assertion is RS256-signed by the service account for the cloud-platform scope; a key file path works as well as JSON text', async () => {
    fake.tokenLifetimeSeconds = 3600;
    const answer = await client.chat.completions.create({ model: 'pro-from-file', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0].message.content).toBe('Hello from the fake Gemini!');
    const assertion = fake.grantedAssertions.find((granted) => granted.claims.iss === fileAccount.clientEmail);
    expect(assertion?.header).toMatchObject({ alg: 'RS256' });
    expect(assertion?.claims).toMatchObject({ aud: fake.tokenUri, scope: 'https://www.googleapis.com/auth/cloud-platform' });
  });

  it('a token about to expire is fetched again; a fresh one is reused', async () => {
    const ask = (content: string): Promise<unknown> => client.chat.completions.create({ model: 'expiring', messages: [{ role: 'user', content }] });
    // Tokens living one second are always within the renewal margin: every call fetches one.
    fake.tokenLifetimeSeconds = 1;
    await ask('one');
    await ask('two');
    expect(fake.tokenRequests).toHaveLength(2);
    fake.tokenLifetimeSeconds = 3600;
    await ask('three');
    await ask('four');
    await ask('five');
    expect(fake.tokenRequests).toHaveLength(3);
    expect(new Set(fake.modelCalls.map((call) => call.request.headers.authorization)).size).toBe(3);
  });

  it('embeddings: predict with outputDimensionality; Vertex\'s token counts are the usage, priced', async () => {
    const mark = marker('vertex-embed');
    const input = `embed this ${mark}`;
    const answer = await client.embeddings.create({ model: 'embedder', input, dimensions: 4 });
    expect(Array.from(answer.data[0].embedding)).toEqual(vector(input, 4));
    expect(answer.usage).toEqual({ prompt_tokens: Math.ceil(input.length / 4), total_tokens: Math.ceil(input.length / 4) });
    expect(fake.modelCalls[0].request.url).toBe('/v1/projects/gatehouse-test/locations/europe-west4/publishers/google/models/gemini-embedding-001:predict');
    expect(fake.modelCalls[0].request.json).toEqual({ instances: [{ content: input }], parameters: { outputDimensionality: 4 } });
    const { generation } = await waitForLangfuse(langfuse, project.publicKey, mark);
    expect((generation.costDetails as { total: number }).total).toBeCloseTo(answer.usage.prompt_tokens * listPrice('vertex_ai', 'gemini-embedding-001')!.inputCostPerToken, 12);
  });

  it.each([
    [429, 'RESOURCE_EXHAUSTED', 429, 'rate_limited'],
    [400, 'INVALID_ARGUMENT', 400, 'validation_failed'],
    [401, 'UNAUTHENTICATED', 502, 'upstream_error'],
    [403, 'PERMISSION_DENIED', 502, 'upstream_error'],
    [503, 'UNAVAILABLE', 503, 'upstream_error'],
  ])('Vertex %i %s is an OpenAI error with status %i (%s)', async (status, googleStatus, expected, code) => {
    fake.next({ type: 'error', status, googleStatus, message: `Vertex says ${googleStatus}` });
    const error = await apiErrorOf(client.chat.completions.create({ model: 'pro', messages: [{ role: 'user', content: 'hi' }] }));
    expect([error.status, error.code]).toEqual([expected, code]);
    expect(error.message).toContain(`${googleStatus}: Vertex says ${googleStatus}`);
  });

  it('a malformed answer is a 502 and one failure log', async () => {
    const mark = marker('vertex-malformed');
    fake.next({ type: 'raw', body: 'upstream proxy error', contentType: 'text/plain' });
    const error = await apiErrorOf(client.chat.completions.create({ model: 'pro', messages: [{ role: 'user', content: `hi ${mark}` }] }));
    expect([error.status, error.code]).toEqual([502, 'upstream_protocol_error']);
    const { generation } = await waitForLangfuse(langfuse, project.publicKey, mark);
    expect(generation.level).toBe('ERROR');
    await sleep(300);
    expect(langfuse.generations(project.publicKey).filter((item) => JSON.stringify(item).includes(mark))).toHaveLength(1);
  });

  it('a token endpoint that refuses the account is a 502 with its reason; the private key is in no answer, log line or log event', async () => {
    const mark = marker('vertex-refused');
    const error = await apiErrorOf(client.chat.completions.create({ model: 'refused', messages: [{ role: 'user', content: `hi ${mark}` }] }));
    expect([error.status, error.code]).toEqual([502, 'upstream_error']);
    expect(error.message).toBe("502 The vertex_ai upstream call could not be prepared: the service account's token endpoint refused the token request (invalid_grant: Invalid grant: account not found)");
    expect(fake.modelCalls).toHaveLength(0);

    const { generation } = await waitForLangfuse(langfuse, project.publicKey, mark);
    expect(generation.level).toBe('ERROR');
    expect(logLines.join('\n')).toContain('could not be prepared');
    const everything = [error.message, JSON.stringify(error), ...logLines, ...langfuse.ingestionRequests.map((request) => request.text)].join('\n');
    for (const line of [...keyLines(unknownAccount.privateKeyPem), ...keyLines(account.privateKeyPem), ...keyLines(fileAccount.privateKeyPem)]) {
      expect(everything).not.toContain(line);
    }
  });

  describe('with no key: Application Default Credentials from the metadata server', () => {
    const adc = (content: string): Promise<OpenAI.ChatCompletion> => client.chat.completions.create({ model: 'adc', messages: [{ role: 'user', content }] });

    it('start-up asked nothing of the metadata server; the first call fetches the token for the cloud-platform scope and Vertex sees it as Bearer', async () => {
      expect(metadata.requests).toHaveLength(0);
      // Tokens living one second are always within the renewal margin: every call fetches one.
      metadata.tokenLifetimeSeconds = 1;
      const answer = await adc('one');
      expect(answer.choices[0].message.content).toBe('Hello from the fake Gemini!');
      expect(metadata.tokenRequests).toHaveLength(1);
      const [tokenRequest] = metadata.tokenRequests;
      expect(tokenRequest.path).toBe('/computeMetadata/v1/instance/service-accounts/default/token');
      expect(tokenRequest.headers['metadata-flavor']).toBe('Google');
      expect(tokenRequest.query.get('scopes')).toBe('https://www.googleapis.com/auth/cloud-platform');
      expect(fake.modelCalls[0].request.headers.authorization).toBe(`Bearer ${metadata.issuedTokens[0]}`);
      expect(fake.modelCalls[0].request.url).toBe('/v1/projects/gatehouse-test/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent');
    });

    it('a metadata server that refuses is a 502 naming it and its status, one failure log; the next call fetches again', async () => {
      // The token of the first call lived one second: this call asks the server again.
      metadata.reset();
      fake.reset();
      metadata.setFailure({ status: 403, body: 'Forbidden: the instance has no service account scopes', headers: { 'metadata-flavor': 'Google' } });
      const mark = marker('vertex-adc-refused');
      const error = await apiErrorOf(adc(`hi ${mark}`));
      expect([error.status, error.code]).toEqual([502, 'upstream_error']);
      expect(error.message).toBe('502 The vertex_ai upstream call could not be prepared: the GCE metadata server refused the token request (HTTP 403)');
      expect(fake.modelCalls).toHaveLength(0);

      const { generation } = await waitForLangfuse(langfuse, project.publicKey, mark);
      expect(generation.level).toBe('ERROR');
      await sleep(300);
      expect(langfuse.generations(project.publicKey).filter((item) => JSON.stringify(item).includes(mark))).toHaveLength(1);

      expect(logLines.join('\n')).toContain('could not be prepared');

      metadata.setFailure(null);
      await expect(adc('recovered')).resolves.toMatchObject({ choices: [{ message: { content: 'Hello from the fake Gemini!' } }] });
      expect(metadata.tokenRequests).toHaveLength(2);
    });

    it('a token near its expiry is fetched again; a fresh one is reused across calls, streamed ones included', async () => {
      metadata.reset();
      fake.reset();
      await adc('two');
      expect(metadata.tokenRequests).toHaveLength(1);
      metadata.tokenLifetimeSeconds = 3600;
      await adc('three');
      await adc('four');
      const pieces: string[] = [];
      for await (const chunk of await client.chat.completions.create({ model: 'adc', messages: [{ role: 'user', content: 'five' }], stream: true })) {
        pieces.push(chunk.choices[0]?.delta?.content ?? '');
      }
      expect(pieces.join('')).toBe('Hello from the fake Gemini!');
      expect(metadata.tokenRequests).toHaveLength(2);
      const sent = fake.modelCalls.map((call) => call.request.headers.authorization);
      const fresh = metadata.issuedTokens[metadata.issuedTokens.length - 1];
      expect(sent.slice(1)).toEqual([`Bearer ${fresh}`, `Bearer ${fresh}`, `Bearer ${fresh}`]);
    });

    it('no token the metadata server gave out is in any log line or log event', async () => {
      await sleep(300);
      const everything = [...logLines, ...langfuse.ingestionRequests.map((request) => request.text)].join('\n');
      expect(everything).toContain('vertex_ai');
      expect(metadata.issuedTokens.length).toBeGreaterThanOrEqual(3);
      for (const token of metadata.issuedTokens) expect(everything).not.toContain(token);
      expect(everything).not.toContain('ya29.c.metadata-');
    });
  });
});
