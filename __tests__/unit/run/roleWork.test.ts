/**
 * The execution-role branches of one function's rollout (cloudwatch-logs: off, secret access, remove's
 * restoration), with Lambda and CloudWatch Logs mocked and the IAM edge replaced by a fake whose
 * answers each test sets. The IAM writes themselves are proven against moto (executionRoleChanges).
 */
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
import { describeOffChange, describeUndo, logsReachClickStack } from '../../../src/core/cloudwatchOff.js'
import { loadConfig } from '../../../src/core/config.js'
import type { LogWriteReport } from '../../../src/core/logWriteReport.js'
import type { RoleStore } from '../../../src/core/roleStore.js'
import { RoleCoordinator } from '../../../src/run/roleCoordinator.js'
import type { CloudWatchOffChange, RoleState, UndoResult } from '../../../src/core/roleModel.js'
import { LayerResolver } from '../../../src/aws/layerResolver.js'
import { rolloutFunction } from '../../../src/run/rollout.js'
import type { RolloutContext } from '../../../src/run/rolloutContext.js'
import { emptyReport } from '../../../src/core/model.js'
import { giveLogsBack, shrinkSecretGrants, shrinksSecretGrants } from '../../../src/run/roleSteps.js'
import type { SecretAccessReport } from '../../../src/core/secretAccess.js'
import { MemoryReporter } from '../../../src/github/memoryReporter.js'
import { verdictOf } from '../../../src/github/report.js'

const lambda = mockClient(LambdaClient)
const logs = mockClient(CloudWatchLogsClient)
const FN_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:orders-api'
const ROLE_ARN = 'arn:aws:iam::123456789012:role/service-role/orders-exec'
const GROUP = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders-api'
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack-key'
const target = { given: 'orders-api', name: 'orders-api', region: 'us-east-1', account: undefined, partition: 'aws' }

const ROLE: RoleState = {
  name: 'orders-exec',
  arn: ROLE_ARN,
  partition: 'aws',
  account: '123456789012',
  tags: {},
  attached: [],
  inline: []
}

const change = (overrides: Partial<CloudWatchOffChange> = {}): CloudWatchOffChange => ({
  role: 'orders-exec',
  method: 'deny',
  logGroups: [GROUP],
  changed: true,
  detached: [],
  inlineEdited: [],
  inlineDeleted: [],
  denyPolicy: {
    name: 'RotelClickStackDenyCloudWatchLogs',
    groups: [GROUP],
    added: [GROUP],
    after: { Version: '2012-10-17', Statement: [] }
  },
  customerManagedStillGranting: [],
  otherAwsManaged: [],
  unresolved: [],
  warnings: [],
  after: ROLE,
  ...overrides
})

const grants = (granted: LogWriteReport['granted']): LogWriteReport => ({
  role: 'orders-exec',
  logGroupArn: GROUP,
  method: 'static',
  decisions: [],
  granted,
  sources:
    granted.length > 0
      ? [
          {
            kind: 'customer-managed',
            name: 'team-logging',
            arn: 'arn:aws:iam::123456789012:policy/team-logging',
            allows: granted,
            conditional: [],
            denies: []
          }
        ]
      : [],
  notes: []
})

const access = (missing: boolean): SecretAccessReport => ({
  role: 'orders-exec',
  method: 'static',
  decisions: [],
  missing: missing
    ? [
        {
          action: 'secretsmanager:GetSecretValue',
          resource: `${SECRET}-??????`,
          references: [SECRET],
          reason: 'not-allowed',
          deniedBy: [],
          examined: []
        }
      ]
    : [],
  examined: [],
  notes: [],
  warnings: missing ? [`Role orders-exec may not read ${SECRET}-?????? (secretsmanager:GetSecretValue).`] : []
})

