/**
 * grant-secret-access against moto's IAM: the inline policy and its tag put on a real role, read back
 * and compared exactly; a second run writes nothing; a later run adds without dropping; remove puts
 * the role back exactly as it was; and a role that CloudWatch Logs off also writes in the same run is
 * read once and keeps both changes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { AttachRolePolicyCommand, CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam'
import { ACCOUNT_ID, resetEmulator } from '../../scripts/emulator-fixtures.mjs'
import { IamRoles } from '../../src/aws/iamRoles.js'
import { DENY_TAG } from '../../src/core/roleRecord.js'
import { RoleCoordinator } from '../../src/run/roleCoordinator.js'
import type { PolicyDocument } from '../../src/core/iamPolicy.js'
import { basicExecutionPolicyArn, DENY_POLICY_NAME, denyPolicyFor } from '../../src/core/logPermissions.js'
import { requiredSecretActions, SECRET_POLICY_NAME, SECRET_POLICY_TAG } from '../../src/core/secretAccess.js'
import { findSecretReferences } from '../../src/core/secretReferences.js'
import { recordingIamClient, snapshotRole } from '../support/iamRoles.js'
import { freePort, startEmulator, stopEmulator } from './harness.js'

let port = 0
let endpoint = ''
const REGION = 'us-east-1'
const credentials = () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' })
const BASIC = basicExecutionPolicyArn()
const SMRW = 'arn:aws:iam::aws:policy/SecretsManagerReadWrite'
const SM_PARTIAL = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:clickstack-api-key`
const SM_FULL = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:clickstack/ingest-AbC123`
const SSM = `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter/clickstack/api-key`
const KMS = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]
})

/** The needs of settings as config.ts collects their references. */
function needsOf(value: string, kms?: string) {
  const { references, problems } = findSecretReferences(value, 'otlp-headers')
  expect(problems).toEqual([])
  return requiredSecretActions(references, kms)
}

/** An IAM client that records every command it sends. */
const countingIam = () => recordingIamClient(endpoint)

let admin: IAMClient

/** The role as IAM lists it, read independently of the code under test (its path aside). */
async function snapshot(roleName: string) {
  const { path: _path, ...role } = await snapshotRole(admin, roleName)
  return role
}

