import { beforeEach, describe, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  GetLayerVersionCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand
} from '@aws-sdk/client-lambda'
import { mockClient } from 'aws-sdk-client-mock'
import { readsOf } from '../../support/lambdaReads.js'
import { loadConfig } from '../../../src/core/config.js'
import type { DeliveryChecker, DeliveryResult } from '../../../src/clickstack/deliveryCheck.js'
import { LayerResolver } from '../../../src/aws/layerResolver.js'
import { Slots } from '../../../src/core/concurrency.js'
import { rolloutFunction } from '../../../src/run/rollout.js'
import type { RolloutContext } from '../../../src/run/rolloutContext.js'

describe('a function waiting for its telemetry', () => {
  const lambda = mockClient(LambdaClient)
  const logs = mockClient(CloudWatchLogsClient)
  const ACCOUNT = '418653438961'
  const arnOf = (name: string): string => `arn:aws:lambda:us-east-1:123456789012:function:${name}`

  beforeEach(() => {
    lambda.reset()
    logs.reset()
    lambda
      .on(GetLayerVersionCommand)
      .callsFake(({ VersionNumber, LayerName }: { VersionNumber: number; LayerName: string }) => {
        if (VersionNumber > 3) throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' })
        return {
          LayerVersionArn: `${LayerName}:${VersionNumber}`,
          Version: VersionNumber,
          CompatibleArchitectures: ['x86_64']
        }
      })
    readsOf(lambda).callsFake(({ FunctionName }: { FunctionName: string }) => ({
      FunctionName,
      FunctionArn: arnOf(FunctionName),
      Architectures: ['x86_64'],
      PackageType: 'Zip',
      RevisionId: 'rev-1',
      LastUpdateStatus: 'Successful'
    }))
    lambda.on(UpdateFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-2' })
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, $metadata: { requestId: 'req-1' } })
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [] })
  })

  function context(events: string[], mode: 'warn' | 'require', arrives: (name: string) => boolean): RolloutContext {
    const config = loadConfig(
      (name) =>
        ({
          functions: 'first\nsecond',
          'aws-region': 'us-east-1',
          'otlp-endpoint': 'https://clickstack.example.com:4318',
          'cloudwatch-check-seconds': '0',
          'clickhouse-url': 'http://127.0.0.1:8123',
          'verify-delivery': mode,
          'layer-account': ACCOUNT
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
    lambda.on(UpdateFunctionConfigurationCommand).callsFake(({ FunctionName }: { FunctionName: string }) => {
      events.push(`write ${FunctionName.replace(/^.*:/, '')}`)
      return { LastUpdateStatus: 'Successful', RevisionId: 'rev-2' }
    })
    // The first function's telemetry "arrives" only once the second function has been written: with
    // the wait holding the only slot, that never happens and the wait times out instead.
    const delivery: DeliveryChecker = {
      waitForDelivery: async ({ functionName }): Promise<DeliveryResult> => {
        events.push(`wait ${functionName}`)
        for (let i = 0; i < 50 && !events.includes('write second'); i++) await new Promise((r) => setTimeout(r, 2))
        events.push(`waited ${functionName}`)
        const delivered = arrives(functionName) && events.includes('write second')
        return {
          delivered,
          logRecords: delivered ? 1 : 0,
          spans: 0,
          firstArrivalMs: delivered ? 10 : null,
          withInvocationId: true,
          polls: 1
        }
      },
      check: async () => ({ ok: true }) as never,
      close: async () => {}
    }
    return {
      config,
      lambdaFor: () => lambdaClient,
      logsFor: () => logsClient,
      layers: new LayerResolver({ clientFor: () => lambdaClient }),
      sleep: async () => {},
      delivery,
      slots: new Slots(1),
      waitSlots: new Slots(8)
    }
  }

  const targetOf = (name: string) => ({ given: name, name, region: 'us-east-1', account: undefined, partition: 'aws' })

  it('gives its write slot to the next function meanwhile (max-concurrency 1)', async () => {
    const events: string[] = []
    const ctx = context(events, 'warn', () => true)
    const outcomes = await Promise.all([
      rolloutFunction(ctx, targetOf('first')),
      rolloutFunction(ctx, targetOf('second'))
    ])
    expect(outcomes.map((o) => [o.report.status, o.report.delivery?.status])).toEqual([
      ['updated', 'delivered'],
      ['updated', 'delivered']
    ])
    expect(events.indexOf('write second')).toBeLessThan(events.indexOf('waited first'))
  })

  it('takes a slot again to roll back when delivery is required and nothing arrived', async () => {
    const events: string[] = []
    const ctx = context(events, 'require', (name) => name === 'second')
    const outcomes = await Promise.all([
      rolloutFunction(ctx, targetOf('first')),
      rolloutFunction(ctx, targetOf('second'))
    ])
    expect(outcomes.map((o) => o.report.status)).toEqual(['rolled-back', 'updated'])
    // first: its write, then its rollback (a second write) after the wait.
    expect(events.filter((e) => e === 'write first')).toHaveLength(2)
    expect(events.lastIndexOf('write first')).toBeGreaterThan(events.indexOf('waited first'))
  })
})
