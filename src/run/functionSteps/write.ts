/** The write step: the planned configuration, guarded by the revision read; re-planned when someone else changed it. */
import type { FunctionOutcome, FunctionState } from '../../core/model.js'
import { logFormatOf, sameList } from '../../core/plan.js'
import { errorName, isTransient, messageOf } from '../../core/errors.js'
import { readFunction, waitForUpdate, writeConfiguration } from '../../aws/lambdaFunction.js'
import type { FunctionRun } from '../functionRun.js'
import { restoreHint, rollbackStep } from './rollback.js'
import { describeLayers } from './words.js'

/** How often a write is re-planned after someone else changed the function between read and write. */
const MAX_REPLANS = 3
/** How often a write waits out an update in progress (ResourceConflictException) before giving up. */
const MAX_CONFLICT_WAITS = 3

/** Writes the plan; 'replan' when the function changed since it was read (run.state is then the new read). */
export async function writeStep(run: FunctionRun, replan: number): Promise<FunctionOutcome | 'replan' | undefined> {
  const { policy, state, plan, log } = run
  run.original = state
  run.phase = 'writing'
  run.logFormatChanged = plan.loggingAfter !== undefined
  log.push(
    `Layers: ${describeLayers(state.layers)} → ${describeLayers(plan.layersAfter)}`,
    policy.writes === 'removal'
      ? `Variables removed: ${plan.removedVariables.join(', ') || 'none'}${plan.changedVariables.length > 0 ? `; put back as they were before the action: ${plan.changedVariables.join(', ')}` : ''}`
      : `Variables set: ${plan.changedVariables.join(', ') || 'none'}`,
    ...(plan.loggingAfter ? [`LoggingConfig.LogFormat: ${logFormatOf(state)} → ${plan.loggingAfter.format}`] : [])
  )
  const attempt = { sentAt: run.now() }
  try {
    const result = await writeWithConflictWaits(run, attempt)
    run.written = { revisionId: result.revisionId, basis: state, sentAt: attempt.sentAt }
    if (result.status === 'Failed')
      return await rollbackStep(run, `Lambda could not apply the update: ${result.reason ?? 'no reason given'}`)
    return undefined
  } catch (error) {
    return afterFailedWrite(run, error, replan, attempt.sentAt)
  }
}

/**
 * A write that was refused, or whose answer was lost (5xx, reset, timeout), may have gone through, and
 * an SDK retry of it then meets its own new revision: the function itself says what happened.
 */
async function afterFailedWrite(
  run: FunctionRun,
  error: unknown,
  replan: number,
  sentAt: number
): Promise<FunctionOutcome | 'replan' | undefined> {
  const { ctx, target, state, plan } = run
  const refused = errorName(error) === 'PreconditionFailedException'
  if (refused || isTransient(error)) {
    let current: FunctionState
    try {
      current = await readFunction(run.lambda, target)
      ctx.onRead?.(current)
    } catch (readError) {
      return run.fail(
        `${target.name} needs attention: the update's outcome is unknown (${errorName(error)}) and the function could not be read again (${errorName(readError)}). ${restoreHint(state, plan.loggingAfter !== undefined)}`
      )
    }
    if (holds(current, plan.layersAfter, plan.variablesAfter, plan.loggingAfter?.format ?? logFormatOf(state))) {
      run.log.push('The update went through although its answer was lost.')
      run.written = { revisionId: current.revisionId, basis: state, sentAt }
      return undefined
    }
    if (refused && replan < MAX_REPLANS) {
      run.log.push('The function changed since it was read (revision mismatch): reading it again and re-planning.')
      run.state = current
      return 'replan'
    }
    if (!refused && !holds(current, state.layers, state.variables ?? {}, logFormatOf(state)))
      return run.fail(
        `${target.name} needs attention: the update failed (${errorName(error)}: ${messageOf(error)}) and the function now holds neither its old configuration nor the planned one. ${restoreHint(state, plan.loggingAfter !== undefined)}`
      )
  }
  const hint = refused
    ? ' It kept changing while the action tried to write it; run again when other deployments are done.'
    : ''
  return run.fail(`Failed to update ${target.name}: ${errorName(error)}: ${messageOf(error)}.${hint}`)
}

/** Whether a function holds exactly these layers, in order, these variables and this log format. */
function holds(
  current: FunctionState,
  layers: readonly string[],
  variables: Readonly<Record<string, string>>,
  logFormat: string
): boolean {
  const now = current.variables ?? {}
  return (
    sameList(current.layers, layers) &&
    logFormatOf(current) === logFormat &&
    Object.keys(now).length === Object.keys(variables).length &&
    Object.entries(variables).every(([key, value]) => Object.hasOwn(now, key) && now[key] === value)
  )
}

/** Writes, waiting out updates in progress; `attempt.sentAt` is when the last attempt was sent. */
async function writeWithConflictWaits(
  run: FunctionRun,
  attempt: { sentAt: number }
): ReturnType<typeof writeConfiguration> {
  const { lambda, state, plan } = run
  for (let wait = 0; ; wait++) {
    try {
      attempt.sentAt = run.now()
      return await writeConfiguration(
        lambda,
        state.arn,
        plan.layersAfter,
        plan.variablesAfter,
        state.revisionId,
        run.ctx.sleep,
        plan.loggingAfter
      )
    } catch (error) {
      if (errorName(error) !== 'ResourceConflictException' || wait >= MAX_CONFLICT_WAITS) throw error
      // Another update is in progress: let it finish; the revision check then decides whether ours still applies.
      run.log.push('Another update of the function is in progress: waiting for it to finish.')
      await waitForUpdate(lambda, state.arn)
    }
  }
}
