/**
 * Delivery verification: after a function's test invocation, polls ClickStack's ClickHouse for the
 * records the Rotel extension sent, until a record of THAT invocation arrives or the time is up.
 *
 * What counts (deliveryQueries.ts says why): a log record in `logs-table` or a span in `traces-table` of
 * the function (`ServiceName` is the function's or its configured service.name, or
 * `ResourceAttributes['faas.name']` is the function), with `Timestamp` at or after the invocation began
 * (less a small clock-skew allowance), that names the invocation's request id – as `faas.invocation_id`,
 * or as a whole token of the body. Records of the function in the window that name no invocation are
 * counted apart and do not prove delivery: a warm environment from before the change could have sent them.
 *
 * The tables' columns are learnt once per run from `system.columns` (one query per table), and the
 * queries chosen from them: a table without a needed column gets one message naming it and the columns.
 *
 * Every value (function name, request id, time, database and table names) goes to ClickHouse as a query
 * parameter (`{name:Type}`, tables as `{name:Identifier}`): no SQL is built from input.
 *
 * Read-only: each query carries the setting `readonly=1`, so that even credentials that may write can only
 * read through this check. ClickHouse refuses to change `readonly` for a user whose profile already sets
 * `readonly=2` (and `readonly=1` → 2 for a `readonly=1` profile), with code 164 READONLY; then the check
 * asks again without the setting, because such a user is read-only on the server already. `readonly=2`
 * would not help: a `readonly=1` user could not send it. The client asks for no other setting (no
 * response compression), so `readonly=1` alone never blocks the query.
 *
 * First arrival latency: neither exporter schema has an ingestion time, so it is the time of the first
 * poll that saw records (when its answer came) minus `since`: an upper bound, as coarse as the backoff.
 */
import { createClient, type ClickHouseClientConfigOptions, ClickHouseLogLevel } from '@clickhouse/client'
import { createRedactor, type Redactor } from '../core/redact.js'
import { sleep as realSleep } from '../core/retry.js'
import { messageOf } from '../core/errors.js'
import {
  COLUMNS_QUERY,
  logsQueryFor,
  type QueryChoice,
  spansQueryFor,
  type TableColumns,
  type TableRef
} from './deliveryQueries.js'

export interface DeliveryCheckerOptions {
  /** ClickStack's ClickHouse HTTP(S) interface, e.g. `https://clickhouse.example.com:8443` (input clickhouse-url). */
  readonly url: string
  /** Input clickhouse-user; ClickHouse's `default` when absent. */
  readonly username?: string
  /** Input clickhouse-password (a secret: never in any message). */
  readonly password?: string
  /** Input clickhouse-database; `default` when absent. */
  readonly database?: string
  /** Input logs-table; `otel_logs` when absent. `db.table` names another database. */
  readonly logsTable?: string
  /** Input traces-table; `otel_traces` when absent. `db.table` names another database. */
  readonly tracesTable?: string
  /** Per query; 30 s when absent. */
  readonly requestTimeoutMs?: number
  /** For tests: builds the client from the options given to `createClient`. */
  readonly clientFactory?: (config: ClickHouseClientConfigOptions) => DeliveryQueryClient
}

/** The part of @clickhouse/client's client the check uses. */
export interface DeliveryQueryClient {
  query(params: {
    query: string
    format: 'JSONEachRow'
    query_params: Record<string, unknown>
    clickhouse_settings?: Record<string, string>
  }): Promise<{ json<T>(): Promise<T[]> }>
  close(): Promise<void>
}

export interface WaitForDeliveryOptions {
  readonly functionName: string
  /** The function's service.name when resource-attributes sets one (its records carry it as ServiceName). */
  readonly serviceName?: string | undefined
  /** The test invocation's request id (`x-amzn-RequestId`); empty or absent: any record of the function counts. */
  readonly requestId?: string | undefined
  /** When the test invocation began, by the runner's clock. */
  readonly since: Date
  /** How long to keep polling, from the call (input verify-delivery-timeout × 1000). */
  readonly timeoutMs: number
  /** First wait between polls; doubles up to maxDelayMs. Defaults 1000 and 8000. */
  readonly initialDelayMs?: number
  readonly maxDelayMs?: number
  /** Records this much older than `since` still count (runner vs AWS clock). Default 2000. */
  readonly clockSkewMs?: number
  readonly sleep?: (ms: number) => Promise<void>
  readonly now?: () => number
}