/** An IAM edge whose answers the test sets; it records what was asked of it. */
function fakeEdge() {
  const calls: string[] = []
  const edge = {
    apply: async (): Promise<CloudWatchOffChange> => change(),
    grants: grants([]),
    access: access(false),
    grantFails: false,
    keptBy: [] as Array<readonly string[]>,
    undoSecretGrant: async (_role: RoleState, keep: ReadonlyArray<{ action: string; resource: string }>) => {
      calls.push('undoSecretGrant')
      edge.keptBy.push(keep.map((need) => `${need.action} ${need.resource}`))
      return {
        role: 'orders-exec',
        changed: true,
        policy: { name: 'RotelClickStackReadIngestionSecret', before: { Statement: [] }, after: { Statement: [] } },
        dropped: ['ssm:GetParameters on arn:aws:ssm:us-east-1:123456789012:parameter/old-key'],
        tagsRemoved: [],
        after: ROLE
      }
    },
    readRole: async () => (calls.push('readRole'), ROLE),
    applyCloudWatchOff: async () => (calls.push('applyCloudWatchOff'), edge.apply()),
    planCloudWatchOff: async () => (calls.push('planCloudWatchOff'), { plan: {} as never, change: change() }),
    undoCloudWatchOff: async (): Promise<UndoResult> => (
      calls.push('undoCloudWatchOff'),
      {
        role: 'orders-exec',
        changed: true,
        reattached: [],
        inlineRestored: [],
        denyPolicy: { name: 'RotelClickStackDenyCloudWatchLogs', deleted: true, remainingGroups: [] },
        conflicts: [],
        tagsRemoved: [],
        after: ROLE
      }
    ),
    logWriteGrants: async () => (calls.push('logWriteGrants'), edge.grants),
    secretAccessReport: async () => (calls.push('secretAccessReport'), edge.access),
    grantSecretAccess: async () => {
      calls.push('grantSecretAccess')
      if (edge.grantFails)
        throw Object.assign(new Error('User is not authorized to perform: iam:PutRolePolicy'), { name: 'AccessDenied' })
      return {
        role: 'orders-exec',
        changed: true,
        policy: { name: 'RotelClickStackReadIngestionSecret', after: { Version: '2012-10-17', Statement: [] } },
        added: access(true).missing,
        report: access(false),
        warnings: [],
        after: ROLE
      }
    }
  }
  return { edge, calls }
}

function context(inputs: Record<string, string>, edge: ReturnType<typeof fakeEdge>['edge']): RolloutContext {
  const config = loadConfig(
    (name) =>
      ({
        functions: 'orders-api',
        'aws-region': 'us-east-1',
        'otlp-endpoint': 'https://clickstack.example.com:4317',
        'cloudwatch-check-seconds': '0',
        'layer-account': '123456789012',
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
  const roles = new RoleCoordinator(edge as unknown as RoleStore)
  roles.plan({ key: FN_ARN, role: ROLE_ARN, logGroupArn: GROUP })
  return {
    config,
    lambdaFor: () => lambdaClient,
    logsFor: () => logsClient,
    layers: new LayerResolver({ clientFor: () => lambdaClient }),
    sleep: async () => {},
    roles,
    roleWrittenAt: new Map()
  }
}

const configuration = (layers: string[] = []) => ({
  FunctionName: 'orders-api',
  FunctionArn: FN_ARN,
  Role: ROLE_ARN,
  Architectures: ['x86_64' as const],
  PackageType: 'Zip' as const,
  Layers: layers.map((Arn) => ({ Arn })),
  Environment: { Variables: { LOG_LEVEL: 'info' } },
  RevisionId: 'rev-1',
  LastUpdateStatus: 'Successful' as const
})
const ROTEL = 'arn:aws:lambda:us-east-1:123456789012:layer:rotel-extension-amd64-alpha:3'
const writes = () => lambda.commandCalls(UpdateFunctionConfigurationCommand).length

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
  readsOf(lambda).resolves(configuration())
  lambda.on(UpdateFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-2' })
  lambda.on(InvokeCommand).resolves({ StatusCode: 200 })
  logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [] })
})

