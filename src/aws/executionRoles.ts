/**
 * The IAM edge of `cloudwatch-logs: off`: reads Lambda execution roles, switches their CloudWatch Logs
 * writes off (deny or detach), records what it did in the role's tags, undoes exactly that, and says
 * which policies still grant the writes. The policy logic itself is pure, in logPermissions.ts.
 *
 * The record (role tags, keys prefixed `rotel-clickstack-action:`):
 * - `…:deny-policy` = `RotelClickStackDenyCloudWatchLogs` – the inline deny policy is the action's
 *   (its log groups are in the policy itself; nothing else needs recording);
 * - `…:detached` = the managed policy ARNs the action detached, space-separated (only ever
 *   AWSLambdaBasicExecutionRole);
 * - `…:inline-undo-00`, `-01`, … = what the action took out of inline policies: the original of each
 *   statement it changed or removed (with its position), and the original text of each policy it
 *   deleted, one batch per run – JSON, deflated (zlib, whose Adler-32 check makes a lost or damaged
 *   chunk an error rather than a wrong restore), base64url, cut into 256-character tag values.
 *   A role has at most 50 tags: if the record does not fit beside the role's own tags, the role is
 *   not changed at all (never make a change that cannot be undone) and the error says to use the deny
 *   method. The originals are never kept in an inline policy: that would spend the role's
 *   10,240-character inline quota, and a document is a live policy, not storage.
 * `…:secret-policy` = `RotelClickStackReadIngestionSecret` is no part of this record: it is
 *   grant-secret-access's record of its own inline policy (secretAccess.ts), which applying and undoing
 *   this record leave alone.
 * The record is checked before it is used: a statement is put back only where the role still has
 *   exactly what the action left (the stripped statement), and only if stripping the recorded original
 *   gives that statement – so a restore can only add back CloudWatch Logs write permissions, even if
 *   someone with iam:TagRole edited the tags; only AWSLambdaBasicExecutionRole is ever re-attached.
 *
 * Writes: on apply the record (tags) first, then the policy changes (grant-secret-access's own tag
 * comes after its policy: grantSecretAccess) – a failure in between leaves a
 * record of more than was done, which undo tolerates (every restore step is idempotent). On undo the
 * policy changes first, then the tags. IAM has no conditional writes: within one run every role goes
 * through RoleCoordinator, one task at a time; two runs of the action on the same roles at once
 * should be serialised with the workflow's `concurrency:`.
 */
import { deflateSync, inflateSync } from 'node:zlib'
import {
  AttachRolePolicyCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  UntagRoleCommand
} from '@aws-sdk/client-iam'
import {
  type AnalyzedSource,
  analyzeLogWrites,
  awsManagedLogWriter,
  DENY_POLICY_NAME,
  decideLogWrites,
  decodePolicyText,
  deniedGroupsOf,
  isAwsManagedPolicyArn,
  isBasicExecutionPolicyArn,
  LOG_WRITE_ACTIONS,
  type LogWriteAction,
  type LogWriteDecision,
  mergeDenyPolicy,
  parseLogGroupArn,
  parsePolicyDocument,
  type PolicyDocument,
  type PolicyStatement,
  policySize,
  removeGroupsFromDeny,
  ROLE_INLINE_POLICY_QUOTA,
  sameJson,
  serializePolicyDocument,
  statementsOf,
  stripLogWrites,
  stripStatement,
  type UnresolvedGrant
} from '../core/logPermissions.js'
import { errorName, messageOf } from '../core/errors.js'
import {
  isExactResource,
  missingSecretAccess,
  planSecretGrant,
  planSecretGrantUndo,
  reportOf,
  type SecretAccessDecision,
  type SecretAccessReport,
  type SecretAccessVerdict,
  type SecretGrantPlan,
  type SecretGrantUndoPlan,
  type SecretNeed,
  SECRET_POLICY_TAG,
  VIA_SERVICE
} from '../core/secretAccess.js'
import {
  type AttachedPolicy,
  type CloudWatchOffChange,
  type CloudWatchOffMethod,
  type InlinePolicy,
  type ManagedDocument,
  type ManagedGrant,
  policyNameOf,
  type RoleState,
  type UndoResult,
  type WritePlan
} from '../core/roleModel.js'
import { iamArnLocation, roleNameOfArn } from '../core/arns.js'
import { Slots } from '../core/concurrency.js'

export const TAG_PREFIX = 'rotel-clickstack-action:'
export const DENY_TAG = `${TAG_PREFIX}deny-policy`
export const DETACHED_TAG = `${TAG_PREFIX}detached`
export const INLINE_UNDO_TAG_PREFIX = `${TAG_PREFIX}inline-undo-`
export const MAX_ROLE_TAGS = 50
export const MAX_TAG_VALUE_LENGTH = 256

/** `my-role` from `my-role` or `arn:aws:iam::123456789012:role/service-role/my-role`. */
export function roleNameOf(nameOrArn: string): string {
  if (!nameOrArn.startsWith('arn:')) return nameOrArn
  const name = roleNameOfArn(nameOrArn)
  if (!name) throw new Error(`not an IAM role ARN: ${nameOrArn}`)
  return name
}

// ---------------------------------------------------------------------------------------------
// The record in the role's tags

export interface StatementUndo {
  readonly kind: 'statement'
  readonly policy: string
  /** Position of the statement in the policy before the change. */
  readonly index: number
  readonly original: PolicyStatement
  /** The change removed the statement entirely. */
  readonly removed: boolean
}

export interface PolicyUndo {
  readonly kind: 'policy'
  readonly policy: string
  /** The deleted policy's text, as it was. */
  readonly document: string
}

export type InlineUndo = StatementUndo | PolicyUndo

export interface CloudWatchOffRecord {
  /** The action's inline deny policy, when it put one. */
  readonly denyPolicy?: string
  /** Managed policies it detached. */
  readonly detached: readonly string[]
  /** What it took out of inline policies: one batch per run that did, oldest first. */
  readonly inline: ReadonlyArray<readonly InlineUndo[]>
  /** Why the inline record could not be read (lost or damaged tags); nothing is restored from it then. */
  readonly problem?: string
}

/** A tag of the CloudWatch Logs record. The secret-access record (SECRET_POLICY_TAG) is kept apart from it. */
const isOurTag = (key: string): boolean => key.toLowerCase().startsWith(TAG_PREFIX) && key.toLowerCase() !== SECRET_POLICY_TAG

type EncodedEntry = ['s', string, number, PolicyStatement, 0 | 1] | ['p', string, string]

function encodeInline(batches: ReadonlyArray<readonly InlineUndo[]>): string {
  const encoded: EncodedEntry[][] = batches.map((batch) =>
    batch.map((entry): EncodedEntry =>
      entry.kind === 'statement'
        ? ['s', entry.policy, entry.index, entry.original, entry.removed ? 1 : 0]
        : ['p', entry.policy, entry.document]
    )
  )
  return deflateSync(Buffer.from(JSON.stringify({ v: 1, b: encoded })), { level: 9 }).toString('base64url')
}

