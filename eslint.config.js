// ESLint flat config: ESLint's and typescript-eslint's recommended rules over the whole repository.
// Types are checked by `npm run typecheck` (tsc, strict); these rules look for likely mistakes.
// A rule is relaxed only with a comment saying which deliberate pattern of the code it would fight.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // Generated, local or throw-away files.
    ignores: ['node_modules/', '.data/', 'dist/', 'coverage/', 'scratch/', 'migrations/', 'bench/results/', 'web/dist/', 'web/src/api/schema.d.ts'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // The few plain JavaScript files (bin/, scripts/, this config) run on Node.js as ES modules.
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
  {
    // Tests and their helpers poke into JSON bodies and log lines, which `inject(...).json()` and
    // `JSON.parse` already return as `any`; spelling that out (`Record<string, any>`) is the same
    // thing and not worth a cast per field. Production code keeps the rule.
    files: ['**/*.test.ts', 'test/**/*.ts', 'src/test-support/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    rules: {
      // Generators cannot be arrow functions, so an async generator built inside a method (a stream
      // of search pages, of export rows) reaches its instance through an alias: `const search = this`.
      '@typescript-eslint/no-this-alias': 'off',
      // `_name` marks a parameter or binding left unused on purpose, e.g. `async (_request, reply) =>`.
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_',
        varsIgnorePattern: '^_',
        caughtErrorsIgnorePattern: '^_',
        destructuredArrayIgnorePattern: '^_',
      }],
    },
  },
);
