import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream } from '../support/fake-upstream';
import type { RecordedRequest } from '../support/fakes/fake-http-server';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { langfuseProject, modelListYaml } from '../support/logging/fixtures';
import { langfuseEntry, marker, secret, waitFor, waitForLangfuse } from '../support/logging/harness';

/**
 * Issue 23, "secrets leave through errors", with the real process (`dist/src/main.js`): the upstream echoes the
 * deployment's key in its 401 body and in an error event mid-stream, and a logging destination echoes its own
 * credential in its 401 body until the event is dead-lettered. None of these secrets may appear in the answers, in
 * the events the team's destination receives, in the dead letters, or anywhere in the gateway's stdout/stderr.
 */
describe('secrets in error text never leave the gateway (real process)', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-redaction-'));
  const masterKey = `sk-${secret('redaction-master-key-0123456789')}`;
  // Not key-shaped: only the configured-credential net can catch it.
  const upstreamKey = `provider-${secret('deployment-key')}`;
  const teamProject = langfuseProject('redaction-team');
  const refusedProject = langfuseProject('redaction-refused');
  const incorrectKey = (key: string) => `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`;

  let upstream: FakeUpstream;
  let langfuse: FakeLangfuse;
  let gateway: GatewayProcess;

  const authorizationOf = (pair: { publicKey: string; secretKey: string }) => `Basic ${Buffer.from(`${pair.publicKey}:${pair.secretKey}`).toString('base64')}`;

  beforeAll(async () => {
    upstream = await FakeUpstream.start({
      behaviour: (request) =>
        request.body?.stream === true
          ? {
              type: 'raw-stream',
              pieces: [
                `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'partial' }, finish_reason: null }] })}\n\n`,
                `data: ${JSON.stringify({ error: { message: incorrectKey(upstreamKey), type: 'invalid_request_error', code: 'invalid_api_key' } })}\n\n`,
              ],
            }
          : { type: 'status', status: 401, body: JSON.stringify({ error: { message: incorrectKey(upstreamKey), type: 'invalid_request_error', code: 'invalid_api_key' } }) },
    });
    langfuse = await FakeLangfuse.start({ keys: [teamProject] });
    // The destination refuses this project's keys with a body that quotes the secret key (as some servers do).
    langfuse.addFailure({
      status: 401,
      body: { message: `Invalid credentials: secret key ${refusedProject.secretKey} does not match ${refusedProject.publicKey}` },
      match: (req: RecordedRequest) => req.headers.authorization === authorizationOf(refusedProject),
    });
    const config = join(workDir, 'config.yaml');
    writeFileSync(
      config,
      `${modelListYaml()}  - model_name: rejected-upstream
    litellm_params:
      model: openai/gpt-4o
      api_base: ${upstream.url}
      api_key: os.environ/REDACTION_UPSTREAM_KEY
litellm_settings:
  default_team_settings:
    - team_id: redaction-team
      callbacks: ["langfuse"]
      langfuse_public_key: ${teamProject.publicKey}
      langfuse_secret_key: ${teamProject.secretKey}
      langfuse_host: ${langfuse.url}
`,
    );
    gateway = await spawnGateway({
      env: {
        DATA_DIR: join(workDir, 'data'),
        MASTER_KEY: masterKey,
        CONFIG_FILE: config,
        REDACTION_UPSTREAM_KEY: upstreamKey,
        LOG_FLUSH_INTERVAL_MS: '100',
        LOG_MAX_ATTEMPTS: '1',
        DATABASE_URL: undefined,
      },
    });
    await gateway.waitForReady(90_000);
  });

  afterAll(async () => {
    if (gateway?.child.exitCode === null) gateway.kill('SIGKILL');
    await Promise.all([upstream?.close(), langfuse?.close()]);
    rmSync(workDir, { recursive: true, force: true });
  });

  async function call(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; text: string }> {
    const res = await fetch(`${gateway.baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  }

  it('answers, events, dead letters and stdout carry [REDACTED] where the upstream and the destination quoted a secret', async () => {
    const teamKey = (JSON.parse((await call('POST', '/key/generate', masterKey, { team_id: 'redaction-team' })).text) as { key: string }).key;
    const generated = await call('POST', '/key/generate', masterKey, { metadata: { logging: [langfuseEntry(refusedProject, langfuse.url, 'success')] } });
    expect(generated.status).toBe(200);
    const refusedKey = (JSON.parse(generated.text) as { key: string }).key;

    // 1. The upstream's 401 quotes the deployment key: the caller's 502 does not.
    const plainMark = marker('plain');
    const plain = await call('POST', '/v1/chat/completions', teamKey, { model: 'rejected-upstream', messages: [{ role: 'user', content: plainMark }] });
    expect(plain.status).toBe(502);
    expect(plain.text).toContain('Incorrect API key provided: [REDACTED]');
    expect(plain.text).not.toContain(upstreamKey);

    // 2. The upstream's error event mid-stream quotes it: the caller's terminal event does not.
    const streamMark = marker('stream');
    const streamed = await call('POST', '/v1/chat/completions', teamKey, { model: 'rejected-upstream', stream: true, messages: [{ role: 'user', content: streamMark }] });
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain('partial');
    expect(streamed.text).toContain('Incorrect API key provided: [REDACTED]');
    expect(streamed.text).not.toContain(upstreamKey);

    // 3. Both failures reach the team's destination, redacted.
    const plainEvent = await waitForLangfuse(langfuse, teamProject.publicKey, plainMark);
    await waitForLangfuse(langfuse, teamProject.publicKey, streamMark);
    expect(JSON.stringify(plainEvent.generation)).toContain('[REDACTED]');
    for (const request of langfuse.requests) expect(request.text).not.toContain(upstreamKey);

    // 4. A destination that answers 401 quoting its own secret: the event is dead-lettered with the quote redacted.
    expect((await call('POST', '/v1/chat/completions', refusedKey, { model: 'gpt-4', messages: [{ role: 'user', content: marker('refused') }] })).status).toBe(200);
    const dead = await waitFor('a dead letter of the refused destination', async () => {
      const list = JSON.parse((await call('GET', '/logging/dead-letters?kind=langfuse', masterKey)).text) as { data: Array<{ last_error: string | null }> };
      return list.data.length > 0 ? list.data : undefined;
    });
    expect(dead[0].last_error).toContain('[REDACTED]');
    expect(JSON.stringify(dead)).not.toContain(refusedProject.secretKey);
    // The public key is not shaped like a secret: only the entry's own credentials, added to the redaction, catch it.
    expect(JSON.stringify(dead)).not.toContain(refusedProject.publicKey);

    // 5. Nothing of either secret in the process output, while the lines about both failures are there.
    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit(60_000)).toBe(0);
    const output = gateway.output();
    expect(output).toMatch(/upstream_error on POST \/v1\/chat\/completions/);
    expect(output).toMatch(/moved to dead letters/);
    expect(output).not.toContain(upstreamKey);
    expect(output).not.toContain(refusedProject.secretKey);
  });
});
