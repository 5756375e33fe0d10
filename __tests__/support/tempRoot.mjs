// Jest's globalSetup and globalTeardown: every test run gets one temporary folder of its own (TMPDIR, which
// os.tmpdir() reads, inherited by the test workers and the processes they start), removed when the run
// ends, so that no test leaves its folders in the machine's /tmp.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const VARIABLE = 'ROTEL_TEST_TMPDIR'

export async function setup() {
  const root = mkdtempSync(join(tmpdir(), 'rotel-tests-'))
  process.env[VARIABLE] = root
  process.env.TMPDIR = root
}

export async function teardown() {
  const root = process.env[VARIABLE]
  if (root) rmSync(root, { recursive: true, force: true })
}
