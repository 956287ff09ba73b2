import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { GeneratedKeyJson } from '../api-responses';
import type { Response } from 'supertest';
import type { DataSource } from 'typeorm';
import type { FakeGcs } from '../fakes/fake-gcs';
import type { RecordedRequest } from '../fakes/fake-http-server';
import type { FakeLangfuse, StoredObject } from '../fakes/fake-langfuse';
import type { FakeOtlp, ReceivedSpan } from '../fakes/fake-otlp';
import type { TestApp } from '../test-app';

/**
 * Shared helpers for the team/key logging end-to-end specs (issue 4): markers, chat calls, polling the fakes
 * with a deadline, the "nothing arrived" protocol, and sweeps for secrets in everything the gateway emitted.
 */

/** The flush interval every logging spec runs with (env LOG_FLUSH_INTERVAL_MS). */
export const FLUSH_MS = 100;
export const LOGGING_ENV: Record<string, string> = { LOG_FLUSH_INTERVAL_MS: String(FLUSH_MS) };
/** What responses show instead of a secret. */
export const MASK = '***REDACTED***';
/** How long a positive wait may take before the test fails. */
export const DELIVERY_DEADLINE_MS = 15_000;

/** Names of callback_vars that hold secrets (masked in every response). */
export const SECRET_VAR_NAMES = [
  'langfuse_public_key',
  'langfuse_secret_key',
  'langfuse_secret',
  'gcs_service_account_json',
  'gcs_path_service_account',
  'otel_headers',
  'langsmith_api_key',
] as const;

let markerCounter = 0;
/** A unique string to put in a prompt, so the request's event can be found in (or proven absent from) a fake. */
export function marker(label: string): string {
  markerCounter += 1;
  return `mk-${label}-${markerCounter}-${randomBytes(5).toString('hex')}`;
}