export interface DeliveryResult {
  /** A log record or span of the test invocation arrived within the timeout. */
  delivered: boolean
  logRecords: number
  spans: number
  /** ms from `since` to the answer of the first poll that saw records; null when none arrived. */
  firstArrivalMs: number | null
  /** Some of the log records carry faas.invocation_id (the test invocation's, when its request id is known). */
  withInvocationId: boolean
  /** Records of the function in the window that name no invocation (the last poll's count): they prove nothing. */
  unmatched?: number
  /** Polls made (each queries both tables). */
  polls: number
  /** Set when log records arrived without faas.invocation_id: the advice to log JSON. */
  hint?: string
  /** Why the check could not say: a sentence naming the input to fix. Never holds the password. */
  error?: string
}

export interface CheckResult {
  readonly ok: boolean
  /** When not ok: a sentence naming the input to fix. */
  readonly reason?: string
}

export interface DeliveryChecker {
  waitForDelivery(options: WaitForDeliveryOptions): Promise<DeliveryResult>
  /** Learns both tables' columns, then queries each for a function that cannot exist: proves URL, credentials, database and tables. */
  check(): Promise<CheckResult>
  close(): Promise<void>
}

export const JSON_LOG_FORMAT_HINT =
  "Its log records arrived without faas.invocation_id: set json-logs: true (or the function's Lambda LoggingConfig LogFormat = JSON) so that each record names its invocation."

const DEFAULT_CLOCK_SKEW_MS = 2000

function tableRef(given: string | undefined, fallback: string, database: string, input: TableRef['input']): TableRef {
  const name = given?.trim() || fallback
  const dot = name.indexOf('.')
  return dot > 0 && dot < name.length - 1
    ? { database: name.slice(0, dot), table: name.slice(dot + 1), input }
    : { database, table: name, input }
}

/** An error that a later poll cannot cure: the input named in the message has to change. */
class PermanentError extends Error {}

interface Counts {
  logRecords: number
  withInvocationId: number
  spans: number
  unmatched: number
}

/** Numbers come as JSON numbers or, for 64-bit integers with output_format_json_quote_64bit_integers, as strings. */
const toCount = (value: unknown): number => {
  const number = typeof value === 'number' ? value : Number(value ?? 0)
  return Number.isFinite(number) ? number : 0
}

/** What every query of a checker shares, derived once from the inputs. */
interface Connection {
  readonly config: ClickHouseClientConfigOptions
  readonly username: string
  readonly logs: TableRef
  readonly traces: TableRef
  readonly redact: Redactor
  readonly shownUrl: string
}

/** The inputs resolved to the client's options, the tables and what messages may show. */
function connectionOf(options: DeliveryCheckerOptions): Connection {
  const database = options.database?.trim() || 'default'
  // Credentials in the URL are used only when the inputs give none; the client gets the URL without them.
  const fromUrl = urlCredentials(options.url)
  const username = options.username?.trim() || fromUrl.username || 'default'
  const password = options.password || fromUrl.password || ''
  const logs = tableRef(options.logsTable, 'otel_logs', database, 'logs-table')
  const traces = tableRef(options.tracesTable, 'otel_traces', database, 'traces-table')
  const redact = redactorFor(options)
  const shownUrl = displayUrl(options.url)
  const config: ClickHouseClientConfigOptions = {
    url: fromUrl.url,
    username,
    password,
    database,
    application: 'rotel-clickstack-action',
    request_timeout: options.requestTimeoutMs ?? 30000,
    // No response compression: it would need the setting enable_http_compression, which readonly=1 forbids.
    compression: { request: false, response: false },
    // Its own logging would print failed requests (URL, parameters) beside ours.
    log: { level: ClickHouseLogLevel.OFF }
  }
  return { config, username, logs, traces, redact, shownUrl }
}

type RunQuery = <T>(query: string, params: Record<string, unknown>, table: TableRef) => Promise<T[]>

/**
 * Runs one query, adapting to the server: kept apart so that what it learns (readonly refused) lives once
 * per checker, shared by every query.
 */
