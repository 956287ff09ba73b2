import { SecretBox, type SecretBinding } from '../../src/common/secret-box';
import { processDatabase, type ProcessDatabase } from '../support/delivery/process-database';
import { FakeLangfuse, type KeyPair } from '../support/fakes/fake-langfuse';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { langfuseProject, modelListYaml, tempDir } from '../support/logging/fixtures';
import { langfuseEntry, langfuseTraces, marker, secret, waitFor } from '../support/logging/harness';

interface ReencryptBody {
  reencrypted: number;
  already_current: number;
  failed: number;
  unreadable: { table: string; row_id: string; entry_id: string; field: string }[];
}

interface StoredEntry {
  entry_id: string;
  callback_vars: Record<string, string>;
  owner?: { table: string; id: string };
}

const MIGRATION = 'BindSecretsToOwners1764600000000';

/**
 * Issue 23, keys at rest, with the real process on the suite's database kind (PGlite data directory or a database
 * of its own on PostgreSQL): SALT_KEY rotation end to end (the master-key-derived key → SALT_KEY A → SALT_KEY B,
 * with SALT_KEY_PREVIOUS and POST /secrets/reencrypt), and the migration that binds legacy `gh1:` ciphertexts —
 * in teams, keys and outbox rows — to their place.
 */
