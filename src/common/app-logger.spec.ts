import { Writable } from 'node:stream';
import { createRootLogger, PinoNestLogger, prettyMessage, resolveLogFormat } from './app-logger';
import { roundAmount, roundMs } from './log-numbers';
import { currentRequestLogFields, runInRequestLogContext } from './request-context';
import { SecretRedactor } from './secret-redactor';

/** A destination that keeps every line it is given. */
function sink(): { stream: Writable; lines: string[]; json: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { stream, lines, json: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe(PinoNestLogger.name, () => {
  it('passes every message and stack through the redactor: no credential reaches stdout through Nest’s logger', () => {
    const { stream, lines } = sink();
    const secret = 'configured-secret-value-41';
    const logger = new PinoNestLogger(createRootLogger({ level: 'info', destination: stream }), new SecretRedactor([secret]));
    logger.error(`upstream said ${secret}`, `Error: ${secret}\n    at x`, 'Filter');
    logger.warn(`destination echoed Bearer abcdefgh12345678 and ${secret}`, 'DeliveryThread');
    logger.log({ detail: secret }, 'Ctx');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain(secret);
      expect(line).toContain('[REDACTED]');
    }
    expect(lines[1]).not.toContain('abcdefgh12345678');
  });

  it("writes Nest's start-up listing at debug: at info it is gone, at debug it is there", () => {
    for (const level of ['info', 'debug'] as const) {
      const { stream, json } = sink();
      const logger = new PinoNestLogger(createRootLogger({ level, destination: stream }));
      logger.log('Starting Nest application...', 'NestFactory');
      logger.log('AppModule dependencies initialized', 'InstanceLoader');
      logger.log('CompletionsController {/}:', 'RoutesResolver');
      logger.log('Mapped {/v1/chat/completions, POST} route', 'RouterExplorer');
      logger.log('Nest application successfully started', 'NestApplication');
      logger.log('config teams present: 3', 'TeamsService');
      const lines = json();
      if (level === 'info') {
        expect(lines.map((line) => line.msg)).toEqual(['config teams present: 3']);
      } else {
        expect(lines).toHaveLength(6);
        expect(lines.filter((line) => line.level === 'debug')).toHaveLength(5);
      }
    }
  });
});

describe('request ids on log lines', () => {
  it('every line written inside a request carries its req_id: through Nest’s logger (all levels) and through pino directly', () => {
    const { stream, json } = sink();
    const root = createRootLogger({ level: 'debug', destination: stream });
    const nest = new PinoNestLogger(root);
    runInRequestLogContext('req-a', () => {
      nest.log('a service line', 'CompletionsService');
      nest.warn('a warning', 'BudgetsService');
      nest.debug('a debug line', 'LoggingService');
      nest.error('an error', 'Error: x\n    at y', 'HttpExceptionFilter');
      root.info({ detail: 1 }, 'straight to pino');
      root.info('pino, no fields');
      root.child({ component: 'child' }).warn('from a child logger');
    });
    const lines = json();
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line.req_id).toBe('req-a');
    expect(lines[4]).toMatchObject({ detail: 1, req_id: 'req-a' });
  });

  it('lines outside a request have no req_id; lines naming their own keep it; concurrent requests do not mix', async () => {
    const { stream, json } = sink();
    const root = createRootLogger({ level: 'info', destination: stream });
    const nest = new PinoNestLogger(root);
    nest.log('at start-up', 'TeamsService');
    root.info({ req_id: 'explicit' }, 'the access line names its request');
    const served = (id: string, delayMs: number) =>
      runInRequestLogContext(id, async () => {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        nest.warn(`served ${id}`, 'CompletionsService');
        await Promise.resolve();
        root.info({ step: 2 }, `done ${id}`);
      });
    await Promise.all([served('req-1', 20), served('req-2', 5), served('req-3', 10)]);
    const lines = json();
    expect(lines[0]).not.toHaveProperty('req_id');
    expect(lines[1].req_id).toBe('explicit');
    for (const line of lines.slice(2)) expect(String(line.msg)).toContain(String(line.req_id));
    expect(lines.slice(2)).toHaveLength(6);
    expect(currentRequestLogFields()).toBeUndefined();
  });

  it("does not change the request's shared fields object or the caller's line object", () => {
    const { stream } = sink();
    const root = createRootLogger({ level: 'info', destination: stream });
    const line = { detail: 'x' };
    runInRequestLogContext('req-b', () => {
      root.info(line, 'one');
      root.info({ other: 1 }, 'two');
      expect(currentRequestLogFields()).toEqual({ req_id: 'req-b' });
    });
    expect(line).toEqual({ detail: 'x' });
  });
});

