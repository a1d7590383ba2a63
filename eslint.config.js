// ESLint flat config: ESLint's and typescript-eslint's recommended rules over the whole repository.
// Types are checked by `npm run typecheck` (tsc, strict); these rules look for likely mistakes.
// A rule is relaxed only with a comment saying which deliberate pattern of the code it would fight.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // Generated, local or throw-away files.
    ignores: ['node_modules/', '.data/', 'dist/', 'coverage/', 'scratch/', 'migrations/', 'bench/results/'],
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
    // Tests poke into JSON response bodies, which `inject(...).json()` already returns as `any`;
    // spelling that out (`Record<string, any>`) is the same thing and not worth a cast per field.
    // Production code keeps the rule.
    files: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    rules: {
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
