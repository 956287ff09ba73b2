import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGemini, makeServiceAccount, makeUserCredential } from '../../../../test/support/fakes/fake-gemini';
import type { ModelDeployment } from '../../../config/gateway-config.types';
import { DeploymentConfigError, DeploymentTable } from '../../deployment-table';
import { listPrice } from '../../prices/price-list';
import type { ProviderCall, ProviderDeployment } from '../provider';

const entry = (params: Record<string, unknown>, name = 'm'): ModelDeployment => ({ model_name: name, litellm_params: params as ModelDeployment['litellm_params'], model_info: {} });
const call = (stream = false): ProviderCall => ({ endpoint: 'chat', stream, body: { messages: [{ role: 'user', content: 'hi' }] }, upstreamModel: '', callId: 'c' });

function problems(list: ModelDeployment[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    DeploymentTable.check(list, env);
  } catch (error) {
    if (error instanceof DeploymentConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

function target(list: ModelDeployment[], env: NodeJS.ProcessEnv = {}, warnings: string[] = []): ProviderDeployment {
  const table = new DeploymentTable(list, { env, pools: false, onWarning: (message) => warnings.push(message) });
  return table.group(list[0].model_name)!.deployments[0].target!;
}

describe('gemini/ deployments', () => {
  it('without a key: start-up stops naming the deployment, the setting and GEMINI_API_KEY', () => {
    expect(problems([entry({ model: 'gemini/gemini-2.5-flash' }, 'flash')])).toEqual([
      'model_list[0] (flash): the Gemini API key is missing: set litellm_params.api_key or the environment variable GEMINI_API_KEY',
    ]);
  });

  it('Google\'s address by default, the key in x-goog-api-key (never the URL), no setting left unread', async () => {
    const warnings: string[] = [];
    const deployment = target([entry({ model: 'gemini/gemini-2.5-flash', safety_settings: [], top_k: 5, extra_headers: { 'x-team': 'a' } })], { GEMINI_API_KEY: 'AIza-env-key' }, warnings);
    expect(warnings).toEqual([]);
    expect([deployment.origin, deployment.apiBaseForLog]).toEqual(['https://generativelanguage.googleapis.com', 'https://generativelanguage.googleapis.com/v1beta']);
    const plain = (await deployment.request({ ...call(), upstreamModel: 'gemini-2.5-flash' }));
    const streamed = (await deployment.request({ ...call(true), upstreamModel: 'gemini-2.5-flash' }));
    expect([plain.path, streamed.path]).toEqual(['/v1beta/models/gemini-2.5-flash:generateContent', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse']);
    expect(plain.headers).toMatchObject({ 'x-goog-api-key': 'AIza-env-key', 'x-team': 'a' });
    expect(JSON.parse(plain.body as string)).toMatchObject({ generationConfig: { topK: 5 }, safetySettings: [] });
  });

  it('a custom api_base (a proxy such as Cloudflare\'s AI Gateway) replaces the versioned root; its query is kept', async () => {
    const deployment = target([entry({ model: 'gemini/gemini-2.0-flash', api_key: 'k', api_base: 'https://gateway.example/v1/acct/google-ai-studio/v1beta?tag=x' })]);
    const streamed = (await deployment.request({ ...call(true), upstreamModel: 'gemini-2.0-flash' }));
    expect([deployment.origin, streamed.path]).toEqual(['https://gateway.example', '/v1/acct/google-ai-studio/v1beta/models/gemini-2.0-flash:streamGenerateContent?tag=x&alt=sse']);
  });
});

describe('vertex_ai/ deployments', () => {
  const account = makeServiceAccount('unit-vertex', 'key-project');
  const user = makeUserCredential('unit-gcloud-user');
  let fake: FakeGemini;
  let dir: string;

  beforeAll(async () => {
    fake = await FakeGemini.start({ serviceAccounts: [account], users: [user] });
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-vertex-unit-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without a key or project: Application Default Credentials (here the metadata server), and start-up asks for the project', () => {
    expect(problems([entry({ model: 'vertex_ai/gemini-2.5-pro' }, 'pro')])).toEqual([
      "model_list[0] (pro): the Google Cloud project is missing: set litellm_params.vertex_project or the environment variable VERTEXAI_PROJECT / VERTEX_PROJECT (the metadata server's project is not asked for at start-up)",
    ]);
    expect(problems([entry({ model: 'vertex_ai/gemini-2.5-pro', vertex_project: 'p' })])).toEqual([]);
  });

  it.each([
    ['not JSON nor a file', { vertex_credentials: 'not-a-key-and-not-a-file' }, 'litellm_params.vertex_credentials is neither credential JSON nor a readable file (ENOENT)'],
    ['malformed JSON', { vertex_credentials: '{"type": "service_account", ' }, 'litellm_params.vertex_credentials is not valid JSON'],
    ['a user credential without its client', { vertex_credentials: '{"type": "authorized_user", "refresh_token": "1//secret-refresh"}' }, 'litellm_params.vertex_credentials needs client_id, client_secret and refresh_token'],
    ['a workload-identity file', { vertex_credentials: '{"type": "external_account", "audience": "secret-refresh"}' }, 'litellm_params.vertex_credentials is "external_account": Gatehouse signs in to Vertex AI with a service-account key (type "service_account") or a gcloud user credential ("authorized_user")'],
    ['no private key', { vertex_credentials: '{"type": "service_account", "client_email": "a@b", "private_key": "nope"}' }, 'litellm_params.vertex_credentials needs client_email and a PEM private_key'],
    ['a location that is no region', { vertex_credentials: account.json('https://t.example/token'), vertex_location: 'us-central1.evil.example/' }, 'litellm_params.vertex_location must be a Google Cloud region such as us-central1, or global'],
  ])('%s: a start-up problem that never quotes the value', (_label, params, message) => {
    const found = problems([entry({ model: 'vertex_ai/gemini-2.5-pro', vertex_project: 'p', ...params })]);
    expect(found).toEqual([`model_list[0] (m): ${message}`]);
    expect(found.join('\n')).not.toMatch(/secret-refresh|not-a-key/);
  });

  it('Google\'s regional URL from project and location; the project from the key file; global has no region in its host', async () => {
    const json = account.json(fake.tokenUri);
    const regional = target([entry({ model: 'vertex_ai/gemini-2.5-flash', vertex_credentials: json, vertex_location: 'europe-west4' })]);
    expect(regional.origin).toBe('https://europe-west4-aiplatform.googleapis.com');
    const request = (await regional.request({ ...call(true), upstreamModel: 'gemini-2.5-flash' }));
    expect(request.path).toBe('/v1/projects/key-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(request.headers.authorization).toMatch(/^Bearer ya29\.fake-/);

    const global = target([entry({ model: 'vertex_ai_beta/gemini-embedding-001', vertex_credentials: json, vertex_project: 'other', vertex_location: 'global' })]);
    expect(global.origin).toBe('https://aiplatform.googleapis.com');
    const embeddings = (await global.request({ ...call(), endpoint: 'embeddings', body: { input: 'x' }, upstreamModel: 'gemini-embedding-001' }));
    expect(embeddings.path).toBe('/v1/projects/other/locations/global/publishers/google/models/gemini-embedding-001:predict');
  });

  it('defaults: us-central1, the project and key file from the environment (VERTEXAI_PROJECT, GOOGLE_APPLICATION_CREDENTIALS)', async () => {
    const file = join(dir, 'sa.json');
    writeFileSync(file, account.json(fake.tokenUri));
    const deployment = target([entry({ model: 'vertex_ai/gemini-2.5-flash' })], { GOOGLE_APPLICATION_CREDENTIALS: file, VERTEXAI_PROJECT: 'env-project' });
    expect(deployment.origin).toBe('https://us-central1-aiplatform.googleapis.com');
    const request = (await deployment.request({ ...call(), upstreamModel: 'gemini-2.5-flash' }));
    expect(request.path).toBe('/v1/projects/env-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent');
  });

  it('the key file\'s fields may be written as a YAML mapping', async () => {
    const fields = JSON.parse(account.json(fake.tokenUri)) as Record<string, unknown>;
    const warnings: string[] = [];
    const deployment = target([entry({ model: 'vertex_ai/gemini-2.5-flash', vertex_credentials: fields })], {}, warnings);
    expect(warnings).toEqual([]);
    const request = (await deployment.request({ ...call(), upstreamModel: 'gemini-2.5-flash' })) as { path: string; headers: Record<string, string> };
    expect(request.path).toBe('/v1/projects/key-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent');
    expect(request.headers.authorization).toMatch(/^Bearer /);
  });

  it('gcloud\'s ADC file (in CLOUDSDK_CONFIG): the refresh token goes to the file\'s token_uri, the project is its quota_project_id, the token is cached', async () => {
    const config = mkdtempSync(join(dir, 'gcloud-'));
    writeFileSync(join(config, 'application_default_credentials.json'), user.json(fake.tokenUri, 'quota-project'));
    const deployment = target([entry({ model: 'vertex_ai/gemini-2.5-flash' })], { CLOUDSDK_CONFIG: config });
    fake.reset();
    const first = await deployment.request({ ...call(), upstreamModel: 'gemini-2.5-flash' });
    const second = await deployment.request({ ...call(true), upstreamModel: 'gemini-2.5-flash' });
    expect(first.path).toBe('/v1/projects/quota-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent');
    expect(first.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
    expect(second.headers.authorization).toBe(first.headers.authorization);
    expect(fake.refreshedClients).toEqual([user.clientId]);
  });

  it('~/.config/gcloud under HOME; a file without quota_project_id: start-up asks for the project, naming the file', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    mkdirSync(join(home, '.config', 'gcloud'), { recursive: true });
    const file = join(home, '.config', 'gcloud', 'application_default_credentials.json');
    writeFileSync(file, user.json(null));
    expect(problems([entry({ model: 'vertex_ai/gemini-2.5-flash' })], { HOME: home })).toEqual([
      `model_list[0] (m): the Google Cloud project is missing: set litellm_params.vertex_project or the environment variable VERTEXAI_PROJECT / VERTEX_PROJECT (or a quota_project_id in the gcloud ADC file ${file}: gcloud auth application-default set-quota-project)`,
    ]);
    expect(problems([entry({ model: 'vertex_ai/gemini-2.5-flash' })], { HOME: home, VERTEXAI_PROJECT: 'p' })).toEqual([]);
  });

  it('a user credential in GOOGLE_APPLICATION_CREDENTIALS works too; a refused refresh token is the caller\'s error naming the endpoint, never a secret', async () => {
    const file = join(dir, 'revoked-user.json');
    const revokedToken = '1//0g-revoked-refresh-token';
    writeFileSync(file, JSON.stringify({ ...(JSON.parse(user.json(fake.tokenUri)) as object), refresh_token: revokedToken }));
    const deployment = target([entry({ model: 'vertex_ai/gemini-2.5-flash', vertex_project: 'p' })], { GOOGLE_APPLICATION_CREDENTIALS: file });
    const refused = deployment.request({ ...call(), upstreamModel: 'gemini-2.5-flash' }) as Promise<unknown>;
    await expect(refused).rejects.toThrow("the user credential's token endpoint refused the token request (invalid_grant: Bad Request)");
    const message = await refused.catch((error: Error) => error.message);
    for (const secret of [revokedToken, user.clientSecret]) expect(message).not.toContain(secret);
  });

  it('a caller\'s malformed request is its 400 before any token is fetched', () => {
    const deployment = target([entry({ model: 'vertex_ai/gemini-2.5-flash', vertex_credentials: account.json('http://127.0.0.1:1/token'), vertex_project: 'p' })]);
    expect(() => deployment.request({ ...call(), body: { messages: [{ role: 'robot' }] }, upstreamModel: 'gemini-2.5-flash' })).toThrow(/messages\[0\]\.role/);
  });
});

describe('list prices', () => {
  it('Gemini models cost the same on the Gemini API and Vertex AI, version suffixes included', () => {
    expect(listPrice('gemini', 'gemini-2.5-flash')).toEqual({ inputCostPerToken: 0.3 / 1e6, outputCostPerToken: 2.5 / 1e6 });
    expect(listPrice('vertex_ai', 'gemini-2.0-flash-001')).toEqual(listPrice('gemini', 'gemini-2.0-flash'));
    expect(listPrice('vertex_ai', 'gemini-2.5-pro')?.inputCostPerToken).toBeCloseTo(1.25 / 1e6, 15);
  });
});
