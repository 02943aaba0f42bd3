// Lint for the whole TypeScript tree (run by `npm test` through `npm run lint`): typescript-eslint's recommended rules,
// plus the few that catch real mistakes in this code base (floating promises are left to review: they need type info).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist*/**', 'node_modules/**', '.tools/**', 'bench/out/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // An empty catch is how this code says "best effort, nothing to report" (closing a socket that may be gone …).
  {rules: {'no-empty': ['error', {allowEmptyCatch: true}]}},
  {
    files: ['**/*.ts'],
    rules: {
      // Test helpers parse CLI JSON output of many shapes; `any` there is deliberate.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'}],
      'no-control-regex': 'off',
      eqeqeq: ['error', 'always'],
      'prefer-const': 'error',
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: {globals: {process: 'readonly', console: 'readonly'}},
  },
)
