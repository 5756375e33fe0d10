/**
 * What the role coordinator (run/roleCoordinator.ts) needs of IAM, and what each call gives back: the
 * edge (aws/iamRoles.ts) reads roles and writes the plans the core makes; unit tests stand in for it.
 */
import type { SecretAccessReport, SecretNeed } from './secretAccess.js'
import type { SecretGrantPlan, SecretGrantUndoPlan } from './secretGrant.js'
import type { LogWriteReport } from './logWriteReport.js'
import type { PlannedChange } from './rolePlanning.js'
import type { CloudWatchOffChange, CloudWatchOffMethod, RoleState, UndoResult } from './roleModel.js'

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

/** Which log groups a `cloudwatch-logs: off` call is for, and how. */
export interface CloudWatchOffOptions {
  readonly method: CloudWatchOffMethod
  readonly logGroups: readonly string[]
}

/** Reads and writes execution roles; every call but readRole starts from the state the caller read. */
export interface RoleStore {
  /** The role, its tags, attached policies and inline policies. */
  readRole(nameOrArn: string): Promise<RoleState>
  /** What applyCloudWatchOff would write (plan mode); writes nothing. */
  planCloudWatchOff(role: RoleState, options: CloudWatchOffOptions): Promise<PlannedChange>
  /** Switches CloudWatch Logs writes off for the groups; writes nothing when the role already is so. */
  applyCloudWatchOff(role: RoleState, options: CloudWatchOffOptions): Promise<CloudWatchOffChange>
  /** Undoes what the role's record says (for these groups' deny), and nothing else. */
  undoCloudWatchOff(role: RoleState, options?: { readonly logGroups?: readonly string[] }): Promise<UndoResult>
  /** Which of the role's policies let Lambda write the log group. */
  logWriteGrants(role: RoleState, logGroupArn: string): Promise<LogWriteReport>
  /** Which of the needs the role's policies do not grant. */
  secretAccessReport(role: RoleState, required: readonly SecretNeed[]): Promise<SecretAccessReport>
  /** Puts the needs into the action's secret-access policy. */
  grantSecretAccess(role: RoleState, required: readonly SecretNeed[]): Promise<SecretGrantChange>
  /** Cuts the action's secret-access policy down to `keep`. */
  undoSecretGrant(role: RoleState, keep?: readonly SecretNeed[]): Promise<SecretGrantUndo>
}
