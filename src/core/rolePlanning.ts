/**
 * The pure planning of `cloudwatch-logs: off` on one role: what deny or detach writes (as a WritePlan)
 * and what the role is after it, refused before any write when the change could not be undone or would
 * exceed IAM's quotas. Shared by the undo (roleUndo.ts) and the secret grant (the quota checks).
 *
 * Writes, on apply: the record (tags) first, then the policy changes – a failure in between leaves a
 * record of more than was done, which undo tolerates (every restore step is idempotent).
 */
import { parsePolicyDocument, type PolicyDocument, policySize, sameJson, serializePolicyDocument } from './iamPolicy.js'
import {
  analyzeLogWrites,
  awsManagedLogWriter,
  DENY_POLICY_NAME,
  decideLogWrites,
  deniedGroupsOf,
  isAwsManagedPolicyArn,
  isBasicExecutionPolicyArn,
  LOG_WRITE_ACTIONS,
  type LogWriteAction,
  mergeDenyPolicy,
  parseLogGroupArn,
  ROLE_INLINE_POLICY_QUOTA
} from './logPermissions.js'
import { stripLogWrites, type UnresolvedGrant } from './logWriteStrip.js'
import {
  type CloudWatchOffRecord,
  hasRecord,
  InlineQuotaError,
  type InlineUndo,
  MAX_ROLE_TAGS,
  recordOf,
  RecordTooLargeError,
  tagChanges
} from './roleRecord.js'
import type {
  CloudWatchOffChange,
  InlinePolicy,
  ManagedDocument,
  ManagedGrant,
  RoleState,
  WritePlan
} from './roleModel.js'
import { SECRET_POLICY_TAG } from './secretAccess.js'

/** Whether the plan writes nothing. */
export const isEmptyPlan = (plan: WritePlan): boolean =>
  Object.keys(plan.tags.set).length === 0 &&
  plan.tags.remove.length === 0 &&
  plan.attach.length === 0 &&
  plan.detach.length === 0 &&
  plan.put.length === 0 &&
  plan.delete.length === 0

/** The role's tags after `tags` is written. */
export function withTags(
  role: RoleState,
  tags: { set: Record<string, string>; remove: string[] }
): Record<string, string> {
  const removed = new Set([...tags.remove, ...Object.keys(tags.set)].map((key) => key.toLowerCase()))
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(role.tags)) if (!removed.has(key.toLowerCase())) out[key] = value
  return { ...out, ...tags.set }
}

/** The role's inline policies after these puts and deletes. */
export function inlineAfter(
  role: RoleState,
  put: ReadonlyArray<{ name: string; text: string }>,
  deleted: readonly string[]
): InlinePolicy[] {
  const puts = new Map(put.map((p) => [p.name, p.text]))
  const out: InlinePolicy[] = []
  for (const policy of role.inline) {
    if (deleted.includes(policy.name)) continue
    const text = puts.get(policy.name)
    if (text === undefined) out.push(policy)
    else {
      out.push({ name: policy.name, text, document: parsePolicyDocument(text) })
      puts.delete(policy.name)
    }
  }
  for (const [name, text] of puts) out.push({ name, text, document: parsePolicyDocument(text) })
  return out
}

/** Refuses inline policies larger in all than IAM allows a role. */
export function checkInlineQuota(role: RoleState, inline: readonly InlinePolicy[]): void {
  const total = inline.reduce((sum, policy) => sum + policySize(policy.text), 0)
  if (total > ROLE_INLINE_POLICY_QUOTA)
    throw new InlineQuotaError(
      `Role ${role.name}: its inline policies would take ${total} characters; IAM allows ${ROLE_INLINE_POLICY_QUOTA} ` +
        `per role in all. Nothing was changed. Give the functions separate roles, or move inline policies to managed ones.`
    )
}

/**
 * The role after a secret-access plan (tags and inline policies), refused before any write when it
 * would exceed IAM's tag or inline-policy quota.
 */
export function secretPlanAfter(role: RoleState, plan: WritePlan): RoleState {
  const tags = withTags(role, plan.tags)
  if (Object.keys(tags).length > MAX_ROLE_TAGS)
    throw new RecordTooLargeError(
      `Role ${role.name}: recording the secret-access policy needs the tag ${SECRET_POLICY_TAG} and the role has ` +
        `${Object.keys(role.tags).length} tags; a role has at most ${MAX_ROLE_TAGS}. Nothing was changed. Free one of ` +
        'its tags, or grant the execution role the secret access yourself.'
    )
  const inline = inlineAfter(role, plan.put, plan.delete)
  if (plan.put.length > 0) checkInlineQuota(role, inline)
  return { ...role, tags, inline }
}

