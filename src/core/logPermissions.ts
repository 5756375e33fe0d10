/**
 * Whether a Lambda execution role may write CloudWatch Logs, and how to take that away: pure IAM policy
 * logic, no AWS calls (aws/executionRoles.ts is the IAM edge).
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
 *   statements (`stripLogWrites`), keeping everything else the role may do.
 */
import { AWS_MANAGED_POLICY_ARN, functionArnLocation, LOG_GROUP_ARN } from './arns.js'
import { iamWildcardRegExp } from './wildcard.js'

export const LOG_WRITE_ACTIONS = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'] as const
export type LogWriteAction = (typeof LOG_WRITE_ACTIONS)[number]

/** Name of the inline deny policy, and Sid of its statement. */
export const DENY_POLICY_NAME = 'RotelClickStackDenyCloudWatchLogs'
export const DENY_STATEMENT_SID = 'RotelClickStackDenyCloudWatchLogs'

/** IAM's quota: all inline policies of one role together, in characters, whitespace not counted. */
export const ROLE_INLINE_POLICY_QUOTA = 10_240

// ---------------------------------------------------------------------------------------------
// Policy documents

export type StringOrList = string | string[]

export interface PolicyStatement {
  Sid?: string
  Effect?: string
  Action?: StringOrList
  NotAction?: StringOrList
  Resource?: StringOrList
  NotResource?: StringOrList
  Condition?: Record<string, unknown>
  [key: string]: unknown
}

export interface PolicyDocument {
  Version?: string
  Id?: string
  Statement?: PolicyStatement | PolicyStatement[]
  [key: string]: unknown
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * A policy document's JSON text: IAM returns documents URL-encoded (RFC 3986); the SDK does not decode
 * them. Text that already is JSON is taken as it is (a raw `%` in it would break decoding).
 */
export function decodePolicyText(text: string): string {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    try {
      JSON.parse(trimmed)
      return trimmed
    } catch {
      // fall through: maybe encoded after all
    }
  }
  try {
    return decodeURIComponent(trimmed)
  } catch {
    return trimmed
  }
}

/** Parses a policy document as IAM returns it (URL-encoded or not); throws on anything but a JSON object. */
export function parsePolicyDocument(text: string): PolicyDocument {
  const value: unknown = JSON.parse(decodePolicyText(text))
  if (!isRecord(value)) throw new Error('a policy document must be a JSON object')
  return value as PolicyDocument
}

/** The text sent to IAM: compact JSON, keys in their order. */
export const serializePolicyDocument = (document: PolicyDocument): string => JSON.stringify(document)

/** Size as IAM counts it against the inline-policy quota: characters other than whitespace. */
export const policySize = (text: string): number => text.replace(/\s+/g, '').length

/** The statements, whether `Statement` is one object or an array. */
export function statementsOf(document: PolicyDocument | undefined): PolicyStatement[] {
  const statement = document?.Statement
  if (Array.isArray(statement)) return statement.filter(isRecord) as PolicyStatement[]
  return isRecord(statement) ? [statement as PolicyStatement] : []
}

const toList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]
/** The strings of a policy element that may be one string or a list (anything else left out). */
export const stringsOf = (value: unknown): string[] => toList(value).filter((v): v is string => typeof v === 'string')

/** Deep equality of JSON values; object key order does not matter, array order does. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((item, i) => sameJson(item, b[i]))
  }
  if (isRecord(a) && isRecord(b)) {
    const keysA = Object.keys(a).filter((k) => a[k] !== undefined)
    const keysB = Object.keys(b).filter((k) => b[k] !== undefined)
    return keysA.length === keysB.length && keysA.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]))
  }
  return false
}

// ---------------------------------------------------------------------------------------------
// Matching actions and resources as IAM does

/** An Action/NotAction entry against an action: `*` and `?` wildcards, case-insensitive. */
export const actionMatches = (pattern: string, action: string): boolean => iamWildcardRegExp(pattern, true).test(action)

/**
 * How a policy variable (`${aws:username}`…) in a resource pattern is read: as a wildcard (may match:
 * for "may grant" questions) or as never matching (for "surely denies" questions).
 */
type VariableReading = 'wildcard' | 'never'

