import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  AttachRolePolicyCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  UntagRoleCommand
} from '@aws-sdk/client-iam'
import { mockClient } from 'aws-sdk-client-mock'
import { mockedCalls, mockRole as mockIamRole } from '../../support/iamRoles.js'
import {
  cloudWatchDrift,
  DENY_TAG,
  DETACHED_TAG,
  describeIamError,
  ExecutionRoles,
  explainLogsStillOn,
  hasRecord,
  INLINE_UNDO_TAG_PREFIX,
  type LogWriteReport,
  planDeny,
  planDetach,
  planInlineRestore,
  planUndo,
  recordOf,
  recordTags,
  RecordTooLargeError,
  RoleCoordinator,
  roleNameOf,
  tagChanges
} from '../../../src/aws/executionRoles.js'
import type { InlinePolicy, ManagedDocument, RoleState } from '../../../src/core/roleModel.js'
import {
  basicExecutionPolicyArn,
  DENY_POLICY_NAME,
  deniedGroupsOf,
  denyPolicyFor,
  LOG_WRITE_ACTIONS,
  type PolicyDocument,
  type PolicyStatement,
  sameJson,
  statementsOf
} from '../../../src/core/logPermissions.js'

const ACCOUNT = '123456789012'
const ORDERS = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/orders-api`
const BILLING = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/lambda/billing-worker`
const THREE = [...LOG_WRITE_ACTIONS]
const BASIC_ARN = basicExecutionPolicyArn()
const VPC_ARN = 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'
const XRAY_ARN = 'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess'
const SHARED_ARN = `arn:aws:iam::${ACCOUNT}:policy/shared-logging`

const doc = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements })
const allow = (action: string | string[], resource: string | string[] = '*'): PolicyStatement => ({ Effect: 'Allow', Action: action, Resource: resource })
const inline = (name: string, document: PolicyDocument): InlinePolicy => ({ name, document, text: JSON.stringify(document) })
const attached = (arn: string) => ({ arn, name: arn.slice(arn.lastIndexOf('/') + 1) })

function role(partial: Partial<RoleState> = {}): RoleState {
  return {
    name: 'orders-exec',
    arn: `arn:aws:iam::${ACCOUNT}:role/service-role/orders-exec`,
    partition: 'aws',
    account: ACCOUNT,
    tags: { team: 'orders' },
    attached: [],
    inline: [],
    ...partial
  }
}

const MANAGED = new Map<string, ManagedDocument>([
  [VPC_ARN, { document: doc(allow([...THREE, 'ec2:CreateNetworkInterface'])) }],
  [XRAY_ARN, { document: doc(allow(['xray:PutTraceSegments'])) }],
  [SHARED_ARN, { document: doc(allow(['logs:CreateLogStream', 'logs:PutLogEvents'], 'arn:aws:logs:*:*:log-group:/aws/lambda/*')) }]
])

/** The role with the plan's writes done, compared as IAM would list it (attached policies unordered). */
const comparable = (state: RoleState) => ({
  ...state,
  attached: [...state.attached].sort((a, b) => a.arn.localeCompare(b.arn)),
  inline: [...state.inline].map((p) => ({ name: p.name, document: p.document })).sort((a, b) => a.name.localeCompare(b.name))
})

describe('roleNameOf', () => {
  it.each([
    ['orders-exec', 'orders-exec'],
    ['arn:aws:iam::123456789012:role/orders-exec', 'orders-exec'],
    ['arn:aws:iam::123456789012:role/service-role/team/orders-exec', 'orders-exec'],
    ['arn:aws-cn:iam::123456789012:role/x', 'x']
  ])('%s → %s', (input, name) => {
    expect(roleNameOf(input)).toBe(name)
  })

  it('refuses an ARN that is not a role', () => {
    expect(() => roleNameOf('arn:aws:iam::123456789012:user/me')).toThrow('not an IAM role ARN')
  })
})

