/**
 * `grant-secret-access`: what a Lambda execution role needs so that the Rotel extension can resolve the
 * secret references in its ROTEL_* settings at start-up, and whether the role's policies allow it (the
 * one inline policy that grants exactly that is secretGrant.ts). Pure: no AWS calls (aws/iamRoles.ts is the IAM
 * edge; the IAM policy logic is logPermissions.ts').
 *
 * What the extension calls (rotel-lambda-extension, src/secrets/): Secrets Manager
 * `BatchGetSecretValue` with the references' ARNs as written, and Parameter Store `GetParameters`
 * (WithDecryption) with the ARNs as written. IAM then authorises:
 * - `secretsmanager:BatchGetSecretValue`: an action without resource-level permissions, so only a
 *   statement whose Resource is `*` grants it. By itself it returns no secret;
 * - `secretsmanager:GetSecretValue` on each secret, by its full ARN, which ends in `-` and six random
 *   characters (`secret:NAME-AbCdEf`). A reference without them names the secret partially, and the
 *   grant is `secret:NAME-??????`: exactly six more characters, not a longer name starting the same. A
 *   reference whose name already ends in `-` and six letters or digits is taken as complete, as
 *   Secrets Manager takes it;
 * - `ssm:GetParameters` on `arn:…:ssm:REGION:ACCOUNT:parameter/NAME`, the name without its leading `/`;
 * - `kms:Decrypt` on the customer managed KMS key that encrypts them, when one is given (AWS managed
 *   keys need no grant). A key is named by its key ARN: an alias ARN in Resource grants nothing. The
 *   grant holds only through the services that decrypt for the extension (`kms:ViaService`
 *   `secretsmanager.REGION.amazonaws.com` and/or `ssm.REGION.amazonaws.com`, by the references), not
 *   for a direct Decrypt call with the role's credentials.
 *
 * Each apply makes the grant exactly what its references need: before the functions are written the
 * policy only grows (a rolled-back function still reads its old secret), and once every function of
 * the run on the role holds the new configuration, what is not needed any more is dropped
 * (planSecretGrantUndo with the needs kept), the policy and its tag with it when nothing is left.
 */
import { arnLocationProblem } from './awsPartitions.js'
import type { ManagedDocument, RoleState } from './roleModel.js'
import {
  actionCovered,
  hasCondition,
  type PolicyStatement,
  resourceMatches,
  statementsOf,
  stringsOf
} from './iamPolicy.js'
import { isAwsManagedPolicyArn } from './logPermissions.js'
import type { SecretReference } from './secretReferences.js'
import { KMS_ALIAS_ARN, KMS_KEY_ARN } from './arns.js'

export const SECRET_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:BatchGetSecretValue',
  'ssm:GetParameters',
  'kms:Decrypt'
] as const
export type SecretAction = (typeof SECRET_ACTIONS)[number]

/** The action's inline policy on the execution role. */
export const SECRET_POLICY_NAME = 'RotelClickStackReadIngestionSecret'
/**
 * The role tag that records the policy as the action's (so that `remove` deletes it). Same prefix as
 * roleRecord.ts' TAG_PREFIX (a unit test holds them together; roleRecord.ts imports this module).
 */
export const SECRET_POLICY_TAG = 'rotel-clickstack-action:secret-policy'

/** One statement per action, in this order, each with its Sid. */
/** The statements of the action's policy: one per action, by Sid. */
export const SECRET_STATEMENTS: ReadonlyArray<{ readonly sid: string; readonly action: SecretAction }> = [
  { sid: 'RotelClickStackGetSecretValue', action: 'secretsmanager:GetSecretValue' },
  { sid: 'RotelClickStackBatchGetSecretValue', action: 'secretsmanager:BatchGetSecretValue' },
  { sid: 'RotelClickStackGetParameters', action: 'ssm:GetParameters' },
  { sid: 'RotelClickStackKmsDecrypt', action: 'kms:Decrypt' }
]
export const SECRET_STATEMENT_SIDS: readonly string[] = SECRET_STATEMENTS.map((s) => s.sid)
/** Whether the statement is one of the action's policy. */
export const isOurStatement = (statement: PolicyStatement): boolean =>
  typeof statement.Sid === 'string' && SECRET_STATEMENT_SIDS.includes(statement.Sid)

// ---------------------------------------------------------------------------------------------
// What the references need

