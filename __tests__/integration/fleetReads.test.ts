/**
 * The Lambda calls of a fleet that a pattern selects (issue 13): the listing gives every function's
 * configuration, so no function is read on its own, and a `check` costs the listing pages and the layer
 * lookups, ⌈N/50⌉ + 10 calls at most. dist/index.js runs against moto through the fault proxy, which
 * records every call and emulates RevisionId (moto has none), so that a write made on a listed
 * configuration that is stale by then is refused as on Lambda.
 *
 * The tests run in order over one fleet: plan (nothing instrumented yet), apply, then check.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand
} from '@aws-sdk/client-lambda'
import { ACCOUNT_ID, CREDENTIALS, resetEmulator } from '../../scripts/emulator-fixtures.mjs'
import { type FaultProxy, type RecordedCall, startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { type ActionRun, createFleet, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const REGION = 'us-east-1'
/** The functions the pattern selects: half x86_64, half arm64, so both layers are looked up. */
const N = 60
const FLEET: ReadonlyArray<{ name: string; architecture: 'x86_64' | 'arm64' }> = Array.from(
  { length: N },
  (_, index) => ({
    name: `fleet-${String(index).padStart(3, '0')}`,
    architecture: index % 2 === 0 ? 'x86_64' : 'arm64'
  })
)
/** Listed too, not selected. */
const OTHERS = ['other-api', 'other-worker', 'other-job', 'other-cron', 'other-queue']
/** The listing's pages: Lambda gives 50 functions a page (moto 5.2 gives them all in one). */
const PAGES = Math.ceil((N + OTHERS.length) / 50)
/** Changed by someone else between the listing and our write. */
const CHANGED = 'fleet-007'
const THEIRS = { THEIR_FLAG: 'set-by-someone-else' }
/** Still being updated by someone else when we write: Lambda refuses with ResourceConflictException. */
const BUSY = 'fleet-011'

const INPUTS: Readonly<Record<string, string>> = {
  functions: 'fleet-*',
  'aws-region': REGION,
  'layer-account': ACCOUNT_ID,
  'otlp-endpoint': 'https://clickstack.example.com:4317',
  'test-invoke': 'false',
  'cloudwatch-check-seconds': '0',
  'max-concurrency': '16',
  preflight: 'false',
  'annotate-files': 'false'
}

let port = 0
let endpoint: string
let proxy: FaultProxy

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  await resetEmulator(endpoint)
  await createFleet(
    endpoint,
    REGION,
    [...FLEET, ...OTHERS.map((name) => ({ name, architecture: 'x86_64' as const }))],
    5
  )
  proxy = await startFaultProxy({ target: endpoint, revisions: true })
}, 240_000)

afterAll(async () => {
  await proxy?.close()
  stopEmulator(port)
})

async function runMode(mode: string): Promise<{ run: ActionRun; calls: RecordedCall[] }> {
  const first = proxy.calls.length
  const run = await runAction({
    endpoint: proxy.url,
    inputs: { ...INPUTS, mode },
    env: { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey }
  })
  return { run, calls: proxy.calls.slice(first) }
}

const lambdaCalls = (calls: readonly RecordedCall[]): RecordedCall[] =>
  calls.filter((call) => call.service === 'lambda')
const reads = (calls: readonly RecordedCall[]): RecordedCall[] =>
  calls.filter((call) => call.operation === 'GetFunction' || call.operation === 'GetFunctionConfiguration')
const statuses = (run: ActionRun): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const row of JSON.parse(run.outputs.report ?? '[]') as Array<{ status: string }>)
    counts[row.status] = (counts[row.status] ?? 0) + 1
  return counts
}
const described = (call: RecordedCall): string =>
  [call.operation, call.status ?? 'no-answer', call.fault ?? ''].join(' ').trim()
/** What the run asked Lambda, per operation. */
const byOperation = (calls: readonly RecordedCall[]): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const call of lambdaCalls(calls)) counts[call.operation] = (counts[call.operation] ?? 0) + 1
  return counts
}

async function readDirectly(name: string) {
  const client = new LambdaClient({ region: REGION, endpoint, credentials: { ...CREDENTIALS } })
  try {
    return await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
  } finally {
    client.destroy()
  }
}

