/**
 * Whether a Lambda execution role may write CloudWatch Logs, and how to take that away: pure IAM policy
 * logic, no AWS calls (aws/iamRoles.ts is the IAM edge).
 *
 * Lambda writes a function's logs with the execution role's `logs:CreateLogGroup`,
 * `logs:CreateLogStream` and `logs:PutLogEvents`. Two ways to switch that off:
 *
 * - deny: one inline policy per role, `RotelClickStackDenyCloudWatchLogs`, that denies the three actions
 *   on exactly the listed log groups. An explicit Deny wins over every Allow, whatever grants it.
 *   Resources: `…:log-group:<group>` (the log-group resource, what `CreateLogGroup` is authorised
 *   against) and `…:log-group:<group>:*` (every stream of it, what `CreateLogStream`/`PutLogEvents` on
 *   `log-group:<group>:log-stream:<stream>` are authorised against). Both forms for all three actions:
 *   the denial then holds whichever form IAM evaluates, and reaches no other group (a group name
 *   cannot contain `:`).
 * - detach (the ClickStack guide's way): take the three actions out of the role's own Allow
 *   statements (`stripLogWrites`, logWriteStrip.ts), keeping everything else the role may do.
 *
 * Here: the three actions, log group ARNs, the deny policy, the static analysis of whether a document
 * lets the role write a group, and the AWS managed policies known to grant the writes. The reading and
 * matching of policy documents themselves is iamPolicy.ts.
 */
import {
  actionCovered,
  hasCondition,
  mayCover,
  type PolicyDocument,
  type PolicyStatement,
  statementsOf,
  stringsOf,
  surelyCovers
} from './iamPolicy.js'
import { AWS_MANAGED_POLICY_ARN, functionArnLocation, LOG_GROUP_ARN } from './arns.js'

export const LOG_WRITE_ACTIONS = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'] as const
export type LogWriteAction = (typeof LOG_WRITE_ACTIONS)[number]

/** Name of the inline deny policy, and Sid of its statement. */
export const DENY_POLICY_NAME = 'RotelClickStackDenyCloudWatchLogs'
export const DENY_STATEMENT_SID = 'RotelClickStackDenyCloudWatchLogs'

/** IAM's quota: all inline policies of one role together, in characters, whitespace not counted. */
export const ROLE_INLINE_POLICY_QUOTA = 10_240

// ---------------------------------------------------------------------------------------------
// Log groups

export interface LogGroupRef {
  readonly partition: string
  readonly region: string
  readonly account: string
  readonly name: string
  /** `arn:<partition>:logs:<region>:<account>:log-group:<name>`, without a trailing `:*`. */
  readonly arn: string
}

/** Parses a log group ARN, with or without the trailing `:*` that DescribeLogGroups reports. */
export function parseLogGroupArn(value: string): LogGroupRef {
  const match = LOG_GROUP_ARN.exec(value.trim())
  if (!match) throw new Error(`not a log group ARN: ${value}`)
  const [, partition, region, account, name] = match as unknown as [string, string, string, string, string]
  return { partition, region, account, name, arn: `arn:${partition}:logs:${region}:${account}:log-group:${name}` }
}

export function logGroupArn(options: {
  partition?: string
  region: string
  account: string
  logGroup: string
}): string {
  return `arn:${options.partition ?? 'aws'}:logs:${options.region}:${options.account}:log-group:${options.logGroup}`
}

/** The ARN of a function's log group, from the function's ARN (partition, region, account) and the group's name. */
export function logGroupArnForFunction(functionArn: string, logGroup: string): string {
  const location = functionArnLocation(functionArn)
  if (!location) throw new Error(`not a Lambda function ARN: ${functionArn}`)
  const { partition, region, account } = location
  return logGroupArn({ partition, region, account, logGroup })
}

const normalizeGroups = (logGroupArns: readonly string[]): string[] =>
  [...new Set(logGroupArns.map((arn) => parseLogGroupArn(arn).arn))].sort()

/** A Lambda log stream name, to ask whether a policy covers a group's streams. */
const SAMPLE_STREAM = '2000/01/01/[$LATEST]00000000000000000000000000000000'
/** The resources IAM may evaluate the three actions against, for one log group. */
export const resourcesFor = (groupArn: string): string[] => [groupArn, `${groupArn}:log-stream:${SAMPLE_STREAM}`]