describe('the record in role tags', () => {
  it('round-trips, with keys prefixed and values within 256 characters', () => {
    const original = doc(allow(['logs:*', 's3:GetObject']), allow(THREE, `${ORDERS}:*`))
    const record = {
      denyPolicy: DENY_POLICY_NAME,
      detached: [BASIC_ARN],
      inline: [
        [
          { kind: 'statement' as const, policy: 'app', index: 0, original: allow(['logs:*', 's3:GetObject']), removed: false },
          { kind: 'policy' as const, policy: 'logging', document: JSON.stringify(original) }
        ]
      ]
    }
    const tags = recordTags(record)
    expect(tags[DENY_TAG]).toBe(DENY_POLICY_NAME)
    expect(tags[DETACHED_TAG]).toBe(BASIC_ARN)
    for (const [key, value] of Object.entries(tags)) {
      expect(key.startsWith('rotel-clickstack-action:')).toBe(true)
      expect(key.length).toBeLessThanOrEqual(128)
      expect(value.length).toBeLessThanOrEqual(256)
      expect(value).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u)
    }
    expect(recordOf({ ...tags, team: 'orders' })).toEqual(record)
    expect(hasRecord(recordOf({ team: 'orders' }))).toBe(false)
  })

  it('cuts a large record into numbered chunks and reads them back in order', () => {
    const statements = Array.from({ length: 40 }, (_, i) => ({
      kind: 'statement' as const,
      policy: `policy-${i}`,
      index: i,
      original: allow(['logs:*', `s3:GetObject${i}`], `arn:aws:s3:::bucket-${i}-${'x'.repeat(i)}/*`),
      removed: false
    }))
    const tags = recordTags({ detached: [], inline: [statements] })
    const chunks = Object.keys(tags).filter((key) => key.startsWith(INLINE_UNDO_TAG_PREFIX))
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks[0]).toBe(`${INLINE_UNDO_TAG_PREFIX}00`)
    expect(recordOf(tags).inline).toEqual([statements])
  })

  it('reads tag keys case-insensitively', () => {
    expect(recordOf({ [DENY_TAG.toUpperCase()]: DENY_POLICY_NAME }).denyPolicy).toBe(DENY_POLICY_NAME)
  })

  it.each<[string, (tags: Record<string, string>) => Record<string, string>]>([
    ['a damaged chunk', (tags) => ({ ...tags, [`${INLINE_UNDO_TAG_PREFIX}00`]: `A${tags[`${INLINE_UNDO_TAG_PREFIX}00`]?.slice(1)}` })],
    ['a missing chunk', (tags) => Object.fromEntries(Object.entries(tags).filter(([key]) => !key.endsWith('-01')))],
    ['garbage', () => ({ [`${INLINE_UNDO_TAG_PREFIX}00`]: 'not-base64-deflate' })]
  ])('says the record cannot be read after %s, and restores nothing from it', (_, damage) => {
    const statements = Array.from({ length: 30 }, (_, i) => ({
      kind: 'statement' as const,
      policy: `p${i}`,
      index: i,
      original: allow(['logs:*', `s3:Get${'y'.repeat(i)}`], `arn:aws:s3:::b${i}${'z'.repeat(2 * i)}`),
      removed: false
    }))
    const record = recordOf(damage(recordTags({ detached: [], inline: [statements] })))
    expect(record.problem).toContain('cannot be read')
    expect(record.inline).toEqual([])
    expect(planInlineRestore(role(), record).conflicts[0]).toContain('were not restored')
  })

  it('refuses, before any change, a record that does not fit beside the role own tags', () => {
    const crowded = role({ tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`own-${i}`, 'x'])) })
    expect(() => tagChanges(crowded, { denyPolicy: DENY_POLICY_NAME, detached: [], inline: [] })).toThrow(RecordTooLargeError)
    expect(() => planDeny(crowded, [ORDERS])).toThrow(/at most 50.*cloudwatch-off-method: deny|Nothing was changed/)
    const fits = role({ tags: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`own-${i}`, 'x'])) })
    expect(tagChanges(fits, { denyPolicy: DENY_POLICY_NAME, detached: [], inline: [] })).toEqual({
      set: { [DENY_TAG]: DENY_POLICY_NAME },
      remove: []
    })
  })
})

describe('planDeny', () => {
  it('puts one deny policy and records it', () => {
    const { plan, change } = planDeny(role(), [ORDERS, BILLING])
    expect(plan.put).toEqual([{ name: DENY_POLICY_NAME, text: JSON.stringify(denyPolicyFor([ORDERS, BILLING])) }])
    expect(plan.tags).toEqual({ set: { [DENY_TAG]: DENY_POLICY_NAME }, remove: [] })
    expect(plan.detach).toEqual([])
    expect(change).toMatchObject({ method: 'deny', changed: true, denyPolicy: { groups: [BILLING, ORDERS], added: [BILLING, ORDERS] } })
    expect(change.after.tags).toEqual({ team: 'orders', [DENY_TAG]: DENY_POLICY_NAME })
  })

  it('merges into the policy already there, never dropping its groups', () => {
    const first = planDeny(role(), [ORDERS]).change.after
    const { plan, change } = planDeny(first, [BILLING])
    expect(deniedGroupsOf(JSON.parse(plan.put[0]?.text ?? '{}'))).toEqual([BILLING, ORDERS])
    expect(change.denyPolicy?.added).toEqual([BILLING])
    expect(plan.tags).toEqual({ set: {}, remove: [] })
  })

  it('writes nothing when the role already denies the groups', () => {
    const done = planDeny(role(), [ORDERS, BILLING]).change.after
    const again = planDeny(done, [BILLING])
    expect(again.change.changed).toBe(false)
    expect(again.plan).toEqual({ tags: { set: {}, remove: [] }, attach: [], detach: [], put: [], delete: [] })
  })

  it('refuses a deny policy that would not fit in the role inline quota', () => {
    const big = inline('big', doc(allow(Array.from({ length: 700 }, (_, i) => `s3:GetObject${i}`))))
    expect(() => planDeny(role({ inline: [big] }), [ORDERS])).toThrow(/10240 per role in all/)
  })
})