describe('LOG_FORMAT', () => {
  it('defaults to pretty on a terminal and JSON otherwise; an explicit choice wins', () => {
    expect(resolveLogFormat(undefined, true)).toBe('pretty');
    expect(resolveLogFormat(undefined, false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('pretty: one readable line per entry with time, level, [context], message and the fields; no JSON', () => {
    const { stream, lines } = sink();
    const root = createRootLogger({ level: 'info', destination: stream, format: 'pretty' });
    const nest = new PinoNestLogger(root);
    runInRequestLogContext('req-p', () => nest.warn('soft budget crossed', 'BudgetsService'));
    root.info({ req_id: 'req-p', method: 'POST', path: '/v1/chat/completions', status: 200, duration_ms: 4.975, completed: true }, 'request');
    root.info({ url: 'http://127.0.0.1:4000', database: 'embedded PGlite (data dir /d)', models: 3 }, 'Gatehouse listening on http://127.0.0.1:4000; database: embedded PGlite (data dir /d)');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: \[BudgetsService\] soft budget crossed req_id=req-p\n$/);
    expect(lines[1]).toMatch(/ INFO: request req_id=req-p method=POST path=\/v1\/chat\/completions status=200 duration_ms=4\.975 completed=true\n$/);
    // Fields the message already says are not repeated.
    expect(lines[2]).toMatch(/ INFO: Gatehouse listening on http:\/\/127\.0\.0\.1:4000; database: embedded PGlite \(data dir \/d\) models=3\n$/);
    for (const line of lines) {
      expect(line).not.toContain('"level"');
      expect(line).not.toContain('\u001b['); // no colours when the lines do not go to a terminal
    }
  });

  it('pretty: control characters in messages and fields are escaped, so a model name cannot forge a line or drive the terminal; stacks are indented', () => {
    const forged = 'gpt-4\n[12:00:00.000] INFO: admin logged in\u001b[2J';
    const inMessage = prettyMessage({ level: 40, msg: `model ${forged} failed`, context: 'CompletionsService', stack: 'Error: x\n    at y' }, 'msg');
    const [first, ...rest] = inMessage.split('\n');
    expect(first).toBe('[CompletionsService] model gpt-4\\u000a[12:00:00.000] INFO: admin logged in\\u001b[2J failed');
    expect(rest).toEqual(['    Error: x', '        at y']);
    const inField = prettyMessage({ level: 40, msg: 'model failed', model: forged }, 'msg');
    expect(inField).toBe('model failed model="gpt-4\\n[12:00:00.000] INFO: admin logged in\\u001b[2J"');
  });
});

describe('numbers in log lines', () => {
  it('durations keep three decimals (microseconds) and amounts lose binary noise but not tiny values', () => {
    expect(roundMs(4.975051000000001)).toBe(4.975);
    expect(roundMs(0.0004)).toBe(0);
    expect(roundMs(1234.5678)).toBe(1234.568);
    expect(roundAmount(0.1 + 0.2)).toBe(0.3);
    expect(roundAmount(0.0000015)).toBe(0.0000015);
    expect(roundAmount(3)).toBe(3);
  });
});
