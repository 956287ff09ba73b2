import { Agent, request } from 'node:http';

/** What a raw request got back. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body, or null when it is not JSON. */
  json: unknown;
}

export interface RawRequest {
  method: string;
  /** Path and query exactly as sent (not re-encoded). */
  path: string;
  /**
   * Header pairs in order, repeats allowed (two `Authorization` headers): what fetch and supertest cannot
   * send. No header is added: no Content-Type unless given; Content-Length is set for a body.
   */
  headers?: readonly (readonly [string, string])[];
  body?: Buffer | string;
  timeoutMs?: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** One HTTP/1.1 request with node:http, headers as given. */
export function rawRequest(baseUrl: string, options: RawRequest): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, 'utf8');
  // Given as an array, headers are sent exactly as listed: Node adds no Host header then.
  const headers: string[] = ['Host', url.host];
  for (const [name, value] of options.headers ?? []) headers.push(name, value);
  if (body !== undefined && !(options.headers ?? []).some(([name]) => /^(content-length|transfer-encoding)$/i.test(name))) {
    headers.push('Content-Length', String(body.length));
  }
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: options.method, path: options.path, headers, agent, timeout: options.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method} ${options.path}: no answer within ${options.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Anthropic's error envelope (`{"type":"error","error":{"type","message"}}`), or null when the answer is not one. */
export function anthropicEnvelopeOf(answer: RawAnswer): { type: string; message: string } | null {
  const body = answer.json as { type?: unknown; error?: { type?: unknown; message?: unknown } | null } | null;
  if (body?.type !== 'error' || typeof body.error?.type !== 'string' || typeof body.error.message !== 'string') return null;
  return { type: body.error.type, message: body.error.message };
}

/** The OpenAI error envelope's fields, or null when the answer is not one. */
export function envelopeOf(answer: RawAnswer): { message: string; type: string; param: string | null; code: string } | null {
  const error = (answer.json as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  if (error === undefined || error === null || typeof error !== 'object') return null;
  const { message, type, param, code } = error;
  if (typeof message !== 'string' || typeof type !== 'string' || typeof code !== 'string' || !(param === null || typeof param === 'string')) return null;
  return { message, type, param, code };
}
