import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

/**
 * One database for the whole e2e run. CI sets DATABASE_URL to the real PostgreSQL; otherwise an in-memory
 * PGlite is started here, in Jest's parent process (PGlite's dynamic import() does not work inside Jest's
 * VM), and its URL handed to the tests. The embedded mode serves one connection: pool size 1.
 */
export default async function globalSetup(): Promise<void> {
  // The log delivery thread runs the build (dist/), also when a single spec is started with `npx jest`.
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-if-needed.js')], { stdio: 'inherit' });
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_KIND = 'postgres';
    return;
  }
  const embedded = await startEmbeddedPostgres({ dataDir: null });
  (globalThis as { __GATEHOUSE_EMBEDDED_PG__?: typeof embedded }).__GATEHOUSE_EMBEDDED_PG__ = embedded;
  process.env.DATABASE_URL = embedded.url;
  process.env.DB_POOL_SIZE = '1';
  process.env.TEST_DATABASE_KIND = 'pglite';
}
