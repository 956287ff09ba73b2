import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DeploymentSource } from '../deployment-source';
import { authorizedUserToken, defaultCredentialSource, metadataServerToken, type AuthorizedUser } from './application-default-credentials';
import type { GoogleAccessToken } from './google-access-token';
import { serviceAccountToken } from './service-account-token';

/** Google's token endpoint, for credential files that do not name their own `token_uri`. */
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/** The fields of a service-account key file the gateway uses. */
export interface ServiceAccount {
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly privateKeyId?: string;
  readonly tokenUri: string;
  readonly projectId?: string;
}

/** How a deployment signs in to Vertex AI, read at boot; no token is fetched until the first call. */
export interface VertexCredentials {
  readonly tokens: GoogleAccessToken;
  /** The project the credential names, when it says so without a network call (a key's project_id, a quota_project_id). */
  readonly projectId?: string;
  /** Ends the missing-project problem: where else a project could have come from. */
  readonly projectHint: string;
}

/**
 * The deployment's credential, as LiteLLM finds it: `vertex_credentials` (or `vertex_ai_credentials`, or
 * VERTEXAI_CREDENTIALS) holding a credential file's JSON text, its fields as a mapping, or a path to the file, an
 * `os.environ/` reference to either; else the file GOOGLE_APPLICATION_CREDENTIALS names; else Application Default
 * Credentials (gcloud's ADC file, else the metadata server: `defaultCredentialSource`). A file holds a service
 * account's key or a gcloud user's refresh token. A missing, unreadable or malformed file is a start-up problem
 * naming where it came from, never quoting it.
 */
export function readVertexCredentials(source: DeploymentSource): VertexCredentials | null {
  // The key file's fields written out as a YAML mapping (LiteLLM takes a dict too).
  const mapping = ['vertex_credentials', 'vertex_ai_credentials'].map((name) => source.has(name) && source.raw(name)).find(isMapping);
  if (mapping !== undefined) return parseCredentials(source, JSON.stringify(mapping), 'litellm_params.vertex_credentials');
  const configured = source.string('vertex_credentials') ?? source.string('vertex_ai_credentials', ['VERTEXAI_CREDENTIALS']);
  if (configured !== undefined) {
    const where = 'litellm_params.vertex_credentials';
    return parseCredentials(source, configured.trimStart().startsWith('{') ? configured : readKeyFile(source, configured, where), where);
  }
  const path = source.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (path !== undefined && path.trim() !== '') {
    const where = 'the file GOOGLE_APPLICATION_CREDENTIALS names';
    return parseCredentials(source, readKeyFile(source, path, where), where);
  }
  const fallback = defaultCredentialSource(source.env);
  if (fallback.kind === 'gcloud-file') {
    const where = `the gcloud ADC file ${fallback.path}`;
    return parseCredentials(source, readKeyFile(source, fallback.path, where), where);
  }
  return { tokens: metadataServerToken(), projectHint: " (the metadata server's project is not asked for at start-up)" };
}

function readKeyFile(source: DeploymentSource, path: string, where: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // The value is not echoed: a mistyped secret would otherwise land in the start-up log.
    source.problem(`${where} is neither credential JSON nor a readable file (${typeof code === 'string' ? code : 'unreadable'})`);
    return null;
  }
}

/** A credential file's text (null: it could not be read, a problem already recorded). */
function parseCredentials(source: DeploymentSource, text: string | null, where: string): VertexCredentials | null {
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    source.problem(`${where} is not valid JSON`);
    return null;
  }
  const fields = (parsed ?? {}) as Record<string, unknown>;
  if (fields.type === 'service_account') {
    const account = serviceAccountFrom(source, fields, where);
    return account === null ? null : { tokens: serviceAccountToken(account), projectId: account.projectId, projectHint: ' (or use a service-account key that names its project_id)' };
  }
  if (fields.type === 'authorized_user') {
    const user = authorizedUserFrom(source, fields, where);
    const quotaProject = nonEmpty(fields.quota_project_id);
    return user === null ? null : { tokens: authorizedUserToken(user), projectId: quotaProject, projectHint: ` (or a quota_project_id in ${where}: gcloud auth application-default set-quota-project)` };
  }
  const type = typeof fields.type === 'string' && /^[a-z_]{1,40}$/.test(fields.type) ? `"${fields.type}"` : 'not a credential file';
  source.problem(`${where} is ${type}: Gatehouse signs in to Vertex AI with a service-account key (type "service_account") or a gcloud user credential ("authorized_user")`);
  return null;
}

function serviceAccountFrom(source: DeploymentSource, key: Record<string, unknown>, where: string): ServiceAccount | null {
  if (typeof key.client_email !== 'string' || key.client_email === '' || typeof key.private_key !== 'string' || !isPrivateKey(key.private_key)) {
    source.problem(`${where} needs client_email and a PEM private_key`);
    return null;
  }
  const tokenUri = readTokenUri(source, key, where);
  if (tokenUri === null) return null;
  return {
    clientEmail: key.client_email,
    privateKey: key.private_key,
    privateKeyId: typeof key.private_key_id === 'string' ? key.private_key_id : undefined,
    tokenUri,
    projectId: nonEmpty(key.project_id),
  };
}

function authorizedUserFrom(source: DeploymentSource, fields: Record<string, unknown>, where: string): AuthorizedUser | null {
  const clientId = nonEmpty(fields.client_id);
  const clientSecret = nonEmpty(fields.client_secret);
  const refreshToken = nonEmpty(fields.refresh_token);
  if (clientId === undefined || clientSecret === undefined || refreshToken === undefined) {
    source.problem(`${where} needs client_id, client_secret and refresh_token`);
    return null;
  }
  const tokenUri = readTokenUri(source, fields, where);
  return tokenUri === null ? null : { clientId, clientSecret, refreshToken, tokenUri };
}

/** The file's own token endpoint, as Google's Python client reads it; Google's when the file names none. */
function readTokenUri(source: DeploymentSource, fields: Record<string, unknown>, where: string): string | null {
  const tokenUri = nonEmpty(fields.token_uri) ?? GOOGLE_TOKEN_URI;
  if (!/^https?:\/\//i.test(tokenUri) || !URL.canParse(tokenUri)) {
    source.problem(`${where} has a token_uri that is not an http(s) URL`);
    return null;
  }
  return tokenUri;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
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
