import { describe, expect, it } from '@jest/globals'
import { actionMatches, type PolicyStatement, sameJson, statementsOf } from '../../../src/core/iamPolicy.js'
import { LOG_WRITE_ACTIONS } from '../../../src/core/logPermissions.js'
import {
  CLOUDWATCH_LOGS_ACTIONS,
  expandLogsWildcard,
  stripLogWrites,
  stripStatement
} from '../../../src/core/logWriteStrip.js'
import { allow, doc } from '../../support/policyFixtures.js'

const ORDERS = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders-api'
const ORDERS_V2 = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders-api-v2'
const AUDIT = 'arn:aws:logs:us-east-1:123456789012:log-group:/app/audit'
const THREE = [...LOG_WRITE_ACTIONS]

/** Whether a statement list grants `action` (no resources involved): the semantic the rewrite must keep. */
function grantsAction(statements: PolicyStatement[], action: string): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow') return false
    if (s.Action !== undefined) return ([] as string[]).concat(s.Action).some((p) => actionMatches(p, action))
    if (s.NotAction !== undefined) return !([] as string[]).concat(s.NotAction).some((p) => actionMatches(p, action))
    return false
  })
}

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
      for (const invented of [
        'logs:DescribeSomethingNew',
        'logs:CreateLogGroupV2',
        'logs:PutLogEventsBatch',
        'logs:Zap'
      ])
        if (rewritten.some((entry) => actionMatches(entry, invented)))
          expect(actionMatches(pattern, invented)).toBe(true)
    }
  )

  it('rewrites a prefix wildcard into prefixes, compact and future-proof outside the write actions', () => {
    const all = expandLogsWildcard('logs:*')
    expect(all).toEqual(
      expect.arrayContaining(['logs:A*', 'logs:D*', 'logs:G*', 'logs:CreateD*', 'logs:CreateLogA*', 'logs:PutLogG*'])
    )
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
    [
      'the three named among others',
      allow(['s3:GetObject', ...THREE, 'sqs:SendMessage']),
      allow(['s3:GetObject', 'sqs:SendMessage'])
    ],
    ['only the three', allow(THREE), undefined],
    ['one, as a string', allow('logs:PutLogEvents'), undefined],
    ['one in any case', allow(['LOGS:putlogevents', 's3:GetObject']), allow(['s3:GetObject'])],
    ['a string that stays one', allow('s3:GetObject'), allow('s3:GetObject')],
    [
      'Action "*": everything but the three',
      allow('*', 'arn:aws:logs:*:*:*', { Condition: condition }),
      { Effect: 'Allow', NotAction: THREE, Resource: 'arn:aws:logs:*:*:*', Condition: condition }
    ],
    ['"*" among others', allow(['*', 's3:GetObject']), { Effect: 'Allow', NotAction: THREE, Resource: '*' }],
    [
      'NotAction without them: they join it',
      { Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' },
      { Effect: 'Allow', NotAction: ['iam:*', ...THREE], Resource: '*' }
    ],
    [
      'NotAction as a string covering one',
      { Effect: 'Allow', NotAction: 'logs:Put*', Resource: '*' },
      { Effect: 'Allow', NotAction: ['logs:Put*', 'logs:CreateLogGroup', 'logs:CreateLogStream'], Resource: '*' }
    ],
    [
      'NotAction that already excludes them',
      { Effect: 'Allow', NotAction: 'logs:*', Resource: '*' },
      { Effect: 'Allow', NotAction: 'logs:*', Resource: '*' }
    ],
    ['a Deny', { Effect: 'Deny', Action: THREE, Resource: '*' }, { Effect: 'Deny', Action: THREE, Resource: '*' }],
    [
      'with a Condition',
      allow(['logs:CreateLogStream', 'kms:Decrypt'], '*', { Condition: condition }),
      allow(['kms:Decrypt'], '*', { Condition: condition })
    ],
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
    for (const action of [
      'logs:DescribeLogGroups',
      'logs:FilterLogEvents',
      'logs:DeleteLogGroup',
      'logs:PutRetentionPolicy',
      's3:GetObject'
    ])
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

  it.each(['*:Put*', '*Log*', '*:PutLogEvents', 'log?:*'])(
    'leaves %s (across services) as it is and says why',
    (pattern) => {
      const statement = allow([pattern, 'logs:CreateLogGroup'])
      const result = stripStatement(statement)
      expect(result.changed).toBe(false)
      expect(result.statement).toBe(statement)
      expect(result.unresolved).toEqual([{ action: pattern, reason: expect.stringContaining('narrow it by hand') }])
    }
  )
})

describe('stripLogWrites', () => {
  const s3: PolicyStatement = {
    Sid: 'Read',
    Effect: 'Allow',
    Action: 's3:GetObject',
    Resource: 'arn:aws:s3:::bucket/*'
  }
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
    expect(stripLogWrites(doc(allow(THREE), allow('logs:PutLogEvents', `${ORDERS}:*`)))).toMatchObject({
      document: undefined,
      changed: true
    })
    expect(stripLogWrites({ Version: '2012-10-17', Statement: allow(THREE) })).toMatchObject({
      document: undefined,
      changed: true
    })
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
      [
        'NotResource that excludes the group',
        false,
        { Effect: 'Allow', Action: THREE, NotResource: [ORDERS, `${ORDERS}:*`] }
      ],
      ['NotResource that excludes something else', true, { Effect: 'Allow', Action: THREE, NotResource: AUDIT }]
    ])('%s: stripped %s', (_, stripped, statement) => {
      expect(stripLogWrites(doc(statement), { logGroupArns: [ORDERS] }).changed).toBe(stripped)
    })
  })
})