/** What a deny or detach writes, and what it did to the role. */
export interface PlannedChange {
  readonly plan: WritePlan
  readonly change: CloudWatchOffChange
}

/** The log groups' ARNs, normalised, once each, sorted. */
export const sortedGroups = (logGroups: readonly string[]): string[] =>
  [...new Set(logGroups.map((group) => parseLogGroupArn(group).arn))].sort()

/** deny: merge the groups into the role's deny policy. Pure. */
export function planDeny(role: RoleState, logGroups: readonly string[]): PlannedChange {
  const groups = sortedGroups(logGroups)
  const existing = role.inline.find((policy) => policy.name === DENY_POLICY_NAME)
  const merged = mergeDenyPolicy(existing?.document, groups)
  const put =
    existing && sameJson(existing.document, merged)
      ? []
      : [{ name: DENY_POLICY_NAME, text: serializePolicyDocument(merged) }]
  const inline = inlineAfter(role, put, [])
  checkInlineQuota(role, inline)
  const record = recordOf(role.tags)
  const tags = tagChanges(role, { ...record, denyPolicy: DENY_POLICY_NAME })
  const plan: WritePlan = { tags, attach: [], detach: [], put, delete: [] }
  const before = deniedGroupsOf(existing?.document)
  const after: RoleState = { ...role, tags: withTags(role, tags), inline }
  return {
    plan,
    change: {
      role: role.name,
      method: 'deny',
      logGroups: groups,
      changed: !isEmptyPlan(plan),
      detached: [],
      inlineEdited: [],
      inlineDeleted: [],
      denyPolicy: {
        name: DENY_POLICY_NAME,
        groups: deniedGroupsOf(merged),
        added: deniedGroupsOf(merged).filter((group) => !before.includes(group)),
        ...(existing ? { before: existing.document } : {}),
        after: merged
      },
      customerManagedStillGranting: [],
      otherAwsManaged: [],
      unresolved: [],
      warnings: [],
      after
    }
  }
}

/** The three actions a document allows (or may allow) on any of the groups. */
function actionsGranted(document: PolicyDocument, groups: readonly string[]): LogWriteAction[] {
  const granted = new Set<LogWriteAction>()
  for (const group of groups)
    for (const decision of decideLogWrites([{ source: '', analysis: analyzeLogWrites(document, group) }]))
      if (decision.verdict === 'allowed' || decision.verdict === 'conditional') granted.add(decision.action)
  return LOG_WRITE_ACTIONS.filter((action) => granted.has(action))
}

/**

/** The inline policies with the three actions stripped for the groups, and the record of what was taken. */
function stripInlineWrites(role: RoleState, groups: readonly string[]) {
  const put: Array<{ name: string; text: string }> = []
  const deleted: string[] = []
  const inlineEdited: Array<{ name: string; before: PolicyDocument; after: PolicyDocument }> = []
  const inlineDeleted: Array<{ name: string; before: PolicyDocument }> = []
  const unresolved: Array<UnresolvedGrant & { policy: string }> = []
  const batch: InlineUndo[] = []
  for (const policy of role.inline) {
    if (policy.name === DENY_POLICY_NAME) continue
    const result = stripLogWrites(policy.document, { logGroupArns: groups })
    for (const item of result.unresolved) unresolved.push({ policy: policy.name, ...item })
    if (!result.changed) continue
    if (result.document === undefined) {
      deleted.push(policy.name)
      inlineDeleted.push({ name: policy.name, before: policy.document })
      batch.push({ kind: 'policy', policy: policy.name, document: policy.text })
    } else {
      put.push({ name: policy.name, text: serializePolicyDocument(result.document) })
      inlineEdited.push({ name: policy.name, before: policy.document, after: result.document })
      for (const edit of result.edits)
        batch.push({
          kind: 'statement',
          policy: policy.name,
          index: edit.index,
          original: edit.before,
          removed: edit.after === undefined
        })
    }
  }
  return { put, deleted, inlineEdited, inlineDeleted, unresolved, batch }
}

/**
 * The attached managed policies, other than those detached, that still grant (or may grant) the writes,
 * each with its fix; a policy that could not be read is judged by what it is and warned about.
 */
