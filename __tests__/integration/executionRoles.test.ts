/**
 * cloudwatch-logs: off against moto's IAM: deny and detach on real roles, read back and compared exactly,
 * undone exactly, idempotent, and safe for functions that share a role.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  ListPolicyVersionsCommand,
  PutRolePolicyCommand
} from '@aws-sdk/client-iam'
import { CreateFunctionCommand, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda'
import { ACCOUNT_ID, lambdaClient, makeZip, resetEmulator } from '../../scripts/emulator-fixtures.mjs'
import { IamRoles } from '../../src/aws/iamRoles.js'
import { DENY_TAG, DETACHED_TAG, INLINE_UNDO_TAG_PREFIX, recordOf } from '../../src/core/roleRecord.js'
import { RoleCoordinator } from '../../src/run/roleCoordinator.js'
import type { PolicyDocument } from '../../src/core/iamPolicy.js'
import {
  basicExecutionPolicyArn,
  DENY_POLICY_NAME,
  denyPolicyFor,
  logGroupArnForFunction
} from '../../src/core/logPermissions.js'
import { recordingIamClient, snapshotRole } from '../support/iamRoles.js'
import { freePort, startEmulator, stopEmulator } from './harness.js'

let port = 0
let endpoint = ''
const REGION = 'us-east-1'
const credentials = () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' })
const BASIC = basicExecutionPolicyArn()
const VPC = 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'
const SHARED = `arn:aws:iam::${ACCOUNT_ID}:policy/shared-logging`
const group = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/lambda/${name}`

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]
})

/** An IAM client that records every command it sends; `onSend` sees each before it goes. */
const countingIam = (onSend?: (command: string, input: Record<string, unknown>) => void) =>
  recordingIamClient(endpoint, onSend)

let admin: IAMClient

/** What a run does: applyFor every planned function at once; the outcome of the first (all share its role's). */
async function applyEach(coordinator: RoleCoordinator, fns: ReadonlyArray<{ key: string }>, method: 'deny' | 'detach') {
  const [first] = await Promise.all(fns.map((fn) => coordinator.applyFor(fn.key, method)))
  return first
}

/** The role as IAM lists it, read independently of the code under test. */
const snapshot = (roleName: string) => snapshotRole(admin, roleName)

async function customerPolicy(arn: string) {
  const { Policy: policy } = await admin.send(new GetPolicyCommand({ PolicyArn: arn }))
  const { PolicyVersion: version } = await admin.send(
    new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy?.DefaultVersionId ?? 'v1' })
  )
  const { Versions: versions = [] } = await admin.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))
  return {
    defaultVersion: policy?.DefaultVersionId,
    document: decodeURIComponent(version?.Document ?? ''),
    versions: versions.length
  }
}

async function createRole(
  name: string,
  options: { path?: string; tags?: Record<string, string>; attach?: string[]; inline?: Record<string, PolicyDocument> }
) {
  await admin.send(
    new CreateRoleCommand({
      RoleName: name,
      Path: options.path ?? '/',
      AssumeRolePolicyDocument: TRUST,
      Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }))
    })
  )
  for (const arn of options.attach ?? [])
    await admin.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: arn }))
  for (const [policy, document] of Object.entries(options.inline ?? {}))
    await admin.send(
      new PutRolePolicyCommand({ RoleName: name, PolicyName: policy, PolicyDocument: JSON.stringify(document) })
    )
}

/**
 * A function on `role` (its ARN as IAM has it, path included); returns what the rollout knows of it:
 * its key, role and log group ARN.
 */
async function lambdaFunction(name: string, role: string) {
  const { Role: iamRole } = await admin.send(new GetRoleCommand({ RoleName: role }))
  const lambda = lambdaClient(endpoint, REGION)
  try {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: iamRole?.Arn,
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Code: { ZipFile: makeZip({ 'index.js': 'exports.handler = async () => ({})\n' }) }
      })
    )
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
    const arn = config.FunctionArn ?? ''
    return {
      key: arn,
      role: config.Role ?? '',
      logGroupArn: logGroupArnForFunction(arn, config.LoggingConfig?.LogGroup ?? `/aws/lambda/${name}`)
    }
  } finally {
    lambda.destroy()
  }
}

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  admin = new IAMClient({ region: REGION, endpoint, credentials: credentials() })
})

afterAll(() => {
  admin?.destroy()
  stopEmulator(port)
})

beforeEach(async () => {
  await resetEmulator(endpoint)
})

