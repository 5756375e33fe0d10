/**
 * The fault proxy's `envelope` in front of moto, with real SDK clients: AWS's published rates answered with
 * the real throttles, updates that settle by (a hand-driven) wall time, log streams that invocations write,
 * DescribeLogStreams with lagged event times, and the seeded extra throttling. The figures and their AWS
 * pages: scripts/aws-envelope.mjs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, DescribeLogStreamsCommand, type LogStream } from '@aws-sdk/client-cloudwatch-logs'
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand
} from '@aws-sdk/client-lambda'
import { type FaultProxy, startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { createBusyLogGroup, createSampleFunction, CREDENTIALS } from '../../scripts/emulator-fixtures.mjs'
import { freePort, startEmulator, stopEmulator } from '../integration/harness.js'

const LAG_MS = 60_000
const SETTLE_MS = 2000
const GROUP = '/aws/lambda/orders-api'

let port: number
let moto: string
let now = Date.now()
let proxy: FaultProxy
let busy: string[] = []

/** A Lambda client through a proxy (the file's own by default), sending each request once. */
const lambdaThrough = (url: string, region = 'us-east-1'): LambdaClient =>
  new LambdaClient({ endpoint: url, region, credentials: { ...CREDENTIALS }, maxAttempts: 1 })
const lambda = (region = 'us-east-1'): LambdaClient => lambdaThrough(proxy.url, region)
const logs = (): CloudWatchLogsClient =>
  new CloudWatchLogsClient({
    endpoint: proxy.url,
    region: 'us-east-1',
    credentials: { ...CREDENTIALS },
    maxAttempts: 1
  })

/** Outcomes of settled promises: 'ok' or the error's name. */
async function outcomes(promises: Array<Promise<unknown>>): Promise<string[]> {
  const settled = await Promise.allSettled(promises)
  return settled.map((s) => (s.status === 'fulfilled' ? 'ok' : String((s.reason as Error).name)))
}

const count = (list: string[], value: string): number => list.filter((item) => item === value).length

beforeAll(async () => {
  port = await freePort()
  moto = startEmulator(port)
  await createSampleFunction(moto, { region: 'us-east-1', name: 'orders-api', architecture: 'x86_64' })
  await createSampleFunction(moto, { region: 'eu-west-1', name: 'billing-worker', architecture: 'arm64' })
  busy = await createBusyLogGroup(moto, {
    region: 'us-east-1',
    logGroup: GROUP,
    streams: 12,
    todayStreams: 3,
    minAgeMs: 2 * LAG_MS
  })
  proxy = await startFaultProxy({
    target: moto,
    envelope: { clock: () => now, settleMs: SETTLE_MS, logTimestampLagMs: LAG_MS, invokeWritesLogs: ['orders-api'] }
  })
}, 60_000)

afterAll(async () => {
  await proxy?.close()
  if (port) stopEmulator(port)
})

