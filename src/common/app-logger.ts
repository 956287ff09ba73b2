import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import type { SecretRedactor } from './secret-redactor';

/**
 * Structured JSON lines on stdout. pino escapes every value, so user-controlled strings (aliases, model
 * names, headers) cannot forge log lines. Nothing here ever receives a body, a key or a secret: callers
 * pass ids and counts only.
 */
export function createRootLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'gatehouse' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Nest's own messages (module init, routes, errors, and the delivery thread's lines relayed to this one) through the
 * same pino instance. These can carry an upstream's or a destination's words, so with a redactor every message and
 * stack passes it: nothing written through Nest's logger shows a credential. Access lines go to pino directly.
 */
export class PinoNestLogger implements LoggerService {
  constructor(
    private readonly logger: Logger,
    private readonly redactor: SecretRedactor | null = null,
  ) {}

  log(message: unknown, context?: string): void {
    this.write('info', message, context);
  }
  error(message: unknown, traceOrContext?: string, context?: string): void {
    // Nest calls error(message, stack, context) or error(message, context).
    const hasStack = context !== undefined;
    const stack = hasStack && traceOrContext !== undefined ? this.clean(traceOrContext) : undefined;
    this.logger.error({ context: hasStack ? context : traceOrContext, stack }, this.clean(stringify(message)));
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

  private write(level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, context?: string): void {
    this.logger[level]({ context }, this.clean(stringify(message)));
  }

  private clean(text: string): string {
    return this.redactor === null ? text : this.redactor.redact(text);
  }
}

function stringify(message: unknown): string {
  return typeof message === 'string' ? message : message instanceof Error ? message.message : JSON.stringify(message);
}