describe('planDetach', () => {
  const appPolicy = doc(
    { Sid: 'AppLogsAndData', Effect: 'Allow', Action: ['logs:*', 's3:GetObject'], Resource: '*' },
    { Sid: 'Audit', Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: 'arn:aws:logs:us-east-1:123456789012:log-group:/app/audit:*' }
  )
  const logsOnly = doc(allow(THREE, `${ORDERS}:*`))
  const start = () =>
    role({
      attached: [attached(BASIC_ARN), attached(VPC_ARN), attached(SHARED_ARN), attached(XRAY_ARN)],
      inline: [inline('app', appPolicy), inline('logs-only', logsOnly)]
    })

  it('detaches AWSLambdaBasicExecutionRole, strips inline policies, reports managed policies still granting', () => {
    const { plan, change } = planDetach(start(), [ORDERS], MANAGED)
    expect(plan.detach).toEqual([BASIC_ARN])
    expect(plan.delete).toEqual(['logs-only'])
    expect(plan.put.map((p) => p.name)).toEqual(['app'])
    const app = JSON.parse(plan.put[0]?.text ?? '{}') as PolicyDocument
    expect(statementsOf(app)[1]).toEqual(statementsOf(appPolicy)[1]) // the /app/audit grant stays
    expect((statementsOf(app)[0]?.Action as string[]).at(-1)).toBe('s3:GetObject')
    expect(change.detached).toEqual([BASIC_ARN])
    expect(change.inlineDeleted).toEqual([{ name: 'logs-only', before: logsOnly }])
    expect(change.inlineEdited.map((e) => e.name)).toEqual(['app'])
    expect(change.customerManagedStillGranting).toEqual([
      expect.objectContaining({ arn: SHARED_ARN, actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'].slice(1) })
    ])
    expect(change.customerManagedStillGranting[0]?.fix).toMatch(/never edits it.*other roles.*cloudwatch-off-method: deny/)
    expect(change.otherAwsManaged).toEqual([expect.objectContaining({ arn: VPC_ARN, actions: THREE })])
    expect(change.otherAwsManaged[0]?.fix).toContain('AWSLambdaENIManagementAccess')
    expect(change.warnings).toHaveLength(2)
    // What it did is recorded before anything else is written.
    const record = recordOf(change.after.tags)
    expect(record.detached).toEqual([BASIC_ARN])
    expect(record.inline).toEqual([
      [
        { kind: 'statement', policy: 'app', index: 0, original: statementsOf(appPolicy)[0], removed: false },
        { kind: 'policy', policy: 'logs-only', document: JSON.stringify(logsOnly) }
      ]
    ])
    expect(change.after.attached.map((p) => p.arn)).toEqual([VPC_ARN, SHARED_ARN, XRAY_ARN])
  })

  it('writes nothing the second time', () => {
    const after = planDetach(start(), [ORDERS], MANAGED).change.after
    const again = planDetach(after, [ORDERS], MANAGED)
    expect(again.change.changed).toBe(false)
    expect(again.plan).toEqual({ tags: { set: {}, remove: [] }, attach: [], detach: [], put: [], delete: [] })
    // …and still says what keeps logs on.
    expect(again.change.customerManagedStillGranting).toHaveLength(1)
  })

  it('appends a new batch when someone gave the logs back, keeping the first', () => {
    const after = planDetach(start(), [ORDERS], MANAGED).change.after
    const regained = { ...after, inline: [...after.inline, inline('again', doc(allow('logs:PutLogEvents')))] }
    const { change } = planDetach(regained, [ORDERS], MANAGED)
    expect(recordOf(change.after.tags).inline).toHaveLength(2)
  })

  it('takes an unreadable customer-managed policy to grant, an unreadable unknown AWS one not to', () => {
    const unreadable = new Map<string, ManagedDocument>([
      [SHARED_ARN, { error: 'AccessDenied: no' }],
      [XRAY_ARN, { error: 'AccessDenied: no' }]
    ])
    const { change } = planDetach(role({ attached: [attached(SHARED_ARN), attached(XRAY_ARN)] }), [ORDERS], unreadable)
    expect(change.customerManagedStillGranting.map((g) => g.arn)).toEqual([SHARED_ARN])
    expect(change.warnings.filter((w) => w.includes('could not read'))).toHaveLength(2)
  })

  it('leaves a wildcard across services as it is, and says so', () => {
    const { change, plan } = planDetach(role({ inline: [inline('wide', doc({ Sid: 'Wide', ...allow('*:Put*') }))] }), [ORDERS], MANAGED)
    expect(plan.put).toEqual([])
    expect(change.unresolved).toEqual([expect.objectContaining({ policy: 'wide', sid: 'Wide', action: '*:Put*' })])
    expect(change.warnings[0]).toContain('inline policy wide, statement Wide')
  })

  it('never touches its own deny policy', () => {
    const denied = planDeny(role(), [ORDERS]).change.after
    const { plan } = planDetach(denied, [ORDERS], MANAGED)
    expect(plan.put).toEqual([])
    expect(plan.delete).toEqual([])
  })

  it('refuses to strip more when the undo record in the tags is damaged', () => {
    const damaged = role({ tags: { [`${INLINE_UNDO_TAG_PREFIX}00`]: 'garbage' }, inline: [inline('x', doc(allow(THREE)))] })
    expect(() => planDetach(damaged, [ORDERS], MANAGED)).toThrow(/cannot be read.*Nothing was changed/)
  })
})

describe('planUndo', () => {
  const appPolicy = doc(
    { Sid: 'Logs', Effect: 'Allow', Action: THREE, Resource: '*' },
    { Sid: 'AppLogsAndData', Effect: 'Allow', Action: ['logs:*', 's3:GetObject'], Resource: '*' },
    { Effect: 'Allow', Action: 'logs:CreateLogGroup', Resource: '*' },
    { Sid: 'Everything', Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::x' },
    { Sid: 'Tail', Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: '*' }
  )
  const original = () =>
    role({
      attached: [attached(BASIC_ARN), attached(XRAY_ARN)],
      inline: [inline('app', appPolicy), inline('logs-only', doc(allow(THREE))), inline('other', doc(allow('sqs:SendMessage')))]
    })

  it('restores a detached role exactly: policies, statements in place, tags', () => {
    const start = original()
    const after = planDetach(start, [ORDERS], MANAGED).change.after
    expect(after.inline.map((p) => p.name)).toEqual(['app', 'other'])
    const { plan, result } = planUndo(after, [ORDERS])
    expect(plan.attach).toEqual([BASIC_ARN])
    expect(result.conflicts).toEqual([])
    expect(comparable(result.after)).toEqual(comparable(start))
    expect(result.after.inline.find((p) => p.name === 'app')?.document).toEqual(appPolicy)
    expect(result.after.tags).toEqual({ team: 'orders' })
    // The deleted policy comes back with its text as it was.
    expect(plan.put.find((p) => p.name === 'logs-only')?.text).toBe(JSON.stringify(doc(allow(THREE))))
  })

  it('undoes two runs, the later first', () => {
    const start = original()
    const first = planDetach(start, [ORDERS], MANAGED).change.after
    const regained = { ...first, inline: first.inline.map((p) => (p.name === 'other' ? inline('other', doc(allow(['sqs:SendMessage', 'logs:*']))) : p)) }
    const second = planDetach(regained, [ORDERS], MANAGED).change.after
    const { result } = planUndo(second)
    expect(result.conflicts).toEqual([])
    const otherAsRegained = inline('other', doc(allow(['sqs:SendMessage', 'logs:*'])))
    expect(comparable(result.after)).toEqual(
      comparable({ ...start, inline: start.inline.map((p) => (p.name === 'other' ? otherAsRegained : p)) })
    )
  })

  it('deletes the deny policy, or only the given groups', () => {
    const denied = planDeny(role(), [ORDERS, BILLING]).change.after
    const partial = planUndo(denied, [ORDERS]).result
    expect(partial.denyPolicy).toEqual({ name: DENY_POLICY_NAME, deleted: false, remainingGroups: [BILLING] })
    expect(partial.after.tags[DENY_TAG]).toBe(DENY_POLICY_NAME)
    const full = planUndo(partial.after, [BILLING]).result
    expect(full.denyPolicy).toMatchObject({ deleted: true })
    expect(comparable(full.after)).toEqual(comparable(role()))
    const all = planUndo(denied).result
    expect(comparable(all.after)).toEqual(comparable(role()))
  })

  it('does nothing on a role the action never touched', () => {
    const { plan, result } = planUndo(original(), [ORDERS])
    expect(result.changed).toBe(false)
    expect(plan).toEqual({ tags: { set: {}, remove: [] }, attach: [], detach: [], put: [], delete: [] })
  })

  it('is idempotent: a restore already done is not done again', () => {
    const after = planDetach(original(), [ORDERS], MANAGED).change.after
    const undone = planUndo(after).result.after
    // As if the tag removal had failed after the policies were restored:
    const { plan, result } = planUndo({ ...undone, tags: after.tags })
    expect(plan.put).toEqual([])
    expect(plan.attach).toEqual([])
    expect(result.conflicts).toEqual([])
    expect(result.after.tags).toEqual({ team: 'orders' })
  })

  it('does not restore a statement someone changed since, and keeps the record', () => {
    const after = planDetach(original(), [ORDERS], MANAGED).change.after
    const edited = {
      ...after,
      inline: after.inline.map((p) =>
        p.name === 'app' ? inline('app', { ...p.document, Statement: statementsOf(p.document).map((s) => (s.Sid === 'AppLogsAndData' ? { ...s, Resource: 'arn:aws:s3:::only' } : s)) }) : p
      )
    }
    const { result } = planUndo(edited)
    expect(result.conflicts).toEqual([expect.stringContaining('statement AppLogsAndData changed since')])
    expect(Object.keys(result.after.tags).some((key) => key.startsWith(INLINE_UNDO_TAG_PREFIX))).toBe(true)
    expect(result.reattached).toEqual([BASIC_ARN])
  })

  it('refuses a record changed to grant more than log writes', () => {
    const after = planDetach(role({ inline: [inline('app', doc(allow(['logs:PutLogEvents', 's3:GetObject'])))] }), [ORDERS], MANAGED).change.after
    const forged = recordTags({
      detached: ['arn:aws:iam::aws:policy/AdministratorAccess'],
      inline: [
        [
          { kind: 'statement', policy: 'app', index: 0, original: allow(['s3:*']), removed: false },
          { kind: 'statement', policy: 'app', index: 1, original: allow(['iam:*', 'logs:PutLogEvents']), removed: true },
          { kind: 'policy', policy: 'admin', document: JSON.stringify(doc(allow('*'))) }
        ]
      ]
    })
    const { plan, result } = planUndo({ ...after, tags: { ...after.tags, ...forged } })
    expect(plan.attach).toEqual([])
    expect(plan.put).toEqual([])
    expect(result.conflicts).toHaveLength(4)
    expect(result.conflicts.join('\n')).toMatch(/only ever detaches AWSLambdaBasicExecutionRole/)
    expect(result.conflicts.join('\n')).toMatch(/grants more than CloudWatch Logs writes/)
  })

  it('does not put back a deleted policy over one of the same name', () => {
    const after = planDetach(role({ inline: [inline('logs-only', doc(allow(THREE)))] }), [ORDERS], MANAGED).change.after
    const recreated = { ...after, inline: [inline('logs-only', doc(allow('sqs:SendMessage')))] }
    const { result } = planUndo(recreated)
    expect(result.conflicts).toEqual([expect.stringContaining('exists again with other content')])
  })
})

describe('drift and explanations', () => {
  const report = (granted: string[], sources: LogWriteReport['sources'] = []): LogWriteReport => ({
    role: 'orders-exec',
    logGroupArn: ORDERS,
    method: 'static',
    decisions: [],
    granted: granted as LogWriteReport['granted'],
    sources,
    notes: []
  })

  it('is in sync when nothing grants and the record holds', () => {
    const denied = planDeny(role(), [ORDERS]).change.after
    expect(cloudWatchDrift(denied, report([]))).toEqual([])
  })

  it('names the deny policy gone, the policy attached again, and who grants', () => {
    const detached = planDetach(role({ attached: [attached(BASIC_ARN)] }), [ORDERS], MANAGED).change.after
    const drifted = { ...detached, attached: [attached(BASIC_ARN)], tags: { ...detached.tags, [DENY_TAG]: DENY_POLICY_NAME } }
    const sources: LogWriteReport['sources'] = [
      { kind: 'aws-managed', name: 'AWSLambdaBasicExecutionRole', arn: BASIC_ARN, allows: THREE, conditional: [], denies: [] }
    ]
    expect(cloudWatchDrift(drifted, report(THREE, sources))).toEqual([
      `role orders-exec lost the deny policy ${DENY_POLICY_NAME}`,
      'role orders-exec has AWSLambdaBasicExecutionRole attached again',
      `role orders-exec again lets Lambda write ${ORDERS} (logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents via ${BASIC_ARN})`
    ])
    expect(explainLogsStillOn(report(THREE, sources))).toBe(
      `role orders-exec still lets Lambda write ${ORDERS}: aws-managed policy ${BASIC_ARN} (logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents)`
    )
  })

  it('says why a policy counted as granting was not read, so that it is not taken for the one that grants', () => {
    const APP_READ = `arn:aws:iam::${ACCOUNT}:policy/app-read`
    const sources: LogWriteReport['sources'] = [
      { kind: 'customer-managed', name: 'app-read', arn: APP_READ, allows: THREE, conditional: [], denies: [], unreadable: 'AccessDenied: not authorized to perform: iam:GetPolicyVersion' }
    ]
    const note = `; ${APP_READ} could not be read (AccessDenied: not authorized to perform: iam:GetPolicyVersion), so it is counted as granting – the deploy role needs iam:GetPolicy and iam:GetPolicyVersion on it to tell (see README, Permissions)`
    expect(cloudWatchDrift(role(), report(THREE, sources))).toEqual([
      `role orders-exec lets Lambda write ${ORDERS} (logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents via ${APP_READ})${note}`
    ])
    expect(explainLogsStillOn(report(THREE, sources))).toBe(
      `role orders-exec still lets Lambda write ${ORDERS}: customer-managed policy ${APP_READ} (unreadable)${note}`
    )
  })

  it('says that IAM takes time when nothing grants any more', () => {
    expect(explainLogsStillOn(report([]))).toMatch(/no policy of role orders-exec.*take a few seconds/)
  })

  it.each([
    [{ name: 'AccessDenied', message: 'User: u is not authorized to perform: iam:PutRolePolicy on resource: role r' }, /may not change execution role r.*README/],
    // A refused read is not called a refused change (plan and check only read).
    [{ name: 'AccessDenied', message: 'User: u is not authorized to perform: iam:GetRolePolicy on resource: role r' }, /may not read execution role r: .*iam:GetRolePolicy.*README/],
    [{ name: 'AccessDenied', message: 'not authorized' }, /may not read or change execution role r/],
    [{ name: 'NoSuchEntityException', message: 'missing' }, /Execution role r was not found/],
    [{ name: 'LimitExceededException', message: 'too many' }, /IAM refused the change to role r/],
    [{ name: 'MalformedPolicyDocumentException', message: 'bad' }, /refused a policy document/],
    [new RecordTooLargeError('own words'), /^own words$/],
    [{ name: 'Weird', message: 'x' }, /IAM call for role r failed: Weird: x/]
  ])('describes IAM error %#', (error, expected) => {
    expect(describeIamError(Object.assign(new Error((error as Error).message), error), 'r')).toMatch(expected)
  })
})

// ---------------------------------------------------------------------------------------------
// The IAM edge against a mocked client

const iam = mockClient(IAMClient)
const client = new IAMClient({ region: 'us-east-1' })
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/orders-exec`
const { names, writes } = mockedCalls(iam)

const mockRole = (roleName: string, options: Parameters<typeof mockIamRole>[3] = {}) => mockIamRole(iam, ACCOUNT, roleName, options)

beforeEach(() => {
  iam.reset()
})

describe('ExecutionRoles', () => {
  it('reads every page of tags, attached and inline policies, and decodes documents', async () => {
    iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'orders-exec', Arn: ROLE_ARN, Path: '/', RoleId: 'R', CreateDate: new Date() } })
    iam
      .on(ListRoleTagsCommand)
      .resolvesOnce({ Tags: [{ Key: 'team', Value: 'orders' }], IsTruncated: true, Marker: 't1' })
      .resolvesOnce({ Tags: [{ Key: 'env', Value: 'prod' }], IsTruncated: false })
    iam
      .on(ListAttachedRolePoliciesCommand)
      .resolvesOnce({ AttachedPolicies: [{ PolicyArn: BASIC_ARN, PolicyName: 'AWSLambdaBasicExecutionRole' }], IsTruncated: true, Marker: 'a1' })
      .resolvesOnce({ AttachedPolicies: [{ PolicyArn: SHARED_ARN, PolicyName: 'shared-logging' }], IsTruncated: false })
    iam
      .on(ListRolePoliciesCommand)
      .resolvesOnce({ PolicyNames: ['a'], IsTruncated: true, Marker: 'p1' })
      .resolvesOnce({ PolicyNames: ['b'], IsTruncated: false })
    iam.on(GetRolePolicyCommand, { PolicyName: 'a' }).resolves({ RoleName: 'orders-exec', PolicyName: 'a', PolicyDocument: encodeURIComponent('{"Version":"2012-10-17","Statement":[]}') })
    iam.on(GetRolePolicyCommand, { PolicyName: 'b' }).resolves({ RoleName: 'orders-exec', PolicyName: 'b', PolicyDocument: '{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}' })
    const state = await new ExecutionRoles(client).readRole(ROLE_ARN)
    expect(state).toEqual({
      name: 'orders-exec',
      arn: ROLE_ARN,
      partition: 'aws',
      account: ACCOUNT,
      tags: { team: 'orders', env: 'prod' },
      attached: [attached(BASIC_ARN), attached(SHARED_ARN)],
      inline: [
        { name: 'a', document: { Version: '2012-10-17', Statement: [] }, text: '{"Version":"2012-10-17","Statement":[]}' },
        { name: 'b', document: { Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } }, text: '{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}' }
      ]
    })
    expect(iam.commandCalls(ListRoleTagsCommand)[1]?.args[0].input).toEqual({ RoleName: 'orders-exec', Marker: 't1' })
    expect(iam.commandCalls(ListAttachedRolePoliciesCommand)[1]?.args[0].input).toMatchObject({ Marker: 'a1' })
  })

  it('writes the record first, then the policy; nothing the second time', async () => {
    mockRole('orders-exec')
    const roles = new ExecutionRoles(client)
    const state = await roles.readRole('orders-exec')
    iam.resetHistory()
    const change = await roles.applyCloudWatchOff(state, { method: 'deny', logGroups: [ORDERS] })
    expect(writes()).toEqual(['TagRoleCommand', 'PutRolePolicyCommand'])
    expect(iam.commandCalls(PutRolePolicyCommand)[0]?.args[0].input).toEqual({
      RoleName: 'orders-exec',
      PolicyName: DENY_POLICY_NAME,
      PolicyDocument: JSON.stringify(denyPolicyFor([ORDERS]))
    })
    iam.resetHistory()
    const again = await roles.applyCloudWatchOff(change.after, { method: 'deny', logGroups: [ORDERS] })
    expect(again.changed).toBe(false)
    expect(names()).toEqual([])
  })

  it('detaches: record, detach, put, delete – in that order; undo: attach, put, then the tags', async () => {
    mockRole('orders-exec', {
      attached: [BASIC_ARN],
      inline: { app: doc(allow(['logs:*', 's3:GetObject'])), 'logs-only': doc(allow(THREE)) }
    })
    const roles = new ExecutionRoles(client)
    const change = await roles.applyCloudWatchOff(await roles.readRole('orders-exec'), { method: 'detach', logGroups: [ORDERS] })
    expect(writes()).toEqual(['TagRoleCommand', 'DetachRolePolicyCommand', 'PutRolePolicyCommand', 'DeleteRolePolicyCommand'])
    iam.resetHistory()
    const undone = await roles.undoCloudWatchOff(change.after)
    expect(writes()).toEqual(['AttachRolePolicyCommand', 'PutRolePolicyCommand', 'PutRolePolicyCommand', 'UntagRoleCommand'])
    expect(iam.commandCalls(AttachRolePolicyCommand)[0]?.args[0].input).toEqual({ RoleName: 'orders-exec', PolicyArn: BASIC_ARN })
    expect(undone.tagsRemoved.every((key) => key.startsWith('rotel-clickstack-action:'))).toBe(true)
  })

  it('takes "already gone" for done when detaching or deleting', async () => {
    mockRole('orders-exec', { attached: [BASIC_ARN], inline: { 'logs-only': doc(allow(THREE)) } })
    iam.on(DetachRolePolicyCommand).rejects(Object.assign(new Error('gone'), { name: 'NoSuchEntityException' }))
    iam.on(DeleteRolePolicyCommand).rejects(Object.assign(new Error('gone'), { name: 'NoSuchEntityException' }))
    const roles = new ExecutionRoles(client)
    await expect(roles.applyCloudWatchOff(await roles.readRole('orders-exec'), { method: 'detach', logGroups: [ORDERS] })).resolves.toMatchObject({
      changed: true
    })
  })

  it('reads each managed policy once per run, whatever the number of roles', async () => {
    mockRole('a', { attached: [SHARED_ARN] })
    mockRole('b', { attached: [SHARED_ARN] })
    iam.on(GetPolicyCommand).resolves({ Policy: { Arn: SHARED_ARN, DefaultVersionId: 'v3' } })
    iam.on(GetPolicyVersionCommand).resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(doc(allow('logs:*')))) } })
    const roles = new ExecutionRoles(client)
    const a = await roles.applyCloudWatchOff(await roles.readRole('a'), { method: 'detach', logGroups: [ORDERS] })
    const b = await roles.applyCloudWatchOff(await roles.readRole('b'), { method: 'detach', logGroups: [ORDERS] })
    expect(a.customerManagedStillGranting).toHaveLength(1)
    expect(b.customerManagedStillGranting).toHaveLength(1)
    expect(iam.commandCalls(GetPolicyCommand)).toHaveLength(1)
    expect(iam.commandCalls(GetPolicyVersionCommand)[0]?.args[0].input).toEqual({ PolicyArn: SHARED_ARN, VersionId: 'v3' })
    expect(writes()).toEqual([])
  })

  it('asks the policy simulator when it can, and says which policies grant', async () => {
    mockRole('orders-exec', { attached: [BASIC_ARN] })
    iam.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v1' } })
    iam.on(GetPolicyVersionCommand).resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(doc(allow(THREE)))) } })
    iam.on(SimulatePrincipalPolicyCommand).resolves({
      EvaluationResults: [
        { EvalActionName: 'logs:CreateLogGroup', EvalDecision: 'implicitDeny' },
        {
          EvalActionName: 'logs:PutLogEvents',
          EvalDecision: 'implicitDeny',
          ResourceSpecificResults: [
            { EvalResourceName: ORDERS, EvalResourceDecision: 'implicitDeny' },
            { EvalResourceName: `${ORDERS}:log-stream:x`, EvalResourceDecision: 'allowed' }
          ]
        }
      ],
      IsTruncated: false
    })
    const roles = new ExecutionRoles(client)
    const report = await roles.logWriteGrants(await roles.readRole('orders-exec'), `${ORDERS}:*`)
    expect(report.method).toBe('simulation')
    expect(report.granted).toEqual(['logs:PutLogEvents'])
    expect(report.logGroupArn).toBe(ORDERS)
    expect(report.sources).toEqual([
      { kind: 'aws-managed', name: 'AWSLambdaBasicExecutionRole', arn: BASIC_ARN, allows: THREE, conditional: [], denies: [] }
    ])
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)[0]?.args[0].input).toMatchObject({
      PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/orders-exec`,
      ActionNames: THREE
    })
  })

  it('falls back to static analysis when the simulator does not answer, and stops asking it', async () => {
    mockRole('orders-exec', { inline: { app: doc(allow('logs:*')) } })
    iam.on(SimulatePrincipalPolicyCommand).rejects(Object.assign(new Error('not implemented'), { name: 'NotImplemented' }))
    const roles = new ExecutionRoles(client)
    const state = await roles.readRole('orders-exec')
    const first = await roles.logWriteGrants(state, ORDERS)
    expect(first.method).toBe('static')
    expect(first.granted).toEqual(THREE)
    expect(first.notes.join(' ')).toMatch(/simulator did not answer \(NotImplemented\)/)
    const second = await roles.logWriteGrants(state, ORDERS)
    expect(second.method).toBe('static')
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(1)
  })

  it('counts an unreadable customer-managed policy as granting, and says so', async () => {
    mockRole('orders-exec', { attached: [SHARED_ARN] })
    iam.on(GetPolicyCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }))
    const roles = new ExecutionRoles(client, { simulate: false })
    const report = await roles.logWriteGrants(await roles.readRole('orders-exec'), ORDERS)
    expect(report.granted).toEqual(THREE)
    expect(report.sources[0]).toMatchObject({ kind: 'customer-managed', unreadable: 'AccessDenied: denied' })
    expect(report.notes.join(' ')).toMatch(/could not be read/)
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(0)
  })
})

