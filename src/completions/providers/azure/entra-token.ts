import { request } from 'undici';

/** Microsoft Entra ID's token endpoint host; AZURE_AUTHORITY_HOST points elsewhere (sovereign clouds, tests). */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
const SCOPE = 'https://cognitiveservices.azure.com/.default';
/** A token is renewed this long before it expires, so no call leaves with one that lapses on the way. */
const RENEW_BEFORE_MS = 5 * 60_000;

export interface ClientCredentials {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authorityHost: string;
}

/**
 * An Entra ID access token for Azure OpenAI from a service principal (the OAuth2 client-credentials grant, one
 * form POST), cached until shortly before it expires; concurrent calls share one fetch. Hand-written rather than
 * `@azure/identity`: that package brings MSAL and a dozen dependencies for what is one request here.
 */
export class EntraTokenSource {
  private token: { value: string; renewAt: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(private readonly credentials: ClientCredentials) {}

  get(): Promise<string> | string {
    if (this.token !== null && Date.now() < this.token.renewAt) return this.token.value;
    this.pending ??= this.fetch().finally(() => (this.pending = null));
    return this.pending;
  }

  private async fetch(): Promise<string> {
    const { tenantId, clientId, clientSecret, authorityHost } = this.credentials;
    const url = `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: SCOPE });
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      // Entra's error text names the tenant and client, never the secret; still, only its code is kept.
      const code = /"error"\s*:\s*"([a-z_]{1,64})"/.exec(text)?.[1] ?? `HTTP ${response.statusCode}`;
      throw new Error(`Microsoft Entra ID refused the deployment's service principal (${code})`);
    }
    const parsed = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
    if (typeof parsed.access_token !== 'string') throw new Error('Microsoft Entra ID answered without an access token');
    const lifetimeMs = (typeof parsed.expires_in === 'number' ? parsed.expires_in : Number(parsed.expires_in) || 3600) * 1000;
    this.token = { value: parsed.access_token, renewAt: Date.now() + Math.max(0, lifetimeMs - RENEW_BEFORE_MS) };
    return parsed.access_token;
  }
}
