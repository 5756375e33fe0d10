import { beforeEach, describe, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  type FunctionConfiguration,
  GetFunctionCommand,
  GetLayerVersionCommand,
  InvokeCommand,
  LambdaClient,
  PreconditionFailedException,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateFunctionConfigurationCommand
} from '@aws-sdk/client-lambda'
import { mockClient } from 'aws-sdk-client-mock'
import { readsOf } from '../../support/lambdaReads.js'
import { loadConfig } from '../../../src/core/config.js'
import { LayerResolver } from '../../../src/aws/layerResolver.js'
import { rolloutFunction } from '../../../src/run/rollout.js'
import type { RolloutContext } from '../../../src/run/rolloutContext.js'
import { rolloutGateOf } from '../../../src/run/rolloutWaves.js'
import { Slots } from '../../../src/core/concurrency.js'

const lambda = mockClient(LambdaClient)
const logs = mockClient(CloudWatchLogsClient)

const ACCOUNT = '418653438961'
const layerArn = (arch: string, version: number): string =>
  `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:rotel-extension-${arch}-alpha:${version}`
const USER_LAYER = 'arn:aws:lambda:us-east-1:123456789012:layer:shared-utils:1'
const FN_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:orders-api'
const LATEST = 42

const baseConfiguration = (overrides: Partial<FunctionConfiguration> = {}): FunctionConfiguration => ({
  FunctionName: 'orders-api',
  FunctionArn: FN_ARN,
  Architectures: ['x86_64'],
  PackageType: 'Zip',
  Layers: [{ Arn: USER_LAYER }, { Arn: layerArn('amd64', 40) }],
  Environment: { Variables: { LOG_LEVEL: 'info', DB_HOST: 'db.internal' } },
  RevisionId: 'rev-1',
  LastUpdateStatus: 'Successful',
  State: 'Active',
  ...overrides
})

function context(inputs: Record<string, string> = {}): RolloutContext {
  const config = loadConfig(
    (name) =>
      ({
        functions: 'orders-api',
        'aws-region': 'us-east-1',
        'otlp-endpoint': 'https://clickstack.example.com:4317',
        'otlp-headers': 'Authorization=secret-ingestion-key',
        'cloudwatch-check-seconds': '0',
        'cloud-attributes': 'false',
        ...inputs
      })[name] ?? '',
    {}
  )
  const lambdaClient = new LambdaClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' }
  })
  const logsClient = new CloudWatchLogsClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' }
  })
  return {
    config,
    lambdaFor: () => lambdaClient,
    logsFor: () => logsClient,
    layers: new LayerResolver({ clientFor: () => lambdaClient, hints: { 'rotel-extension-amd64-alpha': LATEST } }),
    sleep: async () => {}
  }
}

const target = { given: 'orders-api', name: 'orders-api', region: 'us-east-1', account: undefined, partition: 'aws' }

const updateInputs = () => lambda.commandCalls(UpdateFunctionConfigurationCommand).map((call) => call.args[0].input)

beforeEach(() => {
  lambda.reset()
  logs.reset()
  lambda
    .on(GetLayerVersionCommand)
    .callsFake(({ VersionNumber, LayerName }: { VersionNumber: number; LayerName: string }) => {
      if (VersionNumber > LATEST)
        throw new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } })
      const arch = LayerName.includes('arm64') ? 'arm64' : 'x86_64'
      return {
        LayerVersionArn: `${LayerName}:${VersionNumber}`,
        LayerArn: LayerName,
        Version: VersionNumber,
        Description: `Tag=v${VersionNumber}-alpha`,
        CompatibleArchitectures: [arch]
      }
    })
  readsOf(lambda).resolves(baseConfiguration())
  lambda.on(UpdateFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-2' })
  lambda.on(InvokeCommand).resolves({ StatusCode: 200, $metadata: { requestId: 'req-1' } })
  logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [] })
})

