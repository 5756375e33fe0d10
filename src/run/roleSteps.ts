/**
 * What a run does to the functions' execution roles (cloudwatch-logs: off, grant-secret-access, and
 * remove's restoration): before the rollout (read every function, plan and restore the roles), in each
 * function's rollout (switch off, grant, or check), and after it (give CloudWatch Logs back, cut the
 * secret grant down to what the run needs). The
 * IAM work is roleCoordinator.ts over aws/iamRoles.ts; the words for the report are cloudwatchOff.ts.
 */
import type { AwsClients } from '../aws/awsClients.js'
import type { RunControl } from './cancellation.js'
import { describeOffChange, describeUndo, logsReachClickStack } from '../core/cloudwatchOff.js'
import type { ActionConfig } from '../core/config.js'
import { MODE_POLICY } from '../core/modes.js'
import type { ExecutionRoleReport, FunctionOutcome, FunctionState, FunctionTarget } from '../core/model.js'
import { IamRoles } from '../aws/iamRoles.js'
import { explainLogsStillOn } from '../core/logWriteReport.js'
import { RoleCoordinator, type RoleOutcome } from './roleCoordinator.js'
import { roleNameOf, type UndoResult } from '../core/roleModel.js'
import { readFunction } from '../aws/lambdaFunction.js'
import { logGroupArnForFunction } from '../core/logPermissions.js'
import { callerArnVia, OwnRoleGuard, refuseWritesToOwnRole } from '../aws/ownRole.js'
import { mapWithConcurrency } from '../core/concurrency.js'
import { messageOf } from '../core/errors.js'
import type { PreRead, RolloutContext } from './rolloutContext.js'
import { SECRET_POLICY_NAME, SECRET_POLICY_TAG } from '../core/secretAccess.js'
import { annotationText } from '../core/outsideText.js'
import type { Reporter } from '../github/reporter.js'

/**
 * Execution roles are shared between functions, so each is read and written once for all of its
 * functions: every function is read first, to know which roles and log groups are involved.
 * remove puts CloudWatch Logs back before any extension comes off, so no log is lost in between.
 */
export async function prepareRoles(
  config: ActionConfig,
  clients: AwsClients,
  targets: readonly FunctionTarget[],
  control: RunControl,
  reporter: Reporter,
  /** Told each configuration read, as rollout's onRead is. */
  onRead?: (state: FunctionState) => void,
  /** Configurations known already (from the listing): not read again, and told to onRead by whoever read them. */
  known: ReadonlyMap<FunctionTarget, PreRead> = new Map()
): Promise<Pick<RolloutContext, 'roles' | 'preRead' | 'restored' | 'ownRoleRefusals'>> {
  const needed =
    config.cloudwatchLogs === 'off' ||
    MODE_POLICY[config.mode].roles === 'restore' ||
    checksSecretAccess(config) ||
    shrinksSecretGrants(config)
  const partition = targets[0]?.partition
  if (!needed || !partition || targets.length === 0) return {}
  const iam = clients.iamFor(partition)
  const guard = new OwnRoleGuard({ roleToAssume: config.roleToAssume, callerArn: callerArnVia(iam, config.homeRegion) })
  refuseWritesToOwnRole(iam, guard)
  const edge = new IamRoles(iam)
  const roles = new RoleCoordinator(edge)
  const preRead = await readFunctions(clients, targets, {
    known,
    maxConcurrency: config.maxConcurrency,
    control,
    onRead
  })
  // A role this run would write to, and that is the deploy role itself, is never planned: its functions
  // fail with the reason (workOnRole), and nothing is read from or written to it on their behalf.
  const ownRoleRefusals = writesRoles(config) ? await refusalsOfOwnRole(preRead, guard) : new Map<string, string>()
  for (const read of preRead.values())
    if ('state' in read && read.state.role && !ownRoleRefusals.has(read.state.role))
      roles.plan({
        key: read.state.arn,
        role: read.state.role,
        logGroupArn: logGroupArnForFunction(read.state.arn, read.state.logGroup)
      })
  if (MODE_POLICY[config.mode].roles !== 'restore') return { roles, preRead, ownRoleRefusals }
  const restored = await restoreRoles({ config, edge, roles, guard, reporter, restored: new Map() }, preRead)
  return { roles, preRead, restored }
}

