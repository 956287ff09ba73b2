import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FakeLangfuse, type KeyPair } from '../support/fakes/fake-langfuse';
import { FakeOtlp } from '../support/fakes/fake-otlp';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { langfuseProject, modelListYaml } from '../support/logging/fixtures';
import { langfuseEntry, marker, otlpSpansWith, secret, sleep, waitFor, waitForLangfuse } from '../support/logging/harness';

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) out.push(...filesUnder(path));
    else if (stat.isFile()) out.push(path);
  }
  return out;
}

/** Files (relative to `dir`) that contain `needle` as UTF-8, UTF-16LE or base64 bytes. */
function filesContaining(dir: string, needle: string): string[] {
  const forms = [Buffer.from(needle, 'utf8'), Buffer.from(needle, 'utf16le'), Buffer.from(Buffer.from(needle).toString('base64'), 'utf8')];
  return filesUnder(dir)
    .filter((file) => {
      const bytes = readFileSync(file);
      return forms.some((form) => bytes.includes(form));
    })
    .map((file) => relative(dir, file));
}

/**
 * Logging with the real process (`dist/src/main.js`, embedded database in DATA_DIR, no DATABASE_URL): a team
 * callback secret and a key with secrets are stored, used for delivery, survive a restart, and after the
 * process stopped not one byte of them is in any file under the data directory or in the process output; and
 * images in the messages reach Langfuse's media store, which the SDK cannot do inside Jest.
 */