describe('rates', () => {
  it('lets about one second of the control plane through a burst and throttles the rest as Lambda does', async () => {
    proxy.reset()
    const client = lambda()
    const burst = await outcomes(
      Array.from({ length: 30 }, () => client.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' })))
    )
    expect(count(burst, 'ok')).toBe(15)
    expect(count(burst, 'TooManyRequestsException')).toBe(15)
    const refused = proxy.calls.filter((call) => call.fault === 'quota')
    expect(refused).toHaveLength(15)
    expect(refused.every((call) => call.status === 429 && call.apiClass === 'lambda:control')).toBe(true)
    expect(refused.every((call) => call.upstreamStatus === null)).toBe(true)

    // The answer's shape: Retry-After and the reason, as the SDK and a raw client see them.
    const raw = await fetch(`${proxy.url}/2015-03-31/functions/orders-api/configuration`, {
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/lambda/aws4_request' }
    })
    expect(raw.status).toBe(429)
    expect(raw.headers.get('retry-after')).toBe('1')
    expect(raw.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException')
    expect(await raw.json()).toMatchObject({ Reason: 'CallerRateLimitExceeded', message: 'Rate exceeded' })

    // GetFunction counts against its own 100/s, another Region against its own 15/s.
    const reads = await outcomes(
      Array.from({ length: 20 }, () => client.send(new GetFunctionCommand({ FunctionName: 'orders-api' })))
    )
    expect(count(reads, 'ok')).toBe(20)
    const europe = lambda('eu-west-1')
    const elsewhere = await outcomes(
      Array.from({ length: 15 }, () =>
        europe.send(new GetFunctionConfigurationCommand({ FunctionName: 'billing-worker' }))
      )
    )
    expect(count(elsewhere, 'ok')).toBe(15)

    now += 1000
    const nextSecond = await outcomes(
      Array.from({ length: 16 }, () => client.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' })))
    )
    expect(count(nextSecond, 'ok')).toBe(15)
  })
})

describe('settling', () => {
  it('keeps an update InProgress for settleMs, refusing another update meanwhile with 409', async () => {
    proxy.reset()
    const client = lambda()
    const update = await client.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Description: 'first' })
    )
    expect(update.LastUpdateStatus).toBe('InProgress')
    now += SETTLE_MS - 1
    const read = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }))
    expect(read.LastUpdateStatus).toBe('InProgress')
    const whole = await client.send(new GetFunctionCommand({ FunctionName: 'orders-api' }))
    expect(whole.Configuration?.LastUpdateStatus).toBe('InProgress')
    await expect(
      client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Description: 'second' }))
    ).rejects.toMatchObject({ name: 'ResourceConflictException', $metadata: { httpStatusCode: 409 } })
    expect(proxy.calls.at(-1)?.fault).toBe('update-in-progress')

    now += 1
    const settled = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }))
    expect(settled.LastUpdateStatus).toBe('Successful')
    expect(settled.Description).toBe('first')
    const again = await client.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Description: 'second' })
    )
    expect(again.Description).toBe('second')
    now += SETTLE_MS
  })
})

describe('log streams', () => {
  const today = (): string => new Date(now).toISOString().slice(0, 10).replace(/-/g, '/') + '/'
  const names = (streams: LogStream[] | undefined): string[] => (streams ?? []).map((s) => String(s.logStreamName))

  it('hides a new stream behind busy ones by LastEventTime until the lag has passed; the date prefix finds it', async () => {
    proxy.reset()
    now += 1000
    await lambda().send(new InvokeCommand({ FunctionName: 'orders-api', Payload: Buffer.from('{}') }))
    const client = logs()
    const todays = await client.send(
      new DescribeLogStreamsCommand({ logGroupName: GROUP, logStreamNamePrefix: today() })
    )
    const fresh = (todays.logStreams ?? []).find((s) => !busy.includes(String(s.logStreamName)))
    expect(todays.logStreams).toHaveLength(4)
    expect(fresh?.creationTime).toBeGreaterThan(0)
    expect(fresh?.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/)
    expect(fresh?.lastEventTimestamp).toBeUndefined()
    expect(fresh?.lastIngestionTime).toBeUndefined()

    const newest = await client.send(
      new DescribeLogStreamsCommand({ logGroupName: GROUP, orderBy: 'LastEventTime', descending: true, limit: 10 })
    )
    expect(newest.logStreams).toHaveLength(10)
    expect(names(newest.logStreams)).not.toContain(fresh?.logStreamName)
    expect(newest.nextToken).toBeDefined()

    // A second invocation in the same execution environment writes to the same stream.
    await lambda().send(new InvokeCommand({ FunctionName: 'orders-api', Payload: Buffer.from('{}') }))
    now += LAG_MS
    const later = await client.send(
      new DescribeLogStreamsCommand({ logGroupName: GROUP, orderBy: 'LastEventTime', descending: true, limit: 1 })
    )
    expect(names(later.logStreams)).toEqual([fresh?.logStreamName])
    expect(later.logStreams?.[0]?.lastEventTimestamp).toBeGreaterThanOrEqual(now - LAG_MS - 1000)
  })

  it('refuses a prefix with LastEventTime order, and throttles past 5 a second', async () => {
    proxy.reset()
    const client = logs()
    await expect(
      client.send(
        new DescribeLogStreamsCommand({ logGroupName: GROUP, logStreamNamePrefix: '2', orderBy: 'LastEventTime' })
      )
    ).rejects.toMatchObject({ name: 'InvalidParameterException' })
    now += 1000
    const burst = await outcomes(
      Array.from({ length: 7 }, () => client.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, limit: 1 })))
    )
    expect(count(burst, 'ok')).toBe(5)
    expect(count(burst, 'ThrottlingException')).toBe(2)
    expect(proxy.calls.filter((call) => call.fault === 'quota').map((call) => call.apiClass)).toEqual([
      'logs:DescribeLogStreams',
      'logs:DescribeLogStreams'
    ])
  })

  it('starts a new stream after a configuration update (a new execution environment), none for other functions', async () => {
    proxy.reset()
    now += SETTLE_MS + 1000
    await lambda().send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Description: 'third' }))
    await lambda().send(new InvokeCommand({ FunctionName: 'orders-api', Payload: Buffer.from('{}') }))
    await lambda('eu-west-1').send(new InvokeCommand({ FunctionName: 'billing-worker', Payload: Buffer.from('{}') }))
    now += 1000
    const todays = await logs().send(
      new DescribeLogStreamsCommand({ logGroupName: GROUP, logStreamNamePrefix: today() })
    )
    expect(todays.logStreams).toHaveLength(5)
    const europe = new CloudWatchLogsClient({
      endpoint: proxy.url,
      region: 'eu-west-1',
      credentials: { ...CREDENTIALS },
      maxAttempts: 1
    })
    await expect(
      europe.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/billing-worker' }))
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' })
  })
})

