/**
 * Cancellation as the runner does it: SIGINT to the dist/index.js process mid-run. No new function
 * starts, the one in flight finishes or is rolled back, and the summary is still written.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from '@jest/globals'
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { type FaultProxy, startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const ACCOUNT = '123456789012'
let port = 0
let endpoint: string
let proxy: FaultProxy

async function layersAndVariables(region: string, name: string): Promise<unknown> {
  const client = new LambdaClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }
  })
  const configuration = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
  return {
    layers: configuration.Layers?.map((layer) => layer.Arn),
    variables: configuration.Environment?.Variables ?? {}
  }
}

/** Once the first test invocation is under way, cancels as the runner does: SIGINT, then maybe SIGTERM. */
function cancelDuringFirstInvoke(pid: number, thenTerminate: boolean, signalled: (at: number) => void): void {
  const timer = setInterval(() => {
    if (!proxy.calls.some((call) => call.operation === 'Invoke')) return
    clearInterval(timer)
    signalled(Date.now())
    process.kill(pid, 'SIGINT')
    if (thenTerminate) setTimeout(() => process.kill(pid, 'SIGTERM'), 100)
  }, 50)
}

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  // Every call takes 400 ms, as a slow AWS would: long enough to signal the run in the middle.
  proxy = await startFaultProxy({ target: endpoint, latencyMs: 400 })
})

afterAll(async () => {
  await proxy?.close()
  stopEmulator(port)
})

beforeEach(async () => {
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
  proxy.reset()
})

it('on SIGINT starts no new function, leaves none half-done, and still writes the summary', async () => {
  const names: Array<[string, string]> = [
    ['us-east-1', 'orders-api'],
    ['eu-west-1', 'billing-worker'],
    ['us-east-1', 'legacy-job']
  ]
  const before = await Promise.all(names.map(([region, name]) => layersAndVariables(region, name)))
  let signalledAt = 0
  const result = await runAction({
    endpoint: proxy.url,
    inputs: {
      functions: `orders-api\narn:aws:lambda:eu-west-1:${ACCOUNT}:function:billing-worker\nlegacy-job`,
      'aws-region': 'us-east-1',
      'layer-account': ACCOUNT,
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      preflight: 'false',
      'cloudwatch-check-seconds': '0',
      'max-concurrency': '1'
    },
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    onSpawn: (pid) => cancelDuringFirstInvoke(pid, false, (at) => (signalledAt = at))
  })
  const exitedAfterMs = Date.now() - signalledAt
  expect(signalledAt).toBeGreaterThan(0)
  expect(result.exitCode).toBe(1)
  expect(exitedAfterMs).toBeLessThan(8000)
  expect(result.stdout).toMatch(/::warning::Received SIGINT: starting no new function/)
  expect(result.stdout).toMatch(
    /::error::The run was cancelled: 2 of 3 functions were not processed \(billing-worker, legacy-job\)/
  )

  const report = JSON.parse(result.outputs.report ?? '[]') as Array<{ function: string; status: string }>
  expect(report.map((row) => [row.function, row.status])).toEqual([
    ['orders-api', 'updated'],
    ['billing-worker', 'cancelled'],
    ['legacy-job', 'cancelled']
  ])
  expect(result.summary).toContain('⏹️ cancelled')
  // The functions never started are exactly as they were.
  const after = await Promise.all(names.map(([region, name]) => layersAndVariables(region, name)))
  expect(after[1]).toEqual(before[1])
  expect(after[2]).toEqual(before[2])
  // Nothing was written after the signal but what finished the function in flight.
  const late = proxy.calls.filter((call) => call.time > signalledAt && call.operation === 'UpdateFunctionConfiguration')
  expect(late).toEqual([])
})

it('on a second signal writes the summary at once, the function in flight reported as needing attention', async () => {
  let signalledAt = 0
  const result = await runAction({
    endpoint: proxy.url,
    inputs: {
      functions: 'orders-api\nlegacy-job',
      'aws-region': 'us-east-1',
      'layer-account': ACCOUNT,
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      preflight: 'false',
      'cloudwatch-check-seconds': '0',
      'max-concurrency': '1'
    },
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    onSpawn: (pid) => cancelDuringFirstInvoke(pid, true, (at) => (signalledAt = at))
  })
  expect(result.exitCode).toBe(1)
  expect(Date.now() - signalledAt).toBeLessThan(3000)
  const report = JSON.parse(result.outputs.report ?? '[]') as Array<{ function: string; status: string; error: string }>
  const orders = report.find((row) => row.function === 'orders-api')
  expect(orders?.status).toBe('failed')
  expect(orders?.error).toMatch(
    /needs attention: the run stopped \(received SIGTERM after cancellation\) while verifying/
  )
  expect(orders?.error).toContain('aws lambda update-function-configuration --region us-east-1')
  expect(report.find((row) => row.function === 'legacy-job')?.status).toBe('cancelled')
  expect(result.summary).toContain('needs attention')
})
