import { describe, expect, it } from '@jest/globals'
import { emptyReport, type FunctionReport, type FunctionStatus, type Mode, MODES } from '../../../src/core/model.js'
import { MODE_POLICY, policyOf, writesFunctions } from '../../../src/core/modes.js'
import { createRedactor } from '../../../src/core/redact.js'
import { renderOutputs, renderSummary, type RunResult } from '../../../src/core/summary.js'

const row = (name: string, status: FunctionStatus): FunctionReport => ({
  ...emptyReport({ given: name, name, region: 'us-east-1', account: undefined, partition: 'aws' }),
  status
})
const result = (mode: Mode, statuses: readonly FunctionStatus[]): RunResult => ({
  mode,
  outcomes: statuses.map((status, i) => ({ report: row(`f${i}`, status), layer: undefined, log: [], warnings: [] })),
  layers: new Map(),
  testInvoke: true
})
const redact = createRedactor()
const input = (rows: FunctionReport[], failOnDrift = true, cloudwatchLogs: 'keep' | 'off' = 'keep') => ({
  rows,
  of: `of ${rows.length} functions`,
  names: (list: FunctionReport[]) => list.map((r) => r.function).join(', '),
  failOnDrift,
  cloudwatchLogs
})
/** Updated and test-invoked, but the CloudWatch check could not tell. */
const unverified = (name: string): FunctionReport => ({
  ...row(name, 'updated'),
  invocation: { status: 'ok', statusCode: 200, functionError: null },
  cloudwatch: 'unknown',
  cloudwatchDetail: `could not read log group /aws/lambda/${name}: AccessDeniedException: denied`
})

describe('the mode table', () => {
  it('has one entry for each mode, and no other', () => {
    expect(Object.keys(MODE_POLICY).sort()).toEqual([...MODES].sort())
    for (const mode of MODES) expect(policyOf(mode)).toBe(MODE_POLICY[mode])
  })

  it('says what each mode writes, reads and verifies as the action has always done', () => {
    const shape = Object.fromEntries(
      MODES.map((mode) => {
        const p = MODE_POLICY[mode]
        return [
          mode,
          [
            p.readsLayer,
            p.writes,
            p.roles,
            p.secretAccess,
            p.verifiesTelemetry,
            p.reports.changeStatus,
            p.reports.judgement
          ]
        ]
      })
    )
    expect(shape).toEqual({
      apply: [true, 'extension', 'switch-off', 'check-or-grant', true, 'updated', undefined],
      plan: [true, 'nothing', 'preview', 'preview-grant', false, 'planned', 'planned'],
      check: [true, 'nothing', 'check', 'none', false, 'drifted', 'drifted'],
      remove: [false, 'removal', 'restore', 'none', false, 'removed', undefined]
    })
    expect(MODES.filter(writesFunctions)).toEqual(['apply', 'remove'])
  })

  it('only the modes that write say so after a write, and only those that judge have a judgement', () => {
    for (const mode of MODES) {
      const { reports } = MODE_POLICY[mode]
      expect(reports.written === undefined).toBe(!writesFunctions(mode))
      expect(reports.judgement === undefined).toBe(writesFunctions(mode))
      // The judgement of a mode that writes nothing is the status it counts as a change.
      if (reports.judgement) expect(reports.judgement).toBe(reports.changeStatus)
    }
  })
})

describe.each(MODES)('the %s entry drives', (mode) => {
  const { reports, verdict } = MODE_POLICY[mode]

  it('the summary: its title, its quiet line, and whether it says nothing was written', () => {
    const summary = renderSummary(result(mode, ['unchanged']), redact)
    expect(summary.split('\n')[0]).toBe(`## ${reports.title}`)
    expect(summary).toContain(reports.quiet)
    for (const other of MODES.filter((m) => MODE_POLICY[m].reports.nothingWritten !== reports.nothingWritten)) {
      const line = MODE_POLICY[other].reports.nothingWritten
      if (line) expect(summary).not.toContain(line)
    }
    if (reports.nothingWritten) expect(summary).toContain(reports.nothingWritten)
  })

  it('the summary table: a test invocation column for modes that write, CloudWatch Logs for one that verifies', () => {
    const summary = renderSummary(result(mode, [reports.changeStatus]), redact)
    expect(summary.includes('| test invocation |')).toBe(writesFunctions(mode))
    expect(summary.includes('| CloudWatch Logs |')).toBe(MODE_POLICY[mode].verifiesTelemetry)
  })

  it('the changed output: its change status counts, the other modes’ do not', () => {
    expect(renderOutputs(result(mode, [reports.changeStatus]), redact).changed).toBe('true')
    for (const other of MODES.filter((m) => MODE_POLICY[m].reports.changeStatus !== reports.changeStatus))
      expect(renderOutputs(result(mode, [MODE_POLICY[other].reports.changeStatus]), redact).changed).toBe(
        // A drifted row is a change only to check; an updated or removed one only to its own mode.
        'false'
      )
  })

  it('the roles heading of the summary', () => {
    const r = { ...row('f0', 'unchanged'), executionRole: { role: 'exec', changes: ['x'] } }
    const summary = renderSummary(
      { ...result(mode, []), outcomes: [{ report: r, layer: undefined, log: [], warnings: [] }] },
      redact
    )
    expect(summary).toContain(`### Execution roles: ${reports.rolesHeading}`)
  })

  it('the verdict: only check with fail-on-drift fails on drift', () => {
    const drifted = [row('a', 'drifted')]
    expect(verdict(input(drifted, true)).failure !== undefined).toBe(mode === 'check')
    expect(verdict(input(drifted, false)).failure).toBeUndefined()
  })

  it('the verdict: only apply fails on a CloudWatch check that could not tell, and only with cloudwatch-logs off', () => {
    const rows = [unverified('a'), unverified('b'), { ...row('c', 'updated'), cloudwatch: 'off' as const }]
    const off = verdict(input(rows, true, 'off'))
    expect(off.failure !== undefined).toBe(mode === 'apply')
    if (mode === 'apply')
      expect(off.failure).toBe(
        '2 of 3 functions could not be verified to have CloudWatch Logs off (a, b); a: could not read log group /aws/lambda/a: AccessDeniedException: denied. The change was kept, not rolled back: the extension is on, only the proof that the logs no longer reach CloudWatch is missing.'
      )
    expect(verdict(input(rows, true, 'keep')).failure).toBeUndefined()
    // A function whose check did not run (test-invoke: false, or nothing to change) is no unknown verdict.
    expect(verdict(input([{ ...row('d', 'updated'), cloudwatch: 'unknown' }], true, 'off')).failure).toBeUndefined()
  })

  it('the role failure message, which names the function and keeps the problem', () => {
    const message = reports.roleFailure('orders-api', 'IAM said no.')
    expect(message.startsWith(`orders-api ${reports.notChanged} `)).toBe(true)
    expect(message.endsWith('IAM said no.')).toBe(true)
  })
})
