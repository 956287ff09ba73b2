import { isMainThread } from 'node:worker_threads';

/**
 * V8's young generation, sized for a gateway (issue 29). Node 24 lets each isolate's young generation grow to
 * 3 × 64 MB semi-spaces while the live data of a loaded gateway is ~50 MB: the pages, once grown, stay resident.
 * 16 MB semi-spaces keep most of the saving (8 MB saved 140–300 MB more under load) without what 8 MB cost
 * allocation-heavy paths: with the gateway's own tracing on, 1.32× the CPU per request of tracing off at 8 MB,
 * 1.07× at 16 MB and 1.06× at 64 (bench/ab.js); README, "Memory and V8 settings".
 *
 * The flag sizes a heap when it is created, so `v8.setFlagsFromString` at start-up is too late for the main
 * isolate (measured: no effect). `reexecWithHeapFlags` replaces the process, once, with the same node, the flag and
 * the same arguments (`process.execve`: same pid, same stdio); the worker threads get the equivalent
 * `resourceLimits.maxYoungGenerationSizeMb`.
 */
export const SEMI_SPACE_MB = 16;

/** Set in the environment of the re-executed process: never a second time. */
export const HEAP_FLAGS_MARKER = 'GATEHOUSE_HEAP_FLAGS_APPLIED';

const SEMI_SPACE_FLAG = /^--max[-_]semi[-_]space[-_]size(?:=(\d+))?$/;

export interface SemiSpaceSetting {
  /** Semi-space size in MB, or null when the flag is not set (V8's default). */
  megabytes: number | null;
  /** Who set it: the operator (NODE_OPTIONS or node's command line), Gatehouse's re-exec, or nobody. */
  source: 'operator' | 'gatehouse' | 'node default';
}

/** The semi-space flag as this process was started with, and who set it. */
export function semiSpaceSetting(execArgv: readonly string[], env: NodeJS.ProcessEnv): SemiSpaceSetting {
  const fromOptions = (env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
  // NODE_OPTIONS is applied before the command line: the command line's value wins when both set it.
  const flags = [...fromOptions, ...execArgv].filter((arg) => SEMI_SPACE_FLAG.test(arg));
  if (flags.length === 0) return { megabytes: null, source: 'node default' };
  const last = flags[flags.length - 1];
  const value = SEMI_SPACE_FLAG.exec(last)?.[1];
  const megabytes = value === undefined ? null : Number(value);
  const ours = env[HEAP_FLAGS_MARKER] === '1' && last === `--max-semi-space-size=${SEMI_SPACE_MB}` && execArgv.includes(last);
  return { megabytes, source: ours ? 'gatehouse' : 'operator' };
}

/** The arguments to re-execute with, or null when nothing is to be done (already set, already re-executed). */
export function heapFlagsArgs(execPath: string, execArgv: readonly string[], argv: readonly string[], env: NodeJS.ProcessEnv): string[] | null {
  if (env[HEAP_FLAGS_MARKER] !== undefined) return null;
  if (semiSpaceSetting(execArgv, env).source !== 'node default') return null;
  return [execPath, ...execArgv, `--max-semi-space-size=${SEMI_SPACE_MB}`, ...argv.slice(1)];
}

/**
 * Re-executes this process with the young-generation flag unless the operator set it (NODE_OPTIONS or node's
 * command line win) or it was done already. Call it before anything else runs: the process is replaced.
 */
export function reexecWithHeapFlags(proc: NodeJS.Process = process): void {
  if (!isMainThread || typeof proc.execve !== 'function') return;
  const args = heapFlagsArgs(proc.execPath, proc.execArgv, proc.argv, proc.env);
  if (!args) return;
  proc.execve(proc.execPath, args, { ...proc.env, [HEAP_FLAGS_MARKER]: '1' });
}

/** `resourceLimits` for a worker thread: a young generation of three semi-spaces of the main isolate's size. */
export function workerHeapLimits(setting: SemiSpaceSetting = semiSpaceSetting(process.execArgv, process.env)): { maxYoungGenerationSizeMb: number } | undefined {
  if (setting.megabytes === null || setting.megabytes <= 0) return undefined;
  return { maxYoungGenerationSizeMb: 3 * setting.megabytes };
}