describe('cloudwatch-logs: off in one function’s rollout', () => {
  it('apply: switches the role off before the write and reports it', async () => {
    const { edge, calls } = fakeEdge()
    const { report } = await rolloutFunction(context({ 'cloudwatch-logs': 'off' }, edge), target)
    expect(report.status).toBe('updated')
    expect(calls).toEqual(['readRole', 'applyCloudWatchOff'])
    expect(report.executionRole).toEqual({
      role: 'orders-exec',
      changes: ['put inline policy RotelClickStackDenyCloudWatchLogs, denying log writes to /aws/lambda/orders-api']
    })
  })

  it('apply: a role that cannot be switched off leaves the function unwritten, with the reason', async () => {
    const { edge } = fakeEdge()
    edge.apply = async () =>
      Promise.reject(
        Object.assign(new Error('User is not authorized to perform: iam:PutRolePolicy'), { name: 'AccessDenied' })
      )
    const { report } = await rolloutFunction(context({ 'cloudwatch-logs': 'off' }, edge), target)
    expect(report.status).toBe('failed')
    expect(writes()).toBe(0)
    expect(report.error).toMatch(
      /^orders-api was not changed: CloudWatch Logs could not be switched off for it\. The deploy role may not change execution role orders-exec: .*iam:PutRolePolicy/
    )
  })

  it('apply: logs still arriving after the invocation fail the function, name the granting policy, and keep its extension', async () => {
    const { edge } = fakeEdge()
    edge.grants = grants(['logs:CreateLogStream', 'logs:PutLogEvents'])
    const fresh = { logStreamName: 'new', creationTime: Date.now() + 60_000, lastEventTimestamp: Date.now() + 60_000 }
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [fresh] })
    const outcome = await rolloutFunction(context({ 'cloudwatch-logs': 'off' }, edge), target)
    expect(outcome.report).toMatchObject({ status: 'failed', cloudwatch: 'on' })
    expect(outcome.report.error).toMatch(
      /still received its logs after the test invocation .*customer-managed policy arn:aws:iam::123456789012:policy\/team-logging \(logs:CreateLogStream, logs:PutLogEvents\)/
    )
    expect(outcome.cloudwatchStillOn).toBe(true)
    expect(writes()).toBe(1)
  })

  it('apply: logs that cannot be verified off keep the extension, warn with the reason, and fail the step', async () => {
    const { edge } = fakeEdge()
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: {} })
    logs.on(DescribeLogStreamsCommand).rejects(denied)
    const ctx = context({ 'cloudwatch-logs': 'off' }, edge)
    const outcome = await rolloutFunction(ctx, target)
    expect(outcome.report).toMatchObject({ status: 'updated', cloudwatch: 'unknown', error: null })
    expect(outcome.warnings).toEqual([
      'orders-api: it has the extension, but whether its logs no longer reach CloudWatch Logs could not be verified (could not read log group /aws/lambda/orders-api: AccessDeniedException: denied); the change is kept.'
    ])
    expect(writes()).toBe(1)
    const other = {
      ...emptyReport({ ...target, name: 'billing' }),
      status: 'updated' as const,
      cloudwatch: 'off' as const
    }
    expect(verdictOf(ctx.config, [outcome, { report: other, layer: undefined, log: [], warnings: [] }])).toEqual({
      failure:
        '1 of 2 functions could not be verified to have CloudWatch Logs off (orders-api); orders-api: could not read log group /aws/lambda/orders-api: AccessDeniedException: denied. The change was kept, not rolled back: the extension is on, only the proof that the logs no longer reach CloudWatch is missing.',
      message: ''
    })
    // The same unknown with keep: said, and the step succeeds.
    const kept = { ...ctx.config, cloudwatchLogs: 'keep' as const }
    expect(verdictOf(kept, [outcome]).failure).toBeUndefined()
    expect(verdictOf(kept, [outcome]).message).toMatch(
      /could not be checked for 1 of 1 function \(orders-api\); see the warnings\.$/
    )
  })

  it('apply: an in-sync function is not invoked; its role’s policies decide', async () => {
    readsOf(lambda).resolves({
      ...configuration([ROTEL]),
      Environment: {
        Variables: {
          LOG_LEVEL: 'info',
          ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
          ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=aws,cloud.platform=aws_lambda'
        }
      }
    })
    const { edge } = fakeEdge()
    edge.grants = grants(['logs:PutLogEvents'])
    const outcome = await rolloutFunction(context({ 'cloudwatch-logs': 'off' }, edge), target)
    expect(outcome.report.status).toBe('failed')
    expect(outcome.report.error).toMatch(
      /has the extension, but CloudWatch Logs still gets its logs: role orders-exec still lets Lambda write/
    )
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0)
    expect(writes()).toBe(0)
  })

  it('plan: an in-sync function whose role would change is planned, and nothing is written', async () => {
    readsOf(lambda).resolves({
      ...configuration([ROTEL]),
      Environment: {
        Variables: {
          LOG_LEVEL: 'info',
          ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
          ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=aws,cloud.platform=aws_lambda'
        }
      }
    })
    const { edge, calls } = fakeEdge()
    const { report } = await rolloutFunction(context({ 'cloudwatch-logs': 'off', mode: 'plan' }, edge), target)
    expect(report.status).toBe('planned')
    expect(report.executionRole?.changes).toEqual([
      'would put inline policy RotelClickStackDenyCloudWatchLogs, denying log writes to /aws/lambda/orders-api'
    ])
    expect(calls).toEqual(['readRole', 'planCloudWatchOff'])
    expect(writes()).toBe(0)
  })

  it('check: a role that lets the function write its logs again is drift', async () => {
    readsOf(lambda).resolves({
      ...configuration([ROTEL]),
      Environment: {
        Variables: {
          LOG_LEVEL: 'info',
          ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
          ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=aws,cloud.platform=aws_lambda'
        }
      }
    })
    const { edge } = fakeEdge()
    edge.grants = grants(['logs:PutLogEvents'])
    const { report } = await rolloutFunction(context({ 'cloudwatch-logs': 'off', mode: 'check' }, edge), target)
    expect(report.status).toBe('drifted')
    expect(report.drift).toEqual([
      expect.stringMatching(
        /^role orders-exec lets Lambda write .*orders-api \(logs:PutLogEvents via arn:aws:iam::123456789012:policy\/team-logging\)/
      )
    ])
  })

  it('remove: a role that could not be restored first leaves the extension on', async () => {
    readsOf(lambda).resolves(configuration([ROTEL]))
    const { edge } = fakeEdge()
    const ctx = {
      ...context({ mode: 'remove' }, edge),
      restored: new Map([
        [FN_ARN, { ok: false as const, error: 'The deploy role may not change execution role orders-exec.' }]
      ])
    }
    const { report } = await rolloutFunction(ctx, target)
    expect(report.status).toBe('failed')
    expect(writes()).toBe(0)
    expect(report.error).toMatch(
      /could not be switched back on for it first, and without it removing the extension would lose its logs/
    )
  })
})

