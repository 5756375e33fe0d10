/**
 * The fault proxy (scripts/fault-proxy.mjs) with real SDK clients, in front of a tiny fake AWS: each
 * fault surfaces as the exception, or the behaviour, the real services produce; rules fire on the calls
 * they name, deterministically for a seed; every call is recorded.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  GetFunctionConfigurationCommand,
  GetLayerVersionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ListTagsCommand,
  PutFunctionConcurrencyCommand,
  TagResourceCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdated
} from '@aws-sdk/client-lambda'
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type FaultProxy, type FaultProxyOptions, type FaultRule, startFaultProxy } from '../../scripts/fault-proxy.mjs'

const ACCOUNT = '123456789012'
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' }

interface FakeFunction {
  FunctionName: string
  FunctionArn: string
  Layers: Array<{ Arn: string }>
  Environment: { Variables: Record<string, string> }
  LastUpdateStatus: 'Successful'
  State: 'Active'
}

/** Just enough of Lambda, CloudWatch Logs and STS, with no RevisionId and updates that succeed at once, like moto. */
class FakeAws {
  readonly functions = new Map<string, FakeFunction>()
  invocations = 0
  private server: Server | undefined

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res))
    await new Promise<void>((done) => this.server?.listen(0, '127.0.0.1', done))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise((done) => this.server?.close(done))
  }

  seed(): void {
    this.functions.clear()
    this.invocations = 0
    for (const [region, name] of [
      ['us-east-1', 'orders-api'],
      ['eu-west-1', 'billing-worker']
    ] as const)
      this.functions.set(name, {
        FunctionName: name,
        FunctionArn: `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`,
        Layers: [],
        Environment: { Variables: { LOG_LEVEL: 'info' } },
        LastUpdateStatus: 'Successful',
        State: 'Active'
      })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const json = (status: number, value: unknown, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type })
      res.end(JSON.stringify(value))
    }
    const xml = (text: string): void => {
      res.writeHead(200, { 'content-type': 'text/xml' })
      res.end(text)
    }
    const target = req.headers['x-amz-target']
    if (target === 'Logs_20140328.DescribeLogStreams')
      return json(200, { logStreams: [] }, 'application/x-amz-json-1.1')
    if (body.includes('Action=AssumeRoleWithWebIdentity'))
      return xml(
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAFAKE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`
      )
    if (body.includes('Action=GetCallerIdentity'))
      return xml(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${ACCOUNT}:user/t</Arn><UserId>AID</UserId><Account>${ACCOUNT}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
      )
    if (path === '/2015-03-31/functions' || path === '/2015-03-31/functions/')
      return json(200, { Functions: [...this.functions.values()] })
    const layer = /^\/2018-10-31\/layers\/([^/]+)\/versions\/(\d+)$/.exec(path)
    if (layer)
      return json(200, {
        LayerArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:${layer[1]}`,
        LayerVersionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:${layer[1]}:${layer[2]}`,
        Version: Number(layer[2]),
        Description: 'Tag=v1'
      })
    const fn = /^\/2015-03-31\/functions\/([^/]+)\/(configuration|invocations)$/.exec(path)
    const id = decodeURIComponent(fn?.[1] ?? '')
    const current = this.functions.get(id.replace(/^.*:function:/, '').replace(/:.*$/, ''))
    if (!fn || !current) {
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' })
      return void res.end(JSON.stringify({ Type: 'User', message: `Function not found: ${id}` }))
    }
    if (fn[2] === 'invocations') {
      this.invocations++
      res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' })
      return void res.end(body)
    }
    if (req.method === 'PUT') {
      const update = JSON.parse(body) as { Layers?: string[]; Environment?: { Variables: Record<string, string> } }
      if (update.Layers) current.Layers = update.Layers.map((Arn) => ({ Arn }))
      if (update.Environment) current.Environment = { Variables: update.Environment.Variables }
    }
    return json(200, current)
  }
}

const fake = new FakeAws()
let upstream: string
let proxy: FaultProxy | undefined

async function proxyWith(rules: FaultRule[], options: Partial<FaultProxyOptions> = {}): Promise<FaultProxy> {
  await proxy?.close()
  proxy = await startFaultProxy({ target: upstream, rules, ...options })
  return proxy
}

const lambda = (
  p: FaultProxy,
  maxAttempts = 1,
  region = 'us-east-1',
  extra: Record<string, unknown> = {}
): LambdaClient => new LambdaClient({ endpoint: p.url, region, credentials: { ...credentials }, maxAttempts, ...extra })

const getConfig = (client: LambdaClient, name = 'orders-api') =>
  client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))

/** What a rejected promise threw, by name, status and code, so that expectations read like the SDK's behaviour. */
async function failure(
  promise: Promise<unknown>
): Promise<{ name: string; status: number | undefined; code: string | undefined; error: Record<string, unknown> }> {
  try {
    await promise
  } catch (error) {
    const e = error as { name: string; code?: string; $metadata?: { httpStatusCode?: number } }
    return { name: e.name, status: e.$metadata?.httpStatusCode, code: e.code, error: error as Record<string, unknown> }
  }
  throw new Error('expected the call to fail, and it succeeded')
}

beforeAll(async () => {
  upstream = await fake.start()
})

afterEach(async () => {
  await proxy?.close()
  proxy = undefined
  fake.seed()
})

afterAll(async () => {
  await fake.stop()
})

fake.seed()

describe('faults surface as the SDK exceptions the real services produce', () => {
  it.each([
    ['throttle', 'ThrottlingException', 429],
    ['too-many-requests', 'TooManyRequestsException', 429],
    ['500', 'ServiceException', 500],
    ['503', 'ServiceUnavailableException', 503],
    ['conflict', 'ResourceConflictException', 409],
    ['precondition', 'PreconditionFailedException', 412],
    ['invalid-parameter', 'InvalidParameterValueException', 400]
  ] as const)('Lambda: %s → %s (HTTP %d)', async (fault, name, status) => {
    const p = await proxyWith([{ operation: 'UpdateFunctionConfiguration', fault }])
    const client = lambda(p)
    const result = await failure(
      client.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'orders-api',
          Layers: ['arn:aws:lambda:us-east-1:123456789012:layer:x:1']
        })
      )
    )
    expect(result).toMatchObject({ name, status })
    // Not forwarded: the function is as it was.
    expect(fake.functions.get('orders-api')?.Layers).toEqual([])
    expect(p.calls).toEqual([
      expect.objectContaining({
        method: 'PUT',
        service: 'lambda',
        operation: 'UpdateFunctionConfiguration',
        functionName: 'orders-api',
        region: 'us-east-1',
        status,
        fault,
        upstreamStatus: null
      })
    ])
  })

  it('Lambda: too-many-requests carries the Reason Lambda gives, conflict names the function', async () => {
    const p = await proxyWith([
      { operation: 'GetFunctionConfiguration', fault: 'too-many-requests' },
      { operation: 'UpdateFunctionConfiguration', fault: 'conflict' }
    ])
    const client = lambda(p)
    expect((await failure(getConfig(client))).error).toMatchObject({
      Reason: 'CallerRateLimitExceeded',
      message: 'Rate exceeded'
    })
    const conflict = await failure(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api' })))
    expect(conflict.error.message).toBe(
      `The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders-api`
    )
  })

  it.each([
    ['throttle', 'ThrottlingException', 400],
    ['500', 'InternalFailure', 500],
    ['503', 'ServiceUnavailableException', 503]
  ] as const)('CloudWatch Logs: %s → %s (HTTP %d)', async (fault, name, status) => {
    const p = await proxyWith([{ service: 'logs', fault }])
    const logs = new CloudWatchLogsClient({
      endpoint: p.url,
      region: 'us-east-1',
      credentials: { ...credentials },
      maxAttempts: 1
    })
    expect(
      await failure(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/orders-api' })))
    ).toMatchObject({
      name,
      status
    })
    expect(p.calls[0]).toMatchObject({
      service: 'logs',
      operation: 'DescribeLogStreams',
      functionName: 'orders-api',
      fault
    })
  })

  it.each([
    ['throttle', 'Throttling', 400],
    ['500', 'InternalFailure', 500],
    ['503', 'ServiceUnavailable', 503]
  ] as const)(
    'STS (XML ErrorResponse): %s → %s (HTTP %d), signed and unsigned calls alike',
    async (fault, name, status) => {
      const p = await proxyWith([{ service: 'sts', fault }])
      const sts = new STSClient({
        endpoint: p.url,
        region: 'us-east-1',
        credentials: { ...credentials },
        maxAttempts: 1
      })
      expect(await failure(sts.send(new GetCallerIdentityCommand({})))).toMatchObject({ name, status })
      expect(
        await failure(
          sts.send(
            new AssumeRoleWithWebIdentityCommand({
              RoleArn: `arn:aws:iam::${ACCOUNT}:role/deploy`,
              RoleSessionName: 's',
              WebIdentityToken: 't'
            })
          )
        )
      ).toMatchObject({ name, status })
      expect(p.calls.map((c) => [c.service, c.operation])).toEqual([
        ['sts', 'GetCallerIdentity'],
        ['sts', 'AssumeRoleWithWebIdentity']
      ])
    }
  )

  it('reset: the connection drops without an answer, the SDK sees ECONNRESET and retries it', async () => {
    const p = await proxyWith([{ operation: 'GetFunctionConfiguration', nth: 1, fault: 'reset' }])
    const once = await failure(getConfig(lambda(p)))
    // Under jest the SDK wraps the socket error (another realm's Error), so its text carries the code.
    expect(once.code ?? String(once.error)).toMatch(/ECONNRESET/)
    expect(p.calls[0]).toMatchObject({ fault: 'reset', status: null })

    const q = await proxyWith([{ operation: 'GetFunctionConfiguration', nth: 1, fault: 'reset' }])
    const config = await getConfig(lambda(q, 3))
    expect(config.FunctionName).toBe('orders-api')
    expect(q.calls.map((c) => [c.fault, c.status])).toEqual([
      ['reset', null],
      [null, 200]
    ])
  })

  it('reset with forward: the write happens, only its answer is lost', async () => {
    const p = await proxyWith([{ operation: 'UpdateFunctionConfiguration', fault: 'reset', forward: true }])
    const layer = `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:x:1`
    await failure(
      lambda(p).send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Layers: [layer] }))
    )
    expect(fake.functions.get('orders-api')?.Layers).toEqual([{ Arn: layer }])
    expect(p.calls[0]).toMatchObject({ fault: 'reset', status: null, upstreamStatus: 200 })
  })

  it('delay: an answer held past the client request timeout is a TimeoutError; a shorter one just arrives late', async () => {
    const p = await proxyWith([{ operation: 'GetFunctionConfiguration', nth: 1, fault: 'delay', delayMs: 2000 }])
    const impatient = lambda(p, 1, 'us-east-1', {
      requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true }
    })
    const started = Date.now()
    expect((await failure(getConfig(impatient))).name).toBe('TimeoutError')
    expect(Date.now() - started).toBeLessThan(1500)

    const q = await proxyWith([{ operation: 'GetFunctionConfiguration', fault: 'delay', delayMs: 300 }])
    const patientStart = Date.now()
    expect((await getConfig(lambda(q))).FunctionName).toBe('orders-api')
    expect(Date.now() - patientStart).toBeGreaterThanOrEqual(290)
    expect(q.calls[0]?.durationMs).toBeGreaterThanOrEqual(290)
  })

  it('update-failed: the update is applied, says InProgress, and reads say Failed with the reason until the next update', async () => {
    const p = await proxyWith([
      {
        operation: 'UpdateFunctionConfiguration',
        nth: 1,
        fault: 'update-failed',
        reason: 'Layer extraction failed.',
        reasonCode: 'InvalidLayer'
      }
    ])
    const client = lambda(p)
    const layer = `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:x:1`
    const update = await client.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Layers: [layer] })
    )
    expect(update.LastUpdateStatus).toBe('InProgress')
    expect(fake.functions.get('orders-api')?.Layers).toEqual([{ Arn: layer }])
    const read = await getConfig(client)
    expect(read).toMatchObject({
      LastUpdateStatus: 'Failed',
      LastUpdateStatusReason: 'Layer extraction failed.',
      LastUpdateStatusReasonCode: 'InvalidLayer'
    })
    // The ARN form of the name is the same function; other functions are not affected.
    expect((await getConfig(client, `arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders-api`)).LastUpdateStatus).toBe(
      'Failed'
    )
    expect((await getConfig(lambda(p, 1, 'eu-west-1'), 'billing-worker')).LastUpdateStatus).toBe('Successful')
    // The SDK's waiter, which the action uses, ends in failure.
    await expect(
      waitUntilFunctionUpdated({ client, maxWaitTime: 5, minDelay: 1, maxDelay: 1 }, { FunctionName: 'orders-api' })
    ).rejects.toThrow(/FAILURE/)
    // The next update (a rollback, say) clears it.
    const next = await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Layers: [] }))
    expect(next.LastUpdateStatus).toBe('Successful')
    expect((await getConfig(client)).LastUpdateStatus).toBe('Successful')
  })

  it('update-failed with immediate: the update answer itself says Failed', async () => {
    const p = await proxyWith([{ fault: 'update-failed', immediate: true }])
    const update = await lambda(p).send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Layers: [] })
    )
    expect(update).toMatchObject({ LastUpdateStatus: 'Failed', LastUpdateStatusReasonCode: 'InvalidLayer' })
    expect(update.LastUpdateStatusReason).toMatch(/layer/)
  })

  it('function-error: Invoke is made, and answers FunctionError Unhandled with the log tail, as for a handler that threw', async () => {
    const p = await proxyWith([{ fault: 'function-error', errorMessage: 'boom', logTail: 'START\nERROR boom\nEND\n' }])
    const result = await lambda(p).send(
      new InvokeCommand({
        FunctionName: 'orders-api',
        InvocationType: 'RequestResponse',
        LogType: 'Tail',
        Payload: Buffer.from('{"test":"data"}')
      })
    )
    expect(fake.invocations).toBe(1)
    expect(result.StatusCode).toBe(200)
    expect(result.FunctionError).toBe('Unhandled')
    expect(Buffer.from(result.LogResult ?? '', 'base64').toString('utf8')).toBe('START\nERROR boom\nEND\n')
    expect(JSON.parse(Buffer.from(result.Payload ?? new Uint8Array()).toString('utf8'))).toMatchObject({
      errorMessage: 'boom'
    })
    expect(p.calls[0]).toMatchObject({ operation: 'Invoke', fault: 'function-error', status: 200, upstreamStatus: 200 })
  })

  it('withLayer: faults only the calls about a function that carries that layer version now, as the emulator says', async () => {
    const p = await proxyWith([{ fault: 'function-error', withLayer: ':layer:rotel:2' }])
    const invoke = () => lambda(p).send(new InvokeCommand({ FunctionName: 'orders-api', Payload: Buffer.from('{}') }))
    expect((await invoke()).FunctionError).toBeUndefined()
    const put = (version: number) =>
      lambda(p).send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'orders-api',
          Layers: [`arn:aws:lambda:us-east-1:${ACCOUNT}:layer:rotel:${version}`]
        })
      )
    await put(2)
    expect((await invoke()).FunctionError).toBe('Unhandled')
    // Put back as it was: the next invocation passes again.
    await put(1)
    expect((await invoke()).FunctionError).toBeUndefined()
    expect(p.calls.filter((call) => call.operation === 'Invoke').map((call) => call.fault)).toEqual([
      null,
      'function-error',
      null
    ])
  })

  it("log-tail: Invoke is made and its answer kept, with the tail for the answer's request id", async () => {
    const p = await proxyWith([
      { fault: 'log-tail', logTail: 'END RequestId: {requestId}\nREPORT RequestId: {requestId}\n' }
    ])
    const result = await lambda(p).send(
      new InvokeCommand({ FunctionName: 'orders-api', LogType: 'Tail', Payload: Buffer.from('{"test":"data"}') })
    )
    expect(fake.invocations).toBe(1)
    expect(result.StatusCode).toBe(200)
    expect(result.FunctionError).toBeUndefined()
    const requestId = result.$metadata.requestId ?? ''
    expect(requestId).toMatch(/^[\w-]{8,}$/)
    expect(Buffer.from(result.LogResult ?? '', 'base64').toString('utf8')).toBe(
      `END RequestId: ${requestId}\nREPORT RequestId: ${requestId}\n`
    )
    expect(p.calls[0]).toMatchObject({ operation: 'Invoke', fault: 'log-tail', status: 200, upstreamStatus: 200 })
  })

  it("environment-too-large: the update is refused unforwarded with Lambda's 4 KB message, which quotes the requested variables", async () => {
    const p = await proxyWith([{ fault: 'environment-too-large', functionName: 'orders-api' }])
    const variables = { DB_PASSWORD: 'pa"ss\\word', LOG_LEVEL: 'debug' }
    const refused = await failure(
      lambda(p).send(
        new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Environment: { Variables: variables } })
      )
    )
    expect(refused).toMatchObject({ name: 'InvalidParameterValueException', status: 400 })
    expect(refused.error.message).toBe(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(variables)}`
    )
    expect(fake.functions.get('orders-api')?.Environment.Variables).toEqual({ LOG_LEVEL: 'info' })
    expect(p.calls[0]).toMatchObject({
      operation: 'UpdateFunctionConfiguration',
      fault: 'environment-too-large',
      upstreamStatus: null
    })
    // Only updates: a read of the same function passes.
    expect((await getConfig(lambda(p))).FunctionName).toBe('orders-api')
    expect(p.calls[1]).toMatchObject({ operation: 'GetFunctionConfiguration', fault: null })
  })

  it('a fault with forward: true lets the write happen and replaces only its answer', async () => {
    const p = await proxyWith([{ operation: 'UpdateFunctionConfiguration', fault: '503', forward: true }])
    const layer = `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:x:1`
    expect(
      (
        await failure(
          lambda(p).send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Layers: [layer] }))
        )
      ).status
    ).toBe(503)
    expect(fake.functions.get('orders-api')?.Layers).toEqual([{ Arn: layer }])
  })
})

