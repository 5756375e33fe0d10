/**
 * The `report` output within GitHub's cap on a job's outputs: the whole JSON when it is small, else a small
 * JSON that says where the whole one is (the file the `report-file` output names).
 */
import type { FunctionReport, FunctionStatus } from './model.js'
import { utf16Length } from './summaryFit.js'

/**
 * "Outputs can be a maximum of 1 MB per job. The total of all outputs in a workflow run can be a maximum
 * of 50 MB. Size is approximated based on UTF-16 encoding."
 * https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax#outputs-for-docker-container-and-javascript-actions
 * (and https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idoutputs).
 * Read as 1,000,000 bytes, the smaller reading of "1 MB".
 */
export const JOB_OUTPUTS_MAX_BYTES = 1_000_000

/**
 * The most of that cap the `report` output takes: half. The other half is for this action's other outputs
 * and every other step of the job, which share the cap.
 */
export const REPORT_OUTPUT_MAX_BYTES = JOB_OUTPUTS_MAX_BYTES / 2

/** A text's size as GitHub approximates an output's: UTF-16, two bytes a code unit. */
export function utf16Bytes(text: string): number {
  return utf16Length(text) * 2
}

/**
 * The report file's name, one per run attempt, job and step, so that two steps of a job (or a re-run)
 * never write over each other's; only letters, digits, `.`, `_` and `-` of the workflow's names are kept.
 */
export function reportFileName(env: NodeJS.ProcessEnv): string {
  const parts = [env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT, env.GITHUB_JOB, env.GITHUB_ACTION]
    .map((part) => (part ?? '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100))
    .filter((part) => part !== '' && part !== '_')
  return `rotel-clickstack-report${parts.map((part) => `-${part}`).join('')}.json`
}

/**
 * The value of the `report` output: the report itself when it fits its share of the cap; else a small
 * JSON object with the file that holds it, the count of functions by status, and why.
 */
export function reportOutput(report: string, reports: readonly FunctionReport[], file: string | undefined): string {
  if (utf16Bytes(report) <= REPORT_OUTPUT_MAX_BYTES) return report
  const statuses: Partial<Record<FunctionStatus, number>> = {}
  for (const { status } of reports) statuses[status] = (statuses[status] ?? 0) + 1
  const pointer = {
    reportFile: file ?? null,
    functions: reports.length,
    statuses,
    note: `The report of ${reports.length} functions is ${Math.ceil(utf16Bytes(report) / 1000)} kB, more than the ${REPORT_OUTPUT_MAX_BYTES / 1000} kB share of GitHub's 1 MB cap on a job's outputs this action takes. ${file ? 'The whole report is in the file reportFile names (the report-file output too).' : 'The report file could not be written (the warning of this step says why); the job summary has every function.'}`
  }
  // The file's path is the runner's temporary folder and the workflow's names: no `##[` can survive the
  // name's filter, but the rule of the other outputs holds here too.
  return JSON.stringify(pointer).replace(/##\[/g, '##\\u005b')
}