describe('secret access in one function’s rollout', () => {
  const headers = { 'otlp-headers': `Authorization=\${${SECRET}}` }

  it('false: a role that cannot read the secret gets a warning, and the rollout goes on', async () => {
    const { edge, calls } = fakeEdge()
    edge.access = access(true)
    const outcome = await rolloutFunction(context(headers, edge), target)
    expect(outcome.report.status).toBe('updated')
    expect(calls).toEqual(['readRole', 'secretAccessReport'])
    expect(outcome.warnings).toEqual([expect.stringContaining('secretsmanager:GetSecretValue')])
  })

  it('true: grants before the write and waits for IAM before the test invocation', async () => {
    const { edge, calls } = fakeEdge()
    const slept: number[] = []
    let clock = 1_000_000
    const ctx = {
      ...context({ ...headers, 'grant-secret-access': 'true' }, edge),
      now: () => clock,
      sleep: async (ms: number) => void (slept.push(ms), (clock += ms))
    }
    const outcome = await rolloutFunction(ctx, target)
    expect(outcome.report.status).toBe('updated')
    expect(calls).toEqual(['readRole', 'grantSecretAccess'])
    expect(slept[0]).toBe(10_000)
    expect(outcome.report.executionRole?.changes[0]).toMatch(
      /^put the reads of secretsmanager:GetSecretValue on .* into inline policy RotelClickStackReadIngestionSecret$/
    )
  })

  it('true: a refused grant leaves the function unwritten', async () => {
    const { edge } = fakeEdge()
    edge.grantFails = true
    const { report } = await rolloutFunction(context({ ...headers, 'grant-secret-access': 'true' }, edge), target)
    expect(report.status).toBe('failed')
    expect(writes()).toBe(0)
    expect(report.error).toMatch(
      /could not be given read access to the referenced secrets\. The deploy role may not change execution role orders-exec/
    )
  })
})