/**
 * Every function's configuration, or why it could not be read; those `known` are not read again, and
 * none is read once the run is cancelled.
 */
async function readFunctions(
  clients: AwsClients,
  targets: readonly FunctionTarget[],
  how: {
    known: ReadonlyMap<FunctionTarget, PreRead>
    maxConcurrency: number
    control: RunControl
    onRead: ((state: FunctionState) => void) | undefined
  }
): Promise<Map<FunctionTarget, PreRead>> {
  const { known, maxConcurrency, control, onRead } = how
  const preRead = new Map<FunctionTarget, PreRead>(known)
  const unknown = targets.filter((target) => !known.has(target))
  await mapWithConcurrency(unknown, maxConcurrency, async (target) => {
    if (control.cancelled) return
    try {
      const state = await readFunction(clients.lambdaFor(target.region), target)
      onRead?.(state)
      preRead.set(target, { state })
    } catch (error) {
      preRead.set(target, { error })
    }
  })
  return preRead
}

/** Why each role of the read functions that is the deploy role itself may not be written to, by role ARN. */
async function refusalsOfOwnRole(
  preRead: ReadonlyMap<FunctionTarget, PreRead>,
  guard: OwnRoleGuard
): Promise<Map<string, string>> {
  const ownRoleRefusals = new Map<string, string>()
  for (const role of new Set(
    [...preRead.values()].flatMap((read) => ('state' in read && read.state.role ? [read.state.role] : []))
  ))
    if (!ownRoleRefusals.has(role)) {
      const refusal = await guard.refusal(role)
      if (refusal) ownRoleRefusals.set(role, refusal)
    }
  return ownRoleRefusals
}

/** What remove's restoration of the roles works with, and where it puts each function's outcome (by function ARN). */
interface RestoreWork {
  config: ActionConfig
  edge: IamRoles
  roles: RoleCoordinator
  guard: OwnRoleGuard
  reporter: Reporter
  restored: Map<string, RoleOutcome<UndoResult>>
}

/** remove: switches CloudWatch Logs back on for the roles this action switched it off on; the outcome by function ARN. */
async function restoreRoles(
  work: RestoreWork,
  preRead: ReadonlyMap<FunctionTarget, PreRead>
): Promise<Map<string, RoleOutcome<UndoResult>>> {
  // Only roles that carry this action's record are read in full and restored.
  const keysByRole = new Map<string, string[]>()
  for (const read of preRead.values())
    if ('state' in read && read.state.role) {
      const keys = keysByRole.get(read.state.role) ?? []
      keysByRole.set(read.state.role, [...keys, read.state.arn])
    }
  await work.reporter.group('Switch CloudWatch Logs back on where this action switched it off', async () => {
    await mapWithConcurrency([...keysByRole], 4, async ([roleArn, keys]) => restoreRole(work, roleArn, keys))
  })
  return work.restored
}

/** One role of remove: reads this action's record on it, and undoes what it says for the role's functions (keys). */
async function restoreRole(work: RestoreWork, roleArn: string, keys: readonly string[]): Promise<void> {
  const { edge, roles, guard, reporter, restored } = work
  const role = roleNameOf(roleArn)
  let recorded: Awaited<ReturnType<IamRoles['recordsOn']>>
  try {
    recorded = await edge.recordsOn(role)
  } catch (error) {
    roleNotReadable(work, role, keys, error)
    return
  }
  if (recorded.secretPolicy)
    // Other functions of the role, not in this run, may still read the secret through it.
    reporter.notice(
      `Execution role ${role} keeps inline policy ${recorded.secretPolicy}, which grant-secret-access put there: other functions using the role may still read the ingestion key through it. Once none does: aws iam delete-role-policy --role-name ${role} --policy-name ${recorded.secretPolicy} ; aws iam untag-role --role-name ${role} --tag-keys ${SECRET_POLICY_TAG}`,
      { title: 'Secret access left in place' }
    )
  if (!recorded.cloudwatchOff) return
  const refusal = await guard.refusal(roleArn)
  if (refusal) {
    for (const key of keys) restored.set(key, { ok: false, error: refusal })
    return
  }
  const results = await roles.undoFor(keys)
  for (const outcome of results.values()) {
    // Role names and policy texts come from IAM: printed so that the runner runs no command from them.
    if (outcome.ok) reporter.outside(`${role}: ${describeUndo(outcome.value).join('; ') || 'nothing to restore'}.`)
    for (const key of keys) restored.set(key, outcome)
  }
}

