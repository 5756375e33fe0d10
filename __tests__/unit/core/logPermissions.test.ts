import { describe, expect, it } from '@jest/globals'
import { actionMatches, decodePolicyText, parsePolicyDocument, type PolicyDocument, type PolicyStatement, policySize, resourceMatches, sameJson, serializePolicyDocument, statementsOf } from '../../../src/core/iamPolicy.js'
import { analyzeLogWrites, AWS_MANAGED_LOG_WRITERS, awsManagedLogWriter, basicExecutionPolicyArn, decideLogWrites, DENY_STATEMENT_SID, deniedGroupsOf, denyPolicyFor, grantsLogWrites, isAwsManagedPolicyArn, isBasicExecutionPolicyArn, LOG_WRITE_ACTIONS, logGroupArn, logGroupArnForFunction, mergeDenyPolicy, parseLogGroupArn, removeGroupsFromDeny } from '../../../src/core/logPermissions.js'
import { CLOUDWATCH_LOGS_ACTIONS, expandLogsWildcard, stripLogWrites, stripStatement } from '../../../src/core/logWriteStrip.js'

const ORDERS = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders-api'
const BILLING = 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/billing-worker'
const ORDERS_V2 = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders-api-v2'
const AUDIT = 'arn:aws:logs:us-east-1:123456789012:log-group:/app/audit'
const THREE = [...LOG_WRITE_ACTIONS]
const doc = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements })
const allow = (action: string | string[], resource: string | string[] = '*', extra: Partial<PolicyStatement> = {}): PolicyStatement => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
  ...extra
})
const BASIC = doc(allow(THREE))

/** Whether a statement list grants `action` (no resources involved): the semantic the rewrite must keep. */
function grantsAction(statements: PolicyStatement[], action: string): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow') return false
    if (s.Action !== undefined) return ([] as string[]).concat(s.Action).some((p) => actionMatches(p, action))
    if (s.NotAction !== undefined) return !([] as string[]).concat(s.NotAction).some((p) => actionMatches(p, action))
    return false
  })
}

describe('policy documents', () => {
  it('decodes URL-encoded documents as IAM returns them, and takes plain JSON as it is', () => {
    const text = JSON.stringify(BASIC)
    expect(decodePolicyText(encodeURIComponent(text))).toBe(text)
    expect(parsePolicyDocument(encodeURIComponent(text))).toEqual(BASIC)
    const withPercent = JSON.stringify(doc(allow('s3:GetObject', 'arn:aws:s3:::bucket/100%/*')))
    expect(parsePolicyDocument(withPercent)).toEqual(JSON.parse(withPercent))
    expect(parsePolicyDocument(` ${encodeURIComponent(withPercent)} `)).toEqual(JSON.parse(withPercent))
  })

  it('refuses anything but a JSON object', () => {
    expect(() => parsePolicyDocument('[]')).toThrow('JSON object')
    expect(() => parsePolicyDocument('%5B%5D')).toThrow('JSON object')
    expect(() => parsePolicyDocument('not json')).toThrow()
  })

  it.each([
    ['an array', doc(allow('a:b'), allow('c:d')), 2],
    ['one object', { Version: '2012-10-17', Statement: allow('a:b') }, 1],
    ['none', { Version: '2012-10-17' }, 0]
  ])('reads Statement as %s', (_, document, count) => {
    expect(statementsOf(document as PolicyDocument)).toHaveLength(count)
  })

  it('counts size as IAM does, without whitespace', () => {
    expect(policySize('{ "a" : [ 1, 2 ] }\n')).toBe('{"a":[1,2]}'.length)
    expect(serializePolicyDocument(BASIC)).toBe(JSON.stringify(BASIC))
  })

  it('compares JSON regardless of key order, not of array order', () => {
    expect(sameJson({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true)
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false)
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false)
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true)
  })
})

