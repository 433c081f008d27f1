// Lint for what the compiler cannot see: import cycles, imports that resolve to nothing, and the
// boundaries between layers (README's architecture). Part of `npm test`; an error fails it.
// Not yet: renderer features importing each other (31 imports on 2026-12-07, shared widgets and
// formatters that belong in renderer/ui/) and a formatter.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';


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
            { target: ['./electron/contract.ts', './electron/*-spec.ts'], from: './electron/control', message: 'the contract depends on nothing of the control plane' },
          ],
        },
      ],
    },
  },
);
