import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { converseProblem, streamFrames, type ConverseAnswer } from './bedrock-wire';
import { FakeHttpServer, sendJson, type RecordedRequest } from './fake-http-server';
import { verifySigV4, type AwsCredentials } from './sigv4-verifier';

type Json = Record<string, unknown>;

/** One call as the fake understood it (after its signature was verified). */
export interface BedrockCall {
  readonly request: RecordedRequest;
  /** The model id as sent in the path, percent-encoding and all. */
  readonly rawModelId: string;
  /** The model id decoded. */
  readonly modelId: string;
  readonly operation: 'converse' | 'converse-stream' | 'invoke';
  readonly json: Json;
  /** The access key id that signed it, or `bearer`. */
  readonly signedBy: string;
}

/** A scripted streamed answer: these bytes, each piece one write. */
export interface StreamScript {
  readonly pieces: readonly Buffer[];
  /** Keep the response open after the pieces (the client must give up). */
  readonly hang?: boolean;
}

export interface FakeBedrockOptions {
  readonly credentials: readonly AwsCredentials[];
  /** Bedrock API keys accepted as `Authorization: Bearer`. */
  readonly bearerTokens?: readonly string[];
  readonly region?: string;
}

const PATH = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/;

/**
 * The Bedrock runtime API on loopback: `POST /model/{id}/converse`, `/converse-stream` (AWS event-stream frames)
 * and `/invoke` for embedding models (Titan, Cohere bodies). Every call's SigV4 signature is verified with the
 * known secrets (sigv4-verifier.ts) and refused as AWS refuses it: 403 with `x-amzn-errortype`. Converse bodies
 * are checked as Bedrock checks them (400 ValidationException). By default it answers deterministically: with a
 * tool call when tools are offered and no tool result came back yet, else with text (`Echo: …`, or the tool's
 * result quoted). Errors are injected with `failNext`, streams scripted with `nextStream`.
 */
export class FakeBedrock {
  readonly calls: BedrockCall[] = [];
  /** `frames`: each event-stream message one write; `split`: the stream cut into 7-byte writes across messages. */
  streamChunking: 'frames' | 'split' = 'frames';
  /** Streamed answers the client hung up on before their end. */
  abandonedStreams = 0;
  /** The input of the tool calls the fake makes. */
  toolInput: Json = { city: 'Paris' };
  private readonly streams: StreamScript[] = [];
  private readonly region: string;

  private constructor(
    private readonly http: FakeHttpServer,
    private readonly options: FakeBedrockOptions,
  ) {
    this.region = options.region ?? 'us-east-1';
  }