describe('rolloutFunction', () => {
  it('writes the layers in the user order with the Rotel layer replaced, all variables kept, and the revision read', async () => {
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('updated')
    expect(updateInputs()).toEqual([
      {
        FunctionName: FN_ARN,
        Layers: [USER_LAYER, layerArn('amd64', LATEST)],
        Environment: {
          Variables: {
            LOG_LEVEL: 'info',
            DB_HOST: 'db.internal',
            ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
            ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: 'Authorization=secret-ingestion-key'
          }
        },
        RevisionId: 'rev-1'
      }
    ])
    expect(report).toMatchObject({
      layerBefore: layerArn('amd64', 40),
      layerAfter: layerArn('amd64', LATEST),
      changedVariables: ['ROTEL_OTLP_EXPORTER_ENDPOINT', 'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS'],
      invocation: { status: 'ok', statusCode: 200, functionError: null },
      cloudwatch: 'off',
      error: null
    })
    const invoke = lambda.commandCalls(InvokeCommand)[0]?.args[0].input
    expect(invoke).toMatchObject({ FunctionName: FN_ARN, InvocationType: 'RequestResponse', LogType: 'Tail' })
    expect(Buffer.from(invoke?.Payload as Uint8Array).toString()).toBe('{"test":"data"}')
  })

  it('makes no write and no invocation when the function is already in the target state', async () => {
    readsOf(lambda).resolves(
      baseConfiguration({
        Layers: [{ Arn: USER_LAYER }, { Arn: layerArn('amd64', LATEST) }],
        Environment: {
          Variables: {
            LOG_LEVEL: 'info',
            ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
            ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: 'Authorization=secret-ingestion-key'
          }
        }
      })
    )
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('unchanged')
    expect(updateInputs()).toEqual([])
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0)
  })

  it('re-reads and re-plans when someone changed the function between read and write, keeping their change', async () => {
    readsOf(lambda)
      .resolvesOnce(baseConfiguration())
      .resolves(
        baseConfiguration({
          RevisionId: 'rev-other',
          Environment: { Variables: { LOG_LEVEL: 'debug', DB_HOST: 'db.internal', ADDED_BY_OTHERS: 'yes' } }
        })
      )
    lambda
      .on(UpdateFunctionConfigurationCommand)
      .rejectsOnce(
        new PreconditionFailedException({ message: 'revision mismatch', $metadata: { httpStatusCode: 412 } })
      )
      .resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-3' })
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('updated')
    const [first, second] = updateInputs()
    expect(first?.RevisionId).toBe('rev-1')
    expect(second?.RevisionId).toBe('rev-other')
    expect(second?.Environment?.Variables).toMatchObject({ LOG_LEVEL: 'debug', ADDED_BY_OTHERS: 'yes' })
  })

  it('gives up, with a clear error, when the function keeps changing', async () => {
    lambda
      .on(UpdateFunctionConfigurationCommand)
      .rejects(new PreconditionFailedException({ message: 'revision mismatch', $metadata: { httpStatusCode: 412 } }))
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('failed')
    expect(report.error).toMatch(/kept changing/)
    expect(updateInputs()).toHaveLength(4)
  })

  it('waits out an update in progress, then writes', async () => {
    lambda
      .on(UpdateFunctionConfigurationCommand)
      .rejectsOnce(
        new ResourceConflictException({ message: 'An update is in progress', $metadata: { httpStatusCode: 409 } })
      )
      .resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-2' })
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('updated')
    expect(updateInputs()).toHaveLength(2)
  })

  it('rolls back exactly when the update ends Failed, guarded by the revision after the write', async () => {
    lambda
      .on(UpdateFunctionConfigurationCommand)
      .resolvesOnce({ LastUpdateStatus: 'InProgress', RevisionId: 'rev-2' })
      .resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-4' })
    readsOf(lambda)
      .resolvesOnce(baseConfiguration())
      .resolves(
        baseConfiguration({
          LastUpdateStatus: 'Failed',
          LastUpdateStatusReason: 'Extension init failed',
          RevisionId: 'rev-3'
        })
      )
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('rolled-back')
    expect(report.error).toMatch(/Extension init failed/)
    const restore = updateInputs()[1]
    expect(restore).toEqual({
      FunctionName: FN_ARN,
      Layers: [USER_LAYER, layerArn('amd64', 40)],
      Environment: { Variables: { LOG_LEVEL: 'info', DB_HOST: 'db.internal' } },
      RevisionId: 'rev-3'
    })
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0)
  })

  it('rolls back when the test invocation fails, showing the log tail', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      LogResult: Buffer.from('START\nextension rotel failed to start\nEND').toString('base64')
    })
    const { report, log } = await rolloutFunction(context(), target)
    expect(report.status).toBe('rolled-back')
    expect(report.invocation).toEqual({
      status: 'failed',
      statusCode: 200,
      functionError: 'Unhandled',
      report: null,
      lowMemory: false,
      before: null
    })
    expect(report.error).toMatch(/extension rotel failed to start/)
    expect(log.join('\n')).toMatch(/Log tail/)
    const [, restore] = updateInputs()
    expect(restore).toMatchObject({
      Layers: [USER_LAYER, layerArn('amd64', 40)],
      Environment: { Variables: { LOG_LEVEL: 'info', DB_HOST: 'db.internal' } },
      RevisionId: 'rev-2'
    })
    // The rolled-back report no longer claims the new layer or variables.
    expect(report.layerAfter).toBe(layerArn('amd64', 40))
    expect(report.changedVariables).toEqual([])
  })

  it('bounds a huge log tail in the log, the error and the outcome, keeping its end', async () => {
    const huge = `${'noise line\n'.repeat(20_000)}\u001b[31mlast words\r::error::x`
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, FunctionError: 'Unhandled', LogResult: Buffer.from(huge).toString('base64') })
    const outcome = await rolloutFunction(context(), target)
    expect(outcome.report.status).toBe('rolled-back')
    expect(outcome.log.join('\n').length).toBeLessThan(6_000)
    expect(outcome.report.error?.length).toBeLessThan(2_000)
    expect(outcome.report.error).toMatch(/last words \| ::error::x/)
    expect(outcome.logTail?.length).toBeLessThanOrEqual(4096)
    expect(outcome.logTail).toMatch(/last words\n::error::x$/)
  })

  it('restores a function that had no variables at all to an empty map', async () => {
    readsOf(lambda).resolves(baseConfiguration({ Environment: undefined, Layers: undefined }))
    lambda.on(InvokeCommand).resolves({ StatusCode: 500 })
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('rolled-back')
    expect(updateInputs()[1]).toMatchObject({ Layers: [], Environment: { Variables: {} } })
  })

  it('leaves the function updated and fails when rollback-on-failure is false', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Handled' })
    const { report } = await rolloutFunction(context({ 'rollback-on-failure': 'false' }), target)
    expect(report.status).toBe('failed')
    expect(report.error).toMatch(/rollback-on-failure is false/)
    expect(updateInputs()).toHaveLength(1)
  })

  it('never overwrites a change made after our write: a refused rollback is reported with the restore command', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled' })
    lambda
      .on(UpdateFunctionConfigurationCommand)
      .resolvesOnce({ LastUpdateStatus: 'Successful', RevisionId: 'rev-2' })
      .rejects(new PreconditionFailedException({ message: 'revision mismatch', $metadata: { httpStatusCode: 412 } }))
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('failed')
    expect(report.error).toMatch(/did not overwrite their change/)
    expect(report.error).toContain(`--layers ${USER_LAYER} ${layerArn('amd64', 40)}`)
    expect(report.error).not.toContain('db.internal')
    expect(updateInputs()).toHaveLength(2)
  })

  it('reports a function that does not exist without writing anything', async () => {
    readsOf(lambda).rejects(
      new ResourceNotFoundException({ message: 'Function not found', $metadata: { httpStatusCode: 404 } })
    )
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('failed')
    expect(report.error).toMatch(/does not exist in us-east-1/)
    expect(updateInputs()).toEqual([])
  })

  it('refuses a container-image function before writing', async () => {
    readsOf(lambda).resolves(baseConfiguration({ PackageType: 'Image', Layers: [] }))
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('failed')
    expect(report.error).toMatch(/container-image/)
    expect(updateInputs()).toEqual([])
  })

  it('uses the arm64 layer for an arm64 function and replaces the wrong arch layer', async () => {
    readsOf(lambda).resolves(baseConfiguration({ Architectures: ['arm64'], Layers: [{ Arn: layerArn('amd64', 3) }] }))
    const { report, layer } = await rolloutFunction(context(), target)
    expect(report.status).toBe('updated')
    expect(layer?.arn).toBe(layerArn('arm64', LATEST))
    expect(updateInputs()[0]?.Layers).toEqual([layerArn('arm64', LATEST)])
  })

  it('fails the function, without writing, when the layer cannot be found', async () => {
    const { report } = await rolloutFunction(context({ 'layer-version': '99' }), target)
    expect(report.status).toBe('failed')
    expect(report.error).toMatch(/Could not find the Rotel layer for us-east-1\/x86_64/)
    expect(updateInputs()).toEqual([])
  })

  it('warns when CloudWatch still receives logs after the update: a stream created since, found in one call', async () => {
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/')
    const old = {
      logStreamName: `${today}/[$LATEST]old`,
      creationTime: Date.now() - 10 * 60_000,
      lastIngestionTime: Date.now() - 5 * 60_000
    }
    const fresh = { logStreamName: `${today}/[$LATEST]abc`, creationTime: Date.now() + 1000 }
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [fresh, old] })
    const { report, warnings, log } = await rolloutFunction(context(), target)
    expect(report.cloudwatch).toBe('on')
    expect(report.cloudwatchDetail).toMatch(
      /^stream .*\[\$LATEST\]abc in \/aws\/lambda\/orders-api was created \d+ s after the update$/
    )
    expect(warnings.join(' ')).toMatch(/CloudWatch Logs still receives/)
    // The log says what was seen in words, not "CloudWatch Logs: on".
    expect(log).toContain(`CloudWatch Logs still receiving logs: ${report.cloudwatchDetail ?? ''}.`)
    // No baseline before the invocation: the one call is the look, by name, for today's streams.
    expect(logs.commandCalls(DescribeLogStreamsCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ logGroupName: '/aws/lambda/orders-api', logStreamNamePrefix: `${today}/` })
    ])
  })

  it('does not take a stream created minutes before the update for CloudWatch being on', async () => {
    const recent = {
      logStreamName: '2026/11/25/[$LATEST]before',
      creationTime: Date.now() - 5 * 60_000,
      lastIngestionTime: Date.now() - 60_000
    }
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [recent] })
    const { report, warnings } = await rolloutFunction(context(), target)
    expect(report.cloudwatch).toBe('off')
    expect(report.cloudwatchDetail).toMatch(
      /no stream in \/aws\/lambda\/orders-api was created or written since the update \(1 stream of/
    )
    expect(warnings).toEqual([])
    expect(logs.commandCalls(DescribeLogStreamsCommand)).toHaveLength(1)
  })

  it('keep: a check that cannot read the group leaves the function updated, unknown, with a warning that says why', async () => {
    logs.on(DescribeLogStreamsCommand).rejects(
      Object.assign(new Error('not authorized to perform: logs:DescribeLogStreams'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 }
      })
    )
    const { report, warnings } = await rolloutFunction(context(), target)
    expect(report).toMatchObject({ status: 'updated', cloudwatch: 'unknown', error: null })
    expect(warnings).toEqual([
      'orders-api: whether CloudWatch Logs still receives its logs could not be checked (could not read log group /aws/lambda/orders-api: AccessDeniedException: not authorized to perform: logs:DescribeLogStreams).'
    ])
  })

  it('waits out throttling of the CloudWatch check instead of answering unknown', async () => {
    logs
      .on(DescribeLogStreamsCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }))
      .resolves({ logStreams: [] })
    const { report } = await rolloutFunction(context(), target)
    expect(report.cloudwatch).toBe('off')
    expect(logs.commandCalls(DescribeLogStreamsCommand)).toHaveLength(2)
  })

  it('checks the log group the function configures, not the default', async () => {
    readsOf(lambda).resolves(baseConfiguration({ LoggingConfig: { LogGroup: '/custom/orders', LogFormat: 'Text' } }))
    await rolloutFunction(context(), target)
    expect(logs.commandCalls(DescribeLogStreamsCommand)[0]?.args[0].input.logGroupName).toBe('/custom/orders')
  })

  it('skips invocation and CloudWatch check with test-invoke false', async () => {
    const { report } = await rolloutFunction(context({ 'test-invoke': 'false' }), target)
    expect(report.status).toBe('updated')
    expect(report.invocation.status).toBe('skipped')
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0)
    expect(logs.commandCalls(DescribeLogStreamsCommand)).toHaveLength(0)
  })
})