export interface SecretNeed {
  readonly action: SecretAction
  /** The policy Resource: an exact ARN, `…:secret:NAME-??????` for a reference without the suffix, or `*`. */
  readonly resource: string
  /** What needs it: the references' ARNs (without `#key`), or the KMS key's ARN; sorted. */
  readonly references: readonly string[]
  /** The account of the secret, parameter or key (`undefined` for `*`). */
  readonly account?: string
  /** kms:Decrypt: the `kms:ViaService` values it holds through, sorted. */
  readonly viaServices?: readonly string[]
}

/** The condition key that limits kms:Decrypt to calls a service makes on the role's behalf. */
export const VIA_SERVICE = 'kms:ViaService'

/** What `kms:ViaService` says for a reference's service in its region: `secretsmanager.us-east-1.amazonaws.com`. */
export function viaServiceOf(reference: Pick<SecretReference, 'arn' | 'service'>): string {
  const [, partition, , region] = reference.arn.split(':')
  return `${reference.service}.${region ?? ''}.${partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}`
}

/** `-` and six letters or digits at the end of a secret's name: Secrets Manager's random suffix. */
const SECRET_SUFFIX = /-[A-Za-z0-9]{6}$/
const SUFFIX_CHAR = /^[A-Za-z0-9]$/
const PARTIAL_SUFFIX = '-??????'

/** Why `value` is not a KMS key ARN usable in a policy, or `undefined`: for the configuration's checks. */
export function kmsKeyArnProblem(value: string): string | undefined {
  const key = KMS_KEY_ARN.exec(value.trim())
  if (key) {
    const location = arnLocationProblem(key[1] ?? '', key[2] ?? '')
    return location ? `${value} ${location}.` : undefined
  }
  if (KMS_ALIAS_ARN.test(value.trim()))
    return `${value} is an alias ARN; IAM grants kms:Decrypt by key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID): give the key's ARN.`
  return `${value} is not a KMS key ARN: write arn:aws:kms:REGION:ACCOUNT:key/KEY-ID.`
}

/**
 * The resource a reference's read is authorised against, as a policy Resource: a Secrets Manager ARN
 * with its suffix as it is, without one `NAME-??????`; a parameter's ARN without a `/` after
 * `parameter/`.
 */
export function secretResourceOf(reference: Pick<SecretReference, 'arn' | 'service'>): string {
  const colon = nthIndexOf(reference.arn, ':', 5)
  const head = reference.arn.slice(0, colon + 1)
  const resource = reference.arn.slice(colon + 1)
  if (reference.service === 'ssm') return `${head}parameter/${resource.replace(/^parameter\/+/, '')}`
  return SECRET_SUFFIX.test(resource) ? reference.arn : `${reference.arn}${PARTIAL_SUFFIX}`
}

function nthIndexOf(text: string, char: string, n: number): number {
  let at = -1
  for (let i = 0; i < n; i++) {
    at = text.indexOf(char, at + 1)
    if (at < 0) return text.length
  }
  return at
}

const accountOf = (arn: string): string | undefined => arn.split(':')[4] || undefined

/** Whether the need names its resource exactly (not a secret without its suffix, `NAME-??????`). */
export const isExactResource = (need: Pick<SecretNeed, 'resource'>): boolean => !need.resource.endsWith(PARTIAL_SUFFIX)

/**
 * The (action, resource) pairs the execution role needs for these references (duplicates counted
 * once), and `kms:Decrypt` on the given customer managed keys when there is anything to decrypt.
 * Sorted: by SECRET_ACTIONS, then resource. Throws on a KMS key that is not a key ARN.
 */
export function requiredSecretActions(
  references: readonly SecretReference[],
  kmsKeyArn?: string | readonly string[]
): SecretNeed[] {
  const needs = new Map<string, { action: SecretAction; resource: string; references: Set<string>; account?: string }>()
  const add = (action: SecretAction, resource: string, reference: string): void => {
    const key = `${action} ${resource}`
    let need = needs.get(key)
    if (!need) {
      const account = resource === '*' ? undefined : accountOf(resource)
      need = { action, resource, references: new Set(), ...(account !== undefined ? { account } : {}) }
      needs.set(key, need)
    }
    need.references.add(reference)
  }
  for (const reference of references) {
    const resource = secretResourceOf(reference)
    if (reference.service === 'secretsmanager') {
      add('secretsmanager:GetSecretValue', resource, reference.arn)
      add('secretsmanager:BatchGetSecretValue', '*', reference.arn)
    } else {
      add('ssm:GetParameters', resource, reference.arn)
    }
  }
  const keys = kmsKeyArn === undefined ? [] : typeof kmsKeyArn === 'string' ? [kmsKeyArn] : [...kmsKeyArn]
  if (references.length > 0)
    for (const key of keys.map((k) => k.trim()).filter(Boolean)) {
      const problem = kmsKeyArnProblem(key)
      if (problem) throw new Error(problem)
      add('kms:Decrypt', key, key)
    }
  const viaServices = sortedUnique(references.map(viaServiceOf))
  return sortNeeds(
    [...needs.values()].map((need) => ({
      action: need.action,
      resource: need.resource,
      references: [...need.references].sort(),
      ...(need.account !== undefined ? { account: need.account } : {}),
      ...(need.action === 'kms:Decrypt' ? { viaServices } : {})
    }))
  )
}