describe('matching', () => {
  it.each([
    ['logs:PutLogEvents', 'logs:PutLogEvents', true],
    ['LOGS:putlogevents', 'logs:PutLogEvents', true],
    ['logs:*', 'logs:PutLogEvents', true],
    ['logs:Put*', 'logs:PutLogEvents', true],
    ['logs:Put*', 'logs:CreateLogGroup', false],
    ['logs:?utLogEvents', 'logs:PutLogEvents', true],
    ['*', 'logs:CreateLogStream', true],
    ['*:Create*', 'logs:CreateLogStream', true],
    ['s3:*', 'logs:PutLogEvents', false],
    ['logs:PutLogEvent', 'logs:PutLogEvents', false]
  ])('action %s against %s: %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected)
  })

  it.each([
    ['*', ORDERS, true],
    ['arn:aws:logs:*:*:*', `${ORDERS}:log-stream:x`, true],
    ['arn:aws:logs:us-east-1:123456789012:*', ORDERS, true],
    ['arn:aws:logs:eu-west-1:123456789012:*', ORDERS, false],
    ['arn:aws:logs:*:*:log-group:/aws/lambda/*', ORDERS, true],
    [`${ORDERS}:*`, `${ORDERS}:log-stream:2024/01/01/[$LATEST]abc`, true],
    [`${ORDERS}:*`, ORDERS, false],
    [`${ORDERS}:*`, `${ORDERS_V2}:log-stream:x`, false],
    [ORDERS, ORDERS, true],
    [ORDERS.toUpperCase(), ORDERS, false],
    ['arn:aws:logs:*:*:log-group:/aws/lambda/${aws:PrincipalTag/team}-*', ORDERS, true],
    ['arn:aws:s3:::bucket/*', ORDERS, false]
  ])('resource %s against %s: %s', (pattern, arn, expected) => {
    expect(resourceMatches(pattern, arn)).toBe(expected)
  })

  it('reads a policy variable as never matching when asked for certainty', () => {
    expect(resourceMatches('arn:aws:logs:*:*:log-group:${aws:username}', ORDERS, 'never')).toBe(false)
  })
})

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
    expect(logGroupArnForFunction('arn:aws:lambda:us-east-1:123456789012:function:orders-api', '/aws/lambda/orders-api')).toBe(ORDERS)
    expect(logGroupArnForFunction('arn:aws-cn:lambda:cn-north-1:123456789012:function:f', '/custom/group')).toBe(
      'arn:aws-cn:logs:cn-north-1:123456789012:log-group:/custom/group'
    )
    expect(logGroupArn({ region: 'us-east-1', account: '123456789012', logGroup: '/aws/lambda/orders-api' })).toBe(ORDERS)
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
    const existing = doc(
      foreign,
      { Sid: DENY_STATEMENT_SID, Effect: 'Deny', Action: ['logs:PutLogEvents', 'logs:DeleteLogGroup'], Resource: [ORDERS, 'arn:aws:logs:*:*:destination:x'] }
    )
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
    expect(statementsOf(mergeDenyPolicy(doc(foreign), [ORDERS]))).toEqual([foreign, statementsOf(denyPolicyFor([ORDERS]))[0]])
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

describe('expandLogsWildcard', () => {
  it.each(['logs:*', 'logs:Create*', 'logs:Put*', 'logs:Cre*', 'logs:*Log*', 'logs:?ut*', 'LOGS:put*', 'logs:*Events'])(
    '%s: grants every catalogue action the wildcard did except the three, and nothing else',
    (pattern) => {
      const rewritten = expandLogsWildcard(pattern)
      for (const action of CLOUDWATCH_LOGS_ACTIONS.map((a) => `logs:${a}`)) {
        const expected = actionMatches(pattern, action) && !THREE.some((w) => w.toLowerCase() === action.toLowerCase())
        expect([action, rewritten.some((entry) => actionMatches(entry, action))]).toEqual([action, expected])
      }
      // Nothing outside the original pattern, even for actions not in the catalogue.
      for (const invented of ['logs:DescribeSomethingNew', 'logs:CreateLogGroupV2', 'logs:PutLogEventsBatch', 'logs:Zap'])
        if (rewritten.some((entry) => actionMatches(entry, invented))) expect(actionMatches(pattern, invented)).toBe(true)
    }
  )

  it('rewrites a prefix wildcard into prefixes, compact and future-proof outside the write actions', () => {
    const all = expandLogsWildcard('logs:*')
    expect(all).toEqual(expect.arrayContaining(['logs:A*', 'logs:D*', 'logs:G*', 'logs:CreateD*', 'logs:CreateLogA*', 'logs:PutLogG*']))
    expect(all.length).toBeLessThan(40)
    expect(all.some((entry) => actionMatches(entry, 'logs:DescribeSomethingNew'))).toBe(true)
    expect(all.some((entry) => actionMatches(entry, 'logs:CreateLogGroupV2'))).toBe(false)
    expect(expandLogsWildcard('logs:Put*')).not.toContain('logs:P*')
  })

  it('lists catalogue actions by name for a pattern that is not a prefix', () => {
    expect(expandLogsWildcard('logs:*LogEvents')).toEqual(['logs:FilterLogEvents', 'logs:GetLogEvents'])
    expect(expandLogsWildcard('logs:PutLogEvent?')).toEqual([])
  })
})

