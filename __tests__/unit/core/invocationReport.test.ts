import { describe, expect, it } from '@jest/globals'
import { figuresFromRecord, findInvocationReport } from '../../../src/core/invocationReport.js'

// Real lines from AWS's documentation, each with the page it is on.
/** https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html: a cold start, with the X-Ray fields. */
const COLD_ID = 'c793869b-ee49-115b-a5b6-4fd21e8dedac'
const COLD_TAIL = [
  `START RequestId: ${COLD_ID} Version: $LATEST`,
  `2019-06-07T19:11:20.564Z\t${COLD_ID}\tWARN\tEvent not processed.`,
  `END RequestId: ${COLD_ID}`,
  `REPORT RequestId: ${COLD_ID}\tDuration: 128.83 ms\tBilled Duration: 200 ms\tMemory Size: 128 MB\tMax Memory Used: 74 MB\tInit Duration: 166.62 ms\tXRAY TraceId: 1-5d9d007f-0a8c7fd02xmpl480aed55ef0\tSegmentId: 3d752xmpl1bbe37e\tSampled: true`,
  ''
].join('\n')
/** The same page, the decoded LogResult of `aws lambda invoke --log-type Tail`: warm, separated by spaces. */
const WARM_ID = '57f231fb-1730-4395-85cb-4f71bd2b87b8'
const WARM_TAIL = [
  `START RequestId: ${WARM_ID} Version: $LATEST`,
  `END RequestId: ${WARM_ID}`,
  `REPORT RequestId: ${WARM_ID}  Duration: 79.67 ms      Billed Duration: 80 ms         Memory Size: 128 MB     Max Memory Used: 73 MB`,
  ''
].join('\n')
/**
 * A SnapStart restore: its fields as https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html
 * describes them (no Init Duration; Restore Duration, Billed Restore Duration); the line as Lambda printed it
 * in a public SAM CLI log, the page showing none.
 */
const SNAP_ID = 'b771fecc-1b53-4faf-922d-1d74357b1676'
const SNAP_TAIL = `END RequestId: ${SNAP_ID}\nREPORT RequestId: ${SNAP_ID}\tDuration: 306.34 ms\tBilled Duration: 610 ms\tMemory Size: 3009 MB\tMax Memory Used: 155 MB\tRestore Duration: 511.25 ms\tBilled Restore Duration: 303 ms\t\n`
/** https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html: platform.report, as JSON logs carry it. */
const JSON_ID = '6d68ca91-49c9-448d-89b8-7ca3e6dc66aa'
const jsonReport = (requestId: string, metrics: Record<string, unknown>): string =>
  JSON.stringify({ time: '2022-10-12T00:01:15.000Z', type: 'platform.report', record: { requestId, metrics } })
const JSON_METRICS = {
  billedDurationMs: 694,
  durationMs: 693.92,
  initDurationMs: 397.68,
  maxMemoryUsedMB: 84,
  memorySizeMB: 128
}