/**
 * A Resource/NotResource entry against an ARN, case-sensitive. Partition, service, region and account
 * are matched segment by segment; the resource part (after the fifth colon) as a whole, where `*` also
 * crosses `:` and `/`.
 */
export function resourceMatches(pattern: string, arn: string, variables: VariableReading = 'wildcard'): boolean {
  let effective = pattern
  if (effective.includes('${')) {
    if (variables === 'never') return false
    effective = effective.replace(/\$\{[^}]*\}/g, '*')
  }
  if (effective === '*') return true
  const p = effective.split(':')
  const a = arn.split(':')
  if (p.length >= 6 && a.length >= 6) {
    for (let i = 0; i < 5; i++) if (!iamWildcardRegExp(p[i] ?? '', false).test(a[i] ?? '')) return false
    return iamWildcardRegExp(p.slice(5).join(':'), false).test(a.slice(5).join(':'))
  }
  return iamWildcardRegExp(effective, false).test(arn)
}

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
  return withDenyStatement(
    existing,
    current.groups.filter((group) => !gone.has(group)).sort(),
    current.other
  )
}

// ---------------------------------------------------------------------------------------------
// The detach method: taking the three actions out of Allow statements

/**
 * CloudWatch Logs' IAM actions (service prefix `logs`): the operations of @aws-sdk/client-cloudwatch-logs
 * 3.1169 plus the permission-only actions of the Service Authorization Reference (as of 2026-01). Used
 * to rewrite a `logs:` wildcard into what it granted besides the three write actions.
 */
export const CLOUDWATCH_LOGS_ACTIONS: readonly string[] = Object.freeze([
  'AssociateKmsKey', 'AssociateSourceToS3TableIntegration', 'CallWithBearerToken', 'CancelExportTask',
  'CancelImportTask', 'CreateDelivery', 'CreateExportTask', 'CreateImportTask', 'CreateLogAnomalyDetector',
  'CreateLogDelivery', 'CreateLogGroup', 'CreateLogStream', 'CreateLookupTable', 'CreateScheduledQuery',
  'DeleteAccountPolicy', 'DeleteDataProtectionPolicy', 'DeleteDelivery', 'DeleteDeliveryDestination',
  'DeleteDeliveryDestinationPolicy', 'DeleteDeliverySource', 'DeleteDestination', 'DeleteIndexPolicy',
  'DeleteIntegration', 'DeleteLogAnomalyDetector', 'DeleteLogDelivery', 'DeleteLogGroup', 'DeleteLogStream',
  'DeleteLookupTable', 'DeleteMetricFilter', 'DeletePipelineRule', 'DeleteQueryDefinition',
  'DeleteResourcePolicy', 'DeleteRetentionPolicy', 'DeleteScheduledQuery', 'DeleteSubscriptionFilter',
  'DeleteSyslogConfiguration', 'DeleteTransformer', 'DescribeAccountPolicies', 'DescribeConfigurationTemplates',
  'DescribeDeliveries', 'DescribeDeliveryDestinations', 'DescribeDeliverySources', 'DescribeDestinations',
  'DescribeExportTasks', 'DescribeFieldIndexes', 'DescribeImportTaskBatches', 'DescribeImportTasks',
  'DescribeIndexPolicies', 'DescribeLogGroups', 'DescribeLogStreams', 'DescribeLookupTables',
  'DescribeMetricFilters', 'DescribeQueries', 'DescribeQueryDefinitions', 'DescribeResourcePolicies',
  'DescribeSubscriptionFilters', 'DisassociateKmsKey', 'DisassociateSourceFromS3TableIntegration',
  'FilterLogEvents', 'GetDataProtectionPolicy', 'GetDelivery', 'GetDeliveryDestination',
  'GetDeliveryDestinationPolicy', 'GetDeliverySource', 'GetIntegration', 'GetLogAnomalyDetector',
  'GetLogDelivery', 'GetLogEvents', 'GetLogFields', 'GetLogGroupFields', 'GetLogObject', 'GetLogRecord',
  'GetLookupTable', 'GetQueryResults', 'GetScheduledQuery', 'GetScheduledQueryHistory', 'GetStorageTierPolicy',
  'GetTransformer', 'IntegrateWithS3Table', 'Link', 'ListAggregateLogGroupSummaries', 'ListAnomalies',
  'ListEntitiesForLogGroup', 'ListIntegrations', 'ListLogAnomalyDetectors', 'ListLogDeliveries', 'ListLogGroups',
  'ListLogGroupsForEntity', 'ListLogGroupsForQuery', 'ListScheduledQueries', 'ListSourcesForS3TableIntegration',
  'ListSyslogConfigurations', 'ListTagsForResource', 'ListTagsLogGroup', 'ProcessWithPipeline',
  'PutAccountPolicy', 'PutBearerTokenAuthentication', 'PutDataProtectionPolicy', 'PutDeliveryDestination',
  'PutDeliveryDestinationPolicy', 'PutDeliverySource', 'PutDestination', 'PutDestinationPolicy',
  'PutIndexPolicy', 'PutIntegration', 'PutLogEvents', 'PutLogGroupDeletionProtection', 'PutMetricFilter',
  'PutPipelineRule', 'PutQueryDefinition', 'PutResourcePolicy', 'PutRetentionPolicy', 'PutStorageTierPolicy',
  'PutSubscriptionFilter', 'PutSyslogConfiguration', 'PutTransformer', 'StartLiveTail', 'StartQuery',
  'StopLiveTail', 'StopQuery', 'TagLogGroup', 'TagResource', 'TestMetricFilter', 'TestTransformer', 'Unmask',
  'UntagLogGroup', 'UntagResource', 'UpdateAnomaly', 'UpdateDeliveryConfiguration', 'UpdateLogAnomalyDetector',
  'UpdateLogDelivery', 'UpdateLookupTable', 'UpdateScheduledQuery'
])

