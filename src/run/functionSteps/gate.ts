/** The gate step: a function about to write waits for the canary, or is not started once the rollout stopped. */
import type { FunctionOutcome } from '../../core/model.js'
import type { FunctionRun } from '../functionRun.js'

/** Passes the run's gate before the first write; returns an outcome when the function is not to be written. */
export async function gateStep(run: FunctionRun): Promise<FunctionOutcome | undefined> {
  const { ctx, target } = run
  const { gate } = ctx
  if (!gate) return undefined
  let answer = gate.check(target)
  while (answer === 'wait') {
    // Waiting for the canary holds no max-concurrency slot, else the waiting would keep the canary from its writes.
    run.slot.release()
    await gate.decided(target)
    // Ahead of the functions still to be read: a canary function waits for no one once it may go.
    await run.slot.reacquire(true)
    if (ctx.isCancelled?.()) return run.cancelled()
    answer = gate.check(target)
  }
  if (answer.go) return ctx.isCancelled?.() ? run.cancelled() : undefined
  run.keepAsRead()
  run.log.push('Not started: nothing was written.')
  return run.end('skipped', `${target.name} was not started: ${answer.reason}.`)
}