describe('rolloutFunction at the rollout gate (canary, failure-tolerance)', () => {
  const other = { ...target, given: 'billing', name: 'billing' }
  const gated = (inputs: Record<string, string>, targets = [target, other]): RolloutContext => {
    const ctx = context(inputs)
    return { ...ctx, slots: new Slots(1), gate: rolloutGateOf(ctx.config, targets, () => {}) }
  }
  const armOf = (name: string): string => `arn:aws:lambda:us-east-1:123456789012:function:${name}`

  it('starts no function to be written once the rollout stopped; it says why and writes nothing', async () => {
    const ctx = gated({ 'failure-tolerance': '0' })
    ctx.gate?.settle(other, 'failed')
    const { report, log } = await rolloutFunction(ctx, target)
    expect(report).toMatchObject({
      status: 'skipped',
      error: 'orders-api was not started: the rollout stopped after 1 failure (failure-tolerance 0).',
      layersAfter: report.layersBefore,
      diff: null
    })
    expect(log).toContain('Not started: nothing was written.')
    expect(updateInputs()).toEqual([])
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0)
  })

  it('never holds or skips a function with nothing to write', async () => {
    readsOf(lambda).resolves(
      baseConfiguration({
        Layers: [{ Arn: USER_LAYER }, { Arn: layerArn('amd64', LATEST) }],
        Environment: {
          Variables: {
            LOG_LEVEL: 'info',
            ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
            ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: 'Authorization=secret-ingestion-key'
          }
        }
      })
    )
    const ctx = gated({ 'failure-tolerance': '0' })
    ctx.gate?.settle(other, 'failed')
    expect((await rolloutFunction(ctx, target)).report.status).toBe('unchanged')
  })

  it('lets the canary write first while the others wait without holding a slot, then the rest', async () => {
    // The canary is listed second: the first function reaches the gate first and must give its only slot back.
    readsOf(lambda).callsFake(({ FunctionName }) =>
      baseConfiguration({ FunctionName, FunctionArn: armOf(FunctionName) })
    )
    const ctx = gated({ canary: 'billing' })
    const [first, second] = await Promise.all([rolloutFunction(ctx, target), rolloutFunction(ctx, other)])
    expect([first.report.status, second.report.status]).toEqual(['updated', 'updated'])
    expect(updateInputs().map((input) => input.FunctionName)).toEqual([armOf('billing'), armOf('orders-api')])
    // The rest started only after the canary's test invocation.
    const invoked = lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input.FunctionName)
    expect(invoked).toEqual([armOf('billing'), armOf('orders-api')])
  })

  it('skips the waiting function when the canary fails, and rolls the canary back', async () => {
    readsOf(lambda).callsFake(({ FunctionName }) =>
      baseConfiguration({ FunctionName, FunctionArn: armOf(FunctionName) })
    )
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled' })
    const ctx = gated({ canary: 'billing' })
    const [first, second] = await Promise.all([rolloutFunction(ctx, target), rolloutFunction(ctx, other)])
    expect(second.report.status).toBe('rolled-back')
    expect(first.report).toMatchObject({
      status: 'skipped',
      error: 'orders-api was not started: the rollout stopped after the canary function billing failed.'
    })
    expect(ctx.gate?.stopped).toBe('the canary function billing failed')
    expect(updateInputs().map((input) => input.FunctionName)).toEqual([armOf('billing'), armOf('billing')])
  })
})

