import { basicAuth, type RecordedRequest } from '../support/fakes/fake-http-server';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import {
  api,
  ArrivalClock,
  callIdOf,
  chatCallId,
  metricValue,
  percentile,
  scrape,
  setDifference,
  setupTeamLogging,
  teamKey,
  traceIds,
  waitForSet,
  waitUntil,
  type TeamLogging,
} from '../support/delivery/delivery-support';
import { langfuseProject, modelListYaml } from '../support/logging/fixtures';
import { marker, sleep } from '../support/logging/harness';
import { DeliveryHandover } from '../../src/logging/request/delivery-handover';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 5, "Delivery guarantees", against the in-process app on the shared test database (PGlite or
 * PostgreSQL) with Langfuse fakes on loopback: an outage of 60 s loses nothing, a hanging destination
 * delays neither another team's logs nor any request, a 401 dead-letters after the attempt bound and
 * replays once fixed, and the counters at /metrics move. Every assertion compares exact sets of call ids
 * (the Langfuse trace id of a call without metadata.trace_id); waits have deadlines, not fixed sleeps.
 * The process-level proofs (SIGTERM, SIGKILL, PostgreSQL restart, memory) are in delivery-process.e2e-spec.ts.
 */

const LANGFUSE = { kind: 'langfuse' } as const;

/** Settings every app here runs with; each describe adds its own. */
const BASE_ENV: Record<string, string> = {
  LOG_FLUSH_INTERVAL_MS: '100',
  OUTBOX_WRITE_INTERVAL_MS: '200',
  LOG_SHUTDOWN_GRACE_MS: '1000',
};

function startApp(env: Record<string, string>): Promise<TestApp> {
  return createTestApp({ configYaml: modelListYaml(), env: { ...BASE_ENV, ...env } });
}