/** The values once each, sorted. */
export const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort(compare)
const actionRank = (action: string): number => SECRET_ACTIONS.indexOf(action as SecretAction)
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const sortNeeds = (needs: SecretNeed[]): SecretNeed[] =>
  needs.sort((a, b) => actionRank(a.action) - actionRank(b.action) || compare(a.resource, b.resource))

// ---------------------------------------------------------------------------------------------
// Matching a policy's resources against what is needed

/** Stands for one unknown character of the secret's random suffix. */
const SLOT = '\u0000'

/** A needed resource: literal text, then `slots` unknown suffix characters (letters or digits). */
interface Target {
  readonly text: string
  readonly slots: number
}

const targetOf = (resource: string): Target =>
  resource.endsWith(PARTIAL_SUFFIX)
    ? { text: resource.slice(0, -(PARTIAL_SUFFIX.length - 1)), slots: PARTIAL_SUFFIX.length - 1 }
    : { text: resource, slots: 0 }

/**
 * A glob (`*`, `?`) against text with unknown characters: `may` – for some filling of them (a literal
 * letter or digit of the glob can match one); `sure` – for every filling (only `?` and `*` can).
 */
function globMatches(glob: string, text: string, mode: 'may' | 'sure'): boolean {
  const memo = new Map<number, boolean>()
  const go = (i: number, j: number): boolean => {
    const key = i * (text.length + 1) + j
    const known = memo.get(key)
    if (known !== undefined) return known
    let result: boolean
    const g = glob[i]
    if (g === undefined) result = j === text.length
    else if (g === '*') result = go(i + 1, j) || (j < text.length && go(i, j + 1))
    else {
      const t = text[j]
      const one = t !== undefined && (g === '?' || (t === SLOT ? mode === 'may' && SUFFIX_CHAR.test(g) : g === t))
      result = one && go(i + 1, j + 1)
    }
    memo.set(key, result)
    return result
  }
  return go(0, 0)
}

/**
 * A Resource/NotResource entry against a needed resource, as resourceMatches does (policy variables
 * read as wildcards for `may`, as never matching for `sure`); for a secret whose suffix is unknown,
 * `may`: for some suffix, `sure`: for every suffix.
 */
function matches(pattern: string, target: Target, mode: 'may' | 'sure'): boolean {
  if (target.slots === 0) return resourceMatches(pattern, target.text, mode === 'may' ? 'wildcard' : 'never')
  let effective = pattern
  if (effective.includes('${')) {
    if (mode === 'sure') return false
    effective = effective.replace(/\$\{[^}]*\}/g, '*')
  }
  if (effective === '*') return true
  const full = target.text + SLOT.repeat(target.slots)
  const p = effective.split(':')
  const a = full.split(':')
  if (p.length >= 6 && a.length >= 6) {
    // The unknown characters are in the resource part; the five segments before it are literal.
    for (let i = 0; i < 5; i++) if (!resourceMatches(p[i] ?? '', a[i] ?? '', 'never')) return false
    return globMatches(p.slice(5).join(':'), a.slice(5).join(':'), mode)
  }
  return globMatches(effective, full, mode)
}

interface Coverage {
  /** The statement may apply to the resource. */
  readonly may: boolean
  /** It surely does. */
  readonly sure: boolean
}

function coverage(statement: PolicyStatement, target: Target): Coverage {
  if (statement.Resource !== undefined) {
    const patterns = stringsOf(statement.Resource)
    return {
      may: patterns.some((p) => matches(p, target, 'may')),
      sure: patterns.some((p) => matches(p, target, 'sure'))
    }
  }
  if (statement.NotResource !== undefined) {
    const patterns = stringsOf(statement.NotResource)
    return {
      may: !patterns.some((p) => matches(p, target, 'sure')),
      sure: !patterns.some((p) => matches(p, target, 'may'))
    }
  }
  return { may: false, sure: false }
}

// ---------------------------------------------------------------------------------------------
// Static analysis: do the role's policies let it read the secrets?