function createQueryRunner(clientOrThrow: () => DeliveryQueryClient, connection: Connection): RunQuery {
  const { username, shownUrl, redact } = connection
  // Learnt once per run: whether to send readonly=1.
  let sendReadonly = true

  return async function run<T>(query: string, params: Record<string, unknown>, table: TableRef): Promise<T[]> {
    for (;;) {
      // What this attempt sends: another query, in flight at once, may learn the same lesson.
      const withReadonly = sendReadonly
      try {
        const result = await clientOrThrow().query({
          query,
          format: 'JSONEachRow',
          query_params: params,
          ...(withReadonly ? { clickhouse_settings: { readonly: '1' } } : {})
        })
        return await result.json<T>()
      } catch (error) {
        const code = clickHouseCode(error)
        if (withReadonly && (code === 164 || (code === 452 && /readonly/.test(messageOf(error))))) {
          // The user's profile is read-only already and may not change `readonly` (164 READONLY), or a
          // settings constraint pins it (452 SETTING_CONSTRAINT_VIOLATION): ask without it.
          sendReadonly = false
          continue
        }
        throw classify(error, { table, username, shownUrl, redact })
      }
    }
  }
}

/**
 * The query for a table, from its columns as `system.columns` lists them: asked once per table per run
 * (shared by every function's polls, also while the first answer is on its way); asked again only after a
 * failure that a later poll may not meet (a lost connection, a busy server).
 */
function createQueryChooser(
  run: RunQuery
): (table: TableRef, choose: (columns: TableColumns, table: TableRef) => QueryChoice) => Promise<string> {
  const learnt = new Map<string, Promise<TableColumns>>()
  const columnsOf = (table: TableRef): Promise<TableColumns> => {
    const key = `${table.input}:${table.database}.${table.table}`
    let columns = learnt.get(key)
    if (!columns) {
      columns = run<{ name: string; type: string }>(
        COLUMNS_QUERY,
        { database: table.database, table: table.table },
        table
      ).then((rows) => new Map(rows.map((row) => [row.name, row.type])))
      learnt.set(key, columns)
      columns.catch(() => learnt.delete(key))
    }
    return columns
  }
  return async (table, choose) => {
    const choice = choose(await columnsOf(table), table)
    if ('problem' in choice) throw new PermanentError(choice.problem)
    return choice.query
  }
}

/** Whose records to count: the function (by name, or its configured service.name) and its invocation. */
interface Subject {
  readonly functionName: string
  readonly serviceName: string
  readonly requestId: string
}

type Poll = (subject: Subject, sinceMs: number) => Promise<Counts>

/** Polls with a doubling backoff until records arrive, a permanent error comes, or the time is up. */
async function pollUntilDelivered(
  wait: WaitForDeliveryOptions,
  poll: Poll,
  connection: Pick<Connection, 'redact' | 'shownUrl'>
): Promise<DeliveryResult> {
  const { redact, shownUrl } = connection
  const sleep = wait.sleep ?? realSleep
  const now = wait.now ?? Date.now
  const maxDelayMs = wait.maxDelayMs ?? 8000
  let delayMs = wait.initialDelayMs ?? 1000
  const sinceMs = wait.since.getTime() - (wait.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS)
  const deadline = now() + Math.max(0, wait.timeoutMs)
  const result: DeliveryResult = {
    delivered: false,
    logRecords: 0,
    spans: 0,
    firstArrivalMs: null,
    withInvocationId: false,
    unmatched: 0,
    polls: 0
  }
  const subject: Subject = {
    functionName: wait.functionName,
    serviceName: wait.serviceName?.trim() || wait.functionName,
    requestId: wait.requestId ?? ''
  }
  for (;;) {
    let transient: string | undefined
    try {
      result.polls++
      const counts = await poll(subject, sinceMs)
      if (counts.logRecords + counts.spans > 0) return recordArrival(result, counts, now() - wait.since.getTime())
      // Not enough: the invocation's own records may still be on their way.
      result.unmatched = counts.unmatched
    } catch (error) {
      if (error instanceof PermanentError) {
        result.error = error.message
        return result
      }
      transient = redact(messageOf(error))
    }
    const remaining = deadline - now()
    if (remaining <= 0) {
      if (transient !== undefined)
        result.error = `ClickHouse at clickhouse-url ${shownUrl} could not be queried (${transient}); the records of ${wait.functionName} could not be checked.`
      return result
    }
    await sleep(Math.min(delayMs, remaining))
    delayMs = Math.min(delayMs * 2, maxDelayMs)
  }
}

