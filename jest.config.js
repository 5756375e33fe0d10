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
