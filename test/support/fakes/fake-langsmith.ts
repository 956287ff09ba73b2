import type { ServerResponse } from 'node:http';
import { FakeHttpServer, sendJson, type FailureSpec, type RecordedRequest } from './fake-http-server';

/**
 * A LangSmith API on loopback: POST /runs/batch ({post, patch}) and GET /sessions, GET /info, authenticated with
 * `x-api-key`. A batch that repeats an existing run id is refused as a whole with 409, the strictest behaviour a
 * client must cope with.
 */

export type StoredRun = Record<string, unknown> & { id: string; session_name?: string };

export class FakeLangsmith {
  private readonly apiKeys = new Set<string>();
  /** Runs by API key, then by id. */
  private readonly runsByKey = new Map<string, Map<string, StoredRun>>();

  private constructor(private readonly http: FakeHttpServer) {}

  static async start(options: { apiKeys?: string[] } = {}): Promise<FakeLangsmith> {
    let fake: FakeLangsmith | null = null;
    const http = await FakeHttpServer.start((req, res) => fake!.handle(req, res));
    fake = new FakeLangsmith(http);
    for (const key of options.apiKeys ?? []) {
      fake.apiKeys.add(key);
    }
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  get port(): number {
    return this.http.port;
  }

  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  addApiKey(key: string): void {
    this.apiKeys.add(key);
  }

  setFailure(spec: FailureSpec | null): void {
    this.http.setFailure(spec);
  }

  refuseConnections(): Promise<void> {
    return this.http.refuseConnections();
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** Runs stored for an API key, optionally only one project (session_name). */
  runs(apiKey: string, project?: string): StoredRun[] {
    const all = [...(this.runsByKey.get(apiKey)?.values() ?? [])];
    return project === undefined ? all : all.filter((r) => r.session_name === project);
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || !this.apiKeys.has(key)) {
      sendJson(res, 401, { detail: 'Invalid token' });
      return;
    }
    if (req.method === 'GET' && (req.path === '/sessions' || req.path === '/api/v1/sessions')) {
      sendJson(res, 200, []);
      return;
    }
    if (req.method === 'GET' && req.path === '/info') {
      sendJson(res, 200, { version: 'fake' });
      return;
    }
    if (req.method === 'POST' && req.path === '/runs/batch') {
      const body = req.json as { post?: StoredRun[]; patch?: StoredRun[] } | undefined;
      if (!body || (!Array.isArray(body.post) && !Array.isArray(body.patch))) {
        sendJson(res, 422, { detail: 'post or patch required' });
        return;
      }
      const store = this.runsByKey.get(key) ?? new Map<string, StoredRun>();
      this.runsByKey.set(key, store);
      const posts = body.post ?? [];
      if (posts.some((run) => typeof run.id !== 'string' || store.has(run.id))) {
        sendJson(res, 409, { detail: 'Run already exists' });
        return;
      }
      for (const run of posts) {
        store.set(run.id, run);
      }
      for (const run of body.patch ?? []) {
        if (typeof run.id === 'string') {
          store.set(run.id, { ...(store.get(run.id) ?? {}), ...run });
        }
      }
      sendJson(res, 202, { message: 'Runs batch ingested' });
      return;
    }
    sendJson(res, 404, { detail: 'Not Found' });
  }
}

export function start(options: { apiKeys?: string[] } = {}): Promise<FakeLangsmith> {
  return FakeLangsmith.start(options);
}
