// Type-aware linting (typescript-eslint's recommended-type-checked), zero warnings, run by .ci/run.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/**', 'scripts/**', 'coverage/**', '.data/**', 'test/support/real-env-environment.js', 'test/support/otlp/export-with-sdk.js', 'test/support/tracing/loaded-modules.js', 'eslint.config.mjs', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Destructuring a field away (`const { user: _user, ...rest } = o`) is how a copy leaves one out.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
);
