/**
 * The rate governor on real SDK clients, as createAwsClients makes them, against a local HTTP server that
 * answers as Lambda and CloudWatch Logs do when they throttle. Time is the governor's injected clock: a
 * sleep moves it forward at once, so nothing here depends on how fast the machine is.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { GetFunctionCommand, GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import { type AwsClients, createAwsClients } from '../../../src/aws/awsClients.js'
import { GOVERNOR_MIDDLEWARE, retryAfterOf } from '../../../src/aws/rateGovernor.js'
import { DEFAULT_API_RATES } from '../../../src/core/apiRates.js'
import { THROTTLE_DEADLINE_MS } from '../../../src/core/pace.js'

interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}
interface Seen {
  readonly operation: string
  /** The SDK's attempt header: `attempt=N; max=M`. */
  readonly attempt: string
}

const LAMBDA_TOO_MANY: Answer = {
  status: 429,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException', 'retry-after': '2' },
  body: JSON.stringify({ Type: 'User', Reason: 'CallerRateLimitExceeded', message: 'Rate exceeded' })
}
const LAMBDA_SERVICE_ERROR: Answer = {
  status: 500,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceException' },
  body: JSON.stringify({ Type: 'Service', message: 'internal error' })
}
const LOGS_THROTTLED: Answer = {
  status: 400,
  headers: { 'content-type': 'application/x-amz-json-1.1' },
  body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' })
}

let server: Server
/** Answers to give, in order, before the default one (a success). */
let script: Answer[] = []
let seen: Seen[] = []
const savedEndpoint = process.env.AWS_ENDPOINT_URL

function operationOf(request: IncomingMessage): string {
  const target = request.headers['x-amz-target']
  if (typeof target === 'string') return target.split('.')[1] ?? target
  return /\/configuration$/.test(request.url ?? '') ? 'GetFunctionConfiguration' : 'GetFunction'
}

function success(operation: string): Answer {
  const body =
    operation === 'DescribeLogStreams'
      ? { logStreams: [] }
      : operation === 'GetFunction'
        ? { Configuration: { FunctionName: 'orders-api' } }
        : { FunctionName: 'orders-api' }
  const type = operation === 'DescribeLogStreams' ? 'application/x-amz-json-1.1' : 'application/json'
  return { status: 200, headers: { 'content-type': type }, body: JSON.stringify(body) }
}

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      const operation = operationOf(request)
      seen.push({ operation, attempt: String(request.headers['amz-sdk-request'] ?? '') })
      const answer = script.shift() ?? success(operation)
      response.writeHead(answer.status, { 'x-amzn-requestid': 'r-1', ...answer.headers })
      response.end(answer.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL
  else process.env.AWS_ENDPOINT_URL = savedEndpoint
  await new Promise((resolve) => server.close(resolve))
})

beforeEach(() => {
  script = []
  seen = []
})

/** A clock whose sleeps end at once, moving time forward by what they asked (never back). */
function fakeClock(random = 0.5) {
  let now = 0
  const sleeps: number[] = []
  const clock = {
    now: () => now,
    random: () => random,
    sleep: (ms: number) => {
      sleeps.push(ms)
      const until = now + ms
      return new Promise<void>((resolve) =>
        setImmediate(() => {
          now = Math.max(now, until)
          resolve()
        })
      )
    }
  }
  return { clock, sleeps, time: () => now }
}

function clientsOn(clock: ReturnType<typeof fakeClock>['clock'], rates = DEFAULT_API_RATES): AwsClients {
  return createAwsClients({ accessKeyId: 'a', secretAccessKey: 'b' }, rates, clock)
}

/** Records, on the client, the governor's clock when each request leaves the governor. */
function sendTimes(client: LambdaClient, now: () => number): number[] {
  const times: number[] = []
  client.middlewareStack.addRelativeTo(
    <A, R>(next: (args: A) => Promise<R>) =>
      (args: A): Promise<R> => {
        times.push(now())
        return next(args)
      },
    { relation: 'after', toMiddleware: GOVERNOR_MIDDLEWARE, name: 'testSendTimes' }
  )
  return times
}