/** remove, when a role's record could not be read: its functions fail, or a warning says what may be left off. */
function roleNotReadable(work: RestoreWork, role: string, keys: readonly string[], error: unknown): void {
  const reason = `could not read execution role ${role} to see whether this action switched its CloudWatch Logs off (${messageOf(error)}); grant the deploy role iam:GetRole on it (see docs/permissions.md)`
  // Told cloudwatch-logs: off, the user did switch logs off: removing the extension blind could
  // lose logs. Otherwise the feature was most likely never used: say so, and go on.
  if (work.config.cloudwatchLogs === 'off') for (const key of keys) work.restored.set(key, { ok: false, error: reason })
  else
    work.reporter.warning(
      // The reason quotes IAM's error: outside text.
      annotationText(
        `The extension is removed, but it is unknown whether an earlier cloudwatch-logs: off run switched CloudWatch Logs off for execution role ${role}: ${reason}. If one did, CloudWatch Logs stays off for its functions.`
      ),
      { title: 'Execution role not readable' }
    )
}

/** Whether apply (or plan, showing what apply would do) writes to execution roles in this run. */
function writesRoles(config: ActionConfig): boolean {
  if (MODE_POLICY[config.mode].roles !== 'switch-off' && MODE_POLICY[config.mode].roles !== 'preview') return false
  return config.cloudwatchLogs === 'off' || (config.grantSecretAccess && checksSecretAccess(config))
}

/** Reading the roles for secret access needs IAM reads: apply does it, plan only when asked to grant. */
export function checksSecretAccess(config: ActionConfig): boolean {
  const access = MODE_POLICY[config.mode].secretAccess
  return (
    config.secretNeeds.length > 0 &&
    (access === 'check-or-grant' || (access === 'preview-grant' && config.grantSecretAccess))
  )
}

/** grant-secret-access: true in apply: the grant on each role becomes what the run needs, even nothing. */
export function shrinksSecretGrants(config: ActionConfig): boolean {
  return MODE_POLICY[config.mode].secretAccess === 'check-or-grant' && config.grantSecretAccess
}

/**
 * What a step after the rollout adds to a finished function's outcome; processFunctions (main.ts)
 * builds the new outcome from it.
 */
export interface OutcomeAdditions {
  /** The execution role, and the changes made to it after those the report already has. */
  readonly executionRole?: ExecutionRoleReport
  /** Lines after those its log already has. */
  readonly log?: readonly string[]
  /** Warnings after those it already has. */
  readonly warnings?: readonly string[]
}

/**
 * After an apply with grant-secret-access: true: on each execution role of the run's functions, the
 * action's grant is cut down to what this run's references need (old secrets, keys and services
 * dropped; the policy and its tag deleted when nothing is needed). Only once every function of the
 * run on that role holds the new configuration: one that failed or was rolled back may still read its
 * old secret, so its role keeps the grant until a run that updates them all.
 */
