/**
 * The figures of an earlier run's report file (compare-report), matched to this run's functions by name
 * and region. The file is outside data: only the fields needed are read, each checked and bounded, and
 * nothing in it sets a size or a count.
 */
import { figuresFromRecord, type InvocationFigures } from './invocationReport.js'
import type { FunctionOutcome } from './model.js'

/** The largest report file read: a report of thousands of functions is a few MB. */
export const MAX_EARLIER_REPORT_BYTES = 5 * 1024 * 1024
/** The most rows looked at; the action's own reports stay far below. */
const MAX_ROWS = 20_000
/** Lambda's function names are at most 64 characters, region names far fewer. */
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/
const REGION = /^[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}$/

/** Each function's earlier figures, keyed by region and name. */
export type EarlierFigures = ReadonlyMap<string, InvocationFigures>

/** The figures of the file's rows, or a problem naming compare-report and its fix. */
export function parseEarlierReport(text: string): { figures: EarlierFigures } | { problem: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return {
      problem:
        "compare-report is not JSON; give the file an earlier run's report-file output named (the whole report, a JSON array)."
    }
  }
  if (!Array.isArray(parsed))
    return {
      problem:
        "compare-report is not a JSON array of function rows; give the file an earlier run's report-file output named, not its report output."
    }
  const figures = new Map<string, InvocationFigures>()
  for (const row of parsed.slice(0, MAX_ROWS)) {
    if (typeof row !== 'object' || row === null) continue
    const { function: name, region, invocation } = row as Record<string, unknown>
    if (typeof name !== 'string' || !FUNCTION_NAME.test(name)) continue
    if (typeof region !== 'string' || !REGION.test(region)) continue
    const earlier = figuresFromRecord((invocation as { report?: unknown } | null | undefined)?.report)
    // The first row of a function counts: a report has each function once.
    if (earlier && !figures.has(keyOf(region, name))) figures.set(keyOf(region, name), earlier)
  }
  return { figures }
}

/** The outcomes with each function's earlier figures in its row, where the earlier report has them. */
export function withEarlierFigures(outcomes: readonly FunctionOutcome[], earlier: EarlierFigures): FunctionOutcome[] {
  return outcomes.map((outcome) => {
    const { report } = outcome
    const before = earlier.get(keyOf(report.region, report.function)) ?? null
    if (!before) return outcome
    return { ...outcome, report: { ...report, invocation: { ...report.invocation, before } } }
  })
}

function keyOf(region: string, name: string): string {
  return `${region}/${name}`
}
