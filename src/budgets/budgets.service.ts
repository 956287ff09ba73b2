import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { roundAmount } from '../common/log-numbers';
import { GatewaySettings } from '../config/gateway-settings';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { PrincipalCache } from '../keys/principal-cache';
import type { CallUsage } from '../completions/call-payload';
import { LlmMetrics, type SpendReader } from '../metrics/llm-metrics';
import { MetricsService } from '../metrics/metrics.service';
import { type BudgetedKind, type ResetRow, resetDueBudgets, resetDueModelBudgets } from './budget-reset-job';
import { memberId, splitMemberId, SpendLedger, type FlushedRow, type SpendKind } from './spend-ledger';
import type { LimitSet, ModelMaxBudget, UsageLimits } from './usage-limits';

/** Spend of a key, team or user as this instance last read it from the database; the ledger adds what is unflushed. */
interface SpendView {
  spend: number;
  modelSpend: Readonly<Record<string, number>>;
  budgetResetAt: number | null;
  /** Clock ms of the last check that looked at it: views nobody looks at are neither re-read nor kept. */
  seenAt: number;
  /** Read from the database (a flush or a re-read), not just taken from the principal, which may be older. */
  confirmed: boolean;
}

/** A team member or an end user: its budget is not on the principal, so its row is read on first sight. */
interface SideView {
  spend: number;
  maxBudget: number | null;
  loadedAt: number;
  seenAt: number;
}

type SideKind = 'member' | 'end_user';

/** Views nobody checked for this long are dropped (and no longer re-read). */
const IDLE_MS = 120_000;
/** A member's or end user's row without a budget is re-read this often while in use, so a budget set later applies. */
const SIDE_TTL_MS = 30_000;
/** Members and end users kept in memory at most (oldest dropped first). */
const MAX_SIDE_VIEWS = 100_000;
/** Longest id the `end_users` table holds; longer `user` values are not tracked (their row could not be written). */
const MAX_END_USER_ID = 256;

const TABLES: Record<BudgetedKind, { table: string; id: string }> = {
  key: { table: 'virtual_keys', id: 'token' },
  team: { table: 'teams', id: 'team_id' },
  user: { table: 'users', id: 'user_id' },
};

/** `{budget_limit, time_period}` as the management API stores it, or LiteLLM's `{max_budget, budget_duration}`. */
function modelLimit(budgets: Readonly<ModelMaxBudget> | null, model: string): number | null {
  const entry = budgets?.[model] as { budget_limit?: unknown; max_budget?: unknown } | undefined;
  if (entry === undefined || entry === null) return null;
  const limit = Number(entry.budget_limit ?? entry.max_budget);
  return Number.isFinite(limit) ? limit : null;
}

function trackableEndUser(endUser: string | null): endUser is string {
  return endUser !== null && endUser !== '' && endUser.length <= MAX_END_USER_ID && !endUser.includes('\u0000');
}

function limitsBudget(set: LimitSet | null): set is LimitSet {
  return set !== null && (set.maxBudget !== null || set.softBudget !== null || set.modelMaxBudget !== null);
}

/**
 * Spend and budgets. `check` runs before a call is made, on the in-memory view of spend (no database read);
 * `record` files a finished call's cost; the ledger writes spend to the database in batches, off the request path.
 *
 * The view of an entity's spend is what the database held at the last flush (its RETURNING) or re-read, plus this
 * instance's unflushed spend. Every flush cycle also re-reads the budgeted entities checked recently, so spend made
 * on other instances is seen within one or two cycles.
 */
