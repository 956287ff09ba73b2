import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type DataJson, type TeamInfoJson } from '../support/api-responses';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { langfuseProject, modelListYaml } from '../support/logging/fixtures';
import { bearer, LOGGING_ENV, marker, newKey, newTeam, Transcript, waitFor } from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

/** Twenty ordinary patterns, as a team admin would save them; `round` keeps each save's texts distinct. */
function harmlessPatterns(round: number): { name: string; regex: string }[] {
  const shapes = ['EMP-\\d{6}', 'CUST[0-9]{8}', '\\bORD-[A-Z]{2}\\d{7}\\b', 'TKT#\\d{5,8}', '\\b[A-Z]{3}-\\d{4}\\b', 'INV/\\d{4}/\\d{6}', 'acct_[a-z0-9]{12}', 'PN\\d{9}', '\\bSSN:? ?\\d{3}-\\d{2}-\\d{4}\\b', '(?:badge|BADGE)\\s?\\d{5}'];
  return Array.from({ length: 20 }, (_, index) => ({ name: `p${round}_${index}`, regex: `${shapes[index % shapes.length]}|R${round}x${index}` }));
}

/**
 * Issue 23: custom masking patterns run on RE2, so saving them needs no probe and the request loop never waits
 * (it used to block in Atomics.wait for 0.67 s per save of 20 patterns); what RE2 cannot run is refused by name.
 */