// ---------------------------------------------------------------------------------------------
// The deny method

const denyResources = (groups: readonly string[]): string[] => groups.flatMap((group) => [group, `${group}:*`])

function denyStatement(groups: readonly string[]): PolicyStatement {
  return { Sid: DENY_STATEMENT_SID, Effect: 'Deny', Action: [...LOG_WRITE_ACTIONS], Resource: denyResources(groups) }
}

/** The inline deny policy for these log groups (ARNs, with or without `:*`): one statement, groups sorted. */
export function denyPolicyFor(logGroupArns: readonly string[]): PolicyDocument {
  const groups = normalizeGroups(logGroupArns)
  if (groups.length === 0) throw new Error('a deny policy needs at least one log group')
  return { Version: '2012-10-17', Statement: [denyStatement(groups)] }
}

const isDenyStatement = (statement: PolicyStatement): boolean => statement.Sid === DENY_STATEMENT_SID

/** Splits the deny statement's resources into log group ARNs and anything else (kept as it is). */
function denyResourcesOf(statement: PolicyStatement | undefined): { groups: string[]; other: string[] } {
  const groups = new Set<string>()
  const other: string[] = []
  for (const resource of stringsOf(statement?.Resource)) {
    try {
      groups.add(parseLogGroupArn(resource).arn)
    } catch {
      other.push(resource)
    }
  }
  return { groups: [...groups], other }
}

/** The log groups the action's deny statement covers, sorted. */
export function deniedGroupsOf(document: PolicyDocument | undefined): string[] {
  return denyResourcesOf(statementsOf(document).find(isDenyStatement)).groups.sort()
}

function withDenyStatement(existing: PolicyDocument, groups: string[], other: string[]): PolicyDocument | undefined {
  const statements = statementsOf(existing)
  const index = statements.findIndex(isDenyStatement)
  const current = statements[index]
  const rest = statements.filter((_, i) => i !== index)
  if (groups.length === 0 && other.length === 0) {
    return rest.length === 0 ? undefined : { ...existing, Statement: rest }
  }
  // Actions someone added to the statement stay; the three are always there.
  const actions = stringsOf(current?.Action)
  for (const action of LOG_WRITE_ACTIONS)
    if (!actions.some((a) => a.toLowerCase() === action.toLowerCase())) actions.push(action)
  const statement: PolicyStatement = current
    ? { ...current, Action: actions, Resource: [...denyResources(groups), ...other] }
    : denyStatement(groups)
  const merged = index < 0 ? [...statements, statement] : statements.map((s, i) => (i === index ? statement : s))
  return { ...existing, Version: existing.Version ?? '2012-10-17', Statement: merged }
}

/**
 * The deny policy covering the groups already in it and these: a union, sorted, that never drops a group
 * (nor a statement or resource someone else put there). Equal to `existing` (sameJson) when nothing is new.
 */
export function mergeDenyPolicy(existing: PolicyDocument | undefined, logGroupArns: readonly string[]): PolicyDocument {
  if (!existing || statementsOf(existing).length === 0) return denyPolicyFor(logGroupArns)
  const current = denyResourcesOf(statementsOf(existing).find(isDenyStatement))
  const groups = normalizeGroups([...current.groups, ...logGroupArns])
  if (groups.length === 0 && current.other.length === 0) return denyPolicyFor(logGroupArns)
  return withDenyStatement(existing, groups, current.other) as PolicyDocument
}

/** The deny policy without these groups; `undefined` when nothing is left in it (then delete the policy). */
export function removeGroupsFromDeny(
  existing: PolicyDocument | undefined,
  logGroupArns: readonly string[]
): PolicyDocument | undefined {
  if (!existing) return undefined
  const statements = statementsOf(existing)
  if (statements.length === 0) return undefined
  if (!statements.some(isDenyStatement)) return existing
  const gone = new Set(normalizeGroups(logGroupArns))
  const current = denyResourcesOf(statements.find(isDenyStatement))
  return withDenyStatement(existing, current.groups.filter((group) => !gone.has(group)).sort(), current.other)
}

// ---------------------------------------------------------------------------------------------
// Static analysis: does a policy let the role write a log group?

export interface StatementRef {
  /** Position in the document. */
  readonly index: number
  readonly sid?: string
  /** The statement has a Condition: whether it applies depends on the request. */
  readonly conditional: boolean
}

