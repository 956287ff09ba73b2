import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * The browser for the Swagger UI test: `CHROMIUM_PATH`, else Debian's package where it is installed, else the
 * headless Chromium that the `@sparticuz/chromium` dev dependency ships inside its npm package (so `npm ci && npm
 * test` needs nothing from outside the registry). That package is ESM and inflates its brotli-packed binary into
 * the temp directory on first use, so a child Node does the import instead of Jest's CommonJS sandbox.
 */
export function chromiumExecutable(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  const script = "import chromium from '@sparticuz/chromium'; process.stdout.write(await chromium.executablePath());";
  try {
    return execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' }).trim();
  } catch (error) {
    throw new Error(
      `No Chromium: not at ${DEBIAN_CHROMIUM}, CHROMIUM_PATH unset, and @sparticuz/chromium could not provide one on ` +
        `${process.platform}-${process.arch} (${(error as Error).message}). Install chromium or set CHROMIUM_PATH.`,
    );
  }
}
