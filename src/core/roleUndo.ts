/**
 * The pure planning of undoing `cloudwatch-logs: off` on one role, from the record in its tags
 * (roleRecord.ts). The record is checked before it is used: a statement is put back only where the role
 * still has exactly what the action left (the stripped statement), and only if stripping the recorded
 * original gives that statement – so a restore can only add back CloudWatch Logs write permissions, even
 * if someone with iam:TagRole edited the tags; only AWSLambdaBasicExecutionRole is ever re-attached.
 * On undo the policy changes are written first, then the tags.
 */
import {
  parsePolicyDocument,
  type PolicyDocument,
  type PolicyStatement,
  sameJson,
  serializePolicyDocument,
  statementsOf
} from './iamPolicy.js'
import { DENY_POLICY_NAME, deniedGroupsOf, isBasicExecutionPolicyArn, removeGroupsFromDeny } from './logPermissions.js'
import { stripLogWrites, stripStatement } from './logWriteStrip.js'
import { messageOf } from './errors.js'
import {
  type CloudWatchOffRecord,
  INLINE_UNDO_TAG_PREFIX,
  type InlineUndo,
  isOurTag,
  type PolicyUndo,
  recordOf,
  recordTags,
  type StatementUndo
} from './roleRecord.js'
import { policyNameOf, type RoleState, type UndoResult, type WritePlan } from './roleModel.js'
import { inlineAfter, isEmptyPlan, sortedGroups, withTags } from './rolePlanning.js'

/** What putting the inline record back writes, and what could not be put back. */
interface RestorePlan {
  readonly put: Array<{ name: string; text: string }>
  readonly restored: Array<{ name: string; before?: PolicyDocument; after: PolicyDocument }>
  readonly conflicts: string[]
}

/** The inline policies as the restore goes: the document now, the one it started from, and the texts put back whole. */
interface Restoring {
  readonly role: RoleState
  readonly docs: Map<string, { before?: PolicyDocument; document: PolicyDocument }>
  readonly touched: Set<string>
  readonly deletedTexts: Map<string, string>
  readonly conflicts: string[]
}

/** A policy the action deleted comes back with its recorded text, if nothing took its name since. */
function restorePolicy(state: Restoring, entry: PolicyUndo): void {
  const where = `Role ${state.role.name}, inline policy ${entry.policy}`
  let original: PolicyDocument
  try {
    original = parsePolicyDocument(entry.document)
  } catch (error) {
    state.conflicts.push(`${where}: the recorded document cannot be read (${messageOf(error)}); not restored.`)
    return
  }
  if (stripLogWrites(original).document !== undefined) {
    state.conflicts.push(
      `${where}: the recorded document grants more than CloudWatch Logs writes; not restored (the record was changed).`
    )
    return
  }
  const current = state.docs.get(entry.policy)
  if (current) {
    if (!sameJson(current.document, original))
      state.conflicts.push(
        `${where} exists again with other content; the policy the action deleted was not put back: ${entry.document}`
      )
    return
  }
  state.docs.set(entry.policy, { document: original })
  state.deletedTexts.set(entry.policy, entry.document)
  state.touched.add(entry.policy)
}

/** A statement the action changed or removed comes back where the action left it as it left it. */
function restoreStatement(state: Restoring, entry: StatementUndo): void {
  const where = `Role ${state.role.name}, inline policy ${entry.policy}`
  const stripped = stripStatement(entry.original)
  const label = `statement ${entry.original.Sid ?? `#${entry.index}`}`
  if (!stripped.changed || (entry.removed ? stripped.statement !== undefined : stripped.statement === undefined)) {
    state.conflicts.push(
      `${where}, ${label}: the recorded original does not strip to what the action left; not restored (the record was changed).`
    )
    return
  }
  const current = state.docs.get(entry.policy)
  if (!current) {
    state.conflicts.push(`${where} no longer exists; ${label} was not restored: ${JSON.stringify(entry.original)}`)
    return
  }
  const statements = statementsOf(current.document)
  if (statements.some((statement) => sameJson(statement, entry.original))) return // already there
  let next: PolicyStatement[]
  if (entry.removed) {
    next = [...statements]
    next.splice(Math.min(entry.index, next.length), 0, entry.original)
  } else {
    const at = sameJson(statements[entry.index], stripped.statement)
      ? entry.index
      : statements.findIndex((statement) => sameJson(statement, stripped.statement))
    if (at < 0) {
      state.conflicts.push(
        `${where}, ${label} changed since the action edited it; not restored: ${JSON.stringify(entry.original)}`
      )
      return
    }
    next = statements.map((statement, i) => (i === at ? entry.original : statement))
  }
  const [first] = next
  const single = !Array.isArray(current.document.Statement) && next.length === 1 && first !== undefined
  state.docs.set(entry.policy, { ...current, document: { ...current.document, Statement: single ? first : next } })
  state.touched.add(entry.policy)
}

/** Where the action's inline undo record can be applied to the role's inline policies as they are now. Pure. */
export function planInlineRestore(role: RoleState, record: CloudWatchOffRecord): RestorePlan {
  if (record.problem)
    return {
      put: [],
      restored: [],
      conflicts: [`Role ${role.name}: ${record.problem}; inline policies were not restored.`]
    }
  const state: Restoring = { role, docs: new Map(), touched: new Set(), deletedTexts: new Map(), conflicts: [] }
  for (const policy of role.inline) state.docs.set(policy.name, { before: policy.document, document: policy.document })

  // Later runs first; within one run, statements in their original order (so positions come back right).
  for (const batch of [...record.inline].reverse()) {
    const order = (entry: InlineUndo): number => (entry.kind === 'policy' ? -1 : entry.index)
    for (const entry of [...batch].sort((a, b) => order(a) - order(b)))
      if (entry.kind === 'policy') restorePolicy(state, entry)
      else restoreStatement(state, entry)
  }
  const put: Array<{ name: string; text: string }> = []
  const restored: Array<{ name: string; before?: PolicyDocument; after: PolicyDocument }> = []
  for (const name of state.touched) {
    const entry = state.docs.get(name)
    if (!entry) continue
    put.push({ name, text: state.deletedTexts.get(name) ?? serializePolicyDocument(entry.document) })
    restored.push({ name, ...(entry.before ? { before: entry.before } : {}), after: entry.document })
  }
  return { put, restored, conflicts: state.conflicts }
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
    denyPolicy = {
      name: DENY_POLICY_NAME,
      deleted: next === undefined,
      remainingGroups: next ? deniedGroupsOf(next) : []
    }
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
