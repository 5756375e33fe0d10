/**
 * Whether a function keeps enough memory free once it carries the extension: the test invocation's
 * Max Memory Used against the function's memory size, less the memory-headroom margin.
 */
import { MAX_MEMORY_MB } from './invocationReport.js'

/** memory-headroom: a share of each function's memory size, or a fixed number of MB. */
export type MemoryHeadroom = { readonly percent: number } | { readonly mb: number }

/** What to do when a function's memory use comes within the headroom of its size. */
export type LowMemoryAction = 'warn' | 'fail'

export const DEFAULT_MEMORY_HEADROOM: MemoryHeadroom = { percent: 10 }

/** memory-headroom as written: `10%` or `32MB`; undefined when it is neither, or beyond what fits a function. */
export function parseHeadroom(text: string): MemoryHeadroom | undefined {
  const percent = /^(\d{1,2}(?:\.\d)?) ?%$/.exec(text)?.[1]
  if (percent !== undefined) return Number(percent) <= 90 ? { percent: Number(percent) } : undefined
  const mb = /^(\d{1,5}) ?MB$/i.exec(text)?.[1]
  if (mb !== undefined) return Number(mb) <= MAX_MEMORY_MB ? { mb: Number(mb) } : undefined
  return undefined
}

/** The headroom in MB for a function of this memory size. */
export function headroomMb(headroom: MemoryHeadroom, memorySizeMb: number): number {
  return 'mb' in headroom ? headroom.mb : Math.round(memorySizeMb * headroom.percent) / 100
}

/** Why a function's memory is too close to its size, in words, or undefined when it is not (or is not known). */
export function lowMemoryReason(
  maxMemoryUsedMb: number | null,
  memorySizeMb: number | null,
  headroom: MemoryHeadroom
): string | undefined {
  if (maxMemoryUsedMb === null || memorySizeMb === null) return undefined
  const margin = headroomMb(headroom, memorySizeMb)
  const free = memorySizeMb - maxMemoryUsedMb
  if (free > margin) return undefined
  const marginText = 'mb' in headroom ? `${margin} MB` : `${headroom.percent}% of it, ${margin} MB`
  return `its test invocation used ${maxMemoryUsedMb} MB of its ${memorySizeMb} MB (${Math.max(free, 0)} MB free, within the memory-headroom of ${marginText}); an out-of-memory error ends an invocation, so raise its MemorySize (to ${suggestedSize(maxMemoryUsedMb, headroom)} MB, say) or, if the figure is expected, lower memory-headroom`
}

/** The smallest size, in whole 64 MB steps, that would leave more than the headroom free at this use. */
function suggestedSize(usedMb: number, headroom: MemoryHeadroom): number {
  const least = 'mb' in headroom ? usedMb + headroom.mb : usedMb / (1 - headroom.percent / 100)
  return Math.min(MAX_MEMORY_MB, (Math.floor(least / 64) + 1) * 64)
}
