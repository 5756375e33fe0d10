/**
 * Delivery verification against a real ClickHouse engine (chdb) behind ClickHouse's HTTP interface:
 * the exporter's otel_logs/otel_traces tables, rows written as the exporter writes them, and the
 * official @clickhouse/client on the other side. Clocks are virtual: no test waits for a backoff.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createDeliveryChecker,
  type DeliveryChecker,
  type DeliveryCheckerOptions,
  displayUrl,
  JSON_LOG_FORMAT_HINT
} from '../../../src/clickstack/deliveryCheck.js'
import { hyperdxSearchUrl } from '../../../src/clickstack/hyperdxLink.js'
import { ClickHouseTestServer, type LogRow, type SpanRow, type TableName } from '../../support/clickhouseServer.js'
import { hyperdxSeedDdl } from '../../support/hyperdxSeedDdl.js'

const PASSWORD = 'Reader-Pa55word!'
const WRONG_PASSWORD = 'Not-The-Pa55word?'

const server = new ClickHouseTestServer({
  users: {
    reader: { password: PASSWORD },
    profile_readonly_1: { password: PASSWORD, readonly: 1 },
    profile_readonly_2: { password: PASSWORD, readonly: 2 }
  }
})
let url = ''
const checkers: DeliveryChecker[] = []

function checker(overrides: Partial<DeliveryCheckerOptions> = {}): DeliveryChecker {
  const made = createDeliveryChecker({ url, username: 'reader', password: PASSWORD, ...overrides })
  checkers.push(made)
  return made
}

/** A virtual clock: `sleep` moves it on and may run a hook after a given number of waits. */
function clock(startMs: number, onSleep?: (count: number) => Promise<void> | void) {
  let current = startMs
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => current,
    sleep: async (ms: number) => {
      sleeps.push(ms)
      current += ms
      await onSleep?.(sleeps.length)
    }
  }
}

/** The resource attributes the Rotel extension sets on a function's telemetry. */
function resourceOf(fn: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'service.name': fn,
    'faas.name': fn,
    'faas.version': '$LATEST',
    'faas.invoked_region': 'us-east-1',
    'faas.invoked_provider': 'aws',
    ...extra
  }
}

/** A function log line as the extension sends it: JSON logging adds faas.invocation_id. */
function logOf(fn: string, at: Date, requestId?: string, extra: Partial<LogRow> = {}): LogRow {
  return {
    timestamp: at,
    body: `handled ${fn}`,
    resourceAttributes: resourceOf(fn),
    logAttributes: { type: 'function', ...(requestId ? { 'faas.invocation_id': requestId } : {}) },
    ...extra
  }
}

/** A Text-format line as Lambda's Node.js runtime prints console.info: `<time>\t<requestId>\tINFO\t<message>`. */
const nodeLine = (at: Date, requestId: string, message: string): string =>
  `${at.toISOString()}\t${requestId}\tINFO\t${message}`

/** A Text-format line as Lambda's Python runtime prints logging.info: `[INFO]\t<time>\t<requestId>\t<message>`. */
const pythonLine = (at: Date, requestId: string, message: string): string =>
  `[INFO]\t${at.toISOString()}\t${requestId}\t${message}`