describe('delivery guarantees (in process)', () => {
  describe('metrics', () => {
    const project = langfuseProject('metrics');
    let langfuse: FakeLangfuse;
    let gw: TestApp;
    let team: TeamLogging;

    beforeAll(async () => {
      langfuse = await FakeLangfuse.start({ keys: [project] });
      gw = await startApp({});
      team = await setupTeamLogging(gw.baseUrl, gw.masterKey, { teamId: 'metrics-team', pair: project, host: langfuse.url });
    });

    afterAll(async () => {
      await gw?.close();
      await langfuse?.close();
    });

    it('enqueued and delivered counters, outbox depth and HTTP metrics move; only the proxy admin may scrape', async () => {
      const labels = { ...LANGFUSE, team: team.teamId };
      const before = await scrape(gw.baseUrl, gw.masterKey);
      expect(metricValue(before, 'gatehouse_log_events_enqueued_total', labels)).toBe(0);

      const callIds = new Set<string>();
      for (let i = 0; i < 3; i++) callIds.add(await chatCallId(gw.baseUrl, team.key, marker('metrics')));
      expect(await waitForSet(callIds, () => traceIds(langfuse, project.publicKey), 15_000)).toEqual({ missing: [], unexpected: [] });

      let text = '';
      await waitUntil(
        'delivered counter = 3 and an empty outbox',
        async () => {
          text = await scrape(gw.baseUrl, gw.masterKey);
          return (
            metricValue(text, 'gatehouse_log_events_delivered_total', labels) === 3 &&
            metricValue(text, 'gatehouse_log_outbox_events', { kind: 'langfuse', status: 'pending' }) === 0
          );
        },
        10_000,
      );
      expect(metricValue(text, 'gatehouse_log_events_enqueued_total', labels)).toBe(3);
      expect(metricValue(text, 'gatehouse_log_events_dead_lettered_total', labels)).toBe(0);
      expect(metricValue(text, 'gatehouse_log_events_dropped_total', labels)).toBe(0);
      expect(metricValue(text, 'gatehouse_log_buffer_events')).toBe(0);
      const chatRoute = { method: 'POST', route: '/v1/chat/completions', status: '200' };
      expect(metricValue(text, 'gatehouse_http_requests_total', chatRoute)).toBeGreaterThanOrEqual(3);
      expect(metricValue(text, 'gatehouse_http_request_duration_seconds_count', chatRoute)).toBeGreaterThanOrEqual(3);
      for (const name of [
        'gatehouse_log_events_retried_total',
        'gatehouse_log_events_dropped_total',
        'gatehouse_log_outbox_events',
        'gatehouse_log_outbox_oldest_event_age_seconds',
        'gatehouse_log_buffer_events',
        'gatehouse_http_request_duration_seconds',
      ]) {
        expect([name, text.includes(`# TYPE ${name} `)]).toEqual([name, true]);
      }

      const scrapeRes = await fetch(`${gw.baseUrl}/metrics`, { headers: { Authorization: `Bearer ${gw.masterKey}` } });
      expect(scrapeRes.headers.get('content-type')).toMatch(/^text\/plain/);
      await scrapeRes.text();

      const teamAdmin = await teamKey(gw.baseUrl, gw.masterKey, team.teamId, 'team_admin');
      expect((await api(gw.baseUrl, 'GET', '/metrics', teamAdmin)).status).toBe(403);
      expect((await api(gw.baseUrl, 'GET', '/metrics', team.key)).status).toBe(403);
      expect((await api(gw.baseUrl, 'GET', '/metrics', null)).status).toBe(401);
    });

    it('a destination that acknowledges in time costs no database write: no outbox row is ever inserted', async () => {
      // Every INSERT into log_outbox takes an id from this sequence, even one that ends up a no-op.
      const sequence = async (): Promise<string> => {
        const [row] = await gw.dataSource.query<{ last_value: string | number; is_called: boolean }[]>(`SELECT last_value, is_called FROM log_outbox_id_seq`);
        return `${row.last_value}/${row.is_called}`;
      };
      const before = await sequence();
      const earlier = traceIds(langfuse, project.publicKey);
      const callIds = new Set<string>();
      for (let i = 0; i < 5; i++) callIds.add(await chatCallId(gw.baseUrl, team.key, marker('no-write')));
      const arrived = (): Set<string> => new Set([...traceIds(langfuse, project.publicKey)].filter((id) => !earlier.has(id)));
      expect(await waitForSet(callIds, arrived, 15_000)).toEqual({ missing: [], unexpected: [] });
      // Two more write ticks: an unacknowledged event would have been written by now.
      await sleep(3 * Number(BASE_ENV.OUTBOX_WRITE_INTERVAL_MS));
      expect(await sequence()).toBe(before);
      expect(metricValue(await scrape(gw.baseUrl, gw.masterKey), 'gatehouse_log_buffer_events')).toBe(0);
    });
  });

  describe('a destination down for 60 s (503 with Retry-After, then connection refused)', () => {
    const project = langfuseProject('outage');
    let langfuse: FakeLangfuse;
    let gw: TestApp;
    let team: TeamLogging;

    beforeAll(async () => {
      langfuse = await FakeLangfuse.start({ keys: [project] });
      // A small backoff cap so delivery resumes within seconds of the destination's return.
      gw = await startApp({ LOG_RETRY_MAX_BACKOFF_MS: '2000' });
      team = await setupTeamLogging(gw.baseUrl, gw.masterKey, { teamId: 'outage-team', pair: project, host: langfuse.url });
    });

    afterAll(async () => {
      await gw?.close();
      await langfuse?.close();
    });

    it('every event sent meanwhile arrives, exactly the set sent, and every request is answered', async () => {
      const labels = { ...LANGFUSE, team: team.teamId };
      // Positive control: delivery works before the outage.
      const control = await chatCallId(gw.baseUrl, team.key, marker('before-outage'));
      expect(await waitForSet(new Set([control]), () => traceIds(langfuse, project.publicKey), 15_000)).toEqual({ missing: [], unexpected: [] });

      const sent: string[] = [];
      const latencies: number[] = [];
      const send = async (label: string, until: number): Promise<void> => {
        while (Date.now() < until) {
          const started = Date.now();
          sent.push(await chatCallId(gw.baseUrl, team.key, marker(label)));
          latencies.push(Date.now() - started);
          await sleep(200);
        }
      };

      const outageStart = Date.now();
      const ingestionBefore = langfuse.ingestionRequests.length;
      langfuse.setFailure({ status: 503, retryAfter: '1', body: { message: 'Langfuse is overloaded' } });
      await send('during-503', outageStart + 30_000);
      const attemptsAnswered503 = langfuse.ingestionRequests.length - ingestionBefore;
      const sentDuring503 = sent.length;
      await langfuse.refuseConnections();
      await send('during-refused', outageStart + 60_000);
      const outageMs = Date.now() - outageStart;

      // During the outage nothing was stored, but the gateway kept trying (and answering every request).
      expect(traceIds(langfuse, project.publicKey)).toEqual(new Set([control]));
      expect(attemptsAnswered503).toBeGreaterThan(0);
      // Circuit breaker: the failing destination is tried about once per back-off period (at least the 1 s
      // Retry-After here), not once per outbox write (every 200 ms: ~150 times in these 30 s).
      expect(attemptsAnswered503).toBeLessThanOrEqual(45);
      expect(sentDuring503).toBeGreaterThan(10);
      expect(sent.length - sentDuring503).toBeGreaterThan(10);
      expect(outageMs).toBeGreaterThanOrEqual(60_000);
      expect(percentile(latencies, 95)).toBeLessThan(1_000);
      const during = await scrape(gw.baseUrl, gw.masterKey);
      expect(metricValue(during, 'gatehouse_log_events_retried_total', labels)).toBeGreaterThan(0);
      expect(metricValue(during, 'gatehouse_log_outbox_oldest_event_age_seconds', { kind: 'langfuse', status: 'pending' })).toBeGreaterThan(1);

      // Back: the same port answers again.
      langfuse.setFailure(null);
      await langfuse.restart();
      const expected = new Set([control, ...sent]);
      expect(expected.size).toBe(sent.length + 1);
      expect(await waitForSet(expected, () => traceIds(langfuse, project.publicKey), 30_000)).toEqual({ missing: [], unexpected: [] });
      // Each trace has exactly its one generation (redeliveries merge by id).
      expect(langfuse.generations(project.publicKey)).toHaveLength(expected.size);

      let text = '';
      await waitUntil(
        'every outage event counted as delivered and the outbox empty',
        async () => {
          text = await scrape(gw.baseUrl, gw.masterKey);
          return metricValue(text, 'gatehouse_log_outbox_events', { kind: 'langfuse' }) === 0;
        },
        10_000,
      );
      expect(metricValue(text, 'gatehouse_log_events_enqueued_total', labels)).toBe(expected.size);
      expect(metricValue(text, 'gatehouse_log_events_delivered_total', labels)).toBe(expected.size);
      expect(metricValue(text, 'gatehouse_log_events_dead_lettered_total', labels)).toBe(0);
      expect(metricValue(text, 'gatehouse_log_events_dropped_total', labels)).toBe(0);
    }, 150_000);
  });

  describe('the delivery thread crashes while it holds events only in memory', () => {
    const project = langfuseProject('crash');
    let langfuse: FakeLangfuse;
    let gw: TestApp;
    let team: TeamLogging;

    beforeAll(async () => {
      langfuse = await FakeLangfuse.start({ keys: [project] });
      // Long write interval and send timeout: a hung send keeps its events in the thread's memory, unwritten.
      gw = await startApp({ OUTBOX_WRITE_INTERVAL_MS: '4000', LOG_SEND_TIMEOUT_MS: '30000' });
      team = await setupTeamLogging(gw.baseUrl, gw.masterKey, { teamId: 'crash-team', pair: project, host: langfuse.url });
    });

    afterAll(async () => {
      langfuse?.setFailure(null);
      await gw?.close();
      await langfuse?.close();
    });

    it('a new thread is started and delivers every event the dead one held', async () => {
      langfuse.setFailure({ hang: true });
      const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => chatCallId(gw.baseUrl, team.key, marker(`crash-${i}`))));
      await waitUntil('the thread sending the events (its request hangs)', () => langfuse.ingestionRequests.length > 0, 15_000);
      // Only in memory: nothing of them is in the outbox to fall back on.
      const [{ count }] = await gw.dataSource.query<{ count: number }[]>(`SELECT count(*)::int AS count FROM log_outbox`);
      expect(count).toBe(0);

      const handover = gw.app.get(DeliveryHandover);
      const crashed = handover.currentThread;
      expect(crashed).not.toBeNull();
      await crashed?.terminate();
      langfuse.setFailure(null);

      expect(await waitForSet(new Set(sent), () => traceIds(langfuse, project.publicKey), 30_000)).toEqual({ missing: [], unexpected: [] });
      expect(handover.currentThread).not.toBe(crashed);
      const text = await scrape(gw.baseUrl, gw.masterKey);
      expect(metricValue(text, 'gatehouse_log_delivery_thread_restarts_total')).toBe(1);
      expect(metricValue(text, 'gatehouse_log_events_dropped_total')).toBe(0);
    }, 90_000);
  });

  describe('one destination hanging', () => {
    const projectA = langfuseProject('hang-a');
    const projectB = langfuseProject('hang-b');
    let langfuse: FakeLangfuse;
    let gw: TestApp;
    let teamA: TeamLogging;
    let teamB: TeamLogging;
    let clock: ArrivalClock;

    beforeAll(async () => {
      // Both projects on one Langfuse host: the bulkhead must hold even with a shared origin.
      langfuse = await FakeLangfuse.start({ keys: [projectA, projectB] });
      gw = await startApp({ LOG_SEND_TIMEOUT_MS: '3000', LOG_RETRY_MAX_BACKOFF_MS: '1000' });
      teamA = await setupTeamLogging(gw.baseUrl, gw.masterKey, { teamId: 'hang-team-a', pair: projectA, host: langfuse.url });
      teamB = await setupTeamLogging(gw.baseUrl, gw.masterKey, { teamId: 'hang-team-b', pair: projectB, host: langfuse.url });
      clock = new ArrivalClock(langfuse, [projectA.publicKey, projectB.publicKey]);
    });

    afterAll(async () => {
      clock?.stop();
      langfuse?.setFailure(null);
      await gw?.close();
      await langfuse?.close();
    });

    interface Round {
      /** Request start → B's trace stored at the fake, per B call. */
      deliveryB: number[];
      /** Request latency of every call (A and B). */
      requests: number[];
      callsA: string[];
      callsB: string[];
    }

    /** `rounds` × (one call of A and one of B at the same time), each round waiting for B's arrival. */
    async function measure(label: string, rounds: number): Promise<Round> {
      const result: Round = { deliveryB: [], requests: [], callsA: [], callsB: [] };
      for (let i = 0; i < rounds; i++) {
        const timed = async (key: string, mark: string): Promise<{ callId: string; started: number }> => {
          const started = Date.now();
          const callId = await chatCallId(gw.baseUrl, key, mark);
          result.requests.push(Date.now() - started);
          return { callId, started };
        };
        const [a, b] = await Promise.all([timed(teamA.key, marker(`${label}-a`)), timed(teamB.key, marker(`${label}-b`))]);
        result.callsA.push(a.callId);
        result.callsB.push(b.callId);
        await waitUntil(`B's trace ${b.callId} (${label})`, () => clock.arrivedAt(b.callId) !== undefined, 15_000, 5);
        result.deliveryB.push((clock.arrivedAt(b.callId) as number) - b.started);
        await sleep(50);
      }
      return result;
    }

    it('does not change another team’s delivery latency nor any request latency, and A’s events still arrive', async () => {
      // Warm-up (first claims, clients and connections), then the baseline with both destinations healthy.
      const warmUp = await measure('warm-up', 3);
      const baseline = await measure('baseline', 15);
      const healthyA = new Set([...warmUp.callsA, ...baseline.callsA]);
      expect(await waitForSet(healthyA, () => traceIds(langfuse, projectA.publicKey), 15_000)).toEqual({ missing: [], unexpected: [] });

      // A's Langfuse project now accepts connections and never answers.
      const isA = (req: RecordedRequest): boolean => basicAuth(req.headers)?.user === projectA.publicKey;
      langfuse.setFailure({ hang: true, match: isA });
      const hangingFrom = langfuse.ingestionRequests.filter(isA).length;
      const first = await chatCallId(gw.baseUrl, teamA.key, marker('hang-first'));
      await waitUntil('a hanging request of A at the fake', () => langfuse.ingestionRequests.filter(isA).length > hangingFrom, 10_000);

      const hanging = await measure('hanging', 15);
      // The hang was real and long: A's sends timed out (LOG_SEND_TIMEOUT_MS) and were retried meanwhile.
      await waitUntil(
        'a retried send of team A',
        async () => metricValue(await scrape(gw.baseUrl, gw.masterKey), 'gatehouse_log_events_retried_total', { ...LANGFUSE, team: teamA.teamId }) > 0,
        15_000,
      );
      const hangCalls = [first, ...hanging.callsA];
      expect(hangCalls.filter((id) => traceIds(langfuse, projectA.publicKey).has(id))).toEqual([]);

      const summary = {
        deliveryB: { baselineP95: percentile(baseline.deliveryB, 95), hangingP95: percentile(hanging.deliveryB, 95), hangingMax: Math.max(...hanging.deliveryB) },
        requests: { baselineP95: percentile(baseline.requests, 95), hangingP95: percentile(hanging.requests, 95), hangingMax: Math.max(...hanging.requests) },
      };
      if (process.env.DELIVERY_SPEC_VERBOSE) process.stderr.write(`hanging-destination latencies (ms): ${JSON.stringify(summary)}\n`);
      // B's delivery latency: under 2 s every time, and no worse than the baseline beyond scheduling noise.
      expect(summary.deliveryB.hangingMax).toBeLessThan(2_000);
      expect(summary.deliveryB.hangingP95).toBeLessThan(summary.deliveryB.baselineP95 + 1_000);
      // Request latency (A's and B's calls): the hang is invisible to callers.
      expect(summary.requests.hangingP95).toBeLessThan(Math.max(summary.requests.baselineP95 * 3, summary.requests.baselineP95 + 250));
      expect(summary.requests.hangingMax).toBeLessThan(2_000);

      // A recovers: everything it was sent while hanging arrives (the fake merges redeliveries by id).
      langfuse.setFailure(null);
      const allA = new Set([...healthyA, ...hangCalls]);
      expect(await waitForSet(allA, () => traceIds(langfuse, projectA.publicKey), 40_000)).toEqual({ missing: [], unexpected: [] });
      const allB = new Set([...warmUp.callsB, ...baseline.callsB, ...hanging.callsB]);
      expect(setDifference(allB, traceIds(langfuse, projectB.publicKey))).toEqual({ missing: [], unexpected: [] });
    }, 120_000);
  });

  describe('a destination answering 401', () => {
    const project = langfuseProject('unauthorized');
    const otherProject = langfuseProject('unauthorized-other');
    let langfuse: FakeLangfuse;
    let gw: TestApp;
    let team: TeamLogging;
    let other: TeamLogging;

    beforeAll(async () => {
      // The project's key pair is not registered yet: every ingestion answers 401.
      langfuse = await FakeLangfuse.start({ keys: [] });
      gw = await startApp({ LOG_MAX_ATTEMPTS: '3', LOG_RETRY_MAX_BACKOFF_MS: '300' });
      team = await setupTeamLogging(gw.baseUrl, gw.masterKey, { teamId: 'unauthorized-team', pair: project, host: langfuse.url });
      other = await setupTeamLogging(gw.baseUrl, gw.masterKey, { teamId: 'unauthorized-other', pair: otherProject, host: langfuse.url });
    });

    afterAll(async () => {
      await gw?.close();
      await langfuse?.close();
    });

    async function deadLetters(query: string): Promise<{ id: string; event_id: string; kind: string; source: string; team_id: string; attempts: number; last_error: string }[]> {
      const res = await api(gw.baseUrl, 'GET', `/logging/dead-letters${query}`, gw.masterKey);
      if (res.status !== 200) throw new Error(`GET /logging/dead-letters${query} answered ${res.status}: ${res.text}`);
      return res.json.data as never;
    }

    it('dead-letters after LOG_MAX_ATTEMPTS, shows in /metrics and the list, and replay delivers them all once fixed', async () => {
      const labels = { ...LANGFUSE, team: team.teamId };
      const calls = new Set<string>();
      for (let i = 0; i < 5; i++) calls.add(await chatCallId(gw.baseUrl, team.key, marker('unauthorized')));
      const otherCall = await chatCallId(gw.baseUrl, other.key, marker('unauthorized-other'));

      let text = '';
      await waitUntil(
        'five dead-lettered events of the team in /metrics',
        async () => {
          text = await scrape(gw.baseUrl, gw.masterKey);
          return metricValue(text, 'gatehouse_log_events_dead_lettered_total', labels) === 5;
        },
        20_000,
      );
      expect(metricValue(text, 'gatehouse_log_events_delivered_total', labels)).toBe(0);
      // Attempts 1 and 2 were retried, the third dead-lettered: 2 retries per event.
      expect(metricValue(text, 'gatehouse_log_events_retried_total', labels)).toBe(10);
      await waitUntil(
        'the dead letters counted in the outbox gauge',
        async () => metricValue(await scrape(gw.baseUrl, gw.masterKey), 'gatehouse_log_outbox_events', { kind: 'langfuse', status: 'dead' }) === 6,
        20_000,
      );

      const listed = await deadLetters(`?team_id=${team.teamId}&kind=langfuse`);
      expect(new Set(listed.map((letter) => callIdOf(letter.event_id)))).toEqual(calls);
      expect(new Set(listed.map((letter) => letter.event_id.slice(letter.event_id.lastIndexOf(':'))))).toHaveProperty('size', 1);
      for (const letter of listed) {
        expect(letter).toMatchObject({ kind: 'langfuse', source: 'team', team_id: team.teamId, attempts: 3 });
        expect(letter.last_error).toContain('401');
        expect(letter).not.toHaveProperty('payload');
      }
      expect(listed.map((letter) => JSON.stringify(letter)).join('\n')).not.toContain(project.secretKey);
      // Filters: the other team's dead letter is listed under its own team only.
      expect((await deadLetters(`?team_id=${other.teamId}`)).map((letter) => callIdOf(letter.event_id))).toEqual([otherCall]);
      expect(await deadLetters('?kind=otel')).toEqual([]);
      expect(await deadLetters('?limit=2')).toHaveLength(2);
      expect((await api(gw.baseUrl, 'GET', '/logging/dead-letters?limit=0', gw.masterKey)).status).toBe(400);

      // Proxy admin only: a team admin (even of this team) and a member get 403, no key 401.
      const teamAdmin = await teamKey(gw.baseUrl, gw.masterKey, team.teamId, 'team_admin');
      for (const key of [teamAdmin, team.key]) {
        expect((await api(gw.baseUrl, 'GET', `/logging/dead-letters?team_id=${team.teamId}`, key)).status).toBe(403);
        expect((await api(gw.baseUrl, 'POST', '/logging/dead-letters/replay', key, { team_id: team.teamId })).status).toBe(403);
      }
      expect((await api(gw.baseUrl, 'GET', '/logging/dead-letters', null)).status).toBe(401);
      expect((await api(gw.baseUrl, 'POST', '/logging/dead-letters/replay', null, {})).status).toBe(401);
      expect(await deadLetters(`?team_id=${team.teamId}`)).toHaveLength(5);

      // Fix the credentials at the destination, then replay: two by id first, then the rest of the team.
      langfuse.addKeyPair(project);
      const byId = listed.slice(0, 2);
      const replayIds = await api(gw.baseUrl, 'POST', '/logging/dead-letters/replay', gw.masterKey, { ids: byId.map((letter) => letter.id) });
      expect([replayIds.status, replayIds.json]).toEqual([200, { replayed: 2 }]);
      const firstTwo = new Set(byId.map((letter) => callIdOf(letter.event_id)));
      expect(await waitForSet(firstTwo, () => traceIds(langfuse, project.publicKey), 15_000)).toEqual({ missing: [], unexpected: [] });
      expect(new Set((await deadLetters(`?team_id=${team.teamId}`)).map((letter) => callIdOf(letter.event_id)))).toEqual(
        new Set([...calls].filter((id) => !firstTwo.has(id))),
      );

      const replayTeam = await api(gw.baseUrl, 'POST', '/logging/dead-letters/replay', gw.masterKey, { team_id: team.teamId, kind: 'langfuse' });
      expect([replayTeam.status, replayTeam.json]).toEqual([200, { replayed: 3 }]);
      expect(await waitForSet(calls, () => traceIds(langfuse, project.publicKey), 15_000)).toEqual({ missing: [], unexpected: [] });
      await waitUntil(
        'the team’s dead-letter list empty and all five counted as delivered',
        async () =>
          (await deadLetters(`?team_id=${team.teamId}`)).length === 0 &&
          metricValue(await scrape(gw.baseUrl, gw.masterKey), 'gatehouse_log_events_delivered_total', labels) === 5,
        15_000,
      );
      // The other team's credentials are still wrong: its dead letter stays, and nothing of it was delivered.
      expect((await deadLetters('')).map((letter) => callIdOf(letter.event_id))).toEqual([otherCall]);
      expect(langfuse.traces(otherProject.publicKey)).toEqual([]);

      // Replaying with nothing to replay is a no-op.
      const empty = await api(gw.baseUrl, 'POST', '/logging/dead-letters/replay', gw.masterKey, { team_id: team.teamId });
      expect([empty.status, empty.json]).toEqual([200, { replayed: 0 }]);
      // Fixing the other project too leaves the whole list empty after one replay without a filter.
      langfuse.addKeyPair(otherProject);
      expect((await api(gw.baseUrl, 'POST', '/logging/dead-letters/replay', gw.masterKey, {})).json).toEqual({ replayed: 1 });
      expect(await waitForSet(new Set([otherCall]), () => traceIds(langfuse, otherProject.publicKey), 15_000)).toEqual({ missing: [], unexpected: [] });
      await waitUntil('an empty dead-letter list', async () => (await deadLetters('')).length === 0, 15_000);
      expect(gw.settings.environment.LOG_MAX_ATTEMPTS).toBe(3);
    }, 90_000);
  });
});
