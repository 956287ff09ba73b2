import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DeploymentSource } from '../deployment-source';

/** Google's token endpoint, for service-account files that do not name their own `token_uri`. */
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/** The fields of a service-account key file the gateway uses. */
export interface ServiceAccount {
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly privateKeyId?: string;
  readonly tokenUri: string;
  readonly projectId?: string;
}

/**
 * The deployment's service account, as LiteLLM finds it: `vertex_credentials` (or `vertex_ai_credentials`, or
 * VERTEXAI_CREDENTIALS) holding the key file's JSON text, its fields as a mapping, or a path to the file, an
 * `os.environ/` reference to either; else the file GOOGLE_APPLICATION_CREDENTIALS names. Read once at boot. A
 * missing, unreadable or malformed key is a start-up problem naming where it came from, never quoting it.
 */
export function readServiceAccount(source: DeploymentSource): ServiceAccount | null {
  // The key file's fields written out as a YAML mapping (LiteLLM takes a dict too).
  const mapping = ['vertex_credentials', 'vertex_ai_credentials'].map((name) => source.has(name) && source.raw(name)).find(isMapping);
  if (mapping !== undefined) return parseServiceAccount(source, JSON.stringify(mapping), 'litellm_params.vertex_credentials');
  const configured = source.string('vertex_credentials') ?? source.string('vertex_ai_credentials', ['VERTEXAI_CREDENTIALS']);
  let where: string;
  let text: string | null;
  if (configured !== undefined) {
    where = 'litellm_params.vertex_credentials';
    text = configured.trimStart().startsWith('{') ? configured : readKeyFile(source, configured, where);
  } else {
    const path = source.env.GOOGLE_APPLICATION_CREDENTIALS;
    if (path === undefined || path.trim() === '') {
      source.problem(
        'the Vertex AI credentials are missing: set litellm_params.vertex_credentials (service-account JSON, or the path to its file) ' +
          'or the environment variable GOOGLE_APPLICATION_CREDENTIALS',
      );
      return null;
    }
    where = 'the file GOOGLE_APPLICATION_CREDENTIALS names';
    text = readKeyFile(source, path, where);
  }
  return text === null ? null : parseServiceAccount(source, text, where);
}

function readKeyFile(source: DeploymentSource, path: string, where: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // The value is not echoed: a mistyped secret would otherwise land in the start-up log.
    source.problem(`${where} is neither service-account JSON nor a readable file (${typeof code === 'string' ? code : 'unreadable'})`);
    return null;
  }
}

function parseServiceAccount(source: DeploymentSource, text: string, where: string): ServiceAccount | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    source.problem(`${where} is not valid JSON`);
    return null;
  }
  const key = (parsed ?? {}) as Record<string, unknown>;
  if (key.type !== 'service_account') {
    const type = typeof key.type === 'string' && /^[a-z_]{1,40}$/.test(key.type) ? `"${key.type}"` : 'not a service account';
    source.problem(`${where} is ${type}: Gatehouse signs in to Vertex AI with a service-account key (type "service_account")`);
    return null;
  }
  if (typeof key.client_email !== 'string' || key.client_email === '' || typeof key.private_key !== 'string' || !isPrivateKey(key.private_key)) {
    source.problem(`${where} needs client_email and a PEM private_key`);
    return null;
  }
  const tokenUri = typeof key.token_uri === 'string' && key.token_uri !== '' ? key.token_uri : GOOGLE_TOKEN_URI;
  if (!/^https?:\/\//i.test(tokenUri) || !URL.canParse(tokenUri)) {
    source.problem(`${where} has a token_uri that is not an http(s) URL`);
    return null;
  }
  return {
    clientEmail: key.client_email,
    privateKey: key.private_key,
    privateKeyId: typeof key.private_key_id === 'string' ? key.private_key_id : undefined,
    tokenUri,
    projectId: typeof key.project_id === 'string' && key.project_id !== '' ? key.project_id : undefined,
  };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isPrivateKey(pem: string): boolean {
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}
