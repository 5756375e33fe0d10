import { describe, expect, it } from '@jest/globals'
import { type PolicyDocument, type PolicyStatement, sameJson, statementsOf } from '../../../src/core/iamPolicy.js'
import {
  analyzeLogWrites,
  AWS_MANAGED_LOG_WRITERS,
  awsManagedLogWriter,
  basicExecutionPolicyArn,
  decideLogWrites,
  DENY_STATEMENT_SID,
  deniedGroupsOf,
  denyPolicyFor,
  grantsLogWrites,
  isAwsManagedPolicyArn,
  isBasicExecutionPolicyArn,
  LOG_WRITE_ACTIONS,
  logGroupArn,
  logGroupArnForFunction,
  mergeDenyPolicy,
  parseLogGroupArn,
  removeGroupsFromDeny
} from '../../../src/core/logPermissions.js'
import { allow, doc } from '../../support/policyFixtures.js'

const ORDERS = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders-api'
const BILLING = 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/billing-worker'
const ORDERS_V2 = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders-api-v2'
const THREE = [...LOG_WRITE_ACTIONS]
const BASIC = doc(allow(THREE))

describe('log group ARNs', () => {
  it('parses with or without the trailing :*', () => {
    expect(parseLogGroupArn(`${ORDERS}:*`)).toEqual({
      partition: 'aws',
      region: 'us-east-1',
      account: '123456789012',
      name: '/aws/lambda/orders-api',
      arn: ORDERS
    })
    expect(parseLogGroupArn(ORDERS).arn).toBe(ORDERS)
    expect(() => parseLogGroupArn('/aws/lambda/orders-api')).toThrow('not a log group ARN')
  })

  it('builds the ARN from a function ARN and a group name, partition included', () => {
    expect(
      logGroupArnForFunction('arn:aws:lambda:us-east-1:123456789012:function:orders-api', '/aws/lambda/orders-api')
    ).toBe(ORDERS)
    expect(logGroupArnForFunction('arn:aws-cn:lambda:cn-north-1:123456789012:function:f', '/custom/group')).toBe(
      'arn:aws-cn:logs:cn-north-1:123456789012:log-group:/custom/group'
    )
    expect(logGroupArn({ region: 'us-east-1', account: '123456789012', logGroup: '/aws/lambda/orders-api' })).toBe(
      ORDERS
    )
    expect(() => logGroupArnForFunction('orders-api', '/g')).toThrow('not a Lambda function ARN')
  })
})

describe('denyPolicyFor', () => {
  it('is one Deny statement of the three actions on each group and its streams, sorted', () => {
    expect(denyPolicyFor([ORDERS, `${BILLING}:*`, ORDERS])).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: DENY_STATEMENT_SID,
          Effect: 'Deny',
          Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: [BILLING, `${BILLING}:*`, ORDERS, `${ORDERS}:*`]
        }
      ]
    })
  })

  it('surely denies all three on the group and its streams, and nothing on a group whose name starts the same', () => {
    const deny = denyPolicyFor([ORDERS])
    for (const entry of analyzeLogWrites(deny, ORDERS)) expect(entry.denies).toHaveLength(1)
    for (const entry of analyzeLogWrites(deny, ORDERS_V2)) expect(entry.denies).toHaveLength(0)
    const decisions = decideLogWrites([
      { source: 'AWSLambdaBasicExecutionRole', analysis: analyzeLogWrites(BASIC, ORDERS) },
      { source: 'deny', analysis: analyzeLogWrites(deny, ORDERS) }
    ])
    expect(decisions.map((d) => d.verdict)).toEqual(['denied', 'denied', 'denied'])
  })

  it('needs a group', () => {
    expect(() => denyPolicyFor([])).toThrow('at least one log group')
  })
})

