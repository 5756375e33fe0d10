/** capAnnotations: every caller of the run's reporter gets GitHub's cap of 10 annotations a kind. */
import { describe, expect, it } from '@jest/globals'
import { MemoryReporter } from '../../../src/github/memoryReporter.js'
import { capAnnotations } from '../../../src/github/reporter.js'

describe('capAnnotations', () => {
  it('makes the first 9 warnings, prints the rest to the log whole, and gathers them into the 10th', () => {
    const memory = new MemoryReporter()
    const reporter = capAnnotations(memory)
    for (let i = 0; i < 12; i++) reporter.warning(`warning ${i}`, { title: `fn-${i}: drifted` })
    expect(memory.annotations('warning')).toHaveLength(9)
    expect(memory.lines).toEqual([
      'warning (not an annotation: GitHub shows 10 of a step): fn-9: drifted: warning 9',
      'warning (not an annotation: GitHub shows 10 of a step): fn-10: drifted: warning 10',
      'warning (not an annotation: GitHub shows 10 of a step): fn-11: drifted: warning 11'
    ])
    reporter.endAnnotations()
    const warnings = memory.annotations('warning')
    expect(warnings).toHaveLength(10)
    expect(warnings[9]?.properties).toEqual({ title: '3 more warnings' })
    expect(warnings[9]?.text).toContain('fn-9: drifted, fn-10: drifted, fn-11: drifted')
  })

  it("gathers the errors before the step's failure, which is always made", () => {
    const memory = new MemoryReporter()
    const reporter = capAnnotations(memory)
    for (let i = 0; i < 30; i++) reporter.error(`error ${i}`, { title: `fn-${i}: failed` })
    reporter.setFailed('30 of 30 functions could not be instrumented')
    const kinds = memory.reported.flatMap((entry) =>
      entry.kind === 'error' || entry.kind === 'failed' ? [entry.kind] : []
    )
    expect(kinds).toEqual([...new Array<string>(9).fill('error'), 'failed'])
    expect(memory.annotations('error')[8]?.properties?.title).toBe('22 more errors')
    expect(memory.failures).toEqual(['30 of 30 functions could not be instrumented'])
  })

  it('passes a few annotations and everything else through unchanged', () => {
    const memory = new MemoryReporter({ mode: 'plan' })
    const reporter = capAnnotations(memory)
    reporter.notice('n', { title: 't' })
    reporter.error('e')
    reporter.setOutput('changed', 'true')
    reporter.endAnnotations()
    expect(reporter.getInput('mode')).toBe('plan')
    expect(memory.reported).toEqual([
      { kind: 'notice', text: 'n', properties: { title: 't' } },
      { kind: 'error', text: 'e', properties: undefined },
      { kind: 'output', name: 'changed', value: 'true' }
    ])
  })
})
