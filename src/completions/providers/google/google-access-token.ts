import type { OAuth2Client } from 'google-auth-library';
import { CachedToken, RENEW_BEFORE_MS } from '../cached-token';

export { RENEW_BEFORE_MS };

/** What the tokens are asked for: Vertex AI takes nothing narrower. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** How long one fetch may take: the metadata server's client has no deadline of its own on Google Cloud. */
export const TOKEN_TIMEOUT_MS = 30_000;
/** Assumed when the answer names no expiry (Google's tokens live an hour). */
const DEFAULT_LIFETIME_MS = 3_600_000;

/**
 * An OAuth2 access token from one of google-auth-library's clients (a service account's JWT, a gcloud user's
 * refresh token, the GCE metadata server), cached until shortly before it expires; concurrent calls share one
 * fetch, and the fetch happens on the first call, never at boot. One instance per credential, shared by every
 * deployment that uses it (`shared`).
 */
export class GoogleAccessToken extends CachedToken {
  private static readonly registry = new Map<string, GoogleAccessToken>();

  /** The instance registered under `key` (a digest of the credential, never the credential), made on first use. */
  static shared(key: string, create: () => GoogleAccessToken): GoogleAccessToken {
    let token = GoogleAccessToken.registry.get(key);
    if (token === undefined) {
      token = create();
      GoogleAccessToken.registry.set(key, token);
    }
    return token;
  }

  /**
   * @param client asks for a token; its own cache is bypassed by ours, which renews at the same margin.
   * @param issuer who issues the token, as the caller's error message names it ("the service account's token endpoint").
   * @param hint appended to a failure to reach the issuer (what to configure instead), or ''.
   */
  constructor(
    private readonly client: OAuth2Client,
    private readonly issuer: string,
    private readonly hint = '',
  ) {
    super();
    client.eagerRefreshThresholdMillis = RENEW_BEFORE_MS;
  }

  protected async fetch(): Promise<{ value: string; expiresAt: number }> {
    let token: string | null | undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), TOKEN_TIMEOUT_MS);
    });
    try {
      ({ token } = await Promise.race([this.client.getAccessToken(), deadline]));
    } catch (error) {
      const failure = describe(error);
      const unreachable = failure.kind === 'connection' ? this.hint : '';
      throw new Error(`${this.issuer} ${failure.kind === 'connection' ? 'could not be reached' : 'refused the token request'} (${failure.text})${unreachable}`);
    } finally {
      clearTimeout(timer);
    }
    if (typeof token !== 'string' || token === '') throw new Error(`${this.issuer} answered without an access token`);
    const expiry = this.client.credentials.expiry_date;
    return { value: token, expiresAt: typeof expiry === 'number' ? expiry : Date.now() + DEFAULT_LIFETIME_MS };
  }
}

/**
 * The OAuth error code and description, or the HTTP status, or the connection error's code: never the answer's
 * body otherwise (the metadata server's text, a token endpoint's HTML).
 */
function describe(error: unknown): { kind: 'answer' | 'connection'; text: string } {
  const failure = error as { code?: unknown; response?: { status?: unknown; data?: unknown } };
  const data = failure.response?.data as Record<string, unknown> | undefined;
  if (data !== undefined && data !== null && typeof data === 'object' && typeof data.error === 'string') {
    const description = typeof data.error_description === 'string' ? `: ${data.error_description.slice(0, 200)}` : '';
    return { kind: 'answer', text: `${data.error.slice(0, 64)}${description}` };
  }
  if (typeof failure.response?.status === 'number') return { kind: 'answer', text: `HTTP ${failure.response.status}` };
  return { kind: 'connection', text: typeof failure.code === 'string' && /^[A-Z_]{1,40}$/.test(failure.code) ? failure.code : 'no answer' };
}
