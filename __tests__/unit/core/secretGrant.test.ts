import { describe, expect, it } from '@jest/globals'
import { planDeny } from '../../../src/core/rolePlanning.js'
import { DENY_TAG, TAG_PREFIX } from '../../../src/core/roleRecord.js'
import { planUndo } from '../../../src/core/roleUndo.js'
import type { InlinePolicy, RoleState } from '../../../src/core/roleModel.js'
import type { PolicyDocument, PolicyStatement } from '../../../src/core/iamPolicy.js'
import { DENY_POLICY_NAME } from '../../../src/core/logPermissions.js'
import {
  missingSecretAccess,
  requiredSecretActions,
  SECRET_POLICY_NAME,
  SECRET_POLICY_TAG
} from '../../../src/core/secretAccess.js'
import { mergeSecretPolicy, planSecretGrant, planSecretGrantUndo } from '../../../src/core/secretGrant.js'
import { ACCOUNT, SM_FULL, SM_PARTIAL, SM_PARTIAL_GRANT, SSM, KMS, refs } from '../../support/secretFixtures.js'

const inline = (name: string, document: PolicyDocument): InlinePolicy => ({
  name,
  document,
  text: JSON.stringify(document)
})

function role(partial: Partial<RoleState> = {}): RoleState {
  return {
    name: 'orders-exec',
    arn: `arn:aws:iam::${ACCOUNT}:role/orders-exec`,
    partition: 'aws',
    account: ACCOUNT,
    tags: { team: 'orders' },
    attached: [],
    inline: [],
    ...partial
  }
}

/** SecretsManagerReadWrite's BasePermissions statement as AWS publishes it (v5, abridged to its secret/KMS actions). */

