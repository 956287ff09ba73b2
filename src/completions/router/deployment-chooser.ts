import type { RoutingStrategy } from '../../config/gateway-config.types';
import { DeploymentTable, type CompiledDeployment, type ModelGroup } from '../deployment-table';
import type { RouterState } from './router-state';

/** What one instance has seen of a deployment: calls in flight, and recent latencies (least-busy, latency-based). */
export interface DeploymentStats {
  inFlight: number;
  /** Recent attempt durations (ms) and when each ended (epoch ms), oldest first. */
  readonly latencies: number[];
  readonly endedAt: number[];
}

export interface ChooserOptions {
  readonly strategy: RoutingStrategy;
  /** latency-based-routing: deployments within this fraction of the fastest share the traffic (LiteLLM's `lowest_latency_buffer`). */
  readonly latencyBuffer: number;
  /** latency-based-routing: how long a measured latency counts (LiteLLM's `ttl`). */
  readonly latencyTtlMs: number;
  /** Latencies kept per deployment (LiteLLM's `max_latency_list_size`). */
  readonly latencySamples: number;
}

/** How simple-shuffle spreads a group: evenly, or by each deployment's `weight` (else `rpm`, else `tpm`). */
type Spread = { readonly even: true } | { readonly even: false; readonly shares: ReadonlyMap<CompiledDeployment, number> };

/**
 * Picks the deployment of a model group for one attempt, by the configured routing strategy, among those that are
 * not cooling down and not already tried by this call. Null when none is left (or, usage-based, none below its
 * limits). Cheap when nothing is excluded: no candidate list is built.
 */
export class DeploymentChooser {
  private readonly stats = new Map<CompiledDeployment, DeploymentStats>();
  private readonly spreads = new WeakMap<ModelGroup, Spread>();

  constructor(
    private readonly options: ChooserOptions,
    private readonly state: RouterState,
  ) {}

  get strategy(): RoutingStrategy {
    return this.options.strategy;
  }

  choose(group: ModelGroup, tried: readonly CompiledDeployment[] | null): CompiledDeployment | null | Promise<CompiledDeployment | null> {
    const all = group.deployments;
    const candidates = tried === null && this.state.activeCooldowns === 0 ? all : this.available(all, tried);
    if (candidates.length === 0) return null;
    switch (this.options.strategy) {
      case 'simple-shuffle':
        return this.shuffle(group, candidates, tried === null);
      case 'least-busy':
        return this.leastBusy(group, candidates, tried === null);
      case 'latency-based-routing':
        return this.lowestLatency(candidates);
      case 'usage-based-routing-v2':
        return this.lowestUsage(candidates);
    }
  }

  statsOf(deployment: CompiledDeployment): DeploymentStats {
    let stats = this.stats.get(deployment);
    if (stats === undefined) {
      stats = { inFlight: 0, latencies: [], endedAt: [] };
      this.stats.set(deployment, stats);
    }
    return stats;
  }

  recordLatency(deployment: CompiledDeployment, ms: number): void {
    const stats = this.statsOf(deployment);
    stats.latencies.push(ms);
    stats.endedAt.push(Date.now());
    if (stats.latencies.length > this.options.latencySamples) {
      stats.latencies.shift();
      stats.endedAt.shift();
    }
  }

  private available(all: readonly CompiledDeployment[], tried: readonly CompiledDeployment[] | null): CompiledDeployment[] {
    const now = Date.now();
    return all.filter((d) => (tried === null || !tried.includes(d)) && !this.state.isCoolingDown(d.modelId, now));
  }

  /** LiteLLM's simple-shuffle. Without weights it is an even spread, kept round robin as Gatehouse always did. */
  private shuffle(group: ModelGroup, candidates: readonly CompiledDeployment[], firstPick: boolean): CompiledDeployment {
    const spread = this.spreadOf(group);
    if (spread.even) return inRotation(group, candidates, firstPick);
    let total = 0;
    for (const d of candidates) total += spread.shares.get(d) ?? 0;
    // Only deployments without a share are left: LiteLLM then picks among them at random.
    if (total <= 0) return candidates[Math.floor(Math.random() * candidates.length)];
    let point = Math.random() * total;
    for (const d of candidates) {
      point -= spread.shares.get(d) ?? 0;
      if (point < 0) return d;
    }
    return candidates[candidates.length - 1];
  }

