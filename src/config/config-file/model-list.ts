import { createHash } from 'node:crypto';
import { isEnvReference } from '../env-reference';
import type { LitellmParams, ModelDeployment } from '../gateway-config.types';
import { providerOfBareModel } from '../../completions/providers/bare-model';
import { SUPPORTED_PREFIXES } from '../../completions/providers/registry';
import { withCredential } from './credential-list';
import { DEPLOYMENT_KEYS, LITELLM_PARAMS_CHECKED, MODEL_INFO_CHECKED } from './known-keys';
import { checkEnvReference, closestKey, describeKind, isMapping, Issues, joinPath, Mapping, readMapping, readNumber, readString, reportUnknownKey } from './problems';

/** config.yaml's `model_list`: deployments, their `litellm_params` and `model_info`. */

export function readModelList(issues: Issues, value: unknown, credentials: ReadonlyMap<string, Mapping> = new Map()): ModelDeployment[] {
  const path = 'model_list';
  if (value === null || value === undefined) {
    return [];
  }
  if (!Array.isArray(value)) {
    issues.error(path, `must be a list of deployments (each starting with \`- model_name: ...\`), got ${describeKind(value)}`);
    return [];
  }
  const deployments: ModelDeployment[] = [];
  const idOwners = new Map<string, number>();
  value.forEach((entry, index) => {
    const entryPath = `${path}[${index}]`;
    const deployment = readDeployment(issues, entryPath, entry, index, credentials);
    if (deployment === undefined) {
      return;
    }
    const id = String(deployment.model_info.id);
    const owner = idOwners.get(id);
    if (owner !== undefined) {
      issues.error(joinPath(entryPath, 'model_info.id'), `duplicate id \`${id}\` (already used by ${path}[${owner}])`);
      return;
    }
    idOwners.set(id, index);
    deployments.push(deployment);
  });
  return deployments;
}

export function readDeployment(
  issues: Issues,
  path: string,
  entry: unknown,
  index: number,
  credentials: ReadonlyMap<string, Mapping> = new Map(),
): ModelDeployment | undefined {
  if (!isMapping(entry)) {
    issues.error(path, `must be a mapping with model_name and litellm_params, got ${describeKind(entry)}`);
    return undefined;
  }
  const errorsBefore = issues.errors.length;
  for (const key of Object.keys(entry)) {
    if (!(DEPLOYMENT_KEYS as readonly string[]).includes(key)) {
      reportUnknownKey(issues, joinPath(path, key), key, DEPLOYMENT_KEYS, 'a model_list entry');
    }
  }
  const modelName = readString(issues, joinPath(path, 'model_name'), entry.model_name);
  let params: LitellmParams | undefined;
  if (entry.litellm_params === undefined || entry.litellm_params === null) {
    issues.error(joinPath(path, 'litellm_params'), 'missing: every deployment needs litellm_params with at least `model`');
  } else {
    const paramsPath = joinPath(path, 'litellm_params');
    const written = entry.litellm_params;
    params = readLitellmParams(issues, paramsPath, isMapping(written) ? withCredential(issues, paramsPath, written, credentials) : written);
  }
  const modelInfo = readModelInfo(issues, joinPath(path, 'model_info'), entry.model_info, modelName ?? '', index);
  if (modelName === undefined || params === undefined || modelInfo === undefined || issues.errors.length > errorsBefore) {
    return undefined;
  }
  return { model_name: modelName, litellm_params: params, model_info: modelInfo };
}

export const STRING_PARAMS_READ_LATER = new Set(['model', 'api_key', 'api_base', 'custom_llm_provider']);
export const TYPED_PARAMS = new Set(['api_base', 'api_key', 'timeout', 'stream_timeout', 'max_retries', 'mock_response']);

export function readLitellmParams(issues: Issues, path: string, value: unknown): LitellmParams | undefined {
  const params = readMapping(issues, path, value, 'a mapping');
  if (params === undefined) {
    return undefined;
  }
  const errorsBefore = issues.errors.length;
  for (const [key, raw] of Object.entries(params)) {
    const keyPath = joinPath(path, key);
    if (key !== 'model' && !(LITELLM_PARAMS_CHECKED).includes(key)) {
      const suggestion = closestKey(key, LITELLM_PARAMS_CHECKED);
      if (suggestion !== undefined) {
        issues.error(keyPath, `unknown key; did you mean \`${suggestion}\`?`);
        continue;
      }
    }
    // LiteLLM resolves os.environ/ in every litellm_params string, so every one of them must name a variable
    // (the keys read with readString below are checked there).
    if (typeof raw === 'string' && !STRING_PARAMS_READ_LATER.has(key)) {
      checkEnvReference(issues, keyPath, raw);
    }
  }
  const model = readModel(issues, path, params);
  const numbers: Array<[string, number]> = [];
  for (const key of ['timeout', 'stream_timeout', 'input_cost_per_token', 'output_cost_per_token'] as const) {
    // An os.environ/ reference is resolved (and its value checked) when the deployment is compiled, as LiteLLM does.
    if (params[key] !== undefined && params[key] !== null && !isEnvReference(params[key])) {
      const parsed = readNumber(issues, joinPath(path, key), params[key], {});
      if (parsed !== undefined) {
        numbers.push([key, parsed]);
      }
    }
  }
  if (params.max_retries !== undefined && params.max_retries !== null && !isEnvReference(params.max_retries)) {
    const parsed = readNumber(issues, joinPath(path, 'max_retries'), params.max_retries, { integer: true });
    if (parsed !== undefined) {
      numbers.push(['max_retries', parsed]);
    }
  }
  // `api_key: ""` is how LiteLLM configs say "no key" for a server of one's own: absent, as LiteLLM reads it.
  if (params.api_key !== undefined && params.api_key !== null && params.api_key !== '') {
    readString(issues, joinPath(path, 'api_key'), params.api_key, ' (quote it if it looks like a number)');
  }
  if (params.mock_response !== undefined && params.mock_response !== null && typeof params.mock_response !== 'string') {
    issues.error(joinPath(path, 'mock_response'), `must be a string, got ${describeKind(params.mock_response)}`);
  }
  if (params.api_base !== undefined && params.api_base !== null) {
    readApiBase(issues, joinPath(path, 'api_base'), params.api_base);
  }
  if (model === undefined || issues.errors.length > errorsBefore) {
    return undefined;
  }
  // `api_key:` left empty is YAML null; the typed fields promise a value or absence, never null.
  const kept = Object.entries(params).filter(([key, raw]) => !(raw === null && TYPED_PARAMS.has(key)) && !(key === 'api_key' && raw === ''));
  return { ...Object.fromEntries(kept), ...Object.fromEntries(numbers), model };
}