describe('logging with the real process', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-logging-process-'));
  const dataDir = join(workDir, 'data');
  const masterKey = `sk-${secret('process-master-key-0123456789')}`;
  const teamProject = langfuseProject('proc-team');
  const keyProject = langfuseProject('proc-key');
  const otlpSecret = secret('proc-otlp-bearer');
  // Plaintext, non-secret canaries stored next to the secrets: finding them proves the sweep can see stored text.
  const aliasCanary = `alias-canary-${secret('a')}`;
  const noteCanary = `note-canary-${secret('n')}`;
  const running: GatewayProcess[] = [];

  let langfuse: FakeLangfuse;
  let otlp: FakeOtlp;

  async function start(env: Record<string, string> = {}): Promise<GatewayProcess> {
    const config = join(workDir, 'config.yaml');
    writeFileSync(config, modelListYaml());
    const gateway = await spawnGateway({
      env: { DATA_DIR: dataDir, MASTER_KEY: masterKey, CONFIG_FILE: config, LOG_FLUSH_INTERVAL_MS: '100', DATABASE_URL: undefined, ...env },
    });
    running.push(gateway);
    await gateway.waitForReady(90_000);
    return gateway;
  }

  async function call(gateway: GatewayProcess, method: string, path: string, key: string, body?: unknown): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
    const res = await fetch(`${gateway.baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON
    }
    return { status: res.status, text, json };
  }

  async function stop(gateway: GatewayProcess): Promise<void> {
    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit(60_000)).toBe(0);
  }

  beforeAll(async () => {
    langfuse = await FakeLangfuse.start({ keys: [teamProject, keyProject] });
    otlp = await FakeOtlp.start({ requiredHeaders: { authorization: `Bearer ${otlpSecret}` } });
  });

  afterAll(async () => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    await Promise.all([langfuse?.close(), otlp?.close()]);
    rmSync(workDir, { recursive: true, force: true });
  });

  it('stores, uses and keeps the secrets encrypted: no secret byte in any data file or in the output', async () => {
    const gateway = await start();
    const outputs: string[] = [];
    const virtualKeys: string[] = [];
    try {
      const team = await call(gateway, 'POST', '/team/new', masterKey, { team_id: 'proc-team', team_alias: aliasCanary });
      expect([team.status, team.text]).toEqual([200, expect.any(String)]);
      const callback = await call(gateway, 'POST', '/team/proc-team/callback', masterKey, langfuseEntry(teamProject, langfuse.url));
      expect([callback.status, callback.text]).toEqual([200, expect.any(String)]);
      expect(callback.text).not.toContain(teamProject.secretKey);

      const generated = await call(gateway, 'POST', '/key/generate', masterKey, {
        team_id: 'proc-team',
        key_alias: 'proc-own-key',
        metadata: {
          note: noteCanary,
          logging: [
            langfuseEntry(keyProject, langfuse.url, 'success'),
            { callback_name: 'otel', callback_type: 'success', callback_vars: { otel_endpoint: otlp.url, otel_headers: `authorization=Bearer ${otlpSecret}` } },
          ],
        },
      });
      expect([generated.status, generated.text]).toEqual([200, expect.any(String)]);
      expect(generated.text).not.toContain(keyProject.secretKey);
      expect(generated.text).not.toContain(otlpSecret);
      const ownKey = generated.json.key as string;
      const plain = await call(gateway, 'POST', '/key/generate', masterKey, { team_id: 'proc-team' });
      const teamKey = plain.json.key as string;
      virtualKeys.push(ownKey, teamKey);

      // The stored secrets work: each destination receives with its own credentials.
      const mTeam = marker('proc-team');
      const mOwn = marker('proc-own');
      const chatBody = (mark: string) => ({ model: 'gpt-4', messages: [{ role: 'user', content: `hello ${mark}` }] });
      expect((await call(gateway, 'POST', '/v1/chat/completions', teamKey, chatBody(mTeam))).status).toBe(200);
      expect((await call(gateway, 'POST', '/v1/chat/completions', ownKey, chatBody(mOwn))).status).toBe(200);
      await waitForLangfuse(langfuse, teamProject.publicKey, mTeam);
      await waitForLangfuse(langfuse, keyProject.publicKey, mOwn);
      await waitFor(`OTLP span with ${mOwn}`, () => otlpSpansWith(otlp, mOwn));
      outputs.push(gateway.output());
      await stop(gateway);
      outputs.push(gateway.output());

      // Restart on the same data directory: the encrypted secrets still decrypt and deliver.
      const again = await start();
      const mAgain = marker('proc-restart');
      expect((await call(again, 'POST', '/v1/chat/completions', teamKey, chatBody(mAgain))).status).toBe(200);
      await waitForLangfuse(langfuse, teamProject.publicKey, mAgain);
      const view = await call(again, 'GET', '/team/proc-team/callback', masterKey);
      expect(view.status).toBe(200);
      expect(view.text).not.toContain(teamProject.secretKey);
      await stop(again);
      outputs.push(again.output());
    } finally {
      if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    }

    const files = filesUnder(dataDir);
    expect(files.length).toBeGreaterThan(0);
    // Positive controls: plain stored text is visible to this sweep.
    expect(filesContaining(dataDir, aliasCanary).length).toBeGreaterThan(0);
    expect(filesContaining(dataDir, noteCanary).length).toBeGreaterThan(0);

    const secrets: Record<string, string> = {
      'team Langfuse secret key': teamProject.secretKey,
      'team Langfuse public key': teamProject.publicKey,
      'key Langfuse secret key': keyProject.secretKey,
      'key Langfuse public key': keyProject.publicKey,
      'key OTLP header secret': otlpSecret,
      'master key': masterKey,
    };
    virtualKeys.forEach((value, index) => (secrets[`virtual key #${index}`] = value));
    const found: string[] = [];
    for (const [label, value] of Object.entries(secrets)) {
      for (const file of filesContaining(dataDir, value)) found.push(`${label} in ${file}`);
      for (const output of outputs) if (output.includes(value)) found.push(`${label} in the process output`);
    }
    expect(found).toEqual([]);
  }, 300_000);

  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

  /** A chat whose message carries `png` as a data URI, with a key that logs to `project`. */
  async function sendImage(gateway: GatewayProcess, project: KeyPair, mark: string): Promise<void> {
    const generated = await call(gateway, 'POST', '/key/generate', masterKey, { metadata: { logging: [langfuseEntry(project, langfuse.url)] } });
    expect([generated.status, generated.text]).toEqual([200, expect.any(String)]);
    const content = [
      { type: 'text', text: `what is in this picture? ${mark}` },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
    ];
    const answer = await call(gateway, 'POST', '/v1/chat/completions', generated.json.key as string, { model: 'gpt-4', messages: [{ role: 'user', content }] });
    expect(answer.status).toBe(200);
  }

  // Only the real process can show this: inside Jest the SDK cannot load Node's crypto (test/support/preload-langfuse.ts).
  it("uploads an image sent in the messages to the project's media store and logs a reference in its place", async () => {
    const mediaProject = langfuseProject('proc-media');
    langfuse.addKeyPair(mediaProject);
    const gateway = await start();
    try {
      const mark = marker('proc-media');
      await sendImage(gateway, mediaProject, mark);

      const { trace, generation } = await waitForLangfuse(langfuse, mediaProject.publicKey, mark);
      const media = await waitFor('every announced media object uploaded and reported', () => {
        const all = langfuse.media(mediaProject.publicKey);
        return all.length > 0 && all.every((m) => m.bytes && m.reported) ? all : undefined;
      });
      for (const m of media) {
        expect(m.bytes?.equals(png)).toBe(true);
        expect(m.announced).toMatchObject({ contentType: 'image/png', contentLength: png.length, traceId: trace.id });
        expect(m.reported).toMatchObject({ uploadHttpStatus: 200 });
      }
      const logged = JSON.stringify([trace.input, generation.input]);
      expect(logged).not.toContain(png.toString('base64'));
      const references = [...logged.matchAll(/@@@langfuseMedia:type=image\/png\|id=([^|]+)\|source=base64_data_uri@@@/g)].map((match) => match[1]);
      expect(references.length).toBeGreaterThan(0);
      expect(references.every((id) => media.some((m) => m.mediaId === id))).toBe(true);
      await stop(gateway);
    } finally {
      if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    }
  }, 120_000);

  it('tries a failing media upload once: the event is delivered at the first send, the failure reported to Langfuse', async () => {
    const project = langfuseProject('proc-media-down');
    langfuse.addKeyPair(project);
    langfuse.mediaUploadStatus = 503;
    // Shorter than the client's own upload retries (1 + 2 + 4 s of sleeps): they would time the send out.
    const gateway = await start({ LOG_SEND_TIMEOUT_MS: '3000' });
    try {
      const mark = marker('proc-media-down');
      await sendImage(gateway, project, mark);
      await waitForLangfuse(langfuse, project.publicKey, mark);
      const media = await waitFor('the failed upload reported', () => {
        const all = langfuse.media(project.publicKey);
        return all.length > 0 && all.every((m) => m.reported) ? all : undefined;
      });
      for (const m of media) {
        expect(m.reported).toMatchObject({ uploadHttpStatus: 503 });
        expect(langfuse.mediaUploadAttempts.get(m.mediaId)).toBe(1);
      }
      // Past the send timeout: nothing was sent again.
      await sleep(4000);
      const generationItems = langfuse.items(project.publicKey).filter((item) => item.type.startsWith('generation'));
      expect(generationItems).toHaveLength(1);
      await stop(gateway);
    } finally {
      langfuse.mediaUploadStatus = null;
      if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    }
  }, 120_000);
});
