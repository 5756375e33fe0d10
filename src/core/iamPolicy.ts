/**
 * IAM policy documents as the action reads them, and the parts of IAM's evaluation that the analyses of
 * log writes and secret access share: matching actions and resources (wildcards, policy variables),
 * Conditions, and whether a statement may or surely covers resources. Pure.
 */

import { iamWildcardRegExp } from './wildcard.js'

/** A policy element that is one string or a list of them. */
export type StringOrList = string | string[]

/** A statement of a policy document, other keys kept as they are. */
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

/** An IAM policy document, other keys kept as they are. */
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

/** A policy element that may be one value or a list, as a list. */
export const toList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])
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

/** Whether the statement has a non-empty Condition (static analysis does not evaluate it). */
export const hasCondition = (statement: PolicyStatement): boolean =>
  isRecord(statement.Condition) && Object.keys(statement.Condition).length > 0

/** Whether the statement's Action/NotAction covers the action. */
export function actionCovered(statement: PolicyStatement, action: string): boolean {
  if (statement.Action !== undefined) return stringsOf(statement.Action).some((p) => actionMatches(p, action))
  if (statement.NotAction !== undefined) return !stringsOf(statement.NotAction).some((p) => actionMatches(p, action))
  return false
}

/** Whether the statement's Resource/NotResource may cover any of these ARNs. */
export function mayCover(statement: PolicyStatement, arns: readonly string[]): boolean {
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
export function surelyCovers(statement: PolicyStatement, arns: readonly string[]): boolean {
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
