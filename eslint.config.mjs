// Lint for what the compiler cannot see: import cycles, imports that resolve to nothing, and the
// boundaries between layers (README's architecture). Part of `npm test`; an error fails it.
// Formatting is Prettier's (.prettierrc.json, `npm run format:check`, also part of `npm test`).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';


const FEATURES = ['autoscaler', 'capacity', 'chaos', 'charts', 'controls', 'data', 'endpoints', 'events', 'guard', 'presenter', 'scenario', 'stack-bar', 'topology', 'traces', 'traffic'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'release/**', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parser: tseslint.parser, parserOptions: { ecmaVersion: 2023, sourceType: 'module' } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] }, 'import-x/extensions': ['.ts', '.tsx', '.js'], 'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.json', 'tsconfig.renderer.json'], noWarnOnMultipleProjects: true })] },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-unresolved': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './backend', from: ['./electron', './renderer'], message: 'the backend imports nothing of ScaleLab' },
            { target: './renderer', from: './electron/control', message: 'the renderer talks to the control plane through the contract only' },
            ...FEATURES.map((f) => ({ target: `./renderer/features/${f}`, from: './renderer/features', except: [`./${f}`], message: 'a feature imports renderer/ui, the store and the contract; the app composes features' })),
            { target: ['./electron/contract.ts', './electron/*-spec.ts'], from: './electron/control', message: 'the contract depends on nothing of the control plane' },
          ],
        },
      ],
    },
  },
);
