import { Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Principal } from '../keys/principal';

/** A call the limiter let through: told of its end, with the tokens it used. */
export interface RateLimitTicket {
  release(totalTokens: number): void;
}

/**
 * rpm, tpm and parallel-request limits of keys, teams and users (and per model). `acquire` counts the call or
 * throws LiteLLM's 429, and sets the `x-ratelimit-*` headers on `res`; null when no limit applies to the caller.
 */
@Injectable()
export class RateLimitService {
  readonly acquire: (principal: Principal, model: string, res: ServerResponse) => RateLimitTicket | null | Promise<RateLimitTicket | null> = () => null;
}
