import { Worker } from 'node:worker_threads';
import type { CompileOutcome } from './custom-pattern';

/** Far above what 20 patterns of 500 characters take (a few seconds at worst, ~0.1 ms for ordinary ones). */
const CHECK_TIMEOUT_MS = 15_000;

/**
 * Compiling is cheap for ordinary patterns, but RE2 expands counted repetitions and Unicode classes when it
 * compiles: a contrived 500-character pattern takes a quarter of a second. The API therefore compiles off the
 * request loop, in this one long-lived thread, and the request awaits the answer. Same steps as
 * `compileOutcome` (custom-pattern.ts); its spec checks both give the same outcomes.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { RE2JS, RE2JSSyntaxException } = require(workerData.re2js);
parentPort.on('message', ({ id, sources }) => {
  const outcomes = sources.map((source) => {
    try {
      return { programSize: RE2JS.compile(source).programSize() };
    } catch (error) {
      if (error instanceof RE2JSSyntaxException) return { error: error.error, fragment: error.input ?? '', message: error.message };
      return { error: '', fragment: '', message: String(error && error.message) };
    }
  });
  parentPort.postMessage({ id, outcomes });
});
`;

interface Pending {
  readonly resolve: (outcomes: CompileOutcome[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** One thread for the process, started on first use; it holds the process open only while a check is pending. */
class PatternCheckThread {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  compile(sources: readonly string[]): Promise<CompileOutcome[]> {
    if (sources.length === 0) return Promise.resolve([]);
    const worker = this.worker ?? this.start();
    const id = ++this.nextId;
    return new Promise<CompileOutcome[]>((resolve, reject) => {
      const timer = setTimeout(() => this.abandon(new Error(`the pattern check did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      worker.ref();
      worker.postMessage({ id, sources });
    });
  }

  private start(): Worker {
    const worker = new Worker(THREAD_SOURCE, { eval: true, name: 'gatehouse-pattern-check', workerData: { re2js: require.resolve('re2js') } });
    worker.on('message', ({ id, outcomes }: { id: number; outcomes: CompileOutcome[] }) => {
      const waiting = this.pending.get(id);
      if (waiting === undefined) return;
      this.pending.delete(id);
      clearTimeout(waiting.timer);
      if (this.pending.size === 0) worker.unref();
      waiting.resolve(outcomes);
    });
    worker.on('error', (error: Error) => this.abandon(error));
    worker.on('exit', () => this.abandon(new Error('the pattern check thread stopped')));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Fails every waiting check and drops the thread; the next check starts a new one. */
  private abandon(error: Error): void {
    const worker = this.worker;
    this.worker = null;
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.pending.clear();
    if (worker !== null) {
      worker.removeAllListeners();
      worker.on('error', () => undefined); // whatever it still reports, nobody is waiting for it
      void worker.terminate();
    }
  }
}

const thread = new PatternCheckThread();

/** Compiles each pattern with RE2 in the pattern-check thread; the outcomes are in the same order. */
export function compileOffThread(sources: readonly string[]): Promise<CompileOutcome[]> {
  return thread.compile(sources);
}
