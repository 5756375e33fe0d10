/**
 * Safe rollouts (issue 14): canary and failure-tolerance. dist/index.js runs against moto through the fault
 * proxy, which makes the test invocation of every function carrying the new Rotel layer version fail (its
 * `withLayer` rule reads the function from moto when the Invoke arrives). A failed canary stops the
 * rollout with the rest untouched and reported `skipped`; without a canary, failure-tolerance bounds how
 * many functions are written; a canary that passes lets the whole fleet through. Every function written
 * and rolled back is compared with its whole configuration before the run.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { type FunctionConfiguration, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { ACCOUNT_ID, CREDENTIALS, resetEmulator } from '../../scripts/emulator-fixtures.mjs'
import { type FaultProxy, type RecordedCall, startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { type ActionRun, createFleet, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const REGION = 'us-east-1'
const N = 20
const NAMES = Array.from({ length: N }, (_, index) => `wave-${String(index).padStart(2, '0')}`)
/** Layer versions published: the rollout puts on the last. */
const VERSIONS = 2
const NEW_LAYER = `:layer:rotel-extension-amd64-alpha:${VERSIONS}`

const INPUTS: Readonly<Record<string, string>> = {
  // Listed one a line: the order the canary is taken in.
  functions: NAMES.join('\n'),
  'aws-region': REGION,
  'layer-account': ACCOUNT_ID,
  'otlp-endpoint': 'https://clickstack.example.com:4317',
  'cloudwatch-check-seconds': '0',
  preflight: 'false',
  'annotate-files': 'false'
}

interface Row {
  function: string
  status: string
  error: string | null
}

let port = 0
let endpoint: string
let proxy: FaultProxy
let lambda: LambdaClient
let before: Map<string, FunctionConfiguration>

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  await resetEmulator(endpoint)
  await createFleet(
    endpoint,
    REGION,
    NAMES.map((name) => ({ name, architecture: 'x86_64' as const })),
    VERSIONS
  )
  proxy = await startFaultProxy({ target: endpoint, revisions: true })
  lambda = new LambdaClient({ region: REGION, endpoint, credentials: { ...CREDENTIALS } })
  before = await configurations()
}, 240_000)

afterAll(async () => {
  lambda?.destroy()
  await proxy?.close()
  stopEmulator(port)
})

beforeEach(() => proxy.reset())

/** Every function's whole configuration, read from moto directly, without what any write changes by itself. */
async function configurations(): Promise<Map<string, FunctionConfiguration>> {
  const read = await Promise.all(
    NAMES.map(async (name) => {
      const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
      const { $metadata, LastModified, RevisionId, ...rest } = config as FunctionConfiguration & { $metadata: unknown }
      void $metadata
      void LastModified
      void RevisionId
      return [name, rest] as const
    })
  )
  return new Map(read)
}

async function apply(inputs: Record<string, string>): Promise<{ run: ActionRun; rows: Row[]; calls: RecordedCall[] }> {
  const run = await runAction({
    endpoint: proxy.url,
    inputs: { ...INPUTS, ...inputs },
    env: { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey }
  })
  const rows = JSON.parse(run.outputs.report ?? '[]') as Row[]
  if (rows.length !== N) console.log(run.stdout, run.stderr)
  return { run, rows, calls: [...proxy.calls] }
}

/** The functions the run wrote: every UpdateFunctionConfiguration that reached moto. */
const written = (calls: readonly RecordedCall[]): Set<string> =>
  new Set(
    calls
      .filter((call) => call.operation === 'UpdateFunctionConfiguration' && call.upstreamStatus === 200)
      .map((call) => call.functionName ?? '')
  )
const withStatus = (rows: readonly Row[], status: string): string[] =>
  rows.filter((row) => row.status === status).map((row) => row.function)

const failNewLayer = (): void =>
  proxy.setRules([{ service: 'lambda', operation: 'Invoke', withLayer: NEW_LAYER, fault: 'function-error' }])

