'use strict';
// Child processes of the benchmark: started on loopback, waited for, paused while another process is under
// test (SIGSTOP/SIGCONT, so idle background work of one target never lands in another's numbers), and always
// stopped at the end — by their own pids, never by name.
const { spawn } = require('node:child_process');
const { createServer } = require('node:net');
const { descendants, cmdline } = require('./procstat');

const children = new Set();

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a process. `name` labels errors; `readyLine` (RegExp) resolves when stdout prints it, with the match.
 * Returns { name, child, pid, output(), ready }.
 */
function startProcess(name, command, args, { env, cwd, readyLine } = {}) {
  // Each target in a process group of its own: when the bench's group is orphaned (the shell that started it in the
  // background exits), the kernel sends SIGHUP to that group if a member is stopped, and a target paused with SIGSTOP
  // would die of it mid-run. Children are still killed when the bench exits (killAllNow, the signal handlers).
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let tail = '';
  const keep = (chunk) => {
    tail += chunk.toString();
    if (tail.length > 64 * 1024) tail = tail.slice(-32 * 1024);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => children.delete(child));
  const proc = {
    name,
    child,
    pid: child.pid,
    measuredPid: child.pid,
    paused: false,
    output: () => tail,
    exited,
    ready: null,
  };
  if (readyLine) {
    proc.ready = new Promise((resolve, reject) => {
      let seen = '';
      const onData = (chunk) => {
        seen += chunk.toString();
        const match = readyLine.exec(seen);
        if (match) {
          child.stdout.off('data', onData);
          resolve(match);
        }
      };
      child.stdout.on('data', onData);
      exited.then(({ code, signal }) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${tail.slice(-4000)}`)));
    });
  }
  return proc;
}

/** Polls `url` until it answers 2xx (or the process exits / time runs out). */
async function waitForHttp(proc, url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  proc.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${proc.name} exited before it answered:\n${proc.output().slice(-4000)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms:\n${proc.output().slice(-4000)}`);
    await sleep(200);
  }
}

/** The pid to measure for a process started through a wrapper (npm exec → sh → node): a descendant matching. */
function findDescendant(proc, pattern) {
  for (const pid of descendants(proc.pid)) {
    if (pattern.test(cmdline(pid))) return pid;
  }
  return null;
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function pause(proc) {
  if (proc.paused) return;
  signal(proc.measuredPid, 'SIGSTOP');
  proc.paused = true;
}

function resume(proc) {
  if (!proc.paused) return;
  signal(proc.measuredPid, 'SIGCONT');
  proc.paused = false;
}

/** SIGTERM (after SIGCONT), then SIGKILL after `graceMs`. */
async function stop(proc, graceMs = 5000) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  resume(proc);
  // A wrapper (npm exec → sh → node) does not always pass signals on: signal the whole tree, leaves first.
  const tree = [...descendants(proc.pid).reverse(), proc.pid];
  const commands = new Map(tree.map((pid) => [pid, cmdline(pid)]));
  for (const pid of tree) signal(pid, 'SIGTERM');
  const timer = sleep(graceMs).then(() => 'timeout');
  if ((await Promise.race([proc.exited, timer])) === 'timeout') signal(proc.pid, 'SIGKILL');
  await proc.exited;
  // Anything of the tree still alive now is an orphan of ours.
  for (const pid of tree) if (pid !== proc.pid && cmdline(pid) === commands.get(pid)) signal(pid, 'SIGKILL');
}

/** Last resort on exit: every child still alive gets SIGCONT + SIGKILL (by pid). */
function killAllNow() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      signal(child.pid, 'SIGCONT');
      for (const pid of descendants(child.pid)) signal(pid, 'SIGKILL');
      signal(child.pid, 'SIGKILL');
    }
  }
}

/** Runs a bench script's main: every child is killed, then the exit code is 0, or 1 after printing what threw. */
function runMain(main) {
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(130));
  main().then(
    () => {
      killAllNow();
      process.exit(0);
    },
    (error) => {
      console.error(error);
      killAllNow();
      process.exit(1);
    },
  );
}

module.exports = { freePort, sleep, startProcess, waitForHttp, findDescendant, pause, resume, stop, killAllNow, runMain };
