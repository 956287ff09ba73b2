import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsetVariableWarnings } from '../../src/logging/unset-variable-warnings';
import { FakeGenericApi } from '../support/fakes/fake-generic-api';
import { FakeUpstream } from '../support/fake-upstream';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { addCallback, bearer, EnvScope, LogCapture, LOGGING_ENV, newKey, newTeam, waitFor } from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

interface LogLine {
  level: string;
  msg: string;
  context?: string;
  req_id?: string;
  [field: string]: unknown;
}

const parseLines = (lines: readonly string[]): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine);

/**
 * Issue 28, "Logs": what the gateway writes about itself. In process: every line written while a call is served
 * carries the call's request id, whichever service writes it; teams' destinations with unset `os.environ/` variables
 * are found. As `npm start` runs it: a start-up of a handful of lines with one "listening" line, JSON when stdout is
 * not a terminal, LOG_FORMAT=pretty for people, Nest's listing at debug only.
 */
describe('log lines', () => {
  describe('while serving a request', () => {
    const log = new LogCapture();
    const env = new EnvScope();
    let upstream: FakeUpstream;
    let sink: FakeGenericApi;
    let gw: TestApp;
    let key: string;

    beforeAll(async () => {
      // A call whose prompt says "please-fail" gets a 500 from the upstream, every time (so retries fail too).
      upstream = await FakeUpstream.start({
        usage: { prompt_tokens: 10, completion_tokens: 20 },
        behaviour: (request) =>
          request.rawBody.includes('please-fail')
            ? { type: 'status', status: 500, body: JSON.stringify({ error: { message: 'upstream exploded near the prompt text', type: 'server_error' } }) }
            : { type: 'ok' },
      });
      // The team's destination accepts everything: delivery (on its own thread) writes no line of its own.
      sink = await FakeGenericApi.start();
      gw = await createTestApp({
        logDestination: log,
        logLevel: 'debug',
        env: LOGGING_ENV,
        configYaml: `model_list:
  - model_name: flaky
    litellm_params:
      model: openai/flaky
      api_base: ${upstream.url}
      api_key: sk-upstream-logs
      max_retries: 1
    model_info:
      input_cost_per_token: 0.05
      output_cost_per_token: 0.025
general_settings:
  allowed_logging_hosts: ["127.0.0.1:${sink.port}"]
litellm_settings:
  default_team_settings:
    - team_id: logs-team
      callbacks: ["generic_api"]
      generic_logger_endpoint: ${sink.endpoint}
`,
      });
      // Each successful call costs 1 USD: the second one crosses the soft budget.
      key = (await newKey(gw, { team_id: 'logs-team', soft_budget: 1.5 })).key;
    });

    afterAll(async () => {
      await gw?.close();
      await upstream?.close();
      await sink?.close();
      env.restore();
    });

    const call = (requestId: string, content: string) =>
      fetch(`${gw.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json', 'x-request-id': requestId },
        body: JSON.stringify({ model: 'flaky', messages: [{ role: 'user', content }] }),
      });

    it('every line written for a call carries its req_id — the completions, budgets and logging services, the exception filter, the access line — and two concurrent calls do not mix', async () => {
      const warmUp = await call('logs-warm-up', 'hello');
      expect(warmUp.status).toBe(200);
      await waitFor('the warm-up dispatched to logging', () => parseLines(log.lines).some((line) => line.req_id === 'logs-warm-up' && line.context === 'LoggingService'));

      const from = log.lines.length;
      // In parallel: one call the upstream fails (retried once), one that crosses the key's soft budget.
      const [failed, crossing] = await Promise.all([call('logs-fail-1', 'please-fail'), call('logs-soft-1', 'hello again')]);
      expect(failed.status).toBe(500);
      expect(crossing.status).toBe(200);
      expect(failed.headers.get('x-request-id')).toBe('logs-fail-1');
      // Each event is handed to logging once its response is over, so after the access line.
      const lines = await waitFor('both calls dispatched to logging', () => {
        const parsed = parseLines(log.lines.slice(from));
        return parsed.filter((line) => line.context === 'LoggingService').length >= 2 ? parsed : null;
      });

      const strays = lines.filter((line) => line.req_id !== 'logs-fail-1' && line.req_id !== 'logs-soft-1');
      expect(strays).toEqual([]);
      const of = (requestId: string) => lines.filter((line) => line.req_id === requestId);
      const describeLine = (line: LogLine) => `${line.level} ${line.context ?? '-'}: ${line.msg}`;

      const failure = of('logs-fail-1').map(describeLine);
      expect(failure).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^warn CompletionsService: upstream openai deployment \S+ of flaky failed: 500 upstream_error \(server\), attempt 1 of 2; retrying it$/),
          expect.stringMatching(/^warn CompletionsService: upstream openai deployment \S+ of flaky failed: 500 upstream_error \(server\), attempt 2 of 2$/),
          expect.stringMatching(/^error HttpExceptionFilter: upstream_error on POST \/v1\/chat\/completions/),
          expect.stringMatching(/^debug LoggingService: call \S+ \(failure\) handed to delivery for: generic_api \(config\)$/),
          'info -: request',
        ]),
      );
      // What the upstream said stays out of the completions service's lines (it may quote the prompt).
      for (const line of of('logs-fail-1').filter((l) => l.context === 'CompletionsService')) expect(line.msg).not.toContain('exploded');

      const success = of('logs-soft-1').map(describeLine);
      expect(success).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^warn Budgets: soft budget crossed: key .* spend 2 >= soft_budget 1\.5$/),
          expect.stringMatching(/^debug LoggingService: call \S+ \(success\) handed to delivery for: generic_api \(config\)$/),
          'info -: request',
        ]),
      );
      expect(success.some((line) => line.includes('CompletionsService') || line.includes('HttpExceptionFilter'))).toBe(false);

      // The access line: its duration rounded to microseconds.
      const access = of('logs-soft-1').find((line) => line.msg === 'request') as LogLine;
      expect(access).toMatchObject({ method: 'POST', path: '/v1/chat/completions', status: 200, completed: true });
      expect(String(access.duration_ms)).toMatch(/^\d+(\.\d{1,3})?$/);
      // The events did reach the destination (nothing else was going on that could have written the lines).
      await waitFor('both events at the destination', () => sink.events().length >= 3);
    });

    it('finds a team destination set through the API whose os.environ/ variables are unset, names them (never values), and forgets it once the team logs nowhere', async () => {
      // Set when the proxy admin adds the destination (the API refuses a reference to an unset variable)...
      env.set({ LOGS_E2E_LF_PUB: 'pk-lf-logs-e2e', LOGS_E2E_LF_SECRET: 'sk-lf-logs-e2e', LOGS_E2E_LF_HOST: 'http://127.0.0.1:9' });
      const teamId = await newTeam(gw, { team_id: 'logs-api-team' });
      const added = await addCallback(gw, teamId, {
        callback_name: 'langfuse',
        callback_type: 'success',
        callback_vars: { langfuse_public_key: 'os.environ/LOGS_E2E_LF_PUB', langfuse_secret: 'os.environ/LOGS_E2E_LF_SECRET', langfuse_host: 'os.environ/LOGS_E2E_LF_HOST' },
      });
      expect(added.status).toBe(200);
      // ...and gone at the next start (a deployment that lost them).
      env.unset('LOGS_E2E_LF_PUB');
      env.unset('LOGS_E2E_LF_SECRET');

      const warnings = gw.app.get(UnsetVariableWarnings);
      const found = await warnings.find(process.env);
      expect(found).toEqual([{ teamId: 'logs-api-team', source: 'team', kind: 'langfuse', variables: ['LOGS_E2E_LF_PUB', 'LOGS_E2E_LF_SECRET'] }]);

      const from = log.lines.length;
      await warnings.onApplicationBootstrap();
      const written = parseLines(log.lines.slice(from));
      expect(written.map((line) => `${line.level} ${line.context}: ${line.msg}`)).toEqual([
        expect.stringMatching(
          /^warn LoggingConfig: logging destination langfuse of team logs-api-team \(set through the API\) refers to unset environment variable\(s\) os\.environ\/LOGS_E2E_LF_PUB, os\.environ\/LOGS_E2E_LF_SECRET: /,
        ),
      ]);
      expect(log.text()).not.toContain('http://127.0.0.1:9');

      const disabled = await gw.http().post(`/team/${teamId}/disable_logging`).set(bearer(gw.masterKey));
      expect(disabled.status).toBe(200);
      expect(await warnings.find(process.env)).toEqual([]);
    });
  });

  describe('of the real process', () => {
    const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-logs-'));
    const running: GatewayProcess[] = [];
    const configFile = join(workDir, 'config.yaml');
    // The set team's values: they must never appear in the output.
    const setValues = { LOGS_LF_PUB_SET: 'pk-lf-visible-value-3141', LOGS_LF_SECRET_SET: 'sk-lf-secret-value-2718' };
    writeFileSync(
      configFile,
      `model_list:
  - model_name: gpt-4
    litellm_params:
      model: mock/gpt-4
litellm_settings:
  success_callback: ["langfuse"]   # the global callback: its keys come from LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY
  default_team_settings:
    - team_id: unset-team
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/LOGS_LF_PUB
      langfuse_secret: os.environ/LOGS_LF_SECRET
    - team_id: ready-team
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/LOGS_LF_PUB_SET
      langfuse_secret: os.environ/LOGS_LF_SECRET_SET
`,
    );
    const baseEnv = {
      CONFIG_FILE: configFile,
      MASTER_KEY: 'sk-logs-test-0123456789-abcdefghijklmnopqrstuvwxyz',
      SALT_KEY: 'salt-logs-test-0123456789-abcdefghijklmnopqrstuvwxyz',
      LANGFUSE_HOST: 'http://127.0.0.1:9',
      ...setValues,
    };

    async function start(name: string, env: Record<string, string>): Promise<GatewayProcess> {
      const gateway = await spawnGateway({ env: { ...baseEnv, DATA_DIR: join(workDir, name), ...env } });
      running.push(gateway);
      await gateway.waitForReady(90_000);
      return gateway;
    }

    afterAll(async () => {
      for (const gateway of running) {
        if (gateway.child.exitCode === null) {
          gateway.kill('SIGTERM');
          await gateway.waitForExit().catch(() => gateway.kill('SIGKILL'));
        }
      }
      rmSync(workDir, { recursive: true, force: true });
    });

    it('at info, JSON on a pipe: a handful of lines, one "listening" line naming URL, config file, database and Redis, no route listing, one warning per destination with unset variables', async () => {
      const gateway = await start('json', {});
      const startup = gateway.output();
      const lines = parseLines(startup.split('\n').filter((line) => line !== ''));

      const listening = lines.filter((line) => /listening on/.test(line.msg));
      expect(listening).toHaveLength(1);
      const dataDir = realpathSync(join(workDir, 'json'));
      expect(listening[0]).toMatchObject({
        level: 'info',
        url: gateway.baseUrl,
        config: configFile,
        database: `embedded PGlite (data dir ${dataDir})`,
        redis: 'none',
        models: 1,
      });
      expect(listening[0].msg).toBe(
        `Gatehouse listening on ${gateway.baseUrl} (Swagger UI at /docs); config: ${configFile}; database: embedded PGlite (data dir ${dataDir}); Redis: none`,
      );

      // Nest's module and route listing is not at info, and neither is its "Starting Nest application" (twice before).
      expect(lines.filter((line) => /InstanceLoader|RoutesResolver|RouterExplorer|NestFactory|NestApplication/.test(line.context ?? ''))).toEqual([]);
      expect(startup).not.toContain('Mapped {');
      expect(startup).not.toContain('Starting Nest application');

      const unset = lines.filter((line) => line.context === 'LoggingConfig').map((line) => line.msg);
      expect(unset).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^logging destination langfuse of the global callbacks \(litellm_settings\) refers to unset environment variable\(s\) os\.environ\/LANGFUSE_PUBLIC_KEY, os\.environ\/LANGFUSE_SECRET_KEY: /),
          expect.stringMatching(/^logging destination langfuse of team unset-team \(config\.yaml default_team_settings\) refers to unset environment variable\(s\) os\.environ\/LOGS_LF_PUB, os\.environ\/LOGS_LF_SECRET: /),
        ]),
      );
      expect(unset).toHaveLength(2);
      expect(startup).not.toContain('ready-team');
      for (const value of Object.values(setValues)) expect(startup).not.toContain(value);

      // A handful: these warnings, "config teams present" and the listening line.
      expect(lines.map((line) => `${line.level} ${line.context ?? '-'}: ${line.msg.slice(0, 80)}`)).toHaveLength(4);

      // The access line of a call: its request id, its duration rounded.
      const answer = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...bearer(baseEnv.MASTER_KEY), 'content-type': 'application/json', 'x-request-id': 'logs-process-1' },
        body: JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(answer.status).toBe(200);
      await gateway.waitForOutput(/"req_id":"logs-process-1"/);
      const access = parseLines(gateway.output().split('\n').filter((line) => line.includes('"logs-process-1"'))).find((line) => line.msg === 'request') as LogLine;
      expect(access).toMatchObject({ status: 200, path: '/v1/chat/completions' });
      expect(String(access.duration_ms)).toMatch(/^\d+(\.\d{1,3})?$/);
    });

    it('LOG_FORMAT=pretty at debug: readable lines, no JSON; the Nest listing is there at debug, and both Nest starts (this thread, the delivery thread) are told apart', async () => {
      const gateway = await start('pretty', { LOG_FORMAT: 'pretty', LOG_LEVEL: 'debug' });
      const lines = gateway.output().split('\n').filter((line) => line !== '');
      expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
      for (const line of lines) expect(line).toMatch(/^(\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): | {4})/);
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`\\] INFO: Gatehouse listening on ${gateway.baseUrl.replace(/[.:/]/g, '\\$&')} \\(Swagger UI at /docs\\); config: .*; database: embedded PGlite .*; Redis: none models=1$`)),
          expect.stringMatching(/\] WARN: \[LoggingConfig\] logging destination langfuse of team unset-team \(config\.yaml default_team_settings\) refers to unset/),
          expect.stringMatching(/\] DEBUG: \[RoutesResolver\] CompletionsController/),
          expect.stringMatching(/\] DEBUG: \[RouterExplorer\] Mapped \{\/v1\/chat\/completions, POST\} route/),
        ]),
      );
      const nestStarts = lines.filter((line) => line.includes('Starting Nest application'));
      expect(nestStarts).toEqual([expect.stringMatching(/\] DEBUG: \[NestFactory\] Starting Nest application/), expect.stringMatching(/\] DEBUG: \[NestFactory \(delivery thread\)\] Starting Nest application/)]);
    });
  });
});