let sequence = 0
/** A fresh function name, request id and invocation time per test: the tables are shared. */
function invocation() {
  sequence++
  const since = new Date(Date.now() - 60_000 + sequence * 100)
  return {
    fn: `orders-api-${sequence}`,
    requestId: `8f5c7a3e-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    since,
    after: (ms: number) => new Date(since.getTime() + ms)
  }
}

/** The tables of ClickStack's own seed (HyperDX's), beside the collector exporter's in `default`. */
const HYPERDX_DATABASE = 'hyperdx_seed'

beforeAll(async () => {
  url = await server.start()
  await server.exec(`CREATE DATABASE IF NOT EXISTS ${HYPERDX_DATABASE}`)
  for (const statement of hyperdxSeedDdl(HYPERDX_DATABASE)) await server.exec(statement)
  process.stdout.write(`chdb ClickHouse test server ready in ${server.startupMs} ms\n`)
}, 60000)

afterAll(async () => {
  await Promise.all(checkers.map((made) => made.close()))
  await server.stop()
})

describe('waitForDelivery', () => {
  it('reports records that are already there: counts, invocation id, latency of the first poll', async () => {
    const { fn, requestId, since, after } = invocation()
    await server.insertLogs([
      logOf(fn, after(300), requestId),
      logOf(fn, after(400), requestId),
      logOf(fn, after(500), requestId)
    ])
    await server.insertSpans([
      { timestamp: after(250), resourceAttributes: resourceOf(fn), spanAttributes: { 'faas.invocation_id': requestId } }
    ])
    const time = clock(since.getTime() + 1200)
    const result = await checker().waitForDelivery({ functionName: fn, requestId, since, timeoutMs: 90000, ...time })
    expect(result).toEqual({
      delivered: true,
      logRecords: 3,
      spans: 1,
      firstArrivalMs: 1200,
      withInvocationId: true,
      unmatched: 0,
      polls: 1
    })
    expect(time.sleeps).toEqual([])
  })

  it('keeps polling with backoff until records arrive late (after the second poll)', async () => {
    const { fn, requestId, since, after } = invocation()
    const time = clock(since.getTime() + 1000, async (count) => {
      if (count === 2) await server.insertLogs([logOf(fn, after(2500), requestId)])
    })
    const result = await checker().waitForDelivery({ functionName: fn, requestId, since, timeoutMs: 90000, ...time })
    expect(result.delivered).toBe(true)
    expect(result.polls).toBe(3)
    expect(time.sleeps).toEqual([1000, 2000])
    expect(result.firstArrivalMs).toBe(1000 + 1000 + 2000)
    expect(result.logRecords).toBe(1)
  })

  it('gives up at the timeout with a bounded number of polls when nothing arrives', async () => {
    const { fn, requestId, since } = invocation()
    const time = clock(since.getTime())
    const result = await checker().waitForDelivery({ functionName: fn, requestId, since, timeoutMs: 90000, ...time })
    expect(result).toEqual({
      delivered: false,
      logRecords: 0,
      spans: 0,
      firstArrivalMs: null,
      withInvocationId: false,
      unmatched: 0,
      polls: 15
    })
    // 1, 2, 4, then 8 s waits, the last one cut to the deadline: never past it.
    expect(time.sleeps).toEqual([1000, 2000, 4000, ...Array<number>(10).fill(8000), 3000])
    expect(time.sleeps.reduce((sum, ms) => sum + ms, 0)).toBe(90000)
  })

  it('counts Text-format lines that carry the request id, and recommends JSON logging', async () => {
    const { fn, requestId, since, after } = invocation()
    await server.insertLogs([
      logOf(fn, after(100), undefined, { body: nodeLine(after(100), requestId, 'one') }),
      logOf(fn, after(200), undefined, { body: nodeLine(after(200), requestId, 'two') })
    ])
    const result = await checker().waitForDelivery({
      functionName: fn,
      requestId,
      since,
      timeoutMs: 0,
      ...clock(since.getTime())
    })
    expect(result).toMatchObject({
      delivered: true,
      logRecords: 2,
      withInvocationId: false,
      hint: JSON_LOG_FORMAT_HINT
    })
    expect(result.hint).toMatch(/LogFormat = JSON/)
  })

  it('counts spans of the invocation alone as delivered', async () => {
    const { fn, requestId, since, after } = invocation()
    await server.insertSpans([
      { timestamp: after(10), resourceAttributes: resourceOf(fn), spanAttributes: { 'faas.invocation_id': requestId } },
      { timestamp: after(20), resourceAttributes: resourceOf(fn), spanAttributes: { 'faas.execution': requestId } }
    ])
    const result = await checker().waitForDelivery({
      functionName: fn,
      requestId,
      since,
      timeoutMs: 0,
      ...clock(since.getTime())
    })
    expect(result).toMatchObject({ delivered: true, logRecords: 0, spans: 2, withInvocationId: false })
    expect(result.hint).toBeUndefined()
  })

  it("does not count another function's records, older records, or another invocation's", async () => {
    const { fn, requestId, since, after } = invocation()
    const other = `${fn}-other`
    await server.insertLogs([
      logOf(other, after(100), requestId),
      logOf(fn, after(-10_000), requestId), // before the invocation, beyond the clock-skew allowance
      logOf(fn, after(100), 'another-invocation-id')
    ])
    await server.insertSpans([
      { timestamp: after(100), resourceAttributes: resourceOf(other) },
      {
        timestamp: after(100),
        resourceAttributes: resourceOf(fn),
        spanAttributes: { 'faas.invocation_id': 'another-invocation-id' }
      }
    ])
    const result = await checker().waitForDelivery({
      functionName: fn,
      requestId,
      since,
      timeoutMs: 0,
      ...clock(since.getTime())
    })
    expect(result).toMatchObject({ delivered: false, logRecords: 0, spans: 0, polls: 1 })
  })

  it('finds records by faas.name when service.name was set to something else', async () => {
    const { fn, requestId, since, after } = invocation()
    await server.insertLogs([
      { ...logOf(fn, after(100), requestId), resourceAttributes: resourceOf(fn, { 'service.name': 'orders' }) }
    ])
    const result = await checker().waitForDelivery({
      functionName: fn,
      requestId,
      since,
      timeoutMs: 0,
      ...clock(since.getTime())
    })
    expect(result).toMatchObject({ delivered: true, logRecords: 1, withInvocationId: true })
  })

  it('with no request id, counts any invocation of the function', async () => {
    const { fn, since, after } = invocation()
    await server.insertLogs([logOf(fn, after(100), 'some-invocation')])
    const result = await checker().waitForDelivery({ functionName: fn, since, timeoutMs: 0, ...clock(since.getTime()) })
    expect(result).toMatchObject({ delivered: true, logRecords: 1, withInvocationId: true })
  })

  it('serves many functions polling at once through one client', async () => {
    const made = checker()
    const runs = [invocation(), invocation(), invocation()]
    await server.insertLogs([logOf(runs[0]!.fn, runs[0]!.after(50), runs[0]!.requestId)])
    await server.insertSpans([
      {
        timestamp: runs[2]!.after(50),
        resourceAttributes: resourceOf(runs[2]!.fn),
        spanAttributes: { 'faas.invocation_id': runs[2]!.requestId }
      }
    ])
    const results = await Promise.all(
      runs.map((run) =>
        made.waitForDelivery({
          functionName: run.fn,
          requestId: run.requestId,
          since: run.since,
          timeoutMs: 3000,
          ...clock(run.since.getTime())
        })
      )
    )
    expect(results.map((result) => [result.delivered, result.logRecords, result.spans])).toEqual([
      [true, 1, 0],
      [false, 0, 0],
      [true, 0, 1]
    ])
  })

  it('keeps polling through a passing server error', async () => {
    const { fn, requestId, since, after } = invocation()
    await server.insertLogs([logOf(fn, after(100), requestId)])
    let failures = 0
    server.onQuery = (request) => {
      if (request.params.functionName === fn && failures < 2) {
        failures++
        throw new Error('Code: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED)')
      }
    }
    try {
      const time = clock(since.getTime())
      const result = await checker().waitForDelivery({ functionName: fn, requestId, since, timeoutMs: 90000, ...time })
      expect(result).toMatchObject({ delivered: true, logRecords: 1 })
      // The two failures may fall in one poll (its log and span queries) or in two, as the requests race.
      expect(result.polls).toBeGreaterThanOrEqual(2)
      expect(result.polls).toBeLessThanOrEqual(3)
      expect(failures).toBe(2)
      expect(result.error).toBeUndefined()
    } finally {
      server.onQuery = undefined
    }
  })
})

/** The two schemas the check meets: the collector exporter's (with TimestampTime) and HyperDX's seed (without). */
const SCHEMAS: Array<{ name: string; database: string; logs?: TableName; traces?: TableName }> = [
  { name: "the OpenTelemetry collector exporter's tables", database: 'default' },
  {
    name: "ClickStack's seed tables (HyperDX)",
    database: HYPERDX_DATABASE,
    logs: { database: HYPERDX_DATABASE, table: 'otel_logs' },
    traces: { database: HYPERDX_DATABASE, table: 'otel_traces' }
  }
]

describe.each(SCHEMAS)('what counts as the test invocation’s record, on $name', (schema) => {
  /** Writes the rows, then one poll of a fresh checker on this schema's tables. */
  async function pollOnce(
    fn: string,
    requestId: string,
    since: Date,
    rows: { logs?: LogRow[]; spans?: SpanRow[]; serviceName?: string }
  ) {
    if (rows.logs) await server.insertLogs(rows.logs, schema.logs)
    if (rows.spans) await server.insertSpans(rows.spans, schema.traces)
    return checker({ database: schema.database }).waitForDelivery({
      functionName: fn,
      requestId,
      since,
      timeoutMs: 0,
      ...(rows.serviceName ? { serviceName: rows.serviceName } : {}),
      ...clock(since.getTime())
    })
  }

  it("a warm older environment's records in the window, without the request id, are not delivery", async () => {
    const { fn, requestId, since, after } = invocation()
    const result = await pollOnce(fn, requestId, since, {
      logs: [
        // Text-format lines of another invocation, and a line that names none (print(), process.stdout).
        logOf(fn, after(100), undefined, { body: nodeLine(after(100), 'a1b2c3d4-0000-4000-8000-000000000001', 'old') }),
        logOf(fn, after(150), undefined, { body: 'plain stdout line' }),
        logOf(fn, after(200), 'a1b2c3d4-0000-4000-8000-000000000002')
      ],
      spans: [{ timestamp: after(120), resourceAttributes: resourceOf(fn) }]
    })
    expect(result).toMatchObject({ delivered: false, logRecords: 0, spans: 0, unmatched: 4, polls: 1 })
    expect(result.error).toBeUndefined()
  })

  it.each([
    ['a Node.js Text line', (at: Date, id: string) => nodeLine(at, id, 'handled')],
    ['a Python Text line', (at: Date, id: string) => pythonLine(at, id, 'handled')],
    ['a START platform line', (_at: Date, id: string) => `START RequestId: ${id} Version: $LATEST`],
    [
      'a REPORT platform line',
      (_at: Date, id: string) =>
        `REPORT RequestId: ${id}\tDuration: 2.04 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 68 MB`
    ]
  ])('the request id in %s counts', async (_what, bodyOf) => {
    const { fn, requestId, since, after } = invocation()
    const result = await pollOnce(fn, requestId, since, {
      logs: [logOf(fn, after(100), undefined, { body: bodyOf(after(100), requestId) })]
    })
    expect(result).toMatchObject({ delivered: true, logRecords: 1, withInvocationId: false, unmatched: 0 })
  })

  it('faas.invocation_id (JSON logs) counts, and says the records name their invocation', async () => {
    const { fn, requestId, since, after } = invocation()
    const result = await pollOnce(fn, requestId, since, { logs: [logOf(fn, after(100), requestId)] })
    expect(result).toMatchObject({ delivered: true, logRecords: 1, withInvocationId: true })
    expect(result.hint).toBeUndefined()
  })

  it('the request id inside a longer token does not count', async () => {
    const { fn, requestId, since, after } = invocation()
    const result = await pollOnce(fn, requestId, since, {
      logs: [
        logOf(fn, after(100), undefined, { body: nodeLine(after(100), `${requestId}0`, 'longer') }),
        logOf(fn, after(110), undefined, { body: `retry-of-${requestId}` }),
        logOf(fn, after(120), undefined, { body: `${requestId}-retry` }),
        logOf(fn, after(130), undefined, { body: `x${requestId} ${requestId.slice(0, -1)}` })
      ]
    })
    expect(result).toMatchObject({ delivered: false, logRecords: 0, unmatched: 4 })
  })

  it('a record under the configured service.name counts when faas.name was renamed too', async () => {
    const { fn, requestId, since, after } = invocation()
    const renamed = resourceOf(fn, { 'service.name': `svc-${fn}`, 'faas.name': `svc-${fn}` })
    const rows = { logs: [{ ...logOf(fn, after(100), requestId), resourceAttributes: renamed }] }
    expect(await pollOnce(fn, requestId, since, rows)).toMatchObject({ delivered: false, unmatched: 0 })
    const withService = await pollOnce(fn, requestId, since, { serviceName: `svc-${fn}` })
    expect(withService).toMatchObject({ delivered: true, logRecords: 1 })
  })
})

describe('queries', () => {
  it('are parameterised: no function name, request id or table in the SQL text, and read-only', async () => {
    const { since, after } = invocation()
    const fn = 'param-probe-fn'
    const requestId = 'c0ffee00-1111-4222-8333-444455556666'
    await server.insertLogs([logOf(fn, after(100), requestId)])
    const first = server.requests.length
    const result = await checker().waitForDelivery({
      functionName: fn,
      requestId,
      since,
      timeoutMs: 0,
      ...clock(since.getTime())
    })
    expect(result.delivered).toBe(true)
    const all = server.requests.slice(first)
    // A fresh checker learns each table's columns first, with the names as parameters too.
    const learning = all.filter((request) => request.query.includes('system.columns'))
    expect(learning.map((request) => request.params)).toEqual(
      expect.arrayContaining([
        { database: 'default', table: 'otel_logs' },
        { database: 'default', table: 'otel_traces' }
      ])
    )
    expect(learning).toHaveLength(2)
    for (const request of learning) expect(request.query).not.toMatch(/otel_(logs|traces)/)
    const sent = all.filter((request) => !learning.includes(request))
    expect(sent).toHaveLength(2)
    for (const request of sent) {
      expect(request.method).toBe('POST')
      expect(request.query).not.toContain(fn)
      expect(request.query).not.toContain(requestId)
      expect(request.query).not.toMatch(/otel_(logs|traces)/)
      expect(request.query).toContain('{functionName:String}')
      expect(request.params).toMatchObject({
        functionName: fn,
        serviceName: fn,
        requestId,
        sinceMs: String(since.getTime() - 2000)
      })
      expect(request.settings.readonly).toBe('1')
      expect(request.user).toBe('reader')
    }
    expect(sent.map((request) => request.params.logsTable ?? request.params.tracesTable).sort()).toEqual([
      'otel_logs',
      'otel_traces'
    ])
  })

  it('work for a user whose profile is readonly=1 (readonly=1 unchanged) and readonly=2 (asked again without it)', async () => {
    const { fn, requestId, since, after } = invocation()
    await server.insertLogs([logOf(fn, after(100), requestId)])
    for (const username of ['profile_readonly_1', 'profile_readonly_2']) {
      const first = server.requests.length
      const result = await checker({ username }).waitForDelivery({
        functionName: fn,
        requestId,
        since,
        timeoutMs: 0,
        ...clock(since.getTime())
      })
      expect({ username, ...result }).toMatchObject({ username, delivered: true, logRecords: 1 })
      const codes = server.requests.slice(first).map((request) => request.exceptionCode ?? 0)
      if (username === 'profile_readonly_1') expect(codes).toEqual([0, 0, 0, 0])
      else expect(codes.filter((code) => code === 164).length).toBeGreaterThanOrEqual(1)
    }
  })

  it('are chosen from the columns: Timestamp alone for a logs table without TimestampTime, never by trying', async () => {
    await server.exec('CREATE DATABASE IF NOT EXISTS legacy')
    await server.exec(
      'CREATE TABLE IF NOT EXISTS legacy.otel_logs (Timestamp DateTime64(9), ServiceName LowCardinality(String), Body String, ResourceAttributes Map(LowCardinality(String), String), LogAttributes Map(LowCardinality(String), String)) ENGINE = MergeTree ORDER BY (ServiceName, Timestamp)'
    )
    await server.exec('CREATE TABLE IF NOT EXISTS legacy.otel_traces AS default.otel_traces')
    const { fn, since, after } = invocation()
    await server.exec(
      `INSERT INTO legacy.otel_logs SELECT fromUnixTimestamp64Milli(${after(100).getTime()}), '${fn}', 'hi', map('faas.name', '${fn}'), map()`
    )
    const first = server.requests.length
    const result = await checker({ database: 'legacy' }).waitForDelivery({
      functionName: fn,
      since,
      timeoutMs: 0,
      ...clock(since.getTime())
    })
    expect(result).toMatchObject({ delivered: true, logRecords: 1 })
    expect(result.error).toBeUndefined()
    const sent = server.requests.slice(first)
    expect(sent.map((request) => request.exceptionCode)).toEqual([undefined, undefined, undefined, undefined])
    const logsQuery = sent.find((request) => request.params.logsTable === 'otel_logs')
    expect(logsQuery?.query).not.toContain('TimestampTime')
    // The same tables named as db.table in logs-table / traces-table.
    const qualified = await checker({
      logsTable: 'legacy.otel_logs',
      tracesTable: 'legacy.otel_traces'
    }).waitForDelivery({
      functionName: fn,
      since,
      timeoutMs: 0,
      ...clock(since.getTime())
    })
    expect(qualified).toMatchObject({ delivered: true, logRecords: 1 })
  })

  it("learn each table's columns once per checker, however many functions poll how often", async () => {
    const made = checker()
    const first = server.requests.length
    const runs = [invocation(), invocation(), invocation()]
    await Promise.all(
      runs.map((run) =>
        made.waitForDelivery({
          functionName: run.fn,
          requestId: run.requestId,
          since: run.since,
          timeoutMs: 3000,
          ...clock(run.since.getTime())
        })
      )
    )
    const sent = server.requests.slice(first)
    const learning = sent.filter((request) => request.query.includes('system.columns'))
    expect(learning.map((request) => request.params.table).sort()).toEqual(['otel_logs', 'otel_traces'])
    // 3 functions × 3 polls (0, 1, 2 s: then the 3 s are up) × 2 tables, besides the learning.
    expect(sent.length - learning.length).toBe(18)
    const logsQuery = sent.find((request) => request.params.logsTable === 'otel_logs')
    expect(logsQuery?.query).toContain('TimestampTime >=')
  })

  it('a table without the columns the check reads gets one message naming the table and the columns', async () => {
    await server.exec('CREATE DATABASE IF NOT EXISTS bare')
    await server.exec(
      'CREATE TABLE IF NOT EXISTS bare.otel_logs (Timestamp DateTime64(9), ServiceName String, ResourceAttributes Map(String, String)) ENGINE = MergeTree ORDER BY Timestamp'
    )
    await server.exec('CREATE TABLE IF NOT EXISTS bare.otel_traces AS default.otel_traces')
    const made = checker({ database: 'bare' })
    const first = server.requests.length
    const verdict = await made.check()
    expect(verdict).toEqual({
      ok: false,
      reason:
        "Table bare.otel_logs lacks the columns Body, LogAttributes of the OpenTelemetry ClickHouse exporter's schema that the delivery check reads: check logs-table."
    })
    // Learnt, not tried: no query of the table was sent, so no ClickHouse error came back.
    const sent = server.requests.slice(first)
    expect(sent.every((request) => request.exceptionCode === undefined)).toBe(true)
    expect(sent.some((request) => request.params.logsTable === 'otel_logs')).toBe(false)
  })
})

describe('errors name the input to fix and never show the password', () => {
  it('wrong credentials: clickhouse-user / clickhouse-password, after one poll', async () => {
    const { fn, requestId, since } = invocation()
    const made = checker({ password: WRONG_PASSWORD })
    const time = clock(since.getTime())
    const result = await made.waitForDelivery({ functionName: fn, requestId, since, timeoutMs: 90000, ...time })
    expect(result.delivered).toBe(false)
    expect(result.polls).toBe(1)
    expect(time.sleeps).toEqual([])
    expect(result.error).toMatch(/clickhouse-user and clickhouse-password/)
    expect(result.error).toContain('"reader"')
    expect(JSON.stringify(result)).not.toContain(WRONG_PASSWORD)
    expect(JSON.stringify(result)).not.toContain(PASSWORD)
    const verdict = await made.check()
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toMatch(/clickhouse-password/)
    expect(verdict.reason).not.toContain(WRONG_PASSWORD)
  })

  it('an unknown user is refused the same way', async () => {
    const verdict = await checker({ username: 'nobody' }).check()
    expect(verdict).toEqual({ ok: false, reason: expect.stringMatching(/refused the user "nobody".*clickhouse-user/) })
  })

  it('unknown tables name logs-table or traces-table', async () => {
    const logs = await checker({ logsTable: 'no_such_logs' }).check()
    expect(logs.reason).toMatch(/Table default\.no_such_logs does not exist: check logs-table and clickhouse-database/)
    const traces = await checker({ tracesTable: 'no_such_traces' }).check()
    expect(traces.reason).toMatch(/Table default\.no_such_traces does not exist: check traces-table/)
  })

  it('an unknown database names clickhouse-database', async () => {
    const verdict = await checker({ database: 'no_such_db' }).check()
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toMatch(/no_such_db.*clickhouse-database/)
  })

  it('a table of the JSON schema is named as unsupported', async () => {
    await server.exec('CREATE DATABASE IF NOT EXISTS jsonschema')
    await server.exec(
      'CREATE TABLE IF NOT EXISTS jsonschema.otel_logs (Timestamp DateTime64(9), TimestampTime DateTime DEFAULT toDateTime(Timestamp), ServiceName LowCardinality(String), Body String, ResourceAttributes JSON, LogAttributes JSON) ENGINE = MergeTree ORDER BY (ServiceName, Timestamp)'
    )
    await server.exec('CREATE TABLE IF NOT EXISTS jsonschema.otel_traces AS default.otel_traces')
    const verdict = await checker({ database: 'jsonschema' }).check()
    expect(verdict.reason).toMatch(/does not have the exporter's Map attribute columns.*logs-table/)
  })

  it('a good configuration passes check()', async () => {
    expect(await checker().check()).toEqual({ ok: true })
  })

  it('connection refused: clickhouse-url, without waiting for the timeout', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const { fn, since } = invocation()
    const time = clock(since.getTime())
    const result = await checker({ url: `http://127.0.0.1:${port}` }).waitForDelivery({
      functionName: fn,
      since,
      timeoutMs: 90000,
      ...time
    })
    expect(result.error).toMatch(/Could not connect to clickhouse-url http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/)
    expect(time.sleeps).toEqual([])
  })

  it('something that is not ClickHouse (say, the HyperDX UI port) is named as such', async () => {
    const html: Server = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' })
      res.end('<!DOCTYPE html><html><body>404: This page could not be found.</body></html>')
    })
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve))
    try {
      const verdict = await checker({ url: `http://127.0.0.1:${(html.address() as AddressInfo).port}` }).check()
      expect(verdict.reason).toMatch(/did not answer like ClickHouse's HTTP interface/)
    } finally {
      html.closeAllConnections()
      await new Promise<void>((resolve) => html.close(() => resolve()))
    }
  })

  it('a password in the URL is not shown either', async () => {
    const secretUrl = url.replace('http://', `http://reader:${encodeURIComponent(WRONG_PASSWORD)}@`)
    expect(displayUrl(secretUrl)).toBe(url)
    const verdict = await checker({ url: secretUrl, password: WRONG_PASSWORD }).check()
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).not.toContain(WRONG_PASSWORD)
    expect(verdict.reason).not.toContain(encodeURIComponent(WRONG_PASSWORD))
  })
})

