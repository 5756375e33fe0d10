/** The test invocation's figures in words: the log line, the summary's cell and its cost line. */
import type { InvocationFigures } from './invocationReport.js'
import type { FunctionReport } from './model.js'

/** The title of the warning annotation of a function whose memory use comes within memory-headroom of its size. */
export const MEMORY_HEADROOM_TOPIC = 'Memory headroom'

/** Every figure the report had, as Lambda names them. */
export function figuresLine(figures: InvocationFigures): string {
  const parts = [
    figures.durationMs !== null ? `Duration ${figures.durationMs} ms` : '',
    figures.billedDurationMs !== null ? `Billed Duration ${figures.billedDurationMs} ms` : '',
    figures.memorySizeMb !== null ? `Memory Size ${figures.memorySizeMb} MB` : '',
    figures.maxMemoryUsedMb !== null ? `Max Memory Used ${figures.maxMemoryUsedMb} MB` : '',
    figures.initDurationMs !== null ? `Init Duration ${figures.initDurationMs} ms` : '',
    figures.restoreDurationMs !== null ? `Restore Duration ${figures.restoreDurationMs} ms` : '',
    figures.billedRestoreDurationMs !== null ? `Billed Restore Duration ${figures.billedRestoreDurationMs} ms` : ''
  ]
  return parts.filter((part) => part !== '').join(', ')
}

/**
 * The figures folded into the test invocation's cell, short: "112/128 MB · init 250 ms", or with an
 * earlier run's figures "84 → 112/128 MB (+28) · init 180 → 250 ms"; empty when there are none.
 */
export function figuresCell(invocation: FunctionReport['invocation']): string {
  const now = invocation.report
  if (!now) return ''
  const before = invocation.before ?? null
  const parts: string[] = []
  if (now.maxMemoryUsedMb !== null) {
    const size = now.memorySizeMb !== null ? `/${now.memorySizeMb}` : ''
    const earlier = before?.maxMemoryUsedMb ?? null
    parts.push(
      earlier === null
        ? `${now.maxMemoryUsedMb}${size} MB`
        : `${earlier} → ${now.maxMemoryUsedMb}${size} MB (${signed(now.maxMemoryUsedMb - earlier)})`
    )
    if (invocation.lowMemory) parts.push('⚠ low memory')
  }
  const start = startOf(now)
  if (start) {
    const earlier = before ? startOf(before) : undefined
    parts.push(
      earlier && earlier.what === start.what
        ? `${start.what} ${ms(earlier.ms)} → ${ms(start.ms)} ms`
        : `${start.what} ${ms(start.ms)} ms`
    )
  }
  return parts.join(' · ')
}

/**
 * The summary's cost line, when any function has figures: the most memory any used, and the largest
 * increase from the earlier report; `name` makes a function's name safe to show. Undefined when no function has memory figures.
 */
export function costLine(reports: readonly FunctionReport[], name: (text: string) => string): string | undefined {
  const measured = reports.filter((r) => r.invocation.report?.maxMemoryUsedMb != null)
  if (measured.length === 0) return undefined
  const most = measured.reduce((a, b) => (used(b) > used(a) ? b : a))
  const size = most.invocation.report?.memorySizeMb
  const parts = [
    `**Memory**: the most any test invocation used is ${used(most)} MB${size != null ? ` of ${size}` : ''} (${name(most.function)})`
  ]
  const increases = measured
    .filter((r) => r.invocation.before?.maxMemoryUsedMb != null)
    .map((r) => ({ r, change: used(r) - (r.invocation.before?.maxMemoryUsedMb ?? 0) }))
  if (increases.length > 0) {
    const largest = increases.reduce((a, b) => (b.change > a.change ? b : a))
    parts.push(
      `the largest change from the earlier report is ${signed(largest.change)} MB (${name(largest.r.function)})`
    )
  }
  const low = measured.filter((r) => r.invocation.lowMemory).length
  if (low > 0) parts.push(`${low} function${low === 1 ? '' : 's'} within memory-headroom of the memory size`)
  return `${parts.join('; ')}.`
}

function used(r: FunctionReport): number {
  return r.invocation.report?.maxMemoryUsedMb ?? 0
}

/** A cold start's init, or a SnapStart restore's duration, whichever the report has. */
function startOf(figures: InvocationFigures): { what: 'init' | 'restore'; ms: number } | undefined {
  if (figures.initDurationMs !== null) return { what: 'init', ms: figures.initDurationMs }
  if (figures.restoreDurationMs !== null) return { what: 'restore', ms: figures.restoreDurationMs }
  return undefined
}

function ms(value: number): string {
  return String(Math.round(value))
}

function signed(value: number): string {
  return value > 0 ? `+${value}` : String(value)
}
