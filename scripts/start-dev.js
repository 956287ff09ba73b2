#!/usr/bin/env node
// `npm run start:dev`: the gateway restarted on every source change, with nothing beyond TypeScript and Node.
// `tsc --watch` recompiles what changed into dist/ (the same tsconfig as `npm run build`); after each build without
// errors the running gateway gets SIGTERM, and once its graceful shutdown is over (the embedded database's lock
// released) a new one starts. After a build with errors the running gateway is left alone. Arguments are passed to
// the gateway: `npm run start:dev -- --config my.yaml`.
//
// Not `node --watch`: in watch mode Node posts its own "watch:require" messages to every worker thread's parent
// port (nodejs/node#65044), and the embedded database's and the delivery thread's workers take them for theirs.
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const tsc = spawn(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--watch', '--preserveWatchOutput'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});

let gateway = null;
let stopping = false;
let restarting = Promise.resolve();

function startGateway() {
  const child = spawn(process.execPath, ['dist/src/main.js', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  child.once('exit', () => {
    if (gateway === child) gateway = null;
  });
  gateway = child;
}

function restartGateway() {
  restarting = restarting.then(async () => {
    if (stopping) return;
    const running = gateway;
    if (running !== null) {
      console.log('[start:dev] source changed: restarting the gateway');
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    }
    if (!stopping) startGateway();
  });
}

// tsc ends every build with "Found N error(s). Watching for file changes." (chunks may split the line).
let pending = '';
tsc.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString();
  let match;
  while ((match = /Found (\d+) errors?\. Watching for file changes\./.exec(pending)) !== null) {
    pending = pending.slice(match.index + match[0].length);
    if (match[1] === '0') restartGateway();
    else console.log('[start:dev] build failed: the gateway keeps running the last build that compiled');
  }
});

function stop() {
  if (stopping) return;
  stopping = true;
  tsc.kill('SIGTERM');
  if (gateway !== null) gateway.kill('SIGTERM');
}
tsc.once('exit', stop);
// Ctrl-C reaches every process of the terminal's group; `kill <this pid>` only this one: both end the children.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stop);
