import { createHash, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeHttpServer, sendJson, type FailureSpec, type RecordedRequest } from './fake-http-server';
import { checkGenerateContentRequest } from './gemini-request-checks';

/**
 * Google's generative AI APIs on loopback, in their real wire format:
 * - Gemini API (AI Studio): `POST {prefix}/models/{model}:generateContent | :streamGenerateContent | :batchEmbedContents
 *   | :embedContent`, the key in `x-goog-api-key` (or `?key=`, which the fake records so a test can prove it unused);
 *   a wrong key is Google's 400 API_KEY_INVALID, a missing one 403.
 * - Vertex AI: `POST {prefix}/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent |
 *   :streamGenerateContent | :predict` with `Authorization: Bearer` a token this fake issued; else 401 UNAUTHENTICATED.
 * - An OAuth2 token endpoint (`POST /token`): the JWT-bearer grant, verifying the assertion's RS256 signature with
 *   the registered service account's public key, its audience (this endpoint), expiry and scope; and the
 *   refresh-token grant of a registered gcloud user credential (`gcloud auth application-default login`).
 *   Vertex also accepts the tokens of another issuer it is told to trust (the GCE metadata fake).
 * Streams are `alt=sse` events ending in CRLF CRLF, as Google sends them (without `alt=sse`: one JSON array).
 * Request bodies are checked as Google checks them (gemini-request-checks.ts): an unknown field is a 400.
 * What the model answers is scripted with `next()`; by default a short text with fixed usage.
 */

export interface FakeServiceAccount {
  readonly clientEmail: string;
  readonly projectId: string;
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
  /** The key file's JSON text, naming `tokenUri` as its token endpoint. */
  json(tokenUri: string): string;
}

export function makeServiceAccount(label: string, projectId = 'gatehouse-test'): FakeServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const clientEmail = `${label}@${projectId}.iam.gserviceaccount.com`;
  return {
    clientEmail,
    projectId,
    privateKeyPem,
    publicKey,
    json: (tokenUri) =>
      JSON.stringify({
        type: 'service_account',
        project_id: projectId,
        private_key_id: randomBytes(20).toString('hex'),
        private_key: privateKeyPem,
        client_email: clientEmail,
        client_id: '1234567890',
        auth_uri: 'https://accounts.google.com/o/oauth2/auth',
        token_uri: tokenUri,
      }),
  };
}

/** A gcloud user credential (`type: authorized_user`, what `gcloud auth application-default login` writes). */
export interface FakeUserCredential {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /** The ADC file's JSON text; `tokenUri` is written as its `token_uri` unless null (gcloud's own files name none). */
  json(tokenUri: string | null, quotaProjectId?: string): string;
}

export function makeUserCredential(label: string): FakeUserCredential {
  const clientId = `${label}-${randomBytes(4).toString('hex')}.apps.googleusercontent.com`;
  const clientSecret = `d-FL95Q${randomBytes(12).toString('base64url')}`;
  const refreshToken = `1//0g${randomBytes(30).toString('base64url')}`;
  return {
    clientId,
    clientSecret,
    refreshToken,
    json: (tokenUri, quotaProjectId) =>
      JSON.stringify({
        account: '',
        client_id: clientId,
        client_secret: clientSecret,
        ...(quotaProjectId === undefined ? {} : { quota_project_id: quotaProjectId }),
        refresh_token: refreshToken,
        ...(tokenUri === null ? {} : { token_uri: tokenUri }),
        type: 'authorized_user',
        universe_domain: 'googleapis.com',
      }),
  };
}

/** Another issuer of access tokens Vertex accepts (the GCE metadata fake). */
export interface TokenIssuer {
  hasIssued(token: string): boolean;
}

export interface GoogleUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
  totalTokenCount?: number;
}

