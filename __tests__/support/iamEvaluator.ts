/**
 * A small evaluator of IAM's rules for identity and trust policies, for what README's policies use and
 * moto does not evaluate (Conditions; Resource for every request). It implements, as AWS documents them
 * ("Policy evaluation logic", "IAM JSON policy elements: Condition operators"):
 * - an explicit Deny in any statement wins; else any Allow allows; else the request is implicitly denied;
 * - a statement applies when its Action matches (case-insensitive; `*` any run of characters, `?` one),
 *   its Resource matches (case-sensitive, same wildcards), its Principal matches (trust policies), and
 *   every Condition holds: operators AND together, keys AND together, a key's values OR together;
 * - StringEquals, StringLike, ArnEquals, ArnLike (ARNs compared per colon-separated component, with
 *   wildcards, ArnEquals like ArnLike as IAM treats them), each false when the key is absent from the
 *   request.
 * Anything else (NotAction, NotResource, NotPrincipal, another operator, set operators, …IfExists, policy
 * variables) throws: it is not implemented, and a guess would prove nothing. Not modelled at all:
 * permission boundaries, SCPs, session policies, resource-based policies.
 */
import { listOf, type PolicyDocument, type Statement } from './readmePolicy.js'

export interface Request {
  readonly action: string
  /** The resource's ARN; trust policies have none. */
  readonly resource?: string
  /** For trust policies: the principal, as `Federated: arn` or `AWS: arn`. */
  readonly principal?: { readonly type: string; readonly id: string }
  /** The request's context keys (case-insensitive names), e.g. `iam:PolicyARN`. */
  readonly context?: Readonly<Record<string, string | readonly string[]>> | undefined
}

export type Decision = 'allowed' | 'explicitly denied' | 'implicitly denied'

const SUPPORTED_KEYS = new Set(['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition'])

/** `*` and `?` wildcards, anchored. */
function wildcard(pattern: string, flags = ''): RegExp {
  if (pattern.includes('${')) throw new Error(`policy variables are not implemented: ${pattern}`)
  const body = pattern
    .replace(/[.+^$(){}|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`, flags)
}

/** An ARN's six components (the last keeps its colons); undefined when it is no ARN. */
function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(':')
  if (parts.length < 6 || parts[0] !== 'arn') return undefined
  return [...parts.slice(0, 5), parts.slice(5).join(':')]
}

function arnLike(pattern: string, value: string): boolean {
  const p = arnParts(pattern)
  const v = arnParts(value)
  if (!p || !v) return false
  return p.every((part, i) => wildcard(part).test(v[i] ?? ''))
}

const OPERATORS: Readonly<Record<string, (pattern: string, value: string) => boolean>> = {
  StringEquals: (pattern, value) => pattern === value,
  StringLike: (pattern, value) => wildcard(pattern).test(value),
  ArnEquals: arnLike,
  ArnLike: arnLike
}

function conditionHolds(condition: Statement['Condition'], context: Request['context']): boolean {
  const keys = new Map(
    Object.entries(context ?? {}).map(([key, value]) => [key.toLowerCase(), listOf(value as string | string[])])
  )
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    const test = OPERATORS[operator]
    if (!test) throw new Error(`condition operator ${operator} is not implemented`)
    for (const [key, patterns] of Object.entries(entries)) {
      const values = keys.get(key.toLowerCase())
      if (values === undefined || values.length !== 1) return false
      const [value = ''] = values
      if (!listOf(patterns).some((pattern) => test(pattern, value))) return false
    }
  }
  return true
}

function applies(statement: Statement, request: Request): boolean {
  for (const key of Object.keys(statement))
    if (!SUPPORTED_KEYS.has(key)) throw new Error(`statement element ${key} is not implemented`)
  if (!listOf(statement.Action).some((pattern) => wildcard(pattern, 'i').test(request.action))) return false
  if (statement.Resource !== undefined) {
    if (request.resource === undefined) return false
    const resource = request.resource
    if (!listOf(statement.Resource).some((pattern) => wildcard(pattern).test(resource))) return false
  }
  if (statement.Principal !== undefined) {
    const principal = request.principal
    if (!principal) return false
    if (
      !Object.entries(statement.Principal).some(
        ([type, ids]) => type === principal.type && listOf(ids).includes(principal.id)
      )
    )
      return false
  }
  return conditionHolds(statement.Condition, request.context)
}

/** How IAM decides `request` under these policies (all of the principal's, or one trust policy). */
export function evaluate(policies: readonly PolicyDocument[], request: Request): Decision {
  // Every statement is looked at (none skipped once a Deny applies), so that anything unimplemented throws.
  const effects = new Set<string>()
  for (const policy of policies)
    for (const statement of policy.Statement) {
      if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny')
        throw new Error(`Effect ${String(statement.Effect)}`)
      if (applies(statement, request)) effects.add(statement.Effect)
    }
  return effects.has('Deny') ? 'explicitly denied' : effects.has('Allow') ? 'allowed' : 'implicitly denied'
}
