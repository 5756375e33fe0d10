import { describe, expect, it } from '@jest/globals'
import { parseEarlierReport, withEarlierFigures } from '../../../src/core/earlierReport.js'
import { emptyReport, type FunctionOutcome } from '../../../src/core/model.js'

const figures = { durationMs: 10, billedDurationMs: 11, memorySizeMb: 128, maxMemoryUsedMb: 84, initDurationMs: 180 }
const earlierRow = (name: string, region: string, report: unknown = figures): unknown => ({
  function: name,
  region,
  status: 'updated',
  invocation: { status: 'ok', statusCode: 200, functionError: null, report }
})
const parsed = (value: unknown) => {
  const result = parseEarlierReport(typeof value === 'string' ? value : JSON.stringify(value))
  if ('problem' in result) throw new Error(result.problem)
  return result.figures
}
const outcome = (name: string, region = 'us-east-1'): FunctionOutcome => ({
  report: emptyReport({ given: name, name, region, account: undefined, partition: 'aws' }),
  layer: undefined,
  log: [],
  warnings: []
})

describe('parseEarlierReport', () => {
  it('keeps each function’s figures by region and name', () => {
    const earlier = parsed([
      earlierRow('orders', 'us-east-1'),
      earlierRow('orders', 'eu-west-1', { maxMemoryUsedMb: 90 })
    ])
    expect(earlier.get('us-east-1/orders')).toEqual({
      ...figures,
      restoreDurationMs: null,
      billedRestoreDurationMs: null
    })
    expect(earlier.get('eu-west-1/orders')?.maxMemoryUsedMb).toBe(90)
  })

  it('passes over rows of the wrong shape and figures out of bounds', () => {
    const earlier = parsed([
      null,
      'orders',
      { function: 42, region: 'us-east-1', invocation: { report: figures } },
      { function: 'no-region', invocation: { report: figures } },
      { function: 'bad/name', region: 'us-east-1', invocation: { report: figures } },
      { function: 'no-invocation', region: 'us-east-1' },
      earlierRow('strings', 'us-east-1', { maxMemoryUsedMb: '84', memorySizeMb: '128' }),
      earlierRow('huge', 'us-east-1', { maxMemoryUsedMb: 1e9, memorySizeMb: 128 }),
      earlierRow('good', 'us-east-1')
    ])
    expect([...earlier.keys()]).toEqual(['us-east-1/huge', 'us-east-1/good'])
    expect(earlier.get('us-east-1/huge')?.maxMemoryUsedMb).toBeNull()
  })

  it('takes the first row of a function given twice', () => {
    const earlier = parsed([earlierRow('a', 'us-east-1'), earlierRow('a', 'us-east-1', { maxMemoryUsedMb: 1 })])
    expect(earlier.get('us-east-1/a')?.maxMemoryUsedMb).toBe(84)
  })

  it.each([
    ['not JSON', '{"function":', /compare-report is not JSON/],
    [
      'the small report output object',
      JSON.stringify({ reportFile: '/tmp/r.json', functions: 3 }),
      /not a JSON array.*report-file/
    ],
    ['a number', '5', /not a JSON array/]
  ])('refuses %s, naming compare-report and the fix', (_what, text, message) => {
    const result = parseEarlierReport(text)
    expect('problem' in result && result.problem).toMatch(message)
  })
})

describe('withEarlierFigures', () => {
  it('puts the earlier figures of the same function and region in its row, and only there', () => {
    const earlier = parsed([earlierRow('a', 'us-east-1')])
    const [same, otherRegion, otherName] = withEarlierFigures(
      [outcome('a'), outcome('a', 'eu-west-1'), outcome('b')],
      earlier
    )
    expect(same?.report.invocation.before?.maxMemoryUsedMb).toBe(84)
    expect(otherRegion?.report.invocation.before).toBeNull()
    expect(otherName?.report.invocation.before).toBeNull()
  })
})