export async function shrinkSecretGrants(
  roles: RoleCoordinator,
  config: ActionConfig,
  preRead: ReadonlyMap<FunctionTarget, PreRead> | undefined,
  targets: readonly FunctionTarget[],
  outcomes: readonly FunctionOutcome[],
  reporter: Reporter
): Promise<Map<FunctionOutcome, OutcomeAdditions>> {
  const additions = new Map<FunctionOutcome, OutcomeAdditions>()
  const byRole = new Map<string, Array<{ outcome: FunctionOutcome; current: boolean }>>()
  targets.forEach((target, index) => {
    const read = preRead?.get(target)
    const outcome = outcomes[index]
    if (!outcome || !read || !('state' in read) || !read.state.role) return
    const { status } = outcome.report
    const current = status === 'updated' || status === 'unchanged' || outcome.cloudwatchStillOn === true
    const role = roleNameOf(read.state.role)
    byRole.set(role, [...(byRole.get(role) ?? []), { outcome, current }])
  })
  await mapWithConcurrency([...byRole], 4, async ([role, functions]) => {
    const behind = functions.filter((f) => !f.current).map((f) => f.outcome.report.function)
    // The functions' logs are printed already: these lines come after them.
    if (behind.length > 0) {
      reporter.info(
        `Execution role ${role}: the secret access earlier runs granted is kept for now, as ${behind.join(', ')} may still use its old references; the next apply that updates them drops what is no longer needed.`
      )
      return
    }
    const result = await roles.undoSecretGrantFor(role, config.secretNeeds)
    if (!result.ok) {
      const first = functions[0]?.outcome
      if (first)
        additions.set(first, {
          warnings: [
            `Execution role ${role}: the secret access it no longer needs could not be dropped: ${result.error}`
          ]
        })
      return
    }
    if (!result.value.changed) return
    const change = result.value.policy?.after
      ? `then dropped from inline policy ${result.value.policy.name} what the run no longer needs: ${result.value.dropped.join(', ')}`
      : `then deleted inline policy ${result.value.policy?.name ?? SECRET_POLICY_NAME} and its tag: nothing of it is needed any more`
    reporter.info(`Execution role ${role}: ${change}.`)
    for (const { outcome } of functions) additions.set(outcome, { executionRole: { role, changes: [change] } })
  })
  return additions
}

/**
 * After an apply with cloudwatch-logs: off, a function whose logs are not known to reach ClickStack
 * (rolled back, failed, cancelled, telemetry not arriving) gets CloudWatch Logs back.
 */
export async function giveLogsBack(
  roles: RoleCoordinator,
  preRead: ReadonlyMap<FunctionTarget, PreRead> | undefined,
  targets: readonly FunctionTarget[],
  outcomes: readonly FunctionOutcome[]
): Promise<Map<FunctionOutcome, OutcomeAdditions>> {
  const additions = new Map<FunctionOutcome, OutcomeAdditions>()
  // Every function planned on a role counts, also one that failed before its own role step: the role
  // was switched off for all of its planned functions at once.
  const needing: Array<{ outcome: FunctionOutcome; key: string; role: string }> = []
  targets.forEach((target, index) => {
    const read = preRead?.get(target)
    const outcome = outcomes[index]
    if (!outcome || !read || !('state' in read) || !read.state.role) return
    if (!logsReachClickStack(outcome.report, outcome.cloudwatchStillOn ?? false))
      needing.push({ outcome, key: read.state.arn, role: roleNameOf(read.state.role) })
  })
  if (needing.length === 0) return additions
  const results = await roles.undoFor(needing.map(({ key }) => key))
  for (const { outcome, role } of needing) {
    const result = results.get(role)
    if (!result) continue
    if (result.ok) {
      const changes = describeUndo(result.value)
      if (changes.length === 0) continue
      additions.set(outcome, {
        executionRole: { role, changes: changes.map((change) => `then ${change}`) },
        log: [
          `CloudWatch Logs switched back on for it, as its logs are not known to reach ClickStack: ${changes.join('; ')}.`
        ],
        // detach is role-wide: the other functions of the role get CloudWatch Logs back too.
        warnings:
          result.value.reattached.length > 0 || result.value.inlineRestored.length > 0
            ? [
                `Execution role ${role}: CloudWatch Logs is on again for every function using it, because ${outcome.report.function} did not end with its logs reaching ClickStack; run again once it does.`
              ]
            : []
      })
    } else {
      additions.set(outcome, {
        warnings: [
          `${outcome.report.function}: its logs are not known to reach ClickStack, and CloudWatch Logs could not be switched back on for it: ${result.error}`
        ]
      })
    }
  }
  return additions
}

/** What workOnRole did to the function's execution role (none when it did nothing), or why it failed. */
export interface RoleWork {
  readonly problem?: string
  readonly executionRole?: ExecutionRoleReport
}

/**
 * The execution role's part of the mode, for cloudwatch-logs: off (and remove, whose roles were
 * restored before the rollout): returns what it did to the role, for the report, or why it failed.
 */