export interface LogWriteAnalysis {
  readonly action: LogWriteAction
  /** Allow statements that may grant the action on the group. */
  readonly allows: readonly StatementRef[]
  /** Deny statements that deny it on the group (all resource forms). */
  readonly denies: readonly StatementRef[]
}

/** For each of the three actions, the statements of one document that allow or deny it on the group. */
export function analyzeLogWrites(document: PolicyDocument, logGroupArn: string): LogWriteAnalysis[] {
  const resources = resourcesFor(parseLogGroupArn(logGroupArn).arn)
  const statements = statementsOf(document)
  return LOG_WRITE_ACTIONS.map((action) => {
    const allows: StatementRef[] = []
    const denies: StatementRef[] = []
    statements.forEach((statement, index) => {
      if (!actionCovered(statement, action)) return
      const ref: StatementRef = {
        index,
        ...(statement.Sid !== undefined ? { sid: statement.Sid } : {}),
        conditional: hasCondition(statement)
      }
      if (statement.Effect === 'Allow' && mayCover(statement, resources)) allows.push(ref)
      else if (statement.Effect === 'Deny' && surelyCovers(statement, resources)) denies.push(ref)
    })
    return { action, allows, denies }
  })
}

/**
 * - `allowed`: an unconditional Allow, and no Deny that could apply;
 * - `conditional`: granted only under a Condition, or a conditional Deny may or may not apply – treated
 *   as "may grant";
 * - `denied`: an unconditional Deny covers it (an explicit Deny wins over every Allow);
 * - `not-allowed`: nothing grants it.
 */
export type LogWriteVerdict = 'allowed' | 'conditional' | 'denied' | 'not-allowed'

export interface LogWriteDecision {
  readonly action: LogWriteAction
  readonly verdict: LogWriteVerdict
  /** Who allows it: "<source> statement <Sid or #index>". */
  readonly allowedBy: readonly string[]
  readonly deniedBy: readonly string[]
}

export interface AnalyzedSource {
  /** How to name the policy: its name or ARN. */
  readonly source: string
  readonly analysis: readonly LogWriteAnalysis[]
}

const refName = (source: string, ref: StatementRef): string =>
  `${source} statement ${ref.sid ?? `#${ref.index}`}${ref.conditional ? ' (conditional)' : ''}`

/** Combines the analyses of all of a role's policies: a Deny in one overrides an Allow in another. */
export function decideLogWrites(sources: readonly AnalyzedSource[]): LogWriteDecision[] {
  return LOG_WRITE_ACTIONS.map((action) => {
    const allows: Array<[string, StatementRef]> = []
    const denies: Array<[string, StatementRef]> = []
    for (const { source, analysis } of sources) {
      const entry = analysis.find((a) => a.action === action)
      for (const ref of entry?.allows ?? []) allows.push([source, ref])
      for (const ref of entry?.denies ?? []) denies.push([source, ref])
    }
    const allowedBy = allows.map(([source, ref]) => refName(source, ref))
    const deniedBy = denies.map(([source, ref]) => refName(source, ref))
    let verdict: LogWriteVerdict
    if (denies.some(([, ref]) => !ref.conditional)) verdict = 'denied'
    else if (allows.some(([, ref]) => !ref.conditional)) verdict = denies.length > 0 ? 'conditional' : 'allowed'
    else verdict = allows.length > 0 ? 'conditional' : 'not-allowed'
    return { action, verdict, allowedBy, deniedBy }
  })
}

export interface LogWriteGrant {
  readonly action: LogWriteAction
  /** Only under a Condition (or a conditional Deny may apply): "may grant". */
  readonly conditional: boolean
  /** The statements that allow it: Sid, or `#index`. */
  readonly statements: readonly string[]
}

/**
 * Which of the three actions this one document allows on the log group, its own Deny statements
 * considered. Conditions are not evaluated: a conditional grant is reported with `conditional: true`.
 */
export function grantsLogWrites(document: PolicyDocument, logGroupArn: string): LogWriteGrant[] {
  const analysis = analyzeLogWrites(document, logGroupArn)
  return decideLogWrites([{ source: '', analysis }]).flatMap((decision) => {
    if (decision.verdict !== 'allowed' && decision.verdict !== 'conditional') return []
    const entry = analysis.find((a) => a.action === decision.action)
    return [
      {
        action: decision.action,
        conditional: decision.verdict === 'conditional',
        statements: (entry?.allows ?? []).map((ref) => ref.sid ?? `#${ref.index}`)
      }
    ]
  })
}

