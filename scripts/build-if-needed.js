#!/usr/bin/env node
// `npm start` on a fresh checkout (or after a pull) builds first; an up-to-date build starts at once.
const { execSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'dist', 'src', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

const sources = Math.max(
  newestMtime(join(root, 'src')),
  // examples/ is built too: the log delivery thread loads the example destination module from dist/ under Jest.
  newestMtime(join(root, 'examples')),
  statSync(join(root, 'ormconfig.ts')).mtimeMs,
  statSync(join(root, 'tsconfig.json')).mtimeMs,
  statSync(join(root, 'tsconfig.build.json')).mtimeMs,
);
if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
  console.error('[gatehouse] building (dist/ is missing or older than src/) ...');
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
}
