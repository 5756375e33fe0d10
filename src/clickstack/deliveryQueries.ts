/**
 * The delivery check's SQL, chosen from the columns a table has (learnt once per run from
 * `system.columns`), and what counts as a record of the test invocation.
 *
 * The tables it reads are ClickStack's (HyperDX's seed, hyperdxio/hyperdx
 * docker/otel-collector/schema/seed/00002_otel_logs.sql and 00005_otel_traces.sql), the OpenTelemetry
 * Collector's clickhouseexporter tables and Rotel's ClickHouse exporter tables (the same column names,
 * streamfold/rotel src/exporters/clickhouse/schema.rs). They differ in what the check cares about only
 * by `TimestampTime`: the collector's logs table has it (and is partitioned by it), HyperDX's seed
 * dropped it (ordered by `toStartOfFiveMinutes(Timestamp)`).
 *
 * A record counts for THIS invocation only when it names the invocation's request id, because a warm
 * execution environment started before the change (without the extension's new settings, or another
 * invocation's) can send records of the same function inside the time window:
 * - as `faas.invocation_id`: the Rotel extension sets that log attribute from the `requestId` of a JSON
 *   log line (streamfold/rotel-lambda-extension src/lambda/logs.rs), i.e. LoggingConfig LogFormat = JSON;
 *   on spans, as the OpenTelemetry Lambda instrumentations set `faas.invocation_id` (or the older
 *   semantic conventions' `faas.execution`);
 * - in the body, as a whole token (not inside a longer one): Text-format lines keep the runtime's raw line,
 *   and Lambda's runtimes print the request id in it – Node.js's console methods as
 *   `<timestamp>\t<requestId>\t<LEVEL>\t<message>`
 *   (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html), Python's logging module as
 *   `[LEVEL]\t<timestamp>\t<requestId>\t<message>` (https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html),
 *   and the platform's lines as `START RequestId: <id> Version: …`, `END RequestId: <id>`,
 *   `REPORT RequestId: <id> …` (the examples of the same two pages),
 *   should a forwarder send those as records. The Rotel extension (v0.1.3) forwards the Telemetry API's
 *   `function` and `extension` records only; its `platform.*` records (whose `record.requestId` names the
 *   invocation, https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html) drive its
 *   flushing and are not exported (src/lambda/telemetry_api.rs).
 * A record of the function in the window that names no invocation is counted apart (`unmatched`), to say
 * why nothing proved delivery.
 *
 * Every value is a query parameter (`{name:Type}`, tables as `{name:Identifier}`): no SQL is built from input.
 */

export interface TableRef {
  readonly database: string
  readonly table: string
  /** The input that names it, for messages. */
  readonly input: 'logs-table' | 'traces-table'
}

/** A table's columns by name, with their ClickHouse types. */
export type TableColumns = ReadonlyMap<string, string>

/**
 * One query per table per run: what columns it has. No grant beyond SELECT on the table is needed: the
 * `system` database is always readable, and it lists the columns of the tables the user holds a privilege
 * on (SHOW is implied by any other privilege; https://clickhouse.com/docs/sql-reference/statements/grant).
 * No row: the table does not exist, or the user holds nothing on it.
 */
export const COLUMNS_QUERY = `SELECT name, type FROM system.columns
  WHERE database = {database:String} AND table = {table:String}`

/** The columns each query reads; Map columns must be Map(…, String) for `m['key']`. */
const NEEDED: Record<TableRef['input'], { plain: readonly string[]; maps: readonly string[] }> = {
  'logs-table': { plain: ['Timestamp', 'ServiceName', 'Body'], maps: ['ResourceAttributes', 'LogAttributes'] },
  'traces-table': { plain: ['Timestamp', 'ServiceName'], maps: ['ResourceAttributes', 'SpanAttributes'] }
}

/** The function's records: by resource service.name (configured or the function's) or faas.name. */
const OF_FUNCTION = `(ServiceName = {functionName:String} OR ServiceName = {serviceName:String}
      OR ResourceAttributes['faas.name'] = {functionName:String})
    AND Timestamp >= fromUnixTimestamp64Milli({sinceMs:Int64})`

