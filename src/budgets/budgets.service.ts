import { Injectable } from '@nestjs/common';
import type { Principal } from '../keys/principal';
import type { CallUsage } from '../completions/call-payload';

/**
 * Spend and budgets. `check` runs before a call is made, on the in-memory view of spend (no database read);
 * `record` files a finished call's cost; the ledger writes spend to the database in batches, off the request path.
 */
@Injectable()
export class BudgetsService {
  /** Throws LiteLLM's `budget_exceeded` when the key, its team, its user or the end user is over budget for `model`. */
  readonly check: (principal: Principal, model: string, endUser: string | null) => void = () => undefined;

  /** A finished call's cost, filed against its key, team, user, end user and model. */
  readonly record: (principal: Principal, usage: CallUsage) => void = () => undefined;
}
