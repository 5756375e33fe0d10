/** The GitHub side of the end of a run: outputs, annotations, the job summary, and the verdict. */
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ActionConfig } from '../core/config.js'
import { messageOf } from '../core/errors.js'
import { reportFileName, reportOutput } from '../core/reportOutput.js'
import { annotationText, annotationTitle } from '../core/outsideText.js'
import type { Reporter } from './reporter.js'
import type { Redactor } from '../core/redact.js'
import type { FunctionOutcome } from '../core/model.js'
import { MODE_POLICY } from '../core/modes.js'
import { renderOutputs, renderSummary, type RunResult } from '../core/summary.js'

/** Writes outputs, annotations and the summary, then fails the step when the mode's rules say so. */
export async function publishResult(
  config: ActionConfig,
  result: RunResult,
  redact: Redactor,
  reporter: Reporter,
  env: NodeJS.ProcessEnv
): Promise<void> {
  const { report, ...outputs } = renderOutputs(result, redact)
  for (const [name, value] of Object.entries(outputs)) reporter.setOutput(name, value)
  const file = await writeReportFile(report, env, reporter, redact)
  reporter.setOutput(
    'report',
    reportOutput(
      report,
      result.outcomes.map((outcome) => outcome.report),
      file
    )
  )
  reporter.setOutput('report-file', file ?? '')

  // Annotation text comes from outside (AWS errors, log tails, names): @actions/core escapes what would end
  // the command (%, CR, LF; and `:` `,` in the title); terminal escapes and control characters go here.
  const text = (message: string): string => annotationText(message, { redact })
  const title = (what: string): string => annotationTitle(redact(what))
  // Functions that share an execution role share its warnings: each is said once.
  const said = new Set<string>()
  for (const { report: row, warnings, warningTopics = {}, notices = [] } of result.outcomes) {
    for (const notice of notices) reporter.notice(text(notice), { title: title(`${row.function}: instrumentation`) })
    for (const warning of warnings) {
      if (said.has(warning)) continue
      said.add(warning)
      // A warning without a topic of its own is one of its execution role's (CloudWatch Logs or secret access).
      const topic = warningTopics[warning] ?? (/secret/i.test(warning) ? 'secret access' : 'CloudWatch Logs')
      reporter.warning(text(warning), { title: title(`${row.function}: ${topic}`) })
    }
    if (row.status === 'drifted')
      reporter.warning(text(`${row.function} (${row.region}) has drifted: ${row.drift.join('; ')}.`), {
        title: title(`${row.function}: drifted`)
      })
    // A function not started says the verdict's one sentence again: the verdict says it once.
    if (row.error && row.status !== 'skipped')
      reporter.error(text(row.error), { title: title(`${row.function}: ${row.status}`) })
  }

  const summary = renderSummary(result, redact)
  // Outside a runner (a local run) there is no summary file: print it instead.
  if (env.GITHUB_STEP_SUMMARY) await reporter.writeSummary(summary)
  else reporter.outside(summary)

  // Every annotation is made by now: the ones past GitHub's cap are gathered into the last of their kind.
  reporter.endAnnotations()
  const verdict = verdictOf(config, result.outcomes, result.stopped)
  if (verdict.failure) reporter.setFailed(text(verdict.failure))
  // The verdict names functions; a name is outside text too.
  else reporter.outside(redact(verdict.message))
}

/**
 * Writes the report (redacted, as the output has it) to a file in the runner's temporary folder, whatever
 * its size, so that a workflow can read it the same way for 10 functions or 5,000; undefined, with a
 * warning, when it cannot be written.
 */
async function writeReportFile(
  report: string,
  env: NodeJS.ProcessEnv,
  reporter: Reporter,
  redact: Redactor
): Promise<string | undefined> {
  const file = join(env.RUNNER_TEMP || tmpdir(), reportFileName(env))
  try {
    await writeFile(file, `${report}\n`, { mode: 0o600 })
    return file
  } catch (error) {
    reporter.warning(`The report file could not be written: ${annotationText(messageOf(error), { redact })}`)
    return undefined
  }
}

/** One sentence for the end of the log, and whether the step fails. */
export function verdictOf(
  config: ActionConfig,
  outcomes: readonly FunctionOutcome[],
  stopped?: string
): { failure: string | undefined; message: string } {
  const rows = outcomes.map(({ report }) => report)
  const of = `of ${rows.length} function${rows.length === 1 ? '' : 's'}`
  const names = (list: typeof rows): string => list.map((row) => row.function).join(', ')
  const skipped = rows.filter((row) => row.status === 'skipped').length
  // A stop that left nothing unstarted (the last functions were in flight) changes nothing: the failures say it.
  if (stopped && skipped > 0)
    return {
      failure: `The rollout stopped after ${stopped}: ${skipped} ${of} ${skipped === 1 ? 'was' : 'were'} not started; see the job summary.`,
      message: ''
    }
  const failed = rows.filter((row) => row.status === 'failed' || row.status === 'rolled-back')
  if (failed.length > 0) {
    const what = MODE_POLICY[config.mode].reports.failedWhat
    return {
      failure: `${failed.length} ${of} ${what} (${names(failed)}); see the errors above and the job summary.`,
      message: ''
    }
  }
  const cancelled = rows.filter((row) => row.status === 'cancelled')
  if (cancelled.length > 0)
    return {
      failure: `The run was cancelled: ${cancelled.length} ${of} ${cancelled.length === 1 ? 'was' : 'were'} not processed (${names(cancelled)}); the others are as the summary says.`,
      message: ''
    }
  return MODE_POLICY[config.mode].verdict({
    rows,
    of,
    names,
    failOnDrift: config.failOnDrift,
    cloudwatchLogs: config.cloudwatchLogs
  })
}
