/**
 * grant-secret-access's own inline policy, SECRET_POLICY_NAME: the document that grants exactly the
 * needs (secretAccess.ts), merged with what earlier runs put there, and the writes that grant them
 * before the functions are written and cut the grant down to what the run needs after. Pure: the caller
 * checks the role's tag and inline-policy quotas on the state after (rolePlanning.ts' secretPlanAfter).
 */
import {
  type PolicyDocument,
  type PolicyStatement,
  sameJson,
  serializePolicyDocument,
  statementsOf,
  stringsOf
} from './iamPolicy.js'
import type { RoleState, WritePlan } from './roleModel.js'
import {
  isOurStatement,
  SECRET_POLICY_NAME,
  SECRET_POLICY_TAG,
  SECRET_STATEMENTS,
  type SecretNeed,
  sortedUnique,
  VIA_SERVICE
} from './secretAccess.js'

/** The `kms:ViaService` values a statement is limited to: undefined when it is not (it holds for any caller). */
function viaServicesIn(statement: PolicyStatement): string[] | undefined {
  const equals = (statement.Condition as Record<string, Record<string, unknown>> | undefined)?.StringEquals
  const values = equals?.[VIA_SERVICE]
  return values === undefined ? undefined : stringsOf(values as string | string[])
}

/** The statement limited to these services through `kms:ViaService` (any other condition kept). */
function withViaServices(statement: PolicyStatement, services: readonly string[]): PolicyStatement {
  const { Condition, ...rest } = statement
  const condition: Record<string, unknown> = { ...Condition }
  const equals: Record<string, unknown> = { ...(condition.StringEquals as Record<string, unknown> | undefined) }
  if (services.length > 0) equals[VIA_SERVICE] = [...services]
  else delete equals[VIA_SERVICE]
  if (Object.keys(equals).length > 0) condition.StringEquals = equals
  else delete condition.StringEquals
  return Object.keys(condition).length > 0 ? { ...rest, Condition: condition } : rest
}

const viaServicesOf = (needs: readonly SecretNeed[]): string[] =>
  sortedUnique(needs.filter((need) => need.action === 'kms:Decrypt').flatMap((need) => need.viaServices ?? []))

/**
 * The action's policy covering what it held already and these needs: its own statements first (one per
 * action, SECRET_STATEMENT_SIDS' order, resources a sorted union that never drops one; kms:Decrypt
 * limited by `kms:ViaService` to the union of the services, unless it held for any caller already),
 * then every other statement someone put there, in its order. Equal (sameJson) to `existing` when
 * nothing is new and it already has that form. It only grows: planSecretGrantUndo cuts it down.
 */
export function mergeSecretPolicy(
  existing: PolicyDocument | undefined,
  required: readonly SecretNeed[]
): PolicyDocument {
  const statements = statementsOf(existing)
  const ours: PolicyStatement[] = []
  for (const { sid, action } of SECRET_STATEMENTS) {
    const current = statements.find((statement) => statement.Sid === sid)
    const wanted = required.filter((need) => need.action === action).map((need) => need.resource)
    const kms = action === 'kms:Decrypt'
    if (!current) {
      const statement: PolicyStatement = { Sid: sid, Effect: 'Allow', Action: [action], Resource: sortedUnique(wanted) }
      if (wanted.length > 0) ours.push(kms ? withViaServices(statement, viaServicesOf(required)) : statement)
      continue
    }
    // Actions someone added to the statement stay; its own is always there.
    const actions = stringsOf(current.Action)
    if (!actions.some((a) => a.toLowerCase() === action.toLowerCase())) actions.push(action)
    const merged: PolicyStatement = {
      ...current,
      Action: actions,
      Resource: sortedUnique([...stringsOf(current.Resource), ...wanted])
    }
    const held = kms ? viaServicesIn(current) : undefined
    ours.push(
      held === undefined ? merged : withViaServices(merged, sortedUnique([...held, ...viaServicesOf(required)]))
    )
  }
  const others = statements.filter((statement) => !isOurStatement(statement))
  return { ...existing, Version: existing?.Version ?? '2012-10-17', Statement: [...ours, ...others] }
}

/** The needs that the action's policy `document` does not hold yet (by exact resource). */
export function needsNotIn(document: PolicyDocument | undefined, required: readonly SecretNeed[]): SecretNeed[] {
  const statements = statementsOf(document)
  return required.filter((need) => {
    const sid = SECRET_STATEMENTS.find((s) => s.action === need.action)?.sid
    const statement = statements.find((s) => s.Sid === sid)
    return !statement || !stringsOf(statement.Resource).includes(need.resource)
  })
}

/** What granting the needs writes, and the policy before and after. */
export interface SecretGrantPlan {
  readonly plan: WritePlan
  readonly policy: {
    readonly name: string
    readonly before?: PolicyDocument
    readonly after: PolicyDocument
  }
  /** Needs the policy did not hold before. */
  readonly added: readonly SecretNeed[]
  /** Whether anything is written. */
  readonly changed: boolean
}

const hasTag = (role: RoleState, key: string, value?: string): boolean =>
  Object.entries(role.tags).some(([k, v]) => k.toLowerCase() === key && (value === undefined || v === value))
const tagKeysOf = (role: RoleState, key: string): string[] =>
  Object.keys(role.tags).filter((k) => k.toLowerCase() === key)

const emptyPlan = (): WritePlan => ({ tags: { set: {}, remove: [] }, attach: [], detach: [], put: [], delete: [] })

