/**
 * A fleet "as AWS" instead of "as moto" (issue 13): dist/index.js runs against moto through the fault
 * proxy with AWS's published envelope on (scripts/aws-envelope.mjs: the Lambda control plane at 15
 * requests a second per region, GetFunction at 100, DescribeLogStreams at 5, updates InProgress for 2 s
 * with 409 for a second update meanwhile, ListFunctions paged by 50, and log streams whose event times
 * CloudWatch shows only after a lag, so that ordering by LastEventTime hides a new stream).
 *
 * Half the functions write a log stream when invoked (CloudWatch Logs still receives their logs), the
 * other half do not; two of each have a busy log group, many streams with recent events, named for today
 * and the days before. What must hold: every function updated, every CloudWatch verdict known and right,
 * at most two DescribeLogStreams per function, no call refused by the quota (the action's rate governor
 * paces itself); the same with 20 % of the calls additionally throttled; and a `check` of the fleet by a
 * pattern asks Lambda for the listing pages and the layer lookups only.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { ACCOUNT_ID, CREDENTIALS, createBusyLogGroup, resetEmulator } from '../../scripts/emulator-fixtures.mjs'
import { type FaultProxy, type RecordedCall, startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { type ActionRun, createFleet, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const REGION = 'us-east-1'
const N = 30
const fleet = (prefix: string): string[] =>
  Array.from({ length: N }, (_, index) => `${prefix}-${String(index).padStart(3, '0')}`)
const CALM = fleet('calm')
const NOISY = fleet('noisy')
/** Functions whose invocations write a log stream: the even ones. */
const writesLogs = (name: string): boolean => Number(name.slice(-3)) % 2 === 0
/** Functions with a busy log group: two that write logs, two that do not. */
const BUSY = new Set(['calm-000', 'calm-001', 'calm-002', 'calm-003'])

const INPUTS: Readonly<Record<string, string>> = {
  'aws-region': REGION,
  'layer-account': ACCOUNT_ID,
  'otlp-endpoint': 'https://clickstack.example.com:4317',
  'test-invoke': 'true',
  'cloudwatch-check-seconds': '2',
  'max-concurrency': '16',
  preflight: 'false',
  'annotate-files': 'false'
}

interface Row {
  function: string
  status: string
  cloudwatch: string
  cloudwatchDetail: string | null
  error: string | null
}

let port = 0
let endpoint: string

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  await resetEmulator(endpoint)
  const names = [...CALM, ...NOISY]
  await createFleet(
    endpoint,
    REGION,
    names.map((name, index) => ({ name, architecture: index % 2 === 0 ? 'x86_64' : 'arm64' })),
    3
  )
  // 40 of today and 80 of the week before, each with a recent event: more than LastEventTime's first page.
  for (const name of BUSY)
    await createBusyLogGroup(endpoint, {
      region: REGION,
      logGroup: `/aws/lambda/${name}`,
      streams: 120,
      todayStreams: 40,
      minAgeMs: 0
    })
}, 300_000)

afterAll(() => stopEmulator(port))

async function underEnvelope(
  inputs: Record<string, string>,
  extraThrottle: number
): Promise<{ run: ActionRun; calls: RecordedCall[]; rows: Row[] }> {
  const proxy: FaultProxy = await startFaultProxy({
    target: endpoint,
    revisions: true,
    seed: 13,
    envelope: { settleMs: 2000, extraThrottle, invokeWritesLogs: writesLogs }
  })
  try {
    const run = await runAction({
      endpoint: proxy.url,
      inputs: { ...INPUTS, ...inputs },
      env: { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey }
    })
    return { run, calls: [...proxy.calls], rows: JSON.parse(run.outputs.report ?? '[]') as Row[] }
  } finally {
    await proxy.close()
  }
}

const refusedByQuota = (calls: readonly RecordedCall[]): RecordedCall[] => calls.filter((c) => c.fault === 'quota')
const describeCallsPer = (calls: readonly RecordedCall[]): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const call of calls)
    if (call.operation === 'DescribeLogStreams' && call.fault === null && call.functionName)
      counts.set(call.functionName, (counts.get(call.functionName) ?? 0) + 1)
  return counts
}

function expectEveryVerdictKnownAndRight(rows: readonly Row[], names: readonly string[]): void {
  expect(rows.map((row) => row.function).sort()).toEqual([...names].sort())
  for (const row of rows) {
    expect({ function: row.function, status: row.status, error: row.error }).toEqual({
      function: row.function,
      status: 'updated',
      error: null
    })
    expect({ function: row.function, cloudwatch: row.cloudwatch }).toEqual({
      function: row.function,
      cloudwatch: writesLogs(row.function) ? 'on' : 'off'
    })
  }
}

describe(`${N} functions under AWS's envelope`, () => {
  it('apply: every function updated, every CloudWatch verdict known and right, busy groups included; no call over the quota', async () => {
    const { run, calls, rows } = await underEnvelope({ functions: CALM.join('\n') }, 0)
    expect(run.exitCode).toBe(0)
    expectEveryVerdictKnownAndRight(rows, CALM)
    expect(refusedByQuota(calls).map((call) => `${call.operation} ${call.apiClass ?? ''}`)).toEqual([])
    const perFunction = describeCallsPer(calls)
    expect(Math.max(...perFunction.values())).toBeLessThanOrEqual(2)
    // One look each where the day's streams fit a page; the busy groups' days (40 streams) fit too.
    expect([...perFunction.values()].reduce((sum, count) => sum + count, 0)).toBe(N)
  }, 240_000)

  it('the same with 20 % of the calls additionally throttled: still every verdict known and right', async () => {
    const { run, calls, rows } = await underEnvelope({ functions: 'noisy-*' }, 0.2)
    expect(calls.filter((call) => call.fault === 'extra-throttle').length).toBeGreaterThan(5)
    expect(run.exitCode).toBe(0)
    expectEveryVerdictKnownAndRight(rows, NOISY)
  }, 240_000)

  it('check by a pattern: the listing pages and the layer lookups are all it asks Lambda, none over the quota', async () => {
    const { run, calls, rows } = await underEnvelope({ functions: 'calm-*', mode: 'check' }, 0)
    expect(run.exitCode).toBe(0)
    expect(rows.map((row) => row.status)).toEqual(CALM.map(() => 'in-sync'))
    const lambda = calls.filter((call) => call.service === 'lambda')
    expect(lambda.filter((call) => call.operation === 'ListFunctions')).toHaveLength(Math.ceil((2 * N) / 50))
    expect(lambda.length).toBeLessThanOrEqual(Math.ceil(N / 50) + 10)
    expect(refusedByQuota(calls)).toEqual([])
  }, 240_000)
})
