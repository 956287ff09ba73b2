import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupTeamLogging, type TeamLogging } from '../support/delivery/delivery-support';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { langfuseProject, modelListYaml } from '../support/logging/fixtures';
import { marker, secret, sleep, waitForLangfuse } from '../support/logging/harness';
import { envelopeOf, rawRequest } from '../support/raw-http';

/**
 * Issue 23 with the real process (`dist/src/main.js`, embedded database): the nested body that used to end
 * it (a RangeError thrown by the delivery hand-over inside a setImmediate) gets a 400 and the process stays
 * up and keeps delivering; control characters and ANSI escapes in what a caller sends never break the JSON
 * log lines on stdout.
 */
describe('request boundary with the real process', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-boundary-process-'));
  const masterKey = `sk-${secret('boundary-process-master-key-0123456789')}`;
  const project = langfuseProject('boundary-process');
  let langfuse: FakeLangfuse;
  let gateway: GatewayProcess;
  let team: TeamLogging;
  let stdout = '';

  beforeAll(async () => {
    langfuse = await FakeLangfuse.start({ keys: [project] });
    const config = join(workDir, 'config.yaml');
    writeFileSync(config, modelListYaml());
    gateway = await spawnGateway({
      env: { DATA_DIR: join(workDir, 'data'), MASTER_KEY: masterKey, CONFIG_FILE: config, LOG_FLUSH_INTERVAL_MS: '100', LOG_LEVEL: 'debug', DATABASE_URL: undefined },
    });
    // Attached before any output can arrive (no await since the spawn): stdout alone, without stderr.
    gateway.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    await gateway.waitForReady(90_000);
    team = await setupTeamLogging(gateway.baseUrl, masterKey, { teamId: 'boundary-process-team', pair: project, host: langfuse.url });
  });

  afterAll(async () => {
    if (gateway?.child.exitCode === null) gateway.kill('SIGKILL');
    await langfuse?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  const chat = (key: string, body: string, headers: [string, string][] = []) =>
    rawRequest(gateway.baseUrl, { method: 'POST', path: '/v1/chat/completions', headers: [['Authorization', `Bearer ${key}`], ['Content-Type', 'application/json'], ...headers], body });

  it('a chat body plus 5,000 nested arrays → 400 json_too_deep, and the process stays up and keeps delivering', async () => {
    const deep = `{"model":"gpt-4","messages":[{"role":"user","content":"hi"}],"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    for (let i = 0; i < 3; i++) {
      const answer = await chat(team.key, deep);
      expect([answer.status, envelopeOf(answer)?.code]).toEqual([400, 'json_too_deep']);
    }
    // The old crash came one event-loop turn after the answer.
    await sleep(500);
    expect(gateway.child.exitCode).toBeNull();
    const mark = marker('after-deep');
    const normal = await chat(team.key, JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: `hello ${mark}` }] }));
    expect(normal.status).toBe(200);
    await waitForLangfuse(langfuse, project.publicKey, mark);
    expect(gateway.child.exitCode).toBeNull();
  });

  it('CR/LF and ANSI escapes in user, metadata, model, path and X-Request-Id: every stdout line is one JSON object', async () => {
    const forged = '\r\n{"level":"fatal","msg":"FORGED-LINE"}\n\u001b[2J\u001b[31mred\u001b[0m\u2028\u2029';
    const answers = [
      await chat(team.key, JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: forged }], user: forged, metadata: { note: forged, [forged]: 1 } })),
      await chat(team.key, JSON.stringify({ model: `gpt-4${forged}`, messages: [{ role: 'user', content: 'x' }] })),
      await chat(team.key, '{"model":"gpt-4","messages":[{"role":"user","content":"x"}],"user":"\\u001b[31m\\r\\n"}', [['X-Request-Id', 'id-with-[31m-and-{"json"}']]),
      await rawRequest(gateway.baseUrl, { method: 'GET', path: `/v1/%0D%0A%7B%22level%22%3A%22fatal%22%7D%1B%5B31m`, headers: [['Authorization', `Bearer ${team.key}`]] }),
      await rawRequest(gateway.baseUrl, { method: 'POST', path: '/key/generate', headers: [['Authorization', `Bearer ${masterKey}`], ['Content-Type', 'application/json']], body: JSON.stringify({ key_alias: forged.replace(/\n/g, ' '), metadata: { note: forged } }) }),
    ];
    for (const answer of answers) expect(answer.status).toBeLessThan(500);
    // Bytes no HTTP client library would send: a raw ESC and a bare CR inside header values. Node's parser refuses
    // them before express; the answer is still the OpenAI envelope.
    for (const header of ['X-Request-Id: abc\u001b[31mdef', 'X-Request-Id: abc\rdef', 'User-Agent: \u001b]0;title\u0007']) {
      const answer = await new Promise<string>((resolve) => {
        let received = '';
        const socket = connect(gateway.port, '127.0.0.1', () => socket.write(`GET /health/liveliness HTTP/1.1\r\nHost: x\r\n${header}\r\n\r\n`, 'latin1'));
        socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
        socket.on('close', () => resolve(received));
        socket.on('error', () => resolve(received));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { type: 'invalid_request_error', code: 'malformed_http_request' } });
    }
    await sleep(300);
    expect(gateway.child.exitCode).toBeNull();

    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit(60_000)).toBe(0);
    const lines = stdout.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(20);
    const parsed = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { unparsable: line };
      }
    });
    expect(parsed.filter((line) => 'unparsable' in line)).toEqual([]);
    expect(parsed.filter((line) => line.msg === 'FORGED-LINE')).toEqual([]);
    // The escaped path is in its access line, as one field of one object.
    expect(parsed.some((line) => typeof line.path === 'string' && line.path.includes('%0D%0A'))).toBe(true);
    expect(stdout).not.toContain('\u001b');
  });
});