/** A distinctive secret value; `label` keeps failures readable. */
export function secret(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns something other than undefined/null/false (or a non-empty array when
 * `nonEmpty`), or fails after the deadline with `description`.
 */
export async function waitFor<T>(
  description: string,
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = DELIVERY_DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false && !(Array.isArray(value) && value.length === 0)) {
        return value;
      }
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description} (last probe: ${describe(last)})`);
    }
    await sleep(25);
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value)?.slice(0, 300) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The quiet period before asserting that something was NOT delivered: at least three flush intervals.
 * Callers additionally wait for a positive-control event that was sent after the requests under test.
 */
export async function quietPeriod(): Promise<void> {
  await sleep(FLUSH_MS * 5);
}

// ---------------------------------------------------------------------------------------------------------------
// Chat calls

export interface ChatOptions {
  model?: string;
  marker: string;
  stream?: boolean;
  user?: string;
  metadata?: Record<string, unknown>;
  /** Extra body fields. */
  extra?: Record<string, unknown>;
}

export interface ChatResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
  /** The `x-litellm-call-id` response header. */
  callId: string | null;
  /** Assembled content of a stream (or the message content of a JSON answer). */
  content: string | null;
}

/** Every response a spec saw, for the secret sweep. */
export class Transcript {
  readonly entries: { where: string; text: string }[] = [];

  add(where: string, text: string): void {
    this.entries.push({ where, text });
  }

  /** Records a supertest response (status line, headers, body) and returns it. */
  record(where: string, res: Response): Response {
    this.add(`${where} → ${res.status}`, `${JSON.stringify(res.headers)}\n${res.text ?? ''}`);
    return res;
  }
}

export async function chat(baseUrl: string, key: string, options: ChatOptions, transcript?: Transcript): Promise<ChatResult> {
  const body: Record<string, unknown> = {
    model: options.model ?? 'gpt-4',
    messages: [{ role: 'user', content: `Hello, Claude gm! ${options.marker}` }],
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
    ...(options.stream ? { stream: true } : {}),
    ...(options.extra ?? {}),
  };
  const response = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  transcript?.add(`POST /v1/chat/completions (${options.marker}) → ${response.status}`, `${JSON.stringify([...response.headers])}\n${text}`);
  let json: unknown = null;
  let content: string | null = null;
  if (options.stream && response.status === 200) {
    content = '';
    for (const line of text.split('\n')) {
      if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
      const chunk = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string | null } }[] };
      content += chunk.choices?.[0]?.delta?.content ?? '';
    }
  } else {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    const message = (json as { choices?: { message?: { content?: string | null } }[] } | null)?.choices?.[0]?.message;
    content = typeof message?.content === 'string' ? message.content : null;
  }
  return { status: response.status, headers: response.headers, text, json, callId: response.headers.get('x-litellm-call-id'), content };
}

/** A successful chat; fails the test with the body when the status is not 200. */
export async function chatOk(baseUrl: string, key: string, options: ChatOptions, transcript?: Transcript): Promise<ChatResult> {
  const result = await chat(baseUrl, key, options, transcript);
  if (result.status !== 200) {
    throw new Error(`chat ${options.marker} answered ${result.status}: ${result.text.slice(0, 500)}`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Admin API helpers

export const bearer = (key: string): Record<string, string> => ({ Authorization: `Bearer ${key}` });

export interface GeneratedKey {
  key: string;
  token: string;
  body: GeneratedKeyJson;
}

export async function newTeam(gw: TestApp, body: Record<string, unknown>, transcript?: Transcript): Promise<string> {
  const res = await gw.http().post('/team/new').set(bearer(gw.masterKey)).send(body);
  transcript?.record('POST /team/new', res);
  if (res.status !== 200) throw new Error(`/team/new answered ${res.status}: ${res.text}`);
  return (res.body as { team_id: string }).team_id;
}

export async function newKey(gw: TestApp, body: Record<string, unknown>, options: { auth?: string; transcript?: Transcript } = {}): Promise<GeneratedKey> {
  const res = await gw
    .http()
    .post('/key/generate')
    .set(bearer(options.auth ?? gw.masterKey))
    .send(body);
  options.transcript?.record('POST /key/generate', res);
  if (res.status !== 200) throw new Error(`/key/generate answered ${res.status}: ${res.text}`);
  const created = res.body as GeneratedKeyJson;
  return { key: created.key, token: created.token, body: created };
}

export async function addCallback(
  gw: TestApp,
  teamId: string,
  body: Record<string, unknown>,
  options: { auth?: string; transcript?: Transcript } = {},
): Promise<Response> {
  const res = await gw
    .http()
    .post(`/team/${encodeURIComponent(teamId)}/callback`)
    .set(bearer(options.auth ?? gw.masterKey))
    .send(body);
  options.transcript?.record(`POST /team/${teamId}/callback`, res);
  if (res.status !== 200) throw new Error(`POST /team/${teamId}/callback answered ${res.status}: ${res.text}`);
  return res;
}

export function langfuseEntry(
  pair: { publicKey: string; secretKey: string },
  host: string,
  type: 'success' | 'failure' | 'success_and_failure' = 'success_and_failure',
): Record<string, unknown> {
  return {
    callback_name: 'langfuse',
    callback_type: type,
    callback_vars: { langfuse_public_key: pair.publicKey, langfuse_secret_key: pair.secretKey, langfuse_host: host },
  };
}

/**
 * Every value under a secret callback_var name anywhere in `value` must be the mask (or an `os.environ/`
 * reference, which names a variable and is not itself a secret). Returns the offending paths.
 */
export function unmaskedSecretVars(value: unknown, path = '$'): string[] {
  const problems: string[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, index) => problems.push(...unmaskedSecretVars(item, `${path}[${index}]`)));
  } else if (value !== null && typeof value === 'object') {
    for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
      if ((SECRET_VAR_NAMES as readonly string[]).includes(name)) {
        if (!(child === MASK || (typeof child === 'string' && /^os\.environ\/[A-Za-z_][A-Za-z0-9_]*$/.test(child)))) {
          problems.push(`${path}.${name} = ${JSON.stringify(child)?.slice(0, 80)}`);
        }
      } else {
        problems.push(...unmaskedSecretVars(child, `${path}.${name}`));
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Finding events in the fakes

/** Traces of one Langfuse project (public key) whose content mentions the marker. */
export function langfuseTraces(fake: FakeLangfuse, publicKey: string, mark: string): StoredObject[] {
  return fake.traces(publicKey).filter((trace) => JSON.stringify(trace).includes(mark));
}

export function langfuseGenerations(fake: FakeLangfuse, publicKey: string, mark: string): (StoredObject & { type: string })[] {
  return fake.generations(publicKey).filter((generation) => JSON.stringify(generation).includes(mark));
}

/** Waits for exactly-one trace and its generation carrying the marker in that project. */
export async function waitForLangfuse(
  fake: FakeLangfuse,
  publicKey: string,
  mark: string,
): Promise<{ trace: StoredObject; generation: StoredObject & { type: string } }> {
  return waitFor(`a Langfuse trace + generation with ${mark} in project ${publicKey}`, () => {
    const traces = langfuseTraces(fake, publicKey, mark);
    const generations = langfuseGenerations(fake, publicKey, mark);
    return traces.length > 0 && generations.length > 0 ? { trace: traces[0], generation: generations[0] } : undefined;
  });
}

/**
 * A call's Langfuse generation, found by its call id (the trace id): the first one, or exactly one once the dust
 * settled. `fake` is read at each call, so a spec can make this before its fake starts.
 */
export function langfuseCallGenerations(
  fake: () => FakeLangfuse,
  publicKey: string,
): { generationOf: (callId: string) => Promise<StoredObject>; onlyGeneration: (callId: string) => Promise<StoredObject> } {
  const generationOf = (callId: string): Promise<StoredObject> => waitFor(`the Langfuse generation of ${callId}`, () => fake().generations(publicKey, callId)[0]);
  return {
    generationOf,
    onlyGeneration: async (callId: string): Promise<StoredObject> => {
      const generation = await generationOf(callId);
      await sleep(500);
      expect(fake().generations(publicKey, callId)).toHaveLength(1);
      return generation;
    },
  };
}

/** A generation's logged cost is usage × the per-token prices, and more than nothing; its usage is the call's. */
export function expectCostOf(generation: StoredObject, usage: { prompt_tokens: number; completion_tokens: number }, prices: { input: number; output: number }): void {
  const cost = (generation.costDetails as { total: number }).total;
  expect(cost).toBeGreaterThan(0);
  expect(cost).toBeCloseTo(usage.prompt_tokens * prices.input + usage.completion_tokens * prices.output, 12);
  expect(generation.usageDetails).toMatchObject({ input: usage.prompt_tokens, output: usage.completion_tokens });
}

/**
 * A streamed chat call read as raw server-sent events (the `data` of each, `[DONE]` included), for streams that end
 * in an error event, which the openai client would throw on; with the call's id.
 */
export async function rawChatStream(baseUrl: string, apiKey: string, model: string): Promise<{ events: string[]; callId: string }> {
  const response = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], stream: true }),
    signal: AbortSignal.timeout(5000),
  });
  expect(response.status).toBe(200);
  const text = await response.text();
  return { events: text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6)), callId: response.headers.get('x-litellm-call-id')! };
}

export interface GcsEvent {
  objectName: string;
  event: Record<string, unknown>;
}

/** Every NDJSON line of every object in the bucket, parsed. */
export function gcsEvents(fake: FakeGcs, bucket: string): GcsEvent[] {
  const out: GcsEvent[] = [];
  for (const object of fake.objects(bucket)) {
    for (const line of object.data.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      out.push({ objectName: object.name, event: JSON.parse(line) as Record<string, unknown> });
    }
  }
  return out;
}

export function gcsEventsWith(fake: FakeGcs, bucket: string, mark: string): GcsEvent[] {
  return gcsEvents(fake, bucket).filter((entry) => JSON.stringify(entry.event).includes(mark));
}

export function otlpSpansWith(fake: FakeOtlp, mark: string): ReceivedSpan[] {
  return fake.uniqueSpans().filter((span) => JSON.stringify(span).includes(mark));
}

/** Every recorded request of a set of fakes whose body mentions the marker, whatever its auth or path. */
export function requestsMentioning(fakes: Record<string, { requests: RecordedRequest[] }>, mark: string): string[] {
  const hits: string[] = [];
  for (const [name, fake] of Object.entries(fakes)) {
    for (const request of fake.requests) {
      if (request.text.includes(mark) || request.url.includes(mark)) hits.push(`${name}: ${request.method} ${request.path}`);
    }
  }
  return hits;
}

// ---------------------------------------------------------------------------------------------------------------
// Secret sweeps

/** The places a secret may show up: `[where, text]`. */
export interface Haystack {
  where: string;
  text: string;
}

/**
 * Texts of every request a fake received: body, URL and headers. `allowedHeaders` names headers that legitimately
 * carry this destination's own credentials (e.g. `authorization` for Langfuse Basic auth, an OTLP auth header).
 */
export function fakeHaystacks(name: string, requests: readonly RecordedRequest[], allowedHeaders: readonly string[] = []): Haystack[] {
  return requests.map((request, index) => {
    const headers: IncomingHttpHeaders = { ...request.headers };
    for (const header of allowedHeaders) delete headers[header.toLowerCase()];
    return { where: `${name} request #${index} ${request.method} ${request.path}`, text: `${request.url}\n${JSON.stringify(headers)}\n${request.text}` };
  });
}

