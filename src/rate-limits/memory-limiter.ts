import { refusalOf, type Descriptor, type DescriptorUsage, type LimitType } from './rate-limit-descriptors';

/** The limiter's answer for a call: its counters per descriptor (in the call's order) and what refused it, if anything. */
export interface LimitDecision {
  /** Index of the descriptor that refused the call, -1 when admitted. */
  readonly refusedAt: number;
  readonly refusedType: LimitType | null;
  readonly usage: readonly DescriptorUsage[];
}

interface Window {
  /** When the first call of the window came (LiteLLM anchors its fixed windows there). */
  readonly start: number;
  requests: number;
  tokens: number;
}

/**
 * Counters of one process: fixed windows anchored at their first call, kept in a map and dropped lazily (a window
 * read after its end counts as none; a sweep at most once a window removes the ended ones, so memory stays
 * bounded by the descriptors active within a window). Calls in flight are counted apart, without a window.
 * Time comes from `now`, the injectable clock, so tests can move it.
 */
export class MemoryLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly inFlight = new Map<string, number>();
  private nextSweepAt: number;

  constructor(
    private readonly now: () => number,
    readonly windowMs: number,
  ) {
    this.nextSweepAt = now() + windowMs;
  }

  /** How many windows and in-flight counters are held (tests: memory stays bounded). */
  get size(): number {
    return this.windows.size + this.inFlight.size;
  }

  /** Counts the call against every descriptor, or against none when one of them refuses it. */
  acquire(descriptors: readonly Descriptor[]): LimitDecision {
    const now = this.now();
    if (now >= this.nextSweepAt) this.sweep(now);
    const usage: DescriptorUsage[] = [];
    let refusedAt = -1;
    let refusedType: LimitType | null = null;
    for (let index = 0; index < descriptors.length; index++) {
      const descriptor = descriptors[index];
      const window = this.liveWindow(descriptor.counterKey, now);
      const current: DescriptorUsage = {
        requests: window?.requests ?? 0,
        tokens: window?.tokens ?? 0,
        inFlight: this.inFlight.get(descriptor.counterKey) ?? 0,
        resetMs: window !== null ? window.start + this.windowMs - now : this.windowMs,
      };
      usage.push(current);
      if (refusedAt === -1) {
        const refusal = refusalOf(descriptor, current);
        if (refusal !== null) {
          refusedAt = index;
          refusedType = refusal;
        }
      }
    }
    if (refusedAt !== -1) return { refusedAt, refusedType, usage };
    for (let index = 0; index < descriptors.length; index++) {
      const descriptor = descriptors[index];
      const before = usage[index];
      let requests = before.requests;
      if (descriptor.rpm !== null || descriptor.tpm !== null) {
        const window = this.liveWindow(descriptor.counterKey, now) ?? this.openWindow(descriptor.counterKey, now);
        requests = ++window.requests;
      }
      let inFlight = before.inFlight;
      if (descriptor.maxParallel !== null) {
        inFlight += 1;
        this.inFlight.set(descriptor.counterKey, inFlight);
      }
      usage[index] = { requests, tokens: before.tokens, inFlight, resetMs: before.resetMs };
    }
    return { refusedAt, refusedType, usage };
  }

  /** The call is over: its parallel slots are freed and its tokens counted in each tpm-limited descriptor's window. */
  release(descriptors: readonly Descriptor[], tokens: number): void {
    const now = this.now();
    for (const descriptor of descriptors) {
      if (descriptor.maxParallel !== null) {
        const left = (this.inFlight.get(descriptor.counterKey) ?? 0) - 1;
        if (left > 0) this.inFlight.set(descriptor.counterKey, left);
        else this.inFlight.delete(descriptor.counterKey);
      }
      if (descriptor.tpm !== null && tokens > 0) {
        // Tokens count in the window they were used in: the current one, or a new one when the call's has ended.
        const window = this.liveWindow(descriptor.counterKey, now) ?? this.openWindow(descriptor.counterKey, now);
        window.tokens += tokens;
      }
    }
  }

  private liveWindow(key: string, now: number): Window | null {
    const window = this.windows.get(key);
    return window !== undefined && now - window.start < this.windowMs ? window : null;
  }

  private openWindow(key: string, now: number): Window {
    const window: Window = { start: now, requests: 0, tokens: 0 };
    this.windows.set(key, window);
    return window;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start >= this.windowMs) this.windows.delete(key);
    }
    this.nextSweepAt = now + this.windowMs;
  }
}
