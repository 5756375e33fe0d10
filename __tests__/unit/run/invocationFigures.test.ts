import { beforeEach, describe, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  type FunctionConfiguration,
  GetLayerVersionCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand
} from '@aws-sdk/client-lambda'
import { mockClient } from 'aws-sdk-client-mock'
import { readsOf } from '../../support/lambdaReads.js'
import { loadConfig } from '../../../src/core/config.js'
import { LayerResolver } from '../../../src/aws/layerResolver.js'
import { rolloutFunction } from '../../../src/run/rollout.js'
import type { RolloutContext } from '../../../src/run/rolloutContext.js'

const lambda = mockClient(LambdaClient)
const logs = mockClient(CloudWatchLogsClient)

const ROTEL = 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64-alpha'
const FN_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:orders-api'
const REQUEST_ID = '8f507cfc-xmpl-4697-b07a-ac58fc914c95'
const target = { given: 'orders-api', name: 'orders-api', region: 'us-east-1', account: undefined, partition: 'aws' }

const configuration = (memorySize: number): FunctionConfiguration => ({
  FunctionName: 'orders-api',
  FunctionArn: FN_ARN,
  Architectures: ['x86_64'],
  PackageType: 'Zip',
  Layers: [{ Arn: `${ROTEL}:40` }],
  Environment: { Variables: { LOG_LEVEL: 'info' } },
  RevisionId: 'rev-1',
  LastUpdateStatus: 'Successful',
  State: 'Active',
  MemorySize: memorySize
})

const reportLine = (requestId: string, used: number, size = 128): string =>
  `REPORT RequestId: ${requestId}\tDuration: 21.04 ms\tBilled Duration: 22 ms\tMemory Size: ${size} MB\tMax Memory Used: ${used} MB\tInit Duration: 250.61 ms\t`

function invokedWithTail(tail: string): void {
  lambda.on(InvokeCommand).resolves({
    StatusCode: 200,
    LogResult: Buffer.from(tail).toString('base64'),
    $metadata: { requestId: REQUEST_ID }
  })
}

function context(inputs: Record<string, string> = {}): RolloutContext {
  const config = loadConfig(
    (name) =>
      ({
        functions: 'orders-api',
        'aws-region': 'us-east-1',
        'otlp-endpoint': 'https://clickstack.example.com:4317',
        'cloudwatch-check-seconds': '0',
        'cloud-attributes': 'false',
        ...inputs
      })[name] ?? '',
    {}
  )
  const client = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
  const logsClient = new CloudWatchLogsClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' }
  })
  return {
    config,
    lambdaFor: () => client,
    logsFor: () => logsClient,
    layers: new LayerResolver({ clientFor: () => client, hints: { 'rotel-extension-amd64-alpha': 41 } }),
    sleep: async () => {}
  }
}

beforeEach(() => {
  lambda.reset()
  logs.reset()
  lambda.on(GetLayerVersionCommand).callsFake(({ VersionNumber }: { VersionNumber: number }) => {
    if (VersionNumber > 41) throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' })
    return { LayerVersionArn: `${ROTEL}:${VersionNumber}`, LayerArn: ROTEL, Version: VersionNumber }
  })
  readsOf(lambda).resolves(configuration(128))
  lambda.on(UpdateFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-2' })
  logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [] })
})

describe('the test invocation’s figures', () => {
  it('reach the report row and the log when the memory is fine', async () => {
    invokedWithTail(`END RequestId: ${REQUEST_ID}\n${reportLine(REQUEST_ID, 84)}\n`)
    const { report, log, warnings } = await rolloutFunction(context(), target)
    expect(report.status).toBe('updated')
    expect(report.invocation).toEqual({
      status: 'ok',
      statusCode: 200,
      functionError: null,
      report: {
        durationMs: 21.04,
        billedDurationMs: 22,
        memorySizeMb: 128,
        maxMemoryUsedMb: 84,
        initDurationMs: 250.61,
        restoreDurationMs: null,
        billedRestoreDurationMs: null
      },
      lowMemory: false,
      before: null
    })
    expect(log).toContain(
      "Lambda's report: Duration 21.04 ms, Billed Duration 22 ms, Memory Size 128 MB, Max Memory Used 84 MB, Init Duration 250.61 ms"
    )
    expect(warnings).toEqual([])
  })

  it('warns by default when the memory used comes within the headroom, keeping the change', async () => {
    invokedWithTail(reportLine(REQUEST_ID, 120))
    const { report, warnings, warningTopics } = await rolloutFunction(context(), target)
    expect(report.status).toBe('updated')
    expect(report.invocation.lowMemory).toBe(true)
    expect(warnings).toEqual([
      expect.stringMatching(/^orders-api: its test invocation used 120 MB of its 128 MB \(8 MB free/)
    ])
    // The annotation's title: "<function>: memory headroom".
    expect(warningTopics).toEqual({ [warnings[0] ?? '']: 'memory headroom' })
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(1)
  })

  it('with low-memory: fail, rolls the function back and fails it with the figures and the fix', async () => {
    invokedWithTail(reportLine(REQUEST_ID, 120))
    const { report } = await rolloutFunction(context({ 'low-memory': 'fail' }), target)
    expect(report.status).toBe('rolled-back')
    expect(report.invocation.lowMemory).toBe(true)
    expect(report.error).toMatch(
      /used 120 MB of its 128 MB .*raise its MemorySize \(to 192 MB, say\) or.*lower memory-headroom; low-memory is fail\. It was rolled back/
    )
    const updates = lambda.commandCalls(UpdateFunctionConfigurationCommand).map((call) => call.args[0].input)
    expect(updates).toHaveLength(2)
    expect(updates[1]?.Layers).toEqual([`${ROTEL}:40`])
  })

  it('measures against the memory size read from the function, not the one the tail claims', async () => {
    readsOf(lambda).resolves(configuration(256))
    invokedWithTail(reportLine(REQUEST_ID, 120, 128))
    const { report } = await rolloutFunction(context({ 'low-memory': 'fail' }), target)
    expect(report.status).toBe('updated')
    expect(report.invocation.lowMemory).toBe(false)
  })

  it('takes no figures from a REPORT line of another request, and judges nothing', async () => {
    invokedWithTail(reportLine('00000000-0000-0000-0000-000000000000', 127))
    const { report, log } = await rolloutFunction(context({ 'low-memory': 'fail' }), target)
    expect(report.status).toBe('updated')
    expect(report.invocation.report).toBeNull()
    expect(log).toContain("Lambda's report: none for this invocation's request id in the log tail; no figures.")
  })

  it('uses a memory-headroom in MB', async () => {
    invokedWithTail(reportLine(REQUEST_ID, 100))
    const quiet = await rolloutFunction(context({ 'memory-headroom': '16MB', 'low-memory': 'fail' }), target)
    expect(quiet.report.status).toBe('updated')
    const strict = await rolloutFunction(context({ 'memory-headroom': '32MB', 'low-memory': 'fail' }), target)
    expect(strict.report.status).toBe('rolled-back')
  })

  it('keeps the figures of a failed invocation (an out-of-memory error shows them)', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      LogResult: Buffer.from(reportLine(REQUEST_ID, 128)).toString('base64'),
      $metadata: { requestId: REQUEST_ID }
    })
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('rolled-back')
    expect(report.invocation.report?.maxMemoryUsedMb).toBe(128)
  })
})
