/** A token is renewed this long before it expires, so no call leaves with one that lapses on the way. */
export const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * A bearer token a provider fetches for its calls (Entra ID, Google OAuth2), fetched on the first call and never at
 * boot, kept until shortly before it expires; concurrent calls share one fetch.
 */
export abstract class CachedToken {
  private cached: { value: string; renewAt: number } | null = null;
  private pending: Promise<string> | null = null;

  /** The token, at once when a fresh one is cached. Rejects with a message fit for the caller (no credential in it). */
  get(): string | Promise<string> {
    if (this.cached !== null && Date.now() < this.cached.renewAt) return this.cached.value;
    this.pending ??= this.renew().finally(() => (this.pending = null));
    return this.pending;
  }

  /** A new token and the epoch ms it expires at. */
  protected abstract fetch(): Promise<{ value: string; expiresAt: number }>;

  private async renew(): Promise<string> {
    const { value, expiresAt } = await this.fetch();
    this.cached = { value, renewAt: expiresAt - RENEW_BEFORE_MS };
    return value;
  }
}
