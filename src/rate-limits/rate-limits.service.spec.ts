import type { ServerResponse } from 'node:http';
import { NO_LIMITS, type LimitSet, type PrincipalLimits } from '../budgets/usage-limits';
import { Clock } from '../common/clock';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { RateLimitService, type RateLimitTicket } from './rate-limits.service';

class FakeClock extends Clock {
  time = Date.UTC(2025, 0, 31, 12, 0, 0);
  override now(): number {
    return this.time;
  }
}

class HeaderSink {
  readonly headers: Record<string, string> = {};
  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
}

const KEY_HASH = 'a'.repeat(64);

function limitSet(id: string, limits: Partial<LimitSet>): LimitSet {
  return {
    id,
    maxBudget: null,
    softBudget: null,
    rpmLimit: null,
    tpmLimit: null,
    maxParallelRequests: null,
    modelMaxBudget: null,
    modelRpmLimit: null,
    modelTpmLimit: null,
    spend: 0,
    modelSpend: {},
    budgetResetAt: null,
    ...limits,
  };
}

function principal(limits: PrincipalLimits, teamId: string | null = null): Principal {
  return Object.freeze({
    kind: 'key',
    isProxyAdmin: false,
    role: null,
    keyHash: KEY_HASH,
    keyAlias: null,
    teamId,
    teamAlias: null,
    allowedModels: null,
    keyMetadata: {},
    teamMetadata: {},
    teamLoggingDisabled: false,
    userId: limits.user?.id ?? null,
    adminTeamIds: [],
    limits,
  });
}