/**
 * - `allowed`: an Allow surely covers it, unconditionally, and no Deny may apply;
 * - `conditional`: granted only under a Condition, or by a statement that may not cover the resource
 *   (a policy variable, a suffix that may not be the secret's), or by a policy that could not be read,
 *   or a Deny may or may not apply – counted as granting;
 * - `denied`: an unconditional Deny surely covers it (an explicit Deny wins over every Allow);
 * - `not-allowed`: nothing grants it.
 */
export type SecretAccessVerdict = 'allowed' | 'conditional' | 'denied' | 'not-allowed'

export interface SecretAccessDecision extends SecretNeed {
  readonly verdict: SecretAccessVerdict
  /** "<policy> statement <Sid or #index>", with "(conditional)" or "(may not cover it)". */
  readonly allowedBy: readonly string[]
  readonly deniedBy: readonly string[]
}

export interface MissingSecretAccess extends SecretNeed {
  readonly reason: 'denied' | 'not-allowed'
  readonly deniedBy: readonly string[]
  /** The policies that were looked at. */
  readonly examined: readonly string[]
}

export interface SecretAccessReport {
  readonly role: string
  /** `simulation`: IAM's policy simulator decided the needs with exact resources; `static`: the documents did. */
  readonly method: 'static' | 'simulation'
  /** One per need, in the needs' order. */
  readonly decisions: readonly SecretAccessDecision[]
  /** The needs that are denied or that nothing grants. */
  readonly missing: readonly MissingSecretAccess[]
  /** Every policy looked at: "inline policy NAME", "AWS managed policy NAME", "customer-managed policy ARN", "… (unreadable: why)". */
  readonly examined: readonly string[]
  readonly notes: readonly string[]
  /** Sentences for annotations (empty when nothing is missing): what is missing and the fix. */
  readonly warnings: readonly string[]
}

/**
 * AWS managed policies that grant the reads on every resource (from their published documents); only
 * consulted when one of them is attached and could not be read.
 */
export const AWS_MANAGED_SECRET_READERS: Readonly<Record<string, readonly SecretAction[]>> = Object.freeze({
  AdministratorAccess: SECRET_ACTIONS,
  PowerUserAccess: SECRET_ACTIONS,
  SecretsManagerReadWrite: ['secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue'],
  AmazonSSMFullAccess: ['ssm:GetParameters'],
  AmazonSSMReadOnlyAccess: ['ssm:GetParameters'],
  AmazonSSMManagedInstanceCore: ['ssm:GetParameters'],
  ReadOnlyAccess: ['ssm:GetParameters']
})

interface Ref {
  readonly label: string
  /** Under a Condition, or the statement may not cover the resource. */
  readonly uncertain: boolean
}

interface Source {
  readonly label: string
  readonly statements?: readonly PolicyStatement[]
  /** Unreadable: the actions it is taken to grant on everything. */
  readonly unreadableGrants?: readonly SecretAction[]
}

function sourcesOf(role: RoleState, managed: ReadonlyMap<string, ManagedDocument>): Source[] {
  const sources: Source[] = role.inline.map((policy) => ({
    label: `inline policy ${policy.name}`,
    statements: statementsOf(policy.document)
  }))
  for (const policy of role.attached) {
    const aws = isAwsManagedPolicyArn(policy.arn)
    const label = aws ? `AWS managed policy ${policy.name}` : `customer-managed policy ${policy.arn}`
    const source = managed.get(policy.arn) ?? { error: 'not read' }
    if ('document' in source) sources.push({ label, statements: statementsOf(source.document) })
    else
      sources.push({
        label: `${label} (unreadable: ${source.error})`,
        unreadableGrants: aws ? (AWS_MANAGED_SECRET_READERS[policy.name] ?? []) : SECRET_ACTIONS
      })
  }
  return sources
}