describe('rolloutFunction in plan, check and remove modes', () => {
  it('plan: writes nothing, reports the diff with the headers by name and the endpoint shown', async () => {
    const { report } = await rolloutFunction(context({ mode: 'plan' }), target)
    expect(report.status).toBe('planned')
    expect(updateInputs()).toEqual([])
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0)
    expect(report.diff).toEqual({
      layers: { before: [USER_LAYER, layerArn('amd64', 40)], after: [USER_LAYER, layerArn('amd64', LATEST)] },
      variables: [
        {
          name: 'ROTEL_OTLP_EXPORTER_ENDPOINT',
          change: 'added',
          before: null,
          after: 'https://clickstack.example.com:4317',
          shown: true
        },
        { name: 'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS', change: 'added', before: null, after: null, shown: false }
      ]
    })
    expect(JSON.stringify(report)).not.toContain('secret-ingestion-key')
  })

  it('plan: an in-sync function is reported in-sync', async () => {
    readsOf(lambda).resolves(
      baseConfiguration({
        Layers: [{ Arn: USER_LAYER }, { Arn: layerArn('amd64', LATEST) }],
        Environment: {
          Variables: {
            ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
            ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: 'Authorization=secret-ingestion-key'
          }
        }
      })
    )
    const { report } = await rolloutFunction(context({ mode: 'plan' }), target)
    expect(report.status).toBe('in-sync')
  })

  it('check: names what drifted – an older layer and a setting that differs – and writes nothing', async () => {
    readsOf(lambda).resolves(
      baseConfiguration({
        Environment: {
          Variables: {
            ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://old.example.com:4317',
            ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: 'Authorization=secret-ingestion-key'
          }
        }
      })
    )
    const { report } = await rolloutFunction(context({ mode: 'check' }), target)
    expect(report.status).toBe('drifted')
    expect(report.drift).toEqual([
      `the Rotel layer is version 40, older than the target ${LATEST}`,
      'ROTEL_OTLP_EXPORTER_ENDPOINT differs'
    ])
    expect(updateInputs()).toEqual([])
  })

  it('check: the wrong architecture and a missing layer are named', async () => {
    readsOf(lambda)
      .resolvesOnce(baseConfiguration({ Architectures: ['arm64'], Layers: [{ Arn: layerArn('amd64', LATEST) }] }))
      .resolves(baseConfiguration({ Layers: [] }))
    const wrongArch = await rolloutFunction(context({ mode: 'check' }), target)
    expect(wrongArch.report.drift[0]).toMatch(/has the amd64 Rotel layer .* but needs rotel-extension-arm64-alpha/)
    const missing = await rolloutFunction(context({ mode: 'check' }), target)
    expect(missing.report.drift[0]).toBe('the Rotel layer is missing')
  })

  it('remove: takes off the Rotel layer and the managed settings, keeping the rest in order', async () => {
    readsOf(lambda).resolves(
      baseConfiguration({
        Layers: [
          { Arn: USER_LAYER },
          { Arn: layerArn('amd64', 40) },
          { Arn: 'arn:aws:lambda:us-east-1:123456789012:layer:last:2' }
        ],
        Environment: {
          Variables: {
            LOG_LEVEL: 'info',
            ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
            ROTEL_ENV_FILE: '/var/task/rotel.env',
            ROTEL_SOMETHING_ELSE: 'kept'
          }
        }
      })
    )
    const { report } = await rolloutFunction(
      context({ mode: 'remove', 'otlp-endpoint': '', 'otlp-headers': '' }),
      target
    )
    expect(report.status).toBe('removed')
    expect(updateInputs()).toEqual([
      {
        FunctionName: FN_ARN,
        Layers: [USER_LAYER, 'arn:aws:lambda:us-east-1:123456789012:layer:last:2'],
        Environment: { Variables: { LOG_LEVEL: 'info', ROTEL_SOMETHING_ELSE: 'kept' } },
        RevisionId: 'rev-1'
      }
    ])
    expect(report.changedVariables).toEqual(['ROTEL_OTLP_EXPORTER_ENDPOINT', 'ROTEL_ENV_FILE'])
    // No layer lookup is needed to remove one.
    expect(lambda.commandCalls(GetLayerVersionCommand)).toHaveLength(0)
    // Nor a look at CloudWatch Logs, which only apply checks: remove's role needs no logs permission.
    expect(report.invocation.status).toBe('ok')
    expect(logs.commandCalls(DescribeLogStreamsCommand)).toHaveLength(0)
  })

  it('remove: a function without the extension is left alone', async () => {
    readsOf(lambda).resolves(
      baseConfiguration({ Layers: [{ Arn: USER_LAYER }], Environment: { Variables: { A: '1' } } })
    )
    const { report } = await rolloutFunction(context({ mode: 'remove' }), target)
    expect(report.status).toBe('unchanged')
    expect(updateInputs()).toEqual([])
  })

  it('remove: a failing test invocation puts the extension back', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled' })
    const { report } = await rolloutFunction(context({ mode: 'remove' }), target)
    expect(report.status).toBe('rolled-back')
    expect(updateInputs()[1]?.Layers).toEqual([USER_LAYER, layerArn('amd64', 40)])
  })
})

