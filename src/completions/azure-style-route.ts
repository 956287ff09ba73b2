import { AppException } from '../errors';
import type { RequestBody } from './request-body';

/** What an Azure-style route (`/openai/deployments/{deployment}/...`) carries besides the body. */
export interface AzureStyleTarget {
  /** The path's deployment segment(s): the model group, as LiteLLM routes it. */
  readonly deployment: string;
  /** The `api-version` query value, if any. */
  readonly apiVersion: unknown;
}

// Azure's dated versions (`2024-10-21`, `2025-04-01-preview`) and its v1 API's `preview` / `latest`.
const API_VERSION = /^(?:\d{4}-\d{2}-\d{2}(?:-preview)?|preview|latest|v1)$/;

/** The deployment of an Azure-style path; an Express wildcard parameter arrives as its segments. */
export function azureStyleTarget(deployment: unknown, apiVersion: unknown): AzureStyleTarget {
  const name = Array.isArray(deployment) ? deployment.join('/') : typeof deployment === 'string' ? deployment : '';
  return { deployment: name, apiVersion };
}

/**
 * The path names the model (it wins over a `model` in the body, as in LiteLLM, since AzureOpenAI clients put their
 * deployment there). `api-version` is accepted and not used: the gateway speaks to its upstreams with the versions
 * its config gives. A value that is not a version is refused, so a client bug shows at once.
 */
export function applyAzureStyleTarget(body: RequestBody, target: AzureStyleTarget): void {
  const version = target.apiVersion;
  if (version !== undefined && (typeof version !== 'string' || !API_VERSION.test(version))) {
    throw new AppException('validation_failed', '`api-version` must be an Azure OpenAI API version such as 2024-10-21, 2025-04-01-preview or preview', {
      param: 'api-version',
    });
  }
  body.model = target.deployment;
}