function decide(need: SecretNeed, sources: readonly Source[]): SecretAccessDecision {
  const target = targetOf(need.resource)
  const allows: Ref[] = []
  const denies: Ref[] = []
  for (const source of sources) {
    if (source.unreadableGrants) {
      if (source.unreadableGrants.includes(need.action))
        allows.push({ label: `${source.label} (may grant it)`, uncertain: true })
      continue
    }
    ;(source.statements ?? []).forEach((statement, index) => {
      if (!actionCovered(statement, need.action)) return
      const covered = coverage(statement, target)
      if (!covered.may) return
      const conditional = hasCondition(statement)
      const uncertain = conditional || !covered.sure
      const label =
        `${source.label} statement ${typeof statement.Sid === 'string' ? statement.Sid : `#${index}`}` +
        (conditional ? ' (conditional)' : '') +
        (covered.sure ? '' : ' (may not cover it)')
      if (statement.Effect === 'Allow') allows.push({ label, uncertain })
      else if (statement.Effect === 'Deny') denies.push({ label, uncertain })
    })
  }
  let verdict: SecretAccessVerdict
  if (denies.some((ref) => !ref.uncertain)) verdict = 'denied'
  else if (allows.some((ref) => !ref.uncertain)) verdict = denies.length > 0 ? 'conditional' : 'allowed'
  else verdict = allows.length > 0 ? 'conditional' : 'not-allowed'
  return { ...need, verdict, allowedBy: allows.map((r) => r.label), deniedBy: denies.map((r) => r.label) }
}

/**
 * For each need, whether the role's inline and attached policies let it (static analysis; permission
 * boundaries, SCPs and the secrets' own resource policies are not weighed), and the missing ones named.
 * Pure: the attached policies' documents come in `managed` (by ARN; missing or `{ error }` = unreadable:
 * a customer-managed one is taken to grant, an AWS managed one by AWS_MANAGED_SECRET_READERS).
 */
export function missingSecretAccess(
  role: RoleState,
  managed: ReadonlyMap<string, ManagedDocument>,
  required: readonly SecretNeed[]
): SecretAccessReport {
  const sources = sourcesOf(role, managed)
  const decisions = required.map((need) => decide(need, sources))
  return reportOf(
    role,
    'static',
    decisions,
    sources.map((s) => s.label),
    []
  )
}

/** The report for these decisions (static, or with some verdicts from the simulator). */
export function reportOf(
  role: RoleState,
  method: SecretAccessReport['method'],
  decisions: readonly SecretAccessDecision[],
  examined: readonly string[],
  extraNotes: readonly string[]
): SecretAccessReport {
  const missing: MissingSecretAccess[] = decisions
    .filter((d) => d.verdict === 'denied' || d.verdict === 'not-allowed')
    .map((d) => ({
      action: d.action,
      resource: d.resource,
      references: d.references,
      ...(d.account !== undefined ? { account: d.account } : {}),
      reason: d.verdict === 'denied' ? 'denied' : 'not-allowed',
      deniedBy: d.deniedBy,
      examined
    }))
  const notes: string[] = [...extraNotes]
  if (method === 'static')
    notes.push(
      "static analysis of the role's inline and attached policies; permission boundaries, SCPs and resource policies are not weighed"
    )
  if (decisions.some((d) => d.verdict === 'conditional'))
    notes.push(
      'some grants depend on a Condition, a policy variable, a secret suffix or a policy that could not be read: they are counted as granting'
    )
  const foreign = [
    ...new Set(
      decisions
        .map((d) => d.account)
        .filter((a): a is string => a !== undefined && role.account !== '' && a !== role.account)
    )
  ]
  if (foreign.length > 0)
    notes.push(
      `secrets in account ${foreign.join(', ')}: the secret's resource policy (and its KMS key's key policy) must also allow ` +
        `${role.arn || role.name}; that is not checked`
    )
  return { role: role.name, method, decisions, missing, examined, notes, warnings: warningsOf(role, missing) }
}

function warningsOf(role: RoleState, missing: readonly MissingSecretAccess[]): string[] {
  if (missing.length === 0) return []
  const list = (items: readonly MissingSecretAccess[]): string =>
    items
      .map((m) => {
        if (m.reason !== 'denied') return `${m.action} on ${m.resource}`
        // The simulator may find a Deny the documents do not show (a permission boundary).
        return `${m.action} on ${m.resource} (${m.deniedBy.length > 0 ? `denied by ${m.deniedBy.join(', ')}` : 'explicitly denied'})`
      })
      .join('; ')
  const notAllowed = missing.filter((m) => m.reason === 'not-allowed')
  const denied = missing.filter((m) => m.reason === 'denied')
  const warnings: string[] = []
  const impact =
    'the Rotel extension cannot resolve its secret references and fails at start-up, and so does the function'
  if (notAllowed.length > 0)
    warnings.push(
      `Role ${role.name} does not allow ${list(notAllowed)}: ${impact}. ` +
        `Set grant-secret-access: true to add the inline policy ${SECRET_POLICY_NAME}, or grant them yourself.`
    )
  if (denied.length > 0)
    warnings.push(
      `Role ${role.name} denies ${list(denied)}: ${impact}. An explicit Deny wins over any grant, ` +
        'grant-secret-access included: narrow that Deny.'
    )
  return warnings
}