describe('RevisionId emulation', () => {
  it('reads carry a RevisionId; an update with the current one succeeds and changes it; a stale one is refused with 412, unforwarded', async () => {
    const p = await proxyWith([], { revisions: true })
    const client = lambda(p)
    const first = await getConfig(client)
    expect(first.RevisionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/)
    expect((await getConfig(client)).RevisionId).toBe(first.RevisionId)

    const updated = await client.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'orders-api',
        Environment: { Variables: { A: '1' } },
        RevisionId: first.RevisionId
      })
    )
    expect(updated.RevisionId).not.toBe(first.RevisionId)
    expect((await getConfig(client)).RevisionId).toBe(updated.RevisionId)

    const stale = await failure(
      client.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'orders-api',
          Environment: { Variables: { B: '2' } },
          RevisionId: first.RevisionId
        })
      )
    )
    expect(stale).toMatchObject({ name: 'PreconditionFailedException', status: 412 })
    expect(fake.functions.get('orders-api')?.Environment.Variables).toEqual({ A: '1' })
    expect(p.calls.at(-1)).toMatchObject({ fault: 'stale-revision', status: 412, upstreamStatus: null })

    // Without a RevisionId an update is not checked, as on Lambda.
    await client.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Environment: { Variables: { C: '3' } } })
    )
    expect(fake.functions.get('orders-api')?.Environment.Variables).toEqual({ C: '3' })
  })

  it('a change made behind the proxy (directly upstream) changes the RevisionId too, so the stale write is refused', async () => {
    const p = await proxyWith([], { revisions: true })
    const client = lambda(p)
    const before = await getConfig(client)
    const orders = fake.functions.get('orders-api')
    if (orders) orders.Environment.Variables.OTHER_TEAM = 'yes'
    expect((await getConfig(client)).RevisionId).not.toBe(before.RevisionId)
    expect(
      (
        await failure(
          client.send(
            new UpdateFunctionConfigurationCommand({
              FunctionName: 'orders-api',
              Layers: [],
              RevisionId: before.RevisionId
            })
          )
        )
      ).name
    ).toBe('PreconditionFailedException')
  })

  it('the before hook runs when its rule fires, before the call is forwarded: a change made there beats the write', async () => {
    const seen: string[] = []
    const p = await proxyWith(
      [
        {
          operation: 'UpdateFunctionConfiguration',
          nth: 1,
          fault: 'pass',
          before: (call) => {
            seen.push(`${call.operation} ${call.functionName}`)
            const orders = fake.functions.get('orders-api')
            if (orders) orders.Environment.Variables.OTHER_TEAM = 'yes'
          }
        }
      ],
      { revisions: true }
    )
    const client = lambda(p)
    const read = await getConfig(client)
    const write = () =>
      client.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Layers: [], RevisionId: read.RevisionId })
      )
    expect((await failure(write())).name).toBe('PreconditionFailedException')
    expect(seen).toEqual(['UpdateFunctionConfiguration orders-api'])
    expect(p.calls.map((c) => c.fault)).toEqual([null, 'stale-revision'])
  })

  it('a listing carries the RevisionId a read gives, and, as on Lambda, no State or LastUpdateStatus', async () => {
    const p = await proxyWith([], { revisions: true })
    const client = lambda(p)
    const listOrders = async () =>
      (await client.send(new ListFunctionsCommand({}))).Functions?.find((f) => f.FunctionName === 'orders-api')
    const listed = await listOrders()
    const read = await getConfig(client)
    expect(listed?.RevisionId).toBeDefined()
    expect(listed?.RevisionId).toBe(read.RevisionId)
    expect(read).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' })
    expect(listed).not.toHaveProperty('State')
    expect(listed).not.toHaveProperty('LastUpdateStatus')
    // A write on the listed revision goes through, and the next listing has the new one.
    await client.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'orders-api',
        Environment: { Variables: { A: '1' } },
        RevisionId: listed?.RevisionId
      })
    )
    const relisted = await listOrders()
    expect(relisted?.RevisionId).not.toBe(listed?.RevisionId)
    expect(relisted?.RevisionId).toBe((await getConfig(client)).RevisionId)
  })

  it('without revisions nothing is added, as with moto', async () => {
    const p = await proxyWith([])
    expect((await getConfig(lambda(p))).RevisionId).toBeUndefined()
  })
})