describe(RateLimitService.name, () => {
  let clock: FakeClock;
  let service: RateLimitService;

  beforeEach(() => {
    clock = new FakeClock();
    service = new RateLimitService(clock, null, 'litellm');
  });

  function acquire(who: Principal, model = 'gpt-4o', sink = new HeaderSink()): RateLimitTicket | null {
    const ticket = service.acquire(who, model, sink as unknown as ServerResponse);
    if (ticket !== null && 'then' in ticket) throw new Error('the in-memory limiter answers synchronously');
    return ticket;
  }

  function refusal(who: Principal, model = 'gpt-4o'): AppException {
    try {
      acquire(who, model);
    } catch (error) {
      if (error instanceof AppException) return error;
      throw error;
    }
    throw new Error('the call was admitted');
  }

  it('costs nothing for a caller without limits: no ticket, no header', () => {
    const sink = new HeaderSink();
    expect(acquire(principal(NO_LIMITS), 'gpt-4o', sink)).toBeNull();
    // A budget alone is no rate limit.
    expect(acquire(principal({ key: limitSet(KEY_HASH, { maxBudget: 1 }), team: null, user: null }), 'gpt-4o', sink)).toBeNull();
    expect(sink.headers).toEqual({});
  });

  it('sets LiteLLM’s per-descriptor headers and the generic OpenAI ones (the tightest limit of the call)', () => {
    const who = principal(
      { key: limitSet(KEY_HASH, { rpmLimit: 5, tpmLimit: 1000, maxParallelRequests: 2 }), team: limitSet('team-1', { rpmLimit: 3 }), user: null },
      'team-1',
    );
    const sink = new HeaderSink();
    const ticket = acquire(who, 'gpt-4o', sink);
    expect(ticket).not.toBeNull();
    expect(sink.headers).toEqual({
      'x-ratelimit-api_key-remaining-requests': '4',
      'x-ratelimit-api_key-limit-requests': '5',
      'x-ratelimit-api_key-remaining-tokens': '1000',
      'x-ratelimit-api_key-limit-tokens': '1000',
      'x-ratelimit-api_key-remaining-max_parallel_requests': '1',
      'x-ratelimit-api_key-limit-max_parallel_requests': '2',
      'x-ratelimit-team-remaining-requests': '2',
      'x-ratelimit-team-limit-requests': '3',
      'x-ratelimit-remaining-requests': '2',
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-tokens': '1000',
      'x-ratelimit-limit-tokens': '1000',
    });
    ticket?.release(250);
    const next = new HeaderSink();
    acquire(who, 'gpt-4o', next);
    expect(next.headers['x-ratelimit-api_key-remaining-tokens']).toBe('750');
    expect(next.headers['x-ratelimit-api_key-remaining-max_parallel_requests']).toBe('1');
  });

  it('by default sets only OpenAI’s four headers on a call let through, and none with RATE_LIMIT_HEADERS=none', () => {
    const who = principal({ key: limitSet(KEY_HASH, { rpmLimit: 5, tpmLimit: 1000, maxParallelRequests: 2 }), team: limitSet('team-1', { rpmLimit: 3 }), user: null }, 'team-1');
    const openai = new HeaderSink();
    void new RateLimitService(clock).acquire(who, 'gpt-4o', openai as unknown as ServerResponse);
    expect(openai.headers).toEqual({
      'x-ratelimit-remaining-requests': '2',
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-tokens': '1000',
      'x-ratelimit-limit-tokens': '1000',
    });
    const none = new HeaderSink();
    void new RateLimitService(clock, null, 'none').acquire(who, 'gpt-4o', none as unknown as ServerResponse);
    expect(none.headers).toEqual({});
  });

  it('refuses over the limit with LiteLLM’s message, retry-after to the window’s end, and its headers', () => {
    const who = principal({ key: limitSet(KEY_HASH, { rpmLimit: 2 }), team: null, user: null });
    acquire(who);
    clock.time += 15_000;
    acquire(who);
    clock.time += 5_000;
    const error = refusal(who);
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limited');
    expect(error.message).toBe(
      `Rate limit exceeded for api_key: ${KEY_HASH}. Limit type: requests. Current limit: 2, Remaining: 0. Limit resets at: 2025-01-31 12:01:00 UTC`,
    );
    expect(error.headers).toMatchObject({
      'retry-after': '40',
      rate_limit_type: 'requests',
      reset_at: '2025-01-31 12:01:00 UTC',
      'x-ratelimit-api_key-remaining-requests': '0',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-limit-requests': '2',
    });
    clock.time += 40_000;
    expect(acquire(who)).not.toBeNull();
  });

  it('a parallel refusal asks for a retry in a second; the slot frees when a call ends', () => {
    const who = principal({ key: limitSet(KEY_HASH, { maxParallelRequests: 1 }), team: null, user: null });
    const running = acquire(who);
    const error = refusal(who);
    expect(error.message).toContain('Limit type: max_parallel_requests. Current limit: 1, Remaining: 0.');
    expect(error.headers['retry-after']).toBe('1');
    running?.release(0);
    running?.release(0); // a second release changes nothing
    const again = acquire(who);
    expect(refusal(who).headers.rate_limit_type).toBe('max_parallel_requests');
    again?.release(0);
  });

  it('model_rpm_limit of the key and of the team, keyed by the requested model name', () => {
    const who = principal(
      {
        key: limitSet(KEY_HASH, { modelRpmLimit: { 'gpt-4o': 1 } }),
        team: limitSet('team:a', { modelRpmLimit: { 'gpt-4o-mini': 2 }, modelTpmLimit: { 'gpt-4o-mini': 50 } }),
        user: null,
      },
      'team:a',
    );
    const sink = new HeaderSink();
    acquire(who, 'gpt-4o', sink);
    expect(sink.headers['x-ratelimit-model_per_key-remaining-requests']).toBe('0');
    expect(refusal(who, 'gpt-4o').message).toContain(`Rate limit exceeded for model_per_key: ${KEY_HASH}:gpt-4o. Limit type: requests.`);
    expect(acquire(who, 'other-model')).toBeNull(); // no limit for that model
    const mini = acquire(who, 'gpt-4o-mini');
    mini?.release(50);
    expect(refusal(who, 'gpt-4o-mini').message).toContain('Rate limit exceeded for model_per_team: team:a:gpt-4o-mini. Limit type: tokens. Current limit: 50, Remaining: 0.');
  });

  it('user limits hold across the user’s keys', () => {
    const user = limitSet('user-1', { rpmLimit: 1 });
    const first = principal({ key: null, team: null, user });
    const second = { ...principal({ key: null, team: null, user }), keyHash: 'b'.repeat(64) };
    acquire(first);
    expect(refusal(second).message).toContain('Rate limit exceeded for user: user-1. Limit type: requests.');
  });
});
