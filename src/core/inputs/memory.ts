/** memory-headroom, low-memory and compare-report: how close to its memory size a function may come, and what then. */
import { DEFAULT_MEMORY_HEADROOM, type LowMemoryAction, parseHeadroom } from '../memoryHeadroom.js'
import { MAX_MEMORY_MB } from '../invocationReport.js'
import type { Problem } from './parsers.js'

/** Linux's PATH_MAX. */
const MAX_PATH_CHARS = 4096

/** memory-headroom, low-memory, and compare-report (a path: the file is read before any AWS call, in run/). */
export function parseMemorySettings(input: (name: string) => string, problem: Problem) {
  const headroomInput = input('memory-headroom') || '10%'
  const memoryHeadroom = parseHeadroom(headroomInput)
  if (!memoryHeadroom)
    problem(
      `memory-headroom "${headroomInput}" must be a share of the memory size from 0% to 90% (e.g. 10%) or a number of MB from 0 to ${MAX_MEMORY_MB} (e.g. 32MB).`
    )
  const lowMemoryInput = input('low-memory') || 'warn'
  if (lowMemoryInput !== 'warn' && lowMemoryInput !== 'fail')
    problem(
      `low-memory "${lowMemoryInput}" must be warn (say so and keep the change) or fail (roll the function back and fail).`
    )
  const compareReport = input('compare-report') || undefined
  if (compareReport && compareReport.length > MAX_PATH_CHARS)
    problem(
      `compare-report is ${compareReport.length} characters long; give the path of the earlier run's report file.`
    )
  return {
    compareReport,
    memoryHeadroom: memoryHeadroom ?? DEFAULT_MEMORY_HEADROOM,
    lowMemory: (lowMemoryInput === 'fail' ? 'fail' : 'warn') as LowMemoryAction
  }
}
