/**
 * Test-only. `langfuse-core` probes Node at load time with `import('fs')` / `import('crypto')`. Inside Jest's VM
 * without `--experimental-vm-modules` that import rejects, nothing handles the rejection, and Jest fails the whole
 * test file. Loading the package once while `process.versions.node` is hidden makes it take its edge-runtime branch
 * (no dynamic import; WebCrypto), and Jest's module registry then hands that instance to the code under test.
 * The only feature that differs is media upload from base64 data URIs, which the destination tests do not use.
 * Import this module first (or list it in Jest `setupFiles`) in any test that loads the Langfuse destination.
 */
const realVersions = process.versions;
Object.defineProperty(process, 'versions', { value: { ...realVersions, node: undefined }, configurable: true, writable: true });
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('langfuse');
} finally {
  Object.defineProperty(process, 'versions', { value: realVersions, configurable: true, writable: true });
}

export {};
