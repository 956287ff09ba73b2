#!/usr/bin/env node
// What one outbox row costs in the embedded database (PGlite), by column type and by step, without the gateway:
// `node bench/pglite-outbox.mjs [jsonb,json,text]`. Rounds of 80 requests × 3 destinations, as a 200 ms write
// under load brings them; the claim is measured with and without reading the payload back. Wall µs per row
// (PGlite runs the SQL synchronously, so wall time is its CPU time). It guided the outbox's column types and
// its "write already claimed, deliver from memory" design; see the README's Delivery guarantees.
import { PGlite } from '@electric-sql/pglite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chatCompletion from './servers/chat-completion.js';

const response = chatCompletion.CHAT_COMPLETION;
// Shaped like a StandardLoggingPayload of the benchmark's chat call (~1.8 kB).
const payload = {
  id: response.id,
  trace_id: 'a7c1f0de-5b7e-4f4e-9a4c-3c1b2d9e8f01',
  litellm_call_id: 'a7c1f0de-5b7e-4f4e-9a4c-3c1b2d9e8f01',
  call_type: 'acompletion',
  stream: false,
  status: 'success',
  custom_llm_provider: 'openai',
  model: 'gpt-4o-mini',
  model_group: 'bench-gpt',
  model_id: 'bench-gpt-0',
  api_base: 'http://127.0.0.1:18080/v1',
  response_cost: 0.0000081,
  cost_breakdown: { input_cost: 0.00000135, output_cost: 0.0000054, total_cost: 0.0000081 },
  prompt_tokens: 9,
  completion_tokens: 9,
  total_tokens: 18,
  startTime: 1764222222.123,
  endTime: 1764222222.125,
  completionStartTime: 1764222222.125,
  response_time: 0.002,
  metadata: {
    user_api_key_hash: 'f'.repeat(64),
    user_api_key_alias: 'g4-logging-on',
    user_api_key_team_id: 'bench-team-g4',
    user_api_key_team_alias: null,
    user_api_key_end_user_id: null,
    user_api_key_request_route: '/v1/chat/completions',
    requester_metadata: {},
    team_id: 'bench-team-g4',
    team_alias: null,
  },
  cache_hit: false,
  cache_key: null,
  request_tags: [],
  end_user: null,
  requester_ip_address: '127.0.0.1',
  user_agent: null,
  messages: [{ role: 'user', content: 'Say hello' }],
  response,
  model_parameters: {},
  error_str: null,
  error_information: null,
  hidden_params: { model_id: 'bench-gpt-0', api_base: 'http://127.0.0.1:18080/v1', response_cost: 0.0000081, litellm_overhead_time_ms: 0.4 },
};
const entry = {
  callback_name: 'langfuse',
  callback_type: 'success',
  callback_vars: { langfuse_public_key: 'pk-lf-bench', langfuse_secret: 'os.environ/X', langfuse_host: 'http://127.0.0.1:1' },
  entry_id: 'config:bench-team-g4:langfuse:success',
  trusted: true,
};
const text = JSON.stringify(payload);
const KINDS = ['langfuse', 'gcs_bucket', 'otel'];
const ROUNDS = 30;
const REQUESTS_PER_ROUND = 80;

console.log(`payload ${text.length} bytes; ${ROUNDS} rounds × ${REQUESTS_PER_ROUND} requests × ${KINDS.length} destinations`);
for (const type of (process.argv[2] ?? 'jsonb,json').split(',')) {
  const dir = mkdtempSync(join(tmpdir(), `pglite-outbox-${type}-`));
  const db = await PGlite.create(dir);
  await db.exec(`
    CREATE TABLE o (id BIGSERIAL PRIMARY KEY, event_id varchar(300) NOT NULL, entry_id varchar(300) NOT NULL,
      kind varchar(32) NOT NULL, source varchar(16) NOT NULL, team_id varchar(256), entry ${type} NOT NULL,
      payload ${type} NOT NULL, status varchar(16) NOT NULL DEFAULT 'pending', attempts int NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(), claimed_by varchar(64), claimed_until timestamptz,
      last_error text, created_at timestamptz NOT NULL DEFAULT now());
    CREATE UNIQUE INDEX ON o (event_id);
    CREATE INDEX ON o (status, kind, next_attempt_at);`);
  const cast = type === 'text' ? '' : `::${type}`;
  const ms = { insert: 0, claimWithPayload: 0, claimWithoutPayload: 0, delete: 0 };
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const values = [];
    const tuples = [];
    for (let i = 0; i < REQUESTS_PER_ROUND; i++) {
      for (const kind of KINDS) {
        const b = values.length;
        values.push(`ev-${n++}`, `e-${kind}`, kind, 'config', 'team', JSON.stringify(entry), text);
        tuples.push(`($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6}${cast},$${b + 7}${cast})`);
      }
    }
    let t0 = performance.now();
    await db.query(`INSERT INTO o (event_id, entry_id, kind, source, team_id, entry, payload) VALUES ${tuples.join(',')} ON CONFLICT (event_id) DO NOTHING`, values);
    ms.insert += performance.now() - t0;
    const withPayload = round % 2 === 0;
    for (const kind of KINDS) {
      t0 = performance.now();
      const claimed = await db.query(
        `UPDATE o SET claimed_by = 'w', claimed_until = now() + interval '30 seconds'
         WHERE id IN (SELECT id FROM o WHERE status = 'pending' AND kind = $1 AND next_attempt_at <= now()
           AND (claimed_until IS NULL OR claimed_until < now()) AND NOT (entry_id = ANY($2::varchar[]))
           ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED)
         RETURNING id, event_id, entry_id, kind, source, team_id, ${withPayload ? 'entry, payload, ' : ''}attempts, created_at`,
        [kind, []],
      );
      ms[withPayload ? 'claimWithPayload' : 'claimWithoutPayload'] += performance.now() - t0;
      t0 = performance.now();
      await db.query(`DELETE FROM o WHERE id = ANY($1::bigint[]) AND claimed_by = 'w'`, [claimed.rows.map((row) => row.id)]);
      ms.delete += performance.now() - t0;
    }
  }
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  const rows = ROUNDS * REQUESTS_PER_ROUND * KINDS.length;
  const us = (total, count) => ((total * 1000) / count).toFixed(1);
  console.log(
    `${type.padEnd(5)} µs per row: insert ${us(ms.insert, rows)}, claim with payload ${us(ms.claimWithPayload, rows / 2)}, ` +
      `claim without payload ${us(ms.claimWithoutPayload, rows / 2)}, delete ${us(ms.delete, rows)}`,
  );
}
