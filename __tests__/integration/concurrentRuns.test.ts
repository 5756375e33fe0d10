/**
 * Two runs of the action at once, on the same functions with different settings: each write carries
 * the revision it was planned from (emulated by the proxy, as moto has none), so the end state is one
 * run's complete result, never a mix.
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

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  proxy = await startFaultProxy({ target: endpoint, revisions: true, latencyMs: 60 })
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

const settings = (name: string) => ({
  'otlp-endpoint': `https://${name}.example.com:4318`,
  'otlp-protocol': 'http',
  'otlp-headers': `Authorization=${name}-key`,
  'resource-attributes': `deployment.environment=${name}`
})

it('leaves each function with one run’s complete settings, never a mix, and the user’s own intact', async () => {
  const run = (name: string) =>
    runAction({
      endpoint: proxy.url,
      inputs: {
        functions: `orders-api\nlegacy-job\narn:aws:lambda:eu-west-1:${ACCOUNT}:function:billing-worker`,
        'aws-region': 'us-east-1',
        'layer-account': ACCOUNT,
        preflight: 'false',
        'cloudwatch-check-seconds': '0',
        ...settings(name)
      },
      env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' }
    })
  const [blue, green] = await Promise.all([run('blue'), run('green')])
  expect([blue.exitCode, green.exitCode]).toEqual([0, 0])

  for (const [region, name] of [
    ['us-east-1', 'orders-api'],
    ['us-east-1', 'legacy-job'],
    ['eu-west-1', 'billing-worker']
  ] as const) {
    const client = new LambdaClient({
      region,
      endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }
    })
    const variables =
      (await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))).Environment?.Variables ?? {}
    const winner = variables.ROTEL_OTLP_EXPORTER_ENDPOINT?.startsWith('https://blue') ? 'blue' : 'green'
    const expected = settings(winner)
    expect({ name, endpoint: variables.ROTEL_OTLP_EXPORTER_ENDPOINT }).toEqual({
      name,
      endpoint: expected['otlp-endpoint']
    })
    expect(variables.ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS).toBe(expected['otlp-headers'])
    expect(variables.ROTEL_OTEL_RESOURCE_ATTRIBUTES).toBe(
      `${expected['resource-attributes']},cloud.provider=aws,cloud.platform=aws_lambda`
    )
    if (name === 'orders-api') expect(variables).toMatchObject({ LOG_LEVEL: 'info', DB_HOST: 'db.internal' })
  }
  // The runs did collide: at least one write was refused for a stale revision and re-planned.
  expect(proxy.calls.some((call) => call.fault === 'stale-revision')).toBe(true)
})