describe(`${N} functions selected by a pattern`, () => {
  it('plan: reads none of them on its own; the listing pages and the layer lookups are all it asks Lambda', async () => {
    const { run, calls } = await runMode('plan')
    console.log(`plan of ${N} uninstrumented functions, Lambda calls: ${JSON.stringify(byOperation(calls))}`)
    expect({ exit: run.exitCode, statuses: statuses(run) }).toEqual({ exit: 0, statuses: { planned: N } })
    expect(reads(calls)).toEqual([])
    const operations = byOperation(calls)
    expect(operations.ListFunctions).toBeLessThanOrEqual(PAGES)
    expect(Object.keys(operations).sort()).toEqual(['GetLayerVersion', 'ListFunctions'])
  }, 120_000)

  it('apply: writes each on its listed revision, reading one again only after its write was refused', async () => {
    proxy.setRules([
      {
        operation: 'UpdateFunctionConfiguration',
        functionName: CHANGED,
        nth: 1,
        fault: 'pass',
        // Someone else changes it behind the proxy: the revision the listing gave is stale now.
        before: async () => {
          const current = await readDirectly(CHANGED)
          const client = new LambdaClient({ region: REGION, endpoint, credentials: { ...CREDENTIALS } })
          try {
            await client.send(
              new UpdateFunctionConfigurationCommand({
                FunctionName: CHANGED,
                Environment: { Variables: { ...current.Environment?.Variables, ...THEIRS } }
              })
            )
          } finally {
            client.destroy()
          }
        }
      },
      { operation: 'UpdateFunctionConfiguration', functionName: BUSY, nth: 1, fault: 'conflict' }
    ])
    const { run, calls } = await runMode('apply')
    proxy.setRules([])
    console.log(`apply of ${N} functions, Lambda calls: ${JSON.stringify(byOperation(calls))}`)
    expect({ exit: run.exitCode, statuses: statuses(run) }).toEqual({ exit: 0, statuses: { updated: N } })
    expect(byOperation(calls).ListFunctions).toBeLessThanOrEqual(PAGES)
    const about = (name: string): string[] =>
      lambdaCalls(calls)
        .filter((call) => call.functionName === name)
        .map(described)
    for (const { name } of FLEET) {
      if (name === CHANGED || name === BUSY) continue
      expect({ name, calls: about(name) }).toEqual({ name, calls: ['UpdateFunctionConfiguration 200'] })
    }
    // The listed revision was stale: refused, read again, re-planned, and their change kept beside ours.
    expect(about(CHANGED)).toEqual([
      'UpdateFunctionConfiguration 412 stale-revision',
      'GetFunction 200',
      'UpdateFunctionConfiguration 200'
    ])
    const changed = await readDirectly(CHANGED)
    expect(changed.Environment?.Variables).toMatchObject({
      ...THEIRS,
      LOG_LEVEL: 'info',
      ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317'
    })
    // The listing says nothing of an update in progress: the write meets it, waits it out, and writes.
    expect(about(BUSY)).toEqual([
      'UpdateFunctionConfiguration 409 conflict',
      'GetFunction 200',
      'UpdateFunctionConfiguration 200'
    ])
    expect(
      reads(calls)
        .map((call) => call.functionName)
        .sort()
    ).toEqual([CHANGED, BUSY].sort())
    const untouched = await readDirectly('other-api')
    expect(untouched.Layers ?? []).toEqual([])
  }, 180_000)

  it(`check: at most ⌈N/50⌉ + 10 Lambda calls in all, none of them a read of a function`, async () => {
    const { run, calls } = await runMode('check')
    console.log(`check of ${N} instrumented functions, Lambda calls: ${JSON.stringify(byOperation(calls))}`)
    expect({ exit: run.exitCode, statuses: statuses(run) }).toEqual({ exit: 0, statuses: { 'in-sync': N } })
    expect(reads(calls)).toEqual([])
    const operations = byOperation(calls)
    expect(Object.keys(operations).sort()).toEqual(['GetLayerVersion', 'ListFunctions'])
    expect(operations.ListFunctions).toBeLessThanOrEqual(PAGES)
    // Each layer's search starts from the version the functions carry: that version and its gap window.
    expect(operations.GetLayerVersion).toBe(6)
    expect(lambdaCalls(calls).length).toBeLessThanOrEqual(Math.ceil(N / 50) + 10)
  }, 120_000)
})