/**
 * The request id as a whole token of the body: tokens are runs of [0-9A-Za-z_-], so `<id>` inside
 * `x<id>` or `<id>-retry` does not count. `position` first: a cheap filter before the split.
 */
const IN_BODY = `(position(Body, {requestId:String}) > 0
        AND has(extractAll(Body, '[0-9A-Za-z_-]+'), {requestId:String}))`

/** With no request id known (the invoke answer had none), any record of the function in the window counts. */
const LOG_OF_INVOCATION = `({requestId:String} = ''
        OR LogAttributes['faas.invocation_id'] = {requestId:String}
        OR ResourceAttributes['faas.invocation_id'] = {requestId:String}
        OR ${IN_BODY})`

const SPAN_OF_INVOCATION = `({requestId:String} = ''
        OR SpanAttributes['faas.invocation_id'] = {requestId:String}
        OR SpanAttributes['faas.execution'] = {requestId:String})`

export type QueryChoice = { readonly query: string } | { readonly problem: string }

/** The logs query for a table with these columns, or why the table cannot be read. */
export function logsQueryFor(columns: TableColumns, table: TableRef): QueryChoice {
  const problem = missingColumns(columns, table)
  if (problem) return { problem }
  // TimestampTime (collector's schema) prunes its partitions; HyperDX's seed partitions by Timestamp itself.
  const timestampTime = columns.has('TimestampTime')
    ? `\n    AND TimestampTime >= toDateTime(intDiv({sinceMs:Int64}, 1000))`
    : ''
  return {
    query: `SELECT
    countIf(of_invocation) AS records,
    countIf(of_invocation AND carries_id) AS with_invocation_id,
    countIf(NOT of_invocation) AS unmatched
  FROM (
    SELECT
      (LogAttributes['faas.invocation_id'] != '' OR ResourceAttributes['faas.invocation_id'] != '') AS carries_id,
      ${LOG_OF_INVOCATION} AS of_invocation
    FROM {logsDatabase:Identifier}.{logsTable:Identifier}
    WHERE ${OF_FUNCTION}${timestampTime}
  )`
  }
}

/** The spans query for a table with these columns, or why the table cannot be read. */
export function spansQueryFor(columns: TableColumns, table: TableRef): QueryChoice {
  const problem = missingColumns(columns, table)
  if (problem) return { problem }
  return {
    query: `SELECT countIf(of_invocation) AS spans, countIf(NOT of_invocation) AS unmatched
  FROM (
    SELECT ${SPAN_OF_INVOCATION} AS of_invocation
    FROM {tracesDatabase:Identifier}.{tracesTable:Identifier}
    WHERE ${OF_FUNCTION}
  )`
  }
}

/** One sentence naming the table, the columns it lacks and the input to fix; undefined when it has them. */
function missingColumns(columns: TableColumns, table: TableRef): string | undefined {
  const where = `${table.database}.${table.table}`
  if (columns.size === 0)
    return `Table ${where} does not exist: check ${table.input} and clickhouse-database (ClickStack's defaults are ${table.input === 'logs-table' ? 'otel_logs' : 'otel_traces'} in database default); if it exists, the user clickhouse-user may not see it.`
  const { plain, maps } = NEEDED[table.input]
  const missing = [...plain, ...maps].filter((name) => !columns.has(name))
  if (missing.length > 0)
    return `Table ${where} lacks the column${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of the OpenTelemetry ClickHouse exporter's schema that the delivery check reads: check ${table.input}.`
  const notMaps = maps.filter((name) => !/^Map\(/.test(columns.get(name) ?? ''))
  if (notMaps.length > 0)
    return `Table ${where} does not have the exporter's Map attribute columns (${notMaps.map((name) => `${name} is ${columns.get(name)}`).join(', ')}); tables of the JSON schema are not supported: check ${table.input}.`
  return undefined
}
