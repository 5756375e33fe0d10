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
  SimulatePrincipalPolicyCommand
} from '@aws-sdk/client-iam'
import { mockClient } from 'aws-sdk-client-mock'
import { mockedCalls, mockRole as mockIamRole } from '../../support/iamRoles.js'
import { IamRoles } from '../../../src/aws/iamRoles.js'
import { DENY_POLICY_NAME, denyPolicyFor } from '../../../src/core/logPermissions.js'
import { ACCOUNT, ORDERS, THREE, BASIC_ARN, SHARED_ARN, doc, allow, attached } from '../../support/roleStates.js'

const iam = mockClient(IAMClient)
const client = new IAMClient({ region: 'us-east-1' })
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/orders-exec`
const { names, writes } = mockedCalls(iam)

const mockRole = (roleName: string, options: Parameters<typeof mockIamRole>[3] = {}) =>
  mockIamRole(iam, ACCOUNT, roleName, options)

beforeEach(() => {
  iam.reset()
})

describe('IamRoles', () => {
  it('reads every page of tags, attached and inline policies, and decodes documents', async () => {
    iam
      .on(GetRoleCommand)
      .resolves({ Role: { RoleName: 'orders-exec', Arn: ROLE_ARN, Path: '/', RoleId: 'R', CreateDate: new Date() } })
    iam
      .on(ListRoleTagsCommand)
      .resolvesOnce({ Tags: [{ Key: 'team', Value: 'orders' }], IsTruncated: true, Marker: 't1' })
      .resolvesOnce({ Tags: [{ Key: 'env', Value: 'prod' }], IsTruncated: false })
    iam
      .on(ListAttachedRolePoliciesCommand)
      .resolvesOnce({
        AttachedPolicies: [{ PolicyArn: BASIC_ARN, PolicyName: 'AWSLambdaBasicExecutionRole' }],
        IsTruncated: true,
        Marker: 'a1'
      })
      .resolvesOnce({ AttachedPolicies: [{ PolicyArn: SHARED_ARN, PolicyName: 'shared-logging' }], IsTruncated: false })
    iam
      .on(ListRolePoliciesCommand)
      .resolvesOnce({ PolicyNames: ['a'], IsTruncated: true, Marker: 'p1' })
      .resolvesOnce({ PolicyNames: ['b'], IsTruncated: false })
    iam.on(GetRolePolicyCommand, { PolicyName: 'a' }).resolves({
      RoleName: 'orders-exec',
      PolicyName: 'a',
      PolicyDocument: encodeURIComponent('{"Version":"2012-10-17","Statement":[]}')
    })
    iam.on(GetRolePolicyCommand, { PolicyName: 'b' }).resolves({
      RoleName: 'orders-exec',
      PolicyName: 'b',
      PolicyDocument: '{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}'
    })
    const state = await new IamRoles(client).readRole(ROLE_ARN)
    expect(state).toEqual({
      name: 'orders-exec',
      arn: ROLE_ARN,
      partition: 'aws',
      account: ACCOUNT,
      tags: { team: 'orders', env: 'prod' },
      attached: [attached(BASIC_ARN), attached(SHARED_ARN)],
      inline: [
        {
          name: 'a',
          document: { Version: '2012-10-17', Statement: [] },
          text: '{"Version":"2012-10-17","Statement":[]}'
        },
        {
          name: 'b',
          document: { Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } },
          text: '{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}'
        }
      ]
    })
    expect(iam.commandCalls(ListRoleTagsCommand)[1]?.args[0].input).toEqual({ RoleName: 'orders-exec', Marker: 't1' })
    expect(iam.commandCalls(ListAttachedRolePoliciesCommand)[1]?.args[0].input).toMatchObject({ Marker: 'a1' })
  })

  it('writes the record first, then the policy; nothing the second time', async () => {
    mockRole('orders-exec')
    const roles = new IamRoles(client)
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
    const roles = new IamRoles(client)
    const change = await roles.applyCloudWatchOff(await roles.readRole('orders-exec'), {
      method: 'detach',
      logGroups: [ORDERS]
    })
    expect(writes()).toEqual([
      'TagRoleCommand',
      'DetachRolePolicyCommand',
      'PutRolePolicyCommand',
      'DeleteRolePolicyCommand'
    ])
    iam.resetHistory()
    const undone = await roles.undoCloudWatchOff(change.after)
    expect(writes()).toEqual([
      'AttachRolePolicyCommand',
      'PutRolePolicyCommand',
      'PutRolePolicyCommand',
      'UntagRoleCommand'
    ])
    expect(iam.commandCalls(AttachRolePolicyCommand)[0]?.args[0].input).toEqual({
      RoleName: 'orders-exec',
      PolicyArn: BASIC_ARN
    })
    expect(undone.tagsRemoved.every((key) => key.startsWith('rotel-clickstack-action:'))).toBe(true)
  })

  it('takes "already gone" for done when detaching or deleting', async () => {
    mockRole('orders-exec', { attached: [BASIC_ARN], inline: { 'logs-only': doc(allow(THREE)) } })
    iam.on(DetachRolePolicyCommand).rejects(Object.assign(new Error('gone'), { name: 'NoSuchEntityException' }))
    iam.on(DeleteRolePolicyCommand).rejects(Object.assign(new Error('gone'), { name: 'NoSuchEntityException' }))
    const roles = new IamRoles(client)
    await expect(
      roles.applyCloudWatchOff(await roles.readRole('orders-exec'), { method: 'detach', logGroups: [ORDERS] })
    ).resolves.toMatchObject({
      changed: true
    })
  })

  it('reads each managed policy once per run, whatever the number of roles', async () => {
    mockRole('a', { attached: [SHARED_ARN] })
    mockRole('b', { attached: [SHARED_ARN] })
    iam.on(GetPolicyCommand).resolves({ Policy: { Arn: SHARED_ARN, DefaultVersionId: 'v3' } })
    iam
      .on(GetPolicyVersionCommand)
      .resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(doc(allow('logs:*')))) } })
    const roles = new IamRoles(client)
    const a = await roles.applyCloudWatchOff(await roles.readRole('a'), { method: 'detach', logGroups: [ORDERS] })
    const b = await roles.applyCloudWatchOff(await roles.readRole('b'), { method: 'detach', logGroups: [ORDERS] })
    expect(a.customerManagedStillGranting).toHaveLength(1)
    expect(b.customerManagedStillGranting).toHaveLength(1)
    expect(iam.commandCalls(GetPolicyCommand)).toHaveLength(1)
    expect(iam.commandCalls(GetPolicyVersionCommand)[0]?.args[0].input).toEqual({
      PolicyArn: SHARED_ARN,
      VersionId: 'v3'
    })
    expect(writes()).toEqual([])
  })

  it('asks the policy simulator when it can, and says which policies grant', async () => {
    mockRole('orders-exec', { attached: [BASIC_ARN] })
    iam.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v1' } })
    iam
      .on(GetPolicyVersionCommand)
      .resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(doc(allow(THREE)))) } })
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
    const roles = new IamRoles(client)
    const report = await roles.logWriteGrants(await roles.readRole('orders-exec'), `${ORDERS}:*`)
    expect(report.method).toBe('simulation')
    expect(report.granted).toEqual(['logs:PutLogEvents'])
    expect(report.logGroupArn).toBe(ORDERS)
    expect(report.sources).toEqual([
      {
        kind: 'aws-managed',
        name: 'AWSLambdaBasicExecutionRole',
        arn: BASIC_ARN,
        allows: THREE,
        conditional: [],
        denies: []
      }
    ])
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)[0]?.args[0].input).toMatchObject({
      PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/orders-exec`,
      ActionNames: THREE
    })
  })

  it('falls back to static analysis when the simulator does not answer, and stops asking it', async () => {
    mockRole('orders-exec', { inline: { app: doc(allow('logs:*')) } })
    iam
      .on(SimulatePrincipalPolicyCommand)
      .rejects(Object.assign(new Error('not implemented'), { name: 'NotImplemented' }))
    const roles = new IamRoles(client)
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
    const roles = new IamRoles(client, { simulate: false })
    const report = await roles.logWriteGrants(await roles.readRole('orders-exec'), ORDERS)
    expect(report.granted).toEqual(THREE)
    expect(report.sources[0]).toMatchObject({ kind: 'customer-managed', unreadable: 'AccessDenied: denied' })
    expect(report.notes.join(' ')).toMatch(/could not be read/)
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(0)
  })
})
