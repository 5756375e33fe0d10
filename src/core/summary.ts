/** The job summary, the plan comment and the outputs, rendered from the run's results; pure, so that tests read them whole. */
import type { FunctionOutcome, FunctionReport, FunctionStatus, Mode, PlanDiff } from './model.js'
import type { LayerVersion } from './layerVersions.js'
import { markdownBlock, markdownCode, markdownLink, markdownText, plainText, tailOf } from './outsideText.js'
import { MODE_POLICY, writesFunctions } from './modes.js'
import { type Redactor, redactDeep } from './redact.js'

export interface RunResult {
  readonly mode: Mode
  readonly outcomes: readonly FunctionOutcome[]
  /** Layer versions used, keyed "<region>/<arch>". */
  readonly layers: ReadonlyMap<string, LayerVersion>
  readonly testInvoke: boolean
  /** Things the run wants said that belong to no one function (e.g. a pattern that matched nothing). */
  readonly notes?: readonly string[]
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
      result.outcomes.map(({ report }) => report),
      redact
    )
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

const STATUS_LABEL: Record<FunctionStatus, string> = {
  updated: '✅ updated',
  unchanged: '➖ unchanged',
  planned: '📝 will change',
  'in-sync': '✅ in sync',
  drifted: '⚠️ drifted',
  removed: '🗑️ removed',
  failed: '❌ failed',
  'rolled-back': '↩️ rolled back',
  cancelled: '⏹️ cancelled'
}

/** The job summary as Markdown. */
export function renderSummary(result: RunResult, redact: Redactor): string {
  const reports = result.outcomes.map(({ report }) => report)
  const words = MODE_POLICY[result.mode].reports
  const lines: string[] = [`## ${words.title}`, '', tallyLine(reports), '']
  const quiet = reports.length > 0 && reports.every((r) => r.status === 'unchanged' || r.status === 'in-sync')
  if (quiet) lines.push(words.quiet, '')
  if (words.nothingWritten) lines.push(words.nothingWritten, '')
  for (const note of result.notes ?? []) lines.push(`> ${cell(note, redact, LONG_TEXT)}`, '')

  if (result.layers.size > 0) {
    lines.push('### Layer', '', '| region / arch | layer version | tag |', '| --- | --- | --- |')
    for (const [key, layer] of result.layers)
      lines.push(
        `| ${cell(key, redact)} | ${markdownCode(layer.arn, { redact })} | ${cell(layer.tag ?? layer.description ?? '', redact)} |`
      )
    lines.push('')
  }

  lines.push(...renderFunctions(result, reports, redact))

  const detailed = reports.filter(
    (r) =>
      r.diff && (r.status === 'planned' || r.status === 'drifted' || r.status === 'removed' || r.status === 'updated')
  )
  if (detailed.length > 0 && words.detailsChanges) {
    lines.push('### Changes', '')
    for (const r of detailed) lines.push(...renderDetails(r, redact), '')
  }

  const errors = reports.filter((r) => r.error !== null)
  if (errors.length > 0) {
    lines.push('### Errors', '')
    for (const r of errors)
      lines.push(
        `- **${cell(r.function, redact)}** (${cell(r.region, redact)}): ${cell(r.error ?? '', redact, LONG_TEXT)}`
      )
    lines.push('')
  }

  const tails = result.outcomes.filter((outcome) => outcome.logTail)
  if (tails.length > 0) {
    lines.push('### Log tails of the failed test invocations', '')
    // Redacted before it is cut, so that the cut leaves no end of a secret; the log has the whole tail.
    for (const { report: r, logTail = '' } of tails.slice(0, SUMMARY_TAILS))
      lines.push(
        `**${cell(r.function, redact)}** (${cell(r.region, redact)})`,
        '',
        markdownBlock(tailOf(redact(logTail), 30, SUMMARY_TAIL_CHARS), { redact }),
        ''
      )
    if (tails.length > SUMMARY_TAILS)
      lines.push(`The tails of ${tails.length - SUMMARY_TAILS} more are in the log.`, '')
  }

  lines.push(...renderDelivery(reports, redact))
  lines.push(...renderRoles(result.mode, reports, redact))

  const cloudwatchOn = reports.filter((r) => r.cloudwatch === 'on')
  if (cloudwatchOn.length > 0)
    lines.push(
      '### CloudWatch Logs',
      '',
      `${cloudwatchOn.length} function${cloudwatchOn.length === 1 ? '' : 's'} still send logs to CloudWatch Logs (${cell(cloudwatchOn.map((r) => r.function).join(', '), redact, LONG_TEXT)}). Their execution roles may still create log streams and put events; remove those permissions (\`cloudwatch-logs: off\` does) to stop paying for logs that now go to ClickStack.`,
      ''
    )
  return redact(lines.join('\n'))
}