function decodeInline(text: string): InlineUndo[][] {
  const value = JSON.parse(inflateSync(Buffer.from(text, 'base64url')).toString('utf8')) as { v?: unknown; b?: unknown }
  if (value.v !== 1 || !Array.isArray(value.b)) throw new Error('unknown record format')
  return value.b.map((batch: unknown) => {
    if (!Array.isArray(batch)) throw new Error('malformed batch')
    return batch.map((entry: unknown): InlineUndo => {
      if (!Array.isArray(entry)) throw new Error('malformed entry')
      const [kind, policy] = entry as [unknown, unknown]
      if (typeof policy !== 'string') throw new Error('malformed entry')
      if (kind === 's') {
        const [, , index, original, removed] = entry as [unknown, unknown, unknown, unknown, unknown]
        if (typeof index !== 'number' || typeof original !== 'object' || original === null || Array.isArray(original))
          throw new Error('malformed statement entry')
        return { kind: 'statement', policy, index, original: original as PolicyStatement, removed: removed === 1 }
      }
      if (kind === 'p' && typeof entry[2] === 'string') return { kind: 'policy', policy, document: entry[2] }
      throw new Error('malformed entry')
    })
  })
}

/** The action's tags for this record (only its own keys). */
export function recordTags(record: CloudWatchOffRecord): Record<string, string> {
  const tags: Record<string, string> = {}
  if (record.denyPolicy) tags[DENY_TAG] = record.denyPolicy
  if (record.detached.length > 0) tags[DETACHED_TAG] = record.detached.join(' ')
  if (record.inline.length > 0) {
    const text = encodeInline(record.inline)
    for (let i = 0, n = 0; i < text.length; i += MAX_TAG_VALUE_LENGTH, n++)
      tags[`${INLINE_UNDO_TAG_PREFIX}${String(n).padStart(2, '0')}`] = text.slice(i, i + MAX_TAG_VALUE_LENGTH)
  }
  return tags
}

/** The record in these tags (tag keys compared case-insensitively, as IAM does). */
export function recordOf(tags: Readonly<Record<string, string>>): CloudWatchOffRecord {
  const lower = new Map(Object.entries(tags).map(([key, value]) => [key.toLowerCase(), value]))
  const denyPolicy = lower.get(DENY_TAG)
  const detached = (lower.get(DETACHED_TAG) ?? '').split(/\s+/).filter(Boolean)
  const chunks = [...lower.keys()].filter((key) => key.startsWith(INLINE_UNDO_TAG_PREFIX)).sort()
  let inline: InlineUndo[][] = []
  let problem: string | undefined
  if (chunks.length > 0) {
    const expected = chunks.every((key, i) => key === `${INLINE_UNDO_TAG_PREFIX}${String(i).padStart(2, '0')}`)
    try {
      if (!expected) throw new Error(`tags ${chunks.join(', ')} are not numbered 00 onwards`)
      inline = decodeInline(chunks.map((key) => lower.get(key) ?? '').join(''))
    } catch (error) {
      problem = `the undo record in the tags ${INLINE_UNDO_TAG_PREFIX}* cannot be read (${messageOf(error)})`
    }
  }
  return {
    ...(denyPolicy ? { denyPolicy } : {}),
    detached,
    inline,
    ...(problem !== undefined ? { problem } : {})
  }
}

export const hasRecord = (record: CloudWatchOffRecord): boolean =>
  record.denyPolicy !== undefined || record.detached.length > 0 || record.inline.length > 0 || record.problem !== undefined

/** What to tag and untag so that the role's tags hold `record`; throws when it cannot fit. */
export function tagChanges(
  role: RoleState,
  record: CloudWatchOffRecord
): { set: Record<string, string>; remove: string[] } {
  const desired = recordTags(record)
  const current = Object.entries(role.tags).filter(([key]) => isOurTag(key))
  // An unreadable inline record is kept as it is: it is all there is of those originals.
  if (record.problem)
    for (const [key, value] of current)
      if (key.toLowerCase().startsWith(INLINE_UNDO_TAG_PREFIX)) desired[key.toLowerCase()] = value
  const others = Object.keys(role.tags).length - current.length
  const ours = Object.keys(desired).length
  if (others + ours > MAX_ROLE_TAGS) {
    throw new RecordTooLargeError(
      `Role ${role.name}: the record of what the action changes needs ${ours} tags and the role has ${others} of its own; ` +
        `a role has at most ${MAX_ROLE_TAGS}. Nothing was changed. Use cloudwatch-off-method: deny for this role, ` +
        `or free some of its tags.`
    )
  }
  const currentByLower = new Map(current.map(([key, value]) => [key.toLowerCase(), { key, value }]))
  const set: Record<string, string> = {}
  for (const [key, value] of Object.entries(desired)) if (currentByLower.get(key)?.value !== value) set[key] = value
  const remove = current.filter(([key]) => !(key.toLowerCase() in desired)).map(([key]) => key)
  return { set, remove }
}

export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError'
}

export class InlineQuotaError extends Error {
  override readonly name = 'InlineQuotaError'
}

// ---------------------------------------------------------------------------------------------
// Results

export interface PolicySourceReport {
  readonly kind: 'inline' | 'aws-managed' | 'customer-managed'
  readonly name: string
  readonly arn?: string
  /** Allowed, unconditionally or under a Condition. */
  readonly allows: readonly LogWriteAction[]
  readonly conditional: readonly LogWriteAction[]
  readonly denies: readonly LogWriteAction[]
  /** Its document could not be read: why. */
  readonly unreadable?: string
}

export interface LogWriteReport {
  readonly role: string
  readonly logGroupArn: string
  /** `simulation`: IAM's policy simulator decided `granted`; `static`: the analysis of the documents did. */
  readonly method: 'static' | 'simulation'
  /** The static decision per action, across all the role's policies. */
  readonly decisions: readonly LogWriteDecision[]
  /** Actions the role may use on the group (allowed, conditionally allowed, or undecidable). */
  readonly granted: readonly LogWriteAction[]
  readonly sources: readonly PolicySourceReport[]
  readonly notes: readonly string[]
}

/** grant-secret-access: true – what one call did to the role. */
export interface SecretGrantChange {
  readonly role: string
  /** Whether anything was written. */
  readonly changed: boolean
  /** The inline policy SECRET_POLICY_NAME before and after. */
  readonly policy: SecretGrantPlan['policy']
  /** Needs the policy did not hold before this call. */
  readonly added: readonly SecretNeed[]
  /** What the role may read after the write (static analysis: a Deny elsewhere still blocks). */
  readonly report: SecretAccessReport
  /** Sentences for annotations: what the grant could not fix (a Deny), empty otherwise. */
  readonly warnings: readonly string[]
  /** The role as it is after this call (not re-read). */
  readonly after: RoleState
}

/** After an apply: what cutting the secret grant down to the run's needs did. */
export interface SecretGrantUndo {
  readonly role: string
  readonly changed: boolean
  readonly policy?: SecretGrantUndoPlan['policy']
  /** `ACTION on RESOURCE` and `kms:ViaService` values the grant no longer holds. */
  readonly dropped: readonly string[]
  readonly tagsRemoved: readonly string[]
  readonly after: RoleState
}

