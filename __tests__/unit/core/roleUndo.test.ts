import { describe, expect, it } from '@jest/globals'
import { statementsOf } from '../../../src/core/iamPolicy.js'
import { DENY_POLICY_NAME } from '../../../src/core/logPermissions.js'
import { planDeny, planDetach } from '../../../src/core/rolePlanning.js'
import { DENY_TAG, INLINE_UNDO_TAG_PREFIX, recordTags } from '../../../src/core/roleRecord.js'
import { planUndo } from '../../../src/core/roleUndo.js'
import {
  ORDERS,
  BILLING,
  THREE,
  BASIC_ARN,
  XRAY_ARN,
  doc,
  allow,
  inline,
  attached,
  role,
  MANAGED,
  comparable
} from '../../support/roleStates.js'

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
      inline: [
        inline('app', appPolicy),
        inline('logs-only', doc(allow(THREE))),
        inline('other', doc(allow('sqs:SendMessage')))
      ]
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
    const regained = {
      ...first,
      inline: first.inline.map((p) =>
        p.name === 'other' ? inline('other', doc(allow(['sqs:SendMessage', 'logs:*']))) : p
      )
    }
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
        p.name === 'app'
          ? inline('app', {
              ...p.document,
              Statement: statementsOf(p.document).map((s) =>
                s.Sid === 'AppLogsAndData' ? { ...s, Resource: 'arn:aws:s3:::only' } : s
              )
            })
          : p
      )
    }
    const { result } = planUndo(edited)
    expect(result.conflicts).toEqual([expect.stringContaining('statement AppLogsAndData changed since')])
    expect(Object.keys(result.after.tags).some((key) => key.startsWith(INLINE_UNDO_TAG_PREFIX))).toBe(true)
    expect(result.reattached).toEqual([BASIC_ARN])
  })

  it('refuses a record changed to grant more than log writes', () => {
    const after = planDetach(
      role({ inline: [inline('app', doc(allow(['logs:PutLogEvents', 's3:GetObject'])))] }),
      [ORDERS],
      MANAGED
    ).change.after
    const forged = recordTags({
      detached: ['arn:aws:iam::aws:policy/AdministratorAccess'],
      inline: [
        [
          { kind: 'statement', policy: 'app', index: 0, original: allow(['s3:*']), removed: false },
          {
            kind: 'statement',
            policy: 'app',
            index: 1,
            original: allow(['iam:*', 'logs:PutLogEvents']),
            removed: true
          },
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
