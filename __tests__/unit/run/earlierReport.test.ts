import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../../src/core/config.js'
import { readEarlierReport } from '../../../src/run/earlierReport.js'

const workspace = mkdtempSync(join(tmpdir(), 'rotel-earlier-'))
const env = { GITHUB_WORKSPACE: workspace }
const row = { function: 'orders', region: 'us-east-1', invocation: { report: { maxMemoryUsedMb: 84 } } }

async function read(path: string | undefined): Promise<{ value: unknown; warnings: string[] }> {
  const warnings: string[] = []
  const value = await readEarlierReport({ compareReport: path }, env, (message) => warnings.push(message))
  return { value, warnings }
}

describe('readEarlierReport', () => {
  it('reads nothing without compare-report', async () => {
    expect(await read(undefined)).toEqual({ value: undefined, warnings: [] })
  })

  it('reads a path relative to the workspace', async () => {
    writeFileSync(join(workspace, 'report.json'), JSON.stringify([row]))
    const { value, warnings } = await read('report.json')
    expect((value as Map<string, { maxMemoryUsedMb: number }>).get('us-east-1/orders')?.maxMemoryUsedMb).toBe(84)
    expect(warnings).toEqual([])
  })

  it('warns and goes on when the file is missing (a first run has none)', async () => {
    const { value, warnings } = await read('previous/missing.json')
    expect(value).toBeUndefined()
    expect(warnings).toEqual([expect.stringMatching(/^compare-report: .*\(ENOENT\).*On a first run there is none/)])
  })

  it('refuses a file over 5 MB before reading it, as an input error', async () => {
    const big = join(workspace, 'big.json')
    writeFileSync(big, `[${' '.repeat(5 * 1024 * 1024)}]`)
    await expect(read(big)).rejects.toThrow(InputError)
    await expect(read(big)).rejects.toThrow(/compare-report is 6 MB; at most 5 MB is read/)
  })

  it('refuses a file that is not a report, as an input error', async () => {
    writeFileSync(join(workspace, 'object.json'), JSON.stringify({ reportFile: 'x' }))
    await expect(read('object.json')).rejects.toThrow(/compare-report is not a JSON array/)
  })
})
