/**
 * The record of what `cloudwatch-logs: off` changed on a role, kept in the role's own tags (keys
 * prefixed `rotel-clickstack-action:`), and its codec. Pure.
 *
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
 */
import { deflateSync, inflateSync } from 'node:zlib'
import type { PolicyStatement } from './iamPolicy.js'
import { messageOf } from './errors.js'
import type { RoleState } from './roleModel.js'
import { SECRET_POLICY_TAG } from './secretAccess.js'

/** The prefix of every tag this action puts on a role. */
export const TAG_PREFIX = 'rotel-clickstack-action:'
/** Names the action's deny policy. */
export const DENY_TAG = `${TAG_PREFIX}deny-policy`
/** The managed policies the action detached. */
export const DETACHED_TAG = `${TAG_PREFIX}detached`
/** The numbered chunks of the inline undo record. */
export const INLINE_UNDO_TAG_PREFIX = `${TAG_PREFIX}inline-undo-`
/** IAM's limit of tags on a role. */
export const MAX_ROLE_TAGS = 50
/** IAM's limit on a tag value's length. */
export const MAX_TAG_VALUE_LENGTH = 256

/** A statement the action changed or removed, as it was. */
export interface StatementUndo {
  readonly kind: 'statement'
  readonly policy: string
  /** Position of the statement in the policy before the change. */
  readonly index: number
  readonly original: PolicyStatement
  /** The change removed the statement entirely. */
  readonly removed: boolean
}

/** An inline policy the action deleted, as it was. */
export interface PolicyUndo {
  readonly kind: 'policy'
  readonly policy: string
  /** The deleted policy's text, as it was. */
  readonly document: string
}

/** One entry of the inline undo record. */
export type InlineUndo = StatementUndo | PolicyUndo

/** What `cloudwatch-logs: off` changed on a role, as its tags record it. */
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
export const isOurTag = (key: string): boolean =>
  key.toLowerCase().startsWith(TAG_PREFIX) && key.toLowerCase() !== SECRET_POLICY_TAG

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

/** Whether the role carries any of this record. */
export const hasRecord = (record: CloudWatchOffRecord): boolean =>
  record.denyPolicy !== undefined ||
  record.detached.length > 0 ||
  record.inline.length > 0 ||
  record.problem !== undefined

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

/** The record would not fit in the role's tags: nothing is changed. */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError'
}

/** The role's inline policies would exceed IAM's quota: nothing is changed. */
export class InlineQuotaError extends Error {
  override readonly name = 'InlineQuotaError'
}