const WRITE_NAMES = LOG_WRITE_ACTIONS.map((action) => action.slice('logs:'.length).toLowerCase())
const isWriteName = (name: string): boolean => WRITE_NAMES.includes(name.toLowerCase())

/**
 * What a `logs:` wildcard granted besides the three write actions, as Action entries.
 *
 * A prefix pattern (`logs:*`, `logs:Create*`, `logs:Put*`) becomes, for each other catalogue action it
 * matches, the shortest prefix pattern of that action that none of the three starts with
 * (`logs:*` → `logs:A*`, `logs:CreateD*`, `logs:CreateLogA*`, `logs:PutA*`, …): each is inside the
 * original pattern and matches none of the three, and together they cover every other catalogue action
 * – and the future actions under those prefixes too. Any other pattern (`logs:*Log*`, `logs:?ut*`)
 * becomes the catalogue actions it matches, by name. Either way the rewrite grants nothing the original
 * did not; what it can miss is an action AWS adds later under none of the prefixes (a new `Create…`
 * or `Put…`), which is the safe side.
 */
export function expandLogsWildcard(pattern: string): string[] {
  const name = pattern.slice(pattern.indexOf(':') + 1)
  const others = CLOUDWATCH_LOGS_ACTIONS.filter((action) => actionMatches(name, action) && !isWriteName(action))
  const literalPrefix = /^[^*?]*\*$/.test(name) ? name.slice(0, -1) : undefined
  const result: string[] = []
  const seen = new Set<string>()
  const add = (entry: string): void => {
    if (seen.has(entry.toLowerCase())) return
    seen.add(entry.toLowerCase())
    result.push(entry)
  }
  for (const action of others) {
    if (literalPrefix === undefined) {
      add(`logs:${action}`)
      continue
    }
    let chosen: string | undefined
    for (let n = literalPrefix.length + 1; n <= action.length; n++) {
      const prefix = action.slice(0, n).toLowerCase()
      if (!WRITE_NAMES.some((write) => write.startsWith(prefix))) {
        chosen = action.slice(0, n)
        break
      }
    }
    add(chosen === undefined || chosen.length === action.length ? `logs:${action}` : `logs:${chosen}*`)
  }
  return result
}

/** `*` (or `*:*`): every action of every service. */
const isEveryAction = (entry: string): boolean => /^\*+(:\*+)?$/.test(entry)

export interface StatementStrip {
  /** The statement after; `undefined` when nothing is left of it. */
  readonly statement: PolicyStatement | undefined
  readonly changed: boolean
  /** Entries that grant a write action and cannot be rewritten exactly; the statement is then left as it was. */
  readonly unresolved: ReadonlyArray<{ action: string; reason: string }>
}