describe('deny', () => {
  it('puts one policy with both groups on a role two functions share, undoes it exactly, and writes nothing the second time', async () => {
    await createRole('shared-exec', { tags: { team: 'orders' }, attach: [BASIC] })
    const a = await lambdaFunction('orders-api', 'shared-exec')
    const b = await lambdaFunction('orders-worker', 'shared-exec')
    const before = await snapshot('shared-exec')

    const run = countingIam()
    const coordinator = new RoleCoordinator(new IamRoles(run.client, { simulate: false }))
    coordinator.plan(a)
    coordinator.plan(b)
    const outcome = await applyEach(coordinator, [a, b], 'deny')
    expect(outcome?.ok).toBe(true)
    expect(run.calls.filter((c) => c === 'GetRoleCommand')).toHaveLength(1)
    expect(run.writes()).toEqual(['TagRoleCommand', 'PutRolePolicyCommand'])

    expect(await snapshot('shared-exec')).toEqual({
      ...before,
      tags: { ...before.tags, [DENY_TAG]: DENY_POLICY_NAME },
      inline: {
        [DENY_POLICY_NAME]: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'RotelClickStackDenyCloudWatchLogs',
              Effect: 'Deny',
              Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: [
                group('orders-api'),
                `${group('orders-api')}:*`,
                group('orders-worker'),
                `${group('orders-worker')}:*`
              ]
            }
          ]
        }
      }
    })

    // What the check after the test invocation sees: nothing grants any more (the Deny wins).
    const check = await coordinator.checkFor(a.key)
    expect(check.ok && check.value.granted).toEqual([])
    expect(check.ok && check.value.drift).toEqual([])
    expect(check.ok && check.value.sources.find((s) => s.name === DENY_POLICY_NAME)?.denies).toHaveLength(3)

    // A second run changes nothing and writes nothing.
    const second = countingIam()
    const again = new RoleCoordinator(new IamRoles(second.client, { simulate: false }))
    again.plan(a)
    again.plan(b)
    const secondOutcome = await applyEach(again, [a, b], 'deny')
    expect(secondOutcome?.ok && secondOutcome.value.changed).toBe(false)
    expect(second.writes()).toEqual([])

    // remove for one function keeps the other's group; for both, the role is as it was.
    const removeOne = new RoleCoordinator(new IamRoles(countingIam().client))
    removeOne.plan(a)
    await removeOne.undoFor([a.key])
    expect((await snapshot('shared-exec')).inline[DENY_POLICY_NAME]).toEqual(denyPolicyFor([b.logGroupArn]))
    const removeAll = new RoleCoordinator(new IamRoles(countingIam().client))
    removeAll.plan(a)
    removeAll.plan(b)
    const undone = (await removeAll.undoFor([a.key, b.key])).get('shared-exec')
    expect(undone?.ok && undone.value.conflicts).toEqual([])
    expect(await snapshot('shared-exec')).toEqual(before)
  })

  it("adds a later run's group without dropping the earlier one", async () => {
    await createRole('shared-exec', {})
    const a = await lambdaFunction('fn-a', 'shared-exec')
    const b = await lambdaFunction('fn-b', 'shared-exec')
    const first = new RoleCoordinator(new IamRoles(countingIam().client, { simulate: false }))
    first.plan(a)
    await applyEach(first, [a], 'deny')
    const second = new RoleCoordinator(new IamRoles(countingIam().client, { simulate: false }))
    second.plan(b)
    await applyEach(second, [b], 'deny')
    expect((await snapshot('shared-exec')).inline[DENY_POLICY_NAME]).toEqual(
      denyPolicyFor([a.logGroupArn, b.logGroupArn])
    )
  })
})

