import type { OAuth2Client } from 'google-auth-library';
import { GoogleAccessToken, RENEW_BEFORE_MS, TOKEN_TIMEOUT_MS } from './google-access-token';

/** What the class uses of a google-auth-library client: getAccessToken and the expiry it leaves in credentials. */
function stubClient(answers: Array<() => Promise<{ token: string; expiresInMs: number }>>) {
  const client = {
    calls: 0,
    eagerRefreshThresholdMillis: 0,
    credentials: {} as { expiry_date?: number },
    async getAccessToken(): Promise<{ token: string }> {
      const answer = await answers[Math.min(client.calls++, answers.length - 1)]();
      client.credentials.expiry_date = Date.now() + answer.expiresInMs;
      return { token: answer.token };
    },
  };
  return client;
}

const tokenFor = (client: ReturnType<typeof stubClient>, hint?: string): GoogleAccessToken => new GoogleAccessToken(client as unknown as OAuth2Client, 'the test issuer', hint);

describe(GoogleAccessToken.name, () => {
  afterEach(() => jest.useRealTimers());

  it('one fetch for concurrent callers; the cached token is answered at once until shortly before it expires', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const client = stubClient([() => Promise.resolve({ token: 'ya29.first', expiresInMs: 3_600_000 }), () => Promise.resolve({ token: 'ya29.second', expiresInMs: 3_600_000 })]);
    const tokens = tokenFor(client);
    const [a, b] = [tokens.get(), tokens.get()];
    expect(a).toBe(b);
    await expect(a).resolves.toBe('ya29.first');
    expect(client.calls).toBe(1);
    expect(client.eagerRefreshThresholdMillis).toBe(RENEW_BEFORE_MS);
    expect(tokens.get()).toBe('ya29.first');

    jest.setSystemTime(1_000_000 + 3_600_000 - RENEW_BEFORE_MS);
    await expect(tokens.get()).resolves.toBe('ya29.second');
    expect(client.calls).toBe(2);
  });

  it('a refusal names the issuer and the OAuth error or status; an unreachable issuer its error code and the hint; the next call tries again', async () => {
    const refused = Object.assign(new Error('invalid_grant'), { response: { status: 400, data: { error: 'invalid_grant', error_description: 'Bad Request' } } });
    const forbidden = Object.assign(new Error('Could not refresh access token: body with ya29.secret'), { response: { status: 403, data: 'ya29.secret in a text body' } });
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 169.254.169.254:80'), { code: 'ECONNREFUSED' });
    const client = stubClient([() => Promise.reject(refused), () => Promise.reject(forbidden), () => Promise.reject(unreachable), () => Promise.resolve({ token: 'ya29.ok', expiresInMs: 60_000_000 })]);
    const tokens = tokenFor(client, ': set a key instead');
    await expect(tokens.get()).rejects.toThrow('the test issuer refused the token request (invalid_grant: Bad Request)');
    await expect(tokens.get()).rejects.toThrow(/^the test issuer refused the token request \(HTTP 403\)$/);
    await expect(tokens.get()).rejects.toThrow(/^the test issuer could not be reached \(ECONNREFUSED\): set a key instead$/);
    await expect(tokens.get()).resolves.toBe('ya29.ok');
  });

  it('a fetch that never ends fails after the deadline instead of holding every caller', async () => {
    jest.useFakeTimers();
    const client = stubClient([() => new Promise(() => undefined)]);
    const pending = tokenFor(client).get() as Promise<string>;
    const outcome = pending.catch((error: Error) => error.message);
    await jest.advanceTimersByTimeAsync(TOKEN_TIMEOUT_MS);
    await expect(outcome).resolves.toBe('the test issuer could not be reached (ETIMEDOUT)');
  });

  it('an answer without a token is an error, not an empty Bearer', async () => {
    const tokens = tokenFor(stubClient([() => Promise.resolve({ token: '', expiresInMs: 1 })]));
    await expect(tokens.get()).rejects.toThrow('the test issuer answered without an access token');
  });
});
