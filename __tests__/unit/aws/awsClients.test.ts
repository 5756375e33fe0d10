/** The clients' naming of refused calls: a 403 the SDK cannot parse says access denied, with the IAM action. */
import { describe, expect, it } from '@jest/globals'
import { DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { InvokeCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda'
import { Readable } from 'node:stream'
import { createAwsClients, explainRefusal, iamActionOf } from '../../../src/aws/awsClients.js'
import { DEFAULT_API_RATES } from '../../../src/core/apiRates.js'
import { LayerResolver } from '../../../src/aws/layerResolver.js'

/** What a promise rejects with. */
const describeError = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (error: unknown) => error
  )

/** moto's answer to a refused Lambda or CloudWatch Logs call: IAM's XML, where the SDK expects JSON. */
const MOTO_DENIAL = `<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse><Errors><Error><Code>AccessDenied</Code>
<Message><![CDATA[User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: lambda:UpdateFunctionConfiguration]]></Message>
</Error></Errors><RequestId>r-1</RequestId></ErrorResponse>`

/** A clock for the rate governor whose sleeps end at once, moving time forward. */
function instantClock() {
  let now = 0
  return {
    now: () => now,
    random: () => 0.5,
    sleep: async (ms: number) => {
      now += ms
    }
  }
}

/** Clients as the action makes them, answering every request with this response (and counting requests). */
function clientsAnswering(status: number, body: string, headers: Record<string, string>) {
  const clients = createAwsClients({ accessKeyId: 'a', secretAccessKey: 'b' }, DEFAULT_API_RATES, instantClock())
  const sent = { count: 0 }
  const handler = {
    handle: async () => {
      sent.count++
      return {
        response: {
          statusCode: status,
          reason: '',
          headers: { 'x-amzn-requestid': 'r-1', ...headers },
          body: Readable.from([Buffer.from(body)])
        }
      }
    }
  }
  const lambda = clientsWith(clients.lambdaFor('us-east-1'), handler)
  const lambdaOnce = clientsWith(clients.lambdaOnceFor('us-east-1'), handler)
  const invoker = clientsWith(clients.invokerFor('us-east-1'), handler)
  const logs = clientsWith(clients.logsFor('us-east-1'), handler)
  return { lambda, lambdaOnce, invoker, logs, sent, clients }
}

function clientsWith<T extends { config: object }>(client: T, handler: object): T {
  ;(client.config as { requestHandler: object }).requestHandler = handler
  return client
}

describe('iamActionOf', () => {
  it("is the service and the operation, with IAM's name where they differ", () => {
    expect(iamActionOf('lambda', 'UpdateFunctionConfigurationCommand')).toBe('lambda:UpdateFunctionConfiguration')
    expect(iamActionOf('lambda', 'InvokeCommand')).toBe('lambda:InvokeFunction')
    expect(iamActionOf('logs', 'DescribeLogStreamsCommand')).toBe('logs:DescribeLogStreams')
  })
})

describe('refused calls', () => {
  it('a 403 the SDK cannot parse becomes AccessDeniedException naming the action, and is not retried', async () => {
    const { lambda, sent } = clientsAnswering(403, MOTO_DENIAL, { 'content-type': 'text/html; charset=utf-8' })
    const error = await describeError(
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Layers: [] }))
    )
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      message: 'access denied to lambda:UpdateFunctionConfiguration (HTTP 403; the answer gave no more detail)',
      $metadata: { httpStatusCode: 403 }
    })
    expect(sent.count).toBe(1)
  })

  it('names the IAM action of Invoke and of a CloudWatch Logs call', async () => {
    const { invoker, logs } = clientsAnswering(403, MOTO_DENIAL, { 'content-type': 'text/xml' })
    expect(await describeError(invoker.send(new InvokeCommand({ FunctionName: 'orders-api' })))).toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('access denied to lambda:InvokeFunction')
    })
    expect(
      await describeError(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/orders-api' })))
    ).toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('access denied to logs:DescribeLogStreams')
    })
  })

  it("leaves AWS's own AccessDeniedException as it is, message and all", async () => {
    const { lambda } = clientsAnswering(
      403,
      JSON.stringify({
        Type: 'User',
        Message:
          'User: arn:aws:sts::123456789012:assumed-role/deploy/s is not authorized to perform: lambda:UpdateFunctionConfiguration on resource: orders-api'
      }),
      // Lambda names the error in a header.
      { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' }
    )
    const error = await describeError(
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Layers: [] }))
    )
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        /^User: .* is not authorized to perform: lambda:UpdateFunctionConfiguration on resource: orders-api$/
      ),
      $metadata: { httpStatusCode: 403 }
    })
  })

  it('leaves unreadable answers of other statuses as they are (a 5xx stays retryable)', () => {
    const parseError = Object.assign(new SyntaxError("Unexpected token '<'"), { $metadata: { httpStatusCode: 502 } })
    expect(explainRefusal(parseError, 'lambda', 'InvokeCommand')).toBe(parseError)
    const notFound = Object.assign(new Error('not found'), { $fault: 'client', $metadata: { httpStatusCode: 404 } })
    expect(explainRefusal(notFound, 'lambda', 'GetFunctionConfigurationCommand')).toBe(notFound)
    expect(explainRefusal('plain', 'lambda', undefined)).toBe('plain')
  })
})

describe('one layer of retry', () => {
  const THROTTLED = JSON.stringify({ message: 'Rate exceeded' })
  const THROTTLED_HEADERS = { 'content-type': 'application/json', 'x-amzn-errortype': 'ThrottlingException' }

  it('a throttled layer lookup is paced by the governor alone: no probe retry, no SDK retry (measured 5 × 6 before)', async () => {
    const { lambdaOnce, sent, clients } = clientsAnswering(400, THROTTLED, THROTTLED_HEADERS)
    const resolver = new LayerResolver({ clientFor: () => lambdaOnce, probe: { sleep: async () => {} } })
    const request = { region: 'us-east-1', account: '123456789012', name: 'rotel-extension-amd64-alpha', version: 3 }
    await expect(resolver.resolve(request)).rejects.toThrow(/GetLayerVersion .*:3 failed: .*throttled for 5 minutes/)
    // One call waited out its throttles until the deadline, then gave up once: the probe did not start it again.
    expect(clients.paceFigures()).toEqual([expect.objectContaining({ key: 'lambda', sent: sent.count, gaveUp: 1 })])
  })

  it("the other clients keep the SDK's own retry (6 attempts); the layer probe's client sends once", async () => {
    const clients = createAwsClients(undefined)
    expect(await clients.lambdaFor('us-east-1').config.maxAttempts()).toBe(6)
    expect(await clients.lambdaOnceFor('us-east-1').config.maxAttempts()).toBe(1)
  })
})