describe('updates that take time (pendingReads), as on Lambda', () => {
  it('an update says InProgress, so do the next reads; another update meanwhile is refused with 409; then it is Successful', async () => {
    const p = await proxyWith([], { pendingReads: 2 })
    const client = lambda(p)
    const update = await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Layers: [] }))
    expect(update.LastUpdateStatus).toBe('InProgress')
    expect((await getConfig(client)).LastUpdateStatus).toBe('InProgress')
    const meanwhile = await failure(
      client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Layers: [] }))
    )
    expect(meanwhile).toMatchObject({ name: 'ResourceConflictException', status: 409 })
    expect(p.calls.at(-1)).toMatchObject({ fault: 'update-in-progress', upstreamStatus: null })
    // The SDK's waiter, which the action uses, waits it out.
    await waitUntilFunctionUpdated(
      { client, maxWaitTime: 10, minDelay: 1, maxDelay: 1 },
      { FunctionName: 'orders-api' }
    )
    expect((await getConfig(client)).LastUpdateStatus).toBe('Successful')
    expect(p.calls.filter((c) => c.operation === 'GetFunctionConfiguration')).toHaveLength(4)
  })
})

describe('rules', () => {
  const sequence = async (p: FaultProxy, names: string[]): Promise<Array<string | null>> => {
    const client = lambda(p)
    const out: Array<string | null> = []
    for (const name of names) {
      try {
        await getConfig(client, name)
        out.push(null)
      } catch (error) {
        out.push((error as Error).name)
      }
    }
    return out
  }

  it('nth faults only the nth matching call; times faults that many; filters pick operation and function', async () => {
    const p = await proxyWith([
      { operation: 'GetFunctionConfiguration', functionName: 'orders-api', nth: 2, fault: '500' },
      { operation: 'GetFunctionConfiguration', functionName: 'billing-worker', times: 2, fault: 'throttle' }
    ])
    const names = ['orders-api', 'billing-worker', 'orders-api', 'billing-worker', 'orders-api', 'billing-worker']
    expect(await sequence(p, names)).toEqual([
      null,
      'ThrottlingException',
      'ServiceException',
      'ThrottlingException',
      null,
      null
    ])
    expect(p.calls.map((c) => c.rule)).toEqual([null, 1, 0, 1, null, null])
  })

  it('probability with a seed: the same seed faults the same calls, another seed others, whatever the interleaving', async () => {
    const rules: FaultRule[] = [
      { operation: 'GetFunctionConfiguration', probability: 0.5, fault: ['500', 'throttle', '503'] }
    ]
    const names = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? 'orders-api' : 'billing-worker'))
    const perFunction = (p: FaultProxy, name: string) =>
      p.calls.filter((c) => c.functionName === name).map((c) => c.fault)

    const a = await proxyWith(rules, { seed: 42 })
    await sequence(a, names)
    const ordersA = perFunction(a, 'orders-api')
    const billingA = perFunction(a, 'billing-worker')
    const firedA = a.calls.filter((c) => c.fault !== null).length
    expect(firedA).toBeGreaterThan(3)
    expect(firedA).toBeLessThan(21)
    expect(new Set(a.calls.map((c) => c.fault).filter((f) => f !== null)).size).toBeGreaterThan(1)

    // Same seed, the calls in another order: each function's calls get the same faults.
    const b = await proxyWith(rules, { seed: 42 })
    await sequence(b, [...names.filter((n) => n === 'billing-worker'), ...names.filter((n) => n === 'orders-api')])
    expect(perFunction(b, 'orders-api')).toEqual(ordersA)
    expect(perFunction(b, 'billing-worker')).toEqual(billingA)

    const c = await proxyWith(rules, { seed: 43 })
    await sequence(c, names)
    expect([perFunction(c, 'orders-api'), perFunction(c, 'billing-worker')]).not.toEqual([ordersA, billingA])
  })

  it('setRules replaces the rules and restarts their counts; reset clears the call log', async () => {
    const p = await proxyWith([{ operation: 'GetFunctionConfiguration', nth: 1, fault: '500' }])
    expect(await sequence(p, ['orders-api', 'orders-api'])).toEqual(['ServiceException', null])
    p.setRules([{ operation: 'GetFunctionConfiguration', nth: 1, fault: 'throttle' }])
    expect(await sequence(p, ['orders-api'])).toEqual(['ThrottlingException'])
    expect(p.calls).toHaveLength(3)
    p.reset()
    expect(p.calls).toHaveLength(0)
    expect(await sequence(p, ['orders-api', 'orders-api'])).toEqual(['ThrottlingException', null])
  })

  it('refuses an unknown fault or a bad count', async () => {
    await expect(startFaultProxy({ target: upstream, rules: [{ fault: 'explode' as never }] })).rejects.toThrow(
      /unknown fault "explode"/
    )
    await expect(startFaultProxy({ target: upstream, rules: [{ fault: '500', nth: 0 }] })).rejects.toThrow(/nth/)
    await expect(startFaultProxy({ target: upstream, rules: [{ fault: '500', probability: 2 }] })).rejects.toThrow(
      /probability/
    )
  })

  it('a throttled call is retried by an SDK client with retries, and the log shows both attempts', async () => {
    const p = await proxyWith([{ operation: 'GetFunctionConfiguration', nth: 1, fault: 'throttle' }])
    expect((await getConfig(lambda(p, 3))).FunctionName).toBe('orders-api')
    expect(p.calls.map((c) => [c.operation, c.status, c.fault])).toEqual([
      ['GetFunctionConfiguration', 429, 'throttle'],
      ['GetFunctionConfiguration', 200, null]
    ])
  })
})