function managedStillGranting(
  role: RoleState,
  groups: readonly string[],
  detach: readonly string[],
  managed: ReadonlyMap<string, ManagedDocument>
) {
  const customerManagedStillGranting: ManagedGrant[] = []
  const otherAwsManaged: ManagedGrant[] = []
  const warnings: string[] = []
  for (const policy of role.attached) {
    if (detach.includes(policy.arn)) continue
    const awsManaged = isAwsManagedPolicyArn(policy.arn)
    const known = awsManagedLogWriter(policy.arn)
    const source = managed.get(policy.arn)
    let actions: LogWriteAction[]
    let unreadable: string | undefined
    if (source && 'document' in source) actions = actionsGranted(source.document, groups)
    else {
      unreadable = source && 'error' in source ? source.error : 'not read'
      // Unread: an AWS managed policy is judged by the known list; a customer-managed one may grant.
      actions = awsManaged && !known ? [] : [...LOG_WRITE_ACTIONS]
      warnings.push(
        `Role ${role.name}: could not read ${policy.arn} (${unreadable}); ` +
          (actions.length > 0
            ? 'it is taken to grant CloudWatch Logs writes.'
            : 'it is taken not to grant CloudWatch Logs writes.')
      )
    }
    if (actions.length === 0) continue
    const list = actions.join(', ')
    if (awsManaged) {
      const instead = known?.instead
      otherAwsManaged.push({
        arn: policy.arn,
        name: policy.name,
        actions,
        logGroups: groups,
        fix:
          `AWS managed policy ${policy.name} on role ${role.name} also allows ${list}, so CloudWatch Logs stays on. ` +
          (instead ? `Attach ${instead} instead, ` : 'Replace it with a policy without those actions, ') +
          'or use cloudwatch-off-method: deny.'
      })
    } else {
      customerManagedStillGranting.push({
        arn: policy.arn,
        name: policy.name,
        actions,
        logGroups: groups,
        fix:
          `Customer-managed policy ${policy.arn} on role ${role.name} still allows ${list} on ${groups.join(', ')}. ` +
          'The action never edits it (other roles may use it): remove those actions from it (a new default policy version), ' +
          `detach it from ${role.name}, or use cloudwatch-off-method: deny.`
      })
    }
  }
  for (const grant of [...customerManagedStillGranting, ...otherAwsManaged]) warnings.push(grant.fix)
  return { customerManagedStillGranting, otherAwsManaged, warnings }
}

/**
 * detach: detach AWSLambdaBasicExecutionRole, strip the three actions from the inline policies whose
 * statements may cover the groups, report every managed policy that still grants them. Pure: the
 * attached managed policies' documents come in `managed` (by ARN).
 */
export function planDetach(
  role: RoleState,
  logGroups: readonly string[],
  managed: ReadonlyMap<string, ManagedDocument>
): PlannedChange {
  const groups = sortedGroups(logGroups)
  const record = recordOf(role.tags)
  const detach = role.attached.filter((policy) => isBasicExecutionPolicyArn(policy.arn)).map((policy) => policy.arn)
  const { put, deleted, inlineEdited, inlineDeleted, unresolved, batch } = stripInlineWrites(role, groups)
  if (batch.length > 0 && record.problem)
    throw new RecordTooLargeError(
      `Role ${role.name}: ${record.problem}. Nothing was changed: restore or remove those tags first, or use cloudwatch-off-method: deny.`
    )
  const inline = inlineAfter(role, put, deleted)
  checkInlineQuota(role, inline)

  const newRecord: CloudWatchOffRecord = {
    ...record,
    detached: [...new Set([...record.detached, ...detach])],
    inline: batch.length > 0 ? [...record.inline, batch] : record.inline
  }
  const tags = hasRecord(newRecord) || hasRecord(record) ? tagChanges(role, newRecord) : { set: {}, remove: [] }
  const { customerManagedStillGranting, otherAwsManaged, warnings } = managedStillGranting(
    role,
    groups,
    detach,
    managed
  )
  for (const item of unresolved)
    warnings.push(
      `Role ${role.name}: inline policy ${item.policy}, statement ${item.sid ?? `#${item.index}`}: ${item.reason}; it was left as it was.`
    )

  const plan: WritePlan = { tags, attach: [], detach, put, delete: deleted }
  return {
    plan,
    change: {
      role: role.name,
      method: 'detach',
      logGroups: groups,
      changed: !isEmptyPlan(plan),
      detached: detach,
      inlineEdited,
      inlineDeleted,
      customerManagedStillGranting,
      otherAwsManaged,
      unresolved,
      warnings,
      after: {
        ...role,
        tags: withTags(role, tags),
        attached: role.attached.filter((policy) => !detach.includes(policy.arn)),
        inline
      }
    }
  }
}