const getConfiguration = (client: LambdaClient) =>
  client.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }))

describe('the governor in the SDK stack', () => {
  it('sits inside the retry loop and just before signing, so each attempt takes a turn and is signed afresh', () => {
    const stack = clientsOn(fakeClock().clock).lambdaFor('us-east-1').middlewareStack.identify()
    const at = (name: string): number => stack.findIndex((entry) => entry.startsWith(`${name} `))
    expect(at('retryMiddleware')).toBeGreaterThanOrEqual(0)
    expect(at(GOVERNOR_MIDDLEWARE)).toBe(at('retryMiddleware') + 1)
    expect(at('httpSigningMiddleware')).toBe(at(GOVERNOR_MIDDLEWARE) + 1)
  })
})

describe('throttling is waited out, not retried into failure', () => {
  it("Lambda's 429 TooManyRequestsException seven times, then 200: the call succeeds, each wait honours Retry-After, no SDK attempt is spent", async () => {
    const { clock, sleeps } = fakeClock()
    const clients = clientsOn(clock)
    script = Array.from({ length: 7 }, () => LAMBDA_TOO_MANY)
    await expect(getConfiguration(clients.lambdaFor('us-east-1'))).resolves.toMatchObject({
      FunctionName: 'orders-api'
    })
    // Seven throttles are more than the SDK's six attempts: each went round in the governor, as attempt 1.
    expect(seen).toHaveLength(8)
    expect(new Set(seen.map((request) => request.attempt))).toEqual(new Set(['attempt=1; max=6']))
    expect(sleeps).toEqual(Array.from({ length: 7 }, () => 2_000))
    expect(clients.paceFigures()).toEqual([
      { region: 'us-east-1', key: 'lambda', sent: 8, throttled: 7, gaveUp: 0, waitedMs: 14_000 }
    ])
  })

  it("CloudWatch Logs' 400 ThrottlingException without Retry-After: jittered backoff doubling, then success", async () => {
    const { clock, sleeps } = fakeClock(0.5)
    const clients = clientsOn(clock)
    script = [LOGS_THROTTLED, LOGS_THROTTLED, LOGS_THROTTLED]
    const logs = clients.logsFor('us-east-1')
    await expect(
      logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/orders-api' }))
    ).resolves.toMatchObject({ logStreams: [] })
    expect(seen.map((request) => `${request.operation} ${request.attempt}`)).toEqual(
      Array.from({ length: 4 }, () => 'DescribeLogStreams attempt=1; max=6')
    )
    expect(sleeps).toEqual([100, 200, 400])
  })

  it('also on the client that sends each request once: a throttle there is paced, not a failure', async () => {
    const { clock } = fakeClock()
    script = [LAMBDA_TOO_MANY, LAMBDA_TOO_MANY]
    await expect(getConfiguration(clientsOn(clock).lambdaOnceFor('us-east-1'))).resolves.toBeDefined()
    expect(seen.map((request) => request.attempt)).toEqual(Array.from({ length: 3 }, () => 'attempt=1; max=1'))
  })

  it('gives up after the deadline with an error naming the call, the region and the fix, which the SDK does not retry', async () => {
    const { clock, time } = fakeClock()
    const clients = clientsOn(clock)
    const forever = { ...LAMBDA_TOO_MANY, headers: { ...LAMBDA_TOO_MANY.headers, 'retry-after': '60' } }
    script = Array.from({ length: 100 }, () => forever)
    const error = await getConfiguration(clients.lambdaFor('eu-west-1')).then(
      () => undefined,
      (thrown: unknown) => thrown
    )
    expect(error).toMatchObject({
      name: 'ThrottledTooLong',
      message: expect.stringMatching(
        /^lambda:GetFunctionConfiguration in eu-west-1 was throttled for 5 minutes \(\d+ answers TooManyRequestsException\) and was given up: .* lower aws-api-rates/
      )
    })
    expect(time()).toBeGreaterThanOrEqual(THROTTLE_DEADLINE_MS)
    // Retry-After 60 is capped at 20 s: a request every 20 s for 5 minutes, and no SDK retry after it.
    expect(seen.length).toBe(16)
    expect(new Set(seen.map((request) => request.attempt))).toEqual(new Set(['attempt=1; max=6']))
    expect(clients.paceFigures()).toEqual([expect.objectContaining({ sent: 16, throttled: 16, gaveUp: 1 })])
  })

  it("leaves a 5xx to the SDK's standard retry: its attempts count, and each takes a turn", async () => {
    const { clock } = fakeClock()
    const clients = clientsOn(clock)
    script = [LAMBDA_SERVICE_ERROR, LAMBDA_SERVICE_ERROR]
    await expect(getConfiguration(clients.lambdaFor('us-east-1'))).resolves.toBeDefined()
    expect(seen.map((request) => request.attempt)).toEqual(['attempt=1; max=6', 'attempt=2; max=6', 'attempt=3; max=6'])
    expect(clients.paceFigures()).toEqual([expect.objectContaining({ key: 'lambda', sent: 3, throttled: 0 })])
  })
})

