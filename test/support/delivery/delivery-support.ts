import { readFileSync } from 'node:fs';
import type { FakeLangfuse } from '../fakes/fake-langfuse';
import { chat, langfuseEntry, sleep, type ChatResult } from '../logging/harness';

/**
 * Helpers for the delivery-guarantee specs (issue 5): HTTP calls against any gateway (in-process or child
 * process), team + key set-up with one Langfuse entry, Prometheus text parsing, bounded concurrent load,
 * exact-set comparison with a deadline, arrival clocks on the Langfuse fake, and the RSS of a process.
 */

export interface ApiResult {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

export async function api(baseUrl: string, method: string, path: string, key: string | null, body?: unknown): Promise<ApiResult> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (e.g. Prometheus text)
  }
  return { status: res.status, text, json };
}

async function apiOk(baseUrl: string, method: string, path: string, key: string, body?: unknown): Promise<ApiResult> {
  const res = await api(baseUrl, method, path, key, body);
  if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}: ${res.text.slice(0, 500)}`);
  return res;
}

export interface TeamLogging {
  teamId: string;
  /** A plain member key of the team: its calls log to the team's Langfuse entry. */
  key: string;
}

/**
 * Creates a team, gives it one Langfuse entry (`POST /team/{id}/callback`, as the proxy admin, so a loopback
 * host is allowed) and a member key.
 */
export async function setupTeamLogging(
  baseUrl: string,
  masterKey: string,
  options: { teamId: string; pair: { publicKey: string; secretKey: string }; host: string },
): Promise<TeamLogging> {
  await apiOk(baseUrl, 'POST', '/team/new', masterKey, { team_id: options.teamId });
  await apiOk(baseUrl, 'POST', `/team/${encodeURIComponent(options.teamId)}/callback`, masterKey, langfuseEntry(options.pair, options.host));
  const generated = await apiOk(baseUrl, 'POST', '/key/generate', masterKey, { team_id: options.teamId, key_alias: `${options.teamId}-member` });
  return { teamId: options.teamId, key: generated.json.key as string };
}

/** A key of the team with the given role (e.g. `team_admin`). */
export async function teamKey(baseUrl: string, masterKey: string, teamId: string, role?: string): Promise<string> {
  const generated = await apiOk(baseUrl, 'POST', '/key/generate', masterKey, { team_id: teamId, ...(role ? { role } : {}) });
  return generated.json.key as string;
}

/** A chat whose answer must be 200; returns the call id (the Langfuse trace id when no trace_id is set). */
export async function chatCallId(baseUrl: string, key: string, marker: string, options: { model?: string; stream?: boolean } = {}): Promise<string> {
  const result: ChatResult = await chat(baseUrl, key, { marker, model: options.model, stream: options.stream });
  if (result.status !== 200 || !result.callId) throw new Error(`chat ${marker} answered ${result.status}: ${result.text.slice(0, 300)}`);
  return result.callId;
}

// ---------------------------------------------------------------------------------------------------------------
// Prometheus text

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `labels` (0 when there is none). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  return parseMetrics(text)
    .filter((sample) => sample.name === name && Object.entries(labels).every(([label, value]) => sample.labels[label] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

export async function scrape(baseUrl: string, masterKey: string): Promise<string> {
  const res = await api(baseUrl, 'GET', '/metrics', masterKey);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${res.text.slice(0, 300)}`);
  return res.text;
}

// ---------------------------------------------------------------------------------------------------------------
// Load and waiting

/** Runs `count` calls of `fn` with at most `concurrency` at a time; results in index order. */
export async function runPool<T>(count: number, concurrency: number, fn: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      results[index] = await fn(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
  return results;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** What `expected` lacks and what `actual` has beyond it. */
export function setDifference(expected: ReadonlySet<string>, actual: ReadonlySet<string>): { missing: string[]; unexpected: string[] } {
  return { missing: [...expected].filter((id) => !actual.has(id)), unexpected: [...actual].filter((id) => !expected.has(id)) };
}

/**
 * Waits until `actual()` contains every id of `expected` (or the deadline passes), then returns the difference
 * so the caller asserts the exact set: `expect(diff).toEqual({ missing: [], unexpected: [] })`.
 */
export async function waitForSet(
  expected: ReadonlySet<string>,
  actual: () => ReadonlySet<string> | Promise<ReadonlySet<string>>,
  timeoutMs: number,
): Promise<{ missing: string[]; unexpected: string[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await actual();
    const diff = setDifference(expected, seen);
    if (diff.missing.length === 0 || Date.now() > deadline) return diff;
    await sleep(50);
  }
}

/** What a probe threw, as `String` shows it ("Error: message" for an Error). */
function thrownText(thrown: unknown): string {
  return String(thrown);
}

/** Polls `probe` until it returns true; throws with `description` and the last value after the deadline. */
export async function waitUntil(description: string, probe: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${lastError ? ` (${thrownText(lastError)})` : ''}`);
    await sleep(intervalMs);
  }
}

/** Trace ids stored in one Langfuse project of the fake (merged by id, so a redelivery is not a second trace). */
export function traceIds(fake: FakeLangfuse, publicKey: string): Set<string> {
  return new Set(fake.traces(publicKey).map((trace) => trace.id));
}

/**
 * Records when each trace id first appeared in the watched projects, polling every few milliseconds, so a
 * spec can measure request → arrival latency without fixed sleeps.
 */
export class ArrivalClock {
  private readonly firstSeen = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly fake: FakeLangfuse,
    private readonly publicKeys: readonly string[],
    intervalMs = 5,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  private tick(): void {
    const now = Date.now();
    for (const publicKey of this.publicKeys) {
      for (const trace of this.fake.traces(publicKey)) if (!this.firstSeen.has(trace.id)) this.firstSeen.set(trace.id, now);
    }
  }

  arrivedAt(traceId: string): number | undefined {
    this.tick();
    return this.firstSeen.get(traceId);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

/** Resident set size of a process in bytes, from /proc/<pid>/status (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** The call id part of an outbox event id (`<call id>:<entry id>`; entry ids are UUIDs without colons). */
export function callIdOf(eventId: string): string {
  return eventId.slice(0, eventId.lastIndexOf(':'));
}
