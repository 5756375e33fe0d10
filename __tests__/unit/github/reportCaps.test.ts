/**
 * The end of a run over a large fleet, as GitHub receives it: the `report` output within its share of the
 * 1 MB cap on a job's outputs (the whole report in `report-file`), the summary within 1 MiB, and no more
 * annotations of a kind than GitHub shows.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ActionConfig } from '../../../src/core/config.js'
import type { FunctionReport } from '../../../src/core/model.js'
import { createRedactor } from '../../../src/core/redact.js'
import { REPORT_OUTPUT_MAX_BYTES, reportFileName, utf16Bytes } from '../../../src/core/reportOutput.js'
import { renderOutputs } from '../../../src/core/summary.js'
import { STEP_SUMMARY_MAX_BYTES, utf8Length } from '../../../src/core/summaryFit.js'
import { MemoryReporter } from '../../../src/github/memoryReporter.js'
import { publishResult } from '../../../src/github/report.js'
import { capAnnotations } from '../../../src/github/reporter.js'
import { fleetRun } from '../../support/fleet.js'

const config = { mode: 'apply', failOnDrift: true } as ActionConfig
const noSecrets = createRedactor([])
let temp = ''
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'caps-'))
})
afterAll(async () => {
  await rm(temp, { recursive: true, force: true })
})

const env = (step: string, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  RUNNER_TEMP: temp,
  GITHUB_RUN_ID: '7',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_JOB: 'rollout',
  GITHUB_ACTION: step,
  GITHUB_STEP_SUMMARY: join(temp, 'summary.md'),
  ...more
})

async function publish(size: number, step: string, more: NodeJS.ProcessEnv = {}) {
  const memory = new MemoryReporter()
  const run = fleetRun('apply', size)
  await publishResult(config, run, noSecrets, capAnnotations(memory), env(step, more))
  return { memory, run }
}

describe('the report of 5,000 functions', () => {
  let published: Awaited<ReturnType<typeof publish>>
  beforeAll(async () => {
    published = await publish(5000, 'rotel')
  })

  it('is too large for its share of the job outputs, so `report` says where the whole one is', async () => {
    const { outputs } = published.memory
    const whole = renderOutputs(published.run, noSecrets).report
    expect(utf16Bytes(whole)).toBeGreaterThan(REPORT_OUTPUT_MAX_BYTES)
    const pointer = JSON.parse(outputs.report ?? '') as {
      reportFile: string
      functions: number
      statuses: Record<string, number>
    }
    expect(utf16Bytes(outputs.report ?? '')).toBeLessThan(2000)
    expect(pointer.reportFile).toBe(outputs['report-file'])
    expect(pointer.reportFile).toBe(join(temp, 'rotel-clickstack-report-7-1-rollout-rotel.json'))
    expect(pointer.functions).toBe(5000)
    expect(Object.values(pointer.statuses).reduce((a, b) => a + b, 0)).toBe(5000)
    expect(pointer.statuses.failed).toBe(published.run.outcomes.filter((o) => o.report.status === 'failed').length)
    // The file holds the whole report, every function, as the output would have.
    const file = await readFile(pointer.reportFile, 'utf8')
    expect(file.trimEnd()).toBe(whole)
    expect((JSON.parse(file) as FunctionReport[]).map((r) => r.function)).toEqual(
      published.run.outcomes.map((o) => o.report.function)
    )
  })

  it('writes a summary within 1 MiB', () => {
    const [summary] = published.memory.reported.flatMap((entry) => (entry.kind === 'summary' ? [entry.markdown] : []))
    expect(utf8Length(summary ?? '')).toBeLessThanOrEqual(STEP_SUMMARY_MAX_BYTES)
    expect(summary).toContain('5000 functions: ')
  })

  it('makes at most 10 annotations of a kind, the failure of the step among the errors', () => {
    const { memory, run } = published
    const failed = run.outcomes.filter((o) => o.report.error !== null).length
    const errors = memory.annotations('error')
    expect(errors.length + memory.failures.length).toBeLessThanOrEqual(10)
    expect(memory.failures).toHaveLength(1)
    const last = errors.at(-1)
    expect(last?.properties?.title).toBe(`${failed - 8} more errors`)
    expect(last?.text).toMatch(/and \d+ more\. See the job summary for every function\.$/)
    expect(memory.annotations('warning').length).toBeLessThanOrEqual(10)
    // Every error held back is in the log, whole.
    const logged = memory.lines.filter((line) => line.startsWith('error (not an annotation'))
    expect(logged).toHaveLength(failed - 8)
  })
})

describe('the report of 10 functions', () => {
  it('is the `report` output itself, and the same JSON is in `report-file`', async () => {
    const { memory, run } = await publish(10, 'small')
    const whole = renderOutputs(run, noSecrets).report
    expect(memory.outputs.report).toBe(whole)
    expect(memory.outputs['report-file']).toBe(join(temp, 'rotel-clickstack-report-7-1-rollout-small.json'))
    expect((await readFile(memory.outputs['report-file'] ?? '', 'utf8')).trimEnd()).toBe(whole)
  })
})

describe('a report file that cannot be written', () => {
  const missing = { RUNNER_TEMP: join(tmpdir(), 'caps-no-such-folder', 'deeper') }

  it('leaves `report-file` empty and says why; a small report is still whole in `report`', async () => {
    const { memory, run } = await publish(10, 'nowhere', missing)
    expect(memory.outputs['report-file']).toBe('')
    expect(memory.outputs.report).toBe(renderOutputs(run, noSecrets).report)
    expect(memory.annotations('warning').map((w) => w.text)).toContainEqual(
      expect.stringMatching(/^The report file could not be written: .*ENOENT/)
    )
  })

  it('points a large report to the job summary instead', async () => {
    const { memory } = await publish(5000, 'nowhere', missing)
    const pointer = JSON.parse(memory.outputs.report ?? '') as { reportFile: string | null; note: string }
    expect(pointer.reportFile).toBeNull()
    expect(pointer.note).toMatch(/could not be written .*the job summary has every function/)
  })
})

describe('reportFileName', () => {
  it('keeps only safe characters of the workflow names, one file per run attempt, job and step', () => {
    expect(
      reportFileName({ GITHUB_RUN_ID: '9', GITHUB_RUN_ATTEMPT: '2', GITHUB_JOB: 'deploy (eu)', GITHUB_ACTION: '../x' })
    ).toBe('rotel-clickstack-report-9-2-deploy_eu_-.._x.json')
    expect(reportFileName({})).toBe('rotel-clickstack-report.json')
  })
})