/** What the next model call answers. */
export type GeminiBehaviour =
  /** Text (streamed in `pieces`, default: word by word), optionally after a thought summary. */
  | { readonly type: 'text'; readonly text?: string; readonly pieces?: readonly string[]; readonly thought?: string; readonly finishReason?: string; readonly usage?: GoogleUsage }
  /** Function calls, all in one event, as Gemini sends them; `thoughtSignature` on the first (Gemini 3). */
  | { readonly type: 'function-call'; readonly calls: ReadonlyArray<{ name: string; args: Record<string, unknown> }>; readonly thoughtSignature?: string; readonly usage?: GoogleUsage }
  /** The prompt itself was blocked: `promptFeedback.blockReason`, no candidates. */
  | { readonly type: 'prompt-blocked'; readonly blockReason?: string }
  /** The answer was withheld: a candidate with `finishReason` (SAFETY, RECITATION, ...) and no content. */
  | { readonly type: 'filtered'; readonly finishReason: string }
  /** Google's error answer: `{"error": {"code", "message", "status"}}`. */
  | { readonly type: 'error'; readonly status: number; readonly googleStatus: string; readonly message: string; readonly retryAfter?: string }
  /** This exact answer (status 200 unless set), for answers that are not Google's format. */
  | { readonly type: 'raw'; readonly body: string; readonly contentType?: string; readonly status?: number };

export const DEFAULT_TEXT = 'Hello from the fake Gemini!';
export const DEFAULT_USAGE: Required<Pick<GoogleUsage, 'promptTokenCount' | 'candidatesTokenCount' | 'totalTokenCount'>> = {
  promptTokenCount: 12,
  candidatesTokenCount: 6,
  totalTokenCount: 18,
};

const MODEL_PATH = /^(.*)\/models\/([^/:]+):([A-Za-z]+)$/;
const VERTEX_PREFIX = /\/v1(?:beta1)?\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google$/;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const REFRESH_TOKEN = 'refresh_token';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

/** One model call as the fake understood it. */
export interface ModelCall {
  readonly api: 'gemini' | 'vertex';
  readonly model: string;
  readonly method: string;
  readonly project?: string;
  readonly location?: string;
  readonly request: RecordedRequest;
}

export interface FakeGeminiOptions {
  readonly apiKeys?: readonly string[];
  readonly serviceAccounts?: readonly FakeServiceAccount[];
  readonly users?: readonly FakeUserCredential[];
}

export class FakeGemini {
  readonly modelCalls: ModelCall[] = [];
  /** Assertions the token endpoint accepted, decoded (header and claims). */
  readonly grantedAssertions: Array<{ header: Record<string, unknown>; claims: Record<string, unknown> }> = [];
  /** Client ids whose refresh tokens the token endpoint exchanged, in order. */
  readonly refreshedClients: string[] = [];
  /** Seconds a token lives (`expires_in`). */
  tokenLifetimeSeconds = 3600;
  private readonly apiKeys: Set<string>;
  private readonly accounts = new Map<string, KeyObject>();
  private readonly users: readonly FakeUserCredential[];
  private readonly trustedIssuers: TokenIssuer[] = [];
  private readonly issuedTokens = new Set<string>();
  private readonly script: GeminiBehaviour[] = [];

  private constructor(
    private readonly http: FakeHttpServer,
    options: FakeGeminiOptions,
  ) {
    this.apiKeys = new Set(options.apiKeys ?? []);
    this.users = options.users ?? [];
    for (const account of options.serviceAccounts ?? []) this.accounts.set(account.clientEmail, account.publicKey);
  }

