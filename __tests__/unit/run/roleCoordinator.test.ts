import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DeleteRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand
} from '@aws-sdk/client-iam'
import { mockClient } from 'aws-sdk-client-mock'
import { mockedCalls, mockRole as mockIamRole } from '../../support/iamRoles.js'
import { IamRoles } from '../../../src/aws/iamRoles.js'
import { RoleCoordinator } from '../../../src/run/roleCoordinator.js'
import type { RoleStore } from '../../../src/core/roleStore.js'

import { sameJson } from '../../../src/core/iamPolicy.js'
import { deniedGroupsOf, DENY_POLICY_NAME, denyPolicyFor } from '../../../src/core/logPermissions.js'
import { type RoleState } from '../../../src/core/roleModel.js'
import { planDeny } from '../../../src/core/rolePlanning.js'
import { DENY_TAG } from '../../../src/core/roleRecord.js'
import { ACCOUNT, THREE, BASIC_ARN, doc, allow, role } from '../../support/roleStates.js'

const iam = mockClient(IAMClient)
const client = new IAMClient({ region: 'us-east-1' })
const { writes } = mockedCalls(iam)

const mockRole = (roleName: string, options: Parameters<typeof mockIamRole>[3] = {}) =>
  mockIamRole(iam, ACCOUNT, roleName, options)

beforeEach(() => {
  iam.reset()
})

