import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Compute, UserRefreshClient } from 'google-auth-library';
import { CLOUD_PLATFORM_SCOPE, GoogleAccessToken } from './google-access-token';

/** The name gcloud gives the file `gcloud auth application-default login` writes. */
const ADC_FILE_NAME = 'application_default_credentials.json';

/** Where Application Default Credentials come from when a deployment names no key (decided at boot, without I/O). */
export type DefaultCredentialSource =
  /** The file `gcloud auth application-default login` wrote (a user's refresh token, usually). */
  | { readonly kind: 'gcloud-file'; readonly path: string }
  /** The GCE metadata server of Cloud Run, GKE, GCE (google-auth-library's address: GCE_METADATA_IP, GCE_METADATA_HOST or 169.254.169.254). */
  | { readonly kind: 'metadata-server' };

/**
 * Google's Application Default Credentials, after the key variables (checked by the caller), as one explicit
 * rule: gcloud's ADC file if it exists, else the metadata server. google-auth-library would instead probe the
 * metadata server over the network to decide; start-up must not wait on that, and outside Google Cloud the
 * first call says what is missing instead (see `metadataServerToken`).
 */
export function defaultCredentialSource(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, exists: (path: string) => boolean = existsSync): DefaultCredentialSource {
  const path = gcloudAdcFile(env, platform);
  return path !== null && exists(path) ? { kind: 'gcloud-file', path } : { kind: 'metadata-server' };
}

/**
 * gcloud's configuration folder as gcloud and Google's Python client find it: CLOUDSDK_CONFIG, else
 * `%APPDATA%\gcloud` on Windows, else `~/.config/gcloud`.
 */
export function gcloudAdcFile(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | null {
  const configured = env.CLOUDSDK_CONFIG;
  if (configured !== undefined && configured.trim() !== '') return join(configured, ADC_FILE_NAME);
  const root = platform === 'win32' ? env.APPDATA : env.HOME !== undefined && env.HOME !== '' ? join(env.HOME, '.config') : undefined;
  return root === undefined || root === '' ? null : join(root, 'gcloud', ADC_FILE_NAME);
}

/**
 * The metadata server's token for the instance's default service account (`Compute`, which sends
 * `Metadata-Flavor: Google` to google-auth-library's metadata address). One per process: every deployment on the
 * metadata server's credentials shares it.
 */
export function metadataServerToken(): GoogleAccessToken {
  return GoogleAccessToken.shared('metadata-server', () => {
    const client = new Compute({ scopes: [CLOUD_PLATFORM_SCOPE] });
    return new GoogleAccessToken(
      client,
      'the GCE metadata server',
      ': outside Google Cloud, set litellm_params.vertex_credentials or GOOGLE_APPLICATION_CREDENTIALS, or run `gcloud auth application-default login`',
    );
  });
}

/** The fields of a gcloud user credential (`type: authorized_user`) the gateway uses. */
export interface AuthorizedUser {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /** The file's own `token_uri` (Google's Python client honours it), else Google's. */
  readonly tokenUri: string;
}

/** A user's token from the refresh-token grant, asked of the credential's own token endpoint. */
export function authorizedUserToken(user: AuthorizedUser): GoogleAccessToken {
  const key = createHash('sha256').update(`authorized_user\0${user.clientId}\0${user.tokenUri}\0${user.refreshToken}`).digest('hex');
  return GoogleAccessToken.shared(key, () => {
    const client = new UserRefreshClient({
      clientId: user.clientId,
      clientSecret: user.clientSecret,
      refreshToken: user.refreshToken,
      endpoints: { oauth2TokenUrl: user.tokenUri },
    });
    return new GoogleAccessToken(client, "the user credential's token endpoint");
  });
}
