import { beforeEach, describe, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  GetLayerVersionCommand,
  InvokeCommand,
  LambdaClient,
  ResourceNotFoundException,
  UpdateFunctionConfigurationCommand
} from '@aws-sdk/client-lambda'
import { mockClient } from 'aws-sdk-client-mock'
import { readsOf } from '../../support/lambdaReads.js'
import { loadConfig } from '../../../src/core/config.js'
import { MODES, type Mode } from '../../../src/core/model.js'
import { MODE_POLICY, writesFunctions } from '../../../src/core/modes.js'
import { LayerResolver } from '../../../src/aws/layerResolver.js'
import { rolloutFunction } from '../../../src/run/rollout.js'
import type { RolloutContext } from '../../../src/run/rolloutContext.js'

// One function's steps ask the mode table what to read, write, invoke and verify: each entry is checked here
// against the AWS calls the run makes and the status and log line it ends with.
const lambda = mockClient(LambdaClient)
const logs = mockClient(CloudWatchLogsClient)

const ROTEL_LAYER = 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64-alpha:40'
const FN_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:orders-api'
const target = { given: 'orders-api', name: 'orders-api', region: 'us-east-1', account: undefined, partition: 'aws' }

function context(mode: Mode): RolloutContext {
  const inputs: Record<string, string> = {
    mode,
    functions: 'orders-api',
    'aws-region': 'us-east-1',
    'otlp-endpoint': 'https://clickstack.example.com:4317',
    'otlp-headers': 'Authorization=secret-ingestion-key',
    'cloudwatch-check-seconds': '0',
    'cloud-attributes': 'false'
  }
  const config = loadConfig((name) => inputs[name] ?? '', {})
  const credentials = { accessKeyId: 'a', secretAccessKey: 'b' }
  const lambdaClient = new LambdaClient({ region: 'us-east-1', credentials })
  const logsClient = new CloudWatchLogsClient({ region: 'us-east-1', credentials })
  return {
    config,
    lambdaFor: () => lambdaClient,
    logsFor: () => logsClient,
    layers: new LayerResolver({ clientFor: () => lambdaClient, hints: { 'rotel-extension-amd64-alpha': 42 } }),
    sleep: async () => {}
  }
}

beforeEach(() => {
  lambda.reset()
  logs.reset()
  lambda
    .on(GetLayerVersionCommand)
    .callsFake(({ VersionNumber, LayerName }: { VersionNumber: number; LayerName: string }) => {
      // The search for the newest version stops at the first one missing.
      if (VersionNumber > 42)
        throw new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } })
      return {
        LayerVersionArn: `${LayerName}:${VersionNumber}`,
        LayerArn: LayerName,
        Version: VersionNumber,
        CompatibleArchitectures: ['x86_64']
      }
    })
  readsOf(lambda).resolves({
    FunctionName: 'orders-api',
    FunctionArn: FN_ARN,
    Architectures: ['x86_64'],
    PackageType: 'Zip',
    Layers: [{ Arn: ROTEL_LAYER }],
    Environment: { Variables: { LOG_LEVEL: 'info' } },
    RevisionId: 'rev-1',
    LastUpdateStatus: 'Successful',
    State: 'Active'
  })
  lambda.on(UpdateFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-2' })
  lambda.on(InvokeCommand).resolves({ StatusCode: 200, $metadata: { requestId: 'req-1' } })
  logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [] })
})

describe.each(MODES)('a %s run of a function that differs from the target', (mode) => {
  const policy = MODE_POLICY[mode]

  it('reads a layer, writes, invokes and verifies as its entry says, and ends with its change status', async () => {
    const { report, log } = await rolloutFunction(context(mode), target)
    expect(report.status).toBe(policy.reports.changeStatus)
    expect(lambda.commandCalls(GetLayerVersionCommand).length > 0).toBe(policy.readsLayer)
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(writesFunctions(mode) ? 1 : 0)
    // test-invoke is on by default: a mode that writes verifies its write with an invocation.
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(writesFunctions(mode) ? 1 : 0)
    expect(logs.commandCalls(DescribeLogStreamsCommand).length > 0).toBe(policy.verifiesTelemetry)
    if (policy.reports.written) expect(log).toContain(`${policy.reports.written} (revision rev-2).`)
    if (policy.writes === 'removal') expect(log).toContain('Variables removed: none')
    if (policy.writes === 'extension') expect(log.some((line) => line.startsWith('Variables set: '))).toBe(true)
  })
})

describe('the log of an apply run', () => {
  it('says "Updated." without a revision when Lambda returned none, never "revision unknown"', async () => {
    lambda.on(UpdateFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful' })
    const { log } = await rolloutFunction(context('apply'), target)
    expect(log).toContain('Updated.')
    expect(log.join('\n')).not.toMatch(/revision unknown/)
  })

  it('says what the CloudWatch check saw, not "off", when no new stream was written', async () => {
    const { log } = await rolloutFunction(context('apply'), target)
    const line = log.find((entry) => entry.startsWith('CloudWatch Logs'))
    expect(line).toMatch(
      /^CloudWatch Logs: no stream in \/aws\/lambda\/orders-api was created or written since the update/
    )
  })
})

describe.each(MODES)('a %s run of a function with nothing to change', (mode) => {
  it("logs its entry's line and writes nothing", async () => {
    // The function is made to hold what the mode wants: what the mode itself writes, or, for a mode
    // that writes nothing, what apply writes.
    await rolloutFunction(context(writesFunctions(mode) ? mode : 'apply'), target)
    const written = lambda.commandCalls(UpdateFunctionConfigurationCommand)[0]?.args[0].input
    expect(written).toBeDefined()
    readsOf(lambda).resolves({
      FunctionName: 'orders-api',
      FunctionArn: FN_ARN,
      Architectures: ['x86_64'],
      PackageType: 'Zip',
      Layers: (written?.Layers ?? []).map((Arn) => ({ Arn })),
      Environment: { Variables: written?.Environment?.Variables ?? {} },
      RevisionId: 'rev-2',
      LastUpdateStatus: 'Successful',
      State: 'Active'
    })
    lambda.resetHistory()
    const { report, log } = await rolloutFunction(context(mode), target)
    expect(report.status).toBe(writesFunctions(mode) ? 'unchanged' : 'in-sync')
    expect(log).toContain(MODE_POLICY[mode].reports.nothingToChange)
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(0)
  })
})
