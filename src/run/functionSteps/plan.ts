/** The plan step: plan the function's change, work on its role, and end plan, check and no-change runs here. */
import type { FunctionOutcome } from '../../core/model.js'
import { diffOf, driftOf } from '../../core/plan.js'
import { logsStillAllowed, workOnRole } from '../roleSteps.js'
import type { FunctionRun } from '../functionRun.js'
import { describeLayers } from './words.js'

/** Plans the function as last read; returns an outcome when its run ends before writing. */
export async function planStep(run: FunctionRun): Promise<FunctionOutcome | undefined> {
  const { ctx, target, policy, state } = run
  const { reports } = policy
  const plan = (run.plan = run.planFor(state))
  run.know({
    layerBefore: plan.rotelLayerBefore,
    layerAfter: run.layer?.arn ?? null,
    layersBefore: [...state.layers],
    layersAfter: [...plan.layersAfter],
    changedVariables: [...plan.changedVariables, ...plan.removedVariables],
    diff: diffOf(state, plan)
  })
  if (plan.problems.length > 0) {
    run.keepAsRead()
    return run.fail(`${target.name} ${reports.notChanged} changed: ${plan.problems.join(' Also, ')}`)
  }
  const role = await workOnRole(ctx, state, run.log, run.warnings)
  if (role.problem) {
    run.keepAsRead()
    return run.fail(reports.roleFailure(target.name, role.problem))
  }
  if (role.executionRole) run.know({ executionRole: role.executionRole })
  if (reports.judgement) return judgeWithRole(run, reports.judgement)
  if (!plan.changed && policy.roles === 'switch-off' && ctx.config.cloudwatchLogs === 'off') {
    // Not invoked, so its logs cannot be watched: the role's policies say whether they can still go to CloudWatch.
    const stillOn = await logsStillAllowed(ctx, state)
    if (stillOn)
      return run.end(
        'failed',
        `${target.name} has the extension, but CloudWatch Logs still gets its logs: ${stillOn}.`,
        {
          cloudwatchStillOn: true
        }
      )
  }
  if (!plan.changed) {
    run.mark('unchanged')
    run.log.push(reports.nothingToChange)
    return run.outcome()
  }
  if (ctx.isCancelled?.()) return run.cancelled()
  return undefined
}

/** plan and check with cloudwatch-logs: off: the role's planned change or drift counts beside the function's. */
async function judgeWithRole(run: FunctionRun, judgement: 'planned' | 'drifted'): Promise<FunctionOutcome> {
  const { ctx, report, state, log } = run
  const outcome = judge(run, judgement)
  if (!ctx.roles || ctx.config.cloudwatchLogs !== 'off' || !state.role) return outcome
  if (judgement === 'planned') {
    if (report.status === 'in-sync' && (report.executionRole?.changes.length ?? 0) > 0) {
      run.mark('planned')
      log.push('Its execution role would change (above).')
    }
    return outcome
  }
  const checked = await ctx.roles.checkFor(state.arn)
  if (!checked.ok) {
    run.mark('failed', `${state.name} could not be checked: ${checked.error}`)
    return outcome
  }
  if (checked.value.drift.length > 0) {
    run.know({ drift: [...report.drift, ...checked.value.drift] })
    if (report.status === 'in-sync') run.mark('drifted')
    log.push(`Drifted: ${checked.value.drift.join('; ')}.`)
  }
  return outcome
}

/** plan and check end here: the plan is reported, or judged, and nothing is written. */
function judge(run: FunctionRun, judgement: 'planned' | 'drifted'): FunctionOutcome {
  const { report, state, plan, log } = run
  if (!plan.changed) {
    run.mark('in-sync')
    log.push(run.policy.reports.nothingToChange)
    return run.outcome()
  }
  log.push(`Layers: ${describeLayers(state.layers)} → ${describeLayers(plan.layersAfter)}`)
  for (const change of report.diff?.variables ?? [])
    log.push(
      `${change.change === 'added' ? '+' : '~'} ${change.name}${change.shown ? `=${change.after ?? ''}` : ' (value not shown)'}`
    )
  if (report.diff?.logFormat)
    log.push(`LoggingConfig.LogFormat: ${report.diff.logFormat.before} → ${report.diff.logFormat.after}`)
  if (judgement === 'planned') return run.end('planned')
  run.mark('drifted')
  run.know({ drift: driftOf(state, plan, run.layer?.arn ?? '') })
  log.push(`Drifted: ${report.drift.join('; ')}.`)
  return run.outcome()
}