/** grant-secret-access for one function's role: `check` only reports, `grant` also writes. */
export interface SecretAccessOutcome {
  readonly mode: 'check' | 'grant'
  /** check: the role as it is; grant: the role after the write. */
  readonly report: SecretAccessReport
  readonly grant?: SecretGrantChange
}

// ---------------------------------------------------------------------------------------------
// Pure planning

const isEmptyPlan = (plan: WritePlan): boolean =>
  Object.keys(plan.tags.set).length === 0 &&
  plan.tags.remove.length === 0 &&
  plan.attach.length === 0 &&
  plan.detach.length === 0 &&
  plan.put.length === 0 &&
  plan.delete.length === 0

function withTags(role: RoleState, tags: { set: Record<string, string>; remove: string[] }): Record<string, string> {
  const removed = new Set([...tags.remove, ...Object.keys(tags.set)].map((key) => key.toLowerCase()))
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(role.tags)) if (!removed.has(key.toLowerCase())) out[key] = value
  return { ...out, ...tags.set }
}

function inlineAfter(
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

function checkInlineQuota(role: RoleState, inline: readonly InlinePolicy[]): void {
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

export interface PlannedChange {
  readonly plan: WritePlan
  readonly change: CloudWatchOffChange
}

const sortedGroups = (logGroups: readonly string[]): string[] =>
  [...new Set(logGroups.map((group) => parseLogGroupArn(group).arn))].sort()

/** deny: merge the groups into the role's deny policy. Pure. */
export function planDeny(role: RoleState, logGroups: readonly string[]): PlannedChange {
  const groups = sortedGroups(logGroups)
  const existing = role.inline.find((policy) => policy.name === DENY_POLICY_NAME)
  const merged = mergeDenyPolicy(existing?.document, groups)
  const put = existing && sameJson(existing.document, merged) ? [] : [{ name: DENY_POLICY_NAME, text: serializePolicyDocument(merged) }]
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
        batch.push({ kind: 'statement', policy: policy.name, index: edit.index, original: edit.before, removed: edit.after === undefined })
    }
  }
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
          (actions.length > 0 ? 'it is taken to grant CloudWatch Logs writes.' : 'it is taken not to grant CloudWatch Logs writes.')
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

interface RestorePlan {
  readonly put: Array<{ name: string; text: string }>
  readonly restored: Array<{ name: string; before?: PolicyDocument; after: PolicyDocument }>
  readonly conflicts: string[]
}

/** Where the action's inline undo record can be applied to the role's inline policies as they are now. Pure. */
export function planInlineRestore(role: RoleState, record: CloudWatchOffRecord): RestorePlan {
  const conflicts: string[] = []
  if (record.problem) return { put: [], restored: [], conflicts: [`Role ${role.name}: ${record.problem}; inline policies were not restored.`] }
  const docs = new Map<string, { before?: PolicyDocument; document: PolicyDocument }>()
  for (const policy of role.inline) docs.set(policy.name, { before: policy.document, document: policy.document })
  const touched = new Set<string>()
  const deletedTexts = new Map<string, string>()

  // Later runs first; within one run, statements in their original order (so positions come back right).
  for (const batch of [...record.inline].reverse()) {
    const order = (entry: InlineUndo): number => (entry.kind === 'policy' ? -1 : entry.index)
    for (const entry of [...batch].sort((a, b) => order(a) - order(b))) {
      const where = `Role ${role.name}, inline policy ${entry.policy}`
      if (entry.kind === 'policy') {
        let original: PolicyDocument
        try {
          original = parsePolicyDocument(entry.document)
        } catch (error) {
          conflicts.push(`${where}: the recorded document cannot be read (${messageOf(error)}); not restored.`)
          continue
        }
        if (stripLogWrites(original).document !== undefined) {
          conflicts.push(`${where}: the recorded document grants more than CloudWatch Logs writes; not restored (the record was changed).`)
          continue
        }
        const current = docs.get(entry.policy)
        if (current) {
          if (!sameJson(current.document, original))
            conflicts.push(`${where} exists again with other content; the policy the action deleted was not put back: ${entry.document}`)
          continue
        }
        docs.set(entry.policy, { document: original })
        deletedTexts.set(entry.policy, entry.document)
        touched.add(entry.policy)
        continue
      }
      const stripped = stripStatement(entry.original)
      const label = `statement ${entry.original.Sid ?? `#${entry.index}`}`
      if (!stripped.changed || (entry.removed ? stripped.statement !== undefined : stripped.statement === undefined)) {
        conflicts.push(`${where}, ${label}: the recorded original does not strip to what the action left; not restored (the record was changed).`)
        continue
      }
      const current = docs.get(entry.policy)
      if (!current) {
        conflicts.push(`${where} no longer exists; ${label} was not restored: ${JSON.stringify(entry.original)}`)
        continue
      }
      const statements = statementsOf(current.document)
      if (statements.some((statement) => sameJson(statement, entry.original))) continue // already there
      let next: PolicyStatement[]
      if (entry.removed) {
        next = [...statements]
        next.splice(Math.min(entry.index, next.length), 0, entry.original)
      } else {
        const at = sameJson(statements[entry.index], stripped.statement)
          ? entry.index
          : statements.findIndex((statement) => sameJson(statement, stripped.statement))
        if (at < 0) {
          conflicts.push(`${where}, ${label} changed since the action edited it; not restored: ${JSON.stringify(entry.original)}`)
          continue
        }
        next = statements.map((statement, i) => (i === at ? entry.original : statement))
      }
      const [first] = next
      const single = !Array.isArray(current.document.Statement) && next.length === 1 && first !== undefined
      docs.set(entry.policy, { ...current, document: { ...current.document, Statement: single ? first : next } })
      touched.add(entry.policy)
    }
  }
  const put: Array<{ name: string; text: string }> = []
  const restored: Array<{ name: string; before?: PolicyDocument; after: PolicyDocument }> = []
  for (const name of touched) {
    const entry = docs.get(name)
    if (!entry) continue
    put.push({ name, text: deletedTexts.get(name) ?? serializePolicyDocument(entry.document) })
    restored.push({ name, ...(entry.before ? { before: entry.before } : {}), after: entry.document })
  }
  return { put, restored, conflicts }
}

/**
 * remove: undo what the record says – the deny policy loses these groups (all of them when omitted) and
 * goes when empty; detached policies are attached again; inline statements come back; the tags go.
 * Detach and inline edits are role-wide, so they are undone whichever of the role's groups are given.
 * Pure.
 */
export function planUndo(role: RoleState, logGroups?: readonly string[]): { plan: WritePlan; result: UndoResult } {
  const record = recordOf(role.tags)
  const put: Array<{ name: string; text: string }> = []
  const deleted: string[] = []
  let denyPolicy: UndoResult['denyPolicy']
  const deny = role.inline.find((policy) => policy.name === DENY_POLICY_NAME)
  let denyLeft = false
  if (deny) {
    const next = logGroups ? removeGroupsFromDeny(deny.document, sortedGroups(logGroups)) : undefined
    if (next === undefined) deleted.push(DENY_POLICY_NAME)
    else if (!sameJson(next, deny.document)) put.push({ name: DENY_POLICY_NAME, text: serializePolicyDocument(next) })
    denyLeft = next !== undefined
    denyPolicy = { name: DENY_POLICY_NAME, deleted: next === undefined, remainingGroups: next ? deniedGroupsOf(next) : [] }
  }

  const attachedNow = new Set(role.attached.map((policy) => policy.arn))
  const conflicts: string[] = []
  const attach: string[] = []
  for (const arn of record.detached) {
    if (!isBasicExecutionPolicyArn(arn)) {
      conflicts.push(
        `Role ${role.name}: the record names ${arn} as detached; the action only ever detaches ` +
          'AWSLambdaBasicExecutionRole, so it is not attached.'
      )
      continue
    }
    if (!attachedNow.has(arn)) attach.push(arn)
  }

  const restore = planInlineRestore(role, record)
  conflicts.push(...restore.conflicts)
  put.push(...restore.put)

  // Inline entries that could not be applied stay recorded (all of them: nothing is lost); the rest goes.
  const keepInline = restore.conflicts.length > 0 && record.inline.length + (record.problem ? 1 : 0) > 0
  const desired = recordTags({ ...(denyLeft ? { denyPolicy: DENY_POLICY_NAME } : {}), detached: [], inline: [] })
  const set: Record<string, string> = {}
  const current = new Map(Object.entries(role.tags).map(([key, value]) => [key.toLowerCase(), value]))
  for (const [key, value] of Object.entries(desired)) if (current.get(key) !== value) set[key] = value
  const remove = Object.keys(role.tags).filter(
    (key) =>
      isOurTag(key) &&
      !(key.toLowerCase() in desired) &&
      !(keepInline && key.toLowerCase().startsWith(INLINE_UNDO_TAG_PREFIX))
  )
  const tags = { set, remove }

  const plan: WritePlan = { tags, attach, detach: [], put, delete: deleted }
  const attachedAfter = [...role.attached, ...attach.map((arn) => ({ arn, name: policyNameOf(arn) }))]
  return {
    plan,
    result: {
      role: role.name,
      changed: !isEmptyPlan(plan),
      reattached: attach,
      inlineRestored: restore.restored,
      ...(denyPolicy ? { denyPolicy } : {}),
      conflicts,
      tagsRemoved: tags.remove,
      after: { ...role, tags: withTags(role, tags), attached: attachedAfter, inline: inlineAfter(role, put, deleted) }
    }
  }
}

/**
 * check: what in the role's state differs from "CloudWatch Logs off" for this group, in words; empty
 * when in sync. `report` is logWriteGrants' answer for the group.
 */
export function cloudWatchDrift(role: RoleState, report: LogWriteReport): string[] {
  const drift: string[] = []
  const record = recordOf(role.tags)
  if (record.denyPolicy && !role.inline.some((policy) => policy.name === record.denyPolicy))
    drift.push(`role ${role.name} lost the deny policy ${record.denyPolicy}`)
  for (const arn of record.detached)
    if (role.attached.some((policy) => policy.arn === arn)) drift.push(`role ${role.name} has ${policyNameOf(arn)} attached again`)
  if (report.granted.length > 0) {
    const who = report.sources.filter((s) => s.allows.length > 0 || s.unreadable).map((s) => s.arn ?? s.name)
    drift.push(
      `role ${role.name} ${hasRecord(record) ? 'again lets' : 'lets'} Lambda write ${report.logGroupArn} ` +
        `(${report.granted.join(', ')}${who.length > 0 ? ` via ${who.join(', ')}` : ''})${unreadableNote(report)}`
    )
  }
  return drift
}

/**
 * Why policies counted as granting were not read, or '': without it a policy that grants no logs action
 * at all would be named as the one that does, when the deploy role only may not read it.
 */
function unreadableNote(report: LogWriteReport): string {
  const unread = report.sources.filter((source) => source.unreadable && source.allows.length > 0)
  if (unread.length === 0) return ''
  const one = unread.length === 1
  return (
    `; ${unread.map((source) => `${source.arn ?? source.name} could not be read (${source.unreadable ?? ''})`).join('; ')}, ` +
    `so ${one ? 'it is' : 'they are'} counted as granting – the deploy role needs iam:GetPolicy and iam:GetPolicyVersion ` +
    `on ${one ? 'it' : 'them'} to tell (see README, Permissions)`
  )
}

/** Why CloudWatch Logs still received logs after the test invocation, for the failure message. */
export function explainLogsStillOn(report: LogWriteReport): string {
  if (report.granted.length > 0) {
    const who = report.sources
      .filter((source) => source.allows.length > 0 || source.unreadable)
      .map((source) => `${source.kind} policy ${source.arn ?? source.name}${source.unreadable ? ' (unreadable)' : ` (${source.allows.join(', ')})`}`)
    return `role ${report.role} still lets Lambda write ${report.logGroupArn}: ${who.length > 0 ? who.join('; ') : report.granted.join(', ')}${unreadableNote(report)}`
  }
  return (
    `no policy of role ${report.role} lets Lambda write ${report.logGroupArn} any more; IAM changes can take a few ` +
    'seconds to apply everywhere, so logs written meanwhile still arrive – run the check again later'
  )
}

// ---------------------------------------------------------------------------------------------
// The IAM edge

export interface ExecutionRolesOptions {
  /** Ask IAM's policy simulator in logWriteGrants (needs iam:SimulatePrincipalPolicy); default true. */
  readonly simulate?: boolean
}

/** Reads and writes execution roles through one IAM client; managed policy documents are read once per run. */
export class ExecutionRoles {
  private readonly managedDocuments = new Map<string, Promise<ManagedDocument>>()
  private simulate: boolean

  constructor(
    private readonly iam: IAMClient,
    options: ExecutionRolesOptions = {}
  ) {
    this.simulate = options.simulate ?? true
  }

  /** The role, its tags, attached policies and inline policies (all pages). */
  async readRole(nameOrArn: string): Promise<RoleState> {
    const name = roleNameOf(nameOrArn)
    const { Role: role } = await this.iam.send(new GetRoleCommand({ RoleName: name }))
    const arn = role?.Arn ?? ''
    const location = iamArnLocation(arn)
    const tags: Record<string, string> = {}
    let marker: string | undefined
    do {
      const page = await this.iam.send(new ListRoleTagsCommand({ RoleName: name, Marker: marker }))
      for (const tag of page.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? ''
      marker = page.IsTruncated ? page.Marker : undefined
    } while (marker)
    const attached: AttachedPolicy[] = []
    do {
      const page = await this.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, Marker: marker }))
      for (const policy of page.AttachedPolicies ?? [])
        if (policy.PolicyArn) attached.push({ arn: policy.PolicyArn, name: policy.PolicyName ?? policyNameOf(policy.PolicyArn) })
      marker = page.IsTruncated ? page.Marker : undefined
    } while (marker)
    const names: string[] = []
    do {
      const page = await this.iam.send(new ListRolePoliciesCommand({ RoleName: name, Marker: marker }))
      names.push(...(page.PolicyNames ?? []))
      marker = page.IsTruncated ? page.Marker : undefined
    } while (marker)
    const inline: InlinePolicy[] = []
    for (const policyName of names) {
      const { PolicyDocument: encoded = '{}' } = await this.iam.send(
        new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName })
      )
      inline.push({ name: policyName, document: parsePolicyDocument(encoded), text: decodePolicyText(encoded) })
    }
    return {
      name: role?.RoleName ?? name,
      arn,
      partition: location?.partition ?? 'aws',
      account: location?.account ?? '',
      tags,
      attached,
      inline
    }
  }

  /** A managed policy's default version document (cached per run), or why it could not be read. */
  managedPolicyDocument(arn: string): Promise<ManagedDocument> {
    let pending = this.managedDocuments.get(arn)
    if (!pending) {
      pending = (async (): Promise<ManagedDocument> => {
        try {
          const { Policy: policy } = await this.iam.send(new GetPolicyCommand({ PolicyArn: arn }))
          const { PolicyVersion: version } = await this.iam.send(
            new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy?.DefaultVersionId ?? 'v1' })
          )
          return { document: parsePolicyDocument(version?.Document ?? '{}') }
        } catch (error) {
          return { error: `${errorName(error)}: ${messageOf(error)}` }
        }
      })()
      this.managedDocuments.set(arn, pending)
    }
    return pending
  }

  private async managedDocumentsOf(role: RoleState): Promise<Map<string, ManagedDocument>> {
    const entries = await Promise.all(
      role.attached.map(async (policy) => [policy.arn, await this.managedPolicyDocument(policy.arn)] as const)
    )
    return new Map(entries)
  }

  /**
   * Switches CloudWatch Logs writes off for these log groups (ARNs) on this role, as read by readRole.
   * Writes nothing when the role already is as it should be.
   */
  async applyCloudWatchOff(
    role: RoleState,
    options: { readonly method: CloudWatchOffMethod; readonly logGroups: readonly string[] }
  ): Promise<CloudWatchOffChange> {
    const planned = await this.planCloudWatchOff(role, options)
    await this.execute(role.name, planned.plan, 'record-first')
    return planned.change
  }

  /** What applyCloudWatchOff would write (plan mode); reads managed policies, writes nothing. */
  async planCloudWatchOff(
    role: RoleState,
    options: { readonly method: CloudWatchOffMethod; readonly logGroups: readonly string[] }
  ): Promise<PlannedChange> {
    return options.method === 'deny'
      ? planDeny(role, options.logGroups)
      : planDetach(
          role,
          options.logGroups,
          await this.managedDocumentsOf({
            ...role,
            attached: role.attached.filter((policy) => !isBasicExecutionPolicyArn(policy.arn))
          })
        )
  }

  /**
   * Which of this action's records the role carries (one GetRole: its tags come with it), so that a run
   * can leave roles it never changed alone without reading their policies.
   */
  async recordsOn(nameOrArn: string): Promise<{ cloudwatchOff: boolean; secretPolicy: string | undefined }> {
    const { Role: role } = await this.iam.send(new GetRoleCommand({ RoleName: roleNameOf(nameOrArn) }))
    const tags: Record<string, string> = {}
    for (const tag of role?.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? ''
    const secret = Object.entries(tags).find(([key]) => key.toLowerCase() === SECRET_POLICY_TAG)
    return { cloudwatchOff: hasRecord(recordOf(tags)), secretPolicy: secret?.[1] }
  }

  /** remove mode: undoes what the role's record says (see planUndo), and nothing else. */
  async undoCloudWatchOff(role: RoleState, options: { readonly logGroups?: readonly string[] } = {}): Promise<UndoResult> {
    const { plan, result } = planUndo(role, options.logGroups)
    await this.execute(role.name, plan, 'record-last')
    return result
  }

  /**
   * check mode: which of the role's policies let Lambda write the log group, each named; IAM's policy
   * simulator decides when it answers (it also weighs permission boundaries), else the static analysis.
   */
  async logWriteGrants(role: RoleState, logGroupArn: string): Promise<LogWriteReport> {
    const group = parseLogGroupArn(logGroupArn).arn
    const notes: string[] = []
    const sources: PolicySourceReport[] = []
    const analyzed: AnalyzedSource[] = []
    const unreadable = new Set<LogWriteAction>()
    const add = (
      kind: PolicySourceReport['kind'],
      name: string,
      arn: string | undefined,
      source: ManagedDocument
    ): void => {
      if ('error' in source) {
        const known = arn ? awsManagedLogWriter(arn) : undefined
        const mayGrant = kind === 'customer-managed' || known !== undefined
        if (mayGrant) for (const action of LOG_WRITE_ACTIONS) unreadable.add(action)
        sources.push({
          kind,
          name,
          ...(arn ? { arn } : {}),
          allows: mayGrant ? [...LOG_WRITE_ACTIONS] : [],
          conditional: [],
          denies: [],
          unreadable: source.error
        })
        return
      }
      const analysis = analyzeLogWrites(source.document, group)
      analyzed.push({ source: arn ?? name, analysis })
      sources.push({
        kind,
        name,
        ...(arn ? { arn } : {}),
        allows: analysis.filter((a) => a.allows.length > 0).map((a) => a.action),
        conditional: analysis.filter((a) => a.allows.length > 0 && a.allows.every((r) => r.conditional)).map((a) => a.action),
        denies: analysis.filter((a) => a.denies.length > 0).map((a) => a.action)
      })
    }
    for (const policy of role.inline) add('inline', policy.name, undefined, { document: policy.document })
    const managed = await this.managedDocumentsOf(role)
    for (const policy of role.attached)
      add(
        isAwsManagedPolicyArn(policy.arn) ? 'aws-managed' : 'customer-managed',
        policy.name,
        policy.arn,
        managed.get(policy.arn) ?? { error: 'not read' }
      )
    const decisions = decideLogWrites(analyzed)
    let granted = decisions
      .filter((d) => d.verdict === 'allowed' || d.verdict === 'conditional' || (d.verdict === 'not-allowed' && unreadable.has(d.action)))
      .map((d) => d.action)
    if (decisions.some((d) => d.verdict === 'conditional'))
      notes.push('some statements have Conditions, which static analysis does not evaluate: they are counted as granting')
    if (unreadable.size > 0) notes.push('some attached policies could not be read: they are counted as granting')

    let method: LogWriteReport['method'] = 'static'
    if (this.simulate && role.arn) {
      try {
        const simulated = await this.simulateLogWrites(role.arn, group)
        granted = LOG_WRITE_ACTIONS.filter((action) => simulated.has(action))
        method = 'simulation'
      } catch (error) {
        // Not permitted, or not implemented (emulators): static analysis it is, for the rest of the run.
        this.simulate = false
        notes.push(
          `IAM's policy simulator did not answer (${errorName(error)}): static analysis of the role's attached ` +
            'and inline policies decided; permission boundaries and SCPs are not weighed'
        )
      }
    } else {
      notes.push("static analysis of the role's attached and inline policies; permission boundaries and SCPs are not weighed")
    }
    return { role: role.name, logGroupArn: group, method, decisions, granted, sources, notes }
  }

  private async simulateLogWrites(roleArn: string, group: string): Promise<Set<LogWriteAction>> {
    const allowed = new Set<LogWriteAction>()
    let marker: string | undefined
    do {
      const page = await this.iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: roleArn,
          ActionNames: [...LOG_WRITE_ACTIONS],
          ResourceArns: [group, `${group}:log-stream:2000/01/01/[$LATEST]00000000000000000000000000000000`],
          Marker: marker
        })
      )
      for (const result of page.EvaluationResults ?? []) {
        const action = LOG_WRITE_ACTIONS.find((a) => a.toLowerCase() === (result.EvalActionName ?? '').toLowerCase())
        if (!action) continue
        const perResource = result.ResourceSpecificResults ?? []
        const anyAllowed =
          perResource.length > 0 ? perResource.some((r) => r.EvalResourceDecision === 'allowed') : result.EvalDecision === 'allowed'
        if (anyAllowed) allowed.add(action)
      }
      marker = page.IsTruncated ? page.Marker : undefined
    } while (marker)
    return allowed
  }

  /**
   * grant-secret-access: false – which of the needs the role's policies do not grant, each with the
   * policies looked at. IAM's policy simulator decides the needs with exact resources when it answers
   * (it also weighs permission boundaries); a secret named without its suffix is always decided by
   * static analysis.
   */
  async secretAccessReport(role: RoleState, required: readonly SecretNeed[]): Promise<SecretAccessReport> {
    const report = missingSecretAccess(role, await this.managedDocumentsOf(role), required)
    if (required.length === 0) return report
    if (!this.simulate || !role.arn) return report
    const exact = required.filter(isExactResource)
    if (exact.length === 0) return report
    let simulated: Map<string, SecretAccessVerdict>
    try {
      simulated = await this.simulateSecretAccess(role.arn, exact)
    } catch (error) {
      // Not permitted, or not implemented (emulators): static analysis it is, for the rest of the run.
      this.simulate = false
      return {
        ...report,
        notes: [
          `IAM's policy simulator did not answer (${errorName(error)}): static analysis of the role's policies decided`,
          ...report.notes
        ]
      }
    }
    const decisions: SecretAccessDecision[] = report.decisions.map((decision) => {
      const verdict = simulated.get(`${decision.action} ${decision.resource}`)
      return verdict === undefined ? decision : { ...decision, verdict }
    })
    const notes = exact.length < required.length ? ['secrets named without their random suffix were decided by static analysis'] : []
    return reportOf(role, 'simulation', decisions, report.examined, notes)
  }

  private async simulateSecretAccess(roleArn: string, needs: readonly SecretNeed[]): Promise<Map<string, SecretAccessVerdict>> {
    const verdicts = new Map<string, SecretAccessVerdict>()
    const byAction = new Map<string, string[]>()
    for (const need of needs) byAction.set(need.action, [...(byAction.get(need.action) ?? []), need.resource])
    const verdictOf = (decision: string | undefined): SecretAccessVerdict =>
      decision === 'allowed' ? 'allowed' : decision === 'explicitDeny' ? 'denied' : 'not-allowed'
    // The worst answer over the services a key is decrypted through counts.
    const rank: readonly SecretAccessVerdict[] = ['allowed', 'conditional', 'not-allowed', 'denied']
    const record = (key: string, verdict: SecretAccessVerdict): void => {
      const earlier = verdicts.get(key)
      if (earlier === undefined || rank.indexOf(verdict) > rank.indexOf(earlier)) verdicts.set(key, verdict)
    }
    for (const [action, resources] of byAction) {
      // kms:Decrypt comes through Secrets Manager or Parameter Store: asked as each of them calls it.
      const services = action === 'kms:Decrypt' ? [...new Set(needs.flatMap((need) => need.viaServices ?? []))] : []
      for (const service of services.length > 0 ? services : [undefined]) {
        const ContextEntries =
          service === undefined ? undefined : [{ ContextKeyName: VIA_SERVICE, ContextKeyType: 'string' as const, ContextKeyValues: [service] }]
        let marker: string | undefined
        do {
          const page = await this.iam.send(
            new SimulatePrincipalPolicyCommand({
              PolicySourceArn: roleArn,
              ActionNames: [action],
              ResourceArns: resources,
              ...(ContextEntries ? { ContextEntries } : {}),
              Marker: marker
            })
          )
          for (const result of page.EvaluationResults ?? []) {
            const perResource = result.ResourceSpecificResults ?? []
            if (perResource.length > 0) {
              for (const r of perResource)
                if (r.EvalResourceName) record(`${action} ${r.EvalResourceName}`, verdictOf(r.EvalResourceDecision))
            } else if (result.EvalResourceName) {
              record(`${action} ${result.EvalResourceName}`, verdictOf(result.EvalDecision))
            }
          }
          marker = page.IsTruncated ? page.Marker : undefined
        } while (marker)
      }
    }
    return verdicts
  }

  /**
   * grant-secret-access: true – puts the inline policy SECRET_POLICY_NAME (merged with what earlier
   * runs put there) and records it in the tag SECRET_POLICY_TAG, policy first: a refused or failed
   * policy write leaves no record of a policy that is not there (remove would name it), and a policy
   * without its tag is merged into and tagged by the next grant. Writes nothing when the policy already
   * holds the needs. The report after is static (IAM takes a moment to apply the change).
   */
  async grantSecretAccess(role: RoleState, required: readonly SecretNeed[]): Promise<SecretGrantChange> {
    const planned = planSecretGrant(role, required)
    const after = secretPlanAfter(role, planned.plan)
    await this.execute(role.name, planned.plan, 'record-last')
    const report = missingSecretAccess(after, await this.managedDocumentsOf(after), required)
    return {
      role: role.name,
      changed: planned.changed,
      policy: planned.policy,
      added: planned.added,
      report,
      warnings: report.warnings,
      after
    }
  }

  /**
   * After an apply: cuts the action's secret-access statements down to `keep` (policy first, then the
   * tag, which goes with the last of them); nothing is written when the grant is exactly that already.
   */
  async undoSecretGrant(role: RoleState, keep: readonly SecretNeed[] = []): Promise<SecretGrantUndo> {
    const planned = planSecretGrantUndo(role, keep)
    const after = secretPlanAfter(role, planned.plan)
    await this.execute(role.name, planned.plan, 'record-last')
    return {
      role: role.name,
      changed: planned.changed,
      ...(planned.policy ? { policy: planned.policy } : {}),
      dropped: planned.dropped,
      tagsRemoved: planned.plan.tags.remove,
      after
    }
  }

  private async execute(roleName: string, plan: WritePlan, order: 'record-first' | 'record-last'): Promise<void> {
    const writeTags = async (): Promise<void> => {
      const set = Object.entries(plan.tags.set).map(([Key, Value]) => ({ Key, Value }))
      for (let i = 0; i < set.length; i += MAX_ROLE_TAGS)
        await this.iam.send(new TagRoleCommand({ RoleName: roleName, Tags: set.slice(i, i + MAX_ROLE_TAGS) }))
      for (let i = 0; i < plan.tags.remove.length; i += MAX_ROLE_TAGS)
        await this.iam.send(new UntagRoleCommand({ RoleName: roleName, TagKeys: plan.tags.remove.slice(i, i + MAX_ROLE_TAGS) }))
    }
    if (order === 'record-first') await writeTags()
    for (const arn of plan.attach) await this.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn }))
    for (const arn of plan.detach) {
      try {
        await this.iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn }))
      } catch (error) {
        if (errorName(error) !== 'NoSuchEntityException' && errorName(error) !== 'NoSuchEntity') throw error
      }
    }
    for (const { name, text } of plan.put)
      await this.iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: name, PolicyDocument: text }))
    for (const name of plan.delete) {
      try {
        await this.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name }))
      } catch (error) {
        if (errorName(error) !== 'NoSuchEntityException' && errorName(error) !== 'NoSuchEntity') throw error
      }
    }
    if (order === 'record-last') await writeTags()
  }
}

