import { describe, expect, it } from '@jest/globals'
import type { InvocationFigures } from '../../../src/core/invocationReport.js'
import { costLine, figuresCell, figuresLine } from '../../../src/core/invocationFigures.js'
import { emptyReport, type FunctionOutcome, type FunctionReport } from '../../../src/core/model.js'
import { createRedactor } from '../../../src/core/redact.js'
import { renderOutputs, renderSummary } from '../../../src/core/summary.js'

const figures = (over: Partial<InvocationFigures> = {}): InvocationFigures => ({
  durationMs: 12.5,
  billedDurationMs: 13,
  memorySizeMb: 128,
  maxMemoryUsedMb: 112,
  initDurationMs: 250.4,
  restoreDurationMs: null,
  billedRestoreDurationMs: null,
  ...over
})

const row = (name: string, invocation: Partial<FunctionReport['invocation']>): FunctionReport => {
  const report = emptyReport({ given: name, name, region: 'us-east-1', account: undefined, partition: 'aws' })
  return {
    ...report,
    status: 'updated',
    architecture: 'x86_64',
    invocation: { ...report.invocation, status: 'ok', statusCode: 200, ...invocation }
  }
}

describe('figuresCell', () => {
  it('folds memory and init into a few words', () => {
    expect(figuresCell(row('a', { report: figures() }).invocation)).toBe('112/128 MB · init 250 ms')
  })

  it('shows the change from the earlier report', () => {
    const invocation = row('a', {
      report: figures(),
      before: figures({ maxMemoryUsedMb: 84, initDurationMs: 180 })
    }).invocation
    expect(figuresCell(invocation)).toBe('84 → 112/128 MB (+28) · init 180 → 250 ms')
    const less = row('a', { report: figures(), before: figures({ maxMemoryUsedMb: 120 }) }).invocation
    expect(figuresCell(less)).toMatch(/^120 → 112\/128 MB \(-8\)/)
  })

  it('marks low memory, shows a SnapStart restore, and says nothing without figures', () => {
    expect(figuresCell(row('a', { report: figures(), lowMemory: true }).invocation)).toBe(
      '112/128 MB · ⚠ low memory · init 250 ms'
    )
    expect(
      figuresCell(row('a', { report: figures({ initDurationMs: null, restoreDurationMs: 511.25 }) }).invocation)
    ).toBe('112/128 MB · restore 511 ms')
    expect(figuresCell(row('a', { report: null }).invocation)).toBe('')
    // A cold start before and a warm one now: no init to compare.
    expect(figuresCell(row('a', { report: figures({ initDurationMs: null }), before: figures() }).invocation)).toBe(
      '112 → 112/128 MB (0)'
    )
  })
})

describe('costLine', () => {
  it('names the most memory used and the largest increase', () => {
    const reports = [
      row('small', { report: figures({ maxMemoryUsedMb: 60 }), before: figures({ maxMemoryUsedMb: 20 }) }),
      row('big', {
        report: figures({ maxMemoryUsedMb: 900, memorySizeMb: 1024 }),
        before: figures({ maxMemoryUsedMb: 880 })
      }),
      row('none', { report: null })
    ]
    expect(costLine(reports, (name) => name)).toBe(
      '**Memory**: the most any test invocation used is 900 MB of 1024 (big); the largest change from the earlier report is +40 MB (small).'
    )
  })

  it('counts the functions within the headroom, and is absent without figures', () => {
    expect(costLine([row('a', { report: figures(), lowMemory: true })], (name) => name)).toMatch(
      /; 1 function within memory-headroom of the memory size\.$/
    )
    expect(costLine([row('a', { report: null })], (name) => name)).toBeUndefined()
  })
})

describe('figuresLine', () => {
  it('says every figure the report had, by Lambda’s names', () => {
    expect(
      figuresLine(figures({ initDurationMs: null, restoreDurationMs: 511.25, billedRestoreDurationMs: 303 }))
    ).toBe(
      'Duration 12.5 ms, Billed Duration 13 ms, Memory Size 128 MB, Max Memory Used 112 MB, Restore Duration 511.25 ms, Billed Restore Duration 303 ms'
    )
  })
})

describe('the summary and the report output', () => {
  const outcome = (report: FunctionReport): FunctionOutcome => ({ report, layer: undefined, log: [], warnings: [] })
  const result = {
    mode: 'apply' as const,
    outcomes: [
      outcome(row('orders-api', { report: figures(), before: figures({ maxMemoryUsedMb: 84, initDurationMs: 180 }) })),
      outcome(row('<b>evil</b>', { report: figures({ maxMemoryUsedMb: 127 }), lowMemory: true }))
    ],
    layers: new Map(),
    testInvoke: true
  }
  const redact = createRedactor()

  it('folds the figures into the test invocation cell and adds the cost line, names escaped', () => {
    const summary = renderSummary(result, redact)
    expect(summary).toContain('| ok (200) · 84 → 112/128 MB (+28) · init 180 → 250 ms |')
    expect(summary).toContain('| ok (200) · 127/128 MB · ⚠ low memory · init 250 ms |')
    expect(summary).toMatch(/\*\*Memory\*\*: the most any test invocation used is 127 MB of 128 \(.*evil.*\)/)
    expect(summary).not.toContain('<b>evil</b>')
    // The table keeps its columns: the figures add none.
    expect(summary).toContain('| function | result | change | test invocation | CloudWatch Logs |')
  })

  it('keeps the figures and the earlier ones in the report output', () => {
    const [first] = JSON.parse(renderOutputs(result, redact).report) as FunctionReport[]
    expect(first?.invocation).toEqual({
      status: 'ok',
      statusCode: 200,
      functionError: null,
      report: figures(),
      lowMemory: false,
      before: figures({ maxMemoryUsedMb: 84, initDurationMs: 180 })
    })
  })
})

describe('a fleet too large for the summary', () => {
  it('leaves the figures out at the last step, so that functions of the same outcome share a row again', () => {
    const outcomes = Array.from({ length: 300 }, (_, n) => ({
      report: row(`fn-${n}`, { report: figures({ maxMemoryUsedMb: 100 + n, memorySizeMb: 1024 }) }),
      layer: undefined,
      log: [],
      warnings: []
    }))
    const result = { mode: 'apply' as const, outcomes, layers: new Map(), testInvoke: true }
    const redact = createRedactor()
    const full = renderSummary(result, redact)
    expect(full).toContain('| ok (200) · 399/1024 MB · init 250 ms |')
    expect(Buffer.byteLength(full)).toBeGreaterThan(30_000)
    const room = {
      max: 20_000,
      measure: (text: string) => Buffer.byteLength(text),
      cap: 'a small cap',
      elsewhere: 'the report'
    }
    const counted = renderSummary(result, redact, room)
    expect(counted).toMatch(/memory and init figures are left out of the table/)
    expect(counted).not.toMatch(/\d+\/1024 MB/)
    expect(counted).toContain('| <details><summary>300 functions</summary>fn-0, fn-1,')
    // The cost line stays.
    expect(counted).toContain('**Memory**: the most any test invocation used is 399 MB of 1024 (fn-299)')
  })
})
