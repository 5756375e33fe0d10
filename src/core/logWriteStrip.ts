/**
 * The detach method of `cloudwatch-logs: off`: the three write actions taken out of a role's own Allow
 * statements, keeping everything else the role may do (a `logs:` wildcard is rewritten into what it
 * granted besides them). Pure.
 */
import {
  actionMatches,
  mayCover,
  type PolicyDocument,
  type PolicyStatement,
  statementsOf,
  type StringOrList,
  stringsOf,
  toList
} from './iamPolicy.js'
import { LOG_WRITE_ACTIONS, parseLogGroupArn, resourcesFor } from './logPermissions.js'
/**
 * CloudWatch Logs' IAM actions (service prefix `logs`): the operations of @aws-sdk/client-cloudwatch-logs
 * 3.1169 plus the permission-only actions of the Service Authorization Reference (as of 2026-01). Used
 * to rewrite a `logs:` wildcard into what it granted besides the three write actions.
 */
export const CLOUDWATCH_LOGS_ACTIONS: readonly string[] = Object.freeze([
  'AssociateKmsKey',
  'AssociateSourceToS3TableIntegration',
  'CallWithBearerToken',
  'CancelExportTask',
  'CancelImportTask',
  'CreateDelivery',
  'CreateExportTask',
  'CreateImportTask',
  'CreateLogAnomalyDetector',
  'CreateLogDelivery',
  'CreateLogGroup',
  'CreateLogStream',
  'CreateLookupTable',
  'CreateScheduledQuery',
  'DeleteAccountPolicy',
  'DeleteDataProtectionPolicy',
  'DeleteDelivery',
  'DeleteDeliveryDestination',
  'DeleteDeliveryDestinationPolicy',
  'DeleteDeliverySource',
  'DeleteDestination',
  'DeleteIndexPolicy',
  'DeleteIntegration',
  'DeleteLogAnomalyDetector',
  'DeleteLogDelivery',
  'DeleteLogGroup',
  'DeleteLogStream',
  'DeleteLookupTable',
  'DeleteMetricFilter',
  'DeletePipelineRule',
  'DeleteQueryDefinition',
  'DeleteResourcePolicy',
  'DeleteRetentionPolicy',
  'DeleteScheduledQuery',
  'DeleteSubscriptionFilter',
  'DeleteSyslogConfiguration',
  'DeleteTransformer',
  'DescribeAccountPolicies',
  'DescribeConfigurationTemplates',
  'DescribeDeliveries',
  'DescribeDeliveryDestinations',
  'DescribeDeliverySources',
  'DescribeDestinations',
  'DescribeExportTasks',
  'DescribeFieldIndexes',
  'DescribeImportTaskBatches',
  'DescribeImportTasks',
  'DescribeIndexPolicies',
  'DescribeLogGroups',
  'DescribeLogStreams',
  'DescribeLookupTables',
  'DescribeMetricFilters',
  'DescribeQueries',
  'DescribeQueryDefinitions',
  'DescribeResourcePolicies',
  'DescribeSubscriptionFilters',
  'DisassociateKmsKey',
  'DisassociateSourceFromS3TableIntegration',
  'FilterLogEvents',
  'GetDataProtectionPolicy',
  'GetDelivery',
  'GetDeliveryDestination',
  'GetDeliveryDestinationPolicy',
  'GetDeliverySource',
  'GetIntegration',
  'GetLogAnomalyDetector',
  'GetLogDelivery',
  'GetLogEvents',
  'GetLogFields',
  'GetLogGroupFields',
  'GetLogObject',
  'GetLogRecord',
  'GetLookupTable',
  'GetQueryResults',
  'GetScheduledQuery',
  'GetScheduledQueryHistory',
  'GetStorageTierPolicy',
  'GetTransformer',
  'IntegrateWithS3Table',
  'Link',
  'ListAggregateLogGroupSummaries',
  'ListAnomalies',
  'ListEntitiesForLogGroup',
  'ListIntegrations',
  'ListLogAnomalyDetectors',
  'ListLogDeliveries',
  'ListLogGroups',
  'ListLogGroupsForEntity',
  'ListLogGroupsForQuery',
  'ListScheduledQueries',
  'ListSourcesForS3TableIntegration',
  'ListSyslogConfigurations',
  'ListTagsForResource',
  'ListTagsLogGroup',
  'ProcessWithPipeline',
  'PutAccountPolicy',
  'PutBearerTokenAuthentication',
  'PutDataProtectionPolicy',
  'PutDeliveryDestination',
  'PutDeliveryDestinationPolicy',
  'PutDeliverySource',
  'PutDestination',
  'PutDestinationPolicy',
  'PutIndexPolicy',
  'PutIntegration',
  'PutLogEvents',
  'PutLogGroupDeletionProtection',
  'PutMetricFilter',
  'PutPipelineRule',
  'PutQueryDefinition',
  'PutResourcePolicy',
  'PutRetentionPolicy',
  'PutStorageTierPolicy',
  'PutSubscriptionFilter',
  'PutSyslogConfiguration',
  'PutTransformer',
  'StartLiveTail',
  'StartQuery',
  'StopLiveTail',
  'StopQuery',
  'TagLogGroup',
  'TagResource',
  'TestMetricFilter',
  'TestTransformer',
  'Unmask',
  'UntagLogGroup',
  'UntagResource',
  'UpdateAnomaly',
  'UpdateDeliveryConfiguration',
  'UpdateLogAnomalyDetector',
  'UpdateLogDelivery',
  'UpdateLookupTable',
  'UpdateScheduledQuery'
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

/** One statement without the three write actions. */
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
      return {
        statement: renameKey(statement, 'Action', 'NotAction', [...LOG_WRITE_ACTIONS]),
        changed: true,
        unresolved: []
      }
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
    return {
      statement: { ...statement, NotAction: [...toList(statement.NotAction), ...granted] as string[] },
      changed: true,
      unresolved: []
    }
  }
  return unchanged
}

/** A statement the strip changed or removed. */
export interface StatementEdit {
  /** Position of the statement in the document before. */
  readonly index: number
  readonly before: PolicyStatement
  /** `undefined`: the statement was removed. */
  readonly after: PolicyStatement | undefined
}

/** A grant of a write action that cannot be taken out exactly, where, and why. */
export interface UnresolvedGrant {
  readonly index: number
  readonly sid?: string
  readonly action: string
  readonly reason: string
}

/** A document without the three write actions, and what changed. */
export interface StripResult {
  /** The document after; `undefined` when no statement is left (delete the policy). */
  readonly document: PolicyDocument | undefined
  readonly changed: boolean
  readonly edits: readonly StatementEdit[]
  readonly unresolved: readonly UnresolvedGrant[]
}

/** Which statements the strip may change. */
export interface StripOptions {
  /**
   * Only statements whose resources may include one of these log groups (or their streams) are
   * changed: an Allow of PutLogEvents on the application's own `/app/audit` group stays. Omitted: every
   * statement.
   */
  readonly logGroupArns?: readonly string[]
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