describe('a rollout in waves, against moto', () => {
  it('stops after a failed canary of 2: the other 18 untouched and skipped, the 2 back exactly as they were', async () => {
    failNewLayer()
    const { run, rows, calls } = await apply({ canary: '2', 'max-concurrency': '4' })
    expect(run.exitCode).toBe(1)
    expect([...written(calls)].sort()).toEqual(['wave-00', 'wave-01'])
    expect(withStatus(rows, 'rolled-back')).toEqual(['wave-00', 'wave-01'])
    const skipped = rows.filter((row) => row.status === 'skipped')
    expect(skipped.map((row) => row.function)).toEqual(NAMES.slice(2))
    for (const row of skipped)
      expect(row.error).toMatch(
        new RegExp(
          `^${row.function} was not started: the rollout stopped after the canary function wave-0[01] failed\\.$`
        )
      )
    expect(run.stdout).toMatch(
      /::error::The rollout stopped after the canary function wave-0[01] failed: 18 of 20 functions were not started/
    )
    expect(run.stdout).toContain('canary: the first 2 of the functions to be written first')
    expect(run.summary).toContain('18 skipped')
    expect(await configurations()).toEqual(before)
  }, 120_000)

  it('with failure-tolerance 3 and no canary writes at most 3 + max-concurrency, every one back as it was', async () => {
    failNewLayer()
    const { run, rows, calls } = await apply({ 'failure-tolerance': '3', 'max-concurrency': '2' })
    expect(run.exitCode).toBe(1)
    const touched = written(calls)
    console.log(`failure-tolerance 3, max-concurrency 2: wrote ${touched.size} of ${N}`)
    expect(touched.size).toBeGreaterThanOrEqual(4)
    expect(touched.size).toBeLessThanOrEqual(3 + 2)
    expect(withStatus(rows, 'rolled-back').sort()).toEqual([...touched].sort())
    expect(withStatus(rows, 'skipped')).toHaveLength(N - touched.size)
    for (const name of withStatus(rows, 'skipped')) expect(touched.has(name)).toBe(false)
    expect(run.stdout).toMatch(
      new RegExp(
        `::error::The rollout stopped after 4 failures \\(failure-tolerance 3\\): ${N - touched.size} of 20 functions were not started`
      )
    )
    expect(await configurations()).toEqual(before)
  }, 120_000)

  it('plan says what the waves would be, and neither holds nor skips a function', async () => {
    const { run, rows, calls } = await apply({ mode: 'plan', canary: 'wave-03, wave-07', 'failure-tolerance': '5%' })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain(
      'Apply would roll out in waves: canary wave-03, wave-07 first, then the rest once it succeeded; no new function is started after more than 1 failure (failure-tolerance).'
    )
    expect(withStatus(rows, 'planned')).toEqual(NAMES)
    expect(written(calls).size).toBe(0)
  }, 120_000)

  it('lets the whole fleet through once a canary passes', async () => {
    proxy.setRules([])
    const { run, rows, calls } = await apply({ canary: '10%', 'max-concurrency': '4' })
    expect(run.exitCode).toBe(0)
    expect(withStatus(rows, 'updated')).toEqual(NAMES)
    // The canary (the first 2, 10 % of 20) was written before any other function.
    const updates = calls.filter((call) => call.operation === 'UpdateFunctionConfiguration')
    expect(
      updates
        .slice(0, 2)
        .map((call) => call.functionName)
        .sort()
    ).toEqual(['wave-00', 'wave-01'])
    const canaryInvoked = Math.max(
      ...calls
        .filter((c) => c.operation === 'Invoke' && ['wave-00', 'wave-01'].includes(c.functionName ?? ''))
        .map((c) => c.seq)
    )
    const firstOther = Math.min(
      ...updates.filter((call) => !['wave-00', 'wave-01'].includes(call.functionName ?? '')).map((call) => call.seq)
    )
    expect(firstOther).toBeGreaterThan(canaryInvoked)
  }, 120_000)
})
