/** The job summary, the plan comment and the outputs, rendered from the run's results; pure, so that tests read them whole. */
import type { FunctionOutcome, FunctionReport, FunctionStatus, Mode, PlanDiff } from './model.js'
import type { LayerVersion } from './layerVersions.js'
import { markdownBlock, markdownCode, markdownLink, plainText, tailOf } from './outsideText.js'
import { MODE_POLICY, writesFunctions } from './modes.js'
import { type Redactor, redactDeep } from './redact.js'
import { COMMENT_ROOM, fitBlocks, type Room, SUMMARY_ROOM } from './summaryFit.js'
import { costLine } from './invocationFigures.js'
import { byStatus, changeKey, errorTemplate, groupBy, QUIET_STATUSES } from './summaryGroups.js'
import {
  cell,
  type Detail,
  LONG_TEXT,
  namesInDetails,
  renderFunctions,
  SHORT_TEXT,
  STATUS_LABEL
} from './summaryTable.js'

export interface RunResult {
  readonly mode: Mode
  readonly outcomes: readonly FunctionOutcome[]
  /** Layer versions used, keyed "<region>/<arch>". */
  readonly layers: ReadonlyMap<string, LayerVersion>
  readonly testInvoke: boolean
  /** Things the run wants said that belong to no one function (e.g. a pattern that matched nothing). */
  readonly notes?: readonly string[]
  /** Why the rollout started no new function (the canary failed, too many failures); the skipped rows say it too. */
  readonly stopped?: string | undefined
}

export interface Outputs {
  readonly 'layer-arns': string
  readonly changed: string
  readonly drift: string
  readonly report: string
}

/** The layers used, keyed "<region>/<arch>" as the `layer-arns` output has them. */
export function layersByRegionAndArch(outcomes: readonly FunctionOutcome[]): Map<string, LayerVersion> {
  const layers = new Map<string, LayerVersion>()
  for (const { report, layer } of outcomes) {
    if (layer && report.architecture) layers.set(`${report.region}/${report.architecture}`, layer)
  }
  return new Map([...layers.entries()].sort(([a], [b]) => a.localeCompare(b)))
}

export function renderOutputs(result: RunResult, redact: Redactor): Outputs {
  const layerArns = Object.fromEntries([...result.layers].map(([key, layer]) => [key, layer.arn]))
  const changed = result.outcomes.some(
    ({ report }) =>
      report.status === MODE_POLICY[result.mode].reports.changeStatus ||
      (writesFunctions(result.mode) && (report.executionRole?.changes.length ?? 0) > 0)
  )
  return {
    // Values are redacted before serialising: a secret with a quote or backslash is escaped in JSON.
    'layer-arns': outputJson(layerArns, redact),
    changed: String(changed),
    drift: String(result.outcomes.some(({ report }) => report.status === 'drifted')),
    report: outputJson(
      result.outcomes.map(({ report }) => withFigureFields(report)),
      redact
    )
  }
}

/** Every row carries the figure fields, null when unknown, whichever step made its invocation record. */
function withFigureFields(report: FunctionReport): FunctionReport {
  const { invocation } = report
  return {
    ...report,
    invocation: {
      ...invocation,
      report: invocation.report ?? null,
      lowMemory: invocation.lowMemory ?? false,
      before: invocation.before ?? null
    }
  }
}

/** The most characters of one string in the JSON outputs (an error with a log tail in it). */
const OUTPUT_TEXT = 4000

/**
 * JSON for an output, its strings without terminal escapes or control characters, redacted, bounded.
 * A workflow that echoes the output must not run a command from it either: the JSON is one line, so no
 * `::` can start one, and `##[` (which the runner reads anywhere in a line) is written `##\u005b`,
 * the same string to any JSON parser.
 */