describe('hyperdxSearchUrl', () => {
  const window = { fromMs: 1700000000000, toMs: 1700000090000 }

  it("searches what the check counts: the function by service name or faas.name, and the invocation's request id", () => {
    const link = hyperdxSearchUrl('https://hyperdx.example.com/', {
      functionName: 'orders-api',
      requestId: '8f5c7a3e-0000-4000-8000-000000000001',
      ...window
    })
    const parsed = new URL(link)
    expect(parsed.origin + parsed.pathname).toBe('https://hyperdx.example.com/search')
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      from: '1700000000000',
      to: '1700000090000',
      isLive: 'false',
      where:
        '(ServiceName:"orders-api" OR ResourceAttributes.faas.name:"orders-api") AND ("8f5c7a3e-0000-4000-8000-000000000001" OR LogAttributes.faas.invocation_id:"8f5c7a3e-0000-4000-8000-000000000001")',
      whereLanguage: 'lucene'
    })
    // Markdown-safe: the summary puts the link in [search](…); no raw parenthesis or quote is left.
    expect(link).not.toMatch(/[()"\s]/)
  })

  it('uses the service.name that resource-attributes configured, and faas.name, which stays the function', () => {
    const link = hyperdxSearchUrl('https://hyperdx.example.com', {
      functionName: 'orders-api',
      serviceName: 'orders',
      ...window
    })
    expect(new URL(link).searchParams.get('where')).toBe(
      '(ServiceName:"orders" OR ResourceAttributes.faas.name:"orders-api")'
    )
  })

  it('escapes quotes and backslashes of the values', () => {
    const link = hyperdxSearchUrl('https://h.example.com', { functionName: 'f', serviceName: 'a"b\\c', ...window })
    expect(new URL(link).searchParams.get('where')).toBe(
      '(ServiceName:"a\\"b\\\\c" OR ResourceAttributes.faas.name:"f")'
    )
  })

  it('accepts a base that already ends in /search, and keeps a path prefix', () => {
    expect(hyperdxSearchUrl('https://example.com/hdx/search', { functionName: 'f', fromMs: 1, toMs: 2 })).toMatch(
      /^https:\/\/example\.com\/hdx\/search\?from=1&to=2&/
    )
  })
})

describe('hyperdxSearchUrl with credentials in hyperdx-url', () => {
  it('leaves the user, the password, the query and the fragment out of the link', () => {
    const link = hyperdxSearchUrl('https://viewer:hdx-pass@hyperdx.example.com/app/?token=t1#x', {
      functionName: 'f',
      fromMs: 1,
      toMs: 2
    })
    expect(link).toMatch(/^https:\/\/hyperdx\.example\.com\/app\/search\?from=1&to=2&/)
    for (const secret of ['viewer', 'hdx-pass', 't1']) expect(link).not.toContain(secret)
  })
})