export async function workOnRole(
  ctx: RolloutContext,
  state: FunctionState,
  log: string[],
  warnings: string[]
): Promise<RoleWork> {
  const { cloudwatchLogs, cloudwatchOffMethod: method, secretNeeds, grantSecretAccess } = ctx.config
  const { roles: roleWork, secretAccess } = MODE_POLICY[ctx.config.mode]
  if (!ctx.roles || !state.role) return {}
  const ownRole = ctx.ownRoleRefusals?.get(state.role)
  if (ownRole) return { problem: ownRole }
  const role = roleNameOf(state.role)
  const changes: string[] = []
  let worked = false
  if (roleWork === 'restore') {
    const restored = ctx.restored?.get(state.arn)
    if (restored) {
      if (!restored.ok) return { problem: restored.error }
      worked = true
      changes.push(...describeUndo(restored.value))
      warnings.push(...restored.value.conflicts)
    }
  } else {
    if (cloudwatchLogs === 'off' && roleWork !== 'check') {
      const outcome =
        roleWork === 'preview'
          ? await ctx.roles.previewFor(state.arn, method)
          : await ctx.roles.applyFor(state.arn, method)
      if (!outcome.ok) return { problem: `CloudWatch Logs could not be switched off for it. ${outcome.error}` }
      worked = true
      changes.push(...describeOffChange(outcome.value, roleWork === 'preview' ? 'would' : 'did'))
      warnings.push(...outcome.value.warnings)
    }
    // Reading roles needs IAM reads that a read-only plan or check role lacks: plan reads them only to show a grant.
    if (checksSecretAccess(ctx.config)) {
      const grant = grantSecretAccess && secretAccess === 'check-or-grant'
      const use = grant ? 'grant' : 'check'
      const key = `${role} ${use}`
      // One read (or grant) for all of the role's functions: the first one's, shared.
      const pending = ctx.secretAccessByRole?.get(key) ?? ctx.roles.secretAccessForRole(state.role, secretNeeds, use)
      ctx.secretAccessByRole?.set(key, pending)
      const outcome = await pending
      if (!outcome.ok) {
        if (grant)
          return {
            problem: `Its execution role could not be given read access to the referenced secrets. ${outcome.error}`
          }
        warnings.push(
          `${state.name}: whether its execution role can read the referenced secrets is unknown: ${outcome.error}`
        )
      } else {
        worked = true
        const { report: access, grant: written } = outcome.value
        if (written?.changed) {
          changes.push(
            `put the reads of ${written.added.map((need) => `${need.action} on ${need.resource}`).join(', ')} into inline policy ${written.policy.name}`
          )
          if (!ctx.roleWrittenAt?.has(role)) ctx.roleWrittenAt?.set(role, (ctx.now ?? Date.now)())
        }
        if (secretAccess === 'preview-grant' && grantSecretAccess && access.missing.length > 0)
          changes.push(
            `would allow ${access.missing.map((need) => `${need.action} on ${need.resource}`).join(', ')} in an inline policy`
          )
        else warnings.push(...access.warnings, ...(written?.warnings ?? []))
        if (secretAccess === 'preview-grant' && grantSecretAccess) {
          const dropped = await ctx.roles.secretGrantDropPreview(state.role, secretNeeds)
          if (dropped.ok && dropped.value.length > 0)
            changes.push(
              `would then drop what the run no longer needs from inline policy ${SECRET_POLICY_NAME}: ${dropped.value.join(', ')}`
            )
        }
      }
    }
  }
  if (!worked) return {}
  log.push(
    changes.length > 0 ? `Execution role ${role}: ${changes.join('; ')}.` : `Execution role ${role}: nothing to change.`
  )
  return { executionRole: { role, changes } }
}

/** Why the function's role may still write its CloudWatch logs, or undefined when it may not. */
export async function logsStillAllowed(ctx: RolloutContext, state: FunctionState): Promise<string | undefined> {
  if (!ctx.roles) return undefined
  const grants = await ctx.roles.checkFor(state.arn)
  if (!grants.ok) return `its role could not be read to say why (${grants.error})`
  return grants.value.granted.length > 0 ? explainLogsStillOn(grants.value) : undefined
}
