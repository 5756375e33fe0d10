import { describe, expect, it } from '@jest/globals'
import type { ActionConfig } from '../../../src/core/config.js'
import {
  emptyReport,
  type FunctionOutcome,
  type FunctionReport,
  type FunctionStatus,
  type Mode
} from '../../../src/core/model.js'
import { verdictOf } from '../../../src/github/report.js'
import { createRedactor } from '../../../src/core/redact.js'
import { diffLists, renderOutputs, renderSummary } from '../../../src/core/summary.js'

const row = (name: string, status: FunctionStatus, extra: Partial<FunctionReport> = {}): FunctionOutcome => ({
  report: {
    ...emptyReport({ given: name, name, region: 'us-east-1', account: undefined, partition: 'aws' }),
    arn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    architecture: 'x86_64',
    status,
    error: status === 'failed' ? 'it broke' : null,
    ...extra
  },
  layer: undefined,
  log: [],
  warnings: []
})

const config = (mode: Mode, failOnDrift = true): ActionConfig => ({ mode, failOnDrift }) as ActionConfig

describe('verdictOf', () => {
  it.each<[Mode, FunctionStatus[], boolean, RegExp]>([
    ['apply', ['updated', 'unchanged'], false, /Every function has the Rotel extension/],
    ['apply', ['unchanged'], false, /Nothing changed/],
    ['apply', ['updated', 'rolled-back'], true, /1 of 2 functions could not be instrumented \(f1\)/],
    ['plan', ['planned', 'in-sync'], false, /Apply would change 1 of 2 functions; nothing was written/],
    ['plan', ['failed'], true, /could not be planned/],
    ['check', ['drifted', 'in-sync'], true, /1 of 2 functions drifted from the target \(f0\).*fail-on-drift: false/],
    ['check', ['in-sync'], false, /All 1 functions are in sync/],
    ['remove', ['removed', 'unchanged'], false, /Removed the Rotel extension from 1 of 2 functions/],
    ['remove', ['failed'], true, /could not have the extension removed/]
  ])('%s with %j → fails: %s', (mode, statuses, fails, message) => {
    const verdict = verdictOf(
      config(mode),
      statuses.map((status, i) => row(`f${i}`, status))
    )
    expect(verdict.failure !== undefined).toBe(fails)
    expect(verdict.failure ?? verdict.message).toMatch(message)
  })

  it('a stopped rollout fails the step with the one sentence of what stopped it, before the failures', () => {
    const outcomes = [row('f0', 'rolled-back'), row('f1', 'skipped'), row('f2', 'skipped'), row('f3', 'unchanged')]
    expect(verdictOf(config('apply'), outcomes, 'the canary function f0 failed')).toEqual({
      failure:
        'The rollout stopped after the canary function f0 failed: 2 of 4 functions were not started; see the job summary.',
      message: ''
    })
    // A stop that left nothing unstarted: the failures are the verdict.
    expect(verdictOf(config('apply'), [row('f0', 'failed')], '1 failure (failure-tolerance 0)').failure).toMatch(
      /^1 of 1 function could not be instrumented \(f0\)/
    )
  })

  it('check with fail-on-drift false reports drift and succeeds', () => {
    const verdict = verdictOf(config('check', false), [row('f0', 'drifted')])
    expect(verdict.failure).toBeUndefined()
    expect(verdict.message).toMatch(/fail-on-drift is false/)
  })
})

describe('outputs per mode', () => {
  const outputs = (mode: Mode, statuses: FunctionStatus[]) =>
    renderOutputs(
      { mode, outcomes: statuses.map((status, i) => row(`f${i}`, status)), layers: new Map(), testInvoke: true },
      createRedactor([])
    )
  it('says changed when the mode changes or would change something, and drift only for drifted rows', () => {
    expect(outputs('plan', ['planned', 'in-sync']).changed).toBe('true')
    expect(outputs('plan', ['in-sync']).changed).toBe('false')
    expect(outputs('check', ['drifted'])).toMatchObject({ changed: 'true', drift: 'true' })
    expect(outputs('check', ['in-sync'])).toMatchObject({ changed: 'false', drift: 'false' })
    expect(outputs('remove', ['removed']).changed).toBe('true')
    expect(outputs('apply', ['planned']).changed).toBe('false')
  })
})

describe('plan summary', () => {
  it('shows each changed function as a diff, values only where shown, and says nothing was written', () => {
    const planned = row('orders-api', 'planned', {
      diff: {
        layers: { before: ['L1', 'R40', 'L2'], after: ['L1', 'R42', 'L2'] },
        variables: [
          {
            name: 'ROTEL_OTLP_EXPORTER_ENDPOINT',
            change: 'changed',
            before: null,
            after: 'https://new:4317',
            shown: true
          },
          { name: 'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS', change: 'added', before: null, after: null, shown: false },
          { name: 'LOG_LEVEL', change: 'changed', before: null, after: null, shown: false },
          { name: 'OLD_FLAG', change: 'removed', before: null, after: null, shown: false }
        ]
      }
    })
    const summary = renderSummary(
      { mode: 'plan', outcomes: [planned, row('billing', 'in-sync')], layers: new Map(), testInvoke: true },
      createRedactor([])
    )
    expect(summary).toContain('This is a plan: nothing was written.')
    expect(summary).toContain('2 functions: 1 will change, 1 in sync.')
    expect(summary).toContain(
      [
        '```diff',
        '# layers, in order',
        '  L1',
        '- R40',
        '+ R42',
        '  L2',
        '# variables',
        '- ROTEL_OTLP_EXPORTER_ENDPOINT (current value not shown)',
        '+ ROTEL_OTLP_EXPORTER_ENDPOINT=https://new:4317',
        '+ ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS (value not shown)',
        '- LOG_LEVEL (current value not shown)',
        '+ LOG_LEVEL (value not shown)',
        '- OLD_FLAG (current value not shown)',
        '```'
      ].join('\n')
    )
    expect(summary).not.toMatch(/\| billing .*\n[\s\S]*\*\*billing\*\*/)
  })
})

describe('diffLists', () => {
  it('keeps unmoved items unchanged and marks a removed middle item only', () => {
    expect(diffLists(['a', 'r', 'b'], ['a', 'b'])).toEqual([
      [' ', 'a'],
      ['-', 'r'],
      [' ', 'b']
    ])
    expect(diffLists([], ['x'])).toEqual([['+', 'x']])
    expect(diffLists(['a', 'b'], ['a', 'b'])).toEqual([
      [' ', 'a'],
      [' ', 'b']
    ])
  })
})