describe('RoleCoordinator', () => {
  const GROUP = (name: string) => `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/${name}`

  it('reads and writes a shared role once for all its functions; other roles on their own', async () => {
    mockRole('shared')
    mockRole('alone')
    const coordinator = new RoleCoordinator(new ExecutionRoles(client))
    coordinator.plan({ key: 'f1', role: `arn:aws:iam::${ACCOUNT}:role/shared`, logGroupArn: GROUP('f1') })
    coordinator.plan({ key: 'f2', role: 'shared', logGroupArn: GROUP('f2') })
    coordinator.plan({ key: 'f3', role: `arn:aws:iam::${ACCOUNT}:role/team/alone`, logGroupArn: GROUP('f3') })
    coordinator.plan({ key: 'f1', role: 'shared', logGroupArn: GROUP('f1') }) // again: no-op
    const outcomes = await coordinator.applyAll('deny')
    expect([...outcomes.keys()].sort()).toEqual(['alone', 'shared'])
    expect(iam.commandCalls(GetRoleCommand).map((c) => c.args[0].input.RoleName).sort()).toEqual(['alone', 'shared'])
    const puts = iam.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input)
    expect(puts).toHaveLength(2)
    expect(deniedGroupsOf(JSON.parse(puts.find((p) => p.RoleName === 'shared')?.PolicyDocument ?? '{}'))).toEqual([GROUP('f1'), GROUP('f2')])
    const shared = outcomes.get('shared')
    expect(shared?.ok && shared.value.denyPolicy?.groups).toEqual([GROUP('f1'), GROUP('f2')])
    expect(await coordinator.applyFor('f2', 'deny')).toBe(shared)
  })

  it('lets concurrent applyFor calls for one role share one read and one write', async () => {
    mockRole('shared')
    const coordinator = new RoleCoordinator(new ExecutionRoles(client))
    const keys = ['a', 'b', 'c', 'd']
    for (const key of keys) coordinator.plan({ key, role: 'shared', logGroupArn: GROUP(key) })
    const outcomes = await Promise.all(keys.map((key) => coordinator.applyFor(key, 'deny')))
    expect(new Set(outcomes).size).toBe(1)
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(1)
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1)
    expect(iam.commandCalls(TagRoleCommand)).toHaveLength(1)
  })

  it('applies a function planned later on top of the kept state, without reading the role again', async () => {
    mockRole('shared')
    const coordinator = new RoleCoordinator(new ExecutionRoles(client))
    coordinator.plan({ key: 'a', role: 'shared', logGroupArn: GROUP('a') })
    await coordinator.applyFor('a', 'deny')
    coordinator.plan({ key: 'b', role: 'shared', logGroupArn: GROUP('b') })
    const later = await coordinator.applyFor('b', 'deny')
    expect(later.ok && later.value.denyPolicy?.groups).toEqual([GROUP('a'), GROUP('b')])
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(1)
    expect(iam.commandCalls(TagRoleCommand)).toHaveLength(1)
  })

  it('turns an IAM failure into an outcome with the fix, for every function of the role', async () => {
    mockRole('shared')
    iam.on(PutRolePolicyCommand).rejects(Object.assign(new Error('User is not authorized to perform: iam:PutRolePolicy'), { name: 'AccessDenied' }))
    const coordinator = new RoleCoordinator(new ExecutionRoles(client))
    coordinator.plan({ key: 'a', role: 'shared', logGroupArn: GROUP('a') })
    coordinator.plan({ key: 'b', role: 'shared', logGroupArn: GROUP('b') })
    const [a, b] = await Promise.all([coordinator.applyFor('a', 'deny'), coordinator.applyFor('b', 'deny')])
    expect(a).toEqual({ ok: false, error: expect.stringMatching(/may not change execution role shared.*iam:PutRolePolicy/) })
    expect(b).toBe(a)
    expect(await coordinator.applyFor('nope', 'deny')).toEqual({ ok: false, error: 'nope was not planned' })
  })

  it('after a failed write reads the role again to give CloudWatch Logs back, so no record of a change not made is left', async () => {
    mockRole('shared')
    // The record (tag) goes through, the deny policy is refused.
    iam.on(PutRolePolicyCommand).rejects(Object.assign(new Error('User is not authorized to perform: iam:PutRolePolicy'), { name: 'AccessDenied' }))
    const coordinator = new RoleCoordinator(new ExecutionRoles(client, { simulate: false }))
    coordinator.plan({ key: 'a', role: 'shared', logGroupArn: GROUP('a') })
    expect((await coordinator.applyFor('a', 'deny')).ok).toBe(false)
    expect(iam.commandCalls(TagRoleCommand)).toHaveLength(1)
    // IAM now has the tag the failed run wrote.
    iam.on(ListRoleTagsCommand, { RoleName: 'shared' }).resolves({ Tags: [{ Key: DENY_TAG, Value: DENY_POLICY_NAME }], IsTruncated: false })
    const undone = await coordinator.undoFor(['a'])
    expect(undone.get('shared')).toMatchObject({ ok: true, value: { tagsRemoved: [DENY_TAG] } })
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(2)
    expect(iam.commandCalls(UntagRoleCommand).map((call) => call.args[0].input)).toEqual([{ RoleName: 'shared', TagKeys: [DENY_TAG] }])
    expect(iam.commandCalls(DeleteRolePolicyCommand)).toHaveLength(0)
  })

  it('refuses one key planned with two roles', () => {
    const coordinator = new RoleCoordinator(new ExecutionRoles(client))
    coordinator.plan({ key: 'a', role: 'one', logGroupArn: GROUP('a') })
    expect(() => coordinator.plan({ key: 'a', role: 'two', logGroupArn: GROUP('a') })).toThrow('was planned with role one')
  })

  it('checks from the state it wrote, without reading the role again, and reports drift', async () => {
    mockRole('shared', { attached: [BASIC_ARN] })
    iam.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v1' } })
    iam.on(GetPolicyVersionCommand).resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(doc(allow(THREE)))) } })
    const coordinator = new RoleCoordinator(new ExecutionRoles(client, { simulate: false }))
    coordinator.plan({ key: 'a', role: 'shared', logGroupArn: GROUP('a') })
    await coordinator.applyAll('deny')
    const check = await coordinator.checkFor('a')
    expect(check.ok && check.value.granted).toEqual([])
    expect(check.ok && check.value.drift).toEqual([])
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(1)
  })

  it('undoes every planned role once, for the planned groups only', async () => {
    const denied = denyPolicyFor([GROUP('a'), GROUP('other-run')])
    mockRole('shared', { inline: { [DENY_POLICY_NAME]: denied }, tags: { [DENY_TAG]: DENY_POLICY_NAME } })
    const coordinator = new RoleCoordinator(new ExecutionRoles(client))
    coordinator.plan({ key: 'a', role: 'shared', logGroupArn: GROUP('a') })
    const outcomes = await coordinator.undoAll()
    const shared = outcomes.get('shared')
    expect(shared?.ok && shared.value.denyPolicy).toEqual({ name: DENY_POLICY_NAME, deleted: false, remainingGroups: [GROUP('other-run')] })
    expect(writes()).toEqual(['PutRolePolicyCommand'])
    expect(iam.commandCalls(UntagRoleCommand)).toHaveLength(0)
    expect(sameJson(JSON.parse(iam.commandCalls(PutRolePolicyCommand)[0]?.args[0].input.PolicyDocument ?? ''), denyPolicyFor([GROUP('other-run')]))).toBe(true)
  })

  it('works on at most `concurrency` roles at once', async () => {
    let running = 0
    let peak = 0
    const edge = {
      readRole: async (name: string) => {
        running++
        peak = Math.max(peak, running)
        await new Promise((resolve) => setTimeout(resolve, 5))
        running--
        return role({ name })
      },
      applyCloudWatchOff: async (state: RoleState) => planDeny(state, [GROUP(state.name)]).change
    } as unknown as ExecutionRoles
    const coordinator = new RoleCoordinator(edge, { concurrency: 2 })
    for (let i = 0; i < 6; i++) coordinator.plan({ key: `f${i}`, role: `r${i}`, logGroupArn: GROUP(`r${i}`) })
    const outcomes = await coordinator.applyAll('deny')
    expect([...outcomes.values()].every((o) => o.ok)).toBe(true)
    expect(peak).toBe(2)
  })
})