/** An IAM failure in a sentence with the fix. */
export function describeIamError(error: unknown, role: string, feature = 'cloudwatch-logs: off'): string {
  const name = errorName(error)
  if (name === 'RecordTooLargeError' || name === 'InlineQuotaError') return messageOf(error)
  if (name === 'NoSuchEntityException' || name === 'NoSuchEntity')
    return `Execution role ${role} was not found (${messageOf(error)}).`
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'AccessDeniedError') {
    // IAM's message names the action ("… is not authorized to perform: iam:GetRolePolicy on resource: …").
    const action = /not authorized to perform:? (iam:[A-Za-z]+)/.exec(messageOf(error))?.[1]
    const verb = action === undefined ? 'read or change' : /^iam:(Get|List|Simulate)/.test(action) ? 'read' : 'change'
    return (
      `The deploy role may not ${verb} execution role ${role}: ${messageOf(error)}. ` +
      `Grant it the IAM permissions that ${feature} needs (see README, Permissions).`
    )
  }
  if (name === 'LimitExceededException' || name === 'LimitExceeded')
    return `IAM refused the change to role ${role}: ${messageOf(error)}.`
  if (name === 'MalformedPolicyDocumentException' || name === 'MalformedPolicyDocument')
    return `IAM refused a policy document for role ${role}: ${messageOf(error)}.`
  return `IAM call for role ${role} failed: ${name}: ${messageOf(error)}`
}

