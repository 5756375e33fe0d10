import { beforeEach, describe, expect, it } from '@jest/globals'
import { GetRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam'
import { mockClient } from 'aws-sdk-client-mock'
import { mockedCalls, mockRole as mockIamRole } from '../../support/iamRoles.js'
import { IamRoles } from '../../../src/aws/iamRoles.js'
import { DENY_TAG } from '../../../src/core/roleRecord.js'
import { RoleCoordinator } from '../../../src/run/roleCoordinator.js'
import { DENY_POLICY_NAME } from '../../../src/core/logPermissions.js'
import { requiredSecretActions, SECRET_POLICY_NAME, SECRET_POLICY_TAG } from '../../../src/core/secretAccess.js'
import { mergeSecretPolicy } from '../../../src/core/secretGrant.js'
import { ACCOUNT, SSM, refs, doc, allow } from '../../support/secretFixtures.js'

/** SecretsManagerReadWrite's BasePermissions statement as AWS publishes it (v5, abridged to its secret/KMS actions). */

const iam = mockClient(IAMClient)
const client = new IAMClient({ region: 'us-east-1' })
const { writes } = mockedCalls(iam)

const mockRole = (roleName: string, options: Parameters<typeof mockIamRole>[3] = {}) =>
  mockIamRole(iam, ACCOUNT, roleName, options)

beforeEach(() => {
  iam.reset()
})

describe('RoleCoordinator: secret access', () => {
  const needs = requiredSecretActions(refs(`x=\${${SSM}}`))
  const GROUP = (name: string) => `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/${name}`

  it('shares the role with CloudWatch Logs off: one read, each write on top of the other, nothing lost', async () => {
    mockRole('shared', { tags: { team: 'orders' } })
    const coordinator = new RoleCoordinator(new IamRoles(client, { simulate: false }))
    coordinator.plan({ key: 'a', role: 'shared', logGroupArn: GROUP('a') })
    coordinator.plan({ key: 'b', role: 'shared', logGroupArn: GROUP('b') })
    const [logs, secretsA, secretsB] = await Promise.all([
      coordinator.applyFor('a', 'deny'),
      coordinator.secretAccessForRole('shared', needs, 'grant'),
      coordinator.secretAccessForRole(`arn:aws:iam::${ACCOUNT}:role/shared`, needs, 'grant')
    ])
    expect(logs.ok).toBe(true)
    expect(secretsA.ok && secretsA.value.grant?.changed).toBe(true)
    expect(secretsB.ok && secretsB.value.grant?.changed).toBe(false)
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(1)
    // CloudWatch Logs off records first, the secret grant last.
    expect(writes()).toEqual(['TagRoleCommand', 'PutRolePolicyCommand', 'PutRolePolicyCommand', 'TagRoleCommand'])
    expect(iam.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input.PolicyName)).toEqual([
      DENY_POLICY_NAME,
      SECRET_POLICY_NAME
    ])
    // The state the coordinator keeps for the role: the one after its last task.
    const state = secretsB.ok ? secretsB.value.grant?.after : undefined
    expect(state?.tags).toEqual({
      team: 'orders',
      [DENY_TAG]: DENY_POLICY_NAME,
      [SECRET_POLICY_TAG]: SECRET_POLICY_NAME
    })
    expect(state?.inline.map((p) => p.name)).toEqual([DENY_POLICY_NAME, SECRET_POLICY_NAME])

    // A function planned later: its deny lands on top of the secret grant, which keeps its tag.
    coordinator.plan({ key: 'c', role: 'shared', logGroupArn: GROUP('c') })
    iam.resetHistory()
    const later = await coordinator.applyFor('c', 'deny')
    expect(writes()).toEqual(['PutRolePolicyCommand'])
    expect(later.ok && later.value.after.tags[SECRET_POLICY_TAG]).toBe(SECRET_POLICY_NAME)
  })

  it('checks without writing, from the state already read', async () => {
    mockRole('shared', { inline: { p: doc(allow('ssm:GetParameters', 'arn:aws:ssm:*:*:parameter/other/*')) } })
    const coordinator = new RoleCoordinator(new IamRoles(client, { simulate: false }))
    const outcome = await coordinator.secretAccessForRole(`arn:aws:iam::${ACCOUNT}:role/shared`, needs, 'check')
    expect(outcome.ok && outcome.value.report.missing.map((m) => m.action)).toEqual(['ssm:GetParameters'])
    expect(outcome.ok && outcome.value.grant).toBeUndefined()
    await coordinator.secretAccessForRole('shared', needs, 'check')
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(1)
    expect(writes()).toEqual([])
  })

  it('turns failures into outcomes that name grant-secret-access', async () => {
    mockRole('shared')
    iam
      .on(PutRolePolicyCommand)
      .rejects(Object.assign(new Error('not authorized to perform: iam:PutRolePolicy'), { name: 'AccessDenied' }))
    const coordinator = new RoleCoordinator(new IamRoles(client, { simulate: false }))
    const outcome = await coordinator.secretAccessForRole('shared', needs, 'grant')
    expect(outcome).toEqual({
      ok: false,
      error: expect.stringMatching(/may not change execution role shared: .*permissions that grant-secret-access needs/)
    })
    expect(await coordinator.secretAccessForRole('arn:aws:iam::1:user/x', needs, 'grant')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not an IAM role ARN/)
    })
  })

  it('undoes on the kept state, serialised with the rest', async () => {
    mockRole('shared', {
      tags: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME },
      inline: { [SECRET_POLICY_NAME]: mergeSecretPolicy(undefined, needs) }
    })
    const coordinator = new RoleCoordinator(new IamRoles(client, { simulate: false }))
    const [first, second] = await Promise.all([
      coordinator.undoSecretGrantFor('shared'),
      coordinator.undoSecretGrantFor('shared')
    ])
    expect(first.ok && first.value.changed).toBe(true)
    expect(second.ok && second.value.changed).toBe(false)
    expect(writes()).toEqual(['DeleteRolePolicyCommand', 'UntagRoleCommand'])
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(1)
  })
})