describe('cutting the secret grant down after an apply', () => {
  const headers = { 'otlp-headers': `Authorization=\${${SECRET}}`, 'grant-secret-access': 'true' }
  const preReadOf = (ctx: RolloutContext) =>
    new Map([
      [ctx.config.functions[0] ?? target, { state: { name: 'orders-api', arn: FN_ARN, role: ROLE_ARN } as never }]
    ])

  it('once every function of the run on the role is updated: to exactly what the run needs, said in the report', async () => {
    const { edge, calls } = fakeEdge()
    const ctx = context(headers, edge)
    const outcome = await rolloutFunction(ctx, target)
    expect(outcome.report.status).toBe('updated')
    const additions = await shrinkSecretGrants(
      ctx.roles as RoleCoordinator,
      ctx.config,
      preReadOf(ctx),
      ctx.config.functions,
      [outcome],
      new MemoryReporter()
    )
    expect(calls).toEqual(['readRole', 'grantSecretAccess', 'undoSecretGrant'])
    expect(edge.keptBy).toEqual([ctx.config.secretNeeds.map((need) => `${need.action} ${need.resource}`)])
    // The step says what to add; it leaves the outcome as it was.
    expect(outcome.report.executionRole?.changes.at(-1)).not.toMatch(/^then /)
    expect(additions.get(outcome)?.executionRole?.changes).toEqual([
      expect.stringMatching(
        /^then dropped from inline policy .* what the run no longer needs: ssm:GetParameters on .*old-key$/
      )
    ])
    expect(additions.get(outcome)?.executionRole?.changes.at(-1)).toMatch(
      /^then dropped from inline policy .* what the run no longer needs: ssm:GetParameters on .*old-key$/
    )
  })

  it('keeps the grant while a function of the role may still use its old references (rolled back, failed)', async () => {
    const { edge, calls } = fakeEdge()
    const ctx = context(headers, edge)
    for (const status of ['rolled-back', 'failed', 'cancelled'] as const) {
      const report = { ...emptyReport(target), status }
      await shrinkSecretGrants(
        ctx.roles as RoleCoordinator,
        ctx.config,
        preReadOf(ctx),
        ctx.config.functions,
        [{ report, layer: undefined, log: [], warnings: [] }],
        new MemoryReporter()
      )
    }
    expect(calls).not.toContain('undoSecretGrant')
  })

  it('plan says what the apply would drop, and writes nothing', async () => {
    const { edge, calls } = fakeEdge()
    const OLD = 'arn:aws:ssm:us-east-1:123456789012:parameter/old-key'
    const document = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RotelClickStackGetParameters', Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [OLD] }
      ]
    }
    edge.readRole = async () => (
      calls.push('readRole'),
      { ...ROLE, inline: [{ name: 'RotelClickStackReadIngestionSecret', document, text: JSON.stringify(document) }] }
    )
    const outcome = await rolloutFunction(context({ ...headers, mode: 'plan' }, edge), target)
    expect(outcome.report.executionRole?.changes).toContain(
      `would then drop what the run no longer needs from inline policy RotelClickStackReadIngestionSecret: ssm:GetParameters on ${OLD}`
    )
    expect(calls).toEqual(['readRole', 'secretAccessReport'])
    expect(writes()).toBe(0)
  })

  it('takes the grant off when the run references no secret any more, and only in apply with grant-secret-access', () => {
    expect(shrinksSecretGrants(context({ 'grant-secret-access': 'true' }, fakeEdge().edge).config)).toBe(true)
    expect(shrinksSecretGrants(context({ 'grant-secret-access': 'false' }, fakeEdge().edge).config)).toBe(false)
    expect(shrinksSecretGrants(context({ 'grant-secret-access': 'true', mode: 'plan' }, fakeEdge().edge).config)).toBe(
      false
    )
  })
})