describe('rolloutFunction when the run is cancelled', () => {
  it('does not start a function once cancelled', async () => {
    const { report } = await rolloutFunction({ ...context(), isCancelled: () => true }, target)
    expect(report.status).toBe('cancelled')
    expect(lambda.calls()).toHaveLength(0)
  })

  it('undoes a write that can no longer be verified', async () => {
    let cancelled = false
    lambda.on(UpdateFunctionConfigurationCommand).callsFake(() => {
      cancelled = true
      return { LastUpdateStatus: 'Successful', RevisionId: 'rev-2' }
    })
    const inFlight = new Set<import('../../../src/run/cancellation.js').InFlight>()
    const { report } = await rolloutFunction({ ...context(), isCancelled: () => cancelled, inFlight }, target)
    expect(report.status).toBe('rolled-back')
    expect(report.error).toMatch(/cancelled before the test invocation/)
    expect(updateInputs()[1]).toMatchObject({ Layers: [USER_LAYER, layerArn('amd64', 40)], RevisionId: 'rev-2' })
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0)
    expect(inFlight.size).toBe(0)
  })
})

describe('rolloutFunction with instrumentation', () => {
  it('auto picks the Python layer and wrapper from the runtime, for the function region and arch', async () => {
    readsOf(lambda).resolves(baseConfiguration({ Runtime: 'python3.12', Architectures: ['arm64'], Layers: [] }))
    const { report } = await rolloutFunction(context({ instrumentation: 'auto' }), target)
    expect(report.status).toBe('updated')
    expect(updateInputs()[0]?.Layers).toEqual([
      layerArn('arm64', LATEST),
      'arn:aws:lambda:us-east-1:901920570463:layer:aws-otel-python-arm64-ver-1-20-0:3'
    ])
    expect(updateInputs()[0]?.Environment?.Variables?.AWS_LAMBDA_EXEC_WRAPPER).toBe('/opt/otel-instrument')
  })

  it('auto gives a runtime without a layer a notice and only the extension', async () => {
    readsOf(lambda).resolves(baseConfiguration({ Runtime: 'provided.al2023' }))
    const { report, notices } = await rolloutFunction(context({ instrumentation: 'auto' }), target)
    expect(report.status).toBe('updated')
    expect(notices?.join(' ')).toMatch(/provided.al2023 has no AWS auto-instrumentation layer/)
    expect(updateInputs()[0]?.Environment?.Variables?.AWS_LAMBDA_EXEC_WRAPPER).toBeUndefined()
  })

  it('uses the instrumentation-layer template', async () => {
    readsOf(lambda).resolves(baseConfiguration({ Runtime: 'nodejs22.x' }))
    await rolloutFunction(
      context({
        instrumentation: 'nodejs',
        'instrumentation-layer': 'arn:aws:lambda:{region}:123456789012:layer:my-otel-{arch}:7'
      }),
      target
    )
    expect(updateInputs()[0]?.Layers).toContain('arn:aws:lambda:us-east-1:123456789012:layer:my-otel-amd64:7')
  })
})