describe('findInvocationReport: the formats Lambda writes', () => {
  it('reads a cold start: Init Duration, and the X-Ray fields after it ignored', () => {
    expect(findInvocationReport(COLD_TAIL, COLD_ID)).toEqual({
      durationMs: 128.83,
      billedDurationMs: 200,
      memorySizeMb: 128,
      maxMemoryUsedMb: 74,
      initDurationMs: 166.62,
      restoreDurationMs: null,
      billedRestoreDurationMs: null
    })
  })

  it('reads a warm invocation without Init Duration, fields separated by spaces', () => {
    expect(findInvocationReport(WARM_TAIL, WARM_ID)).toEqual({
      durationMs: 79.67,
      billedDurationMs: 80,
      memorySizeMb: 128,
      maxMemoryUsedMb: 73,
      initDurationMs: null,
      restoreDurationMs: null,
      billedRestoreDurationMs: null
    })
  })

  it('reads a SnapStart restore: Restore Duration and Billed Restore Duration apart', () => {
    expect(findInvocationReport(SNAP_TAIL, SNAP_ID)).toEqual({
      durationMs: 306.34,
      billedDurationMs: 610,
      memorySizeMb: 3009,
      maxMemoryUsedMb: 155,
      initDurationMs: null,
      restoreDurationMs: 511.25,
      billedRestoreDurationMs: 303
    })
  })

  it('reads the platform.report record of the JSON log format', () => {
    const tail = [
      JSON.stringify({ time: '2022-10-12T00:01:14.000Z', type: 'platform.start', record: { requestId: JSON_ID } }),
      JSON.stringify({ timestamp: '2022-10-12T00:01:15.000Z', level: 'INFO', requestId: JSON_ID, message: 'hi' }),
      jsonReport(JSON_ID, JSON_METRICS)
    ].join('\n')
    expect(findInvocationReport(tail, JSON_ID)).toEqual({
      durationMs: 693.92,
      billedDurationMs: 694,
      memorySizeMb: 128,
      maxMemoryUsedMb: 84,
      initDurationMs: 397.68,
      restoreDurationMs: null,
      billedRestoreDurationMs: null
    })
  })

  it('reads a tail with CRLF line ends', () => {
    expect(findInvocationReport(WARM_TAIL.replaceAll('\n', '\r\n'), WARM_ID)?.maxMemoryUsedMb).toBe(73)
  })
})