/** Replaces key `from` with `to` (value `value`) in the same position, other keys in their order. */
function renameKey(statement: PolicyStatement, from: string, to: string, value: unknown): PolicyStatement {
  const out: PolicyStatement = {}
  for (const [key, v] of Object.entries(statement)) {
    if (key === from) out[to] = value
    else out[key] = v
  }
  return out
}

/**
 * One statement without the three write actions:
 * - not an Allow: unchanged;
 * - `Action` naming them: they go; a statement left with no action goes entirely;
 * - `Action` with a `logs:` wildcard that matches them: rewritten (expandLogsWildcard);
 * - `Action: "*"` (everything): becomes `NotAction: [the three]` – exactly "everything but the three"
 *   (same Resource and Condition). This is the only place NotAction is exact: `Allow` + `NotAction`
 *   means every action of every service except those listed, so it could not stand in for `logs:*`;
 * - `NotAction` (everything except…): the three are added to it, so it keeps granting the rest;
 * - a wildcard across services that matches them (`*:Put*`, `*Log*`): cannot be narrowed to "all but
 *   three" with Allow statements; the statement is left as it was and reported unresolved.
 * Resource, Condition and every other key stay, in their order.
 */
export function stripStatement(statement: PolicyStatement): StatementStrip {
  const unchanged: StatementStrip = { statement, changed: false, unresolved: [] }
  if (statement.Effect !== 'Allow') return unchanged
  if (statement.Action !== undefined) {
    const entries = toList(statement.Action)
    if (entries.some((entry) => typeof entry === 'string' && isEveryAction(entry))) {
      return { statement: renameKey(statement, 'Action', 'NotAction', [...LOG_WRITE_ACTIONS]), changed: true, unresolved: [] }
    }
    const kept: unknown[] = []
    const unresolved: Array<{ action: string; reason: string }> = []
    let changed = false
    const present = new Set(stringsOf(entries).map((entry) => entry.toLowerCase()))
    for (const entry of entries) {
      if (typeof entry !== 'string' || !LOG_WRITE_ACTIONS.some((action) => actionMatches(entry, action))) {
        kept.push(entry)
        continue
      }
      const colon = entry.indexOf(':')
      const service = colon < 0 ? entry : entry.slice(0, colon)
      if (service.toLowerCase() !== 'logs') {
        unresolved.push({
          action: entry,
          reason:
            `${entry} grants actions of several services, among them CloudWatch Logs writes; an Allow ` +
            'statement cannot say "all of these but three": narrow it by hand'
        })
        continue
      }
      changed = true
      if (!/[*?]/.test(entry)) continue
      for (const replacement of expandLogsWildcard(entry)) {
        if (present.has(replacement.toLowerCase())) continue
        present.add(replacement.toLowerCase())
        kept.push(replacement)
      }
    }
    if (unresolved.length > 0) return { statement, changed: false, unresolved }
    if (!changed) return unchanged
    if (kept.length === 0) return { statement: undefined, changed: true, unresolved: [] }
    const action = typeof statement.Action === 'string' && kept.length === 1 ? kept[0] : kept
    return { statement: { ...statement, Action: action as StringOrList }, changed: true, unresolved: [] }
  }
  if (statement.NotAction !== undefined) {
    const excluded = stringsOf(statement.NotAction)
    const granted = LOG_WRITE_ACTIONS.filter((action) => !excluded.some((pattern) => actionMatches(pattern, action)))
    if (granted.length === 0) return unchanged
    return { statement: { ...statement, NotAction: [...toList(statement.NotAction), ...granted] as string[] }, changed: true, unresolved: [] }
  }
  return unchanged
}

export interface StatementEdit {
  /** Position of the statement in the document before. */
  readonly index: number
  readonly before: PolicyStatement
  /** `undefined`: the statement was removed. */
  readonly after: PolicyStatement | undefined
}

export interface UnresolvedGrant {
  readonly index: number
  readonly sid?: string
  readonly action: string
  readonly reason: string
}

export interface StripResult {
  /** The document after; `undefined` when no statement is left (delete the policy). */
  readonly document: PolicyDocument | undefined
  readonly changed: boolean
  readonly edits: readonly StatementEdit[]
  readonly unresolved: readonly UnresolvedGrant[]
}

