/** The job summary and the outputs, rendered from the run's results; pure, so that tests read them whole. */
import type { LayerVersion } from './layerVersions.js'
import { type Redactor, redactDeep } from './redact.js'
import type { FunctionOutcome, FunctionReport } from './rollout.js'

export interface RunResult {
  readonly outcomes: readonly FunctionOutcome[]
  /** Layer versions used, keyed "<region>/<arch>". */
  readonly layers: ReadonlyMap<string, LayerVersion>
  readonly testInvoke: boolean
}

export interface Outputs {
  readonly 'layer-arns': string
  readonly changed: string
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
  return {
    // Values are redacted before serialising: a secret with a quote or backslash is escaped in JSON.
    'layer-arns': JSON.stringify(redactDeep(layerArns, redact)),
    changed: String(result.outcomes.some(({ report }) => report.status === 'updated')),
    report: JSON.stringify(redactDeep(result.outcomes.map(({ report }) => report), redact))
  }
}

const STATUS_ICON: Record<FunctionReport['status'], string> = {
  updated: '✅ updated',
  unchanged: '➖ unchanged',
  failed: '❌ failed',
  'rolled-back': '↩️ rolled back'
}

/** The job summary as Markdown. */
export function renderSummary(result: RunResult, redact: Redactor): string {
  const reports = result.outcomes.map(({ report }) => report)
  const count = (status: FunctionReport['status']): number => reports.filter((r) => r.status === status).length
  const lines: string[] = ['## Rotel Lambda Extension for ClickStack', '']
  const tally = [
    `${count('updated')} updated`,
    `${count('unchanged')} unchanged`,
    `${count('rolled-back')} rolled back`,
    `${count('failed')} failed`
  ]
  lines.push(`${reports.length} function${reports.length === 1 ? '' : 's'}: ${tally.join(', ')}.`)
  if (reports.length > 0 && count('updated') === 0 && count('failed') === 0 && count('rolled-back') === 0)
    lines.push('', 'Nothing to change: every function already has the target layer and settings.')
  lines.push('')

  if (result.layers.size > 0) {
    lines.push('### Layer', '', '| region / arch | layer version | tag |', '| --- | --- | --- |')
    for (const [key, layer] of result.layers)
      lines.push(`| ${key} | \`${layer.arn}\` | ${cell(layer.tag ?? layer.description ?? '')} |`)
    lines.push('')
  }

  if (reports.length > 0) {
    lines.push(
      '### Functions',
      '',
      '| function | region | arch | result | Rotel layer before → after | settings changed | test invocation | CloudWatch Logs |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |'
    )
    for (const r of reports) {
      lines.push(
        `| ${cell(r.function)} | ${r.region} | ${r.architecture ?? '?'} | ${STATUS_ICON[r.status]} | ${layerTransition(r)} | ${cell(r.changedVariables.join(', ') || '—')} | ${invocationCell(r, result.testInvoke)} | ${r.invocation.status === 'skipped' ? 'not checked' : r.cloudwatch} |`
      )
    }
    lines.push('')
  }

  const errors = reports.filter((r) => r.error !== null)
  if (errors.length > 0) {
    lines.push('### Errors', '')
    for (const r of errors) lines.push(`- **${cell(r.function)}** (${r.region}): ${r.error}`)
    lines.push('')
  }

  const cloudwatchOn = reports.filter((r) => r.cloudwatch === 'on')
  if (cloudwatchOn.length > 0)
    lines.push(
      '### CloudWatch Logs',
      '',
      `${cloudwatchOn.length} function${cloudwatchOn.length === 1 ? '' : 's'} still send logs to CloudWatch Logs (${cloudwatchOn.map((r) => r.function).join(', ')}). Their execution roles may still create log streams and put events; remove those permissions to stop paying for logs that now go to ClickStack.`,
      ''
    )
  return redact(lines.join('\n'))
}

function layerTransition(r: FunctionReport): string {
  const short = (arn: string | null): string => (arn ? `\`${arn.replace(/^.*:layer:/, '')}\`` : '(none)')
  if (r.layerBefore === r.layerAfter) return short(r.layerAfter)
  return `${short(r.layerBefore)} → ${short(r.layerAfter)}`
}

function invocationCell(r: FunctionReport, testInvoke: boolean): string {
  const { status, statusCode, functionError } = r.invocation
  if (status === 'skipped') return testInvoke ? 'skipped' : 'off'
  return `${status}${statusCode !== null ? ` (${statusCode})` : ''}${functionError ? ` ${functionError}` : ''}`
}

/** Text made safe for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}