  private spreadOf(group: ModelGroup): Spread {
    let spread = this.spreads.get(group);
    if (spread === undefined) {
      spread = spreadOf(group.deployments);
      this.spreads.set(group, spread);
    }
    return spread;
  }

  /** Fewest calls in flight on this instance; ties go round robin. */
  private leastBusy(group: ModelGroup, candidates: readonly CompiledDeployment[], firstPick: boolean): CompiledDeployment {
    let fewest = Number.POSITIVE_INFINITY;
    for (const d of candidates) fewest = Math.min(fewest, this.statsOf(d).inFlight);
    return inRotation(group, candidates.filter((d) => this.statsOf(d).inFlight === fewest), firstPick);
  }

  /**
   * Lowest average of the recent latencies; a deployment not measured yet counts as 0, so each is tried. With a
   * buffer, every deployment within `buffer` of the fastest is a candidate and one is picked at random (LiteLLM's
   * `lowest_latency_buffer`, so the fastest is not the only one to get traffic).
   */
  private lowestLatency(candidates: readonly CompiledDeployment[]): CompiledDeployment {
    const oldest = Date.now() - this.options.latencyTtlMs;
    const averages = candidates.map((d) => this.averageLatency(d, oldest));
    const lowest = Math.min(...averages);
    const limit = lowest * (1 + this.options.latencyBuffer);
    const near = candidates.filter((_, index) => averages[index] <= limit);
    return near[Math.floor(Math.random() * near.length)];
  }

  private averageLatency(deployment: CompiledDeployment, oldest: number): number {
    const stats = this.stats.get(deployment);
    if (stats === undefined) return 0;
    let sum = 0;
    let count = 0;
    stats.endedAt.forEach((at, index) => {
      if (at >= oldest) {
        sum += stats.latencies[index];
        count++;
      }
    });
    return count === 0 ? 0 : sum / count;
  }

  /**
   * LiteLLM's usage-based-routing-v2: the deployment that used the fewest tokens this minute, among those still
   * below their `tpm` and `rpm`. The counts are every instance's (Redis), so this strategy reads them per call.
   */
  private async lowestUsage(candidates: readonly CompiledDeployment[]): Promise<CompiledDeployment | null> {
    const usage = await this.state.usage(candidates.map((d) => d.modelId));
    let best: CompiledDeployment | null = null;
    let bestTokens = Number.POSITIVE_INFINITY;
    candidates.forEach((d, index) => {
      const { tokens, requests } = usage[index];
      if ((d.tpm !== null && tokens >= d.tpm) || (d.rpm !== null && requests + 1 > d.rpm)) return;
      if (tokens < bestTokens) {
        best = d;
        bestTokens = tokens;
      }
    });
    return best;
  }
}

function spreadOf(deployments: readonly CompiledDeployment[]): Spread {
  for (const field of ['weight', 'rpm', 'tpm'] as const) {
    if (deployments.some((d) => d[field] !== null)) {
      return { even: false, shares: new Map(deployments.map((d) => [d, d[field] ?? 0])) };
    }
  }
  return { even: true };
}

/**
 * The next deployment in the group's rotation that is a candidate. Only a call's first pick moves the rotation on,
 * so a call's retries do not shift where the next call starts.
 */
function inRotation(group: ModelGroup, candidates: readonly CompiledDeployment[], firstPick: boolean): CompiledDeployment {
  const start = firstPick ? DeploymentTable.nextStart(group) : group.cursor;
  if (candidates.length === group.deployments.length) return group.deployments[start];
  const count = group.deployments.length;
  for (let k = 0; k < count; k++) {
    const d = group.deployments[(start + k) % count];
    if (candidates.includes(d)) return d;
  }
  return candidates[0];
}
