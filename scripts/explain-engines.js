#!/usr/bin/env node
// Runs after `npm ci` / `npm install`. npm checks every package's `engines` against the Node that runs npm itself,
// so when that Node is older than 24 it warns "EBADENGINE Unsupported engine" for the dev dependencies that want a
// newer one (@google/genai, @sparticuz/chromium). They run only in the tests, and npm scripts run on the pinned
// Node 24 from node_modules/.bin (README, top; this script too, so npm's own Node is read from its user agent):
// say so, so the warnings do not read like a failed install. Kept to syntax every Node since 12 parses.
var REQUIRED_MAJOR = 24;
var npmNode = /\bnode\/v(\d+)\.(\S+)/.exec(process.env.npm_config_user_agent || '');
if (npmNode !== null && Number(npmNode[1]) < REQUIRED_MAJOR) {
  var npmNodeVersion = npmNode[1] + '.' + npmNode[2];
  var major = Number(process.versions.node.split('.')[0]);
  var message =
    major >= REQUIRED_MAJOR
      ? 'npm ran on Node ' + npmNodeVersion + ', so it warned about packages that need a newer Node ("EBADENGINE ' +
        'Unsupported engine"). Nothing to do: npm start, npm test and npm run bench run on Node ' + process.versions.node +
        ' (node_modules/.bin/node, pinned in the lockfile), which those packages accept.'
      : 'Node ' + REQUIRED_MAJOR + ' LTS is needed to run Gatehouse and none is pinned for ' + process.platform + '-' + process.arch +
        ': install Node ' + REQUIRED_MAJOR + ' (.nvmrc names it) and run npm ci again. npm\'s "Unsupported engine" warnings ' +
        'say the same.';
  console.log('\n[gatehouse] ' + message + '\n');
}