/**
 * `provider/upstream-model`; a bare name gets the provider LiteLLM infers from it (`claude-…` → `anthropic/`,
 * most → `openai/`). `custom_llm_provider`, when
 * set, names the provider and the model is taken whole (minus a repeated provider prefix), again as in LiteLLM.
 */
export function readModel(issues: Issues, path: string, params: Mapping): string | undefined {
  const modelPath = joinPath(path, 'model');
  if (params.model === undefined || params.model === null) {
    issues.error(modelPath, 'missing: the upstream model, e.g. `openai/gpt-4o` or `mock/anything`');
    return undefined;
  }
  const model = readString(issues, modelPath, params.model);
  if (model === undefined) {
    return undefined;
  }
  if (isEnvReference(model)) {
    issues.error(modelPath, 'must name the model itself, not an os.environ/ reference');
    return undefined;
  }
  let provider: string;
  let upstream: string;
  if (params.custom_llm_provider !== undefined && params.custom_llm_provider !== null) {
    const providerPath = joinPath(path, 'custom_llm_provider');
    const custom = readString(issues, providerPath, params.custom_llm_provider);
    if (custom === undefined) {
      return undefined;
    }
    if (!isSupportedProvider(custom)) {
      issues.error(providerPath, unsupportedProviderMessage(custom));
      return undefined;
    }
    provider = custom;
    upstream = model.startsWith(`${custom}/`) ? model.slice(custom.length + 1) : model;
  } else {
    const slash = model.indexOf('/');
    provider = slash === -1 ? providerOfBareModel(model) : model.slice(0, slash);
    upstream = slash === -1 ? model : model.slice(slash + 1);
    if (!isSupportedProvider(provider)) {
      issues.error(modelPath, unsupportedProviderMessage(provider));
      return undefined;
    }
  }
  if (upstream.trim() === '') {
    issues.error(modelPath, `names no model after \`${provider}/\``);
    return undefined;
  }
  return `${provider}/${upstream}`;
}

export function isSupportedProvider(provider: string): boolean {
  return SUPPORTED_PREFIXES.includes(provider);
}

export function unsupportedProviderMessage(provider: string): string {
  return `provider \`${provider}\` is not supported by Gatehouse (supported: ${SUPPORTED_PREFIXES.join(', ')})`;
}

/** The URL is never echoed: people paste credentials into query strings. */
export function readApiBase(issues: Issues, path: string, value: unknown): void {
  const text = readString(issues, path, value);
  if (text === undefined || isEnvReference(text)) {
    return;
  }
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    issues.error(path, 'must be an http(s) URL such as https://api.openai.com/v1, or an os.environ/NAME reference');
  }
}

export function readModelInfo(
  issues: Issues,
  path: string,
  value: unknown,
  modelName: string,
  index: number,
): Record<string, unknown> | undefined {
  const info = readMapping(issues, path, value, 'a mapping');
  if (info === undefined) {
    return undefined;
  }
  const errorsBefore = issues.errors.length;
  const numbers: Array<[string, number]> = [];
  for (const key of Object.keys(info)) {
    if (!(MODEL_INFO_CHECKED as readonly string[]).includes(key)) {
      const suggestion = closestKey(key, MODEL_INFO_CHECKED);
      if (suggestion !== undefined) {
        issues.error(joinPath(path, key), `unknown key; did you mean \`${suggestion}\`?`);
      }
    }
  }
  for (const key of MODEL_INFO_CHECKED) {
    if (info[key] !== undefined && info[key] !== null) {
      const parsed = readNumber(issues, joinPath(path, key), info[key], {});
      if (parsed !== undefined) {
        numbers.push([key, parsed]);
      }
    }
  }
  const accessGroups = info.access_groups;
  if (accessGroups !== undefined && accessGroups !== null && !(Array.isArray(accessGroups) && accessGroups.every((group) => typeof group === 'string' && group.trim() !== ''))) {
    issues.error(joinPath(path, 'access_groups'), `must be a list of access group names (non-empty strings), got ${describeKind(accessGroups)}`);
  }
  let id: string;
  if (info.id === undefined || info.id === null) {
    id = deploymentId(modelName, index);
  } else {
    const given = typeof info.id === 'number' ? String(info.id) : info.id;
    if (typeof given !== 'string' || given.trim() === '') {
      issues.error(joinPath(path, 'id'), `must be a non-empty string, got ${describeKind(info.id)}`);
      return undefined;
    }
    id = given;
  }
  if (issues.errors.length > errorsBefore) {
    return undefined;
  }
  return { ...info, ...Object.fromEntries(numbers), id };
}

/** Stable across restarts as long as the entry keeps its name and position, so logged ids stay comparable. */
export function deploymentId(modelName: string, index: number): string {
  return createHash('sha256').update(`${modelName}\u0000${index}`).digest('hex');
}