  static async start(options: FakeBedrockOptions): Promise<FakeBedrock> {
    let fake: FakeBedrock | null = null;
    const http = await FakeHttpServer.start((req, res) => fake!.handle(req, res));
    fake = new FakeBedrock(http, options);
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  /** The next `times` calls (matching `operation`, if given) fail with this AWS error. */
  failNext(errorType: string, status: number, message: string, options: { times?: number; operation?: BedrockCall['operation']; delayMs?: number } = {}): void {
    this.http.addFailure({
      status,
      body: { message },
      headers: { 'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'x-amzn-requestid': randomUUID() },
      times: options.times ?? 1,
      delayMs: options.delayMs,
      match: options.operation === undefined ? undefined : (req) => req.path.endsWith(`/${options.operation}`),
    });
  }

  /** The next streamed answer is these bytes instead of the default one. */
  nextStream(script: StreamScript): void {
    this.streams.push(script);
  }

  reset(): void {
    this.calls.length = 0;
    this.streams.length = 0;
    this.http.clearRequests();
    this.http.setFailure(null);
    this.streamChunking = 'frames';
    this.abandonedStreams = 0;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private async handle(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const match = req.method === 'POST' ? PATH.exec(req.path) : null;
    if (match === null) return awsError(res, 404, 'UnknownOperationException', 'The requested operation is not recognized by the service.');
    const signedBy = this.authenticate(req, res);
    if (signedBy === null) return;
    const [, rawModelId, operation] = match;
    if (req.json === undefined || req.json === null || typeof req.json !== 'object') return awsError(res, 400, 'ValidationException', 'Malformed input request, please reformat your input and try again.');
    const call: BedrockCall = { request: req, rawModelId, modelId: decodeURIComponent(rawModelId), operation: operation as BedrockCall['operation'], json: req.json as Json, signedBy };
    this.calls.push(call);
    if (call.operation === 'invoke') return this.invoke(call, res);
    const problem = converseProblem(call.json);
    if (problem !== null) return awsError(res, 400, 'ValidationException', problem);
    if (call.operation === 'converse') return sendJson(res, 200, answerFor(call.json, this.toolInput), { 'x-amzn-requestid': randomUUID() });
    await this.stream(call, res);
  }

  /** The signer's identity, or null once the refusal went out. */
  private authenticate(req: RecordedRequest, res: ServerResponse): string | null {
    const authorization = req.headers.authorization ?? '';
    if (authorization.startsWith('Bearer ')) {
      if (this.options.bearerTokens?.includes(authorization.slice(7))) return 'bearer';
      awsError(res, 403, 'UnrecognizedClientException', 'Authentication failed: Please make sure your API Key is valid.');
      return null;
    }
    const verdict = verifySigV4({ method: req.method, url: req.url, headers: req.headers, body: req.body, region: this.region, service: 'bedrock', credentials: this.options.credentials });
    if (verdict.ok) return verdict.accessKeyId;
    awsError(res, verdict.status, verdict.errorType, verdict.message);
    return null;
  }

  private async stream(call: BedrockCall, res: ServerResponse): Promise<void> {
    const script = this.streams.shift() ?? { pieces: streamFrames(answerFor(call.json, this.toolInput)) };
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': randomUUID() });
    res.once('close', () => {
      if (!res.writableEnded) this.abandonedStreams++;
    });
    const pieces = this.streamChunking === 'split' ? cut(Buffer.concat(script.pieces), 7) : script.pieces;
    for (const piece of pieces) {
      if (res.destroyed) return;
      res.write(piece);
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!script.hang) res.end();
  }

  private invoke(call: BedrockCall, res: ServerResponse): void {
    const model = call.modelId.toLowerCase().replace(/^(?:us|eu|apac|global)\./, '');
    const body = call.json;
    const headers = (tokens: number) => ({ 'x-amzn-requestid': randomUUID(), 'x-amzn-bedrock-input-token-count': String(tokens), 'x-amzn-bedrock-invocation-latency': '12' });
    if (model.startsWith('amazon.titan-embed')) {
      const allowed = model.includes('-v2') ? ['inputText', 'dimensions', 'normalize', 'embeddingTypes'] : ['inputText'];
      const extra = Object.keys(body).find((key) => !allowed.includes(key));
      if (extra !== undefined || typeof body.inputText !== 'string') return awsError(res, 400, 'ValidationException', `Malformed input request: extraneous key [${extra ?? 'inputText'}] is not permitted`);
      const tokens = estimate(body.inputText);
      const embedding = vector(body.inputText, typeof body.dimensions === 'number' ? body.dimensions : model.includes('-v2') ? 1024 : 1536);
      return sendJson(res, 200, { embedding, inputTextTokenCount: tokens, embeddingsByType: { float: embedding } }, headers(tokens));
    }
    if (model.startsWith('cohere.embed')) {
      const texts = body.texts;
      if (!Array.isArray(texts) || texts.length === 0 || texts.length > 96 || typeof body.input_type !== 'string') {
        return awsError(res, 400, 'ValidationException', 'Malformed input request: texts (1 to 96 strings) and input_type are required');
      }
      const tokens = (texts as string[]).reduce((sum, text) => sum + estimate(text), 0);
      return sendJson(res, 200, { embeddings: (texts as string[]).map((text) => vector(text, 1024)), id: randomUUID(), response_type: 'embeddings_floats', texts }, headers(tokens));
    }
    awsError(res, 400, 'ValidationException', 'The provided model identifier is invalid.');
  }
}

/** What the fake answers to a Converse body (see the class comment). */
export function answerFor(request: Json, toolInput: Json = { city: 'Paris' }): ConverseAnswer {
  const messages = request.messages as Array<{ role: string; content: Json[] }>;
  const last = messages[messages.length - 1].content;
  const toolResult = last.find((block) => block.toolResult !== undefined)?.toolResult as Json | undefined;
  const tools = ((request.toolConfig as Json | undefined)?.tools ?? []) as Array<{ toolSpec: { name: string } }>;
  let content: Json[];
  let stopReason = 'end_turn';
  if (toolResult === undefined && tools.length > 0) {
    content = [{ text: 'Let me check.' }, { toolUse: { toolUseId: `tooluse_${randomUUID().slice(0, 8)}`, name: tools[0].toolSpec.name, input: toolInput } }];
    stopReason = 'tool_use';
  } else if (toolResult !== undefined) {
    content = [{ text: `The tool said: ${((toolResult.content as Json[])[0]?.text as string | undefined) ?? ''}` }];
  } else {
    const text = last.map((block) => (typeof block.text === 'string' ? block.text : '')).join(' ');
    content = [{ text: `Echo: ${text}` }];
  }
  const inputTokens = estimate(JSON.stringify(request.messages) + JSON.stringify(request.system ?? ''));
  const outputTokens = estimate(JSON.stringify(content));
  return {
    output: { message: { role: 'assistant', content } },
    stopReason,
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
    metrics: { latencyMs: 42 },
  };
}

export function awsError(res: ServerResponse, status: number, errorType: string, message: string): void {
  sendJson(res, status, { message }, { 'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'x-amzn-requestid': randomUUID() });
}

function estimate(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function vector(text: string, dims: number): number[] {
  let seed = 7;
  for (let i = 0; i < text.length; i++) seed = (seed * 31 + text.charCodeAt(i)) % 1000003;
  return Array.from({ length: dims }, (_, i) => Math.round(Math.sin(seed + i) * 1e4) / 1e4);
}

function cut(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}