/** Forms of a secret worth searching for: as is, base64, and JSON-escaped. */
function secretForms(value: string): string[] {
  const forms = new Set<string>([value, Buffer.from(value).toString('base64')]);
  const escaped = JSON.stringify(value).slice(1, -1);
  forms.add(escaped);
  return [...forms].filter((form) => form.length >= 6);
}

/** `secret label found in where` for each occurrence. */
export function findSecrets(haystacks: readonly Haystack[], secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [label, value] of Object.entries(secrets)) {
    if (!value) continue;
    const forms = secretForms(value);
    for (const haystack of haystacks) {
      if (forms.some((form) => haystack.text.includes(form))) found.push(`${label} found in ${haystack.where}`);
    }
  }
  return found;
}

/** SELECT * from every table of the current schema, as haystacks. */
export async function databaseHaystacks(dataSource: DataSource): Promise<Haystack[]> {
  const tables: { table_name: string }[] = await dataSource.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
  );
  const out: Haystack[] = [];
  for (const { table_name } of tables) {
    const rows: unknown[] = await dataSource.query(`SELECT * FROM "${table_name.replace(/"/g, '""')}"`);
    out.push({ where: `table ${table_name}`, text: JSON.stringify(rows) });
  }
  return out;
}

/** A pino destination that keeps every line (the gateway's stdout in production). */
export class LogCapture {
  readonly lines: string[] = [];

