// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Every global of the Node that runs the lint (process, console, Buffer, URL, fetch...), for plain JS files. */
const nodeGlobals = Object.fromEntries(
  Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']),
);

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // Type information comes from tsconfig.json, which covers every TypeScript file (src, test, bench and
      // the config files); plain JS files are linted without types (below), so no default project is needed.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Only src/config reads process.env.',
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }] },
  },
  // The module boundaries of docs/architecture.md.
  {
    files: ['src/purge/**', 'src/dcs/**', 'src/huawei/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/queue/*', '**/api/*', '**/cli/*', '**/bin/*', '**/emulator/*', '**/demo/*'],
              message:
                'purge/, dcs/ and huawei/ are the core: they never import queue/, api/, cli/ or the emulator.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/demo/**', 'src/emulator/**', 'src/purge/**', 'src/dcs/**', 'src/huawei/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/emulator/*', '**/demo/*'],
              message:
                'Production code never imports the emulator or the demo (only cli/, demo/ and tests do).',
            },
            {
              group: ['**/bin/*'],
              message: 'Only src/bin is an entry point: nothing imports it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**', 'src/demo/**', 'src/emulator/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/bin/*'],
              message:
                'cli/ never imports bin/: a long-running command returns a service (RunningService) and src/bin waits for the signals.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['src/config/**', 'test/**', 'bench/**', '*.js', '*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      // Tests read fixtures and third-party CommonJS (the Huawei SDK) whose shapes are `any` by nature.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
