/**
 * The extension's cost, end to end: dist/index.js against moto behind the fault proxy, whose `log-tail`
 * fault gives each Invoke the tail Lambda would send (moto sends none), ending in a REPORT line for the
 * invocation's real request id. The figures must reach the report output and the summary, an earlier
 * report's figures must be shown beside them, and with low-memory: fail a function whose memory use comes
 * within memory-headroom of its size must be rolled back to exactly its configuration before the run.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { type FaultProxy, startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { type ActionRun, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const ACCOUNT = '123456789012'
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' }
/** The sample fleet's functions have 256 MB. */
const reportLine = (requestId: string, used: number): string =>
  `REPORT RequestId: ${requestId}\tDuration: 41.27 ms\tBilled Duration: 42 ms\tMemory Size: 256 MB\tMax Memory Used: ${used} MB\tInit Duration: 312.55 ms\t`
/** What the function printed, a forged report among it, then Lambda's END and REPORT for the invocation. */
const tail = (used: number): string =>
  [
    'START RequestId: {requestId} Version: $LATEST',
    `REPORT RequestId: 99999999-9999-9999-9999-999999999999\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 10240 MB\tMax Memory Used: 1 MB`,
    'END RequestId: {requestId}',
    reportLine('{requestId}', used),
    ''
  ].join('\n')

interface Row {
  function: string
  status: string
  error: string | null
  invocation: {
    status: string
    report: { maxMemoryUsedMb: number | null; memorySizeMb: number | null; initDurationMs: number | null } | null
    lowMemory: boolean
    before: { maxMemoryUsedMb: number | null } | null
  }
}

let port = 0
let endpoint: string
let proxy: FaultProxy

function run(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    endpoint: proxy.url,
    inputs: {
      functions: 'orders-api',
      'aws-region': 'us-east-1',
      'layer-account': ACCOUNT,
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      'cloudwatch-check-seconds': '0',
      preflight: 'false',
      'annotate-files': 'false',
      ...inputs
    },
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', ...env }
  })
}

const rowsOf = (result: ActionRun): Row[] => JSON.parse(result.outputs.report ?? '[]') as Row[]

async function layersOf(name: string): Promise<string[]> {
  const client = new LambdaClient({ region: 'us-east-1', endpoint, credentials: { ...credentials } })
  try {
    const read = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
    return (read.Layers ?? []).map((layer) => layer.Arn ?? '')
  } finally {
    client.destroy()
  }
}

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  proxy = await startFaultProxy({ target: endpoint })
})

afterAll(async () => {
  await proxy.close()
  stopEmulator(port)
})

beforeEach(async () => {
  proxy.reset()
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
})

describe('the test invocation’s REPORT line', () => {
  it('reaches the report and the summary, compared with an earlier run’s report file', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'rotel-cost-'))
    writeFileSync(
      join(workspace, 'previous-report.json'),
      JSON.stringify([
        {
          function: 'orders-api',
          region: 'us-east-1',
          invocation: { report: { maxMemoryUsedMb: 84, initDurationMs: 180 } }
        },
        { function: 'orders-api', region: 'eu-west-1', invocation: { report: { maxMemoryUsedMb: 1 } } }
      ])
    )
    proxy.setRules([{ fault: 'log-tail', functionName: 'orders-api', logTail: tail(112) }])
    const result = await run({ 'compare-report': 'previous-report.json' }, { GITHUB_WORKSPACE: workspace })
    expect(result.exitCode).toBe(0)
    const [row] = rowsOf(result)
    expect(row?.status).toBe('updated')
    expect(row?.invocation).toMatchObject({
      status: 'ok',
      report: { maxMemoryUsedMb: 112, memorySizeMb: 256, initDurationMs: 312.55 },
      lowMemory: false,
      before: { maxMemoryUsedMb: 84 }
    })
    expect(result.summary).toContain('| ok (200) · 84 → 112/256 MB (+28) · init 180 → 313 ms |')
    expect(result.summary).toContain(
      '**Memory**: the most any test invocation used is 112 MB of 256 (orders-api); the largest change from the earlier report is +28 MB (orders-api).'
    )
    expect(result.stdout).toContain("Lambda's report: Duration 41.27 ms, Billed Duration 42 ms, Memory Size 256 MB")
    expect(result.stdout).not.toMatch(/::warning[^\n]*Memory headroom/)
  })

  it('warns by default when memory comes within the headroom, and keeps the change', async () => {
    proxy.setRules([{ fault: 'log-tail', functionName: 'orders-api', logTail: tail(240) }])
    const result = await run({})
    expect(result.exitCode).toBe(0)
    const [row] = rowsOf(result)
    expect(row?.status).toBe('updated')
    expect(row?.invocation.lowMemory).toBe(true)
    expect(result.stdout).toMatch(
      /::warning title=orders-api%3A memory headroom::orders-api: its test invocation used 240 MB of its 256 MB/
    )
    expect(result.summary).toContain('240/256 MB · ⚠ low memory · init 313 ms')
    expect(await layersOf('orders-api')).toContain(
      `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:rotel-extension-amd64-alpha:5`
    )
  })

  it('with low-memory: fail, rolls the function back to exactly its layers before the run and fails the step', async () => {
    const before = await layersOf('orders-api')
    proxy.setRules([{ fault: 'log-tail', functionName: 'orders-api', logTail: tail(240) }])
    const result = await run({ 'low-memory': 'fail' })
    expect(result.exitCode).toBe(1)
    const [row] = rowsOf(result)
    expect(row?.status).toBe('rolled-back')
    expect(row?.error).toMatch(
      /used 240 MB of its 256 MB \(16 MB free, within the memory-headroom of 10% of it, 25\.6 MB\).*raise its MemorySize \(to 320 MB, say\)/
    )
    expect(await layersOf('orders-api')).toEqual(before)
    // The forged report (1 MB of 10,240) was not taken.
    expect(row?.invocation.report?.memorySizeMb).toBe(256)
  })
})