describe('extra throttling', () => {
  it('throttles the same calls for the same seed', async () => {
    const pattern = async (seed: number): Promise<string> => {
      const seeded = await startFaultProxy({
        target: moto,
        seed,
        envelope: { extraThrottle: 0.3, rates: { 'lambda:control': 0 } }
      })
      try {
        const client = lambdaThrough(seeded.url)
        const seen: string[] = []
        for (let i = 0; i < 20; i++)
          seen.push(
            ...(await outcomes([client.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }))]))
          )
        expect(seeded.calls.filter((call) => call.fault === 'extra-throttle')).toHaveLength(
          count(seen, 'TooManyRequestsException')
        )
        return seen.map((outcome) => (outcome === 'ok' ? '.' : 'x')).join('')
      } finally {
        await seeded.close()
      }
    }
    const first = await pattern(5)
    expect(first).toMatch(/x/)
    expect(first).toMatch(/\./)
    expect(await pattern(5)).toBe(first)
    expect(await pattern(6)).not.toBe(first)
  })

  it('takes no token for an extra throttle, unless the draw stands for another tool that took it', async () => {
    // 10 calls at once against a bucket of 10 (rate 1/s, burst 10), every other one drawn: only the
    // token-taking model leaves the bucket short, so that calls over it meet the quota.
    const quotaRefusals = async (extraThrottleTakesToken: boolean): Promise<number> => {
      const seeded = await startFaultProxy({
        target: moto,
        seed: 5,
        envelope: {
          extraThrottle: 0.5,
          extraThrottleTakesToken,
          rates: { 'lambda:control': 1 },
          burst: { 'lambda:control': 10 }
        }
      })
      try {
        const client = lambdaThrough(seeded.url)
        // Two rounds of 10: the first spends what each model spends, the second meets what is left.
        for (let round = 0; round < 2; round++)
          await outcomes(
            Array.from({ length: 10 }, () =>
              client.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }))
            )
          )
        expect(seeded.calls.filter((call) => call.fault === 'extra-throttle').length).toBeGreaterThanOrEqual(2)
        return seeded.calls.filter((call) => call.fault === 'quota').length
      } finally {
        await seeded.close()
      }
    }
    const refused = await quotaRefusals(false)
    const taken = await quotaRefusals(true)
    expect(taken).toBeGreaterThan(refused)
  })
})