function outputJson(value: unknown, redact: Redactor): string {
  const clean = redactDeep(value, (text) => plainText(text, { redact, max: OUTPUT_TEXT }))
  return JSON.stringify(clean).replace(/##\[/g, '##\\u005b')
}

const DETAILS: readonly Detail[] = ['full', 'compact', 'counted']

/** What a shortened summary says it left out, at each step. */
const SHORTENED: Record<Exclude<Detail, 'full'>, string> = {
  compact:
    'errors are cut to 300 characters, only the first diffs are shown, and functions whose telemetry was delivered and execution roles with nothing to change are named or counted instead of each given a row',
  counted:
    "errors are grouped and cut to 300 characters, no diffs are shown, the test invocations' memory and init figures are left out of the table (the report has them), the names of functions that did not change are only counted and other lists of names end after 3,000 characters, and functions whose telemetry was delivered and execution roles with nothing to change are only counted"
}

/**
 * The job summary as Markdown, within `room` (GitHub's cap on a step summary unless told otherwise): the
 * whole of it when it fits, else the most detailed of the shorter forms that fits, saying so; the least
 * detailed form, should even it be too large, is ended after its last whole block that fits.
 */
export function renderSummary(result: RunResult, redact: Redactor, room: Room = SUMMARY_ROOM): string {
  for (const detail of DETAILS) {
    const text = redact(summaryBlocks(result, redact, detail, room).join('\n'))
    if (room.measure(text) <= room.max) return text
  }
  const blocks = summaryBlocks(result, redact, 'counted', room)
  // Redaction never lengthens a text by more than a few characters ({} becomes {…}); the loop pays for those.
  let max = room.max
  for (;;) {
    const text = redact(fitBlocks(blocks, { ...room, max }))
    const over = room.measure(text) - room.max
    if (over <= 0 || max <= room.max / 2) return text
    max -= over
  }
}

/** The summary as blocks of whole markup, in the order shown: the part a shortened summary keeps first. */
function summaryBlocks(result: RunResult, redact: Redactor, detail: Detail, room: Room): string[] {
  const reports = result.outcomes.map(({ report }) => report)
  const words = MODE_POLICY[result.mode].reports
  const head: string[] = [`## ${words.title}`, '', tallyLine(reports), '']
  const cost = costLine(reports, (name) => cell(name, redact))
  if (cost) head.push(cost, '')
  const quiet = reports.length > 0 && reports.every((r) => QUIET_STATUSES.has(r.status))
  if (quiet) head.push(words.quiet, '')
  if (words.nothingWritten) head.push(words.nothingWritten, '')
  if (detail !== 'full')
    head.push(
      `> **Shortened** to stay within ${room.cap}: ${SHORTENED[detail]}. Every function, with its error and diff, is in ${room.elsewhere}.`,
      ''
    )
  const blocks = [head.join('\n')]
  for (const note of result.notes ?? []) blocks.push(`> ${cell(note, redact, LONG_TEXT)}\n`)

  // Failures first: what went wrong and why, then every function at a glance, then the details.
  blocks.push(...renderErrors(reports, redact, detail))
  blocks.push(...renderFunctions(result.mode, result.testInvoke, reports, redact, detail))
  if (result.layers.size > 0) {
    const lines = ['### Layer', '', '| region / arch | layer version | tag |', '| --- | --- | --- |']
    for (const [key, layer] of result.layers)
      lines.push(
        `| ${cell(key, redact)} | ${markdownCode(layer.arn, { redact })} | ${cell(layer.tag ?? layer.description ?? '', redact)} |`
      )
    blocks.push(`${lines.join('\n')}\n`)
  }
  blocks.push(...renderTails(result.outcomes, redact, detail))
  // Every mode details each function's changes in collapsed diffs: the table has them short.
  blocks.push(...renderChanges(reports, redact, detail, room))
  blocks.push(...renderDelivery(reports, redact, detail))
  blocks.push(...renderRoles(result.mode, reports, redact, detail))

  const cloudwatchOn = reports.filter((r) => r.cloudwatch === 'on')
  if (cloudwatchOn.length > 0)
    blocks.push(
      `### CloudWatch Logs\n\n${cloudwatchOn.length === 1 ? '1 function still sends' : `${cloudwatchOn.length} functions still send`} logs to CloudWatch Logs (${cell(cloudwatchOn.map((r) => r.function).join(', '), redact, LONG_TEXT)}). Their execution roles may still create log streams and put events; remove those permissions (\`cloudwatch-logs: off\` does) to stop paying for logs that now go to ClickStack.\n`
    )
  return blocks
}

/**
 * The error of each function that has one, failures first; when shortened, cut, and at the last step
 * grouped. Functions not started (skipped) share one reason: said once, with their names, at every step.
 */
function renderErrors(reports: readonly FunctionReport[], redact: Redactor, detail: Detail): string[] {
  const errors = byStatus(reports.filter((r) => r.error !== null))
  if (errors.length === 0) return []
  const max = detail === 'full' ? LONG_TEXT : SHORT_TEXT
  const own = errors.filter((r) => detail !== 'counted' && r.status !== 'skipped')
  const grouped = errors.filter((r) => !own.includes(r))
  return [
    '### Errors\n',
    ...own.map(
      (r) => `- **${cell(r.function, redact)}** (${cell(r.region, redact)}): ${cell(r.error ?? '', redact, max)}`
    ),
    // The same failure of many functions (their own names taken out) is said once, with their names.
    ...groupBy(grouped, errorTemplate).map((group) => {
      const [first] = group as [FunctionReport]
      if (group.length === 1)
        return `- **${cell(first.function, redact)}** (${cell(first.region, redact)}): ${cell(first.error ?? '', redact, max)}`
      return `- **${group.length} functions** (… is each one's name): ${cell(errorTemplate(first), redact, max)} ${namesInDetails(group, redact)}`
    }),
    ''
  ]
}

/** The test invocations' log tails: the first few, each bounded; the log has them all. */
function renderTails(outcomes: readonly FunctionOutcome[], redact: Redactor, detail: Detail): string[] {
  const tails = outcomes.filter((outcome) => outcome.logTail)
  if (tails.length === 0) return []
  const shown = detail === 'full' ? SUMMARY_TAILS : SHORT_SUMMARY_TAILS
  const blocks = ['### Log tails of the failed test invocations\n']
  // Redacted before it is cut, so that the cut leaves no end of a secret; the log has the whole tail.
  for (const { report: r, logTail = '' } of tails.slice(0, shown))
    blocks.push(
      `**${cell(r.function, redact)}** (${cell(r.region, redact)})\n\n${markdownBlock(wrapped(tailOf(redact(logTail), 30, SUMMARY_TAIL_CHARS)), { redact })}\n`
    )
  if (tails.length > shown) blocks.push(`The tails of ${tails.length - shown} more are in the log.\n`)
  return blocks
}

/**
 * A log tail's lines cut into pieces of TAIL_WIDTH characters, tabs made two spaces: GitHub shows a
 * `<pre>` without wrapping, and a REPORT line would have the reader scroll sideways at 1,000 px.
 */
function wrapped(tail: string): string {
  const pieces = new RegExp(`.{1,${TAIL_WIDTH}}`, 'gsu')
  return tail
    .replace(/\t/g, '  ')
    .split('\n')
    .map((line) => (line.length <= TAIL_WIDTH ? line : (line.match(pieces) ?? []).join('\n  ↪ ')))
    .join('\n')
}

/**
 * What each function would change, functions with the same change under one collapsed diff. Shortened, the
 * diffs shown stop at a share of the room; at the last step none are shown.
 */
function renderChanges(reports: readonly FunctionReport[], redact: Redactor, detail: Detail, room: Room): string[] {
  const detailed = byStatus(reports.filter((r) => r.diff && CHANGE_STATUSES.has(r.status)))
  if (detailed.length === 0) return []
  const groups = groupBy(detailed, changeKey)
  if (detail === 'counted')
    return [
      `### Changes\n\nThe diffs of ${detailed.length} function${detailed.length === 1 ? '' : 's'} (${groups.length} different) are left out; each function's \`diff\` is in ${room.elsewhere}.\n`
    ]
  const blocks = ['### Changes\n']
  let used = 0
  for (const [index, group] of groups.entries()) {
    const block = changeBlock(group, redact)
    used += room.measure(block)
    if (detail === 'compact' && used > room.max * CHANGES_SHARE) {
      const rest = groups.slice(index).reduce((sum, g) => sum + g.length, 0)
      blocks.push(
        `The diffs of ${rest} more function${rest === 1 ? '' : 's'} are left out; each function's \`diff\` is in ${room.elsewhere}.\n`
      )
      break
    }
    blocks.push(block)
  }
  return blocks
}

/**
 * One change: its function (or how many share it) on a line of its own, then its diff collapsed (with the
 * names, for a group). The line GitHub shows folded is HTML, where Markdown escapes do not apply: it holds
 * the action's own words only, and the names stay in the Markdown around it.
 */
function changeBlock(group: readonly FunctionReport[], redact: Redactor): string {
  const [first] = group as [FunctionReport, ...FunctionReport[]]
  const lines = renderDetails(first, redact)
  // Shown: the function and, in a check, its drift in words; folded: the diff block.
  const fence = lines.findIndex((line) => /^`{3,}diff$/.test(line))
  const [head = '', ...drift] = lines.slice(0, fence)
  const diff = lines.slice(fence).join('\n')
  const said = drift
    .filter((line) => line !== '')
    .map((line) => `\n\n${line}`)
    .join('')
  // GitHub renders Markdown inside <details> only after a blank line.
  if (group.length === 1) return `${head}${said}\n\n<details><summary>the diff</summary>\n\n${diff}\n\n</details>\n`
  const names = group.map((r) => cell(r.function, redact)).join(', ')
  return `**${group.length} functions** (${cell(first.region, redact)}, ${first.architecture ?? '?'}) – ${STATUS_LABEL[first.status]}${said}\n\n<details><summary>their names and the diff</summary>\n\n${names}\n\n${diff}\n\n</details>\n`
}

/** What of each test invocation's telemetry reached ClickStack, when delivery was verified. */
function renderDelivery(reports: readonly FunctionReport[], redact: Redactor, detail: Detail): string[] {
  const verified = reports.filter((r) => r.delivery !== null)
  if (verified.length === 0) return []
  // Shortened, only the functions whose telemetry did not arrive keep a row: they are the ones to look into.
  const rows = detail === 'full' ? verified : verified.filter((r) => r.delivery?.status !== 'delivered')
  const delivered = verified.filter((r) => !rows.includes(r))
  const blocks = ['### Delivery to ClickStack\n']
  if (rows.length > 0)
    blocks.push(
      '| function | telemetry of the test invocation | log records | spans | first seen after | HyperDX |\n| --- | --- | --- | --- | --- | --- |'
    )
  for (const r of rows) {
    const d = r.delivery as NonNullable<FunctionReport['delivery']>
    blocks.push(
      `| ${cell(r.function, redact)} | ${d.status === 'delivered' ? '✅ delivered' : d.status === 'error' ? `❌ ${cell(d.detail ?? 'error', redact)}` : '❌ not delivered'} | ${Number(d.logRecords)} | ${Number(d.spans)} | ${d.firstArrivalMs === null ? '—' : `≤ ${Math.ceil(d.firstArrivalMs / 1000)} s`} | ${d.link ? markdownLink('search', redact(d.link)) : '—'} |`
    )
  }
  if (rows.length > 0) blocks.push('')
  if (delivered.length > 0)
    blocks.push(
      `The telemetry of ${delivered.length}${rows.length > 0 ? ' more' : ''} function${delivered.length === 1 ? '' : 's'} was delivered${detail === 'compact' ? `: ${namesInDetails(delivered, redact)}` : ''}.\n`
    )
  if (verified.some((r) => r.delivery?.status === 'delivered' && !r.delivery.withInvocationId))
    blocks.push(
      "Some records arrived without `faas.invocation_id`: the extension adds it only to JSON logs. Set `json-logs: true` (or the functions' LoggingConfig.LogFormat to JSON) to tie each record to its invocation.\n"
    )
  return blocks
}

/**
 * cloudwatch-logs: off and remove: each execution role once, with what was (or would be) done to it;
 * shortened, the roles with nothing to change are counted.
 */
function renderRoles(mode: Mode, reports: readonly FunctionReport[], redact: Redactor, detail: Detail): string[] {
  const byRole = new Map<string, { changes: Set<string>; functions: string[] }>()
  for (const r of reports) {
    if (!r.executionRole) continue
    const entry = byRole.get(r.executionRole.role) ?? { changes: new Set<string>(), functions: [] }
    for (const change of r.executionRole.changes) entry.changes.add(change)
    entry.functions.push(r.function)
    byRole.set(r.executionRole.role, entry)
  }
  if (byRole.size === 0) return []
  const heading = MODE_POLICY[mode].reports.rolesHeading
  const blocks = [`### Execution roles: ${heading}\n\n| role | functions | change |\n| --- | --- | --- |`]
  let unchanged = 0
  for (const [role, { changes, functions }] of byRole) {
    if (detail !== 'full' && changes.size === 0) {
      unchanged++
      continue
    }
    blocks.push(
      `| ${cell(role, redact)} | ${cell(functions.join(', '), redact, LONG_TEXT)} | ${cell([...changes].join('; ') || 'nothing to change', redact, LONG_TEXT)} |`
    )
  }
  blocks.push('')
  if (unchanged > 0)
    blocks.push(`${unchanged} more execution role${unchanged === 1 ? '' : 's'} had nothing to change.\n`)
  return blocks
}

/**
 * The pull-request comment of a plan: the summary, which already says what would change and why, within
 * the room a comment has; what does not fit is in the job summary and the `report` output.
 */
export function renderPlanComment(
  result: RunResult,
  redact: Redactor,
  runUrl: string | undefined,
  room: Room = COMMENT_ROOM
): string {
  const footer = runUrl ? `\n\n<sub>From [this run](${runUrl}). Updated on every run of the workflow.</sub>` : ''
  return `${renderSummary(result, redact, { ...room, max: room.max - room.measure(footer) })}${footer}`
}

function tallyLine(reports: readonly FunctionReport[]): string {
  const counts = new Map<FunctionStatus, number>()
  for (const r of reports) counts.set(r.status, (counts.get(r.status) ?? 0) + 1)
  const order: FunctionStatus[] = [
    'updated',
    'planned',
    'drifted',
    'removed',
    'unchanged',
    'in-sync',
    'rolled-back',
    'failed',
    'cancelled',
    'skipped'
  ]
  const parts = order
    .filter((status) => counts.has(status))
    .map((status) => `${counts.get(status)} ${STATUS_LABEL[status].replace(/^\S+ /, '')}`)
  return `${reports.length} function${reports.length === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}.`
}

/** One function's diff as a Markdown `diff` block: layers in order, then variables. */
export function renderDetails(r: FunctionReport, redact: Redactor = (text) => text): string[] {
  const diff = r.diff as PlanDiff
  const lines = [
    `**${cell(r.function, redact)}** (${cell(r.region, redact)}, ${r.architecture ?? '?'}) – ${STATUS_LABEL[r.status]}`
  ]
  if (r.drift.length > 0) lines.push('', `Drift: ${cell(r.drift.join('; '), redact, LONG_TEXT)}.`)
  lines.push('', '```diff')
  const open = lines.length
  lines.push('# layers, in order')
  for (const [sign, arn] of diffLists(diff.layers.before, diff.layers.after)) lines.push(`${sign} ${arn}`)
  if (diff.variables.length > 0) {
    // Values only where the diff shows them (the action's own, proven safe); what the function holds now, never.
    lines.push('# variables')
    for (const change of diff.variables) {
      if (change.change !== 'added') lines.push(`- ${change.name} (current value not shown)`)
      if (change.change !== 'removed')
        lines.push(change.shown ? `+ ${change.name}=${change.after ?? ''}` : `+ ${change.name} (value not shown)`)
    }
  }
  if (diff.logFormat)
    lines.push(
      '# logging',
      `- LoggingConfig.LogFormat=${diff.logFormat.before}`,
      `+ LoggingConfig.LogFormat=${diff.logFormat.after}`
    )
  return fenced(lines, open)
}

/**
 * Closes the code block opened before lines[open]: each line inside stays one line, without control
 * characters, and the fence is longer than any run of backticks inside, so that no ARN, name or value
 * from outside can end the block early.
 */
function fenced(lines: string[], open: number): string[] {
  for (let i = open; i < lines.length; i++) lines[i] = plainText(lines[i] as string).replace(/\n/g, ' ')
  const inside = lines.slice(open).join('\n')
  const fence = '`'.repeat(Math.max(3, ...(inside.match(/`+/g) ?? []).map((run) => run.length + 1)))
  lines[open - 1] = `${fence}diff`
  lines.push(fence)
  return lines
}

/** A line diff of two short lists (a longest common subsequence), so that an unmoved layer shows unchanged. */
export function diffLists(before: readonly string[], after: readonly string[]): Array<[' ' | '-' | '+', string]> {
  const common: number[][] = Array.from({ length: before.length + 1 }, () =>
    new Array<number>(after.length + 1).fill(0)
  )
  for (let i = before.length - 1; i >= 0; i--)
    for (let j = after.length - 1; j >= 0; j--)
      (common[i] as number[])[j] =
        before[i] === after[j]
          ? ((common[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((common[i + 1] as number[])[j] as number, (common[i] as number[])[j + 1] as number)
  const out: Array<[' ' | '-' | '+', string]> = []
  let i = 0
  let j = 0
  while (i < before.length || j < after.length) {
    if (i < before.length && j < after.length && before[i] === after[j]) {
      out.push([' ', before[i] as string])
      i++
      j++
    } else if (
      j >= after.length ||
      (i < before.length && ((common[i + 1] as number[])[j] as number) >= ((common[i] as number[])[j + 1] as number))
    ) {
      out.push(['-', before[i] as string])
      i++
    } else {
      out.push(['+', after[j] as string])
      j++
    }
  }
  return out
}

/** The test invocations' log tails the summary shows, and the characters of each: the summary stays small. */
const SUMMARY_TAILS = 10
const SHORT_SUMMARY_TAILS = 3
const SUMMARY_TAIL_CHARS = 2000
/** The most characters of a log tail's line in the summary: what a 1,000 px page shows of a `<pre>` (GitHub's 12 px monospace). */
const TAIL_WIDTH = 110

/** The statuses whose diff the Changes section shows. */
const CHANGE_STATUSES: ReadonlySet<FunctionStatus> = new Set(['planned', 'drifted', 'removed', 'updated'])

/** The share of the room the diffs may take in a shortened summary: the rest is for the tables and errors. */
const CHANGES_SHARE = 0.4