/** What of each test invocation's telemetry reached ClickStack, when delivery was verified. */
function renderDelivery(reports: readonly FunctionReport[], redact: Redactor): string[] {
  const verified = reports.filter((r) => r.delivery !== null)
  if (verified.length === 0) return []
  const lines: string[] = []
  lines.push(
    '### Delivery to ClickStack',
    '',
    '| function | telemetry of the test invocation | log records | spans | first seen after | HyperDX |',
    '| --- | --- | --- | --- | --- | --- |'
  )
  for (const r of verified) {
    const d = r.delivery as NonNullable<FunctionReport['delivery']>
    lines.push(
      `| ${cell(r.function, redact)} | ${d.status === 'delivered' ? '✅ delivered' : d.status === 'error' ? `❌ ${cell(d.detail ?? 'error', redact)}` : '❌ not delivered'} | ${Number(d.logRecords)} | ${Number(d.spans)} | ${d.firstArrivalMs === null ? '—' : `≤ ${Math.ceil(d.firstArrivalMs / 1000)} s`} | ${d.link ? markdownLink('search', redact(d.link)) : '—'} |`
    )
  }
  lines.push('')
  if (verified.some((r) => r.delivery?.status === 'delivered' && !r.delivery.withInvocationId))
    lines.push(
      "Some records arrived without `faas.invocation_id`: the extension adds it only to JSON logs. Set `json-logs: true` (or the functions' LoggingConfig.LogFormat to JSON) to tie each record to its invocation.",
      ''
    )
  return lines
}

/** The functions table: a mode that writes shows its test invocation and CloudWatch Logs too. */
function renderFunctions(result: RunResult, reports: readonly FunctionReport[], redact: Redactor): string[] {
  if (reports.length === 0) return []
  const lines: string[] = []
  const writes = writesFunctions(result.mode)
  lines.push(
    '### Functions',
    '',
    writes
      ? '| function | region | arch | result | Rotel layer before → after | settings changed | test invocation | CloudWatch Logs |'
      : '| function | region | arch | result | Rotel layer now → target | settings that would change |',
    writes ? '| --- | --- | --- | --- | --- | --- | --- | --- |' : '| --- | --- | --- | --- | --- | --- |'
  )
  for (const r of reports) {
    const row = [
      cell(r.function, redact),
      cell(r.region, redact),
      r.architecture ?? '?',
      STATUS_LABEL[r.status],
      layerTransition(r, redact),
      cell([...r.changedVariables, ...(r.diff?.logFormat ? ['LogFormat'] : [])].join(', ') || '—', redact, LONG_TEXT)
    ]
    if (writes)
      row.push(
        invocationCell(r, result.testInvoke, redact),
        r.invocation.status === 'skipped' ? 'not checked' : r.cloudwatch
      )
    lines.push(`| ${row.join(' | ')} |`)
  }
  lines.push('')
  return lines
}

/** cloudwatch-logs: off and remove: each execution role once, with what was (or would be) done to it. */
function renderRoles(mode: Mode, reports: readonly FunctionReport[], redact: Redactor): string[] {
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
  const lines = [`### Execution roles: ${heading}`, '', '| role | functions | change |', '| --- | --- | --- |']
  for (const [role, { changes, functions }] of byRole)
    lines.push(
      `| ${cell(role, redact)} | ${cell(functions.join(', '), redact, LONG_TEXT)} | ${cell([...changes].join('; ') || 'nothing to change', redact, LONG_TEXT)} |`
    )
  lines.push('')
  return lines
}

/** The pull-request comment of a plan: the summary, which already says what would change and why. */
export function renderPlanComment(result: RunResult, redact: Redactor, runUrl: string | undefined): string {
  const footer = runUrl ? `\n\n<sub>From [this run](${runUrl}). Updated on every run of the workflow.</sub>` : ''
  return `${renderSummary(result, redact)}${footer}`
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
    'cancelled'
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

function layerTransition(r: FunctionReport, redact: Redactor): string {
  const short = (arn: string | null): string =>
    arn ? markdownCode(arn.replace(/^.*:layer:/, ''), { redact }) : '(none)'
  if (r.layerBefore === r.layerAfter) return short(r.layerAfter)
  return `${short(r.layerBefore)} → ${short(r.layerAfter)}`
}

function invocationCell(r: FunctionReport, testInvoke: boolean, redact: Redactor): string {
  const { status, statusCode, functionError } = r.invocation
  if (status === 'skipped') return testInvoke ? 'skipped' : 'off'
  return `${status}${statusCode !== null ? ` (${Number(statusCode)})` : ''}${functionError ? ` ${cell(functionError, redact)}` : ''}`
}

/** The test invocations' log tails the summary shows, and the characters of each: the summary stays small. */
const SUMMARY_TAILS = 10
const SUMMARY_TAIL_CHARS = 2000

/** The most characters of a short text from outside (a name, a tag, a detail) in a cell. */
const SHORT_TEXT = 300
/** The most characters of a long one (an error, a list of names, drift). */
const LONG_TEXT = 2000

/**
 * Text from outside made inert Markdown on one line, fit for a table cell: redacted before it is escaped,
 * since an escaped secret would no longer match the redactor that runs over the whole summary at the end.
 */
function cell(text: string, redact: Redactor, max = SHORT_TEXT): string {
  return markdownText(text, { max, redact })
}