  static async start(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
    let fake: FakeGemini | null = null;
    const http = await FakeHttpServer.start((req, res) => (fake as FakeGemini).handle(req, res));
    fake = new FakeGemini(http, options);
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  /** The token endpoint, for service-account files' `token_uri`. */
  get tokenUri(): string {
    return `${this.http.url}/token`;
  }

  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  get tokenRequests(): RecordedRequest[] {
    return this.http.requests.filter((request) => request.path === '/token');
  }

  /** Vertex accepts the tokens `issuer` gave out too (as Google accepts a metadata server's). */
  trustTokensFrom(issuer: TokenIssuer): void {
    this.trustedIssuers.push(issuer);
  }

  /** Queues what the next model calls answer, in order. */
  next(...behaviours: GeminiBehaviour[]): void {
    this.script.push(...behaviours);
  }

  /** Injects an HTTP-level failure (see FakeHttpServer), e.g. the token endpoint refusing. */
  setFailure(spec: FailureSpec | null): void {
    this.http.setFailure(spec);
  }

  reset(): void {
    this.script.length = 0;
    this.modelCalls.length = 0;
    this.grantedAssertions.length = 0;
    this.refreshedClients.length = 0;
    this.http.clearRequests();
    this.http.setFailure(null);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    if (req.method !== 'POST') return googleError(res, 404, 'NOT_FOUND', `Method ${req.method} is not supported.`);
    if (req.path === '/token') return this.token(req, res);
    const match = MODEL_PATH.exec(decodeURIComponent(req.path));
    if (match === null) return googleError(res, 404, 'NOT_FOUND', `The requested URL ${req.path} was not found on this server.`);
    const [, prefix, model, method] = match;
    const vertex = VERTEX_PREFIX.exec(prefix);
    const call: ModelCall = vertex ? { api: 'vertex', model, method, project: vertex[1], location: vertex[2], request: req } : { api: 'gemini', model, method, request: req };
    if (!this.authorized(call, res)) return;
    this.modelCalls.push(call);
    if (req.json === undefined) return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    switch (method) {
      case 'generateContent':
      case 'streamGenerateContent': {
        const problem = checkGenerateContentRequest(req.json);
        if (problem !== null) return googleError(res, 400, 'INVALID_ARGUMENT', problem);
        return this.answer(call, res);
      }
      case 'batchEmbedContents':
      case 'embedContent':
        return call.api === 'gemini' ? this.embedContents(call, res) : googleError(res, 404, 'NOT_FOUND', 'Not found.');
      case 'predict':
        return call.api === 'vertex' ? this.predict(call, res) : googleError(res, 404, 'NOT_FOUND', 'Not found.');
      default:
        return googleError(res, 404, 'NOT_FOUND', `Method ${method} not found.`);
    }
  }

  private authorized(call: ModelCall, res: ServerResponse): boolean {
    const headers = call.request.headers;
    if (call.api === 'vertex') {
      const token = /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1];
      if (token !== undefined && (this.issuedTokens.has(token) || this.trustedIssuers.some((issuer) => issuer.hasIssued(token)))) return true;
      googleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
      return false;
    }
    const key = (headers['x-goog-api-key'] as string | undefined) ?? call.request.query.get('key') ?? undefined;
    if (key === undefined) {
      googleError(res, 403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
      return false;
    }
    if (this.apiKeys.has(key)) return true;
    sendJson(res, 400, {
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } }],
      },
    });
    return false;
  }

  private answer(call: ModelCall, res: ServerResponse): void {
    const behaviour = this.script.shift() ?? { type: 'text' };
    const stream = call.method === 'streamGenerateContent';
    switch (behaviour.type) {
      case 'error':
        return googleError(res, behaviour.status, behaviour.googleStatus, behaviour.message, behaviour.retryAfter);
      case 'raw':
        res.writeHead(behaviour.status ?? 200, { 'content-type': behaviour.contentType ?? (stream ? 'text/event-stream' : 'application/json') });
        res.end(behaviour.body);
        return;
      default: {
        const events = this.responses(call, behaviour);
        if (!stream) return sendJson(res, 200, merge(events));
        if (call.request.query.get('alt') !== 'sse') return sendJson(res, 200, events);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const event of events) res.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
        res.end();
      }
    }
  }

  /** The GenerateContentResponses of a stream (merged into one for a plain call). */
  private responses(call: ModelCall, behaviour: Exclude<GeminiBehaviour, { type: 'error' } | { type: 'raw' }>): Array<Record<string, unknown>> {
    const identity = { modelVersion: `${call.model}-001`, responseId: `resp-${randomBytes(6).toString('hex')}`, ...(call.api === 'vertex' ? { createTime: new Date().toISOString() } : {}) };
    const promptOnly = { promptTokenCount: DEFAULT_USAGE.promptTokenCount, totalTokenCount: DEFAULT_USAGE.promptTokenCount };
    switch (behaviour.type) {
      case 'prompt-blocked':
        return [{ promptFeedback: { blockReason: behaviour.blockReason ?? 'SAFETY', safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }] }, usageMetadata: promptOnly, ...identity }];
      case 'filtered':
        return [{ candidates: [{ index: 0, finishReason: behaviour.finishReason, safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH', blocked: true }] }], usageMetadata: promptOnly, ...identity }];
      case 'function-call': {
        const parts = behaviour.calls.map((call, index) => ({
          functionCall: { name: call.name, args: call.args },
          ...(index === 0 && behaviour.thoughtSignature !== undefined ? { thoughtSignature: behaviour.thoughtSignature } : {}),
        }));
        return [{ candidates: [{ index: 0, content: { role: 'model', parts }, finishReason: 'STOP' }], usageMetadata: { ...DEFAULT_USAGE, ...behaviour.usage }, ...identity }];
      }
      case 'text': {
        const text = behaviour.text ?? DEFAULT_TEXT;
        const pieces = behaviour.pieces ?? text.split(/(?<= )/);
        const usage = { ...DEFAULT_USAGE, ...behaviour.usage };
        const events: Array<Record<string, unknown>> = [];
        if (behaviour.thought !== undefined) {
          events.push({ candidates: [{ index: 0, content: { role: 'model', parts: [{ text: behaviour.thought, thought: true }] } }], usageMetadata: promptOnly, ...identity });
        }
        pieces.forEach((piece, index) => {
          const last = index === pieces.length - 1;
          events.push({
            candidates: [{ index: 0, content: { role: 'model', parts: [{ text: piece }] }, ...(last ? { finishReason: behaviour.finishReason ?? 'STOP' } : {}) }],
            usageMetadata: last ? usage : promptOnly,
            ...identity,
          });
        });
        return events;
      }
    }
  }

  private embedContents(call: ModelCall, res: ServerResponse): void {
    const body = call.request.json as Record<string, unknown>;
    const requests = call.method === 'embedContent' ? [body] : (body.requests as Array<Record<string, unknown>> | undefined);
    if (!Array.isArray(requests) || requests.length === 0) return googleError(res, 400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests: requests must not be empty.\n');
    const embeddings: Array<{ values: number[] }> = [];
    for (const request of requests) {
      const allowed = new Set(['model', 'content', 'taskType', 'task_type', 'title', 'outputDimensionality', 'output_dimensionality']);
      const unknown = Object.keys(request).find((name) => !allowed.has(name));
      if (unknown !== undefined) return googleError(res, 400, 'INVALID_ARGUMENT', `Invalid JSON payload received. Unknown name "${unknown}" at 'requests[0]': Cannot find field.`);
      if (call.method === 'batchEmbedContents' && request.model !== `models/${call.model}`) {
        return googleError(res, 400, 'INVALID_ARGUMENT', `* BatchEmbedContentsRequest.requests[0].model: Model names should match the model of the batch request: models/${call.model}\n`);
      }
      const text = ((request.content as { parts?: Array<{ text?: string }> } | undefined)?.parts ?? []).map((part) => part.text ?? '').join('');
      embeddings.push({ values: vector(text, dimensions(request.outputDimensionality)) });
    }
    sendJson(res, 200, call.method === 'embedContent' ? { embedding: embeddings[0] } : { embeddings });
  }

  private predict(call: ModelCall, res: ServerResponse): void {
    const body = call.request.json as { instances?: Array<{ content?: string }>; parameters?: { outputDimensionality?: unknown } };
    if (!Array.isArray(body.instances) || body.instances.length === 0) return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid instances.');
    const size = dimensions(body.parameters?.outputDimensionality);
    sendJson(res, 200, {
      predictions: body.instances.map((instance) => {
        const text = instance.content ?? '';
        return { embeddings: { values: vector(text, size), statistics: { token_count: Math.max(1, Math.ceil(text.length / 4)), truncated: false } } };
      }),
      metadata: { billableCharacterCount: body.instances.reduce((sum, instance) => sum + (instance.content ?? '').length, 0) },
    });
  }

  private token(req: RecordedRequest, res: ServerResponse): void {
    const form = new URLSearchParams(req.text);
    const refuse = (description: string): void => sendJson(res, 400, { error: 'invalid_grant', error_description: description });
    if (form.get('grant_type') === REFRESH_TOKEN) return this.refresh(form, res);
    if (form.get('grant_type') !== JWT_BEARER) return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' });
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return refuse('Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.');
    const [headerText, claimsText, signature] = parts;
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(headerText, 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(claimsText, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return refuse('Invalid JWT: malformed.');
    }
    const publicKey = typeof claims.iss === 'string' ? this.accounts.get(claims.iss) : undefined;
    if (header.alg !== 'RS256' || publicKey === undefined) return refuse('Invalid grant: account not found');
    if (!verify('RSA-SHA256', Buffer.from(`${headerText}.${claimsText}`), publicKey, Buffer.from(signature, 'base64url'))) return refuse('Invalid JWT Signature.');
    const now = Math.floor(Date.now() / 1000);
    if (claims.aud !== this.tokenUri) return refuse(`Invalid JWT: audience must be ${this.tokenUri}.`);
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp <= now || claims.iat > now + 60 || claims.exp - claims.iat > 3600) {
      return refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    }
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(CLOUD_PLATFORM)) return refuse('Invalid OAuth scope or ID token audience provided.');
    this.grantedAssertions.push({ header, claims });
    sendJson(res, 200, { access_token: this.issue(), expires_in: this.tokenLifetimeSeconds, token_type: 'Bearer' });
  }

  /** The refresh-token grant as Google answers it: a wrong client is 401 invalid_client, a wrong token 400 invalid_grant. */
  private refresh(form: URLSearchParams, res: ServerResponse): void {
    const user = this.users.find((candidate) => candidate.clientId === form.get('client_id'));
    if (user === undefined || user.clientSecret !== form.get('client_secret')) return sendJson(res, 401, { error: 'invalid_client', error_description: 'Unauthorized' });
    if (user.refreshToken !== form.get('refresh_token')) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Bad Request' });
    this.refreshedClients.push(user.clientId);
    sendJson(res, 200, { access_token: this.issue(), expires_in: this.tokenLifetimeSeconds, scope: `${CLOUD_PLATFORM} openid`, token_type: 'Bearer' });
  }

  private issue(): string {
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    this.issuedTokens.add(accessToken);
    return accessToken;
  }
}

/** Google's error envelope. */
export function googleError(res: ServerResponse, status: number, googleStatus: string, message: string, retryAfter?: string): void {
  sendJson(res, status, { error: { code: status, message, status: googleStatus } }, retryAfter === undefined ? {} : { 'retry-after': retryAfter });
}

/** One answer from a stream's events: text pieces joined, the last finish reason and usage. */
function merge(events: Array<Record<string, unknown>>): Record<string, unknown> {
  const last = events[events.length - 1];
  const candidates = events.flatMap((event) => (event.candidates ?? []) as Array<Record<string, unknown>>);
  if (candidates.length === 0) return last;
  const parts: Array<Record<string, unknown>> = [];
  for (const candidate of candidates) {
    for (const part of ((candidate.content as { parts?: Array<Record<string, unknown>> } | undefined)?.parts ?? [])) {
      const previous = parts[parts.length - 1];
      if (typeof part.text === 'string' && previous !== undefined && typeof previous.text === 'string' && previous.thought === part.thought) previous.text += part.text;
      else parts.push({ ...part });
    }
  }
  const final = candidates[candidates.length - 1];
  return { ...last, candidates: [{ ...final, ...(parts.length > 0 ? { content: { role: 'model', parts } } : {}) }] };
}

function dimensions(value: unknown): number {
  return typeof value === 'number' && value > 0 && value <= 3072 ? value : 8;
}

/** A deterministic vector for `text`, so a test can compute what it expects. */
export function vector(text: string, size: number): number[] {
  const digest = createHash('sha256').update(text).digest();
  return Array.from({ length: size }, (_unused, index) => (digest[index % digest.length] - 128) / 128);
}
