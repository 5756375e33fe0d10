/**
 * An execution role as the action reads it, and what `cloudwatch-logs: off` and its undo do to one: the
 * types the pure planning (logPermissions.ts, secretAccess.ts, cloudwatchOff.ts) and the IAM edge
 * (aws/iamRoles.ts) share; and a role's name from its ARN.
 */
import type { PolicyDocument } from './iamPolicy.js'
import type { LogWriteAction } from './logPermissions.js'
import type { UnresolvedGrant } from './logWriteStrip.js'

/** How `cloudwatch-logs: off` stops the writes: an inline deny policy, or detaching AWSLambdaBasicExecutionRole. */
export type CloudWatchOffMethod = 'deny' | 'detach'

/** A managed policy attached to the role. */
export interface AttachedPolicy {
  readonly arn: string
  readonly name: string
}

/** An inline policy of the role, parsed and as IAM stores it. */
export interface InlinePolicy {
  readonly name: string
  readonly document: PolicyDocument
  /** The document's JSON text as IAM stores it (URL-decoded). */
  readonly text: string
}

/** An execution role as read from IAM: its tags and its policies. */
export interface RoleState {
  readonly name: string
  readonly arn: string
  readonly partition: string
  readonly account: string
  /** Every tag of the role, by key. */
  readonly tags: Readonly<Record<string, string>>
  readonly attached: readonly AttachedPolicy[]
  readonly inline: readonly InlinePolicy[]
}

/** A managed policy that still grants log writes, and what to do about it. */
export interface ManagedGrant {
  readonly arn: string
  readonly name: string
  /** Of the three write actions, those it allows (or may allow) on one of the log groups. */
  readonly actions: readonly LogWriteAction[]
  readonly logGroups: readonly string[]
  /** What to do about it, in a sentence. */
  readonly fix: string
}

/** What switching CloudWatch Logs off did (or would do) to one role. */
export interface CloudWatchOffChange {
  readonly role: string
  readonly method: CloudWatchOffMethod
  readonly logGroups: readonly string[]
  /** Whether anything was written. */
  readonly changed: boolean
  /** Managed policy ARNs detached by this call. */
  readonly detached: readonly string[]
  readonly inlineEdited: ReadonlyArray<{ name: string; before: PolicyDocument; after: PolicyDocument }>
  readonly inlineDeleted: ReadonlyArray<{ name: string; before: PolicyDocument }>
  /** deny: the deny policy (its groups after this call, and which of them this call added). */
  readonly denyPolicy?: {
    readonly name: string
    readonly groups: readonly string[]
    readonly added: readonly string[]
    readonly before?: PolicyDocument
    readonly after: PolicyDocument
  }
  /** detach: customer-managed policies that still grant the writes (never edited). */
  readonly customerManagedStillGranting: readonly ManagedGrant[]
  /** detach: AWS managed policies other than AWSLambdaBasicExecutionRole that grant the writes. */
  readonly otherAwsManaged: readonly ManagedGrant[]
  /** detach: inline grants that could not be narrowed exactly (left as they were). */
  readonly unresolved: ReadonlyArray<UnresolvedGrant & { policy: string }>
  /** Sentences for annotations: everything above that leaves logs on, and policies that could not be read. */
  readonly warnings: readonly string[]
  /** The role as it is after this call (not re-read). */
  readonly after: RoleState
}

/** What undoing the record of `cloudwatch-logs: off` did to one role. */
export interface UndoResult {
  readonly role: string
  readonly changed: boolean
  readonly reattached: readonly string[]
  readonly inlineRestored: ReadonlyArray<{ name: string; before?: PolicyDocument; after: PolicyDocument }>
  readonly denyPolicy?: {
    readonly name: string
    readonly deleted: boolean
    readonly remainingGroups: readonly string[]
  }
  /** What could not be restored, and why; the record of it stays in the tags. */
  readonly conflicts: readonly string[]
  readonly tagsRemoved: readonly string[]
  readonly after: RoleState
}

/** The IAM writes one call makes, in the order they are sent (tags first on apply, last on undo). */
export interface WritePlan {
  readonly tags: { set: Record<string, string>; remove: string[] }
  readonly attach: readonly string[]
  readonly detach: readonly string[]
  readonly put: ReadonlyArray<{ name: string; text: string }>
  readonly delete: readonly string[]
}

/** `my-role` from `my-role` or `arn:aws:iam::123456789012:role/service-role/my-role`. */
export function roleNameOf(nameOrArn: string): string {
  if (!nameOrArn.startsWith('arn:')) return nameOrArn
  const match = /^arn:[^:]+:iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(nameOrArn)
  if (!match?.[1]) throw new Error(`not an IAM role ARN: ${nameOrArn}`)
  return match[1]
}

/** The name of a managed policy, from its ARN. */
export const policyNameOf = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1)

/** A managed policy's document, or why it could not be read. */
export type ManagedDocument = { readonly document: PolicyDocument } | { readonly error: string }