async function createRole(
  name: string,
  options: { tags?: Record<string, string>; attach?: string[]; inline?: Record<string, PolicyDocument> }
) {
  await admin.send(
    new CreateRoleCommand({
      RoleName: name,
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

const app: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]
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

describe('grant-secret-access', () => {
  it('warns, grants exactly, writes nothing the second time, and remove puts the role back as it was', async () => {
    await createRole('ingest-exec', { tags: { team: 'orders' }, attach: [BASIC], inline: { app } })
    const before = await snapshot('ingest-exec')
    const needs = needsOf(`Authorization=\${${SM_PARTIAL}},x-team=\${${SSM}},x-b=\${${SM_FULL}#key}`, KMS)

    // false: the check names every missing action (moto has no policy simulator: static analysis).
    const run = countingIam()
    const coordinator = new RoleCoordinator(new IamRoles(run.client))
    const check = await coordinator.secretAccessForRole('ingest-exec', needs, 'check')
    if (!check.ok) throw new Error(check.error)
    expect(check.value.report.method).toBe('static')
    expect(check.value.report.notes[0]).toMatch(/simulator did not answer/)
    expect(check.value.report.missing.map((m) => [m.action, m.resource, m.reason])).toEqual([
      ['secretsmanager:GetSecretValue', `${SM_PARTIAL}-??????`, 'not-allowed'],
      ['secretsmanager:GetSecretValue', SM_FULL, 'not-allowed'],
      ['secretsmanager:BatchGetSecretValue', '*', 'not-allowed'],
      ['ssm:GetParameters', SSM, 'not-allowed'],
      ['kms:Decrypt', KMS, 'not-allowed']
    ])
    expect(check.value.report.examined).toEqual(['inline policy app', 'AWS managed policy AWSLambdaBasicExecutionRole'])
    expect(check.value.report.warnings).toEqual([
      expect.stringMatching(/^Role ingest-exec does not allow .*grant-secret-access: true/)
    ])
    expect(run.writes()).toEqual([])

    // true: the tag, then the policy; the same run's state, not a second read.
    const grant = await coordinator.secretAccessForRole('ingest-exec', needs, 'grant')
    if (!grant.ok) throw new Error(grant.error)
    expect(grant.value.grant?.changed).toBe(true)
    expect(grant.value.report.missing).toEqual([])
    expect(run.writes()).toEqual(['PutRolePolicyCommand', 'TagRoleCommand'])
    expect(run.calls.filter((c) => c === 'GetRoleCommand')).toHaveLength(1)
    const granted = await snapshot('ingest-exec')
    expect(granted).toEqual({
      ...before,
      tags: { team: 'orders', [SECRET_POLICY_TAG]: SECRET_POLICY_NAME },
      inline: {
        app,
        [SECRET_POLICY_NAME]: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'RotelClickStackGetSecretValue',
              Effect: 'Allow',
              Action: ['secretsmanager:GetSecretValue'],
              Resource: [`${SM_PARTIAL}-??????`, SM_FULL]
            },
            {
              Sid: 'RotelClickStackBatchGetSecretValue',
              Effect: 'Allow',
              Action: ['secretsmanager:BatchGetSecretValue'],
              Resource: ['*']
            },
            { Sid: 'RotelClickStackGetParameters', Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [SSM] },
            {
              Sid: 'RotelClickStackKmsDecrypt',
              Effect: 'Allow',
              Action: ['kms:Decrypt'],
              Resource: [KMS],
              Condition: {
                StringEquals: {
                  'kms:ViaService': [`secretsmanager.${REGION}.amazonaws.com`, `ssm.${REGION}.amazonaws.com`]
                }
              }
            }
          ]
        }
      }
    })
    // What the run kept (the state after the grant, which the coordinator goes on from) is what IAM has.
    expect(grant.value.grant?.after.inline.find((p) => p.name === SECRET_POLICY_NAME)?.document).toEqual(
      granted.inline[SECRET_POLICY_NAME]
    )

    // A second run reads the role, finds the policy covering, writes nothing; its check finds nothing missing.
    const second = countingIam()
    const again = new RoleCoordinator(new IamRoles(second.client, { simulate: false }))
    const regrant = await again.secretAccessForRole(`arn:aws:iam::${ACCOUNT_ID}:role/ingest-exec`, needs, 'grant')
    expect(regrant.ok && regrant.value.grant?.changed).toBe(false)
    expect(second.writes()).toEqual([])
    const recheck = await again.secretAccessForRole('ingest-exec', needs, 'check')
    expect(recheck.ok && recheck.value.report.missing).toEqual([])
    expect(await snapshot('ingest-exec')).toEqual(granted)

    // remove: the policy, then the tag; the role exactly as before. A second remove does nothing.
    const remove = countingIam()
    const undone = await new RoleCoordinator(new IamRoles(remove.client)).undoSecretGrantFor('ingest-exec')
    expect(undone.ok && undone.value.changed).toBe(true)
    expect(remove.writes()).toEqual(['DeleteRolePolicyCommand', 'UntagRoleCommand'])
    expect(await snapshot('ingest-exec')).toEqual(before)
    const removeAgain = countingIam()
    await new RoleCoordinator(new IamRoles(removeAgain.client)).undoSecretGrantFor('ingest-exec')
    expect(removeAgain.writes()).toEqual([])
  })

  it('after the reference moves: grows before the functions are written, then holds exactly the new secret and key', async () => {
    await createRole('ingest-exec', { tags: { team: 'orders' }, inline: { app } })
    const before = await snapshot('ingest-exec')
    const OTHER_KMS = KMS.replace('1234abcd', '5678efab')
    const first = needsOf(`Authorization=\${${SSM}}`, KMS)
    const moved = needsOf(`Authorization=\${${SM_FULL}}`, OTHER_KMS)
    await new RoleCoordinator(new IamRoles(countingIam().client, { simulate: false })).secretAccessForRole(
      'ingest-exec',
      first,
      'grant'
    )

    // The next apply: one coordinator, as in a run – the grant before the writes, the cut after them.
    const run = countingIam()
    const coordinator = new RoleCoordinator(new IamRoles(run.client, { simulate: false }))
    await coordinator.secretAccessForRole('ingest-exec', moved, 'grant')
    const grown = JSON.stringify((await snapshot('ingest-exec')).inline[SECRET_POLICY_NAME])
    for (const arn of [SSM, KMS, SM_FULL, OTHER_KMS]) expect(grown).toContain(arn)
    const cut = await coordinator.undoSecretGrantFor('ingest-exec', moved)
    if (!cut.ok) throw new Error(cut.error)
    expect(cut.value.dropped).toEqual([
      `ssm:GetParameters on ${SSM}`,
      `kms:Decrypt on ${KMS}`,
      `kms:ViaService ssm.${REGION}.amazonaws.com`
    ])
    const after = await snapshot('ingest-exec')
    const policy = after.inline[SECRET_POLICY_NAME]
    expect(JSON.stringify(policy)).not.toContain(SSM)
    expect(JSON.stringify(policy)).not.toContain(KMS)
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RotelClickStackGetSecretValue',
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue'],
          Resource: [SM_FULL]
        },
        {
          Sid: 'RotelClickStackBatchGetSecretValue',
          Effect: 'Allow',
          Action: ['secretsmanager:BatchGetSecretValue'],
          Resource: ['*']
        },
        {
          Sid: 'RotelClickStackKmsDecrypt',
          Effect: 'Allow',
          Action: ['kms:Decrypt'],
          Resource: [OTHER_KMS],
          Condition: { StringEquals: { 'kms:ViaService': [`secretsmanager.${REGION}.amazonaws.com`] } }
        }
      ]
    })
    expect(run.writes()).toEqual(['PutRolePolicyCommand', 'PutRolePolicyCommand'])
    expect(run.calls.filter((c) => c === 'GetRoleCommand')).toHaveLength(1)

    // The same run again: exact already, nothing written.
    const again = countingIam()
    const second = new RoleCoordinator(new IamRoles(again.client, { simulate: false }))
    await second.secretAccessForRole('ingest-exec', moved, 'grant')
    await second.undoSecretGrantFor('ingest-exec', moved)
    expect(again.writes()).toEqual([])

    // No reference any more: the policy and its tag go, the role is as it was.
    await new RoleCoordinator(new IamRoles(countingIam().client)).undoSecretGrantFor('ingest-exec', [])
    expect(await snapshot('ingest-exec')).toEqual(before)
  })

  it("the grant before the writes only adds: a later run's secret beside the earlier one (a rolled-back function may need it)", async () => {
    await createRole('ingest-exec', {})
    const first = needsOf(`Authorization=\${${SM_FULL}}`)
    const later = needsOf(`Authorization=\${${SSM}}`)
    await new RoleCoordinator(new IamRoles(countingIam().client, { simulate: false })).secretAccessForRole(
      'ingest-exec',
      first,
      'grant'
    )
    const run = countingIam()
    await new RoleCoordinator(new IamRoles(run.client, { simulate: false })).secretAccessForRole(
      'ingest-exec',
      later,
      'grant'
    )
    expect(run.writes()).toEqual(['PutRolePolicyCommand'])
    expect((await snapshot('ingest-exec')).inline[SECRET_POLICY_NAME]).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RotelClickStackGetSecretValue',
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue'],
          Resource: [SM_FULL]
        },
        {
          Sid: 'RotelClickStackBatchGetSecretValue',
          Effect: 'Allow',
          Action: ['secretsmanager:BatchGetSecretValue'],
          Resource: ['*']
        },
        { Sid: 'RotelClickStackGetParameters', Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [SSM] }
      ]
    })
  })

  it('reads AWS managed SecretsManagerReadWrite from IAM, and shares a role with CloudWatch Logs off in one run', async () => {
    await createRole('shared-exec', { tags: { team: 'orders' }, attach: [SMRW] })
    const before = await snapshot('shared-exec')
    const needs = needsOf(`Authorization=\${${SM_PARTIAL}},x-team=\${${SSM}}`)
    const group = `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/lambda/orders-api`

    const run = countingIam()
    const coordinator = new RoleCoordinator(new IamRoles(run.client, { simulate: false }))
    coordinator.plan({ key: 'orders-api', role: `arn:aws:iam::${ACCOUNT_ID}:role/shared-exec`, logGroupArn: group })
    const check = await coordinator.secretAccessForRole(`arn:aws:iam::${ACCOUNT_ID}:role/shared-exec`, needs, 'check')
    if (!check.ok) throw new Error(check.error)
    expect(check.value.report.missing.map((m) => m.action)).toEqual(['ssm:GetParameters'])
    expect(check.value.report.decisions[0]?.allowedBy).toEqual([
      'AWS managed policy SecretsManagerReadWrite statement BasePermissions'
    ])

    // Both features on the same role at once: one read, both written, neither lost.
    const [logs, secrets] = await Promise.all([
      coordinator.applyFor('orders-api', 'deny'),
      coordinator.secretAccessForRole(`arn:aws:iam::${ACCOUNT_ID}:role/shared-exec`, needs, 'grant')
    ])
    expect(logs.ok && secrets.ok).toBe(true)
    expect(run.calls.filter((c) => c === 'GetRoleCommand')).toHaveLength(1)
    const both = await snapshot('shared-exec')
    expect(both.tags).toEqual({ team: 'orders', [DENY_TAG]: DENY_POLICY_NAME, [SECRET_POLICY_TAG]: SECRET_POLICY_NAME })
    expect(Object.keys(both.inline)).toEqual([DENY_POLICY_NAME, SECRET_POLICY_NAME].sort())
    expect(both.inline[DENY_POLICY_NAME]).toEqual(denyPolicyFor([group]))

    // remove of CloudWatch Logs off leaves the secret grant and its tag; then remove of that: as before.
    const undo = new RoleCoordinator(new IamRoles(countingIam().client))
    undo.plan({ key: 'orders-api', role: 'shared-exec', logGroupArn: group })
    await undo.undoFor(['orders-api'])
    const logsUndone = await snapshot('shared-exec')
    expect(logsUndone.tags).toEqual({ team: 'orders', [SECRET_POLICY_TAG]: SECRET_POLICY_NAME })
    expect(Object.keys(logsUndone.inline)).toEqual([SECRET_POLICY_NAME])
    await undo.undoSecretGrantFor('shared-exec')
    expect(await snapshot('shared-exec')).toEqual(before)
  })
})
