import { createHash } from 'node:crypto';
import { DefaultTransporter, JWT } from 'google-auth-library';
import { CLOUD_PLATFORM_SCOPE, GoogleAccessToken, TOKEN_TIMEOUT_MS } from './google-access-token';
import type { ServiceAccount } from './vertex-credentials';

type TokenRequest = Parameters<DefaultTransporter['request']>[0];

/**
 * The token of a service account (the JWT-bearer grant, RS256-signed by `google-auth-library`), one per account
 * whichever deployments (models, regions) use it. It is asked of the account's own `token_uri`, as Google's Python
 * client does (private and sovereign token endpoints need it, and LiteLLM, built on that client, honours it): the
 * Node library always posts to Google's, so its transporter is pointed at `token_uri` — the only request this
 * client ever makes — and the assertion names it as audience.
 */
export function serviceAccountToken(account: ServiceAccount): GoogleAccessToken {
  const key = createHash('sha256').update(`service_account\0${account.clientEmail}\0${account.tokenUri}\0${account.privateKey}`).digest('hex');
  return GoogleAccessToken.shared(key, () => {
    const transporter = new DefaultTransporter();
    const client = new JWT({
      email: account.clientEmail,
      key: account.privateKey,
      keyId: account.privateKeyId,
      scopes: [CLOUD_PLATFORM_SCOPE],
      additionalClaims: { aud: account.tokenUri },
      transporter: {
        request: <T>(options: TokenRequest) => transporter.request<T>({ ...options, url: account.tokenUri, timeout: TOKEN_TIMEOUT_MS }),
      },
    });
    return new GoogleAccessToken(client, "the service account's token endpoint");
  });
}
