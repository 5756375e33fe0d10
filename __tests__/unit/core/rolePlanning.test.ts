import { describe, expect, it } from '@jest/globals'
import { type PolicyDocument, statementsOf } from '../../../src/core/iamPolicy.js'
import { deniedGroupsOf, DENY_POLICY_NAME, denyPolicyFor } from '../../../src/core/logPermissions.js'
import { type ManagedDocument } from '../../../src/core/roleModel.js'
import { planDeny, planDetach } from '../../../src/core/rolePlanning.js'
import { DENY_TAG, INLINE_UNDO_TAG_PREFIX, recordOf } from '../../../src/core/roleRecord.js'
import {
  ORDERS,
  BILLING,
  THREE,
  BASIC_ARN,
  VPC_ARN,
  XRAY_ARN,
  SHARED_ARN,
  doc,
  allow,
  inline,
  attached,
  role,
  MANAGED
} from '../../support/roleStates.js'

describe('planDeny', () => {
  it('puts one deny policy and records it', () => {
    const { plan, change } = planDeny(role(), [ORDERS, BILLING])
    expect(plan.put).toEqual([{ name: DENY_POLICY_NAME, text: JSON.stringify(denyPolicyFor([ORDERS, BILLING])) }])
    expect(plan.tags).toEqual({ set: { [DENY_TAG]: DENY_POLICY_NAME }, remove: [] })
    expect(plan.detach).toEqual([])
    expect(change).toMatchObject({
      method: 'deny',
      changed: true,
      denyPolicy: { groups: [BILLING, ORDERS], added: [BILLING, ORDERS] }
    })
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
    {
      Sid: 'Audit',
      Effect: 'Allow',
      Action: 'logs:PutLogEvents',
      Resource: 'arn:aws:logs:us-east-1:123456789012:log-group:/app/audit:*'
    }
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
      expect.objectContaining({
        arn: SHARED_ARN,
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'].slice(1)
      })
    ])
    expect(change.customerManagedStillGranting[0]?.fix).toMatch(
      /never edits it.*other roles.*cloudwatch-off-method: deny/
    )
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
    const { change, plan } = planDetach(
      role({ inline: [inline('wide', doc({ Sid: 'Wide', ...allow('*:Put*') }))] }),
      [ORDERS],
      MANAGED
    )
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
    const damaged = role({
      tags: { [`${INLINE_UNDO_TAG_PREFIX}00`]: 'garbage' },
      inline: [inline('x', doc(allow(THREE)))]
    })
    expect(() => planDetach(damaged, [ORDERS], MANAGED)).toThrow(/cannot be read.*Nothing was changed/)
  })
})