/** Fills the result from the first poll that saw records (`elapsedMs`: from `since` to its answer). */
function recordArrival(result: DeliveryResult, counts: Counts, elapsedMs: number): DeliveryResult {
  result.delivered = true
  result.logRecords = counts.logRecords
  result.spans = counts.spans
  result.withInvocationId = counts.withInvocationId > 0
  result.unmatched = counts.unmatched
  result.firstArrivalMs = Math.max(0, elapsedMs)
  if (result.logRecords > 0 && !result.withInvocationId) result.hint = JSON_LOG_FORMAT_HINT
  return result
}

export function createDeliveryChecker(options: DeliveryCheckerOptions): DeliveryChecker {
  const connection = connectionOf(options)
  const { config, logs, traces, redact, shownUrl } = connection
  let client: DeliveryQueryClient | undefined
  const clientOrThrow = (): DeliveryQueryClient => {
    if (client) return client
    try {
      client = options.clientFactory
        ? options.clientFactory(config)
        : (createClient(config) as unknown as DeliveryQueryClient)
    } catch (error) {
      throw new PermanentError(`clickhouse-url ${shownUrl} cannot be used: ${redact(messageOf(error))}.`)
    }
    return client
  }
  const run = createQueryRunner(clientOrThrow, connection)
  const queryFor = createQueryChooser(run)

  async function poll(subject: Subject, sinceMs: number): Promise<Counts> {
    const common = { ...subject, sinceMs }
    const countsOf = async <T>(table: TableRef, choose: typeof logsQueryFor, params: Record<string, unknown>) =>
      run<T>(await queryFor(table, choose), { ...common, ...params }, table)
    const [logRows, spanRows] = await Promise.all([
      countsOf<{ records?: unknown; with_invocation_id?: unknown; unmatched?: unknown }>(logs, logsQueryFor, {
        logsDatabase: logs.database,
        logsTable: logs.table
      }),
      countsOf<{ spans?: unknown; unmatched?: unknown }>(traces, spansQueryFor, {
        tracesDatabase: traces.database,
        tracesTable: traces.table
      })
    ])
    return {
      logRecords: toCount(logRows[0]?.records),
      withInvocationId: toCount(logRows[0]?.with_invocation_id),
      spans: toCount(spanRows[0]?.spans),
      unmatched: toCount(logRows[0]?.unmatched) + toCount(spanRows[0]?.unmatched)
    }
  }

  async function check(): Promise<CheckResult> {
    try {
      // A name no Lambda function can have (they are [A-Za-z0-9_-]): nothing matches, everything is checked.
      const name = 'rotel-clickstack-action/check'
      await poll({ functionName: name, serviceName: name, requestId: '' }, Date.now())
      return { ok: true }
    } catch (error) {
      return {
        ok: false,
        reason:
          error instanceof PermanentError
            ? error.message
            : `ClickHouse at clickhouse-url ${shownUrl} could not be queried (${redact(messageOf(error))}).`
      }
    }
  }

  return {
    waitForDelivery: (wait) => pollUntilDelivered(wait, poll, connection),
    check,
    async close() {
      const open = client
      client = undefined
      await open?.close()
    }
  }
}

function urlCredentials(url: string): { url: string; username?: string; password?: string } {
  try {
    const parsed = new URL(url)
    if (!parsed.username && !parsed.password) return { url }
    const username = decodeURIComponent(parsed.username)
    const password = decodeURIComponent(parsed.password)
    parsed.username = ''
    parsed.password = ''
    return { url: parsed.toString(), ...(username ? { username } : {}), ...(password ? { password } : {}) }
  } catch {
    return { url }
  }
}

function redactorFor(options: DeliveryCheckerOptions): Redactor {
  const secrets: string[] = []
  if (options.password) secrets.push(options.password, encodeURIComponent(options.password))
  try {
    const url = new URL(options.url)
    if (url.password) secrets.push(url.password, decodeURIComponent(url.password))
  } catch {
    // Not a URL: nothing more to hide; the client says so.
  }
  const redact = createRedactor(secrets)
  // createRedactor ignores secrets shorter than 3 characters; a short password is still never shown whole.
  const short = secrets.filter((secret) => secret.length > 0 && secret.length < 3)
  return (text) => short.reduce((result, secret) => result.split(secret).join('***'), redact(text))
}