describe('RoleCoordinator', () => {
  const GROUP = (name: string) => `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/${name}`

  it('reads and writes a shared role once for all its functions; other roles on their own', async () => {
    mockRole('shared')
    mockRole('alone')
    const coordinator = new RoleCoordinator(new IamRoles(client))
    coordinator.plan({ key: 'f1', role: `arn:aws:iam::${ACCOUNT}:role/shared`, logGroupArn: GROUP('f1') })
    coordinator.plan({ key: 'f2', role: 'shared', logGroupArn: GROUP('f2') })
    coordinator.plan({ key: 'f3', role: `arn:aws:iam::${ACCOUNT}:role/team/alone`, logGroupArn: GROUP('f3') })
    coordinator.plan({ key: 'f1', role: 'shared', logGroupArn: GROUP('f1') }) // again: no-op
    const [shared, , alone] = await Promise.all(['f1', 'f2', 'f3'].map((key) => coordinator.applyFor(key, 'deny')))
    expect([shared, alone].map((outcome) => outcome?.ok && outcome.value.role)).toEqual(['shared', 'alone'])
    expect(
      iam
        .commandCalls(GetRoleCommand)
        .map((c) => c.args[0].input.RoleName)
        .sort()
    ).toEqual(['alone', 'shared'])
    const puts = iam.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input)
    expect(puts).toHaveLength(2)
    expect(deniedGroupsOf(JSON.parse(puts.find((p) => p.RoleName === 'shared')?.PolicyDocument ?? '{}'))).toEqual([
      GROUP('f1'),
      GROUP('f2')
    ])
    expect(shared?.ok && shared.value.denyPolicy?.groups).toEqual([GROUP('f1'), GROUP('f2')])
    expect(await coordinator.applyFor('f2', 'deny')).toBe(shared)
  })

  it('lets concurrent applyFor calls for one role share one read and one write', async () => {
    mockRole('shared')
    const coordinator = new RoleCoordinator(new IamRoles(client))
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
    const coordinator = new RoleCoordinator(new IamRoles(client))
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
    iam
      .on(PutRolePolicyCommand)
      .rejects(
        Object.assign(new Error('User is not authorized to perform: iam:PutRolePolicy'), { name: 'AccessDenied' })
      )
    const coordinator = new RoleCoordinator(new IamRoles(client))
    coordinator.plan({ key: 'a', role: 'shared', logGroupArn: GROUP('a') })
    coordinator.plan({ key: 'b', role: 'shared', logGroupArn: GROUP('b') })
    const [a, b] = await Promise.all([coordinator.applyFor('a', 'deny'), coordinator.applyFor('b', 'deny')])
    expect(a).toEqual({
      ok: false,
      error: expect.stringMatching(/may not change execution role shared.*iam:PutRolePolicy/)
    })
    expect(b).toBe(a)
    expect(await coordinator.applyFor('nope', 'deny')).toEqual({ ok: false, error: 'nope was not planned' })
  })

  it('after a failed write reads the role again to give CloudWatch Logs back, so no record of a change not made is left', async () => {
    mockRole('shared')
    // The record (tag) goes through, the deny policy is refused.
    iam
      .on(PutRolePolicyCommand)
      .rejects(
        Object.assign(new Error('User is not authorized to perform: iam:PutRolePolicy'), { name: 'AccessDenied' })
      )
    const coordinator = new RoleCoordinator(new IamRoles(client, { simulate: false }))
    coordinator.plan({ key: 'a', role: 'shared', logGroupArn: GROUP('a') })
    expect((await coordinator.applyFor('a', 'deny')).ok).toBe(false)
    expect(iam.commandCalls(TagRoleCommand)).toHaveLength(1)
    // IAM now has the tag the failed run wrote.
    iam
      .on(ListRoleTagsCommand, { RoleName: 'shared' })
      .resolves({ Tags: [{ Key: DENY_TAG, Value: DENY_POLICY_NAME }], IsTruncated: false })
    const undone = await coordinator.undoFor(['a'])
    expect(undone.get('shared')).toMatchObject({ ok: true, value: { tagsRemoved: [DENY_TAG] } })
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(2)
    expect(iam.commandCalls(UntagRoleCommand).map((call) => call.args[0].input)).toEqual([
      { RoleName: 'shared', TagKeys: [DENY_TAG] }
    ])
    expect(iam.commandCalls(DeleteRolePolicyCommand)).toHaveLength(0)
  })

  it('refuses one key planned with two roles', () => {
    const coordinator = new RoleCoordinator(new IamRoles(client))
    coordinator.plan({ key: 'a', role: 'one', logGroupArn: GROUP('a') })
    expect(() => coordinator.plan({ key: 'a', role: 'two', logGroupArn: GROUP('a') })).toThrow(
      'was planned with role one'
    )
  })

  it('checks from the state it wrote, without reading the role again, and reports drift', async () => {
    mockRole('shared', { attached: [BASIC_ARN] })
    iam.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v1' } })
    iam
      .on(GetPolicyVersionCommand)
      .resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(doc(allow(THREE)))) } })
    const coordinator = new RoleCoordinator(new IamRoles(client, { simulate: false }))
    coordinator.plan({ key: 'a', role: 'shared', logGroupArn: GROUP('a') })
    await coordinator.applyFor('a', 'deny')
    const check = await coordinator.checkFor('a')
    expect(check.ok && check.value.granted).toEqual([])
    expect(check.ok && check.value.drift).toEqual([])
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(1)
  })

  it('undoes a planned role once, for the planned groups only', async () => {
    const denied = denyPolicyFor([GROUP('a'), GROUP('other-run')])
    mockRole('shared', { inline: { [DENY_POLICY_NAME]: denied }, tags: { [DENY_TAG]: DENY_POLICY_NAME } })
    const coordinator = new RoleCoordinator(new IamRoles(client))
    coordinator.plan({ key: 'a', role: 'shared', logGroupArn: GROUP('a') })
    const outcomes = await coordinator.undoFor(['a'])
    const shared = outcomes.get('shared')
    expect(shared?.ok && shared.value.denyPolicy).toEqual({
      name: DENY_POLICY_NAME,
      deleted: false,
      remainingGroups: [GROUP('other-run')]
    })
    expect(writes()).toEqual(['PutRolePolicyCommand'])
    expect(iam.commandCalls(UntagRoleCommand)).toHaveLength(0)
    expect(
      sameJson(
        JSON.parse(iam.commandCalls(PutRolePolicyCommand)[0]?.args[0].input.PolicyDocument ?? ''),
        denyPolicyFor([GROUP('other-run')])
      )
    ).toBe(true)
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
    } as unknown as RoleStore
    const coordinator = new RoleCoordinator(edge, { concurrency: 2 })
    for (let i = 0; i < 6; i++) coordinator.plan({ key: `f${i}`, role: `r${i}`, logGroupArn: GROUP(`r${i}`) })
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => coordinator.applyFor(`f${i}`, 'deny')))
    expect(outcomes.every((o) => o.ok)).toBe(true)
    expect(peak).toBe(2)
  })
})
