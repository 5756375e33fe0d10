/**
 * The summary's functions table, at a glance: at most five columns (function, result, change, test
 * invocation, CloudWatch Logs) that fit GitHub's page, short layer names, and words that cannot be misread.
 * The full ARNs and each function's diff are in the summary's Layer table and its collapsed Changes.
 */
import type { FunctionReport, FunctionStatus, Mode } from './model.js'
import { markdownCode, markdownText } from './outsideText.js'
import { MODE_POLICY, writesFunctions } from './modes.js'
import type { Redactor } from './redact.js'
import { figuresCell } from './invocationFigures.js'
import { byStatus, groupBy, QUIET_STATUSES, someNames } from './summaryGroups.js'

/** How much of the run the summary shows: everything, or less of it at each step when a fleet is too large. */
export type Detail = 'full' | 'compact' | 'counted'

export const STATUS_LABEL: Record<FunctionStatus, string> = {
  updated: '✅ updated',
  unchanged: '➖ unchanged',
  planned: '📝 will change',
  'in-sync': '✅ in sync',
  drifted: '⚠️ drifted',
  removed: '🗑️ removed',
  failed: '❌ failed',
  'rolled-back': '↩️ rolled back',
  cancelled: '⏹️ cancelled',
  skipped: '⏭️ skipped'
}

/** The most characters of a short text from outside (a name, a tag, a detail) in a cell. */
export const SHORT_TEXT = 300
/** The most characters of a long one (an error, a list of names, drift). */
export const LONG_TEXT = 2000

/** The most characters of one group's names at the last step of shortening. */
const NAMES_COUNTED = 3000

/** The statuses of functions that need the reader: never counted in place of their names. */
const FAILURE_STATUSES: ReadonlySet<FunctionStatus> = new Set(['failed', 'rolled-back', 'cancelled', 'skipped'])

/** The change column's heading: what the mode changes, or would. */
const CHANGE_HEADING: Record<Mode, string> = {
  apply: 'change',
  plan: 'change apply would make',
  check: 'drift: what apply would change',
  remove: 'change'
}

/**
 * What a mode that has no CloudWatch Logs column says of them under the table: it never looked, so no row
 * says "unknown" for a check it did not make.
 */
const CLOUDWATCH_NOT_LOOKED_AT: Record<Mode, string | undefined> = {
  apply: undefined,
  plan: "CloudWatch Logs were not looked at: a plan reads the functions' configurations only.",
  check:
    "CloudWatch Logs were not looked at: a drift check reads the functions' configurations only (apply's test invocation looks).",
  remove: "CloudWatch Logs were not looked at after the removal: a function's logs are its own business again."
}

/**
 * Text from outside made inert Markdown on one line, fit for a table cell: redacted before it is escaped,
 * since an escaped secret would no longer match the redactor that runs over the whole summary at the end.
 */
export function cell(text: string, redact: Redactor, max = SHORT_TEXT): string {
  return markdownText(text, { max, redact })
}

/**
 * The names of a group in a collapsed element, on one line (fit for a table cell or a list item); `bounded`,
 * the first NAMES_COUNTED characters of them, then how many more.
 */
export function namesInDetails(group: readonly FunctionReport[], redact: Redactor, bounded = false): string {
  const names = group.map((r) => cell(r.function, redact))
  const shown = bounded ? someNames(names, NAMES_COUNTED) : names.join(', ')
  return `<details><summary>${group.length} functions</summary>${shown}</details>`
}

/** The table's columns for a mode: a mode that writes shows its test invocation, one that verifies its CloudWatch Logs. */
function headings(mode: Mode): string[] {
  const columns = ['function', 'result', CHANGE_HEADING[mode]]
  if (writesFunctions(mode)) columns.push('test invocation')
  if (MODE_POLICY[mode].verifiesTelemetry) columns.push('CloudWatch Logs')
  return columns
}

/**
 * The functions table, failures first. Functions whose rows would be the same but for the name share one
 * row that names them all (at the last step of shortening, functions that did not change are only counted).
 */