describe('mergeDenyPolicy and removeGroupsFromDeny', () => {
  it('creates the policy when there is none', () => {
    expect(mergeDenyPolicy(undefined, [ORDERS])).toEqual(denyPolicyFor([ORDERS]))
  })

  it('unions, sorted, and never drops a group another run added', () => {
    const first = mergeDenyPolicy(undefined, [ORDERS])
    const second = mergeDenyPolicy(first, [BILLING])
    expect(deniedGroupsOf(second)).toEqual([BILLING, ORDERS])
    expect(deniedGroupsOf(mergeDenyPolicy(second, [ORDERS]))).toEqual([BILLING, ORDERS])
    expect(second).toEqual(denyPolicyFor([ORDERS, BILLING]))
  })

  it('gives the same document when nothing is new (so nothing is written)', () => {
    const existing = denyPolicyFor([ORDERS, BILLING])
    expect(sameJson(mergeDenyPolicy(existing, [BILLING]), existing)).toBe(true)
  })

  it('keeps statements, resources and actions someone else put in the policy', () => {
    const foreign: PolicyStatement = { Sid: 'Theirs', Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }
    const existing = doc(foreign, {
      Sid: DENY_STATEMENT_SID,
      Effect: 'Deny',
      Action: ['logs:PutLogEvents', 'logs:DeleteLogGroup'],
      Resource: [ORDERS, 'arn:aws:logs:*:*:destination:x']
    })
    const merged = mergeDenyPolicy(existing, [BILLING])
    const statements = statementsOf(merged)
    expect(statements[0]).toBe(foreign)
    expect(statements[1]).toEqual({
      Sid: DENY_STATEMENT_SID,
      Effect: 'Deny',
      Action: ['logs:PutLogEvents', 'logs:DeleteLogGroup', 'logs:CreateLogGroup', 'logs:CreateLogStream'],
      Resource: [BILLING, `${BILLING}:*`, ORDERS, `${ORDERS}:*`, 'arn:aws:logs:*:*:destination:x']
    })
  })

  it('appends its statement to a policy of that name without one', () => {
    const foreign: PolicyStatement = { Sid: 'Theirs', Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }
    expect(statementsOf(mergeDenyPolicy(doc(foreign), [ORDERS]))).toEqual([
      foreign,
      statementsOf(denyPolicyFor([ORDERS]))[0]
    ])
  })

  it.each([
    ['some groups', [ORDERS], [BILLING]],
    ['groups given with :*', [`${ORDERS}:*`], [BILLING]],
    ['a group it does not have', [ORDERS_V2], [BILLING, ORDERS]]
  ])('removes %s and keeps the rest', (_, gone, left) => {
    expect(deniedGroupsOf(removeGroupsFromDeny(denyPolicyFor([ORDERS, BILLING]), gone))).toEqual(left)
  })

  it('is empty (delete the policy) when the last group goes, unless someone else has a statement in it', () => {
    expect(removeGroupsFromDeny(denyPolicyFor([ORDERS, BILLING]), [ORDERS, BILLING])).toBeUndefined()
    expect(removeGroupsFromDeny(undefined, [ORDERS])).toBeUndefined()
    const foreign: PolicyStatement = { Sid: 'Theirs', Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }
    const withForeign = mergeDenyPolicy(doc(foreign), [ORDERS])
    expect(removeGroupsFromDeny(withForeign, [ORDERS])).toEqual(doc(foreign))
    expect(removeGroupsFromDeny(doc(foreign), [ORDERS])).toEqual(doc(foreign))
  })
})