describe('describing role changes', () => {
  it('says what detach did, and what it would do', () => {
    const { denyPolicy: _unused, ...withoutDeny } = change()
    const detached: CloudWatchOffChange = {
      ...withoutDeny,
      method: 'detach',
      detached: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      inlineEdited: [
        {
          name: 'app',
          before: { Version: '2012-10-17', Statement: [] },
          after: { Version: '2012-10-17', Statement: [] }
        }
      ],
      inlineDeleted: [{ name: 'logging', before: { Version: '2012-10-17', Statement: [] } }]
    }
    expect(describeOffChange(detached, 'did')).toEqual([
      'detached AWSLambdaBasicExecutionRole',
      'took the log writes out of inline policy app (its other permissions stay)',
      'deleted inline policy logging, which granted nothing but log writes'
    ])
    expect(describeOffChange(detached, 'would')[0]).toBe('would detach AWSLambdaBasicExecutionRole')
  })

  it('names only the groups a run added to an existing deny policy, and nothing when nothing changed', () => {
    const existing = change({
      denyPolicy: {
        name: 'RotelClickStackDenyCloudWatchLogs',
        groups: [GROUP, `${GROUP}-2`],
        added: [`${GROUP}-2`],
        before: { Version: '2012-10-17', Statement: [] },
        after: { Version: '2012-10-17', Statement: [] }
      }
    })
    expect(describeOffChange(existing, 'did')).toEqual([
      'added /aws/lambda/orders-api-2 to the log groups inline policy RotelClickStackDenyCloudWatchLogs denies writes to'
    ])
    expect(
      describeOffChange(
        change({
          changed: false,
          denyPolicy: {
            name: 'RotelClickStackDenyCloudWatchLogs',
            groups: [GROUP],
            added: [],
            after: { Version: '2012-10-17', Statement: [] }
          }
        }),
        'did'
      )
    ).toEqual([])
  })

  it('says what an undo did, and nothing for an undo that changed nothing', () => {
    const undo: UndoResult = {
      role: 'orders-exec',
      changed: true,
      reattached: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      inlineRestored: [{ name: 'app', after: { Version: '2012-10-17', Statement: [] } }],
      denyPolicy: { name: 'RotelClickStackDenyCloudWatchLogs', deleted: false, remainingGroups: [GROUP] },
      conflicts: [],
      tagsRemoved: [],
      after: ROLE
    }
    expect(describeUndo(undo)).toEqual([
      "took the function's log group out of RotelClickStackDenyCloudWatchLogs",
      'attached AWSLambdaBasicExecutionRole again',
      'restored the log writes in inline policy app'
    ])
    expect(describeUndo({ ...undo, changed: false })).toEqual([])
  })

  it('keeps CloudWatch off only for functions whose logs are known to reach ClickStack', () => {
    const row = (status: ReturnType<typeof emptyReport>['status'], delivery?: 'delivered' | 'not-delivered') => ({
      ...emptyReport(target),
      status,
      delivery: delivery
        ? {
            status: delivery,
            logRecords: 0,
            spans: 0,
            firstArrivalMs: null,
            withInvocationId: false,
            link: null,
            detail: null
          }
        : null
    })
    expect(logsReachClickStack(row('updated'), false)).toBe(true)
    expect(logsReachClickStack(row('unchanged'), false)).toBe(true)
    expect(logsReachClickStack(row('updated', 'delivered'), false)).toBe(true)
    expect(logsReachClickStack(row('updated', 'not-delivered'), false)).toBe(false)
    expect(logsReachClickStack(row('rolled-back'), false)).toBe(false)
    expect(logsReachClickStack(row('failed'), false)).toBe(false)
    expect(logsReachClickStack(row('failed'), true)).toBe(true)
    expect(logsReachClickStack(row('cancelled'), false)).toBe(false)
  })
})

describe('giving CloudWatch Logs back after an apply', () => {
  it('says what it adds to the outcome of a function whose logs are not known to reach ClickStack', async () => {
    const undone: UndoResult = {
      role: 'orders-exec',
      changed: true,
      reattached: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      inlineRestored: [],
      conflicts: [],
      tagsRemoved: [],
      after: ROLE
    }
    const roles = {
      undoFor: async () => new Map([['orders-exec', { ok: true, value: undone }]])
    } as unknown as RoleCoordinator
    const preRead = new Map([[target, { state: { name: 'orders-api', arn: FN_ARN, role: ROLE_ARN } as never }]])
    const outcome = {
      report: { ...emptyReport(target), status: 'rolled-back' as const },
      layer: undefined,
      log: [],
      warnings: []
    }
    const additions = await giveLogsBack(roles, preRead, [target], [outcome])
    expect(additions.get(outcome)).toEqual({
      executionRole: { role: 'orders-exec', changes: ['then attached AWSLambdaBasicExecutionRole again'] },
      log: [
        'CloudWatch Logs switched back on for it, as its logs are not known to reach ClickStack: attached AWSLambdaBasicExecutionRole again.'
      ],
      warnings: [expect.stringMatching(/^Execution role orders-exec: CloudWatch Logs is on again for every function/)]
    })
    // The outcome itself is left as it was: processFunctions builds the new one.
    expect(outcome.report.executionRole).toBeNull()
    expect(outcome.log).toEqual([])
  })
})
