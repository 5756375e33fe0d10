import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DeleteRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  UntagRoleCommand
} from '@aws-sdk/client-iam'
import { mockClient } from 'aws-sdk-client-mock'
import { mockedCalls, mockRole as mockIamRole } from '../../support/iamRoles.js'
import { IamRoles } from '../../../src/aws/iamRoles.js'
import { planDeny } from '../../../src/core/rolePlanning.js'
import { DENY_TAG, TAG_PREFIX } from '../../../src/core/roleRecord.js'
import { planUndo } from '../../../src/core/roleUndo.js'
import { RoleCoordinator } from '../../../src/run/roleCoordinator.js'
import type { InlinePolicy, ManagedDocument, RoleState } from '../../../src/core/roleModel.js'
import type { PolicyDocument, PolicyStatement } from '../../../src/core/iamPolicy.js'
import { DENY_POLICY_NAME } from '../../../src/core/logPermissions.js'
import {
  kmsKeyArnProblem,
  missingSecretAccess,
  viaServiceOf,
  requiredSecretActions,
  SECRET_POLICY_NAME,
  SECRET_POLICY_TAG,
  secretResourceOf
} from '../../../src/core/secretAccess.js'
import { mergeSecretPolicy, planSecretGrant, planSecretGrantUndo } from '../../../src/core/secretGrant.js'
import { findSecretReferences, type SecretReference } from '../../../src/core/secretReferences.js'