// ---------------------------------------------------------------------------------------------
// One run: every role read once and written once, however many functions share it

export interface RoleTarget {
  /** The function (its ARN, or any key unique in the run). */
  readonly key: string
  /** Its execution role: name or ARN (`Role` of GetFunctionConfiguration). */
  readonly role: string
  /** Its log group's ARN (logGroupArnForFunction). */
  readonly logGroupArn: string
}

export type RoleOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }

interface RoleEntry {
  readonly name: string
  chain: Promise<unknown>
  state: RoleState | undefined
  /** Keys planned and not yet applied. */
  readonly pending: Set<string>
}

/**
 * Serialises all work on a role (a promise chain per role name) and batches it: plan every function
 * first, then applyAll (or applyFor per function – concurrent calls for one role share one task). Each
 * role is read once per run (the state after each write is kept, not re-read) and written once for all
 * the functions planned before its task starts. Different roles are worked on concurrently, at most
 * `concurrency` at once (IAM's request rate is low).
 */
export class RoleCoordinator {
  private readonly roles = new Map<string, RoleEntry>()
  private readonly targets = new Map<string, RoleTarget & { readonly roleName: string; readonly group: string }>()
  private readonly applied = new Map<string, Promise<RoleOutcome<CloudWatchOffChange>>>()
  private readonly results = new Map<string, RoleOutcome<CloudWatchOffChange>>()
  private readonly previews = new Map<string, Promise<RoleOutcome<CloudWatchOffChange>>>()
  private readonly slots: Slots

