import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import {
  assertPublicHttpUrl,
  checkResolvedAddress,
  createGuardedAgent,
  SsrfBlockedError,
  type LookupAllFn,
} from './ssrf-guard';

const publicLookup: LookupAllFn = () => Promise.resolve([{ address: '93.184.216.34', family: 4 }]);
const lookupTo =
  (...addresses: string[]): LookupAllFn =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('assertPublicHttpUrl', () => {
  const options = { allowedHosts: [] as string[], lookup: publicLookup };

  it.each([
    ['http://127.0.0.1', /loopback/],
    ['http://localhost', /internal or metadata host name/],
    ['http://LOCALHOST.', /internal or metadata host name/],
    ['http://app.localhost', /internal domain/],
    ['http://[::1]', /loopback/],
    ['http://169.254.169.254/latest/meta-data/', /link-local/],
    ['http://[::ffff:169.254.169.254]', /IPv4-mapped 169\.254\.169\.254/],
    ['http://[::ffff:a9fe:a9fe]', /IPv4-mapped 169\.254\.169\.254/],
    ['http://2130706433', /non-canonical numeric/],
    ['http://0x7f000001', /non-canonical numeric/],
    ['http://0177.0.0.1', /non-canonical numeric/],
    ['http://134744072', /non-canonical numeric/],
    ['http://metadata.google.internal', /internal or metadata/],
    ['http://metadata.azure.com', /internal or metadata/],
    ['http://10.1.2.3', /10\.0\.0\.0\/8/],
    ['http://172.20.0.1', /172\.16\.0\.0\/12/],
    ['http://192.168.1.1:8080', /192\.168\.0\.0\/16/],
    ['http://100.64.0.1', /carrier-grade NAT/],
    ['http://0.0.0.0', /0\.0\.0\.0\/8/],
    ['http://224.0.0.1', /multicast/],
    ['http://[fd00:ec2::254]', /unique local/],
    ['http://[fe80::1]', /link-local/],
    ['http://[64:ff9b::a9fe:a9fe]', /NAT64/],
    ['http://db.internal', /internal domain/],
    ['http://printer.local', /internal domain/],
    ['http://intranet', /single-label/],
    ['file:///etc/passwd', /scheme file/],
    ['gopher://example.com', /scheme gopher/],
    ['ftp://example.com', /scheme ftp/],
    ['data:text/plain,hi', /scheme data/],
    ['https://u:p@example.com', /credentials in the URL/],
    ['https://u@example.com', /credentials in the URL/],
    ['not a url', /not a valid absolute URL/],
  ])('rejects %s', async (url, reason) => {
    const error = await assertPublicHttpUrl(url, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SsrfBlockedError);
    expect((error as Error).message).toMatch(reason);
  });

  it('accepts a public https URL and returns it parsed', async () => {
    const url = await assertPublicHttpUrl('https://cloud.langfuse.com/', options);
    expect(url.hostname).toBe('cloud.langfuse.com');
  });

  it('accepts a public IP literal', async () => {
    await expect(assertPublicHttpUrl('http://8.8.8.8', options)).resolves.toBeInstanceOf(URL);
    await expect(assertPublicHttpUrl('http://[2606:4700::1111]', options)).resolves.toBeInstanceOf(URL);
  });

  it('rejects a public name that resolves to a private address', async () => {
    await expect(assertPublicHttpUrl('https://evil.example.com', { allowedHosts: [], lookup: lookupTo('10.0.0.5') })).rejects.toThrow(
      /evil\.example\.com resolves to 10\.0\.0\.5/,
    );
  });

  it('rejects when ANY resolved address is blocked', async () => {
    await expect(
      assertPublicHttpUrl('https://mixed.example.com', { allowedHosts: [], lookup: lookupTo('93.184.216.34', '::ffff:127.0.0.1') }),
    ).rejects.toThrow(/IPv4-mapped 127\.0\.0\.1/);
  });

  it('rejects names that do not resolve', async () => {
    const failing: LookupAllFn = () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    await expect(assertPublicHttpUrl('https://nx.example.com', { allowedHosts: [], lookup: failing })).rejects.toThrow(/does not resolve \(ENOTFOUND\)/);
    await expect(assertPublicHttpUrl('https://empty.example.com', { allowedHosts: [], lookup: () => Promise.resolve([]) })).rejects.toThrow(/does not resolve/);
  });

  it('lets the operator allowlist bypass name and address checks, by host or host:port', async () => {
    await expect(assertPublicHttpUrl('http://langfuse.internal:3000', { allowedHosts: ['langfuse.internal'] })).resolves.toBeInstanceOf(URL);
    await expect(assertPublicHttpUrl('http://127.0.0.1:3000', { allowedHosts: ['127.0.0.1:3000'] })).resolves.toBeInstanceOf(URL);
    await expect(assertPublicHttpUrl('http://127.0.0.1:3001', { allowedHosts: ['127.0.0.1:3000'] })).rejects.toThrow(SsrfBlockedError);
    await expect(assertPublicHttpUrl('https://10.0.0.1', { allowedHosts: ['10.0.0.1:443'] })).resolves.toBeInstanceOf(URL);
  });

  it('still rejects userinfo and bad schemes on allowlisted hosts', async () => {
    await expect(assertPublicHttpUrl('http://a:b@langfuse.internal', { allowedHosts: ['langfuse.internal'] })).rejects.toThrow(/credentials/);
    await expect(assertPublicHttpUrl('ftp://langfuse.internal', { allowedHosts: ['langfuse.internal'] })).rejects.toThrow(/scheme/);
  });
});

describe('connect-time guard', () => {
  let server: Server;
  let port: number;
  let hits: number;

  beforeAll(async () => {
    hits = 0;
    server = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses to open a socket to a blocked IP literal; the server receives nothing', async () => {
    const agent = createGuardedAgent({ allowedHosts: [] });
    const before = hits;
    const error = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/refused: loopback/);
    expect(hits).toBe(before);
    await agent.close();
  });

  it('re-checks the name at connect time (DNS rebinding: public at save, private at connect)', async () => {
    let calls = 0;
    const rebinding: LookupAllFn = () => Promise.resolve(calls++ === 0 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    await assertPublicHttpUrl(`http://rebind.example.com:${port}`, { allowedHosts: [], lookup: rebinding });
    const agent = createGuardedAgent({ allowedHosts: [], lookup: rebinding });
    const before = hits;
    const error = await request(`http://rebind.example.com:${port}/`, { dispatcher: agent }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/rebind\.example\.com \(127\.0\.0\.1\) refused/);
    expect(hits).toBe(before);
    await agent.close();
  });

  it('refuses localhost through the real resolver', async () => {
    const agent = createGuardedAgent({ allowedHosts: [] });
    const error = await request(`http://localhost:${port}/`, { dispatcher: agent }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/refused/);
    await agent.close();
  });

  it('connects to allowlisted hosts', async () => {
    const agent = createGuardedAgent({ allowedHosts: [`127.0.0.1:${port}`] });
    const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
    expect(await res.body.text()).toBe('ok');
    await agent.close();
  });

  it('does not guard when allowedHosts is null (trusted destinations)', async () => {
    const agent = createGuardedAgent({ allowedHosts: null });
    const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    await agent.close();
  });

  it('checkResolvedAddress throws a named error', () => {
    expect(() => checkResolvedAddress('x.example.com', 443, '169.254.169.254', [])).toThrow(SsrfBlockedError);
    expect(() => checkResolvedAddress('x.example.com', 443, '169.254.169.254', ['x.example.com'])).not.toThrow();
  });
});
