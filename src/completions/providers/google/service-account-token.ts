import { createHash } from 'node:crypto';
import { DefaultTransporter, JWT } from 'google-auth-library';
import type { ServiceAccount } from './vertex-credentials';

const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** A token is renewed this long before it expires, so no call leaves with one that lapses on the way. */
const RENEW_BEFORE_MS = 5 * 60_000;
const TOKEN_TIMEOUT_MS = 30_000;

type TokenRequest = Parameters<DefaultTransporter['request']>[0];

/**
 * An OAuth2 access token for a service account (the JWT-bearer grant, RS256-signed by `google-auth-library`),
 * cached until shortly before it expires; concurrent calls share one fetch. The token is asked of the service
 * account's own `token_uri`, as Google's Python client does (private and sovereign token endpoints need it, and
 * LiteLLM, built on that client, honours it): the Node library always posts to Google's, so its transporter is
 * pointed at `token_uri` — the only request this client ever makes — and the assertion names it as audience.
 */
export class ServiceAccountToken {
  /** One token per service account, whichever deployments (models, regions) use it. */
  private static readonly shared = new Map<string, ServiceAccountToken>();

  static for(account: ServiceAccount): ServiceAccountToken {
    const key = createHash('sha256').update(`${account.clientEmail}\0${account.tokenUri}\0${account.privateKey}`).digest('hex');
    let source = ServiceAccountToken.shared.get(key);
    if (source === undefined) {
      source = new ServiceAccountToken(account);
      ServiceAccountToken.shared.set(key, source);
    }
    return source;
  }

  private readonly client: JWT;
  private cached: { value: string; renewAt: number } | null = null;
  private pending: Promise<string> | null = null;

  private constructor(account: ServiceAccount) {
    const transporter = new DefaultTransporter();
    this.client = new JWT({
      email: account.clientEmail,
      key: account.privateKey,
      keyId: account.privateKeyId,
      scopes: [CLOUD_PLATFORM_SCOPE],
      additionalClaims: { aud: account.tokenUri },
      transporter: {
        request: <T>(options: TokenRequest) => transporter.request<T>({ ...options, url: account.tokenUri, timeout: TOKEN_TIMEOUT_MS }),
      },
    });
  }

  /** The token, at once when a fresh one is cached. Rejects with a message fit for the caller (no credential in it). */
  get(): string | Promise<string> {
    if (this.cached !== null && Date.now() < this.cached.renewAt) return this.cached.value;
    this.pending ??= this.fetch().finally(() => (this.pending = null));
    return this.pending;
  }

  private async fetch(): Promise<string> {
    let token: string | null | undefined;
    try {
      ({ token } = await this.client.getAccessToken());
    } catch (error) {
      throw new Error(`the service account's token endpoint refused it (${describe(error)})`);
    }
    if (typeof token !== 'string' || token === '') throw new Error("the service account's token endpoint answered without an access token");
    const expiry = this.client.credentials.expiry_date;
    const expiresAt = typeof expiry === 'number' ? expiry : Date.now() + 3_600_000;
    this.cached = { value: token, renewAt: expiresAt - RENEW_BEFORE_MS };
    return token;
  }
}

/** The OAuth error code and description, or the HTTP status, or the connection error's code. */
function describe(error: unknown): string {
  const failure = error as { code?: unknown; message?: unknown; response?: { status?: unknown; data?: unknown } };
  const data = failure.response?.data as Record<string, unknown> | undefined;
  if (data !== undefined && data !== null && typeof data === 'object' && typeof data.error === 'string') {
    const description = typeof data.error_description === 'string' ? `: ${data.error_description.slice(0, 200)}` : '';
    return `${data.error.slice(0, 64)}${description}`;
  }
  if (typeof failure.response?.status === 'number') return `HTTP ${failure.response.status}`;
  return typeof failure.code === 'string' ? failure.code : 'unreachable';
}
