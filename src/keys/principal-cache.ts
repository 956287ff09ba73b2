import { Injectable, Optional } from '@nestjs/common';
import { InvalidationBus } from '../cluster/invalidation-bus';
import type { Principal } from './principal';

interface CacheEntry {
  readonly principal: Principal;
  readonly teamId: string | null;
  readonly userId: string | null;
  /** Epoch ms, or null; checked on every hit so a cached key never outlives its expiry. */
  readonly expiresAt: number | null;
  readonly cachedAt: number;
}

/**
 * key hash → resolved Principal, so the LLM routes authenticate without a database round trip.
 * Every write to a key or a team invalidates the entries it touches, so a change applies to the next
 * request. Other gateway instances hear of every invalidation through the InvalidationBus; a short TTL
 * bounds staleness for anything that still slips through (a lost message, manual SQL).
 */
@Injectable()
export class PrincipalCache {
  static readonly MAX_ENTRIES = 50_000;
  static readonly TTL_MS = 30_000;

  private readonly entries = new Map<string, CacheEntry>();

  constructor(@Optional() private readonly bus?: InvalidationBus) {
    bus?.subscribe((invalidation) => {
      if (invalidation.kind === 'key') this.dropKey(invalidation.id);
      else if (invalidation.kind === 'team') this.dropTeam(invalidation.id);
      else this.dropUser(invalidation.id);
    });
  }

  get(token: string, now = Date.now()): Principal | 'expired' | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (now - entry.cachedAt > PrincipalCache.TTL_MS) {
      this.entries.delete(token);
      return undefined;
    }
    if (entry.expiresAt !== null && entry.expiresAt <= now) return 'expired';
    return entry.principal;
  }

  set(token: string, principal: Principal, expiresAt: Date | null): void {
    if (this.entries.size >= PrincipalCache.MAX_ENTRIES) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(token, {
      principal,
      teamId: principal.teamId,
      userId: principal.userId,
      expiresAt: expiresAt ? expiresAt.getTime() : null,
      cachedAt: Date.now(),
    });
  }

  /** Here and, through the bus, on every other instance. */
  invalidateKey(token: string): void {
    this.dropKey(token);
    this.bus?.publish({ kind: 'key', id: token });
  }

  invalidateTeam(teamId: string): void {
    this.dropTeam(teamId);
    this.bus?.publish({ kind: 'team', id: teamId });
  }

  /** A user's role, models, limits or memberships changed: every key it owns is read again. */
  invalidateUser(userId: string): void {
    this.dropUser(userId);
    this.bus?.publish({ kind: 'user', id: userId });
  }

  private dropUser(userId: string): void {
    for (const [token, entry] of this.entries) {
      if (entry.userId === userId) this.entries.delete(token);
    }
  }

  private dropKey(token: string): void {
    this.entries.delete(token);
  }

  private dropTeam(teamId: string): void {
    for (const [token, entry] of this.entries) {
      if (entry.teamId === teamId) this.entries.delete(token);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
