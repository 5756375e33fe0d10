/**
 * The order and grouping of functions in the summary and the plan comment: failures first, and functions
 * whose rows or changes are the same shown once, so that a fleet of thousands reads in a page.
 */
import type { FunctionReport, FunctionStatus } from './model.js'

/** Failures first (the reader acts on them), then what changed or would change, then what did not. */
const STATUS_ORDER: readonly FunctionStatus[] = [
  'failed',
  'rolled-back',
  'cancelled',
  'skipped',
  'drifted',
  'planned',
  'removed',
  'updated',
  'unchanged',
  'in-sync'
]

/** The statuses of functions left as they were: at scale, the first whose names the summary stops listing. */
export const QUIET_STATUSES: ReadonlySet<FunctionStatus> = new Set(['unchanged', 'in-sync'])

/** The reports in STATUS_ORDER, each status in the order the run gave them. */
export function byStatus(reports: readonly FunctionReport[]): FunctionReport[] {
  const rank = (r: FunctionReport): number => STATUS_ORDER.indexOf(r.status)
  return reports
    .map((report, index) => ({ report, index }))
    .sort((a, b) => rank(a.report) - rank(b.report) || a.index - b.index)
    .map(({ report }) => report)
}

/** The items grouped by key, the groups in the order of their first item, each group in the given order. */
export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const key = keyOf(item)
    const group = groups.get(key)
    if (group) group.push(item)
    else groups.set(key, [item])
  }
  return [...groups.values()]
}

/** What a function's change is, apart from the function: equal keys, equal diffs under the same status. */
export function changeKey(r: FunctionReport): string {
  return JSON.stringify([r.status, r.region, r.architecture, r.drift, r.diff])
}

/**
 * An error with the function's own name taken out, so that the same failure of many functions reads as
 * one: "Not allowed to read … in us-west-2" for each of them. Names shorter than 3 characters stay, since
 * they occur inside other words.
 */
export function errorTemplate(r: FunctionReport): string {
  const error = r.error ?? ''
  return r.function.length >= 3 ? error.split(r.function).join('…') : error
}

/** Names joined with ", " for as long as they fit in `max` characters, then "and N more". */
export function someNames(names: readonly string[], max: number): string {
  let text = ''
  for (const [index, name] of names.entries()) {
    const next = text === '' ? name : `${text}, ${name}`
    if (next.length > max) return `${text}${text === '' ? '' : ' '}and ${names.length - index} more`
    text = next
  }
  return text
}