describe('findInvocationReport: the tail is the function’s own output', () => {
  it('takes nothing without the request id: a forged line could not be told from Lambda’s', () => {
    expect(findInvocationReport(COLD_TAIL, undefined)).toBeNull()
    expect(findInvocationReport(COLD_TAIL, '')).toBeNull()
  })

  it('ignores a REPORT line the function printed with another request id', () => {
    const forged = `REPORT RequestId: 11111111-2222-3333-4444-555555555555\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 10240 MB\tMax Memory Used: 1 MB`
    const tail = WARM_TAIL.replace('END RequestId', `${forged}\nEND RequestId`) + `${forged}\n`
    expect(findInvocationReport(tail, WARM_ID)?.maxMemoryUsedMb).toBe(73)
    expect(findInvocationReport(forged, WARM_ID)).toBeNull()
  })

  it('takes the last REPORT line of the request id: Lambda writes its own after the function’s output', () => {
    const forged = `REPORT RequestId: ${WARM_ID}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 2 MB`
    expect(findInvocationReport(`${forged}\n${WARM_TAIL}`, WARM_ID)?.maxMemoryUsedMb).toBe(73)
  })

  it('ignores a forged platform.report with another request id, and JSON that is not one', () => {
    const tail = [
      jsonReport(JSON_ID, JSON_METRICS),
      jsonReport('00000000-0000-0000-0000-000000000000', { ...JSON_METRICS, maxMemoryUsedMB: 1 }),
      '{"type":"platform.report","record":',
      JSON.stringify({ type: 'function', record: { requestId: JSON_ID, metrics: { maxMemoryUsedMB: 2 } } }),
      'null'
    ].join('\n')
    expect(findInvocationReport(tail, JSON_ID)?.maxMemoryUsedMb).toBe(84)
  })

  it('does not read a REPORT line in the middle of a line', () => {
    const tail = `2019-06-07T19:11:20.564Z\t${WARM_ID}\tINFO\tREPORT RequestId: ${WARM_ID}\tMax Memory Used: 5 MB`
    expect(findInvocationReport(tail, WARM_ID)).toBeNull()
  })

  it('leaves out a figure cut at the end of a tail cut mid-line, and keeps the rest', () => {
    const cut = `REPORT RequestId: ${COLD_ID}\tDuration: 128.83 ms\tBilled Duration: 200 ms\tMemory Size: 128 MB\tMax Memory Used: 7`
    expect(findInvocationReport(`END RequestId: ${COLD_ID}\n${cut}`, COLD_ID)).toEqual({
      durationMs: 128.83,
      billedDurationMs: 200,
      memorySizeMb: 128,
      maxMemoryUsedMb: null,
      initDurationMs: null,
      restoreDurationMs: null,
      billedRestoreDurationMs: null
    })
  })

  it('reads the report at the end of a 4 KB tail whose first line was cut', () => {
    const output = Array.from({ length: 80 }, (_, n) => `2019-06-07T19:11:20.564Z\t${WARM_ID}\tINFO\tline ${n}`).join(
      '\n'
    )
    const tail = `${output}\n${WARM_TAIL}`.slice(-4096)
    expect(tail.length).toBe(4096)
    expect(findInvocationReport(tail, WARM_ID)?.maxMemoryUsedMb).toBe(73)
  })

  it.each([
    ['a memory size above 10,240 MB', 'Memory Size: 20480 MB', 'memorySizeMb'],
    ['a memory size below 128 MB', 'Memory Size: 64 MB', 'memorySizeMb'],
    ['max memory above 10,240 MB', 'Max Memory Used: 99999 MB', 'maxMemoryUsedMb'],
    ['a duration longer than 15 minutes', 'Duration: 900001 ms', 'durationMs'],
    ['a figure of 8 digits', 'Max Memory Used: 12345678 MB', 'maxMemoryUsedMb'],
    ['a negative figure', 'Max Memory Used: -5 MB', 'maxMemoryUsedMb'],
    ['the wrong unit', 'Max Memory Used: 5 GB', 'maxMemoryUsedMb'],
    ['a figure given twice', 'Max Memory Used: 5 MB\tMax Memory Used: 6 MB', 'maxMemoryUsedMb']
  ])('does not trust %s', (_what, field, name) => {
    const line = `REPORT RequestId: ${WARM_ID}\tBilled Duration: 80 ms\t${field}`
    const figures = findInvocationReport(line, WARM_ID)
    expect(figures?.billedDurationMs).toBe(80)
    expect(figures?.[name as keyof typeof figures]).toBeNull()
  })

  it.each([
    ['a string', '84'],
    ['NaN as text', 'NaN'],
    ['a huge number', 1e308],
    ['a negative number', -1],
    ['an object', { value: 84 }]
  ])('does not trust a JSON maxMemoryUsedMB that is %s', (_what, value) => {
    const figures = findInvocationReport(jsonReport(JSON_ID, { ...JSON_METRICS, maxMemoryUsedMB: value }), JSON_ID)
    expect(figures?.maxMemoryUsedMb).toBeNull()
    expect(figures?.memorySizeMb).toBe(128)
  })

  it('does not read a REPORT line longer than Lambda writes', () => {
    const long = `REPORT RequestId: ${WARM_ID}\tMax Memory Used: 73 MB\t${'x'.repeat(2000)}`
    expect(findInvocationReport(long, WARM_ID)).toBeNull()
  })

  it('looks only at the end of a tail far longer than Lambda sends, in bounded time', () => {
    const huge = `${'REPORT RequestId: '.repeat(200_000)}\n${WARM_TAIL}`
    const started = Date.now()
    expect(findInvocationReport(huge, WARM_ID)?.maxMemoryUsedMb).toBe(73)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('refuses a request id that is not one', () => {
    expect(findInvocationReport(`REPORT RequestId: a b\tMax Memory Used: 5 MB`, 'a b')).toBeNull()
  })
})

describe('figuresFromRecord', () => {
  it('keeps bounded numbers of the fields it knows, and nothing else', () => {
    expect(
      figuresFromRecord({ maxMemoryUsedMb: 84, memorySizeMb: 99999, initDurationMs: '250', extra: 5, durationMs: 3 })
    ).toEqual({
      durationMs: 3,
      billedDurationMs: null,
      memorySizeMb: null,
      maxMemoryUsedMb: 84,
      initDurationMs: null,
      restoreDurationMs: null,
      billedRestoreDurationMs: null
    })
  })

  it.each([[null], [[1, 2]], ['text'], [{}], [{ maxMemoryUsedMb: -1 }]])('gives null for %p', (record) => {
    expect(figuresFromRecord(record)).toBeNull()
  })
})
