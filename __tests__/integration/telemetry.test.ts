/**
 * Delivery end to end: dist/index.js against moto, with the endpoint preflight against a local OTLP
 * receiver and the delivery check against a real ClickHouse engine (chdb) behind its HTTP interface.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { ClickHouseTestServer } from '../support/clickhouseServer.js'
import { OtlpReceiver } from '../support/otlpReceiver.js'
import { type ActionRun, emitted, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const ACCOUNT = '123456789012'
const INGESTION_KEY = 'ck_live_T3lemetryKey'
const CLICKHOUSE_PASSWORD = 'ch-Pa55word-Secret'
let port = 0
let endpoint: string
const receiver = new OtlpReceiver()
let otlpHttp: string
const clickhouse = new ClickHouseTestServer({ users: { verifier: { password: CLICKHOUSE_PASSWORD, readonly: 1 } } })

async function readBack(name: string): Promise<Record<string, unknown>> {
  const client = new LambdaClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }
  })
  const { $metadata: _, ...configuration } = await client.send(
    new GetFunctionConfigurationCommand({ FunctionName: name })
  )
  return configuration
}

function run(inputs: Record<string, string>, during?: () => Promise<void>): Promise<ActionRun> {
  const result = runAction({
    endpoint,
    inputs: {
      functions: 'orders-api\nlegacy-job',
      'aws-region': 'us-east-1',
      'layer-account': ACCOUNT,
      'otlp-endpoint': otlpHttp,
      'otlp-protocol': 'http',
      'otlp-headers': `Authorization=${INGESTION_KEY}`,
      'cloudwatch-check-seconds': '0',
      'clickhouse-url': clickhouse.url,
      'clickhouse-user': 'verifier',
      'clickhouse-password': CLICKHOUSE_PASSWORD,
      'verify-delivery': 'require',
      'verify-delivery-timeout': '12',
      'hyperdx-url': 'https://hyperdx.example.com',
      ...inputs
    },
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' }
  })
  return during ? Promise.all([result, during()]).then(([done]) => done) : result
}

const rows = (result: ActionRun) =>
  JSON.parse(result.outputs.report ?? '[]') as Array<{
    function: string
    status: string
    delivery: { status: string; logRecords: number; link: string | null; detail: string | null } | null
  }>

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  ;({ http: otlpHttp } = await receiver.start())
  await clickhouse.start()
})

afterAll(async () => {
  await receiver.stop()
  await clickhouse.stop()
  stopEmulator(port)
})

beforeEach(async () => {
  receiver.answer = 'ok'
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
})

describe('endpoint preflight', () => {
  it('stops the run before any function is written when the endpoint refuses the key', async () => {
    receiver.answer = 'unauthorized'
    const before = await readBack('orders-api')
    const result = await run({ 'verify-delivery': 'off' })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(
      /::error::The OTLP endpoint check failed before any function was changed: .*otlp-headers/
    )
    expect(await readBack('orders-api')).toEqual(before)
    const shown = result.stdout
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n')
    expect(shown).not.toContain(INGESTION_KEY)
  })

  it('sends one record marked as the preflight, with the run headers, and goes on when it is taken', async () => {
    const received = receiver.received.length
    const result = await run({ 'verify-delivery': 'off' })
    expect(result.exitCode).toBe(0)
    expect(receiver.received.length).toBe(received + 1)
    const sent = receiver.received.at(-1)
    expect(sent?.path).toBe('/v1/logs')
    expect(sent?.headers.authorization).toBe(INGESTION_KEY)
    expect(sent?.decoded?.resourceAttributes['service.name']).toBe('rotel-clickstack-action')
  })
})

describe('delivery verification', () => {
  it('reports delivery with counts and a HyperDX link, and require rolls back the function whose telemetry never arrives', async () => {
    const legacyBefore = await readBack('legacy-job')
    // The extension's exporter, played by the test. Both functions have a warm environment from before the
    // change whose Text-format line lands in the window without the test invocation's request id: it proves
    // nothing. orders-api's new environment then prints the invocation's own line (Node.js console format);
    // its request id is the one the action asks ClickHouse about, taken here from the query's parameters.
    // Written when the action first asks about a function, so that they fall inside its window.
    const seen = new Set<string>()
    clickhouse.onQuery = async (request) => {
      const { functionName: name, requestId } = request.params
      if (!name || !requestId || seen.has(name)) return
      seen.add(name)
      const resourceAttributes = { 'service.name': name, 'faas.name': name }
      const at = new Date()
      await clickhouse.insertLogs([
        { timestamp: at, body: 'a line printed without a request id', resourceAttributes },
        ...(name === 'orders-api'
          ? [
              {
                timestamp: at,
                body: `${at.toISOString()}\t${requestId}\tINFO\thandled {"test":"data"}`,
                resourceAttributes
              }
            ]
          : [])
      ])
    }
    const result = await run({}).finally(() => (clickhouse.onQuery = undefined))
    expect(result.exitCode).toBe(1)
    const report = rows(result)
    const orders = report.find((r) => r.function === 'orders-api')
    expect(orders?.status).toBe('updated')
    expect(orders?.delivery).toMatchObject({ status: 'delivered', logRecords: 1 })
    expect(orders?.delivery?.link).toMatch(/^https:\/\/hyperdx.example.com\/search\?/)
    // The link searches what was counted: the function, and the invocation's request id.
    expect(new URL(orders?.delivery?.link ?? '').searchParams.get('where')).toMatch(
      /^\(ServiceName:"orders-api" OR ResourceAttributes\.faas\.name:"orders-api"\) AND \("([^"]+)" OR LogAttributes\.faas\.invocation_id:"\1"\)$/
    )
    const legacy = report.find((r) => r.function === 'legacy-job')
    expect(legacy?.status).toBe('rolled-back')
    expect(legacy?.delivery?.status).toBe('not-delivered')
    expect(legacy?.delivery?.detail).toMatch(
      /1 record\(s\) of legacy-job arrived since the invocation, but none names its request id/
    )
    const legacyAfter = await readBack('legacy-job')
    expect({ Layers: legacyAfter.Layers, Environment: legacyAfter.Environment }).toEqual({
      Layers: legacyBefore.Layers,
      Environment: legacyBefore.Environment
    })
    expect(result.summary).toMatch(/orders-api.*delivered/)
    const everything = emitted(result)
    expect(everything).not.toContain(CLICKHOUSE_PASSWORD)
    expect(everything).not.toContain(INGESTION_KEY)
  })

  it('refuses to start with wrong ClickHouse credentials, naming the input and not the password', async () => {
    const before = await readBack('orders-api')
    const result = await run({ 'clickhouse-password': 'wrong-password-123' })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(
      /::error::ClickStack cannot be queried to verify delivery, so no function was changed: .*clickhouse-(user|password)/
    )
    expect(
      result.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n')
    ).not.toContain('wrong-password-123')
    expect(await readBack('orders-api')).toEqual(before)
  })
})
