// The house rules (README, Development): dependencies point one way, core ← aws, clickstack, github ← run,
// and no module imports itself back through others. `npm test` runs this first.
import { defineConfig } from 'eslint/config'
import tseslint from 'typescript-eslint'
import importX from 'eslint-plugin-import-x'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import house from './scripts/eslint-house.mjs'

const EDGES = ['aws', 'clickstack', 'github']
const RUN = ['./src/run', './src/index.ts']

// An edge talks to one outside system: it uses the core, never another edge or the order of a run.
const edgeZones = EDGES.map((edge) => ({
  target: `./src/${edge}`,
  from: [...EDGES.filter((other) => other !== edge).map((other) => `./src/${other}`), ...RUN],
  message: `src/${edge} is an edge: it may import src/core only, not another edge or src/run.`
}))

// The core decides and does no I/O: the SDKs and the network and file modules only as types.
const IO_MODULES = ['http', 'https', 'http2', 'net', 'fs', 'fs/promises'].flatMap((name) => [name, `node:${name}`])

export default defineConfig(
  // .emulator and .cache hold installed tools (moto's packages carry .js files of their own), not our code.
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'bench/**',
      '__tests__/fixtures/**',
      '.emulator/**',
      '.cache/**'
    ]
  },
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [tseslint.configs.recommended],
    plugins: { 'import-x': importX },
    settings: {
      // Without these import-x reads only .js files, and no-cycle would see no TypeScript module's imports.
      'import-x/extensions': ['.ts', '.mts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver()]
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true
        }
      ],
      // A variable a callback reads before the one assignment that follows it stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'import-x/no-cycle': ['error', { maxDepth: Infinity }]
    }
  },
  {
    files: ['src/**/*.ts'],
    plugins: { house },
    rules: {
      // One module, one job; one function, one step: a file or function past these is doing two.
      'max-lines': ['error', { max: 600 }],
      'max-lines-per-function': ['error', { max: 80 }],
      'house/no-type-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/core',
              from: [...EDGES.map((edge) => `./src/${edge}`), ...RUN],
              message:
                'src/core decides without I/O: it imports no edge (aws, clickstack, github) nor src/run, not even a type.'
            },
            ...edgeZones
          ]
        }
      ]
    }
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: IO_MODULES.map((name) => ({
            name,
            allowTypeImports: true,
            message: 'src/core does no I/O: read and write files and the network in an edge.'
          })),
          patterns: [
            {
              group: ['@aws-sdk/*', '@smithy/*', '@actions/*', '@clickhouse/*'],
              allowTypeImports: true,
              message: 'src/core takes only types from an SDK (import type); calls to it belong in an edge.'
            }
          ]
        }
      ]
    }
  }
)
