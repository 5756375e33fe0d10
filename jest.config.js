import { availableParallelism } from 'node:os'

// ts-jest's ESM preset: the action and @actions/core 3 are ESM-only.
const tsJest = ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }]

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node'
}

export default {
  // A global option: jest ignores it inside a project. Integration tests run the action for real.
  testTimeout: 120000,
  // One temporary folder per test run (TMPDIR), removed at its end: the tests leave nothing in /tmp.
  globalSetup: '<rootDir>/__tests__/support/tempRootSetup.mjs',
  globalTeardown: '<rootDir>/__tests__/support/tempRootTeardown.mjs',
  // The slow files first when jest has no times of an earlier run (a fresh clone): see the file.
  testSequencer: '<rootDir>/__tests__/support/slowFirstSequencer.mjs',
  // Three files per core: an integration file spends most of its time waiting on moto and on the action's
  // own waits (one file alone kept a 2-core machine 54 % idle). Measured on a 2-core machine, the whole
  // suite: 2 workers 399 s, 4 workers 311 s (26 % idle), 6 workers 230 s (8 % idle); jest's default,
  // cores - 1, is one file at a time there.
  maxWorkers: Math.max(2, availableParallelism() * 3),
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'] },
    // Builds src/ into a scratch folder (about a minute): apart, so that the unit tests start in seconds.
    { ...common, displayName: 'dist', testMatch: ['<rootDir>/__tests__/dist/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/integration/**/*.test.ts']
    }
  ]
}