describe('rolloutFunction when a write outcome is unknown', () => {
  const planned = baseConfiguration({
    RevisionId: 'rev-ours',
    Layers: [{ Arn: USER_LAYER }, { Arn: layerArn('amd64', LATEST) }],
    Environment: {
      Variables: {
        LOG_LEVEL: 'info',
        DB_HOST: 'db.internal',
        ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
        ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: 'Authorization=secret-ingestion-key'
      }
    }
  })
  const serverError = () =>
    Object.assign(new Error('internal'), { name: 'ServiceException', $metadata: { httpStatusCode: 500 } })

  it('takes a write whose answer was lost, but which went through, as done – and verifies it', async () => {
    readsOf(lambda).resolvesOnce(baseConfiguration()).resolves(planned)
    lambda.on(UpdateFunctionConfigurationCommand).rejects(serverError())
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('updated')
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1)
  })

  it('takes a revision refusal of our own lost write (an SDK retry) as done', async () => {
    readsOf(lambda).resolvesOnce(baseConfiguration()).resolves(planned)
    lambda
      .on(UpdateFunctionConfigurationCommand)
      .rejects(new PreconditionFailedException({ message: 'revision mismatch', $metadata: { httpStatusCode: 412 } }))
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('updated')
    expect(updateInputs()).toHaveLength(1)
  })

  it('reports a failed write that changed nothing as failed, without a restore command', async () => {
    lambda.on(UpdateFunctionConfigurationCommand).rejects(serverError())
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('failed')
    expect(report.error).toMatch(/^Failed to update orders-api: ServiceException/)
  })

  it('reports a failed write that left something else behind as needing attention, with the restore command', async () => {
    readsOf(lambda)
      .resolvesOnce(baseConfiguration())
      .resolves(baseConfiguration({ Layers: [{ Arn: layerArn('amd64', LATEST) }] }))
    lambda.on(UpdateFunctionConfigurationCommand).rejects(serverError())
    const { report } = await rolloutFunction(context(), target)
    expect(report.status).toBe('failed')
    expect(report.error).toMatch(/needs attention: .*neither its old configuration nor the planned one/)
    expect(report.error).toContain(`--layers ${USER_LAYER} ${layerArn('amd64', 40)}`)
  })
})