describe('grantsLogWrites', () => {
  const condition = { StringEquals: { 'aws:SourceAccount': '123456789012' } }
  it.each<[string, PolicyDocument, Array<[string, boolean]>]>([
    ['AWSLambdaBasicExecutionRole', BASIC, THREE.map((a) => [a, false])],
    [
      'logs:* on the account',
      doc(allow('logs:*', 'arn:aws:logs:us-east-1:123456789012:*')),
      THREE.map((a) => [a, false])
    ],
    ['Put* only', doc(allow('logs:Put*')), [['logs:PutLogEvents', false]]],
    ['another group', doc(allow(THREE, `${ORDERS_V2}:*`)), []],
    ['another service', doc(allow('s3:*')), []],
    [
      'NotAction without logs',
      doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }),
      THREE.map((a) => [a, false])
    ],
    ['NotAction with logs', doc({ Effect: 'Allow', NotAction: 'logs:*', Resource: '*' }), []],
    [
      'NotResource excluding the group',
      doc({ Effect: 'Allow', Action: THREE, NotResource: [ORDERS, `${ORDERS}:*`] }),
      []
    ],
    ['only under a Condition', doc(allow(THREE, '*', { Condition: condition })), THREE.map((a) => [a, true])],
    [
      'its own Deny',
      doc(allow(THREE), { Effect: 'Deny', Action: 'logs:PutLogEvents', Resource: '*' }),
      [
        ['logs:CreateLogGroup', false],
        ['logs:CreateLogStream', false]
      ]
    ],
    [
      'a conditional Deny (may or may not apply)',
      doc(allow(THREE), { Effect: 'Deny', Action: THREE, Resource: '*', Condition: condition }),
      THREE.map((a) => [a, true])
    ],
    [
      'a Deny of the streams only',
      doc(allow(THREE), { Effect: 'Deny', Action: THREE, Resource: `${ORDERS}:*` }),
      THREE.map((a) => [a, false])
    ],
    ['the action deny policy', doc(allow(THREE), ...statementsOf(denyPolicyFor([ORDERS]))), []]
  ])('%s', (_, document, expected) => {
    expect(grantsLogWrites(document, ORDERS).map((g) => [g.action, g.conditional])).toEqual(expected)
  })

  it('names the statements that grant', () => {
    const grants = grantsLogWrites(doc({ Sid: 'Logs', ...allow('logs:*') }, allow('logs:PutLogEvents')), ORDERS)
    expect(grants.find((g) => g.action === 'logs:PutLogEvents')?.statements).toEqual(['Logs', '#1'])
  })

  it('lets a Deny in one policy override an Allow in another', () => {
    const decisions = decideLogWrites([
      { source: 'inline', analysis: analyzeLogWrites(doc(allow('logs:*')), ORDERS) },
      {
        source: 'boundary-ish',
        analysis: analyzeLogWrites(doc({ Effect: 'Deny', Action: 'logs:CreateLogGroup', Resource: '*' }), ORDERS)
      }
    ])
    expect(decisions).toEqual([
      {
        action: 'logs:CreateLogGroup',
        verdict: 'denied',
        allowedBy: ['inline statement #0'],
        deniedBy: ['boundary-ish statement #0']
      },
      { action: 'logs:CreateLogStream', verdict: 'allowed', allowedBy: ['inline statement #0'], deniedBy: [] },
      { action: 'logs:PutLogEvents', verdict: 'allowed', allowedBy: ['inline statement #0'], deniedBy: [] }
    ])
    expect(decideLogWrites([]).map((d) => d.verdict)).toEqual(['not-allowed', 'not-allowed', 'not-allowed'])
  })
})

describe('AWS managed policies that write logs', () => {
  it('lists the Lambda execution policies and the broad ones', () => {
    const arns = AWS_MANAGED_LOG_WRITERS.map((p) => p.arn)
    for (const name of [
      'service-role/AWSLambdaBasicExecutionRole',
      'service-role/AWSLambdaVPCAccessExecutionRole',
      'service-role/AWSLambdaKinesisExecutionRole',
      'service-role/AWSLambdaDynamoDBExecutionRole',
      'service-role/AWSLambdaSQSQueueExecutionRole',
      'service-role/AWSLambdaMSKExecutionRole',
      'CloudWatchLogsFullAccess',
      'AWSLambdaExecute'
    ])
      expect(arns).toContain(`arn:aws:iam::aws:policy/${name}`)
  })

  it('recognises them in any partition, and AWS managed ARNs in general', () => {
    expect(
      awsManagedLogWriter('arn:aws-cn:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole')?.instead
    ).toContain('AWSLambdaENIManagementAccess')
    expect(awsManagedLogWriter('arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess')).toBeUndefined()
    expect(awsManagedLogWriter('arn:aws:iam::123456789012:policy/CloudWatchLogsFullAccess')).toBeUndefined()
    expect(isAwsManagedPolicyArn('arn:aws:iam::aws:policy/job-function/SystemAdministrator')).toBe(true)
    expect(isAwsManagedPolicyArn('arn:aws:iam::123456789012:policy/mine')).toBe(false)
    expect(basicExecutionPolicyArn('aws-us-gov')).toBe(
      'arn:aws-us-gov:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'
    )
    expect(isBasicExecutionPolicyArn(basicExecutionPolicyArn())).toBe(true)
    expect(isBasicExecutionPolicyArn('arn:aws:iam::123456789012:policy/service-role/AWSLambdaBasicExecutionRole')).toBe(
      false
    )
  })
})