describe('custom PII patterns on RE2', () => {
  const transcript = new Transcript();
  let gw: TestApp;
  let langfuse: FakeLangfuse;
  const project = langfuseProject('re2-team');
  const teamId = 're2-team';
  let teamAdmin: string;
  let memberKey: string;

  beforeAll(async () => {
    langfuse = await FakeLangfuse.start();
    langfuse.addKeyPair(project);
    gw = await createTestApp({ configYaml: modelListYaml(), env: LOGGING_ENV });
    const logging = [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: project.publicKey, langfuse_secret_key: project.secretKey, langfuse_host: langfuse.url } }];
    await newTeam(gw, { team_id: teamId, metadata: { logging } }, transcript);
    teamAdmin = (await newKey(gw, { team_id: teamId, role: 'team_admin' }, { transcript })).key;
    memberKey = (await newKey(gw, { team_id: teamId, key_alias: 're2-member' }, { transcript })).key;
  });

  afterAll(async () => {
    await gw?.close();
    await langfuse?.close();
  });

  async function teamState(): Promise<string> {
    const info = await gw.http().get('/team/info').query({ team_id: teamId }).set(bearer(gw.masterKey)).expect(200);
    const audit = await gw.http().get('/audit').query({ team_id: teamId }).set(bearer(gw.masterKey)).expect(200);
    return JSON.stringify([(info.body as TeamInfoJson).team_info.metadata, (audit.body as DataJson<unknown[]>).data.length]);
  }

  const saveTeam = (settings: Record<string, unknown>) =>
    gw.http().post('/team/update').set(bearer(teamAdmin)).send({ team_id: teamId, metadata: { logging_settings: settings } });
  const saveKey = (settings: Record<string, unknown>) =>
    gw.http().post('/key/update').set(bearer(teamAdmin)).send({ key: memberKey, metadata: { logging_settings: settings } });

  it.each([
    ['a lookbehind', '(?<=id:)\\w+', 'uses a lookbehind (?<=…), which RE2 cannot run in linear time'],
    ['a negative lookbehind', '(?<!\\d)\\d{4}', 'uses a negative lookbehind (?<!…), which RE2 cannot run in linear time'],
    ['a lookahead', 'EMP-(?=\\d)\\d+', 'uses a lookahead (?=…), which RE2 cannot run in linear time'],
    ['a negative lookahead', '\\d{4}(?!\\d)', 'uses a negative lookahead (?!…), which RE2 cannot run in linear time'],
    ['a back-reference', '(\\d)\\1', 'uses a back-reference (\\1), which RE2 cannot run in linear time'],
    ['a named back-reference', '(?<d>\\d)\\k<d>', 'uses a named back-reference \\k<…>, which RE2 cannot run in linear time'],
    ['a possessive quantifier', '\\d++x', 'uses a possessive quantifier (++), which RE2 cannot run in linear time'],
    ['an atomic group', '(?>ab|a)c', 'uses an atomic group (?>…), which RE2 cannot run in linear time'],
  ])('%s: 400 naming the construct and the pattern, nothing changes (team and key)', async (_name, regex, reason) => {
    const patterns = [...harmlessPatterns(90).slice(0, 3), { name: 'refused', regex }, ...harmlessPatterns(91).slice(0, 2)];
    const param = 'metadata.logging_settings.pii_masking.patterns[3].regex';
    const before = await teamState();
    for (const res of [await saveTeam({ pii_masking: { patterns } }), await saveKey({ pii_masking: { patterns } })]) {
      transcript.record('POST /team/update or /key/update', res);
      expect([res.status, errorOf(res).param, errorOf(res).type]).toEqual([400, param, 'invalid_request_error']);
      expect(errorOf(res).message).toBe(`${param}: pattern refused (${regex}) ${reason}`);
    }
    expect(await teamState()).toBe(before);
  });

  it('patterns a backtracking engine could not survive are accepted and mask a 30 kB run at once, end to end', async () => {
    const saved = await saveTeam({
      pii_masking: {
        detectors: ['email'],
        patterns: [
          { name: 'employee_id', regex: 'EMP-\\d{6}' },
          { name: 'tail', regex: '(a+)+$' },
          { name: 'pairs', regex: '(?:x|xx)+y' },
        ],
      },
    });
    expect(saved.status).toBe(200);
    // A key of its own: the member key carries key-level settings from the tests above, which would win.
    const caller = (await newKey(gw, { team_id: teamId, key_alias: 're2-caller' }, { transcript })).key;
    const mark = marker('re2');
    // On V8, `(a+)+$` over the first run (followed by `!`) would backtrack for longer than the universe exists.
    const content = `${mark} badge EMP-482913 mail jane@example.com ${'a'.repeat(30_000)}! ${'x'.repeat(20_000)}z then aaaa`;
    const res = await fetch(`${gw.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(caller), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-openai-endpoint', messages: [{ role: 'user', content }] }),
    });
    expect(res.status).toBe(200);
    const received = await waitFor('langfuse to receive the masked call', () => langfuse.requests.find((request) => request.text.includes(mark)));
    expect(received.text).toContain(`${mark} badge [EMPLOYEE_ID] mail [EMAIL] `);
    expect(received.text).toContain('z then [TAIL]');
    expect(received.text).not.toContain('EMP-482913');
    expect(received.text).not.toContain('jane@example.com');
  });
});

/**
 * Reports the gateway's own event-loop delay (perf_hooks.monitorEventLoopDelay at 1 ms resolution) on SIGUSR2 as
 * one stdout line, and starts over. Loaded into the real process with NODE_OPTIONS=--require.
 */
const EVENT_LOOP_PROBE = `
const { isMainThread } = require('node:worker_threads');
if (isMainThread) {
  const delay = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  process.on('SIGUSR2', () => {
    process.stdout.write('event-loop-delay ' + JSON.stringify({ maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6 }) + '\\n');
    delay.reset();
  });
}
`;

describe('custom PII patterns in the real process', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-re2-'));
  const masterKey = 'sk-re2-process-test-0123456789-abcdefghijklmnopqrstuvwxyz';
  const running: GatewayProcess[] = [];

  afterAll(() => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  });

  it('a team admin saving 20 patterns through /team/update and /key/update never delays the event loop by 20 ms', async () => {
    const probe = join(workDir, 'event-loop-probe.js');
    writeFileSync(probe, EVENT_LOOP_PROBE);
    const gateway = await spawnGateway({ env: { DATA_DIR: join(workDir, 'data-delay'), MASTER_KEY: masterKey, NODE_OPTIONS: `--require ${probe}` } });
    running.push(gateway);
    await gateway.waitForReady();
    const post = async (path: string, auth: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${gateway.baseUrl}${path}`, { method: 'POST', headers: { ...bearer(auth), 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    await post('/team/new', masterKey, { team_id: 'delay-team' });
    const teamAdmin = (await post('/key/generate', masterKey, { team_id: 'delay-team', role: 'team_admin' })).body.key as string;
    const member = (await post('/key/generate', teamAdmin, { team_id: 'delay-team' })).body.key as string;

    /** The gateway's largest event-loop delay since the previous call. */
    let reports = 0;
    const delaySinceLast = async (): Promise<{ maxMs: number; p99Ms: number }> => {
      gateway.kill('SIGUSR2');
      reports += 1;
      const line = await waitFor('the gateway to report its event-loop delay', () => gateway.output().match(/event-loop-delay .*\n/g)?.[reports - 1]);
      return JSON.parse(line.slice('event-loop-delay '.length)) as { maxMs: number; p99Ms: number };
    };

    const saveRound = async (round: number): Promise<void> => {
      const statuses = [
        (await post('/team/update', teamAdmin, { team_id: 'delay-team', metadata: { logging_settings: { pii_masking: { detectors: 'all', patterns: harmlessPatterns(round) } } } })).status,
        (await post('/key/update', teamAdmin, { key: member, metadata: { logging_settings: { pii_masking: { patterns: harmlessPatterns(round + 10) } } } })).status,
      ];
      // Patterns RE2 takes long to compile (≈0.25 s each) are compiled off the loop too, and refused for size.
      const heavy = Array.from({ length: 4 }, (_, index) => ({ name: `heavy${index}`, regex: `${'(?:[a-z]{1,1000})'.repeat(28)}${round}${index}` }));
      const refused = await post('/team/update', teamAdmin, { team_id: 'delay-team', metadata: { logging_settings: { pii_masking: { patterns: heavy } } } });
      expect(statuses).toEqual([200, 200]);
      expect([refused.status, JSON.stringify(refused.body)]).toEqual([400, expect.stringContaining('RE2 instructions, more than 500')]);
    };
    // Once first, unmeasured: the first request of a route pays for compiling its code, whatever it does.
    await saveRound(0);
    // Best of up to five rounds: code that blocks (the old probe waited 0.67 s per save) fails every round; a
    // round in which the shared machine's scheduler stalled the process (an idle Node process here shows
    // stalls of 20-90 ms when the two cores are oversubscribed) does not fail the test on its own.
    const rounds: string[] = [];
    let best = Infinity;
    for (let round = 1; round <= 5 && best >= 20; round++) {
      await delaySinceLast();
      await saveRound(round);
      const delay = await delaySinceLast();
      rounds.push(`round ${round}: max ${delay.maxMs.toFixed(1)} ms, p99 ${delay.p99Ms.toFixed(1)} ms`);
      best = Math.min(best, delay.maxMs);
    }
    process.stdout.write(`[pii-patterns] event-loop delay while saving 20 patterns: ${rounds.join('; ')}\n`);
    expect(best).toBeLessThan(20);
  });

  it('a pattern RE2 cannot run stops the boot, naming the construct and the path', async () => {
    const config = join(workDir, 'config.yaml');
    writeFileSync(
      config,
      'model_list: []\nlitellm_settings:\n  default_team_settings:\n    - team_id: a\n      pii_masking:\n        patterns:\n          - name: ok\n            regex: "EMP-\\\\d{6}"\n          - name: after\n            regex: "(?<=id:)\\\\w+"\n',
    );
    const gateway = await spawnGateway({ env: { DATA_DIR: join(workDir, 'data-boot'), MASTER_KEY: masterKey, CONFIG_FILE: config } });
    running.push(gateway);
    expect(await gateway.waitForExit()).toBe(1);
    expect(gateway.output()).toContain('litellm_settings.default_team_settings[0].pii_masking.patterns[1].regex');
    expect(gateway.output()).toContain('uses a lookbehind (?<=…), which RE2 cannot run in linear time');
  });
});