const ACCOUNT = '123456789012'
const OTHER = '210987654321'
const SM_FULL = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack/ingest-AbC123`
const SM_PARTIAL = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack-api-key`
const SM_PARTIAL_GRANT = `${SM_PARTIAL}-??????`
const SSM = `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/clickstack/api-key`
const KMS = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`

/** References exactly as config.ts collects them. */
const refs = (...values: string[]): SecretReference[] =>
  values.flatMap((value) => {
    const found = findSecretReferences(value, 'otlp-headers')
    if (found.problems.length > 0) throw new Error(found.problems.join('; '))
    return found.references
  })

const doc = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements })
const allow = (action: string | string[], resource: string | string[] = '*', extra: Partial<PolicyStatement> = {}): PolicyStatement => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
  ...extra
})
const deny = (action: string | string[], resource: string | string[] = '*', extra: Partial<PolicyStatement> = {}): PolicyStatement => ({
  Effect: 'Deny',
  Action: action,
  Resource: resource,
  ...extra
})
const inline = (name: string, document: PolicyDocument): InlinePolicy => ({ name, document, text: JSON.stringify(document) })
const attached = (arn: string) => ({ arn, name: arn.slice(arn.lastIndexOf('/') + 1) })

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
const SECRETS_MANAGER_READ_WRITE = doc(
  allow(['secretsmanager:*', 'cloudformation:CreateChangeSet', 'kms:DescribeKey', 'kms:ListAliases', 'kms:ListKeys'], '*', {
    Sid: 'BasePermissions'
  }),
  allow(['lambda:InvokeFunction'], 'arn:aws:lambda:*:*:function:SecretsManager*', { Sid: 'LambdaPermissions' })
)
const SMRW_ARN = 'arn:aws:iam::aws:policy/SecretsManagerReadWrite'

const verdicts = (report: ReturnType<typeof missingSecretAccess>) =>
  Object.fromEntries(report.decisions.map((d) => [`${d.action} ${d.resource}`, d.verdict]))

// ---------------------------------------------------------------------------------------------

describe('requiredSecretActions', () => {
  it('needs GetSecretValue on each secret, BatchGetSecretValue on *, GetParameters on each parameter, sorted', () => {
    const needs = requiredSecretActions(
      refs(`Authorization=\${${SSM}},x-a=\${${SM_FULL}#key},x-b=\${${SM_PARTIAL}}`, `secret://${SM_FULL}`)
    )
    expect(needs).toEqual([
      { action: 'secretsmanager:GetSecretValue', resource: SM_PARTIAL_GRANT, references: [SM_PARTIAL], account: ACCOUNT },
      { action: 'secretsmanager:GetSecretValue', resource: SM_FULL, references: [SM_FULL], account: ACCOUNT },
      { action: 'secretsmanager:BatchGetSecretValue', resource: '*', references: [SM_PARTIAL, SM_FULL].sort() },
      { action: 'ssm:GetParameters', resource: SSM, references: [SSM], account: ACCOUNT }
    ])
  })

  it('adds kms:Decrypt on the given key only when there is something to decrypt', () => {
    expect(requiredSecretActions(refs(`\${${SSM}}`), KMS).at(-1)).toEqual({
      action: 'kms:Decrypt',
      resource: KMS,
      references: [KMS],
      account: ACCOUNT,
      viaServices: ['ssm.eu-west-1.amazonaws.com']
    })
    // Through each service, in each region, that the references use; China's endpoints end in .cn.
    const both = requiredSecretActions(refs(`x=\${${SSM}},y=\${${SM_FULL}}`), KMS)
    expect(both.at(-1)?.viaServices).toEqual(['secretsmanager.us-east-1.amazonaws.com', 'ssm.eu-west-1.amazonaws.com'])
    expect(viaServiceOf({ arn: `arn:aws-cn:ssm:cn-north-1:${ACCOUNT}:parameter/key`, service: 'ssm' })).toBe(
      'ssm.cn-north-1.amazonaws.com.cn'
    )
    expect(requiredSecretActions([], KMS)).toEqual([])
    expect(requiredSecretActions(refs(`\${${SSM}}`), [KMS, ` ${KMS} `, ''])).toHaveLength(2)
  })

  it('refuses a KMS alias or anything that is not a key ARN, saying what to write', () => {
    const alias = `arn:aws:kms:us-east-1:${ACCOUNT}:alias/clickstack`
    expect(() => requiredSecretActions(refs(`\${${SSM}}`), alias)).toThrow(/alias ARN.*key ARN/)
    expect(kmsKeyArnProblem('1234abcd')).toMatch(/not a KMS key ARN/)
    expect(kmsKeyArnProblem(KMS)).toBeUndefined()
    expect(kmsKeyArnProblem(`arn:aws-cn:kms:cn-north-1:${ACCOUNT}:key/mrk-1234abcd`)).toBeUndefined()
  })

  it.each([
    // The random suffix present: the exact ARN. The #key is no part of it.
    [`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/key-a1B2c3`, `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/key-a1B2c3`],
    // Without it: exactly six more characters.
    [`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/key`, `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/key-??????`],
    [`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:key-abc12`, `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:key-abc12-??????`],
    // A name that ends like a suffix is taken as complete, as Secrets Manager takes it.
    [`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:ingest-secret`, `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:ingest-secret`],
    [`arn:aws-cn:secretsmanager:cn-north-1:${ACCOUNT}:secret:key`, `arn:aws-cn:secretsmanager:cn-north-1:${ACCOUNT}:secret:key-??????`],
    // A parameter /a/b is parameter/a/b in an ARN; a plain name as it is.
    [`arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/clickstack/api-key`, `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/clickstack/api-key`],
    [`arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter//clickstack/api-key`, `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/clickstack/api-key`],
    [`arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/api_key.v2`, `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/api_key.v2`]
  ])('grants %s as %s', (arn, resource) => {
    const [reference] = refs(`\${${arn}${arn.includes(':secretsmanager:') ? '#field' : ''}}`)
    if (!reference) throw new Error('no reference')
    expect(secretResourceOf(reference)).toBe(resource)
  })
})

// ---------------------------------------------------------------------------------------------

