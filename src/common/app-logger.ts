import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { NEST_BOOT_CONTEXTS } from './nest-boot-listing';
import { currentRequestLogFields, type RequestLogFields } from './request-context';
import type { SecretRedactor } from './secret-redactor';
import type { LogFormat } from '../config/environment';

/** LOG_FORMAT when set; otherwise pretty for a person at a terminal, JSON for everything else (a file, a pipe, a collector). */
export function resolveLogFormat(configured: LogFormat | undefined, stdoutIsTerminal: boolean): LogFormat {
  return configured ?? (stdoutIsTerminal ? 'pretty' : 'json');
}

export interface RootLoggerOptions {
  level: string;
  format?: LogFormat;
  /** Where lines go instead of stdout (tests). */
  destination?: pino.DestinationStream;
  /** Colours in pretty lines; default: when they go to a terminal. */
  colorize?: boolean;
}

const NO_REQUEST: Partial<RequestLogFields> = Object.freeze({});

/** The request's fields for pino's `mixin`: the request's own object, or a shared empty one. */
function requestFields(): Partial<RequestLogFields> {
  return currentRequestLogFields() ?? NO_REQUEST;
}

/**
 * pino's default merge would copy the line's fields into the mixin's object, which is shared. Lines that already
 * name their request (the access line, Nest's lines) and lines outside a request are left as they are; only a
 * line written to pino directly while serving a request gets one new object.
 */
function withRequestFields(line: object, fields: Partial<RequestLogFields>): object {
  return fields === NO_REQUEST || (line as Partial<RequestLogFields>).req_id !== undefined ? line : { ...fields, ...line };
}

/**
 * One object per line on stdout: JSON for machines, or pino-pretty's lines for people (LOG_FORMAT). pino escapes
 * every value in JSON, so user-controlled strings (aliases, model names, headers) cannot forge log lines; the
 * pretty format escapes control characters in messages for the same reason. Nothing here ever receives a body, a
 * key or a secret: callers pass ids and counts only. Every line written while serving a request carries its
 * `req_id` (see request-context.ts).
 */
export function createRootLogger(options: RootLoggerOptions): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    base: { service: 'gatehouse' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: requestFields,
    mixinMergeStrategy: withRequestFields,
  };
  if (options.format === 'pretty') {
    const colorize = options.colorize ?? (options.destination === undefined && process.stdout.isTTY);
    return pino(pinoOptions, prettyDestination(options.destination ?? pino.destination({ fd: 1, sync: true }), colorize));
  }
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

/**
 * pino-pretty's formatter called in this thread, line by line, writing synchronously: no transport worker, so a
 * line is on the terminal before the next statement runs (and before a crash), and the message format can be a
 * function. Pretty output is for people at a terminal; its cost (a JSON parse per line) is not on the JSON path.
 */
function prettyDestination(out: pino.DestinationStream, colorize: boolean): pino.DestinationStream {
  const prettify = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    // The fields are written by `prettyMessage`, on the message's line; pino-pretty still prints `err` objects.
    hideObject: true,
    messageFormat: prettyMessage,
  });
  return { write: (line: string) => out.write(prettify(line)) };
}

/** Shown by pino-pretty itself (level, time, errors), or as the `[context]` prefix, or never (the constant base). */
const NOT_LISTED = new Set(['level', 'time', 'pid', 'hostname', 'service', 'context', 'err', 'error']);

/**
 * `[context] message key=value ...`: the line's fields after its message, except those whose value the message already
 * says (the "listening" line names its URL, config and database in words). A `stack` follows on indented lines.
 */
export function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const message = typeof log[messageKey] === 'string' ? log[messageKey] : '';
  let text = typeof log.context === 'string' ? `[${log.context}] ${message}` : message;
  let stack = '';
  for (const [key, value] of Object.entries(log)) {
    if (value === undefined || key === messageKey || NOT_LISTED.has(key)) continue;
    if (key === 'stack' && typeof value === 'string') {
      stack = value
        .split('\n')
        .map((line) => `\n    ${escapeControl(line)}`)
        .join('');
      continue;
    }
    if (typeof value === 'string' && value !== '' && message.includes(value)) continue;
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    text += ` ${key}=${shown === '' || /[\s"=]/.test(shown) ? JSON.stringify(shown) : shown}`;
  }
  return escapeControl(text) + stack;
}

/** Newlines, escape sequences and other control characters shown as `\uXXXX`: a message cannot fake a line or drive the terminal. */
function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

type PinoLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Nest's own messages (module init, routes, errors, and the delivery thread's lines relayed to this one) and every
 * service's `new Logger(...)` through the same pino instance, with the request id of the request they were
 * written for. These can carry an upstream's or a destination's words, so with a redactor every message and
 * stack passes it: nothing written through Nest's logger shows a credential. Access lines go to pino directly.
 */
export class PinoNestLogger implements LoggerService {
  constructor(
    private readonly logger: Logger,
    private readonly redactor: SecretRedactor | null = null,
  ) {}

  log(message: unknown, context?: string): void {
    this.write(context !== undefined && NEST_BOOT_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }
  error(message: unknown, traceOrContext?: string, context?: string): void {
    if (!this.logger.isLevelEnabled('error')) return;
    // Nest calls error(message, stack, context) or error(message, context).
    const hasStack = context !== undefined;
    const stack = hasStack && traceOrContext !== undefined ? this.clean(traceOrContext) : undefined;
    const request = currentRequestLogFields();
    const fields = { ...(request === undefined ? {} : { req_id: request.req_id }), context: hasStack ? context : traceOrContext, stack };
    this.logger.error(fields, this.clean(stringify(message)));
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }
  setLogLevels(): void {
    // The pino level from LOG_LEVEL is authoritative.
  }

  private write(level: PinoLevel, message: unknown, context?: string): void {
    // Below the level nothing is built or redacted.
    if (!this.logger.isLevelEnabled(level)) return;
    const request = currentRequestLogFields();
    this.logger[level](request === undefined ? { context } : { req_id: request.req_id, context }, this.clean(stringify(message)));
  }

  private clean(text: string): string {
    return this.redactor === null ? text : this.redactor.redact(text);
  }
}

function stringify(message: unknown): string {
  return typeof message === 'string' ? message : message instanceof Error ? message.message : JSON.stringify(message);
}
