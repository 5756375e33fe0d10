/**
 * The apply path end to end: dist/index.js, run as the runner runs it, against moto seeded with the
 * sample fleet; every function is read back afterwards.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs'
import { type FunctionConfiguration, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { startFakeOidc } from '../../scripts/fake-oidc.mjs'
import { emitted, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

let port = 0
const ACCOUNT = '123456789012'
const SECRET_KEY = 'ck_live_5up3r5ecretIngestionKey'
const REQUEST_TOKEN = 'runtime-request-token-4f8b1c'
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' }

let endpoint: string
let oidc: Awaited<ReturnType<typeof startFakeOidc>>

const layer = (region: string, arch: string, version: number): string =>
  `arn:aws:lambda:${region}:${ACCOUNT}:layer:rotel-extension-${arch}-alpha:${version}`

async function readBack(region: string, name: string): Promise<FunctionConfiguration> {
  const client = new LambdaClient({ region, endpoint, credentials })
  return client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
}

/** Waits until the action's update of orders-api went through: a stream created after it counts. */
async function untilUpdated(): Promise<void> {
  for (let tries = 0; tries < 300; tries++) {
    const layers = (await readBack('us-east-1', 'orders-api')).Layers ?? []
    if (layers.some((l) => l.Arn === layer('us-east-1', 'amd64', 5))) return
    await new Promise((done) => setTimeout(done, 100))
  }
  throw new Error('orders-api was not updated within 30 s')
}

function inputs(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    functions: `orders-api\narn:aws:lambda:eu-west-1:${ACCOUNT}:function:billing-worker\nlegacy-job`,
    'aws-region': 'us-east-1',
    'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/deploy`,
    'layer-account': ACCOUNT,
    'otlp-endpoint': 'https://clickstack.example.com:4317',
    'otlp-headers': `Authorization=${SECRET_KEY}`,
    'resource-attributes': 'deployment.environment=test',
    'cloudwatch-check-seconds': '0',
    // Preflight and delivery are proven in telemetry.test.ts; here the endpoint is a placeholder.
    preflight: 'false',
    ...overrides
  }
}

function oidcEnv(): Record<string, string> {
  return { ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN }
}

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  oidc = await startFakeOidc({ requestToken: REQUEST_TOKEN })
})

afterAll(async () => {
  await oidc?.close()
  stopEmulator(port)
})

beforeEach(async () => {
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
})