describe('detach', () => {
  const logsAndData = { Sid: 'AppLogsAndData', Effect: 'Allow', Action: ['logs:*', 's3:GetObject'], Resource: '*' }
  /** The application's own log group: not the function's, so it stays. */
  const audit = {
    Sid: 'AppAudit',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/app/audit:*`
  }
  const appBefore: PolicyDocument = { Version: '2012-10-17', Statement: [logsAndData, audit] }
  /** logs:* without the three write actions, next to s3:GetObject; the audit statement as it was. */
  const appAfter: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AppLogsAndData',
        Effect: 'Allow',
        Action: [
          'logs:A*',
          'logs:Ca*',
          'logs:CreateD*',
          'logs:CreateE*',
          'logs:CreateI*',
          'logs:CreateLogA*',
          'logs:CreateLogD*',
          'logs:CreateLoo*',
          'logs:CreateS*',
          'logs:D*',
          'logs:F*',
          'logs:G*',
          'logs:I*',
          'logs:L*',
          'logs:Pr*',
          'logs:PutA*',
          'logs:PutB*',
          'logs:PutD*',
          'logs:PutI*',
          'logs:PutLogG*',
          'logs:PutM*',
          'logs:PutP*',
          'logs:PutQ*',
          'logs:PutR*',
          'logs:PutS*',
          'logs:PutT*',
          'logs:S*',
          'logs:T*',
          'logs:U*',
          's3:GetObject'
        ],
        Resource: '*'
      },
      audit
    ]
  }
  const lambdaLogs: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'logs:CreateLogGroup', Resource: `arn:aws:logs:${REGION}:${ACCOUNT_ID}:*` },
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [`${group('billing-api')}:*`]
      }
    ]
  }
  const queue: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }]
  }
  const sharedLogging = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: 'arn:aws:logs:*:*:log-group:/aws/lambda/*:*'
      }
    ]
  })

  async function setUp() {
    await admin.send(new CreatePolicyCommand({ PolicyName: 'shared-logging', PolicyDocument: sharedLogging }))
    await createRole('billing-exec', {
      path: '/service-role/',
      tags: { team: 'billing', cost: 'cc-42' },
      attach: [BASIC, VPC, SHARED],
      inline: { app: appBefore, 'lambda-logs': lambdaLogs, queue }
    })
    await createRole('other-exec', { attach: [SHARED] })
    const api = await lambdaFunction('billing-api', 'billing-exec')
    const worker = await lambdaFunction('billing-worker', 'billing-exec')
    return { api, worker }
  }

  it('detaches, strips and deletes exactly; reports the shared customer-managed policy without editing it; undoes exactly', async () => {
    const { api, worker } = await setUp()
    const before = await snapshot('billing-exec')
    const otherBefore = await snapshot('other-exec')
    const sharedBefore = await customerPolicy(SHARED)

    const run = countingIam()
    const coordinator = new RoleCoordinator(new IamRoles(run.client))
    coordinator.plan(api)
    coordinator.plan(worker)
    const outcome = await applyEach(coordinator, [api, worker], 'detach')
    if (!outcome?.ok) throw new Error(outcome?.error)
    const change = outcome.value
    expect(run.calls.filter((c) => c === 'GetRoleCommand')).toHaveLength(1)
    expect(run.writes()).toEqual([
      'TagRoleCommand',
      'DetachRolePolicyCommand',
      'PutRolePolicyCommand',
      'DeleteRolePolicyCommand'
    ])

    const after = await snapshot('billing-exec')
    expect({ ...after, tags: undefined }).toEqual({
      ...before,
      tags: undefined,
      attached: [SHARED, VPC].sort(),
      inline: { app: appAfter, queue }
    })
    expect(Object.keys(after.tags).sort()).toEqual(
      [
        'cost',
        'team',
        DETACHED_TAG,
        ...Object.keys(after.tags).filter((k) => k.startsWith(INLINE_UNDO_TAG_PREFIX))
      ].sort()
    )
    expect({ team: after.tags.team, cost: after.tags.cost }).toEqual(before.tags)
    expect(recordOf(after.tags)).toEqual({
      detached: [BASIC],
      inline: [
        [
          { kind: 'statement', policy: 'app', index: 0, original: logsAndData, removed: false },
          { kind: 'policy', policy: 'lambda-logs', document: JSON.stringify(lambdaLogs) }
        ]
      ]
    })

    // The customer-managed policy is reported with its ARN and the fix, and never edited.
    expect(change.customerManagedStillGranting).toEqual([
      {
        arn: SHARED,
        name: 'shared-logging',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        logGroups: [api.logGroupArn, worker.logGroupArn].sort(),
        fix: expect.stringMatching(new RegExp(`${SHARED}.*never edits it.*cloudwatch-off-method: deny`))
      }
    ])
    expect(await customerPolicy(SHARED)).toEqual(sharedBefore)
    expect(await snapshot('other-exec')).toEqual(otherBefore)
    expect(change.otherAwsManaged.map((p) => [p.name, p.actions])).toEqual([
      ['AWSLambdaVPCAccessExecutionRole', ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents']]
    ])
    expect(change.warnings).toHaveLength(2)

    // The reason a CloudWatch check would give: which policies still grant (moto has no simulator).
    const check = await coordinator.checkFor(api.key)
    if (!check.ok) throw new Error(check.error)
    expect(check.value.method).toBe('static')
    expect(check.value.notes.join(' ')).toMatch(/simulator did not answer/)
    expect(check.value.granted).toEqual(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'])
    expect(
      check.value.sources
        .filter((s) => s.allows.length > 0)
        .map((s) => s.arn ?? s.name)
        .sort()
    ).toEqual([SHARED, VPC].sort())
    expect(run.calls.filter((c) => c === 'GetRoleCommand')).toHaveLength(1)

    // A second run: reads, writes nothing.
    const second = countingIam()
    const again = new RoleCoordinator(new IamRoles(second.client, { simulate: false }))
    again.plan(api)
    again.plan(worker)
    const secondOutcome = await applyEach(again, [api, worker], 'detach')
    expect(secondOutcome?.ok && secondOutcome.value.changed).toBe(false)
    expect(second.writes()).toEqual([])

    // remove: exactly as before – attached policies, inline documents, tags.
    const remove = countingIam()
    const undo = new RoleCoordinator(new IamRoles(remove.client))
    undo.plan(api)
    undo.plan(worker)
    const undone = (await undo.undoFor([api.key, worker.key])).get('billing-exec')
    if (!undone?.ok) throw new Error(undone?.error)
    expect(undone.value.conflicts).toEqual([])
    expect(undone.value.reattached).toEqual([BASIC])
    expect(remove.writes()).toEqual([
      'AttachRolePolicyCommand',
      'PutRolePolicyCommand',
      'PutRolePolicyCommand',
      'UntagRoleCommand'
    ])
    expect(await snapshot('billing-exec')).toEqual(before)
    expect(await customerPolicy(SHARED)).toEqual(sharedBefore)

    // …and a second remove does nothing.
    const removeAgain = countingIam()
    const undoAgain = new RoleCoordinator(new IamRoles(removeAgain.client))
    undoAgain.plan(api)
    await undoAgain.undoFor([api.key])
    expect(removeAgain.writes()).toEqual([])
  })

  it('restores a role whose only policy was the stripped one (deleted, then put back with its text)', async () => {
    await createRole('solo-exec', { attach: [BASIC], inline: { 'lambda-logs': lambdaLogs } })
    const fn = await lambdaFunction('billing-api', 'solo-exec')
    const before = await snapshot('solo-exec')
    const run = new RoleCoordinator(new IamRoles(countingIam().client, { simulate: false }))
    run.plan(fn)
    await applyEach(run, [fn], 'detach')
    expect(await snapshot('solo-exec')).toMatchObject({ attached: [], inline: {} })
    const undo = new RoleCoordinator(new IamRoles(countingIam().client))
    undo.plan(fn)
    await undo.undoFor([fn.key])
    expect(await snapshot('solo-exec')).toEqual(before)
  })
})

describe('functions sharing a role, processed concurrently', () => {
  it('loses no update: the second function, planned while the first is mid-way, is applied on top', async () => {
    await createRole('shared-exec', {
      inline: {
        app: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }
      }
    })
    const a = await lambdaFunction('fn-a', 'shared-exec')
    const b = await lambdaFunction('fn-b', 'shared-exec')
    let coordinator: RoleCoordinator | undefined
    let second: Promise<unknown> | undefined
    const run = countingIam((command) => {
      // While the first function's task reads the role, the second function arrives.
      if (command === 'ListRolePoliciesCommand' && !second && coordinator) {
        coordinator.plan(b)
        second = coordinator.applyFor(b.key, 'deny')
      }
    })
    coordinator = new RoleCoordinator(new IamRoles(run.client, { simulate: false }))
    coordinator.plan(a)
    const first = await coordinator.applyFor(a.key, 'deny')
    const later = await second
    expect(first).toMatchObject({ ok: true })
    expect(later).toMatchObject({ ok: true })
    // Two tasks, one after the other: one read of the role, two writes of the deny policy, nothing lost.
    expect(run.calls.filter((c) => c === 'GetRoleCommand')).toHaveLength(1)
    expect(run.calls.filter((c) => c === 'PutRolePolicyCommand')).toHaveLength(2)
    expect((await snapshot('shared-exec')).inline[DENY_POLICY_NAME]).toEqual(
      denyPolicyFor([a.logGroupArn, b.logGroupArn])
    )
  })

  it('batches functions planned before the role is read: one read, one write', async () => {
    await createRole('shared-exec', {})
    const fns = await Promise.all(['fn-1', 'fn-2', 'fn-3'].map((name) => lambdaFunction(name, 'shared-exec')))
    const run = countingIam()
    const coordinator = new RoleCoordinator(new IamRoles(run.client, { simulate: false }))
    for (const fn of fns) coordinator.plan(fn)
    const outcomes = await Promise.all(fns.map((fn) => coordinator.applyFor(fn.key, 'deny')))
    expect(outcomes.every((o) => o.ok)).toBe(true)
    expect(run.writes()).toEqual(['TagRoleCommand', 'PutRolePolicyCommand'])
    expect((await snapshot('shared-exec')).inline[DENY_POLICY_NAME]).toEqual(
      denyPolicyFor(fns.map((fn) => fn.logGroupArn))
    )
  })
})
