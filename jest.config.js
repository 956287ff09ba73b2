/** Unit specs sit beside the code; end-to-end specs live in test/ and share one database started in globalSetup. */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };
// langfuse-core probes Node with an unhandled dynamic import() that Jest's VM rejects; see the file.
const setupFiles = ['<rootDir>/test/support/loopback-only.ts', '<rootDir>/test/support/preload-langfuse.ts'];
module.exports = {
  // Global, not per project: Jest ignores testTimeout inside `projects`.
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: '.',
      roots: ['<rootDir>/src'],
      testRegex: '\\.spec\\.ts$',
      moduleFileExtensions: ['js', 'json', 'ts'],
      moduleNameMapper: { '^src/(.*)$': '<rootDir>/src/$1' },
      transform,
      setupFiles,
    },
    {
      displayName: 'e2e',
      testEnvironment: '<rootDir>/test/support/real-env-environment.js',
      rootDir: '.',
      roots: ['<rootDir>/test'],
      testRegex: '\\.e2e-spec\\.ts$',
      moduleFileExtensions: ['js', 'json', 'ts'],
      moduleNameMapper: { '^src/(.*)$': '<rootDir>/src/$1' },
      transform,
      setupFiles,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