describe('pacing', () => {
  it('spaces the calls of one class at 1/rate, however many are sent at once', async () => {
    const { clock, time } = fakeClock()
    const lambda = clientsOn(clock).lambdaFor('us-east-1')
    const times = sendTimes(lambda, time)
    await Promise.all(Array.from({ length: 6 }, () => getConfiguration(lambda)))
    expect(times).toHaveLength(6)
    for (let i = 1; i < times.length; i++)
      expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(1000 / 15 - 1e-9)
    expect(times[5]).toBeCloseTo((5 * 1000) / 15, 6)
  })

  it('paces by aws-api-rates: a raised rate goes faster', async () => {
    const { clock, time } = fakeClock()
    const lambda = clientsOn(clock, { ...DEFAULT_API_RATES, lambda: 5 }).lambdaFor('us-east-1')
    const times = sendTimes(lambda, time)
    await Promise.all(Array.from({ length: 3 }, () => getConfiguration(lambda)))
    expect(times).toEqual([0, 200, 400])
  })

  it('keeps GetFunction and the control plane in separate buckets, and two regions apart', async () => {
    const { clock, sleeps } = fakeClock()
    const clients = clientsOn(clock, { ...DEFAULT_API_RATES, lambda: 1 })
    const east = clients.lambdaFor('us-east-1')
    await getConfiguration(east)
    await getConfiguration(east)
    expect(sleeps).toEqual([1_000])
    // us-east-1's control plane is now booked a second ahead; neither of these waits for it.
    await east.send(new GetFunctionCommand({ FunctionName: 'orders-api' }))
    await getConfiguration(clients.lambdaFor('eu-west-1'))
    expect(sleeps).toEqual([1_000])
    // The client that sends once shares the region's bucket: it waits its turn.
    await getConfiguration(clients.lambdaOnceFor('us-east-1'))
    expect(sleeps).toEqual([1_000, 1_000])
    expect(clients.paceFigures().map(({ region, key, sent }) => `${region} ${key} ${sent}`)).toEqual([
      'us-east-1 lambda 3',
      'us-east-1 get-function 1',
      'eu-west-1 lambda 1'
    ])
  })
})

describe('retryAfterOf', () => {
  it("reads Lambda's retryAfterSeconds, the header in seconds or as a date, and nothing else", () => {
    expect(retryAfterOf({ retryAfterSeconds: '3' }, 0)).toBe(3)
    expect(retryAfterOf({ $response: { headers: { 'retry-after': '1.5' } } }, 0)).toBe(1.5)
    const now = Date.parse('2026-12-02T12:00:00Z')
    expect(retryAfterOf({ $response: { headers: { 'retry-after': 'Wed, 02 Dec 2026 12:00:04 GMT' } } }, now)).toBe(4)
    expect(retryAfterOf({ $response: { headers: { 'retry-after': 'soon' } } }, 0)).toBeUndefined()
    expect(retryAfterOf(new Error('throttled'), 0)).toBeUndefined()
    expect(retryAfterOf('throttled', 0)).toBeUndefined()
  })
})
