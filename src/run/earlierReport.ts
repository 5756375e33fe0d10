/** compare-report: the earlier run's report file, read once before any AWS call. */
import { open } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import type { ActionConfig } from '../core/config.js'
import { InputError } from '../core/config.js'
import { type EarlierFigures, MAX_EARLIER_REPORT_BYTES, parseEarlierReport } from '../core/earlierReport.js'
import { errorName } from '../core/errors.js'

/**
 * The earlier figures, or undefined without compare-report. A missing file is said and passed over (a
 * first run has no earlier report to download); a file too large or not a report is an input error.
 */
export async function readEarlierReport(
  config: Pick<ActionConfig, 'compareReport'>,
  env: NodeJS.ProcessEnv,
  warn: (message: string) => void
): Promise<EarlierFigures | undefined> {
  if (!config.compareReport) return undefined
  const path = isAbsolute(config.compareReport)
    ? config.compareReport
    : resolve(env.GITHUB_WORKSPACE || process.cwd(), config.compareReport)
  let text: string
  try {
    const file = await open(path, 'r')
    try {
      // The size is checked on the open file, and no more than the limit is ever read.
      const { size } = await file.stat()
      if (size > MAX_EARLIER_REPORT_BYTES)
        throw new InputError([
          `compare-report is ${Math.ceil(size / 1024 / 1024)} MB; at most ${MAX_EARLIER_REPORT_BYTES / 1024 / 1024} MB is read. Give the file an earlier run's report-file output named.`
        ])
      const buffer = Buffer.alloc(Math.min(size, MAX_EARLIER_REPORT_BYTES))
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0)
      text = buffer.subarray(0, bytesRead).toString('utf8')
    } finally {
      await file.close()
    }
  } catch (error) {
    if (error instanceof InputError) throw error
    warn(
      `compare-report: the earlier report could not be read (${(error as NodeJS.ErrnoException).code ?? errorName(error)}), so no function is compared with it. On a first run there is none; otherwise check the path and the download-artifact step.`
    )
    return undefined
  }
  const parsed = parseEarlierReport(text)
  if ('problem' in parsed) throw new InputError([parsed.problem])
  return parsed.figures
}
