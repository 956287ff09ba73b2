import { Writable } from 'node:stream';
import { createRootLogger, PinoNestLogger } from './app-logger';
import { SecretRedactor } from './secret-redactor';

describe(PinoNestLogger.name, () => {
  it('passes every message and stack through the redactor: no credential reaches stdout through Nest’s logger', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const secret = 'configured-secret-value-41';
    const logger = new PinoNestLogger(createRootLogger({ level: 'info', destination: sink }), new SecretRedactor([secret]));
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
});