  constructor(
    private readonly edge: ExecutionRoles,
    options: { readonly concurrency?: number } = {}
  ) {
    this.slots = new Slots(Math.max(1, options.concurrency ?? 4))
  }

  /** Registers a function: its role and log group. Planning a key again with the same role is a no-op. */
  plan(target: RoleTarget): void {
    const roleName = roleNameOf(target.role)
    const group = parseLogGroupArn(target.logGroupArn).arn
    const known = this.targets.get(target.key)
    if (known) {
      if (known.roleName !== roleName || known.group !== group)
        throw new Error(`${target.key} was planned with role ${known.roleName} and ${known.group}`)
      return
    }
    this.targets.set(target.key, { ...target, roleName, group })
    this.entry(roleName).pending.add(target.key)
  }

  /** Role names planned so far. */
  roleNames(): string[] {
    return [...this.roles.keys()]
  }

  /** The role as last read or written in this run. */
  stateOf(roleNameOrArn: string): RoleState | undefined {
    return this.roles.get(roleNameOf(roleNameOrArn))?.state
  }

  /** Runs `task` when every earlier task on this role has finished (whatever their outcome). */
  exclusive<T>(roleNameOrArn: string, task: () => Promise<T>): Promise<T> {
    const entry = this.entry(roleNameOf(roleNameOrArn))
    const run = entry.chain.then(() => this.limited(task))
    entry.chain = run.catch(() => undefined)
    return run
  }