// ---------------------------------------------------------------------------------------------
// AWS managed policies that grant the three actions

export interface AwsManagedLogWriter {
  readonly name: string
  /** ARN in the `aws` partition; awsManagedPolicyArn gives it for another. */
  readonly arn: string
  /** What to use instead when only its other permissions are needed. */
  readonly instead?: string
}

const managed = (path: string, name: string, instead?: string): AwsManagedLogWriter => ({
  name,
  arn: `arn:aws:iam::aws:policy/${path}${name}`,
  ...(instead !== undefined ? { instead } : {})
})

/**
 * AWS managed policies, commonly on Lambda execution roles, that allow the three write actions on every
 * log group (checked against their published documents). Only AWSLambdaBasicExecutionRole is ever
 * detached; the others are reported. The role's actual attached policies are analysed from their
 * documents all the same: this list is what is known without reading them.
 */
export const AWS_MANAGED_LOG_WRITERS: readonly AwsManagedLogWriter[] = Object.freeze([
  managed('service-role/', 'AWSLambdaBasicExecutionRole'),
  managed(
    'service-role/',
    'AWSLambdaVPCAccessExecutionRole',
    'arn:aws:iam::aws:policy/service-role/AWSLambdaENIManagementAccess (the same network-interface permissions ' +
      'without logs; add ec2:DescribeSubnets if the function needs it)'
  ),
  managed('service-role/', 'AWSLambdaKinesisExecutionRole', 'a policy with its kinesis:* read actions only'),
  managed('service-role/', 'AWSLambdaDynamoDBExecutionRole', 'a policy with its dynamodb:* stream read actions only'),
  managed(
    'service-role/',
    'AWSLambdaSQSQueueExecutionRole',
    'a policy with sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes only'
  ),
  managed(
    'service-role/',
    'AWSLambdaMSKExecutionRole',
    'a policy with its kafka:* and ec2:* network-interface actions only'
  ),
  managed('service-role/', 'AmazonS3ObjectLambdaExecutionRolePolicy'),
  managed('', 'AWSLambdaExecute', 'a policy with s3:GetObject and s3:PutObject only'),
  managed('', 'CloudWatchLogsFullAccess'),
  managed('', 'CloudWatchFullAccess'),
  managed('', 'CloudWatchFullAccessV2'),
  managed('', 'CloudWatchAgentServerPolicy'),
  managed('', 'CloudWatchAgentAdminPolicy'),
  managed('', 'AdministratorAccess'),
  managed('', 'PowerUserAccess'),
  managed('job-function/', 'SystemAdministrator'),
  managed('job-function/', 'DatabaseAdministrator')
])

/** The policy whose detachment is the guide's way to switch CloudWatch Logs off. */
export const BASIC_EXECUTION_POLICY_NAME = 'AWSLambdaBasicExecutionRole'

/** Whether the ARN is an AWS managed policy's (`arn:<partition>:iam::aws:policy/…`). */
export const isAwsManagedPolicyArn = (arn: string): boolean => AWS_MANAGED_POLICY_ARN.test(arn)

/** The listed AWS managed log writer this ARN names, in any partition. */
export function awsManagedLogWriter(arn: string): AwsManagedLogWriter | undefined {
  const match = AWS_MANAGED_POLICY_ARN.exec(arn)
  if (!match) return undefined
  const path = match[2] ?? ''
  return AWS_MANAGED_LOG_WRITERS.find((writer) => writer.arn.endsWith(`:policy/${path}${match[3] ?? ''}`))
}

/** `arn:<partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`. */
export const basicExecutionPolicyArn = (partition = 'aws'): string =>
  `arn:${partition}:iam::aws:policy/service-role/${BASIC_EXECUTION_POLICY_NAME}`

/** Whether the ARN is AWSLambdaBasicExecutionRole's, in any partition. */
export const isBasicExecutionPolicyArn = (arn: string): boolean =>
  AWS_MANAGED_POLICY_ARN.exec(arn)?.slice(2).join('') === `service-role/${BASIC_EXECUTION_POLICY_NAME}`