export function renderFunctions(
  mode: Mode,
  testInvoke: boolean,
  reports: readonly FunctionReport[],
  redact: Redactor,
  detail: Detail
): string[] {
  if (reports.length === 0) return []
  const columns = headings(mode)
  const blocks = [['### Functions', '', `| ${columns.join(' | ')} |`, `|${' --- |'.repeat(columns.length)}`].join('\n')]
  // At the last step of shortening the figures are left out, so that functions of the same outcome share a row again.
  const figures = detail !== 'counted'
  const rows = byStatus(reports).map((r) => ({ r, cells: rowCells(r, mode, testInvoke, redact, figures) }))
  for (const group of groupBy(rows, ({ cells }) => cells.join(' | '))) {
    const [{ r: first, cells }] = group as [(typeof rows)[number]]
    const [where, ...rest] = cells
    const names =
      group.length === 1
        ? cell(first.function, redact)
        : detail === 'counted' && QUIET_STATUSES.has(first.status)
          ? `${group.length} functions (names left out)`
          : namesInDetails(
              group.map(({ r }) => r),
              redact,
              // A failed function is always named: the reader acts on it.
              detail === 'counted' && !FAILURE_STATUSES.has(first.status)
            )
    blocks.push(`| ${names} ${where} | ${rest.join(' | ')} |`)
  }
  const notLookedAt = CLOUDWATCH_NOT_LOOKED_AT[mode]
  blocks.push('', ...(notLookedAt ? [notLookedAt, ''] : []))
  return blocks
}

/** A function's row but for its name (its region and arch, small, first): equal for functions shown on one row. */
function rowCells(
  r: FunctionReport,
  mode: Mode,
  testInvoke: boolean,
  redact: Redactor,
  withFigures: boolean
): string[] {
  const row = [
    `<sub>${cell(r.region, redact)} · ${r.architecture ?? 'arch unknown'}</sub>`,
    STATUS_LABEL[r.status],
    changeCell(r, redact)
  ]
  if (writesFunctions(mode)) row.push(invocationCell(r, testInvoke, redact, withFigures))
  if (MODE_POLICY[mode].verifiesTelemetry) row.push(cloudwatchCell(r, testInvoke))
  return row
}

/** The layer change, short ("`rotel-extension-amd64-alpha` 40 → 41"), then how many settings change. */
function changeCell(r: FunctionReport, redact: Redactor): string {
  const variables = r.changedVariables.length
  const settings = [
    variables > 0 ? `${variables} variable${variables === 1 ? '' : 's'}` : '',
    r.diff?.logFormat ? `LogFormat ${r.diff.logFormat.before} → ${r.diff.logFormat.after}` : ''
  ].filter((part) => part !== '')
  const layer = layerChange(r.layerBefore, r.layerAfter, redact)
  return [layer, ...settings].filter((part) => part !== '').join(' · ') || '—'
}

/**
 * A layer version's short name, `rotel-extension-amd64-alpha:41` (the Layer table has the full ARN); the
 * version alone when only it changes. Empty when the function has no Rotel layer before or after.
 */
export function layerChange(before: string | null, after: string | null, redact: Redactor): string {
  const short = (arn: string | null): string =>
    arn ? markdownCode(arn.replace(/^.*:layer:/, ''), { redact }) : '(none)'
  if (before === after) return after ? short(after) : ''
  const [nameBefore, versionBefore] = splitVersion(before)
  const [nameAfter, versionAfter] = splitVersion(after)
  if (nameBefore !== undefined && nameBefore === nameAfter)
    return `${markdownCode(nameAfter, { redact })} ${versionBefore} → ${versionAfter}`
  return `${short(before)} → ${short(after)}`
}

/** A layer version ARN's short name and version; nothing when it has none. */
function splitVersion(arn: string | null): [string | undefined, string] {
  const match = arn ? /:layer:(.+):(\d+)$/.exec(arn) : null
  return match ? [match[1], match[2] as string] : [undefined, '']
}

function invocationCell(r: FunctionReport, testInvoke: boolean, redact: Redactor, withFigures: boolean): string {
  const { status, statusCode, functionError } = r.invocation
  if (status === 'skipped') return testInvoke ? 'not made' : 'off (test-invoke: false)'
  const figures = withFigures ? figuresCell(r.invocation) : ''
  return `${status}${statusCode !== null ? ` (${Number(statusCode)})` : ''}${functionError ? ` ${cell(functionError, redact)}` : ''}${figures ? ` · ${figures}` : ''}`
}

/**
 * What the CloudWatch check saw, in words that cannot be misread: "off" could mean switched off; what was
 * seen is that no stream was created or written since the update. A check not made says so.
 */
export function cloudwatchCell(r: FunctionReport, testInvoke: boolean): string {
  if (r.invocation.status === 'skipped') return testInvoke ? 'not looked at' : 'not looked at (no test invocation)'
  if (r.cloudwatch === 'on') return '⚠️ still receiving logs'
  if (r.cloudwatch === 'off') return 'no new log stream since the update'
  return r.cloudwatchDetail === null ? 'not looked at' : 'could not tell (see the warning)'
}
