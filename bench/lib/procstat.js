'use strict';
// CPU time and memory of a process from /proc (Linux): what the process under test spent, not what the
// machine did. utime + stime cover every thread of the process (JS thread, GC helpers, libuv pool).
const { readFileSync, readdirSync } = require('node:fs');
const { execFileSync } = require('node:child_process');

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // 100 on every Linux this runs on
}

/** CPU seconds (user + system) the process has used so far, or null when it is gone. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond;
  } catch {
    return null;
  }
}

function statCpuSeconds(path) {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/**
 * CPU seconds of the request loop (the main thread: its task id is the pid) and of the gateway's log delivery
 * thread (the OS thread named after its Worker, `gatehouse-delivery`, truncated to 15 characters), or null.
 */
function threadCpuSeconds(pid) {
  try {
    let delivery = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let name = '';
      try {
        name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        if (name.startsWith('gatehouse-deliv')) delivery += statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
      } catch {
        // the thread ended meanwhile
      }
    }
    return { main: statCpuSeconds(`/proc/${pid}/task/${pid}/stat`), delivery };
  } catch {
    return null;
  }
}

/** { rss, hwm } in bytes (current resident set and its high-water mark since start), or null. */
function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      return match ? Number(match[1]) * 1024 : 0;
    };
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Pids of every descendant of `pid` (children, grandchildren, ...). */
function descendants(pid) {
  const parentOf = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(name), Number(fields[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift();
    for (const [child, parent] of parentOf) {
      if (parent === current) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Samples the resident set of `pid` every `everyMs` until stopped; `stop()` returns the largest seen. */
function rssSampler(pid, everyMs = 100) {
  let peak = memory(pid)?.rss ?? 0;
  const timer = setInterval(() => {
    const now = memory(pid);
    if (now && now.rss > peak) peak = now.rss;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const now = memory(pid);
      if (now && now.rss > peak) peak = now.rss;
      return peak;
    },
  };
}

module.exports = { cpuSeconds, threadCpuSeconds, memory, descendants, cmdline, rssSampler, ticksPerSecond };