  /** The change for one planned function's role: one task per role covers every function planned by then. */
  applyFor(key: string, method: CloudWatchOffMethod): Promise<RoleOutcome<CloudWatchOffChange>> {
    const known = this.applied.get(key)
    if (known) return known
    const target = this.targets.get(key)
    if (!target) return Promise.resolve({ ok: false, error: `${key} was not planned` })
    const promise = this.exclusive(target.roleName, async () => {
      const done = this.results.get(key)
      if (done) return done
      const entry = this.entry(target.roleName)
      const keys = [...entry.pending]
      entry.pending.clear()
      const groups = keys.map((k) => this.targets.get(k)?.group).filter((g): g is string => g !== undefined)
      let outcome: RoleOutcome<CloudWatchOffChange>
      try {
        const state = await this.known(entry)
        const change = await this.edge.applyCloudWatchOff(state, { method, logGroups: groups })
        entry.state = change.after
        outcome = { ok: true, value: change }
      } catch (error) {
        // Some writes may have gone through (the record is written first): the state kept is no longer
        // the role's, so the next task (giving CloudWatch Logs back) reads the role again and undoes
        // what its record says, instead of leaving a record of changes that were never made.
        entry.state = undefined
        outcome = { ok: false, error: describeIamError(error, target.roleName) }
      }
      for (const k of keys) this.results.set(k, outcome)
      return this.results.get(key) ?? outcome
    })
    this.applied.set(key, promise)
    return promise
  }

  /** Applies to every planned function's role; by role name. */
  async applyAll(method: CloudWatchOffMethod): Promise<Map<string, RoleOutcome<CloudWatchOffChange>>> {
    const byRole = new Map<string, RoleOutcome<CloudWatchOffChange>>()
    await Promise.all(
      [...this.targets.values()].map(async (target) => {
        byRole.set(target.roleName, await this.applyFor(target.key, method))
      })
    )
    return byRole
  }