/** The URL as it may be shown: no user name, no password, no query. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return '(not a valid URL)'
  }
}

function clickHouseCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code)
  const match = /Code: (\d+)\. DB::Exception/.exec(messageOf(error))
  return match?.[1] ? Number(match[1]) : undefined
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

function isTlsError(error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? '')
  return (
    /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|EPROTO)/.test(code) ||
    /certificate|SSL routines|wrong version number/i.test(messageOf(error))
  )
}

/** ClickHouse's message without its trailing "(TYPE) (version …)" noise, and without any secret. */
function shortMessage(error: unknown, redact: Redactor): string {
  return redact(messageOf(error))
    .replace(/\s*\(version [^)]*\)\)?\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\.+$/, '')
    .slice(0, 300)
}

function classify(
  error: unknown,
  context: { table: TableRef; username: string; shownUrl: string; redact: Redactor }
): Error {
  const { table, username, shownUrl, redact } = context
  const where = `${table.database}.${table.table}`
  const code = clickHouseCode(error)
  const said = shortMessage(error, redact)
  switch (code) {
    case 516: // AUTHENTICATION_FAILED
    case 192: // UNKNOWN_USER
    case 193: // WRONG_PASSWORD
    case 194: // REQUIRED_PASSWORD
      return new PermanentError(
        `ClickHouse at clickhouse-url ${shownUrl} refused the user "${username}" and its password: check clickhouse-user and clickhouse-password (the ClickStack user that may read ${where}).`
      )
    case 497: // ACCESS_DENIED
      return new PermanentError(
        `The ClickHouse user "${username}" (clickhouse-user) may not read ${where}: grant it SELECT on ${table.input === 'logs-table' ? 'the logs table' : 'the traces table'} (ClickHouse said: ${said}).`
      )
    case 60: // UNKNOWN_TABLE
      return new PermanentError(
        `Table ${where} does not exist: check ${table.input} and clickhouse-database (ClickStack's defaults are ${table.input === 'logs-table' ? 'otel_logs' : 'otel_traces'} in database default).`
      )
    case 81: // UNKNOWN_DATABASE
      return new PermanentError(
        `Database ${table.database} does not exist on ClickHouse at clickhouse-url ${shownUrl}: check clickhouse-database (or the database part of ${table.input}).`
      )
    case 47: // UNKNOWN_IDENTIFIER
    case 16: // NO_SUCH_COLUMN_IN_TABLE
      return new PermanentError(
        `Table ${where} lacks the columns of the OpenTelemetry ClickHouse exporter's schema (${said}): check ${table.input}.`
      )
    case 43: // ILLEGAL_TYPE_OF_ARGUMENT: attributes that are JSON, not Map
    case 386: // NO_COMMON_TYPE
      return new PermanentError(
        `Table ${where} does not have the exporter's Map attribute columns (ResourceAttributes, ${table.input === 'logs-table' ? 'LogAttributes' : 'SpanAttributes'}); tables of the JSON schema are not supported: check ${table.input} (ClickHouse said: ${said}).`
      )
    case 164: // READONLY, even without the setting
      return new PermanentError(
        `ClickHouse at clickhouse-url ${shownUrl} refused a read-only query of ${where}: ${said}.`
      )
    default:
      break
  }
  if (code !== undefined) return new Error(said) // e.g. memory or simultaneous-query limits: try again later.
  const systemCode = String((error as { code?: unknown } | null)?.code ?? '')
  if (CONNECT_CODES.has(systemCode))
    return new PermanentError(
      `Could not connect to clickhouse-url ${shownUrl} (${systemCode}): check the host and port of ClickStack's ClickHouse HTTP interface (usually 8123, or 8443 with https).`
    )
  if (isTlsError(error))
    return new PermanentError(
      `TLS failed with clickhouse-url ${shownUrl} (${systemCode || said}): check the scheme (https:// for 8443, http:// for 8123) and the server's certificate.`
    )
  if (systemCode || /^Timeout error/.test(messageOf(error)) || /socket hang up/i.test(messageOf(error)))
    return new Error(`${systemCode || said}`)
  // An answer that is not ClickHouse's (a proxy, or HyperDX's UI port): no later poll will change it.
  return new PermanentError(
    `clickhouse-url ${shownUrl} did not answer like ClickHouse's HTTP interface (${said.slice(0, 120) || 'empty answer'}): check the URL (ClickStack's ClickHouse HTTP port, usually 8123 or 8443, not HyperDX's).`
  )
}
