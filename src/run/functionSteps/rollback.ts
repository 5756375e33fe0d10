/** The give-back step: a write that failed to verify is put back exactly as it was read. */
import type { FunctionOutcome, FunctionState } from '../../core/model.js'
import { loggingToRestore } from '../../core/plan.js'
import { errorName, messageOf } from '../../core/errors.js'
import { writeConfiguration } from '../../aws/lambdaFunction.js'
import type { FunctionRun } from '../functionRun.js'

/**
 * Puts the function's layers and variables back as they were read (and its LoggingConfig, when the
 * write changed it), guarded by the revision our own write produced, so that a change someone else
 * made in between is never overwritten.
 */
export async function rollbackStep(run: FunctionRun, reason: string): Promise<FunctionOutcome> {
  const { basis: original, revisionId } = run.written
  // The plan that was written: its LoggingConfig says whether the log format must go back too.
  const { loggingAfter } = run.plan
  const hint = restoreHint(original, loggingAfter !== undefined)
  if (!run.ctx.config.rollbackOnFailure)
    return run.end(
      'failed',
      `${original.name} was updated but ${reason} It was left updated because rollback-on-failure is false. ${hint}`
    )
  try {
    const restored = await writeConfiguration(
      run.lambda,
      original.arn,
      original.layers,
      original.variables ?? {},
      revisionId,
      run.ctx.sleep,
      loggingAfter && loggingToRestore(original)
    )
    if (restored.status === 'Failed')
      return run.end(
        'failed',
        `${original.name}: ${reason} Rolling back failed too (${restored.reason ?? 'no reason given'}); it needs attention. ${hint}`
      )
    run.know({
      layersAfter: [...original.layers],
      layerAfter: run.report.layerBefore,
      changedVariables: [],
      diff: null
    })
    run.log.push(
      `Rolled back: layers${loggingAfter ? ', variables and log format are' : ' and variables are'} as they were before this run.`
    )
    return run.end('rolled-back', `${original.name}: ${reason} It was rolled back to its previous configuration.`)
  } catch (error) {
    const concurrent =
      errorName(error) === 'PreconditionFailedException'
        ? ' Someone else changed the function after our update, so the rollback did not overwrite their change.'
        : ` The rollback failed: ${errorName(error)}: ${messageOf(error)}.`
    return run.end('failed', `${original.name}: ${reason}${concurrent} It needs attention. ${hint}`)
  }
}

/**
 * A command that puts the layers back (and the LoggingConfig, when this run's write changes the log
 * format); variables are named, never printed, because they may hold secrets.
 */
export function restoreHint(original: FunctionState, logFormatChanged = false): string {
  const layers = original.layers.length > 0 ? original.layers.join(' ') : '[]'
  const logging = logFormatChanged ? loggingToRestore(original) : undefined
  const loggingOption = logging
    ? ` --logging-config ${[
        `LogFormat=${logging.format}`,
        ...(logging.applicationLogLevel ? [`ApplicationLogLevel=${logging.applicationLogLevel}`] : []),
        ...(logging.systemLogLevel ? [`SystemLogLevel=${logging.systemLogLevel}`] : []),
        ...(logging.logGroup ? [`LogGroup=${logging.logGroup}`] : [])
      ].join(',')}`
    : ''
  return `To restore its layers${logging ? ' and log format' : ''}: aws lambda update-function-configuration --region ${original.region} --function-name ${original.arn} --layers ${layers}${loggingOption} ; its variables before this run were: ${Object.keys(original.variables ?? {}).join(', ') || 'none'}.`
}
