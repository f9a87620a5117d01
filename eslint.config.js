// Lint rules: typescript-eslint's type-aware recommended set, plus the conventions in
// project's conventions: `node:` imports, explicit `.js` import extensions, no console outside the CLI.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'kimura-data/**', '.tmp/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname }
    },
    rules: {
      'no-console': 'error',
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '^(assert|buffer|child_process|crypto|events|fs|http|net|os|path|perf_hooks|process|stream|timers|url|util|worker_threads|zlib)(/.*)?$',
          message: 'Use the node: prefix for built-in modules.'
        }]
      }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }]
    }
  },
  {
    // The CLI, the benchmarks and test helpers talk to a terminal on purpose.
    files: ['src/main/cli/**/*.ts', 'src/main.ts', 'benchmarks/**/*.ts'],
    rules: { 'no-console': 'off' }
  }
)