export interface StripOptions {
  /**
   * Only statements whose resources may include one of these log groups (or their streams) are
   * changed: an Allow of PutLogEvents on the application's own `/app/audit` group stays. Omitted: every
   * statement.
   */
  readonly logGroupArns?: readonly string[]
}

/** A Lambda log stream name, to ask whether a policy covers a group's streams. */
const SAMPLE_STREAM = '2000/01/01/[$LATEST]00000000000000000000000000000000'
/** The resources IAM may evaluate the three actions against, for one log group. */
const resourcesFor = (groupArn: string): string[] => [groupArn, `${groupArn}:log-stream:${SAMPLE_STREAM}`]

/** Whether the statement's Resource/NotResource may cover any of these ARNs. */
function mayCover(statement: PolicyStatement, arns: readonly string[]): boolean {
  if (statement.Resource !== undefined) {
    const patterns = stringsOf(statement.Resource)
    return arns.some((arn) => patterns.some((pattern) => resourceMatches(pattern, arn, 'wildcard')))
  }
  if (statement.NotResource !== undefined) {
    const patterns = stringsOf(statement.NotResource)
    return arns.some((arn) => !patterns.some((pattern) => resourceMatches(pattern, arn, 'never')))
  }
  return false
}

/** Whether the statement's Resource/NotResource surely covers all of these ARNs. */
function surelyCovers(statement: PolicyStatement, arns: readonly string[]): boolean {
  if (statement.Resource !== undefined) {
    const patterns = stringsOf(statement.Resource)
    return arns.every((arn) => patterns.some((pattern) => resourceMatches(pattern, arn, 'never')))
  }
  if (statement.NotResource !== undefined) {
    const patterns = stringsOf(statement.NotResource)
    return arns.every((arn) => !patterns.some((pattern) => resourceMatches(pattern, arn, 'wildcard')))
  }
  return false
}

/**
 * The document without the three write actions in its Allow statements (see stripStatement), every
 * other statement kept as the same object, in order. `Statement` keeps its form (object or array).
 */
export function stripLogWrites(document: PolicyDocument, options: StripOptions = {}): StripResult {
  const statements = statementsOf(document)
  const scope = options.logGroupArns?.flatMap((arn) => resourcesFor(parseLogGroupArn(arn).arn))
  const edits: StatementEdit[] = []
  const unresolved: UnresolvedGrant[] = []
  const after: PolicyStatement[] = []
  statements.forEach((statement, index) => {
    if (scope && !mayCover(statement, scope)) {
      after.push(statement)
      return
    }
    const result = stripStatement(statement)
    for (const item of result.unresolved)
      unresolved.push({ index, ...(statement.Sid !== undefined ? { sid: statement.Sid } : {}), ...item })
    if (!result.changed) {
      after.push(statement)
      return
    }
    edits.push({ index, before: statement, after: result.statement })
    if (result.statement) after.push(result.statement)
  })
  if (edits.length === 0) return { document, changed: false, edits, unresolved }
  if (after.length === 0) return { document: undefined, changed: true, edits, unresolved }
  const [first] = after
  const single = !Array.isArray(document.Statement) && after.length === 1 && first !== undefined
  return { document: { ...document, Statement: single ? first : after }, changed: true, edits, unresolved }
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

/** Whether the statement has a non-empty Condition (static analysis does not evaluate it). */
export const hasCondition = (statement: PolicyStatement): boolean =>
  isRecord(statement.Condition) && Object.keys(statement.Condition).length > 0

/** Whether the statement's Action/NotAction covers the action. */
export function actionCovered(statement: PolicyStatement, action: string): boolean {
  if (statement.Action !== undefined) return stringsOf(statement.Action).some((p) => actionMatches(p, action))
  if (statement.NotAction !== undefined) return !stringsOf(statement.NotAction).some((p) => actionMatches(p, action))
  return false
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
  managed('service-role/', 'AWSLambdaSQSQueueExecutionRole', 'a policy with sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes only'),
  managed('service-role/', 'AWSLambdaMSKExecutionRole', 'a policy with its kafka:* and ec2:* network-interface actions only'),
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