describe('recording', () => {
  it('names the service, operation, function or layer, and region of every call', async () => {
    const p = await proxyWith([])
    const client = lambda(p)
    await client.send(new ListFunctionsCommand({}))
    await getConfig(lambda(p, 1, 'eu-west-1'), `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:billing-worker`)
    await client.send(
      new GetLayerVersionCommand({
        LayerName: `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:rotel-extension-amd64-alpha`,
        VersionNumber: 5
      })
    )
    await client.send(new InvokeCommand({ FunctionName: 'orders-api', Payload: Buffer.from('{}') }))
    await new CloudWatchLogsClient({ endpoint: p.url, region: 'us-east-1', credentials: { ...credentials } }).send(
      new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/orders-api' })
    )
    expect(
      p.calls.map((c) => [c.method, c.service, c.operation, c.functionName ?? c.layerName, c.region, c.status])
    ).toEqual([
      ['GET', 'lambda', 'ListFunctions', null, 'us-east-1', 200],
      ['GET', 'lambda', 'GetFunctionConfiguration', 'billing-worker', 'eu-west-1', 200],
      ['GET', 'lambda', 'GetLayerVersion', 'rotel-extension-amd64-alpha', 'us-east-1', 200],
      ['POST', 'lambda', 'Invoke', 'orders-api', 'us-east-1', 200],
      ['POST', 'logs', 'DescribeLogStreams', 'orders-api', 'us-east-1', 200]
    ])
    expect(p.calls.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5])
    for (const call of p.calls) {
      expect(call.time).toBeGreaterThan(Date.now() - 60_000)
      expect(call.durationMs).toBeGreaterThanOrEqual(0)
      expect(call.upstreamStatus).toBe(200)
    }
  })

  it('names the writes besides configuration that a test may want to rule out: tags and reserved concurrency', async () => {
    const p = await proxyWith([])
    const client = lambda(p)
    const arn = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:billing-worker`
    // The fake has none of these: each answers 404, which does not matter here.
    await failure(client.send(new TagResourceCommand({ Resource: arn, Tags: { team: 'x' } })))
    await failure(client.send(new ListTagsCommand({ Resource: arn })))
    await failure(
      client.send(new PutFunctionConcurrencyCommand({ FunctionName: 'orders-api', ReservedConcurrentExecutions: 1 }))
    )
    expect(p.calls.map((c) => [c.operation, c.functionName, c.region])).toEqual([
      ['TagResource', 'billing-worker', 'eu-west-1'],
      ['ListTags', 'billing-worker', 'eu-west-1'],
      ['PutFunctionConcurrency', 'orders-api', 'us-east-1']
    ])
  })

  it('latencyMs delays every forwarded call', async () => {
    const p = await proxyWith([], { latencyMs: 150 })
    const started = Date.now()
    await getConfig(lambda(p))
    await getConfig(lambda(p))
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    expect(p.calls.every((c) => (c.durationMs ?? 0) >= 145)).toBe(true)
  })
})