  /**
   * plan mode: what applyFor would write to this function's role, for every function planned on it;
   * one preview per role, writing nothing.
   */
  previewFor(key: string, method: CloudWatchOffMethod): Promise<RoleOutcome<CloudWatchOffChange>> {
    const target = this.targets.get(key)
    if (!target) return Promise.resolve({ ok: false, error: `${key} was not planned` })
    let preview = this.previews.get(target.roleName)
    if (!preview) {
      preview = this.exclusive(target.roleName, async (): Promise<RoleOutcome<CloudWatchOffChange>> => {
        try {
          const entry = this.entry(target.roleName)
          const state = await this.known(entry)
          const groups = [...this.targets.values()].filter((t) => t.roleName === target.roleName).map((t) => t.group)
          const { change } = await this.edge.planCloudWatchOff(state, { method, logGroups: groups })
          return { ok: true, value: change }
        } catch (error) {
          return { ok: false, error: describeIamError(error, target.roleName) }
        }
      })
      this.previews.set(target.roleName, preview)
    }
    return preview
  }

  /** remove mode: undoes the record on every planned role, for the planned functions' groups; by role name. */
  undoAll(): Promise<Map<string, RoleOutcome<UndoResult>>> {
    return this.undoFor([...this.targets.keys()])
  }

  /**
   * Undoes the record for these functions only: the deny policy loses just their groups (detach and
   * inline edits are role-wide, see planUndo); by role name.
   */
  async undoFor(keys: readonly string[]): Promise<Map<string, RoleOutcome<UndoResult>>> {
    const out = new Map<string, RoleOutcome<UndoResult>>()
    const chosen = keys.map((key) => this.targets.get(key)).filter((t) => t !== undefined)
    const roleNames = [...new Set(chosen.map((t) => t.roleName))]
    await Promise.all(
      roleNames.map(async (roleName) => {
        const entry = this.entry(roleName)
        const groups = chosen.filter((t) => t.roleName === roleName).map((t) => t.group)
        const outcome = await this.exclusive(entry.name, async (): Promise<RoleOutcome<UndoResult>> => {
          try {
            const state = await this.known(entry)
            const result = await this.edge.undoCloudWatchOff(state, { logGroups: groups })
            entry.state = result.after
            return { ok: true, value: result }
          } catch (error) {
            entry.state = undefined // part of the undo may have been written: read the role again if needed
            return { ok: false, error: describeIamError(error, entry.name) }
          }
        })
        out.set(entry.name, outcome)
      })
    )
    return out
  }

  /**
   * check mode, or the reason after a failed CloudWatch check: which policies grant the function's log
   * writes, and drift. Reads the role only if this run has not.
   */
  checkFor(key: string): Promise<RoleOutcome<LogWriteReport & { drift: string[] }>> {
    const target = this.targets.get(key)
    if (!target) return Promise.resolve({ ok: false, error: `${key} was not planned` })
    return this.exclusive(target.roleName, async () => {
      try {
        const entry = this.entry(target.roleName)
        const state = await this.known(entry)
        const report = await this.edge.logWriteGrants(state, target.group)
        return { ok: true, value: { ...report, drift: cloudWatchDrift(state, report) } }
      } catch (error) {
        return { ok: false, error: describeIamError(error, target.roleName) }
      }
    })
  }

  /**
   * grant-secret-access for one planned function's role: `check` reports what the role lacks, `grant`
   * also puts the policy. Serialised with every other task on the role (CloudWatch Logs off included):
   * the role is read once per run, and the state after each write is what the next task starts from.
   */
  secretAccessFor(
    key: string,
    required: readonly SecretNeed[],
    mode: 'check' | 'grant'
  ): Promise<RoleOutcome<SecretAccessOutcome>> {
    const target = this.targets.get(key)
    if (!target) return Promise.resolve({ ok: false, error: `${key} was not planned` })
    return this.secretAccessForRole(target.roleName, required, mode)
  }

  /** secretAccessFor by the role itself (name or ARN), for functions not planned for CloudWatch Logs. */
  secretAccessForRole(
    roleNameOrArn: string,
    required: readonly SecretNeed[],
    mode: 'check' | 'grant'
  ): Promise<RoleOutcome<SecretAccessOutcome>> {
    let name: string
    try {
      name = roleNameOf(roleNameOrArn)
    } catch (error) {
      return Promise.resolve({ ok: false, error: messageOf(error) })
    }
    return this.exclusive(name, async (): Promise<RoleOutcome<SecretAccessOutcome>> => {
      try {
        const entry = this.entry(name)
        const state = await this.known(entry)
        if (mode === 'check') return { ok: true, value: { mode, report: await this.edge.secretAccessReport(state, required) } }
        const grant = await this.edge.grantSecretAccess(state, required)
        entry.state = grant.after
        return { ok: true, value: { mode, report: grant.report, grant } }
      } catch (error) {
        // A write may have gone through before the failure: read the role again next time.
        if (mode === 'grant') this.entry(name).state = undefined
        return { ok: false, error: describeIamError(error, name, 'grant-secret-access') }
      }
    })
  }

  /**
   * After an apply: cuts the secret grant on this role down to `keep` (what the run's functions on it
   * need now), serialised like the rest, from the state this run already read or wrote.
   */
  undoSecretGrantFor(roleNameOrArn: string, keep: readonly SecretNeed[] = []): Promise<RoleOutcome<SecretGrantUndo>> {
    let name: string
    try {
      name = roleNameOf(roleNameOrArn)
    } catch (error) {
      return Promise.resolve({ ok: false, error: messageOf(error) })
    }
    return this.exclusive(name, async (): Promise<RoleOutcome<SecretGrantUndo>> => {
      try {
        const entry = this.entry(name)
        const state = await this.known(entry)
        const result = await this.edge.undoSecretGrant(state, keep)
        entry.state = result.after
        return { ok: true, value: result }
      } catch (error) {
        // Part of it may have been written: read the role again if needed.
        this.entry(name).state = undefined
        return { ok: false, error: describeIamError(error, name, 'grant-secret-access') }
      }
    })
  }

  /**
   * plan mode: what an apply with these needs would drop from the role's secret grant once its
   * functions are written (undoSecretGrantFor after the grant), writing nothing.
   */
  secretGrantDropPreview(roleNameOrArn: string, keep: readonly SecretNeed[]): Promise<RoleOutcome<readonly string[]>> {
    let name: string
    try {
      name = roleNameOf(roleNameOrArn)
    } catch (error) {
      return Promise.resolve({ ok: false, error: messageOf(error) })
    }
    return this.exclusive(name, async (): Promise<RoleOutcome<readonly string[]>> => {
      try {
        const state = await this.known(this.entry(name))
        const granted = secretPlanAfter(state, planSecretGrant(state, keep).plan)
        return { ok: true, value: planSecretGrantUndo(granted, keep).dropped }
      } catch (error) {
        return { ok: false, error: describeIamError(error, name, 'grant-secret-access') }
      }
    })
  }

  /** The role as this run last read or wrote it; read from IAM the first time. */
  private async known(entry: RoleEntry): Promise<RoleState> {
    entry.state ??= await this.edge.readRole(entry.name)
    return entry.state
  }

  private entry(name: string): RoleEntry {
    let entry = this.roles.get(name)
    if (!entry) this.roles.set(name, (entry = { name, chain: Promise.resolve(), state: undefined, pending: new Set() }))
    return entry
  }

  private async limited<T>(task: () => Promise<T>): Promise<T> {
    return this.slots.run(task)
  }
}