describe('rolloutFunction with json-logs', () => {
  const GROUP = '/custom/orders'
  const MARKER = 'CLICKSTACK_ACTION_PREVIOUS_LOG_FORMAT'
  const SETTINGS = {
    ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
    ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: 'Authorization=secret-ingestion-key'
  }
  const json = { 'json-logs': 'true' }
  /** The function with the target layer and settings, logging Text to its own group. */
  const instrumentedText = (overrides: Partial<FunctionConfiguration> = {}): FunctionConfiguration =>
    baseConfiguration({
      Layers: [{ Arn: USER_LAYER }, { Arn: layerArn('amd64', LATEST) }],
      Environment: { Variables: { LOG_LEVEL: 'info', ...SETTINGS } },
      LoggingConfig: { LogFormat: 'Text', LogGroup: GROUP },
      ...overrides
    })
  /** The same function after json-logs switched it: JSON with Lambda's levels, and the record. */
  const instrumentedJson = (overrides: Partial<FunctionConfiguration> = {}): FunctionConfiguration =>
    instrumentedText({
      Environment: { Variables: { LOG_LEVEL: 'info', ...SETTINGS, [MARKER]: 'Text' } },
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN', LogGroup: GROUP },
      ...overrides
    })

  it('apply: switches Text to JSON in the same write as the layer, keeping the levels and the group, and records Text', async () => {
    readsOf(lambda).resolves(
      baseConfiguration({
        LoggingConfig: { LogFormat: 'Text', ApplicationLogLevel: 'DEBUG', SystemLogLevel: 'WARN', LogGroup: GROUP }
      })
    )
    const { report, log } = await rolloutFunction(context(json), target)
    expect(report.status).toBe('updated')
    expect(updateInputs()).toEqual([
      {
        FunctionName: FN_ARN,
        Layers: [USER_LAYER, layerArn('amd64', LATEST)],
        Environment: { Variables: { LOG_LEVEL: 'info', DB_HOST: 'db.internal', ...SETTINGS, [MARKER]: 'Text' } },
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG', SystemLogLevel: 'WARN', LogGroup: GROUP },
        RevisionId: 'rev-1'
      }
    ])
    expect(report.diff?.logFormat).toEqual({ before: 'Text', after: 'JSON' })
    expect(log).toContain('LoggingConfig.LogFormat: Text → JSON')
    // The CloudWatch check looks at the group the function keeps.
    expect(logs.commandCalls(DescribeLogStreamsCommand)[0]?.args[0].input.logGroupName).toBe(GROUP)
  })

  it('apply: a function whose only difference is the log format gets a write of that alone', async () => {
    readsOf(lambda).resolves(instrumentedText())
    const { report } = await rolloutFunction(context(json), target)
    expect(report.status).toBe('updated')
    expect(report.changedVariables).toEqual([MARKER])
    expect(updateInputs()[0]).toMatchObject({
      Layers: [USER_LAYER, layerArn('amd64', LATEST)],
      LoggingConfig: { LogFormat: 'JSON', LogGroup: GROUP }
    })
  })

  it('apply again: the switched function is unchanged, with one read and no write', async () => {
    readsOf(lambda).resolves(instrumentedJson())
    const { report, log } = await rolloutFunction(context(json), target)
    expect(report.status).toBe('unchanged')
    expect(log.join('\n')).toMatch(/nothing to change/)
    expect(updateInputs()).toEqual([])
    expect(lambda.commandCalls(GetFunctionCommand)).toHaveLength(1)
  })

  it('apply: a function already on JSON gets no LoggingConfig and no record', async () => {
    readsOf(lambda).resolves(
      baseConfiguration({ LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'ERROR', LogGroup: GROUP } })
    )
    const { report } = await rolloutFunction(context(json), target)
    expect(report.status).toBe('updated')
    const [write] = updateInputs()
    expect(write).not.toHaveProperty('LoggingConfig')
    expect(write?.Environment?.Variables).not.toHaveProperty(MARKER)
    expect(report.diff).not.toHaveProperty('logFormat')
  })

  it('apply without json-logs sends no LoggingConfig, even to a Text function', async () => {
    readsOf(lambda).resolves(baseConfiguration({ LoggingConfig: { LogFormat: 'Text', LogGroup: GROUP } }))
    await rolloutFunction(context(), target)
    expect(updateInputs()[0]).not.toHaveProperty('LoggingConfig')
    expect(updateInputs()[0]?.Environment?.Variables).not.toHaveProperty(MARKER)
  })

  it('rolls back to Text, with the group and no levels, when the test invocation fails', async () => {
    readsOf(lambda).resolves(baseConfiguration({ LoggingConfig: { LogFormat: 'Text', LogGroup: GROUP } }))
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled' })
    const { report, log } = await rolloutFunction(context(json), target)
    expect(report.status).toBe('rolled-back')
    const [, restore] = updateInputs()
    expect(restore).toEqual({
      FunctionName: FN_ARN,
      Layers: [USER_LAYER, layerArn('amd64', 40)],
      Environment: { Variables: { LOG_LEVEL: 'info', DB_HOST: 'db.internal' } },
      LoggingConfig: { LogFormat: 'Text', LogGroup: GROUP },
      RevisionId: 'rev-2'
    })
    expect(log.join('\n')).toMatch(/Rolled back: layers, variables and log format are as they were/)
  })

  it('rollback of a write that left the format alone sends no LoggingConfig', async () => {
    readsOf(lambda).resolves(baseConfiguration({ LoggingConfig: { LogFormat: 'JSON', LogGroup: GROUP } }))
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled' })
    const { report } = await rolloutFunction(context(json), target)
    expect(report.status).toBe('rolled-back')
    expect(updateInputs()[1]).not.toHaveProperty('LoggingConfig')
  })

  it('the restore command of a function left needing attention puts the log format back too', async () => {
    readsOf(lambda).resolves(baseConfiguration({ LoggingConfig: { LogFormat: 'Text', LogGroup: GROUP } }))
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Handled' })
    const { report } = await rolloutFunction(context({ ...json, 'rollback-on-failure': 'false' }), target)
    expect(report.status).toBe('failed')
    expect(report.error).toContain(
      `--layers ${USER_LAYER} ${layerArn('amd64', 40)} --logging-config LogFormat=Text,LogGroup=${GROUP} ;`
    )
    // Without a format change, the command leaves the format alone.
    lambda.on(UpdateFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-2' })
    const plain = await rolloutFunction(context({ 'rollback-on-failure': 'false' }), target)
    expect(plain.report.error).toContain(`--layers ${USER_LAYER} ${layerArn('amd64', 40)} ;`)
    expect(plain.report.error).not.toContain('--logging-config')
  })

  it('check: names the Text format as drift, with one read of the function', async () => {
    readsOf(lambda).resolves(instrumentedText())
    const { report, log } = await rolloutFunction(context({ ...json, mode: 'check' }), target)
    expect(report.status).toBe('drifted')
    expect(report.drift).toEqual(['log format is Text, json-logs wants JSON'])
    expect(log).toContain('LoggingConfig.LogFormat: Text → JSON')
    expect(updateInputs()).toEqual([])
    expect(lambda.commandCalls(GetFunctionCommand)).toHaveLength(1)
    expect(lambda.calls().filter((call) => !(call.args[0] instanceof GetLayerVersionCommand))).toHaveLength(1)
  })

  it('check: a switched function is in sync', async () => {
    readsOf(lambda).resolves(instrumentedJson())
    const { report } = await rolloutFunction(context({ ...json, mode: 'check' }), target)
    expect(report.status).toBe('in-sync')
  })

  it('plan: the diff shows the format change and its record', async () => {
    readsOf(lambda).resolves(instrumentedText())
    const { report } = await rolloutFunction(context({ ...json, mode: 'plan' }), target)
    expect(report.status).toBe('planned')
    expect(report.diff).toEqual({
      layers: { before: [USER_LAYER, layerArn('amd64', LATEST)], after: [USER_LAYER, layerArn('amd64', LATEST)] },
      variables: [{ name: MARKER, change: 'added', before: null, after: 'Text', shown: true }],
      logFormat: { before: 'Text', after: 'JSON' }
    })
    expect(updateInputs()).toEqual([])
  })

  it('remove: puts Text back with the group only and drops the record, whatever json-logs says now', async () => {
    readsOf(lambda).resolves(instrumentedJson())
    const { report } = await rolloutFunction(context({ mode: 'remove' }), target)
    expect(report.status).toBe('removed')
    expect(updateInputs()).toEqual([
      {
        FunctionName: FN_ARN,
        Layers: [USER_LAYER],
        Environment: { Variables: { LOG_LEVEL: 'info' } },
        LoggingConfig: { LogFormat: 'Text', LogGroup: GROUP },
        RevisionId: 'rev-1'
      }
    ])
    expect(report.changedVariables).toEqual([...Object.keys(SETTINGS), MARKER])
    expect(report.diff?.logFormat).toEqual({ before: 'JSON', after: 'Text' })
  })

  it('remove: leaves JSON that the action did not set', async () => {
    readsOf(lambda).resolves(
      instrumentedText({
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO', LogGroup: GROUP }
      })
    )
    const { report } = await rolloutFunction(context({ mode: 'remove' }), target)
    expect(report.status).toBe('removed')
    expect(updateInputs()[0]).not.toHaveProperty('LoggingConfig')
  })

  it('remove: a failing test invocation puts JSON back with its levels, and the record', async () => {
    readsOf(lambda).resolves(instrumentedJson())
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled' })
    const { report } = await rolloutFunction(context({ mode: 'remove' }), target)
    expect(report.status).toBe('rolled-back')
    const [, restore] = updateInputs()
    expect(restore).toMatchObject({
      Layers: [USER_LAYER, layerArn('amd64', LATEST)],
      Environment: { Variables: { LOG_LEVEL: 'info', ...SETTINGS, [MARKER]: 'Text' } },
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN', LogGroup: GROUP }
    })
  })

  it('takes a lost write as done only when the log format changed too', async () => {
    const serverError = Object.assign(new Error('internal'), {
      name: 'ServiceException',
      $metadata: { httpStatusCode: 500 }
    })
    lambda.on(UpdateFunctionConfigurationCommand).rejects(serverError)
    // Layers and variables as planned, but the format still Text: the write did not go through.
    readsOf(lambda)
      .resolvesOnce(
        instrumentedText({ Environment: { Variables: { LOG_LEVEL: 'info', ...SETTINGS, [MARKER]: 'Text' } } })
      )
      .resolves(instrumentedText({ Environment: { Variables: { LOG_LEVEL: 'info', ...SETTINGS, [MARKER]: 'Text' } } }))
    const notThrough = await rolloutFunction(context(json), target)
    expect(notThrough.report.status).toBe('failed')
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0)

    lambda.reset()
    lambda
      .on(GetLayerVersionCommand)
      .resolves({ LayerVersionArn: layerArn('amd64', LATEST), Version: LATEST, CompatibleArchitectures: ['x86_64'] })
    lambda.on(UpdateFunctionConfigurationCommand).rejects(serverError)
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 })
    readsOf(lambda).resolvesOnce(instrumentedText()).resolves(instrumentedJson())
    const through = await rolloutFunction(context({ ...json, 'layer-version': String(LATEST) }), target)
    expect(through.report.status).toBe('updated')
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1)
  })
})