describe('the inline policy', () => {
  const needs = requiredSecretActions(refs(`x=\${${SM_PARTIAL}},y=\${${SSM}},z=\${${SM_FULL}}`), KMS)
  const expected: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RotelClickStackGetSecretValue',
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: [SM_PARTIAL_GRANT, SM_FULL]
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
          StringEquals: { 'kms:ViaService': ['secretsmanager.us-east-1.amazonaws.com', 'ssm.eu-west-1.amazonaws.com'] }
        }
      }
    ]
  }

  it("keeps the tag in the action's prefix, apart from the CloudWatch Logs record", () => {
    expect(SECRET_POLICY_TAG.startsWith(TAG_PREFIX)).toBe(true)
    expect(SECRET_POLICY_TAG).not.toBe(DENY_TAG)
  })

  it('puts exactly the needed resources, one statement per action, and records the policy in a tag', () => {
    const planned = planSecretGrant(role(), needs)
    expect(planned.plan).toEqual({
      tags: { set: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME }, remove: [] },
      attach: [],
      detach: [],
      put: [{ name: SECRET_POLICY_NAME, text: JSON.stringify(expected) }],
      delete: []
    })
    expect(planned.policy).toEqual({ name: SECRET_POLICY_NAME, after: expected })
    expect(planned.added).toEqual(needs)
    expect(planned.changed).toBe(true)
    // What it puts grants every need.
    const after = role({ inline: [inline(SECRET_POLICY_NAME, expected)] })
    // kms:Decrypt only through the services: a Condition, which static analysis counts as granting.
    expect(missingSecretAccess(after, new Map(), needs).decisions.map((d) => d.verdict)).toEqual(
      needs.map((need) => (need.action === 'kms:Decrypt' ? 'conditional' : 'allowed'))
    )
  })

  it('is deterministic: the same document whatever the order of the references', () => {
    const reversed = requiredSecretActions(refs(`z=\${${SM_FULL}},y=\${${SSM}},x=\${${SM_PARTIAL}}`), KMS)
    expect(planSecretGrant(role(), [...reversed].reverse()).plan.put).toEqual(planSecretGrant(role(), needs).plan.put)
  })

  it('writes nothing when the policy already holds the needs and the tag is there', () => {
    const done = role({
      tags: { team: 'orders', [SECRET_POLICY_TAG]: SECRET_POLICY_NAME },
      inline: [inline(SECRET_POLICY_NAME, expected)]
    })
    const planned = planSecretGrant(done, needs)
    expect(planned.changed).toBe(false)
    expect(planned.plan).toEqual({ tags: { set: {}, remove: [] }, attach: [], detach: [], put: [], delete: [] })
    expect(planned.added).toEqual([])
    // A subset of what it holds: nothing either.
    expect(planSecretGrant(done, needs.slice(0, 2)).changed).toBe(false)
  })

  it('puts the tag back alone when someone removed it', () => {
    const planned = planSecretGrant(role({ inline: [inline(SECRET_POLICY_NAME, expected)] }), needs)
    expect(planned.plan.put).toEqual([])
    expect(planned.plan.tags.set).toEqual({ [SECRET_POLICY_TAG]: SECRET_POLICY_NAME })
  })

  it('merges with an earlier run: never drops a resource, keeps statements and actions someone added', () => {
    const earlier = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:old-key-ZZZZZZ`
    const someone: PolicyStatement = { Sid: 'TheirOwn', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }
    const existing: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        someone,
        {
          Sid: 'RotelClickStackGetSecretValue',
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: earlier
        },
        {
          Sid: 'RotelClickStackBatchGetSecretValue',
          Effect: 'Allow',
          Action: ['secretsmanager:BatchGetSecretValue'],
          Resource: ['*']
        }
      ]
    }
    const merged = mergeSecretPolicy(existing, needs)
    expect(merged).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RotelClickStackGetSecretValue',
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: [SM_PARTIAL_GRANT, SM_FULL, earlier]
        },
        expected.Statement && (expected.Statement as PolicyStatement[])[1],
        (expected.Statement as PolicyStatement[])[2],
        (expected.Statement as PolicyStatement[])[3],
        someone
      ]
    })
    // Merging the result again changes nothing: idempotent.
    expect(mergeSecretPolicy(merged, needs)).toEqual(merged)
    const planned = planSecretGrant(role({ inline: [inline(SECRET_POLICY_NAME, existing)] }), needs)
    expect(planned.added.map((n) => n.action)).toEqual([
      'secretsmanager:GetSecretValue',
      'secretsmanager:GetSecretValue',
      'ssm:GetParameters',
      'kms:Decrypt'
    ])
    expect(planned.policy.before).toEqual(existing)
  })

  it('undo deletes the policy and the tag; keeps statements someone else added, and what `keep` names', () => {
    const granted = role({
      tags: { team: 'orders', [SECRET_POLICY_TAG]: SECRET_POLICY_NAME },
      inline: [inline(SECRET_POLICY_NAME, expected)]
    })
    const all = planSecretGrantUndo(granted)
    expect(all.plan).toEqual({
      tags: { set: {}, remove: [SECRET_POLICY_TAG] },
      attach: [],
      detach: [],
      put: [],
      delete: [SECRET_POLICY_NAME]
    })
    expect(all.policy).toEqual({ name: SECRET_POLICY_NAME, before: expected })

    const someone: PolicyStatement = { Sid: 'TheirOwn', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }
    const mixed = role({
      ...granted,
      inline: [
        inline(SECRET_POLICY_NAME, { ...expected, Statement: [...(expected.Statement as PolicyStatement[]), someone] })
      ]
    })
    expect(planSecretGrantUndo(mixed).plan).toMatchObject({
      tags: { remove: [SECRET_POLICY_TAG] },
      put: [{ name: SECRET_POLICY_NAME, text: JSON.stringify({ Version: '2012-10-17', Statement: [someone] }) }],
      delete: []
    })

    const keep = needs.filter((n) => n.action === 'ssm:GetParameters')
    const partial = planSecretGrantUndo(granted, keep)
    expect(partial.plan.tags.remove).toEqual([])
    expect(partial.policy?.after).toEqual({
      Version: '2012-10-17',
      Statement: [(expected.Statement as PolicyStatement[])[2]]
    })

    expect(planSecretGrantUndo(role()).changed).toBe(false)
    expect(planSecretGrantUndo(role({ tags: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME } })).plan.tags.remove).toEqual([
      SECRET_POLICY_TAG
    ])
  })

  it('after the reference moves, cuts the grant down to exactly the new needs: old secret, key and service gone', () => {
    const OTHER_KMS = KMS.replace('1234abcd', '9999ffff')
    const moved = requiredSecretActions(refs(`x=\${${SM_FULL}}`), OTHER_KMS)
    const granted = role({
      tags: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME },
      inline: [inline(SECRET_POLICY_NAME, expected)]
    })
    // Before the functions are written the grant only grows: a rolled-back function still reads its old secret.
    const grown = planSecretGrant(granted, moved).policy.after
    const grownRole = role({ ...granted, inline: [inline(SECRET_POLICY_NAME, grown)] })
    expect(JSON.stringify(grown)).toContain(SSM)
    const shrunk = planSecretGrantUndo(grownRole, moved)
    expect(shrunk.policy?.after).toEqual({
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
          Condition: { StringEquals: { 'kms:ViaService': ['secretsmanager.us-east-1.amazonaws.com'] } }
        }
      ]
    })
    expect(shrunk.dropped).toEqual([
      `secretsmanager:GetSecretValue on ${SM_PARTIAL_GRANT}`,
      `ssm:GetParameters on ${SSM}`,
      `kms:Decrypt on ${KMS}`,
      'kms:ViaService ssm.eu-west-1.amazonaws.com'
    ])
    expect(shrunk.plan.tags.remove).toEqual([])
    // Exact already: nothing to write, the second time.
    const exact = role({ ...granted, inline: [inline(SECRET_POLICY_NAME, shrunk.policy?.after as PolicyDocument)] })
    expect(planSecretGrantUndo(exact, moved).changed).toBe(false)
    expect(planSecretGrant(exact, moved).changed).toBe(false)
    // Nothing needed any more: the policy and its tag go.
    const none = planSecretGrantUndo(exact, [])
    expect(none.plan).toMatchObject({ delete: [SECRET_POLICY_NAME], tags: { remove: [SECRET_POLICY_TAG] } })
  })

  it('limits kms:Decrypt of an earlier grant without a condition only when cutting it down, keeping other conditions', () => {
    const earlier: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RotelClickStackKmsDecrypt',
          Effect: 'Allow',
          Action: ['kms:Decrypt'],
          Resource: [KMS],
          Condition: { Bool: { 'aws:SecureTransport': 'true' } }
        }
      ]
    }
    const held = role({
      tags: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME },
      inline: [inline(SECRET_POLICY_NAME, earlier)]
    })
    const kmsOf = (document: PolicyDocument | undefined): PolicyStatement | undefined =>
      (document?.Statement as PolicyStatement[]).find((statement) => statement.Sid === 'RotelClickStackKmsDecrypt')
    expect(kmsOf(planSecretGrant(held, needs).policy.after)?.Condition).toEqual({
      Bool: { 'aws:SecureTransport': 'true' }
    })
    const cut = planSecretGrantUndo(
      role({ ...held, inline: [inline(SECRET_POLICY_NAME, planSecretGrant(held, needs).policy.after)] }),
      needs
    )
    expect(kmsOf(cut.policy?.after)?.Condition).toEqual({
      Bool: { 'aws:SecureTransport': 'true' },
      StringEquals: { 'kms:ViaService': ['secretsmanager.us-east-1.amazonaws.com', 'ssm.eu-west-1.amazonaws.com'] }
    })
  })

  it('survives the CloudWatch Logs code on the same role: its apply and undo leave the secret tag alone', () => {
    const group = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/orders-api`
    const granted = role({
      tags: { team: 'orders', [SECRET_POLICY_TAG]: SECRET_POLICY_NAME },
      inline: [inline(SECRET_POLICY_NAME, expected)]
    })
    const denied = planDeny(granted, [group])
    expect(denied.plan.tags.remove).toEqual([])
    expect(denied.change.after.tags[SECRET_POLICY_TAG]).toBe(SECRET_POLICY_NAME)
    const undone = planUndo(denied.change.after)
    expect(undone.plan.tags.remove).toEqual([DENY_TAG])
    expect(undone.plan.delete).toEqual([DENY_POLICY_NAME])
    expect(undone.result.after.tags).toEqual(granted.tags)
    expect(undone.result.after.inline.map((p) => p.name)).toEqual([SECRET_POLICY_NAME])
  })
})
