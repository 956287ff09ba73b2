import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Compute, GoogleAuth } from 'google-auth-library';
import { FakeGceMetadata } from '../support/fakes/fake-gce-metadata';
import { EnvScope } from '../support/logging/harness';

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * The GCE metadata fake (test/support/fakes/fake-gce-metadata.ts) proven with google-auth-library, the way a Node
 * program on Cloud Run or GKE gets Application Default Credentials: GoogleAuth finds no key file, finds the metadata
 * server at GCE_METADATA_HOST, and its Compute client fetches the token; the project id comes from the same server.
 * What these clients accept, the gateway's metadata path may be tested against.
 */
describe('the GCE metadata fake, driven by google-auth-library', () => {
  const env = new EnvScope();
  let metadata: FakeGceMetadata;
  let emptyHome: string;

  beforeAll(async () => {
    metadata = await FakeGceMetadata.start({ projectId: 'metadata-project' });
    emptyHome = mkdtempSync(join(tmpdir(), 'gatehouse-adc-none-'));
    // No key file anywhere, so the library falls through to the metadata server; gcloud (if installed) knows no project.
    for (const name of ['GOOGLE_APPLICATION_CREDENTIALS', 'GCLOUD_PROJECT', 'GOOGLE_CLOUD_PROJECT', 'GCE_METADATA_IP', 'METADATA_SERVER_DETECTION']) env.unset(name);
    env.set({ GCE_METADATA_HOST: metadata.host, HOME: emptyHome, CLOUDSDK_CONFIG: emptyHome });
  });
  afterAll(async () => {
    env.restore();
    await metadata?.close();
    rmSync(emptyHome, { recursive: true, force: true });
  });
  beforeEach(() => {
    metadata.reset();
    metadata.tokenLifetimeSeconds = 3600;
  });

  it('GoogleAuth picks the metadata server: its Compute client gets the token, the project id comes from project/project-id', async () => {
    const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM] });
    const client = await auth.getClient();
    expect(client).toBeInstanceOf(Compute);
    const token = await auth.getAccessToken();
    expect(token).toMatch(/^ya29\.c\.metadata-/);
    expect(metadata.hasIssued(token as string)).toBe(true);
    await expect(auth.getProjectId()).resolves.toBe('metadata-project');

    const [tokenRequest] = metadata.tokenRequests;
    expect(tokenRequest.path).toBe('/computeMetadata/v1/instance/service-accounts/default/token');
    expect(tokenRequest.query.get('scopes')).toBe(CLOUD_PLATFORM);
    expect(metadata.requests.every((request) => request.headers['metadata-flavor'] === 'Google')).toBe(true);
  });

  it('Compute reads expires_in as the expiry and reuses the token until it nears it', async () => {
    metadata.tokenLifetimeSeconds = 1800;
    const compute = new Compute({ scopes: [CLOUD_PLATFORM] });
    const before = Date.now();
    const first = await compute.getAccessToken();
    expect(compute.credentials.expiry_date).toBeGreaterThanOrEqual(before + 1_800_000);
    expect(compute.credentials.token_type).toBe('Bearer');
    expect((await compute.getAccessToken()).token).toBe(first.token);
    expect(metadata.tokenRequests).toHaveLength(1);
  });

  it('without Metadata-Flavor: Google (or through a proxy that adds X-Forwarded-For) the server answers 403; an unknown path is 404', async () => {
    const tokenUrl = `${metadata.url}/computeMetadata/v1/instance/service-accounts/default/token`;
    expect((await fetch(tokenUrl)).status).toBe(403);
    expect((await fetch(tokenUrl, { headers: { 'metadata-flavor': 'Google', 'x-forwarded-for': '10.0.0.1' } })).status).toBe(403);
    const answer = await fetch(tokenUrl, { headers: { 'metadata-flavor': 'Google' } });
    expect(answer.headers.get('metadata-flavor')).toBe('Google');
    expect(Object.keys((await answer.json()) as object).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect((await fetch(`${metadata.url}/computeMetadata/v1/instance/nothing-here`, { headers: { 'metadata-flavor': 'Google' } })).status).toBe(404);
  });

  it('a failing metadata server is a rejected getAccessToken carrying the status, as the gateway reads it', async () => {
    metadata.setFailure({ status: 403, body: 'Forbidden' });
    const compute = new Compute({ scopes: [CLOUD_PLATFORM] });
    await expect(compute.getAccessToken()).rejects.toMatchObject({ response: { status: 403 } });
  });
});