/**
 * grant-secret-access: true – the inline policy SECRET_POLICY_NAME merged with these needs
 * (mergeSecretPolicy), and the role tag SECRET_POLICY_TAG that records it as the action's. Nothing to
 * write when the policy already holds them and the tag is there. Pure: the caller checks the role's
 * tag and inline-policy quotas on the state after (rolePlanning.ts' secretPlanAfter does).
 */
export function planSecretGrant(role: RoleState, required: readonly SecretNeed[]): SecretGrantPlan {
  const existing = role.inline.find((policy) => policy.name === SECRET_POLICY_NAME)
  if (required.length === 0 && !existing)
    return {
      plan: emptyPlan(),
      policy: { name: SECRET_POLICY_NAME, after: { Version: '2012-10-17', Statement: [] } },
      added: [],
      changed: false
    }
  const merged = mergeSecretPolicy(existing?.document, required)
  const put =
    existing && sameJson(existing.document, merged)
      ? []
      : [{ name: SECRET_POLICY_NAME, text: serializePolicyDocument(merged) }]
  const set: Record<string, string> = {}
  if (!hasTag(role, SECRET_POLICY_TAG, SECRET_POLICY_NAME)) set[SECRET_POLICY_TAG] = SECRET_POLICY_NAME
  // A tag of the same key in other letter case is replaced, not kept beside.
  const remove = tagKeysOf(role, SECRET_POLICY_TAG).filter(
    (key) => key !== SECRET_POLICY_TAG && set[SECRET_POLICY_TAG] !== undefined
  )
  const plan: WritePlan = { tags: { set, remove }, attach: [], detach: [], put, delete: [] }
  return {
    plan,
    policy: { name: SECRET_POLICY_NAME, ...(existing ? { before: existing.document } : {}), after: merged },
    added: needsNotIn(existing?.document, required),
    changed: put.length > 0 || Object.keys(set).length > 0 || remove.length > 0
  }
}

/** What cutting the grant down to the needs kept writes, and what it drops. */
export interface SecretGrantUndoPlan {
  readonly plan: WritePlan
  readonly policy?: {
    readonly name: string
    readonly before: PolicyDocument
    /** `undefined`: deleted. */
    readonly after?: PolicyDocument
  }
  /** What the action's statements no longer grant: `ACTION on RESOURCE`, and `kms:ViaService` values. */
  readonly dropped: readonly string[]
  readonly changed: boolean
}

/**
 * Cuts the action's statements down to `keep` (what the run's functions on the role need now; nothing
 * to take the grant off): resources not in it go, kms:Decrypt's `kms:ViaService` becomes exactly the
 * services of `keep`, and the policy is deleted when nothing else is left in it; statements someone
 * else added stay. The tag goes when none of the action's statements is left. Nothing to write when
 * the grant is exactly `keep` already. Pure.
 */
export function planSecretGrantUndo(role: RoleState, keep: readonly SecretNeed[] = []): SecretGrantUndoPlan {
  const existing = role.inline.find((policy) => policy.name === SECRET_POLICY_NAME)
  const tagKeys = tagKeysOf(role, SECRET_POLICY_TAG)
  if (!existing) {
    const plan: WritePlan = { ...emptyPlan(), tags: { set: {}, remove: tagKeys } }
    return { plan, dropped: [], changed: tagKeys.length > 0 }
  }
  const statements = statementsOf(existing.document)
  const ours: PolicyStatement[] = []
  for (const { sid, action } of SECRET_STATEMENTS) {
    const current = statements.find((statement) => statement.Sid === sid)
    if (!current) continue
    const kept = new Set(keep.filter((need) => need.action === action).map((need) => need.resource))
    const resources = stringsOf(current.Resource).filter((resource) => kept.has(resource))
    if (resources.length === 0) continue
    const statement: PolicyStatement = { ...current, Resource: resources }
    ours.push(action === 'kms:Decrypt' ? withViaServices(statement, viaServicesOf(keep)) : statement)
  }
  const others = statements.filter((statement) => !isOurStatement(statement))
  const dropped: string[] = []
  for (const { sid, action } of SECRET_STATEMENTS) {
    const before = statements.find((statement) => statement.Sid === sid)
    if (!before) continue
    const after = ours.find((statement) => statement.Sid === sid)
    const kept = after ? stringsOf(after.Resource) : []
    for (const resource of stringsOf(before.Resource))
      if (!kept.includes(resource)) dropped.push(`${action} on ${resource}`)
    const services = after ? (viaServicesIn(after) ?? []) : []
    for (const service of viaServicesIn(before) ?? [])
      if (!services.includes(service)) dropped.push(`${VIA_SERVICE} ${service}`)
  }
  const left = [...ours, ...others]
  const after: PolicyDocument | undefined = left.length === 0 ? undefined : { ...existing.document, Statement: left }
  const put =
    after && !sameJson(after, existing.document)
      ? [{ name: SECRET_POLICY_NAME, text: serializePolicyDocument(after) }]
      : []
  const remove = ours.length === 0 ? tagKeys : []
  const plan: WritePlan = { ...emptyPlan(), tags: { set: {}, remove }, put, delete: after ? [] : [SECRET_POLICY_NAME] }
  return {
    plan,
    policy: { name: SECRET_POLICY_NAME, before: existing.document, ...(after ? { after } : {}) },
    dropped,
    changed: put.length > 0 || !after || remove.length > 0
  }
}
