/**
 * Test-only. `langfuse-core` probes Node at load time with `import('fs')` / `import('crypto')`. Inside Jest's VM
 * without `--experimental-vm-modules` that import rejects, nothing handles the rejection, and Jest fails the whole
 * test file. Loading the package once while `process.versions.node` is hidden makes it take its edge-runtime branch
 * (no dynamic import), and Jest's module registry then hands that instance to the code under test.
 *
 * That branch keeps the global `crypto` (WebCrypto) for hashing media, and WebCrypto has no `createHash`: every
 * base64 data URI in an event failed to upload, with a stack trace on the console. So during the load the global
 * `crypto` is Node's `crypto` module — what the Node branch imports in production — and media uploads run in the
 * tests as in the gateway. Import this module first (or list it in Jest `setupFiles`) in any test that loads the
 * Langfuse destination.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeCrypto = require('node:crypto') as typeof import('node:crypto');
const realVersions = process.versions;
const realCrypto = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
Object.defineProperty(process, 'versions', { value: { ...realVersions, node: undefined }, configurable: true, writable: true });
Object.defineProperty(globalThis, 'crypto', { value: nodeCrypto, configurable: true, writable: true });
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('langfuse');
} finally {
  Object.defineProperty(process, 'versions', { value: realVersions, configurable: true, writable: true });
  if (realCrypto) Object.defineProperty(globalThis, 'crypto', realCrypto);
  else delete (globalThis as { crypto?: unknown }).crypto;
}

export {};
