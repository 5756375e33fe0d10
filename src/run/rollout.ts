/**
 * One function's way through the apply path, as steps over a FunctionRun: read, plan, write (guarded by
 * its revision), wait, test-invoke, check CloudWatch and ClickStack, and put it back exactly as it was
 * when a step fails. The steps are in functionSteps/.
 */
import { emptyReport, type FunctionOutcome, type FunctionTarget } from '../core/model.js'
import { cancelledOutcome, FunctionRun, holderOf } from './functionRun.js'
import { choosePlanStep, readStep } from './functionSteps/read.js'
import { planStep } from './functionSteps/plan.js'
import { gateStep } from './functionSteps/gate.js'
import { writeStep } from './functionSteps/write.js'
import { invokeStep, telemetryStep } from './functionSteps/verify.js'
import type { RolloutContext } from './rolloutContext.js'
import { gateResultOf } from '../core/rolloutGate.js'

export { cancelledOutcome } from './functionRun.js'
export { restoreHint } from './functionSteps/rollback.js'

/** Processes one function in the configured mode; never throws, every failure ends up in the report. */
export async function rolloutFunction(ctx: RolloutContext, target: FunctionTarget): Promise<FunctionOutcome> {
  const slot = holderOf(ctx.slots, await ctx.slots?.acquire())
  if (ctx.isCancelled?.()) {
    slot.release()
    ctx.gate?.settle(target, 'neutral')
    return cancelledOutcome(emptyReport(target))
  }
  const run = new FunctionRun(ctx, target, slot)
  // The run is its own in-flight entry: a hard stop reads its report as it stands.
  ctx.inFlight?.add(run)
  let outcome: FunctionOutcome | undefined
  try {
    outcome = { ...(await steps(run)), notices: run.notices }
    return outcome
  } finally {
    ctx.inFlight?.delete(run)
    slot.release()
    // Every function tells the gate how it ended: the canary's verdict and the failure count wait for it.
    ctx.gate?.settle(target, outcome ? gateResultOf(outcome.report, ctx.gate.proof) : 'failed')
  }
}

/** The steps in their order; each returns an outcome when the function's run ends there. */
async function steps(run: FunctionRun): Promise<FunctionOutcome> {
  const stopped = (await readStep(run)) ?? (await choosePlanStep(run)) ?? (await planAndWrite(run))
  if (stopped) return stopped
  run.mark(run.policy.reports.changeStatus)
  const { revisionId } = run.written
  run.log.push(`${run.policy.reports.written ?? 'Written'}${revisionId ? ` (revision ${revisionId})` : ''}.`)
  const invoked = await invokeStep(run)
  return 'invocation' in invoked ? telemetryStep(run, invoked) : invoked
}

/** Plan, pass the gate, write; if someone changed the function since it was read, read again and plan again. */
async function planAndWrite(run: FunctionRun): Promise<FunctionOutcome | undefined> {
  for (let replan = 0; ; replan++) {
    const planned = (await planStep(run)) ?? (replan === 0 ? await gateStep(run) : undefined)
    if (planned) return planned
    const written = await writeStep(run, replan)
    if (written !== 'replan') return written
  }
}