describe('apply against moto', () => {
  it('puts the right layer on each function, keeps the user variables and layers in order, and a second run changes nothing', async () => {
    const first = await runAction({ endpoint, inputs: inputs(), env: oidcEnv() })
    expect(first.stderr).toBe('')
    expect(first.exitCode).toBe(0)

    const orders = await readBack('us-east-1', 'orders-api')
    expect(orders.Layers?.map((l) => l.Arn)).toEqual([
      `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:shared-utils:1`,
      layer('us-east-1', 'amd64', 5)
    ])
    expect(orders.Environment?.Variables).toEqual({
      LOG_LEVEL: 'info',
      DB_HOST: 'db.internal',
      ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
      ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: `Authorization=${SECRET_KEY}`,
      ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,cloud.provider=aws,cloud.platform=aws_lambda'
    })

    const billing = await readBack('eu-west-1', 'billing-worker')
    expect(billing.Layers?.map((l) => l.Arn)).toEqual([layer('eu-west-1', 'arm64', 5)])
    expect(billing.Environment?.Variables?.QUEUE_URL).toBeDefined()

    const legacy = await readBack('us-east-1', 'legacy-job')
    expect(legacy.Layers?.map((l) => l.Arn)).toEqual([layer('us-east-1', 'arm64', 5)])

    expect(first.outputs.changed).toBe('true')
    expect(JSON.parse(first.outputs['layer-arns'] ?? '{}')).toEqual({
      'eu-west-1/arm64': layer('eu-west-1', 'arm64', 5),
      'us-east-1/arm64': layer('us-east-1', 'arm64', 5),
      'us-east-1/x86_64': layer('us-east-1', 'amd64', 5)
    })
    const report = JSON.parse(first.outputs.report ?? '[]') as Array<Record<string, unknown>>
    expect(report.map((r) => [r.function, r.status, r.architecture])).toEqual([
      ['orders-api', 'updated', 'x86_64'],
      ['billing-worker', 'updated', 'arm64'],
      ['legacy-job', 'updated', 'arm64']
    ])
    expect(report[0]).toMatchObject({
      layerBefore: layer('us-east-1', 'amd64', 2),
      layerAfter: layer('us-east-1', 'amd64', 5),
      invocation: { status: 'ok', statusCode: 200 },
      error: null
    })
    expect(report[2]?.layerBefore).toBe(layer('us-east-1', 'amd64', 3))
    expect(first.summary).toContain('| orders-api <sub>us-east-1 · x86_64</sub> | ✅ updated |')
    expect(first.summary).toContain('ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS')
    expect(emitted(first)).not.toContain(SECRET_KEY)
    // The OIDC token was fetched for the STS audience, with the runner's request token.
    expect(oidc.requests.length).toBeGreaterThan(0)

    const second = await runAction({ endpoint, inputs: inputs(), env: oidcEnv() })
    expect(second.exitCode).toBe(0)
    expect(second.outputs.changed).toBe('false')
    expect((JSON.parse(second.outputs.report ?? '[]') as Array<{ status: string }>).map((r) => r.status)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged'
    ])
    expect(second.summary).toContain('Nothing to change')
    const ordersAgain = await readBack('us-east-1', 'orders-api')
    expect(ordersAgain.LastModified).toBe(orders.LastModified)
    expect(ordersAgain.Environment).toEqual(orders.Environment)
    expect(emitted(second)).not.toContain(SECRET_KEY)
  })

  it('uses the credentials in the environment when no role is given', async () => {
    const run = await runAction({
      endpoint,
      inputs: inputs({ 'role-to-assume': '', functions: 'orders-api' }),
      env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' }
    })
    expect(run.exitCode).toBe(0)
    expect((await readBack('us-east-1', 'orders-api')).Layers?.map((l) => l.Arn)).toContain(
      layer('us-east-1', 'amd64', 5)
    )
  })

  it('says plainly that the job needs id-token: write when the OIDC variables are missing, and writes nothing', async () => {
    const before = await readBack('us-east-1', 'orders-api')
    const run = await runAction({ endpoint, inputs: inputs(), env: {} })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error::.*id-token: write/)
    const after = await readBack('us-east-1', 'orders-api')
    expect(after.Layers).toEqual(before.Layers)
    expect(after.Environment).toEqual(before.Environment)
  })

  it('rejects bad input before any AWS call, naming the input', async () => {
    const before = await readBack('us-east-1', 'orders-api')
    const tokensBefore = oidc.requests.length
    const run = await runAction({
      endpoint,
      inputs: inputs({ 'layer-version': 'abc', 'otlp-headers': `Authorization=${SECRET_KEY},oops` }),
      env: oidcEnv()
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/layer-version "abc"/)
    expect(run.stdout).toMatch(/otlp-headers/)
    expect(emitted(run)).not.toContain(SECRET_KEY)
    expect(oidc.requests.length).toBe(tokensBefore)
    expect((await readBack('us-east-1', 'orders-api')).Layers).toEqual(before.Layers)
  })

  it('fails only the function that does not exist; the others are still updated', async () => {
    const run = await runAction({
      endpoint,
      inputs: inputs({ functions: 'orders-api\nno-such-function' }),
      env: oidcEnv()
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error::1 of 2 functions could not be instrumented \(no-such-function\)/)
    const report = JSON.parse(run.outputs.report ?? '[]') as Array<{ function: string; status: string; error: string }>
    expect(report.find((r) => r.function === 'orders-api')?.status).toBe('updated')
    expect(report.find((r) => r.function === 'no-such-function')?.error).toMatch(/does not exist in us-east-1/)
    expect(run.summary).toContain('no-such-function')
  })

  it('reports CloudWatch Logs "on" when a log stream is created after the update', async () => {
    const logs = new CloudWatchLogsClient({ region: 'us-east-1', endpoint, credentials })
    const run = runAction({
      endpoint,
      inputs: inputs({ functions: 'orders-api', 'cloudwatch-check-seconds': '20' }),
      env: oidcEnv()
    })
    // moto writes no stream on Invoke: the test makes the new environment's one, named as Lambda names it.
    await untilUpdated()
    const name = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]fresh`
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/aws/lambda/orders-api', logStreamName: name }))
    logs.destroy()
    const result = await run
    const report = JSON.parse(result.outputs.report ?? '[]') as Array<{ cloudwatch: string; cloudwatchDetail: string }>
    expect(report[0]?.cloudwatch).toBe('on')
    expect(report[0]?.cloudwatchDetail).toMatch(
      /^stream .*\[\$LATEST\]fresh in \/aws\/lambda\/orders-api was created \d+ s after the update$/
    )
    expect(result.stdout).toMatch(
      /::warning title=orders-api%3A CloudWatch Logs::orders-api: CloudWatch Logs still receives/
    )
  })
})
