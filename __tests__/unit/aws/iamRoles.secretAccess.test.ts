import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DeleteRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  PutRolePolicyCommand,
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  UntagRoleCommand
} from '@aws-sdk/client-iam'
import { mockClient } from 'aws-sdk-client-mock'
import { mockedCalls, mockRole as mockIamRole } from '../../support/iamRoles.js'
import { IamRoles } from '../../../src/aws/iamRoles.js'
import {
  missingSecretAccess,
  requiredSecretActions,
  SECRET_POLICY_NAME,
  SECRET_POLICY_TAG
} from '../../../src/core/secretAccess.js'
import { mergeSecretPolicy } from '../../../src/core/secretGrant.js'
import {
  ACCOUNT,
  SM_FULL,
  SM_PARTIAL,
  SM_PARTIAL_GRANT,
  SSM,
  KMS,
  refs,
  doc,
  allow,
  deny
} from '../../support/secretFixtures.js'

/** SecretsManagerReadWrite's BasePermissions statement as AWS publishes it (v5, abridged to its secret/KMS actions). */
const SECRETS_MANAGER_READ_WRITE = doc(
  allow(
    ['secretsmanager:*', 'cloudformation:CreateChangeSet', 'kms:DescribeKey', 'kms:ListAliases', 'kms:ListKeys'],
    '*',
    {
      Sid: 'BasePermissions'
    }
  ),
  allow(['lambda:InvokeFunction'], 'arn:aws:lambda:*:*:function:SecretsManager*', { Sid: 'LambdaPermissions' })
)
const SMRW_ARN = 'arn:aws:iam::aws:policy/SecretsManagerReadWrite'

const verdicts = (report: ReturnType<typeof missingSecretAccess>) =>
  Object.fromEntries(report.decisions.map((d) => [`${d.action} ${d.resource}`, d.verdict]))

const iam = mockClient(IAMClient)
const client = new IAMClient({ region: 'us-east-1' })
const { names, writes } = mockedCalls(iam)

const mockRole = (roleName: string, options: Parameters<typeof mockIamRole>[3] = {}) =>
  mockIamRole(iam, ACCOUNT, roleName, options)

beforeEach(() => {
  iam.reset()
})