describe('stripStatement', () => {
  const condition = { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } }
  it.each<[string, PolicyStatement, PolicyStatement | undefined]>([
    ['the three named among others', allow(['s3:GetObject', ...THREE, 'sqs:SendMessage']), allow(['s3:GetObject', 'sqs:SendMessage'])],
    ['only the three', allow(THREE), undefined],
    ['one, as a string', allow('logs:PutLogEvents'), undefined],
    ['one in any case', allow(['LOGS:putlogevents', 's3:GetObject']), allow(['s3:GetObject'])],
    ['a string that stays one', allow('s3:GetObject'), allow('s3:GetObject')],
    ['Action "*": everything but the three', allow('*', 'arn:aws:logs:*:*:*', { Condition: condition }), { Effect: 'Allow', NotAction: THREE, Resource: 'arn:aws:logs:*:*:*', Condition: condition }],
    ['"*" among others', allow(['*', 's3:GetObject']), { Effect: 'Allow', NotAction: THREE, Resource: '*' }],
    ['NotAction without them: they join it', { Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' }, { Effect: 'Allow', NotAction: ['iam:*', ...THREE], Resource: '*' }],
    ['NotAction as a string covering one', { Effect: 'Allow', NotAction: 'logs:Put*', Resource: '*' }, { Effect: 'Allow', NotAction: ['logs:Put*', 'logs:CreateLogGroup', 'logs:CreateLogStream'], Resource: '*' }],
    ['NotAction that already excludes them', { Effect: 'Allow', NotAction: 'logs:*', Resource: '*' }, { Effect: 'Allow', NotAction: 'logs:*', Resource: '*' }],
    ['a Deny', { Effect: 'Deny', Action: THREE, Resource: '*' }, { Effect: 'Deny', Action: THREE, Resource: '*' }],
    ['with a Condition', allow(['logs:CreateLogStream', 'kms:Decrypt'], '*', { Condition: condition }), allow(['kms:Decrypt'], '*', { Condition: condition })],
    ['no Action at all', { Effect: 'Allow', Resource: '*' }, { Effect: 'Allow', Resource: '*' }]
  ])('%s', (_, statement, expected) => {
    const result = stripStatement(statement)
    expect(result.statement).toEqual(expected)
    expect(result.unresolved).toEqual([])
    if (sameJson(statement, expected)) {
      expect(result.changed).toBe(false)
      expect(result.statement).toBe(statement)
    } else expect(result.changed).toBe(true)
  })

  it('keeps the position of the key it renames to NotAction', () => {
    const result = stripStatement({ Sid: 'All', Effect: 'Allow', Action: '*', Resource: '*', Condition: {} })
    expect(Object.keys(result.statement ?? {})).toEqual(['Sid', 'Effect', 'NotAction', 'Resource', 'Condition'])
  })

  it('rewrites logs:* next to s3:GetObject so that the other logs actions stay, in place', () => {
    const result = stripStatement(allow(['logs:*', 's3:GetObject']))
    const actions = result.statement?.Action as string[]
    expect(actions[actions.length - 1]).toBe('s3:GetObject')
    expect(actions.slice(0, -1)).toEqual(expandLogsWildcard('logs:*'))
    for (const action of ['logs:DescribeLogGroups', 'logs:FilterLogEvents', 'logs:DeleteLogGroup', 'logs:PutRetentionPolicy', 's3:GetObject'])
      expect(grantsAction([result.statement as PolicyStatement], action)).toBe(true)
    for (const action of THREE) expect(grantsAction([result.statement as PolicyStatement], action)).toBe(false)
  })

  it('does not repeat an action the list already had', () => {
    const actions = stripStatement(allow(['logs:DescribeLogGroups', 'logs:*'])).statement?.Action as string[]
    expect(actions[0]).toBe('logs:DescribeLogGroups')
    expect(actions.filter((a) => a === 'logs:D*')).toHaveLength(1)
    const withPrefix = stripStatement(allow(['logs:D*', 'logs:*'])).statement?.Action as string[]
    expect(withPrefix.filter((a) => a.toLowerCase() === 'logs:d*')).toHaveLength(1)
  })

  it.each(['*:Put*', '*Log*', '*:PutLogEvents', 'log?:*'])('leaves %s (across services) as it is and says why', (pattern) => {
    const statement = allow([pattern, 'logs:CreateLogGroup'])
    const result = stripStatement(statement)
    expect(result.changed).toBe(false)
    expect(result.statement).toBe(statement)
    expect(result.unresolved).toEqual([{ action: pattern, reason: expect.stringContaining('narrow it by hand') }])
  })
})

describe('stripLogWrites', () => {
  const s3: PolicyStatement = { Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/*' }
  const denyAll: PolicyStatement = { Effect: 'Deny', Action: 'logs:*', Resource: AUDIT }

  it('keeps every other statement, the same object, in order', () => {
    const logs = allow(THREE, 'arn:aws:logs:*:*:*')
    const mixed = allow(['logs:*', 's3:GetObject'])
    const result = stripLogWrites(doc(s3, logs, denyAll, mixed))
    const after = statementsOf(result.document)
    expect(after).toHaveLength(3)
    expect(after[0]).toBe(s3)
    expect(after[1]).toBe(denyAll)
    expect((after[2]?.Action as string[]).at(-1)).toBe('s3:GetObject')
    expect(result.edits.map((e) => [e.index, e.after === undefined])).toEqual([
      [1, true],
      [3, false]
    ])
    expect(result.edits[0]?.before).toBe(logs)
    expect(result.document?.Version).toBe('2012-10-17')
  })

  it('is undefined (delete the policy) when no statement is left', () => {
    expect(stripLogWrites(doc(allow(THREE), allow('logs:PutLogEvents', `${ORDERS}:*`)))).toMatchObject({ document: undefined, changed: true })
    expect(stripLogWrites({ Version: '2012-10-17', Statement: allow(THREE) })).toMatchObject({ document: undefined, changed: true })
  })

  it('keeps Statement an object when it was one', () => {
    const result = stripLogWrites({ Version: '2012-10-17', Statement: allow(['logs:PutLogEvents', 's3:GetObject']) })
    expect(result.document).toEqual({ Version: '2012-10-17', Statement: allow(['s3:GetObject']) })
  })

  it('returns the same document, unchanged, when there is nothing to take out', () => {
    const document = doc(s3, denyAll)
    expect(stripLogWrites(document)).toEqual({ document, changed: false, edits: [], unresolved: [] })
    expect(stripLogWrites(document).document).toBe(document)
  })

  it('reports unresolved wildcards with their statement', () => {
    const result = stripLogWrites(doc(s3, { Sid: 'Wide', ...allow('*:Put*') }))
    expect(result.changed).toBe(false)
    expect(result.unresolved).toEqual([{ index: 1, sid: 'Wide', action: '*:Put*', reason: expect.any(String) }])
  })

  describe('scoped to the functions log groups', () => {
    it.each<[string, boolean, PolicyStatement]>([
      ['Resource *', true, allow(THREE)],
      ['the group and its streams', true, allow(THREE, [ORDERS, `${ORDERS}:*`])],
      ['its streams only', true, allow(THREE, `${ORDERS}:*`)],
      ['every group of the account', true, allow(THREE, 'arn:aws:logs:us-east-1:123456789012:*')],
      ['the application own audit group', false, allow(THREE, [AUDIT, `${AUDIT}:*`])],
      ['another region', false, allow(THREE, 'arn:aws:logs:eu-west-1:123456789012:*')],
      ['a group whose name starts the same', false, allow(THREE, `${ORDERS_V2}:*`)],
      ['NotResource that excludes the group', false, { Effect: 'Allow', Action: THREE, NotResource: [ORDERS, `${ORDERS}:*`] }],
      ['NotResource that excludes something else', true, { Effect: 'Allow', Action: THREE, NotResource: AUDIT }]
    ])('%s: stripped %s', (_, stripped, statement) => {
      expect(stripLogWrites(doc(statement), { logGroupArns: [ORDERS] }).changed).toBe(stripped)
    })
  })
})

describe('grantsLogWrites', () => {
  const condition = { StringEquals: { 'aws:SourceAccount': '123456789012' } }
  it.each<[string, PolicyDocument, Array<[string, boolean]>]>([
    ['AWSLambdaBasicExecutionRole', BASIC, THREE.map((a) => [a, false])],
    ['logs:* on the account', doc(allow('logs:*', 'arn:aws:logs:us-east-1:123456789012:*')), THREE.map((a) => [a, false])],
    ['Put* only', doc(allow('logs:Put*')), [['logs:PutLogEvents', false]]],
    ['another group', doc(allow(THREE, `${ORDERS_V2}:*`)), []],
    ['another service', doc(allow('s3:*')), []],
    ['NotAction without logs', doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }), THREE.map((a) => [a, false])],
    ['NotAction with logs', doc({ Effect: 'Allow', NotAction: 'logs:*', Resource: '*' }), []],
    ['NotResource excluding the group', doc({ Effect: 'Allow', Action: THREE, NotResource: [ORDERS, `${ORDERS}:*`] }), []],
    ['only under a Condition', doc(allow(THREE, '*', { Condition: condition })), THREE.map((a) => [a, true])],
    ['its own Deny', doc(allow(THREE), { Effect: 'Deny', Action: 'logs:PutLogEvents', Resource: '*' }), [['logs:CreateLogGroup', false], ['logs:CreateLogStream', false]]],
    ['a conditional Deny (may or may not apply)', doc(allow(THREE), { Effect: 'Deny', Action: THREE, Resource: '*', Condition: condition }), THREE.map((a) => [a, true])],
    ['a Deny of the streams only', doc(allow(THREE), { Effect: 'Deny', Action: THREE, Resource: `${ORDERS}:*` }), THREE.map((a) => [a, false])],
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
      { source: 'boundary-ish', analysis: analyzeLogWrites(doc({ Effect: 'Deny', Action: 'logs:CreateLogGroup', Resource: '*' }), ORDERS) }
    ])
    expect(decisions).toEqual([
      { action: 'logs:CreateLogGroup', verdict: 'denied', allowedBy: ['inline statement #0'], deniedBy: ['boundary-ish statement #0'] },
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
    expect(awsManagedLogWriter('arn:aws-cn:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole')?.instead).toContain(
      'AWSLambdaENIManagementAccess'
    )
    expect(awsManagedLogWriter('arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess')).toBeUndefined()
    expect(awsManagedLogWriter('arn:aws:iam::123456789012:policy/CloudWatchLogsFullAccess')).toBeUndefined()
    expect(isAwsManagedPolicyArn('arn:aws:iam::aws:policy/job-function/SystemAdministrator')).toBe(true)
    expect(isAwsManagedPolicyArn('arn:aws:iam::123456789012:policy/mine')).toBe(false)
    expect(basicExecutionPolicyArn('aws-us-gov')).toBe('arn:aws-us-gov:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole')
    expect(isBasicExecutionPolicyArn(basicExecutionPolicyArn())).toBe(true)
    expect(isBasicExecutionPolicyArn('arn:aws:iam::123456789012:policy/service-role/AWSLambdaBasicExecutionRole')).toBe(false)
  })
})
