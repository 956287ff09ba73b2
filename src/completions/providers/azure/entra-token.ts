import { request } from 'undici';
import { CachedToken } from '../cached-token';

/** Microsoft Entra ID's token endpoint host; AZURE_AUTHORITY_HOST points elsewhere (sovereign clouds, tests). */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** Azure OpenAI's resource scope; `azure_scope` / AZURE_SCOPE change it (LiteLLM's default too). */
export const DEFAULT_SCOPE = 'https://cognitiveservices.azure.com/.default';

/** The OAuth2 grant that gets the token: a service principal's secret, or a user's password (LiteLLM's `azure_username`). */
export type EntraGrant =
  | { readonly kind: 'client_credentials'; readonly tenantId: string; readonly clientId: string; readonly clientSecret: string }
  | { readonly kind: 'password'; readonly tenantId: string; readonly clientId: string; readonly username: string; readonly password: string };

export interface EntraEndpoint {
  readonly authorityHost: string;
  readonly scope: string;
}

/**
 * An Entra ID access token for Azure OpenAI (one form POST to the tenant's v2.0 token endpoint), cached until
 * shortly before it expires; concurrent calls share one fetch. Hand-written rather than `@azure/identity`: that
 * package brings MSAL and a dozen dependencies for what is one request here.
 */
export class EntraTokenSource extends CachedToken {
  constructor(
    private readonly grant: EntraGrant,
    private readonly endpoint: EntraEndpoint,
  ) {
    super();
  }

  private form(): URLSearchParams {
    const grant = this.grant;
    const scope = this.endpoint.scope;
    return grant.kind === 'client_credentials'
      ? new URLSearchParams({ grant_type: 'client_credentials', client_id: grant.clientId, client_secret: grant.clientSecret, scope })
      : new URLSearchParams({ grant_type: 'password', client_id: grant.clientId, username: grant.username, password: grant.password, scope });
  }

  protected async fetch(): Promise<{ value: string; expiresAt: number }> {
    const url = `${this.endpoint.authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(this.grant.tenantId)}/oauth2/v2.0/token`;
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: this.form().toString(),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await response.body.text();
    const who = this.grant.kind === 'client_credentials' ? "the deployment's service principal" : "the deployment's user credentials";
    if (response.statusCode !== 200) {
      // Entra's error text names the tenant and client, never the secret; still, only its code is kept.
      const code = /"error"\s*:\s*"([a-z_]{1,64})"/.exec(text)?.[1] ?? `HTTP ${response.statusCode}`;
      throw new Error(`Microsoft Entra ID refused ${who} (${code})`);
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new Error('Microsoft Entra ID answered with something that is not JSON');
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') throw new Error('Microsoft Entra ID answered without an access token');
    const seconds = Number(parsed.expires_in);
    const lifetimeMs = (Number.isFinite(seconds) && seconds > 0 ? seconds : 3600) * 1000;
    return { value: parsed.access_token, expiresAt: Date.now() + lifetimeMs };
  }
}