  write(chunk: string): void {
    this.lines.push(chunk);
  }

  text(): string {
    return this.lines.join('');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// GCS service accounts

export interface ServiceAccount {
  json: string;
  /** One line from the middle of the PEM private key: if it appears anywhere, the key leaked. */
  canary: string;
  clientEmail: string;
}

export function makeServiceAccount(label: string): ServiceAccount {
  const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const clientEmail = `${label}@gatehouse-test.iam.gserviceaccount.com`;
  const json = JSON.stringify({
    type: 'service_account',
    project_id: 'gatehouse-test',
    private_key_id: `kid-${label}`,
    private_key: pem,
    client_email: clientEmail,
    token_uri: 'https://oauth2.googleapis.com/token',
  });
  return { json, canary: pem.split('\n')[3], clientEmail };
}

/** Restores process.env entries set by a spec. */
export class EnvScope {
  private readonly previous = new Map<string, string | undefined>();

  set(values: Record<string, string>): void {
    for (const [name, value] of Object.entries(values)) {
      if (!this.previous.has(name)) this.previous.set(name, process.env[name]);
      process.env[name] = value;
    }
  }

  unset(name: string): void {
    if (!this.previous.has(name)) this.previous.set(name, process.env[name]);
    delete process.env[name];
  }

  restore(): void {
    for (const [name, value] of this.previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    this.previous.clear();
  }
}

