import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtlpSender } from './otlp-sender';

/** A self-signed certificate for 127.0.0.1, made with the machine's openssl. */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyPath, '-out', certPath], { stdio: 'ignore' });
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

describe('OtlpSender over TLS (OTEL_EXPORTER_OTLP_CERTIFICATE, CLIENT_CERTIFICATE, CLIENT_KEY)', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let serverCert: { cert: string; key: string };
  let clientCert: { cert: string; key: string };
  const clientNames: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-otlp-tls-'));
    serverCert = selfSigned(dir, 'collector');
    clientCert = selfSigned(dir, 'gateway');
    // Mutual TLS: the collector asks for a client certificate and trusts only the gateway's.
    server = createServer({ ...serverCert, ca: clientCert.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      clientNames.push(String((req.socket as unknown as { getPeerCertificate(): { subject?: { CN?: string } } }).getPeerCertificate().subject?.CN));
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const sender = (tls: { ca?: string; cert?: string; key?: string }) => new OtlpSender({ tracesUrl: url, protocol: 'http/protobuf', headers: {}, timeoutMs: 2_000, compression: 'none', tls }, []);

  it('trusts the CA file and presents the client certificate: the batch is accepted', async () => {
    const withBoth = sender({ ca: serverCert.cert, ...clientCert });
    await expect(withBoth.send(Buffer.alloc(0), 2_000)).resolves.toEqual({ ok: true });
    await withBoth.close();
    expect(clientNames).toEqual(['gateway']);
  });

  it('without the CA the collector is not trusted; without the client certificate it refuses the gateway', async () => {
    const noCa = sender(clientCert);
    await expect(noCa.send(Buffer.alloc(0), 2_000)).resolves.toEqual({ ok: false, reason: expect.stringMatching(/could not be reached \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/) as unknown });
    await noCa.close();
    const noClientCert = sender({ ca: serverCert.cert });
    await expect(noClientCert.send(Buffer.alloc(0), 2_000)).resolves.toEqual({ ok: false, reason: expect.stringMatching(/could not be reached/) as unknown });
    await noClientCert.close();
    expect(clientNames).toEqual(['gateway']);
  });
});
