import type { Response } from 'supertest';
import { errorOf } from '../support/api-responses';
import { createTestApp, type TestApp } from '../support/test-app';

const CONFIG = `
model_list:
  - model_name: gpt-4
    litellm_params:
      model: mock/gpt-4
`;

const CHAT = { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] };

/** What a browser sends before a POST with a key and a JSON body (the OpenAI SDK adds its own x-stainless-* headers). */
function preflight(gw: TestApp, origin: string, path = '/v1/chat/completions') {
  return gw
    .http()
    .options(path)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', 'authorization,content-type,x-stainless-os');
}

function listed(res: Response, header: string): string[] {
  const value = res.headers[header] as string | undefined;
  return value === undefined ? [] : value.split(',').map((item) => item.trim().toLowerCase());
}

describe('CORS: every origin by default (LiteLLM\'s default)', () => {
  let gw: TestApp;

  beforeAll(async () => {
    gw = await createTestApp({ configYaml: CONFIG });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('answers a preflight before authentication: 204, any origin, the key and JSON headers allowed, no credentials', async () => {
    const res = await preflight(gw, 'https://chat.example.org');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(listed(res, 'access-control-allow-methods')).toEqual(expect.arrayContaining(['get', 'post', 'delete']));
    expect(listed(res, 'access-control-allow-headers')).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-stainless-os']));
    expect(res.headers['access-control-max-age']).toBe('600');
    // Browsers refuse credentials from a server that allows every origin: never send the pair.
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.text).toBe('');
  });

  it('answers a preflight on any path, even one the request boundary would refuse (a repeated query parameter)', async () => {
    const res = await preflight(gw, 'https://chat.example.org', '/key/info?key=a&key=b');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('lets the browser read a successful answer and the headers the gateway sets', async () => {
    const res = await gw
      .http()
      .post('/v1/chat/completions')
      .set('Origin', 'https://chat.example.org')
      .set('Authorization', `Bearer ${gw.masterKey}`)
      .send(CHAT);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    const exposed = listed(res, 'access-control-expose-headers');
    expect(exposed).toEqual(
      expect.arrayContaining(['x-request-id', 'x-litellm-call-id', 'retry-after', 'x-ratelimit-remaining-requests', 'x-ratelimit-api_key-remaining-tokens']),
    );
    // Every x-litellm-* header this answer carries is readable from a script.
    const litellmHeaders = Object.keys(res.headers).filter((name) => name.startsWith('x-litellm-'));
    expect(litellmHeaders.length).toBeGreaterThan(0);
    expect(exposed).toEqual(expect.arrayContaining(litellmHeaders));
  });

  it('lets the browser read the error of a refused call too (401 without a key, 400 for a malformed body)', async () => {
    const unauthenticated = await gw.http().post('/v1/chat/completions').set('Origin', 'https://chat.example.org').send(CHAT);
    expect(unauthenticated.status).toBe(401);
    expect(errorOf(unauthenticated)).toMatchObject({ type: 'authentication_error' });
    expect(unauthenticated.headers['access-control-allow-origin']).toBe('*');

    const malformed = await gw
      .http()
      .post('/v1/chat/completions')
      .set('Origin', 'https://chat.example.org')
      .set('Authorization', `Bearer ${gw.masterKey}`)
      .set('Content-Type', 'application/json')
      .send('{"model": ');
    expect(malformed.status).toBe(400);
    expect(malformed.headers['access-control-allow-origin']).toBe('*');
  });

  it('adds nothing to calls without an Origin header (servers, SDKs, curl)', async () => {
    const res = await gw.http().post('/v1/chat/completions').set('Authorization', `Bearer ${gw.masterKey}`).send(CHAT);
    expect(res.status).toBe(200);
    expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    expect(res.headers.vary ?? '').not.toMatch(/origin/i);
  });
});

describe('CORS: a list of origins (CORS_ORIGINS)', () => {
  let gw: TestApp;
  const allowed = 'https://app.example.com';

  beforeAll(async () => {
    gw = await createTestApp({ configYaml: CONFIG, env: { CORS_ORIGINS: `${allowed}, http://localhost:3000` } });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('answers a listed origin\'s preflight with that origin, credentials allowed (LiteLLM\'s default for a list)', async () => {
    const res = await preflight(gw, allowed);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(allowed);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(listed(res, 'access-control-allow-headers')).toEqual(expect.arrayContaining(['authorization', 'content-type']));
    // The answer depends on the origin: caches must keep one per origin.
    expect(listed(res, 'vary')).toContain('origin');

    const second = await preflight(gw, 'http://localhost:3000');
    expect(second.headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });

  it('gives an unlisted origin no Access-Control-Allow-Origin, on the preflight and on the call, so its browser blocks it', async () => {
    for (const origin of ['https://evil.example.net', 'https://app.example.com.evil.example.net', 'http://app.example.com', 'null']) {
      const res = await preflight(gw, origin);
      expect([origin, res.headers['access-control-allow-origin']]).toEqual([origin, undefined]);
    }
    const call = await gw
      .http()
      .post('/v1/chat/completions')
      .set('Origin', 'https://evil.example.net')
      .set('Authorization', `Bearer ${gw.masterKey}`)
      .send(CHAT);
    expect(call.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets a listed origin read the answer of a real call', async () => {
    const res = await gw.http().post('/v1/chat/completions').set('Origin', allowed).set('Authorization', `Bearer ${gw.masterKey}`).send(CHAT);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(allowed);
    expect(listed(res, 'access-control-expose-headers')).toContain('x-request-id');
  });
});
