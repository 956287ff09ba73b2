import { createHash } from 'node:crypto';
import { Pool } from 'undici';
import { resolveEnvReference } from '../config/env-reference';
import type { ModelDeployment } from '../config/gateway-config.types';

export type ProviderKind = 'openai' | 'mock' | 'unsupported';

/** LiteLLM spellings of "any server that speaks the OpenAI wire format". */
const OPENAI_COMPATIBLE_PREFIXES = new Set(['openai', 'custom_openai', 'openai_like', 'hosted_vllm']);

export const DEFAULT_API_BASE = 'https://api.openai.com/v1';
export const DEFAULT_TIMEOUT_SECONDS = 600;
export const DEFAULT_MAX_RETRIES = 0;
export const DEFAULT_MOCK_RESPONSE = 'This is a mock response from Gatehouse.';

/** One `model_list` entry, compiled once at boot so the request path only reads fields. */
export interface CompiledDeployment {
  readonly modelName: string;
  readonly provider: ProviderKind;
  /** The provider prefix as written (`openai`, `mock`, `azure`, ...), for the record and error messages. */
  readonly providerLabel: string;
  /** Model name sent upstream: `litellm_params.model` without its provider prefix. */
  readonly upstreamModel: string;
  readonly modelId: string;
  /** For the record: origin + path, no credentials, no query, no trailing slash. Null for local providers. */
  readonly apiBaseForLog: string | null;
  readonly pool: Pool | null;
  /** Path prefix on the pool's origin (e.g. `/v1`), and the query string of api_base kept for every call. */
  readonly chatPath: string;
  readonly embeddingsPath: string;
  /** Pre-built so no per-request header object is assembled. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly streamTimeoutMs: number;
  readonly maxRetries: number;
  readonly mockResponse: string | null;
  readonly inputCostPerToken: number;
  readonly outputCostPerToken: number;
}

export interface ModelGroup {
  readonly name: string;
  readonly deployments: readonly CompiledDeployment[];
  /** Index of the deployment that starts the next call; advancing it spreads load round robin. */
  cursor: number;
}

export interface DeploymentTableOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Upper bound on sockets per upstream origin. */
  readonly connectionsPerOrigin?: number;
  readonly onWarning?: (message: string) => void;
}

/**
 * Routing table for `model_list`: model name → deployments, plus one keep-alive undici Pool per upstream
 * origin shared by every deployment on it.
 */
export class DeploymentTable {
  private readonly groups = new Map<string, ModelGroup>();
  private readonly pools = new Map<string, Pool>();
  /** Model names in config order, for `/v1/models`. */
  readonly modelNames: readonly string[];

  constructor(modelList: readonly ModelDeployment[], private readonly options: DeploymentTableOptions) {
    const names: string[] = [];
    modelList.forEach((entry, index) => {
      const compiled = this.compile(entry, index);
      let group = this.groups.get(entry.model_name);
      if (!group) {
        group = { name: entry.model_name, deployments: [], cursor: 0 };
        this.groups.set(entry.model_name, group);
        names.push(entry.model_name);
      }
      (group.deployments as CompiledDeployment[]).push(compiled);
    });
    this.modelNames = names;
  }

  group(modelName: string): ModelGroup | undefined {
    return this.groups.get(modelName);
  }

  /** Returns the index of the first deployment to try for this call and moves the cursor on. */
  static nextStart(group: ModelGroup): number {
    const start = group.cursor;
    group.cursor = start + 1 === group.deployments.length ? 0 : start + 1;
    return start;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.close().catch(() => undefined)));
  }

  private compile(entry: ModelDeployment, index: number): CompiledDeployment {
    const params = entry.litellm_params;
    const slash = params.model.indexOf('/');
    const prefix = slash === -1 ? 'openai' : params.model.slice(0, slash);
    const upstreamModel = slash === -1 ? params.model : params.model.slice(slash + 1);
    const mockResponse = typeof params.mock_response === 'string' ? params.mock_response : null;

    let provider: ProviderKind;
    if (prefix === 'mock' || mockResponse !== null) {
      provider = 'mock';
    } else if (OPENAI_COMPATIBLE_PREFIXES.has(prefix)) {
      provider = 'openai';
    } else {
      provider = 'unsupported';
      this.options.onWarning?.(
        `model_list[${index}] (${entry.model_name}): provider '${prefix}' is not supported; calls to it will fail`,
      );
    }

    const timeoutSeconds = positiveNumber(params.timeout) ?? DEFAULT_TIMEOUT_SECONDS;
    const streamTimeoutSeconds = positiveNumber(params.stream_timeout) ?? timeoutSeconds;
    const maxRetries =
      typeof params.max_retries === 'number' && Number.isInteger(params.max_retries) && params.max_retries >= 0
        ? params.max_retries
        : DEFAULT_MAX_RETRIES;
    const info: Readonly<Record<string, unknown>> = entry.model_info ?? {};

    const base = {
      modelName: entry.model_name,
      provider,
      providerLabel: provider === 'mock' ? 'mock' : prefix,
      upstreamModel,
      modelId: typeof info.id === 'string' && info.id !== '' ? info.id : generatedModelId(entry, index),
      timeoutMs: timeoutSeconds * 1000,
      streamTimeoutMs: streamTimeoutSeconds * 1000,
      maxRetries,
      mockResponse: provider === 'mock' ? (mockResponse ?? DEFAULT_MOCK_RESPONSE) : null,
      inputCostPerToken: nonNegativeNumber(info.input_cost_per_token),
      outputCostPerToken: nonNegativeNumber(info.output_cost_per_token),
    };
    if (provider !== 'openai') {
      return { ...base, apiBaseForLog: null, pool: null, chatPath: '', embeddingsPath: '', headers: {} };
    }

    const apiBase = params.api_base ?? DEFAULT_API_BASE;
    let url: URL;
    try {
      url = new URL(apiBase);
    } catch {
      throw new Error(`model_list[${index}] (${entry.model_name}): api_base is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`model_list[${index}] (${entry.model_name}): api_base must be http(s)`);
    }
    const basePath = url.pathname.replace(/\/+$/, '');
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const apiKey = params.api_key === undefined ? undefined : resolveEnvReference(params.api_key, this.options.env);
    if (params.api_key !== undefined && apiKey === undefined) {
      this.options.onWarning?.(
        `model_list[${index}] (${entry.model_name}): api_key references an unset environment variable; calls go without a key`,
      );
    }
    if (apiKey) {
      headers.authorization = `Bearer ${apiKey}`;
    }
    return {
      ...base,
      apiBaseForLog: url.origin + basePath,
      pool: this.poolFor(url.origin),
      chatPath: `${basePath}/chat/completions${url.search}`,
      embeddingsPath: `${basePath}/embeddings${url.search}`,
      headers,
    };
  }

  private poolFor(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.options.connectionsPerOrigin ?? 512,
        pipelining: 1,
        keepAliveTimeout: 30_000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

function positiveNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

function nonNegativeNumber(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** Stable across restarts for an unchanged config, so logs of one deployment group together; never hashes the key. */
function generatedModelId(entry: ModelDeployment, index: number): string {
  return createHash('sha256')
    .update(`${index}\0${entry.model_name}\0${entry.litellm_params.model}\0${entry.litellm_params.api_base ?? ''}`)
    .digest('hex')
    .slice(0, 16);
}
