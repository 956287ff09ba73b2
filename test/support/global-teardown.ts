import type { EmbeddedPostgres } from '../../src/database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const embedded = (globalThis as { __GATEHOUSE_EMBEDDED_PG__?: EmbeddedPostgres }).__GATEHOUSE_EMBEDDED_PG__;
  await embedded?.stop();
}