describe('missingSecretAccess', () => {
  const needs = requiredSecretActions(refs(`x=\${${SM_PARTIAL}},y=\${${SSM}}`), KMS)
  const analyse = (r: RoleState, managed: Map<string, ManagedDocument> = new Map()) => missingSecretAccess(r, managed, needs)

  it('names every missing action when nothing grants, with the policies looked at and the fix', () => {
    const report = analyse(role({ inline: [inline('app', doc(allow('s3:GetObject')))] }))
    expect(report.missing.map((m) => [m.action, m.resource, m.reason])).toEqual([
      ['secretsmanager:GetSecretValue', SM_PARTIAL_GRANT, 'not-allowed'],
      ['secretsmanager:BatchGetSecretValue', '*', 'not-allowed'],
      ['ssm:GetParameters', SSM, 'not-allowed'],
      ['kms:Decrypt', KMS, 'not-allowed']
    ])
    expect(report.examined).toEqual(['inline policy app'])
    expect(report.missing[0]?.examined).toEqual(['inline policy app'])
    expect(report.warnings).toHaveLength(1)
    expect(report.warnings[0]).toMatch(
      new RegExp(
        `^Role orders-exec does not allow secretsmanager:GetSecretValue on ${SM_PARTIAL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}-\\?{6}; ` +
          'secretsmanager:BatchGetSecretValue on \\*; ssm:GetParameters on .*; kms:Decrypt on .*fails at start-up.*grant-secret-access: true'
      )
    )
    expect(report.method).toBe('static')
  })

  it('is content with exact grants, and with a wildcard that covers every suffix', () => {
    const report = analyse(
      role({
        inline: [
          inline(
            'reads',
            doc(
              allow('secretsmanager:GetSecretValue', `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack-*`),
              allow('secretsmanager:BatchGetSecretValue', '*'),
              allow(['ssm:GetParameter', 'ssm:GetParameters'], `arn:aws:ssm:*:${ACCOUNT}:parameter/clickstack/*`),
              allow('kms:Decrypt', KMS)
            )
          )
        ]
      })
    )
    expect(report.missing).toEqual([])
    expect(report.warnings).toEqual([])
    expect(report.decisions.every((d) => d.verdict === 'allowed')).toBe(true)
    expect(report.decisions[0]?.allowedBy).toEqual(['inline policy reads statement #0'])
  })

  it.each([
    // `?` for each of the six suffix characters: every suffix.
    [`${SM_PARTIAL}-??????`, 'allowed'],
    [`arn:aws:secretsmanager:*:*:secret:clickstack-api-key-*`, 'allowed'],
    ['arn:aws:secretsmanager:us-east-1:*:secret:*', 'allowed'],
    ['*', 'allowed'],
    // One exact suffix: the grant holds only if it is this secret's.
    [`${SM_PARTIAL}-Xy12Zq`, 'conditional'],
    [`${SM_PARTIAL}-Xy*`, 'conditional'],
    // The name alone is not the secret's ARN: it never matches.
    [SM_PARTIAL, 'not-allowed'],
    [`${SM_PARTIAL}-?????`, 'not-allowed'],
    [`${SM_PARTIAL}-Xy12Z!`, 'not-allowed'],
    [`arn:aws:secretsmanager:us-west-2:${ACCOUNT}:secret:clickstack-api-key-*`, 'not-allowed'],
    [`arn:aws:secretsmanager:us-east-1:${OTHER}:secret:*`, 'not-allowed'],
    // A policy variable may or may not match.
    ['arn:aws:secretsmanager:us-east-1:${aws:PrincipalAccount}:secret:clickstack-*', 'conditional']
  ])('reads an Allow on %s for a secret named without its suffix as %s', (resource, verdict) => {
    const report = analyse(role({ inline: [inline('p', doc(allow('secretsmanager:GetSecretValue', resource)))] }))
    expect(verdicts(report)[`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]).toBe(verdict)
  })

  it('matches a full secret ARN exactly, or by wildcard; actions case-insensitively', () => {
    const full = requiredSecretActions(refs(`\${${SM_FULL}}`))
    const check = (resource: string) =>
      missingSecretAccess(role({ inline: [inline('p', doc(allow('SecretsManager:getSecretValue', resource)))] }), new Map(), full).decisions[0]
        ?.verdict
    expect(check(SM_FULL)).toBe('allowed')
    expect(check('arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack/*')).toBe('allowed')
    expect(check('arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack/ingest-??????')).toBe('allowed')
    expect(check('arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack/ingest')).toBe('not-allowed')
    expect(check('arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack/ingest-AbC124')).toBe('not-allowed')
  })

  it('needs BatchGetSecretValue on "*": a grant on the secret ARNs does not give it', () => {
    const report = analyse(
      role({ inline: [inline('p', doc(allow(['secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue'], `${SM_PARTIAL}-*`)))] })
    )
    expect(verdicts(report)[`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]).toBe('allowed')
    expect(verdicts(report)['secretsmanager:BatchGetSecretValue *']).toBe('not-allowed')
  })

  it('lets an unconditional Deny win over any Allow, and says grant-secret-access cannot help', () => {
    const report = analyse(
      role({
        attached: [attached('arn:aws:iam::aws:policy/AdministratorAccess')],
        inline: [inline('guard', doc(deny('secretsmanager:*', `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack-*`, { Sid: 'NoClickStack' })))]
      }),
      new Map([['arn:aws:iam::aws:policy/AdministratorAccess', { document: doc(allow('*')) }]])
    )
    expect(verdicts(report)).toEqual({
      [`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]: 'denied',
      'secretsmanager:BatchGetSecretValue *': 'allowed',
      [`ssm:GetParameters ${SSM}`]: 'allowed',
      [`kms:Decrypt ${KMS}`]: 'allowed'
    })
    expect(report.missing).toEqual([
      expect.objectContaining({ action: 'secretsmanager:GetSecretValue', reason: 'denied', deniedBy: ['inline policy guard statement NoClickStack'] })
    ])
    expect(report.warnings).toEqual([expect.stringMatching(/denies secretsmanager:GetSecretValue .*denied by inline policy guard statement NoClickStack.*narrow that Deny/)])
    expect(report.examined).toEqual(['inline policy guard', 'AWS managed policy AdministratorAccess'])
  })

  it('takes a Deny that may not apply (Condition, one suffix) as "may grant", and a conditional Allow too, with a note', () => {
    const conditionalDeny = analyse(
      role({
        inline: [
          inline(
            'p',
            doc(
              allow('*'),
              deny('ssm:GetParameters', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
              deny('secretsmanager:GetSecretValue', `${SM_PARTIAL}-Xy12Zq`)
            )
          )
        ]
      })
    )
    expect(verdicts(conditionalDeny)[`ssm:GetParameters ${SSM}`]).toBe('conditional')
    expect(verdicts(conditionalDeny)[`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]).toBe('conditional')
    expect(conditionalDeny.decisions[2]?.deniedBy).toEqual(['inline policy p statement #1 (conditional)'])
    expect(conditionalDeny.decisions[0]?.deniedBy).toEqual(['inline policy p statement #2 (may not cover it)'])
    expect(conditionalDeny.missing).toEqual([])

    const conditionalAllow = analyse(
      role({ inline: [inline('p', doc(allow('ssm:GetParameters', SSM, { Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } })))] })
    )
    expect(verdicts(conditionalAllow)[`ssm:GetParameters ${SSM}`]).toBe('conditional')
    expect(conditionalAllow.decisions[2]?.allowedBy).toEqual(['inline policy p statement #0 (conditional)'])
    expect(conditionalAllow.notes.join(' ')).toMatch(/counted as granting/)
  })

  it('reads NotResource and NotAction as IAM does', () => {
    const report = analyse(
      role({
        inline: [
          inline(
            'p',
            doc(
              // Everything but iam:* (PowerUserAccess' form): all four.
              { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*'], Resource: '*' },
              // Deny everything outside the ClickStack secrets: does not reach them, does reach the parameter.
              { Effect: 'Deny', Action: ['secretsmanager:GetSecretValue', 'ssm:GetParameters'], NotResource: [`arn:aws:secretsmanager:*:*:secret:clickstack-*`] }
            )
          )
        ]
      })
    )
    expect(verdicts(report)).toEqual({
      [`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]: 'allowed',
      'secretsmanager:BatchGetSecretValue *': 'allowed',
      [`ssm:GetParameters ${SSM}`]: 'denied',
      [`kms:Decrypt ${KMS}`]: 'allowed'
    })

    // An Allow with NotResource that excludes the secret's every suffix does not grant it; one that
    // excludes a single suffix may.
    const excluded = (notResource: string) =>
      verdicts(analyse(role({ inline: [inline('p', doc({ Effect: 'Allow', Action: 'secretsmanager:*', NotResource: notResource }))] })))[
        `secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`
      ]
    expect(excluded(`${SM_PARTIAL}-*`)).toBe('not-allowed')
    expect(excluded(`${SM_PARTIAL}-Xy12Zq`)).toBe('conditional')
    expect(excluded('arn:aws:secretsmanager:*:*:secret:other-*')).toBe('allowed')
  })

  it('reads AWS managed SecretsManagerReadWrite: Secrets Manager yes, Parameter Store and kms:Decrypt no', () => {
    const report = analyse(role({ attached: [attached(SMRW_ARN)] }), new Map([[SMRW_ARN, { document: SECRETS_MANAGER_READ_WRITE }]]))
    expect(verdicts(report)).toEqual({
      [`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]: 'allowed',
      'secretsmanager:BatchGetSecretValue *': 'allowed',
      [`ssm:GetParameters ${SSM}`]: 'not-allowed',
      [`kms:Decrypt ${KMS}`]: 'not-allowed'
    })
    expect(report.decisions[0]?.allowedBy).toEqual(['AWS managed policy SecretsManagerReadWrite statement BasePermissions'])
    expect(report.missing.map((m) => m.action)).toEqual(['ssm:GetParameters', 'kms:Decrypt'])
  })

  it('takes an unreadable customer-managed policy to grant, an unreadable AWS managed one by what it is known to grant', () => {
    const shared = `arn:aws:iam::${ACCOUNT}:policy/shared`
    const xray = 'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess'
    const unreadable = { error: 'AccessDenied: no' }
    const customer = analyse(role({ attached: [attached(shared)] }), new Map([[shared, unreadable]]))
    expect(customer.missing).toEqual([])
    expect(customer.decisions.every((d) => d.verdict === 'conditional')).toBe(true)
    expect(customer.decisions[0]?.allowedBy).toEqual([`customer-managed policy ${shared} (unreadable: AccessDenied: no) (may grant it)`])

    const aws = analyse(role({ attached: [attached(SMRW_ARN), attached(xray)] }), new Map([[SMRW_ARN, unreadable]]))
    expect(verdicts(aws)).toEqual({
      [`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]: 'conditional',
      'secretsmanager:BatchGetSecretValue *': 'conditional',
      [`ssm:GetParameters ${SSM}`]: 'not-allowed',
      [`kms:Decrypt ${KMS}`]: 'not-allowed'
    })
    expect(aws.examined).toEqual([
      'AWS managed policy SecretsManagerReadWrite (unreadable: AccessDenied: no)',
      'AWS managed policy AWSXRayDaemonWriteAccess (unreadable: not read)'
    ])
  })

  it('says that a secret in another account also needs its resource policy', () => {
    const foreign = requiredSecretActions(refs(`\${arn:aws:secretsmanager:us-east-1:${OTHER}:secret:shared-key-AbCdEf}`))
    const report = missingSecretAccess(role({ inline: [inline('p', doc(allow('secretsmanager:*')))] }), new Map(), foreign)
    expect(report.missing).toEqual([])
    expect(report.notes.join(' ')).toMatch(new RegExp(`account ${OTHER}: the secret's resource policy .*must also allow arn:aws:iam::${ACCOUNT}:role/orders-exec`))
  })
})

// ---------------------------------------------------------------------------------------------

describe('the inline policy', () => {
  const needs = requiredSecretActions(refs(`x=\${${SM_PARTIAL}},y=\${${SSM}},z=\${${SM_FULL}}`), KMS)
  const expected: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'RotelClickStackGetSecretValue', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [SM_PARTIAL_GRANT, SM_FULL] },
      { Sid: 'RotelClickStackBatchGetSecretValue', Effect: 'Allow', Action: ['secretsmanager:BatchGetSecretValue'], Resource: ['*'] },
      { Sid: 'RotelClickStackGetParameters', Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [SSM] },
      {
        Sid: 'RotelClickStackKmsDecrypt',
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: [KMS],
        Condition: { StringEquals: { 'kms:ViaService': ['secretsmanager.us-east-1.amazonaws.com', 'ssm.eu-west-1.amazonaws.com'] } }
      }
    ]
  }

  it('keeps the tag in the action\'s prefix, apart from the CloudWatch Logs record', () => {
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
    const done = role({ tags: { team: 'orders', [SECRET_POLICY_TAG]: SECRET_POLICY_NAME }, inline: [inline(SECRET_POLICY_NAME, expected)] })
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
        { Sid: 'RotelClickStackGetSecretValue', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: earlier },
        { Sid: 'RotelClickStackBatchGetSecretValue', Effect: 'Allow', Action: ['secretsmanager:BatchGetSecretValue'], Resource: ['*'] }
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
    expect(planned.added.map((n) => n.action)).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue', 'ssm:GetParameters', 'kms:Decrypt'])
    expect(planned.policy.before).toEqual(existing)
  })

  it('undo deletes the policy and the tag; keeps statements someone else added, and what `keep` names', () => {
    const granted = role({ tags: { team: 'orders', [SECRET_POLICY_TAG]: SECRET_POLICY_NAME }, inline: [inline(SECRET_POLICY_NAME, expected)] })
    const all = planSecretGrantUndo(granted)
    expect(all.plan).toEqual({ tags: { set: {}, remove: [SECRET_POLICY_TAG] }, attach: [], detach: [], put: [], delete: [SECRET_POLICY_NAME] })
    expect(all.policy).toEqual({ name: SECRET_POLICY_NAME, before: expected })

    const someone: PolicyStatement = { Sid: 'TheirOwn', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }
    const mixed = role({ ...granted, inline: [inline(SECRET_POLICY_NAME, { ...expected, Statement: [...(expected.Statement as PolicyStatement[]), someone] })] })
    expect(planSecretGrantUndo(mixed).plan).toMatchObject({
      tags: { remove: [SECRET_POLICY_TAG] },
      put: [{ name: SECRET_POLICY_NAME, text: JSON.stringify({ Version: '2012-10-17', Statement: [someone] }) }],
      delete: []
    })

    const keep = needs.filter((n) => n.action === 'ssm:GetParameters')
    const partial = planSecretGrantUndo(granted, keep)
    expect(partial.plan.tags.remove).toEqual([])
    expect(partial.policy?.after).toEqual({ Version: '2012-10-17', Statement: [(expected.Statement as PolicyStatement[])[2]] })

    expect(planSecretGrantUndo(role()).changed).toBe(false)
    expect(planSecretGrantUndo(role({ tags: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME } })).plan.tags.remove).toEqual([SECRET_POLICY_TAG])
  })

  it('after the reference moves, cuts the grant down to exactly the new needs: old secret, key and service gone', () => {
    const OTHER_KMS = KMS.replace('1234abcd', '9999ffff')
    const moved = requiredSecretActions(refs(`x=\${${SM_FULL}}`), OTHER_KMS)
    const granted = role({ tags: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME }, inline: [inline(SECRET_POLICY_NAME, expected)] })
    // Before the functions are written the grant only grows: a rolled-back function still reads its old secret.
    const grown = planSecretGrant(granted, moved).policy.after
    const grownRole = role({ ...granted, inline: [inline(SECRET_POLICY_NAME, grown)] })
    expect(JSON.stringify(grown)).toContain(SSM)
    const shrunk = planSecretGrantUndo(grownRole, moved)
    expect(shrunk.policy?.after).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RotelClickStackGetSecretValue', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [SM_FULL] },
        { Sid: 'RotelClickStackBatchGetSecretValue', Effect: 'Allow', Action: ['secretsmanager:BatchGetSecretValue'], Resource: ['*'] },
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
        { Sid: 'RotelClickStackKmsDecrypt', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [KMS], Condition: { Bool: { 'aws:SecureTransport': 'true' } } }
      ]
    }
    const held = role({ tags: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME }, inline: [inline(SECRET_POLICY_NAME, earlier)] })
    const kmsOf = (document: PolicyDocument | undefined): PolicyStatement | undefined =>
      (document?.Statement as PolicyStatement[]).find((statement) => statement.Sid === 'RotelClickStackKmsDecrypt')
    expect(kmsOf(planSecretGrant(held, needs).policy.after)?.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'true' } })
    const cut = planSecretGrantUndo(role({ ...held, inline: [inline(SECRET_POLICY_NAME, planSecretGrant(held, needs).policy.after)] }), needs)
    expect(kmsOf(cut.policy?.after)?.Condition).toEqual({
      Bool: { 'aws:SecureTransport': 'true' },
      StringEquals: { 'kms:ViaService': ['secretsmanager.us-east-1.amazonaws.com', 'ssm.eu-west-1.amazonaws.com'] }
    })
  })

  it('survives the CloudWatch Logs code on the same role: its apply and undo leave the secret tag alone', () => {
    const group = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/orders-api`
    const granted = role({ tags: { team: 'orders', [SECRET_POLICY_TAG]: SECRET_POLICY_NAME }, inline: [inline(SECRET_POLICY_NAME, expected)] })
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

// ---------------------------------------------------------------------------------------------
// The IAM edge against a mocked client

const iam = mockClient(IAMClient)
const client = new IAMClient({ region: 'us-east-1' })
const { names, writes } = mockedCalls(iam)

const mockRole = (roleName: string, options: Parameters<typeof mockIamRole>[3] = {}) => mockIamRole(iam, ACCOUNT, roleName, options)

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
    iam.on(PutRolePolicyCommand).rejects(Object.assign(new Error('not authorized to perform: iam:PutRolePolicy'), { name: 'AccessDenied' }))
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
    expect(change.warnings).toEqual([expect.stringMatching(/denies ssm:GetParameters .*inline policy guard statement #0/)])
  })

  it('refuses, before any write, a role without a free tag or without inline quota left', async () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, 'v']))
    mockRole('full-tags', { tags: fifty })
    // An inline policy just under IAM's 10,240 characters per role: the grant would cross it.
    const big = doc(allow('s3:GetObject', Array.from({ length: 355 }, (_, i) => `arn:aws:s3:::bucket-${i + 100}/*`)))
    expect(JSON.stringify(big).length).toBeGreaterThan(9_900)
    expect(JSON.stringify(big).length).toBeLessThan(10_240)
    mockRole('full-inline', { inline: { big } })
    const roles = new IamRoles(client)
    await expect(roles.grantSecretAccess(await roles.readRole('full-tags'), needs)).rejects.toMatchObject({
      name: 'RecordTooLargeError',
      message: expect.stringMatching(/at most 50\. Nothing was changed/)
    })
    await expect(roles.grantSecretAccess(await roles.readRole('full-inline'), needs)).rejects.toMatchObject({ name: 'InlineQuotaError' })
    expect(writes()).toEqual([])
  })

  it('checks with IAM\'s policy simulator for exact resources, statically for a secret without its suffix', async () => {
    mockRole('orders-exec', { inline: { p: doc(allow('secretsmanager:*', `${SM_PARTIAL}-*`)) } })
    iam.on(SimulatePrincipalPolicyCommand, { ActionNames: ['secretsmanager:BatchGetSecretValue'] }).resolves({
      EvaluationResults: [{ EvalActionName: 'secretsmanager:BatchGetSecretValue', EvalResourceName: '*', EvalDecision: 'implicitDeny' }],
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
      { PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/orders-exec`, ActionNames: ['secretsmanager:BatchGetSecretValue'], ResourceArns: ['*'] },
      { PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/orders-exec`, ActionNames: ['ssm:GetParameters'], ResourceArns: [SSM] }
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
      ContextEntries: [{ ContextKeyName: 'kms:ViaService', ContextKeyType: 'string' as const, ContextKeyValues: [service] }]
    })
    iam.on(SimulatePrincipalPolicyCommand, through('secretsmanager.us-east-1.amazonaws.com')).resolves(answer('allowed') as never)
    iam.on(SimulatePrincipalPolicyCommand, through('ssm.eu-west-1.amazonaws.com')).resolves(answer('implicitDeny') as never)
    const roles = new IamRoles(client)
    const report = await roles.secretAccessReport(await roles.readRole('orders-exec'), withKey)
    expect(verdicts(report)[`kms:Decrypt ${KMS}`]).toBe('not-allowed')
    const kmsCalls = iam.commandCalls(SimulatePrincipalPolicyCommand).filter((c) => c.args[0].input.ActionNames?.[0] === 'kms:Decrypt')
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
    expect(report.missing).toEqual([expect.objectContaining({ action: 'ssm:GetParameters', reason: 'denied', deniedBy: [] })])
    expect(report.warnings).toEqual([expect.stringContaining(`denies ssm:GetParameters on ${SSM} (explicitly denied)`)])
  })

  it('falls back to static analysis when the simulator does not answer, and stops asking it', async () => {
    mockRole('orders-exec', { attached: [SMRW_ARN] })
    iam.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v5' } })
    iam.on(GetPolicyVersionCommand).resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(SECRETS_MANAGER_READ_WRITE)) } })
    iam.on(SimulatePrincipalPolicyCommand).rejects(Object.assign(new Error('not implemented'), { name: 'NotImplemented' }))
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
    mockRole('orders-exec', { tags: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME }, inline: { [SECRET_POLICY_NAME]: mergeSecretPolicy(undefined, needs) } })
    iam.on(DeleteRolePolicyCommand).rejects(Object.assign(new Error('gone'), { name: 'NoSuchEntityException' }))
    const roles = new IamRoles(client)
    const undone = await roles.undoSecretGrant(await roles.readRole('orders-exec'))
    expect(writes()).toEqual(['DeleteRolePolicyCommand', 'UntagRoleCommand'])
    expect(iam.commandCalls(UntagRoleCommand)[0]?.args[0].input).toEqual({ RoleName: 'orders-exec', TagKeys: [SECRET_POLICY_TAG] })
    expect(undone).toMatchObject({ changed: true, tagsRemoved: [SECRET_POLICY_TAG] })
    expect(undone.after.inline).toEqual([])
    expect(undone.after.tags).toEqual({})
  })
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
    expect(iam.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input.PolicyName)).toEqual([DENY_POLICY_NAME, SECRET_POLICY_NAME])
    // The state the coordinator keeps for the role: the one after its last task.
    const state = secretsB.ok ? secretsB.value.grant?.after : undefined
    expect(state?.tags).toEqual({ team: 'orders', [DENY_TAG]: DENY_POLICY_NAME, [SECRET_POLICY_TAG]: SECRET_POLICY_NAME })
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
    iam.on(PutRolePolicyCommand).rejects(Object.assign(new Error('not authorized to perform: iam:PutRolePolicy'), { name: 'AccessDenied' }))
    const coordinator = new RoleCoordinator(new IamRoles(client, { simulate: false }))
    const outcome = await coordinator.secretAccessForRole('shared', needs, 'grant')
    expect(outcome).toEqual({ ok: false, error: expect.stringMatching(/may not change execution role shared: .*permissions that grant-secret-access needs/) })
    expect(await coordinator.secretAccessForRole('arn:aws:iam::1:user/x', needs, 'grant')).toMatchObject({ ok: false, error: expect.stringMatching(/not an IAM role ARN/) })
  })

  it('undoes on the kept state, serialised with the rest', async () => {
    mockRole('shared', { tags: { [SECRET_POLICY_TAG]: SECRET_POLICY_NAME }, inline: { [SECRET_POLICY_NAME]: mergeSecretPolicy(undefined, needs) } })
    const coordinator = new RoleCoordinator(new IamRoles(client, { simulate: false }))
    const [first, second] = await Promise.all([coordinator.undoSecretGrantFor('shared'), coordinator.undoSecretGrantFor('shared')])
    expect(first.ok && first.value.changed).toBe(true)
    expect(second.ok && second.value.changed).toBe(false)
    expect(writes()).toEqual(['DeleteRolePolicyCommand', 'UntagRoleCommand'])
    expect(iam.commandCalls(GetRoleCommand)).toHaveLength(1)
  })
})