describe('IamRoles: secret access', () => {
  const needs = requiredSecretActions(refs(`x=\${${SM_PARTIAL}},y=\${${SSM}}`))

  it('grants: the policy first, then the tag; the second time nothing', async () => {
    mockRole('orders-exec', { tags: { team: 'orders' } })
    const roles = new IamRoles(client)
    const state = await roles.readRole('orders-exec')
    iam.resetHistory()
    const change = await roles.grantSecretAccess(state, needs)
    expect(writes()).toEqual(['PutRolePolicyCommand', 'TagRoleCommand'])
    expect(iam.commandCalls(TagRoleCommand)[0]?.args[0].input).toEqual({
      RoleName: 'orders-exec',
      Tags: [{ Key: SECRET_POLICY_TAG, Value: SECRET_POLICY_NAME }]
    })
    expect(iam.commandCalls(PutRolePolicyCommand)[0]?.args[0].input).toEqual({
      RoleName: 'orders-exec',
      PolicyName: SECRET_POLICY_NAME,
      PolicyDocument: JSON.stringify(mergeSecretPolicy(undefined, needs))
    })
    expect(change.changed).toBe(true)
    expect(change.report.missing).toEqual([])
    expect(change.after.tags).toEqual({ team: 'orders', [SECRET_POLICY_TAG]: SECRET_POLICY_NAME })
    expect(change.after.inline.map((p) => p.name)).toEqual([SECRET_POLICY_NAME])
    // No simulator after a write: IAM takes a moment to apply it; the state is known exactly.
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(0)

    iam.resetHistory()
    const again = await roles.grantSecretAccess(change.after, needs)
    expect(again.changed).toBe(false)
    expect(names()).toEqual([])
  })

  it('leaves no record of a policy it could not write: a refused PutRolePolicy writes no tag', async () => {
    mockRole('orders-exec', { tags: { team: 'orders' } })
    iam
      .on(PutRolePolicyCommand)
      .rejects(Object.assign(new Error('not authorized to perform: iam:PutRolePolicy'), { name: 'AccessDenied' }))
    const roles = new IamRoles(client)
    const state = await roles.readRole('orders-exec')
    iam.resetHistory()
    await expect(roles.grantSecretAccess(state, needs)).rejects.toMatchObject({ name: 'AccessDenied' })
    expect(writes()).toEqual(['PutRolePolicyCommand'])
    expect(iam.commandCalls(TagRoleCommand)).toHaveLength(0)
  })

  it('says what a grant cannot fix: a Deny in another policy', async () => {
    mockRole('orders-exec', { inline: { guard: doc(deny('ssm:*')) } })
    const roles = new IamRoles(client)
    const change = await roles.grantSecretAccess(await roles.readRole('orders-exec'), needs)
    expect(change.report.missing.map((m) => [m.action, m.reason])).toEqual([['ssm:GetParameters', 'denied']])
    expect(change.warnings).toEqual([
      expect.stringMatching(/denies ssm:GetParameters .*inline policy guard statement #0/)
    ])
  })

  it('refuses, before any write, a role without a free tag or without inline quota left', async () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, 'v']))
    mockRole('full-tags', { tags: fifty })
    // An inline policy just under IAM's 10,240 characters per role: the grant would cross it.
    const big = doc(
      allow(
        's3:GetObject',
        Array.from({ length: 355 }, (_, i) => `arn:aws:s3:::bucket-${i + 100}/*`)
      )
    )
    expect(JSON.stringify(big).length).toBeGreaterThan(9_900)
    expect(JSON.stringify(big).length).toBeLessThan(10_240)
    mockRole('full-inline', { inline: { big } })
    const roles = new IamRoles(client)
    await expect(roles.grantSecretAccess(await roles.readRole('full-tags'), needs)).rejects.toMatchObject({
      name: 'RecordTooLargeError',
      message: expect.stringMatching(/at most 50\. Nothing was changed/)
    })
    await expect(roles.grantSecretAccess(await roles.readRole('full-inline'), needs)).rejects.toMatchObject({
      name: 'InlineQuotaError'
    })
    expect(writes()).toEqual([])
  })

  it("checks with IAM's policy simulator for exact resources, statically for a secret without its suffix", async () => {
    mockRole('orders-exec', { inline: { p: doc(allow('secretsmanager:*', `${SM_PARTIAL}-*`)) } })
    iam.on(SimulatePrincipalPolicyCommand, { ActionNames: ['secretsmanager:BatchGetSecretValue'] }).resolves({
      EvaluationResults: [
        { EvalActionName: 'secretsmanager:BatchGetSecretValue', EvalResourceName: '*', EvalDecision: 'implicitDeny' }
      ],
      IsTruncated: false
    })
    iam.on(SimulatePrincipalPolicyCommand, { ActionNames: ['ssm:GetParameters'] }).resolves({
      EvaluationResults: [
        {
          EvalActionName: 'ssm:GetParameters',
          EvalDecision: 'allowed',
          ResourceSpecificResults: [{ EvalResourceName: SSM, EvalResourceDecision: 'allowed' }]
        }
      ],
      IsTruncated: false
    })
    const roles = new IamRoles(client)
    const report = await roles.secretAccessReport(await roles.readRole('orders-exec'), needs)
    expect(report.method).toBe('simulation')
    expect(verdicts(report)).toEqual({
      [`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]: 'allowed',
      'secretsmanager:BatchGetSecretValue *': 'not-allowed',
      [`ssm:GetParameters ${SSM}`]: 'allowed'
    })
    expect(report.notes.join(' ')).toMatch(/without their random suffix were decided by static analysis/)
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input)).toEqual([
      {
        PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/orders-exec`,
        ActionNames: ['secretsmanager:BatchGetSecretValue'],
        ResourceArns: ['*']
      },
      {
        PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/orders-exec`,
        ActionNames: ['ssm:GetParameters'],
        ResourceArns: [SSM]
      }
    ])
  })

  it('asks the simulator about kms:Decrypt as each service that decrypts calls it (kms:ViaService), the worst answer counting', async () => {
    const withKey = requiredSecretActions(refs(`x=\${${SSM}},y=\${${SM_FULL}}`), KMS)
    mockRole('orders-exec')
    iam.on(SimulatePrincipalPolicyCommand).resolves({ EvaluationResults: [], IsTruncated: false })
    const answer = (decision: string) => ({
      EvaluationResults: [{ EvalActionName: 'kms:Decrypt', EvalResourceName: KMS, EvalDecision: decision }],
      IsTruncated: false
    })
    const through = (service: string) => ({
      ActionNames: ['kms:Decrypt'],
      ContextEntries: [
        { ContextKeyName: 'kms:ViaService', ContextKeyType: 'string' as const, ContextKeyValues: [service] }
      ]
    })
    iam
      .on(SimulatePrincipalPolicyCommand, through('secretsmanager.us-east-1.amazonaws.com'))
      .resolves(answer('allowed') as never)
    iam
      .on(SimulatePrincipalPolicyCommand, through('ssm.eu-west-1.amazonaws.com'))
      .resolves(answer('implicitDeny') as never)
    const roles = new IamRoles(client)
    const report = await roles.secretAccessReport(await roles.readRole('orders-exec'), withKey)
    expect(verdicts(report)[`kms:Decrypt ${KMS}`]).toBe('not-allowed')
    const kmsCalls = iam
      .commandCalls(SimulatePrincipalPolicyCommand)
      .filter((c) => c.args[0].input.ActionNames?.[0] === 'kms:Decrypt')
    expect(kmsCalls.map((c) => c.args[0].input.ContextEntries?.[0]?.ContextKeyValues)).toEqual([
      ['secretsmanager.us-east-1.amazonaws.com'],
      ['ssm.eu-west-1.amazonaws.com']
    ])
  })

  it('names a Deny that only the simulator sees (a permission boundary) as an explicit denial', async () => {
    mockRole('orders-exec', { inline: { p: doc(allow('ssm:GetParameters', SSM)) } })
    iam.on(SimulatePrincipalPolicyCommand).resolves({
      EvaluationResults: [{ EvalActionName: 'ssm:GetParameters', EvalResourceName: SSM, EvalDecision: 'explicitDeny' }],
      IsTruncated: false
    })
    const roles = new IamRoles(client)
    const onlySsm = requiredSecretActions(refs(`\${${SSM}}`))
    const report = await roles.secretAccessReport(await roles.readRole('orders-exec'), onlySsm)
    expect(report.missing).toEqual([
      expect.objectContaining({ action: 'ssm:GetParameters', reason: 'denied', deniedBy: [] })
    ])
    expect(report.warnings).toEqual([expect.stringContaining(`denies ssm:GetParameters on ${SSM} (explicitly denied)`)])
  })

  it('falls back to static analysis when the simulator does not answer, and stops asking it', async () => {
    mockRole('orders-exec', { attached: [SMRW_ARN] })
    iam.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v5' } })
    iam
      .on(GetPolicyVersionCommand)
      .resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(SECRETS_MANAGER_READ_WRITE)) } })
    iam
      .on(SimulatePrincipalPolicyCommand)
      .rejects(Object.assign(new Error('not implemented'), { name: 'NotImplemented' }))
    const roles = new IamRoles(client)
    const state = await roles.readRole('orders-exec')
    const first = await roles.secretAccessReport(state, needs)
    expect(first.method).toBe('static')
    expect(first.missing.map((m) => m.action)).toEqual(['ssm:GetParameters'])
    expect(first.notes[0]).toMatch(/simulator did not answer \(NotImplemented\)/)
    await roles.secretAccessReport(state, needs)
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(1)
    expect(iam.commandCalls(GetPolicyCommand)).toHaveLength(1)
  })

  it('undoes: the policy first, then the tag; "already gone" counts as done', async () => {
    mockRole('orders-exec', {
      tags: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME },
      inline: { [SECRET_POLICY_NAME]: mergeSecretPolicy(undefined, needs) }
    })
    iam.on(DeleteRolePolicyCommand).rejects(Object.assign(new Error('gone'), { name: 'NoSuchEntityException' }))
    const roles = new IamRoles(client)
    const undone = await roles.undoSecretGrant(await roles.readRole('orders-exec'))
    expect(writes()).toEqual(['DeleteRolePolicyCommand', 'UntagRoleCommand'])
    expect(iam.commandCalls(UntagRoleCommand)[0]?.args[0].input).toEqual({
      RoleName: 'orders-exec',
      TagKeys: [SECRET_POLICY_TAG]
    })
    expect(undone).toMatchObject({ changed: true, tagsRemoved: [SECRET_POLICY_TAG] })
    expect(undone.after.inline).toEqual([])
    expect(undone.after.tags).toEqual({})
  })
})