@Injectable()
export class BudgetsService implements OnApplicationBootstrap, BeforeApplicationShutdown, SpendReader {
  private readonly logger = new Logger('Budgets');
  private readonly ledger: SpendLedger;
  private readonly views: Record<BudgetedKind, Map<string, SpendView>> = { key: new Map(), team: new Map(), user: new Map() };
  private readonly side: Record<SideKind, Map<string, SideView>> = { member: new Map(), end_user: new Map() };
  private readonly loading = new Map<string, Promise<void>>();
  private readonly defaultEndUserBudget: number | null;
  private readonly flushIntervalMs: number;
  private readonly resetIntervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private cycleRunning: Promise<void> | null = null;
  private lastResetRun = Number.NEGATIVE_INFINITY;
  /** The earliest budget_reset_at among the views: the cycle runs the reset job as soon as the clock passes it. */
  private earliestReset = Number.POSITIVE_INFINITY;
  private principals: PrincipalCache | null = null;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    settings: GatewaySettings,
    private readonly metrics: MetricsService,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(LlmMetrics) llmMetrics: LlmMetrics | null = null,
  ) {
    llmMetrics?.readSpendFrom(this);
    this.ledger = new SpendLedger((sql, parameters) => this.db.query(sql, parameters));
    this.defaultEndUserBudget = settings.config.litellmSettings.max_end_user_budget ?? null;
    this.flushIntervalMs = settings.environment.SPEND_FLUSH_INTERVAL_MS;
    this.resetIntervalMs = settings.environment.BUDGET_RESET_INTERVAL_MS;
  }

  onApplicationBootstrap(): void {
    // Looked up rather than injected: the keys module imports this one (its info routes add pending spend), so
    // importing it back would be a module cycle.
    this.principals = this.moduleRef.get(PrincipalCache, { strict: false });
    this.timer = setInterval(() => void this.runCycle(), this.flushIntervalMs);
    this.timer.unref();
  }

  /** After the HTTP server has closed (every call recorded), before the database closes: nothing filed is lost. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.cycleRunning;
    for (let attempt = 0; attempt < 3 && !this.ledger.isEmpty; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      await this.flush();
    }
    if (!this.ledger.isEmpty) this.logger.error('spend could not be written to the database before shutdown; it is lost');
  }

  /**
   * Throws LiteLLM's `budget_exceeded` when the key, its team, its user, the team member or the end user is over budget
   * for `model`. Synchronous, except for the first request of a team member or end user this instance has not seen
   * (its row is read once) and for a refusal that rests on a cached principal's figures alone (confirmed by one read).
   */
  readonly check = (principal: Principal, model: string, endUser: string | null): void | Promise<void> => {
    const member = principal.teamId !== null && principal.userId !== null ? memberId(principal.teamId, principal.userId) : null;
    const customer = trackableEndUser(endUser) ? endUser : null;
    const { key, team, user } = principal.limits;
    if (key === null && team === null && user === null && member === null && customer === null) return;
    // A member or end user seen for the first time: its row (and budget) is read once, before the call.
    const memberLoad = member !== null ? this.sideLoad('member', member) : null;
    const customerLoad = customer !== null ? this.sideLoad('end_user', customer) : null;
    if (memberLoad !== null || customerLoad !== null) {
      return Promise.all([memberLoad, customerLoad]).then(() => this.evaluate(principal, model, member, customer, true));
    }
    return this.evaluate(principal, model, member, customer, true);
  };

  /** A finished call's cost, filed against its key, team, user, team member, end user and model. */
  readonly record = (principal: Principal, record: CallUsage): void => {
    const cost = record.response_cost;
    if (!(cost > 0) || !Number.isFinite(cost)) return;
    const model = record.model_group;
    const { keyHash, teamId, userId } = principal;
    if (keyHash !== null) this.file('key', keyHash, principal.limits.key, cost, model, principal);
    if (teamId !== null) this.file('team', teamId, principal.limits.team, cost, model, principal);
    if (userId !== null) this.file('user', userId, principal.limits.user, cost, model, principal);
    if (teamId !== null && userId !== null) this.ledger.add('member', memberId(teamId, userId), cost, null);
    if (trackableEndUser(record.end_user)) this.ledger.add('end_user', record.end_user, cost, null);
  };

  /** Spend of a key (its hash), team, user, member (`memberId`) or end user that this instance has not written yet. */
  pendingSpend(kind: SpendKind, id: string): number {
    return this.ledger.unflushed(kind, id);
  }

  /**
   * What the info routes show: the spend a row was read with, plus what this instance has not written yet, so a
   * script that calls and then reads `/key/info` sees its call at once (other instances' within a flush interval).
   */
  withPendingSpend<T extends { usage: UsageLimits }>(kind: 'key' | 'team' | 'user', id: string, row: T): T {
    const pending = this.ledger.unflushed(kind, id);
    return pending === 0 ? row : { ...row, usage: { ...row.usage, spend: row.usage.spend + pending } };
  }

  /** Spend of a budgeted key or team as this instance sees it now (the budget gauges read it at scrape time). */
  spendOf(kind: 'key' | 'team', set: LimitSet): { spend: number; budgetResetAt: number | null } {
    const view = this.views[kind].get(set.id);
    return {
      spend: (view?.spend ?? set.spend) + this.ledger.unflushed(kind, set.id),
      budgetResetAt: view !== undefined ? view.budgetResetAt : (set.budgetResetAt?.getTime() ?? null),
    };
  }

  /** Writes the ledger now (tests, shutdown); the periodic cycle does the same. */
  async flush(): Promise<void> {
    const outcome = await this.ledger.flush();
    for (const row of outcome.rows) this.applyFlushed(row);
    for (const { kind, error } of outcome.failed) {
      this.metrics.spendFlushFailures.inc({ table: kind });
      this.logger.warn(`spend of ${kind} rows not written (kept for the next flush): ${error.message}`);
    }
  }

  /** One flush, re-read and (when due) reset; cycles never overlap. */
  runCycle(): Promise<void> {
    if (this.cycleRunning !== null) return this.cycleRunning;
    this.cycleRunning = this.cycle()
      .catch((error: Error) => this.logger.warn(`spend cycle failed: ${error.message}`))
      .finally(() => (this.cycleRunning = null));
    return this.cycleRunning;
  }

  /** Ends the budget periods that are over (by the injected clock) and makes every instance see it. */
  async resetBudgets(): Promise<void> {
    const now = new Date(this.clock.now());
    this.lastResetRun = now.getTime();
    const query = (sql: string, parameters: unknown[]) => this.db.query(sql, parameters);
    const periods = await resetDueBudgets(query, now);
    for (const row of periods) this.applyReset(row);
    const modelPeriods = await resetDueModelBudgets(query, now);
    for (const row of modelPeriods) this.applyReset(row);
    if (periods.length + modelPeriods.length > 0) this.logger.log(`budget periods reset: ${periods.length} budgets, ${modelPeriods.length} per-model budgets`);
  }

  private async cycle(): Promise<void> {
    await this.flush();
    if (this.stopped) return;
    await this.refresh();
    const now = this.clock.now();
    if (now - this.lastResetRun >= this.resetIntervalMs || now >= this.earliestReset) await this.resetBudgets();
  }

  /** With `mayConfirm` false (after the confirming read) the figures at hand decide. */
  private evaluate(principal: Principal, model: string, member: string | null, customer: string | null, mayConfirm: boolean): void | Promise<void> {
    const now = this.clock.now();
    const { key, team, user } = principal.limits;
    const unconfirmed: [BudgetedKind, string][] = [];
    const refuse = (entity: string, message: string): void => {
      this.metrics.budgetExceeded.inc({ entity });
      throw new AppException('budget_exceeded', message);
    };

    if (limitsBudget(key)) {
      const view = this.viewOf('key', key, now);
      const spend = view.spend + this.ledger.unflushed('key', key.id);
      if (key.maxBudget !== null && spend >= key.maxBudget) {
        if (!view.confirmed && mayConfirm) unconfirmed.push(['key', key.id]);
        else refuse('key', `Budget has been exceeded! Current cost: ${spend}, Max budget: ${key.maxBudget}`);
      }
    }
    if (limitsBudget(team)) {
      const view = this.viewOf('team', team, now);
      const spend = view.spend + this.ledger.unflushed('team', team.id);
      if (team.maxBudget !== null && spend > team.maxBudget) {
        if (!view.confirmed && mayConfirm) unconfirmed.push(['team', team.id]);
        else refuse('team', `Budget has been exceeded! Team=${team.id} Current cost: ${spend}, Max budget: ${team.maxBudget}`);
      }
    }
    if (member !== null) {
      const view = this.seeSide('member', member, now);
      if (view !== undefined && view.maxBudget !== null) {
        const spend = view.spend + this.ledger.unflushed('member', member);
        const [teamId, userId] = splitMemberId(member);
        if (spend >= view.maxBudget) {
          refuse('team_member', `Budget has been exceeded! User=${userId} in Team=${teamId} Current cost: ${spend}, Max budget: ${view.maxBudget}`);
        }
      }
    }
    // A user's own budget applies to its personal keys only; a team key spends the team's budget.
    if (principal.teamId === null && limitsBudget(user)) {
      const view = this.viewOf('user', user, now);
      const spend = view.spend + this.ledger.unflushed('user', user.id);
      if (user.maxBudget !== null && spend >= user.maxBudget) {
        if (!view.confirmed && mayConfirm) unconfirmed.push(['user', user.id]);
        else refuse('user', `ExceededBudget: User=${user.id} over budget. Spend=${spend}, Budget=${user.maxBudget}`);
      }
    }
    if (customer !== null) {
      const view = this.seeSide('end_user', customer, now);
      const budget = view?.maxBudget ?? this.defaultEndUserBudget;
      if (view !== undefined && budget !== null) {
        const spend = view.spend + this.ledger.unflushed('end_user', customer);
        if (spend > budget) refuse('end_user', `ExceededBudget: End User=${customer} over budget. Spend=${spend}, Budget=${budget}`);
      }
    }
    for (const [kind, set] of [['key', key], ['team', team], ['user', user]] as const) {
      const limit = set === null ? null : modelLimit(set.modelMaxBudget, model);
      if (set === null || limit === null) continue;
      if (kind === 'user' && principal.teamId !== null) continue;
      const view = this.viewOf(kind, set, now);
      const spend = (view.modelSpend[model] ?? 0) + this.ledger.unflushedForModel(kind, set.id, model);
      if (spend <= limit) continue;
      if (!view.confirmed && mayConfirm) unconfirmed.push([kind, set.id]);
      else refuse(`${kind}_model`, this.modelBudgetMessage(kind, principal, model));
    }
    // Refused on the principal's figures only: they may predate a reset, so the row is read once before refusing.
    if (unconfirmed.length > 0) return this.confirm(unconfirmed).then(() => this.evaluate(principal, model, member, customer, false));
  }

  private modelBudgetMessage(kind: BudgetedKind, principal: Principal, model: string): string {
    if (kind === 'key') return `LiteLLM Virtual Key: ${principal.keyHash}, key_alias: ${principal.keyAlias}, exceeded budget for model=${model}`;
    if (kind === 'team') return `LiteLLM Team: ${principal.teamId}, team_alias: ${principal.teamAlias}, exceeded budget for model=${model}`;
    return `LiteLLM User: ${principal.userId}, exceeded budget for model=${model}`;
  }

  /** The view of a key, team or user; made from the principal's figures on first sight (unconfirmed until read). */
  private viewOf(kind: BudgetedKind, set: LimitSet, now: number): SpendView {
    let view = this.views[kind].get(set.id);
    if (view === undefined) {
      view = { spend: set.spend, modelSpend: set.modelSpend, budgetResetAt: set.budgetResetAt?.getTime() ?? null, seenAt: now, confirmed: false };
      this.views[kind].set(set.id, view);
      if (view.budgetResetAt !== null && view.budgetResetAt < this.earliestReset) this.earliestReset = view.budgetResetAt;
    } else {
      view.seenAt = now;
    }
    return view;
  }

  private seeSide(kind: SideKind, id: string, now: number): SideView | undefined {
    const view = this.side[kind].get(id);
    if (view !== undefined) view.seenAt = now;
    return view;
  }

  /** Null when the row is known; else the (shared) read of it. */
  private sideLoad(kind: SideKind, id: string): Promise<void> | null {
    if (this.side[kind].has(id)) return null;
    const loadKey = `${kind}:${id}`;
    let load = this.loading.get(loadKey);
    if (load === undefined) {
      load = this.readSide(kind, [id])
        .catch((error: Error) => {
          // The budget cannot be known: the call goes ahead (as it would without one) and the row is read next time.
          this.logger.warn(`could not read the ${kind} row: ${error.message}`);
        })
        .finally(() => this.loading.delete(loadKey));
      this.loading.set(loadKey, load);
    }
    return load;
  }

  private async readSide(kind: SideKind, ids: string[]): Promise<void> {
    const now = this.clock.now();
    const rows =
      kind === 'end_user'
        ? await this.db.query<{ id: string; spend: number; max_budget: number | null }[]>(
            `SELECT user_id AS id, spend, max_budget FROM end_users WHERE user_id = ANY($1::text[])`,
            [ids],
          )
        : (
            await this.db.query<{ team_id: string; user_id: string; spend: number; max_budget: number | null }[]>(
              `SELECT t.team_id, t.user_id, t.spend, t.max_budget_in_team AS max_budget FROM team_members t
               JOIN unnest($1::text[], $2::text[]) AS v(team_id, user_id) ON t.team_id = v.team_id AND t.user_id = v.user_id`,
              [ids.map((id) => splitMemberId(id)[0]), ids.map((id) => splitMemberId(id)[1])],
            )
          ).map((row) => ({ id: memberId(row.team_id, row.user_id), spend: row.spend, max_budget: row.max_budget }));
    const found = new Map(rows.map((row) => [row.id, row]));
    const views = this.side[kind];
    for (const id of ids) {
      const row = found.get(id);
      const previous = views.get(id);
      // Re-inserted, so the map's order is the order of last reads and the oldest entries go first.
      views.delete(id);
      views.set(id, { spend: row?.spend ?? 0, maxBudget: row?.max_budget ?? null, loadedAt: now, seenAt: previous?.seenAt ?? now });
    }
    while (views.size > MAX_SIDE_VIEWS) {
      const oldest = views.keys().next().value;
      if (oldest === undefined) break;
      views.delete(oldest);
    }
  }

  /** Reads the rows of views that would refuse on the principal's figures alone. */
  private async confirm(entities: [BudgetedKind, string][]): Promise<void> {
    try {
      for (const kind of Object.keys(TABLES) as BudgetedKind[]) {
        const ids = entities.filter(([entityKind]) => entityKind === kind).map(([, id]) => id);
        if (ids.length > 0) await this.readViews(kind, ids);
      }
    } catch (error) {
      // Unreadable: the principal's figures decide, as they would without the read.
      this.logger.warn(`could not re-read spend before refusing: ${(error as Error).message}`);
    }
  }

  private async readViews(kind: BudgetedKind, ids: string[]): Promise<void> {
    const { table, id } = TABLES[kind];
    const rows = await this.db.query<{ id: string; spend: number; model_spend: Record<string, number>; budget_reset_at: Date | null }[]>(
      `SELECT ${id} AS id, spend, model_spend, budget_reset_at FROM ${table} WHERE ${id} = ANY($1::text[])`,
      [ids],
    );
    const found = new Set<string>();
    for (const row of rows) {
      found.add(row.id);
      this.setView(kind, row.id, row.spend, row.model_spend, row.budget_reset_at);
    }
    // Gone from the database (deleted): nothing to keep.
    for (const missing of ids) if (!found.has(missing)) this.views[kind].delete(missing);
  }

  private setView(kind: BudgetedKind, id: string, spend: number, modelSpend: Record<string, number>, budgetResetAt: Date | null | undefined): void {
    const view = this.views[kind].get(id);
    if (view === undefined) return;
    view.spend = spend;
    view.modelSpend = modelSpend;
    if (budgetResetAt !== undefined) view.budgetResetAt = budgetResetAt?.getTime() ?? null;
    view.confirmed = true;
  }

  private applyFlushed(row: FlushedRow): void {
    if (row.kind === 'member' || row.kind === 'end_user') {
      const view = this.side[row.kind].get(row.id);
      if (view !== undefined) {
        view.spend = row.spend;
        view.maxBudget = row.maxBudget ?? null;
      }
      return;
    }
    this.setView(row.kind, row.id, row.spend, row.modelSpend ?? {}, undefined);
  }

  /** The reset is visible here at once; other instances drop their cached principals and re-read the rows. */
  private applyReset(row: ResetRow): void {
    this.setView(row.kind, row.id, row.spend, row.modelSpend, row.budgetResetAt);
    if (row.kind === 'key') this.principals?.invalidateKey(row.id);
    if (row.kind === 'team') this.principals?.invalidateTeam(row.id);
  }

  /** Re-reads what is budgeted and in use (spend made elsewhere, budgets set since), and forgets what is not. */
  private async refresh(): Promise<void> {
    const now = this.clock.now();
    let earliest = Number.POSITIVE_INFINITY;
    for (const kind of Object.keys(TABLES) as BudgetedKind[]) {
      const ids: string[] = [];
      for (const [id, view] of this.views[kind]) {
        if (now - view.seenAt > IDLE_MS) {
          this.views[kind].delete(id);
          continue;
        }
        ids.push(id);
        if (view.budgetResetAt !== null && view.budgetResetAt < earliest) earliest = view.budgetResetAt;
      }
      if (ids.length > 0) await this.readViews(kind, ids);
    }
    this.earliestReset = earliest;
    for (const kind of ['member', 'end_user'] as const) {
      const ids: string[] = [];
      for (const [id, view] of this.side[kind]) {
        if (now - view.seenAt > IDLE_MS) {
          this.side[kind].delete(id);
          continue;
        }
        const budgeted = view.maxBudget !== null || (kind === 'end_user' && this.defaultEndUserBudget !== null);
        if (budgeted || now - view.loadedAt > SIDE_TTL_MS) ids.push(id);
      }
      if (ids.length > 0) await this.readSide(kind, ids);
    }
  }

  /** Soft budgets warn once per crossing: on the call that takes the spend this instance sees from below to at or over it. */
  private file(kind: BudgetedKind, id: string, set: LimitSet | null, cost: number, model: string, principal: Principal): void {
    if (set !== null && set.softBudget !== null) {
      const before = (this.views[kind].get(id)?.spend ?? set.spend) + this.ledger.unflushed(kind, id);
      if (before < set.softBudget && before + cost >= set.softBudget) {
        this.metrics.softBudgetCrossed.inc({ entity: kind });
        this.logger.warn(`soft budget crossed: ${describe(kind, principal)} spend ${roundAmount(before + cost)} >= soft_budget ${set.softBudget}`);
      }
    }
    this.ledger.add(kind, id, cost, model);
  }
}

/** Names the entity for a log line: a key by alias and hash prefix, never the key itself. */
function describe(kind: BudgetedKind, principal: Principal): string {
  if (kind === 'key') return `key ${principal.keyAlias ?? '(no alias)'} (hash ${principal.keyHash?.slice(0, 8) ?? ''}…)`;
  if (kind === 'team') return `team ${principal.teamId}${principal.teamAlias ? ` (${principal.teamAlias})` : ''}`;
  return `user ${principal.userId}`;
}
