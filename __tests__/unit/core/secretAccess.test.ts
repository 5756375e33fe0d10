import { describe, expect, it } from '@jest/globals'
import type { InlinePolicy, ManagedDocument, RoleState } from '../../../src/core/roleModel.js'
import type { PolicyDocument } from '../../../src/core/iamPolicy.js'
import {
  kmsKeyArnProblem,
  missingSecretAccess,
  viaServiceOf,
  requiredSecretActions,
  secretResourceOf
} from '../../../src/core/secretAccess.js'
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

const OTHER = '210987654321'

const inline = (name: string, document: PolicyDocument): InlinePolicy => ({
  name,
  document,
  text: JSON.stringify(document)
})
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

describe('requiredSecretActions', () => {
  it('needs GetSecretValue on each secret, BatchGetSecretValue on *, GetParameters on each parameter, sorted', () => {
    const needs = requiredSecretActions(
      refs(`Authorization=\${${SSM}},x-a=\${${SM_FULL}#key},x-b=\${${SM_PARTIAL}}`, `secret://${SM_FULL}`)
    )
    expect(needs).toEqual([
      {
        action: 'secretsmanager:GetSecretValue',
        resource: SM_PARTIAL_GRANT,
        references: [SM_PARTIAL],
        account: ACCOUNT
      },
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
    [
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/key-a1B2c3`,
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/key-a1B2c3`
    ],
    // Without it: exactly six more characters.
    [
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/key`,
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/key-??????`
    ],
    [
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:key-abc12`,
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:key-abc12-??????`
    ],
    // A name that ends like a suffix is taken as complete, as Secrets Manager takes it.
    [
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:ingest-secret`,
      `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:ingest-secret`
    ],
    [
      `arn:aws-cn:secretsmanager:cn-north-1:${ACCOUNT}:secret:key`,
      `arn:aws-cn:secretsmanager:cn-north-1:${ACCOUNT}:secret:key-??????`
    ],
    // A parameter /a/b is parameter/a/b in an ARN; a plain name as it is.
    [
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/clickstack/api-key`,
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/clickstack/api-key`
    ],
    [
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter//clickstack/api-key`,
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/clickstack/api-key`
    ],
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
  const analyse = (r: RoleState, managed: Map<string, ManagedDocument> = new Map()) =>
    missingSecretAccess(r, managed, needs)

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
      missingSecretAccess(
        role({ inline: [inline('p', doc(allow('SecretsManager:getSecretValue', resource)))] }),
        new Map(),
        full
      ).decisions[0]?.verdict
    expect(check(SM_FULL)).toBe('allowed')
    expect(check('arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack/*')).toBe('allowed')
    expect(check('arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack/ingest-??????')).toBe('allowed')
    expect(check('arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack/ingest')).toBe('not-allowed')
    expect(check('arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack/ingest-AbC124')).toBe('not-allowed')
  })

  it('needs BatchGetSecretValue on "*": a grant on the secret ARNs does not give it', () => {
    const report = analyse(
      role({
        inline: [
          inline(
            'p',
            doc(allow(['secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue'], `${SM_PARTIAL}-*`))
          )
        ]
      })
    )
    expect(verdicts(report)[`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]).toBe('allowed')
    expect(verdicts(report)['secretsmanager:BatchGetSecretValue *']).toBe('not-allowed')
  })

  it('lets an unconditional Deny win over any Allow, and says grant-secret-access cannot help', () => {
    const report = analyse(
      role({
        attached: [attached('arn:aws:iam::aws:policy/AdministratorAccess')],
        inline: [
          inline(
            'guard',
            doc(
              deny('secretsmanager:*', `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack-*`, {
                Sid: 'NoClickStack'
              })
            )
          )
        ]
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
      expect.objectContaining({
        action: 'secretsmanager:GetSecretValue',
        reason: 'denied',
        deniedBy: ['inline policy guard statement NoClickStack']
      })
    ])
    expect(report.warnings).toEqual([
      expect.stringMatching(
        /denies secretsmanager:GetSecretValue .*denied by inline policy guard statement NoClickStack.*narrow that Deny/
      )
    ])
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
      role({
        inline: [
          inline(
            'p',
            doc(
              allow('ssm:GetParameters', SSM, { Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } })
            )
          )
        ]
      })
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
              {
                Effect: 'Deny',
                Action: ['secretsmanager:GetSecretValue', 'ssm:GetParameters'],
                NotResource: [`arn:aws:secretsmanager:*:*:secret:clickstack-*`]
              }
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
      verdicts(
        analyse(
          role({
            inline: [inline('p', doc({ Effect: 'Allow', Action: 'secretsmanager:*', NotResource: notResource }))]
          })
        )
      )[`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]
    expect(excluded(`${SM_PARTIAL}-*`)).toBe('not-allowed')
    expect(excluded(`${SM_PARTIAL}-Xy12Zq`)).toBe('conditional')
    expect(excluded('arn:aws:secretsmanager:*:*:secret:other-*')).toBe('allowed')
  })

  it('reads AWS managed SecretsManagerReadWrite: Secrets Manager yes, Parameter Store and kms:Decrypt no', () => {
    const report = analyse(
      role({ attached: [attached(SMRW_ARN)] }),
      new Map([[SMRW_ARN, { document: SECRETS_MANAGER_READ_WRITE }]])
    )
    expect(verdicts(report)).toEqual({
      [`secretsmanager:GetSecretValue ${SM_PARTIAL_GRANT}`]: 'allowed',
      'secretsmanager:BatchGetSecretValue *': 'allowed',
      [`ssm:GetParameters ${SSM}`]: 'not-allowed',
      [`kms:Decrypt ${KMS}`]: 'not-allowed'
    })
    expect(report.decisions[0]?.allowedBy).toEqual([
      'AWS managed policy SecretsManagerReadWrite statement BasePermissions'
    ])
    expect(report.missing.map((m) => m.action)).toEqual(['ssm:GetParameters', 'kms:Decrypt'])
  })

  it('takes an unreadable customer-managed policy to grant, an unreadable AWS managed one by what it is known to grant', () => {
    const shared = `arn:aws:iam::${ACCOUNT}:policy/shared`
    const xray = 'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess'
    const unreadable = { error: 'AccessDenied: no' }
    const customer = analyse(role({ attached: [attached(shared)] }), new Map([[shared, unreadable]]))
    expect(customer.missing).toEqual([])
    expect(customer.decisions.every((d) => d.verdict === 'conditional')).toBe(true)
    expect(customer.decisions[0]?.allowedBy).toEqual([
      `customer-managed policy ${shared} (unreadable: AccessDenied: no) (may grant it)`
    ])

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
    const foreign = requiredSecretActions(
      refs(`\${arn:aws:secretsmanager:us-east-1:${OTHER}:secret:shared-key-AbCdEf}`)
    )
    const report = missingSecretAccess(
      role({ inline: [inline('p', doc(allow('secretsmanager:*')))] }),
      new Map(),
      foreign
    )
    expect(report.missing).toEqual([])
    expect(report.notes.join(' ')).toMatch(
      new RegExp(
        `account ${OTHER}: the secret's resource policy .*must also allow arn:aws:iam::${ACCOUNT}:role/orders-exec`
      )
    )
  })
})