describe('SALT_KEY rotation and the binding migration (real process)', () => {
  const dir = tempDir('gatehouse-rotation-');
  const masterKey = `sk-${secret('rotation-master-0123456789')}`;
  const saltA = secret('salt-key-A-0123456789');
  const saltB = secret('salt-key-B-0123456789');
  const teamProject = langfuseProject('rot-team');
  const keyProject = langfuseProject('rot-key');
  const legacyTeamProject = langfuseProject('legacy-team');
  const legacyKeyProject = langfuseProject('legacy-key');
  const lostProject = langfuseProject('legacy-lost');
  const running: GatewayProcess[] = [];
  let langfuse: FakeLangfuse;
  let db: ProcessDatabase;
  let config: string;

  beforeAll(async () => {
    langfuse = await FakeLangfuse.start({ keys: [teamProject, keyProject, legacyTeamProject, legacyKeyProject, lostProject] });
    db = await processDatabase('rotation');
    config = dir.write('config.yaml', modelListYaml());
  });
  afterAll(async () => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    await langfuse?.close();
    await db?.destroy();
    dir.cleanup();
  });

  async function start(env: Record<string, string>): Promise<GatewayProcess> {
    const gateway = await spawnGateway({
      env: {
        ...db.env,
        MASTER_KEY: masterKey,
        CONFIG_FILE: config,
        LOG_FLUSH_INTERVAL_MS: '100',
        LOG_SHUTDOWN_GRACE_MS: '500',
        LOG_RETRY_MAX_BACKOFF_MS: '1000',
        ...env,
      },
    });
    running.push(gateway);
    await gateway.waitForReady(90_000);
    return gateway;
  }

  async function stop(gateway: GatewayProcess): Promise<void> {
    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit(60_000)).toBe(0);
  }

  async function call<T>(gateway: GatewayProcess, path: string, key: string, body?: unknown): Promise<{ status: number; json: T; text: string }> {
    const res = await fetch(`${gateway.baseUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON (the metrics)
    }
    return { status: res.status, json: json as T, text };
  }

  async function ok<T>(gateway: GatewayProcess, path: string, body: unknown, key = masterKey): Promise<T> {
    const res = await call<T>(gateway, path, key, body);
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${res.text}`);
    return res.json;
  }

  /** A chat through `key`, found in `project` at the fake Langfuse. */
  async function delivers(gateway: GatewayProcess, key: string, project: KeyPair, label: string): Promise<void> {
    const mark = marker(label);
    await ok(gateway, '/v1/chat/completions', { model: 'gpt-4', messages: [{ role: 'user', content: `hello ${mark}` }] }, key);
    await waitFor(`${label} in its Langfuse project`, () => langfuseTraces(langfuse, project.publicKey, mark));
  }

  /** Nothing in memory, nothing in the outbox: every event so far is acknowledged. */
  async function drained(gateway: GatewayProcess): Promise<void> {
    await waitFor('an empty outbox and buffer', async () => {
      const metrics = (await call<unknown>(gateway, '/metrics', masterKey)).text;
      const held = metrics
        .split('\n')
        .filter((line) => /^gatehouse_log_(outbox_events|buffer_events)\b/.test(line))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
      return held === 0;
    });
  }

  async function health(gateway: GatewayProcess, key: string): Promise<{ key: string; logging_callbacks: { details: string } | null }> {
    return ok(gateway, '/key/health', {}, key);
  }

  async function storedValues(): Promise<string[]> {
    const rows = await db.query<{ text: string }>(
      `SELECT metadata::text AS text FROM teams UNION ALL SELECT metadata::text FROM virtual_keys UNION ALL SELECT entry::text FROM log_outbox`,
    );
    return rows.flatMap((row) => [...row.text.matchAll(/"(gh\d:[^"]*)"/g)].map((match) => match[1]));
  }

  it('master-key-derived → SALT_KEY A → SALT_KEY B: every step delivers, the route counts what it re-encrypts, and B alone is enough at the end', async () => {
    // 1. No SALT_KEY: the secrets are sealed with a key derived from the master key.
    const first = await start({});
    await ok(first, '/team/new', { team_id: 'rot-team' });
    await ok(first, '/team/rot-team/callback', langfuseEntry(teamProject, langfuse.url));
    const teamKey = (await ok<{ key: string }>(first, '/key/generate', { team_id: 'rot-team' })).key;
    const ownKey = (await ok<{ key: string }>(first, '/key/generate', { team_id: 'rot-team', metadata: { logging: [langfuseEntry(keyProject, langfuse.url)] } })).key;
    await delivers(first, teamKey, teamProject, 'rot-master');
    await delivers(first, ownKey, keyProject, 'rot-master-own');
    await drained(first);
    await stop(first);

    // 2. SALT_KEY A set: what the master key sealed still opens, and the route moves it to A.
    const second = await start({ SALT_KEY: saltA });
    await delivers(second, teamKey, teamProject, 'rot-a-before');
    await delivers(second, ownKey, keyProject, 'rot-a-before-own');
    await drained(second);
    expect(await ok<ReencryptBody>(second, '/secrets/reencrypt', {})).toMatchObject({ reencrypted: 4, already_current: 0, failed: 0 });
    await delivers(second, teamKey, teamProject, 'rot-a-after');
    await drained(second);
    await stop(second);

    // 3. SALT_KEY B, A as previous: delivery continues; the route moves everything to B, and a second run finds it done.
    const third = await start({ SALT_KEY: saltB, SALT_KEY_PREVIOUS: saltA });
    await delivers(third, teamKey, teamProject, 'rot-b-previous');
    await delivers(third, ownKey, keyProject, 'rot-b-previous-own');
    await drained(third);
    expect(await ok<ReencryptBody>(third, '/secrets/reencrypt', {})).toMatchObject({ reencrypted: 4, already_current: 0, failed: 0 });
    expect(await ok<ReencryptBody>(third, '/secrets/reencrypt', {})).toMatchObject({ reencrypted: 0, already_current: 4, failed: 0 });
    await stop(third);

    // 4. B alone — and a new master key too: nothing depends on A or on the old master key any more.
    const newMasterKey = `sk-${secret('rotation-new-master-0123456789')}`;
    const fourth = await start({ SALT_KEY: saltB, MASTER_KEY: newMasterKey });
    await delivers(fourth, teamKey, teamProject, 'rot-b-only');
    await delivers(fourth, ownKey, keyProject, 'rot-b-only-own');
    await drained(fourth);
    await stop(fourth);

    // And A no longer opens them: the re-encryption really happened.
    const withOldKey = await start({ SALT_KEY: saltA });
    const checked = await health(withOldKey, ownKey);
    expect(checked.key).toBe('unhealthy');
    expect(checked.logging_callbacks?.details).toMatch(/cannot be decrypted/);
    await stop(withOldKey);

    const values = await storedValues();
    expect(values.length).toBe(4);
    expect(values.every((value) => value.startsWith('gh2:'))).toBe(true);
  }, 400_000);

  it('the migration binds legacy gh1: values in teams, keys and outbox rows (which also get their owner), and they deliver; a value no key opens waits for its key', async () => {
    const box = SecretBox.fromKeyMaterial({ saltKey: saltB, masterKey });
    const lostKeyText = secret('a-key-nobody-configured');
    const lostBox = SecretBox.fromKeyMaterial({ saltKey: lostKeyText });

    // Data as the gateway writes it today, with Langfuse down so that events wait in the outbox at shutdown.
    const writer = await start({ SALT_KEY: saltB });
    await ok(writer, '/team/new', { team_id: 'legacy-team' });
    await ok(writer, '/team/legacy-team/callback', langfuseEntry(legacyTeamProject, langfuse.url));
    await ok(writer, '/team/new', { team_id: 'legacy-lost' });
    await ok(writer, '/team/legacy-lost/callback', langfuseEntry(lostProject, langfuse.url));
    const teamKey = (await ok<{ key: string }>(writer, '/key/generate', { team_id: 'legacy-team' })).key;
    const ownKey = (await ok<{ key: string }>(writer, '/key/generate', { metadata: { logging: [langfuseEntry(legacyKeyProject, langfuse.url)] } })).key;
    const lostKey = (await ok<{ key: string }>(writer, '/key/generate', { team_id: 'legacy-lost' })).key;
    langfuse.setFailure({ status: 503, body: { message: 'down for the test' } });
    const waiting = { team: marker('legacy-waiting-team'), own: marker('legacy-waiting-own') };
    for (const [key, mark] of [
      [teamKey, waiting.team],
      [ownKey, waiting.own],
    ]) {
      await ok(writer, '/v1/chat/completions', { model: 'gpt-4', messages: [{ role: 'user', content: `hello ${mark}` }] }, key);
    }
    await waitFor('both waiting events tried at least once', () =>
      [waiting.team, waiting.own].every((mark) => langfuse.ingestionRequests.some((request) => request.text.includes(mark))),
    );
    await stop(writer);
    langfuse.setFailure(null);

    // Turn the database into one written before bindings existed: every value gh1:, no owner in outbox entries,
    // the migration not run. legacy-lost's values are sealed with a key the gateway will not know.
    const toLegacy = (value: string, binding: SecretBinding, sealer: SecretBox) =>
      sealer === box ? box.toLegacyFormat(value, binding) : lostBox.toLegacyFormat(lostBox.encrypt(box.decrypt(value, binding), binding), binding);
    const legacyEntry = (entry: StoredEntry, table: string, rowId: string, sealer: SecretBox): StoredEntry => {
      const vars: Record<string, string> = {};
      for (const [field, value] of Object.entries(entry.callback_vars)) {
        vars[field] = value.startsWith('gh2:') ? toLegacy(value, { table, rowId, entryId: entry.entry_id, field }, sealer) : value;
      }
      return { ...withoutOwner(entry), callback_vars: vars };
    };
    for (const [table, key] of [
      ['teams', 'team_id'],
      ['virtual_keys', 'token'],
    ] as const) {
      const rows = await db.query<{ id: string; metadata: { logging?: StoredEntry[] } }>(`SELECT ${key} AS id, metadata FROM ${table}`);
      for (const row of rows) {
        if (!Array.isArray(row.metadata.logging) || row.metadata.logging.length === 0) continue;
        const sealer = row.id === 'legacy-lost' ? lostBox : box;
        const logging = row.metadata.logging.map((entry) => legacyEntry(entry, table, row.id, sealer));
        await db.query(`UPDATE ${table} SET metadata = $2::jsonb WHERE ${key} = $1`, [row.id, JSON.stringify({ ...row.metadata, logging })]);
      }
    }
    const outbox = await db.query<{ id: string; entry: StoredEntry }>(`SELECT id, entry FROM log_outbox WHERE entry::text LIKE '%gh2:%'`);
    expect(outbox.length).toBeGreaterThanOrEqual(2);
    for (const row of outbox) {
      const owner = row.entry.owner as { table: string; id: string };
      await db.query(`UPDATE log_outbox SET entry = $2::json WHERE id = $1`, [row.id, JSON.stringify(legacyEntry(row.entry, owner.table, owner.id, box))]);
    }
    await db.query(`DELETE FROM gatehouse_migrations WHERE name = $1`, [MIGRATION]);
    const legacy = await storedValues();
    expect(legacy.filter((value) => value.startsWith('gh1:')).length).toBeGreaterThanOrEqual(6 + 2 * outbox.length);
    expect(legacy.filter((value) => value.startsWith('gh2:'))).toEqual([]);

    // The gateway migrates on start: the waiting events are delivered from the outbox, new ones too.
    const upgraded = await start({ SALT_KEY: saltB });
    expect(upgraded.output()).toMatch(new RegExp(`${MIGRATION}: \\d+ stored secret\\(s\\) bound to their row, entry and variable`));
    expect(upgraded.output()).toMatch(new RegExp(`${MIGRATION}: 2 stored secret\\(s\\) cannot be decrypted`));
    await waitFor('the team event that waited in the outbox', () => langfuseTraces(langfuse, legacyTeamProject.publicKey, waiting.team));
    await waitFor('the key event that waited in the outbox', () => langfuseTraces(langfuse, legacyKeyProject.publicKey, waiting.own));
    await delivers(upgraded, teamKey, legacyTeamProject, 'legacy-after-team');
    await delivers(upgraded, ownKey, legacyKeyProject, 'legacy-after-own');
    // The value no configured key opens: a configuration error naming the way out, nothing sent.
    const lost = await health(upgraded, lostKey);
    expect(lost.key).toBe('unhealthy');
    expect(lost.logging_callbacks?.details).toMatch(/legacy format.*POST \/secrets\/reencrypt/);
    expect(await ok<ReencryptBody>(upgraded, '/secrets/reencrypt', { dry_run: true })).toMatchObject({
      failed: 2,
      unreadable: [expect.objectContaining({ table: 'teams', row_id: 'legacy-lost' }), expect.objectContaining({ table: 'teams', row_id: 'legacy-lost' })],
    });
    await drained(upgraded);
    await stop(upgraded);

    const bound = await storedValues();
    expect(bound.filter((value) => value.startsWith('gh1:'))).toHaveLength(2);
    const outboxOwners = await db.query<{ owner: string | null }>(`SELECT entry->'owner'->>'table' AS owner FROM log_outbox WHERE entry::text LIKE '%"gh_:%'`);
    expect(outboxOwners.every((row) => row.owner !== null)).toBe(true);

    // Once the key that sealed it is configured as a previous key, the route binds the legacy value and it delivers.
    const withLostKey = await start({ SALT_KEY: saltB, SALT_KEY_PREVIOUS: lostKeyText });
    expect(await ok<ReencryptBody>(withLostKey, '/secrets/reencrypt', {})).toMatchObject({ reencrypted: 2, failed: 0 });
    expect((await health(withLostKey, lostKey)).key).toBe('healthy');
    await delivers(withLostKey, lostKey, lostProject, 'legacy-found');
    await drained(withLostKey);
    await stop(withLostKey);
    expect((await storedValues()).every((value) => value.startsWith('gh2:'))).toBe(true);
  }, 400_000);
});

function withoutOwner(entry: StoredEntry): Omit<StoredEntry, 'owner'> {
  const { owner, ...rest } = entry;
  return rest;
}
