/**
 * A stand-in for ClickStack's ClickHouse on 127.0.0.1: a small node:http server that speaks enough of
 * ClickHouse's HTTP interface for @clickhouse/client, in front of chdb (the real ClickHouse engine,
 * embedded). Tests only: chdb is a devDependency and never reaches the action's bundle.
 *
 * What it does as ClickHouse does:
 * - `POST /` (query in the body, or `query=` plus body) and `GET /?query=…`; `GET /ping` → `Ok.`.
 * - Users: HTTP basic auth, `X-ClickHouse-User`/`X-ClickHouse-Key`, or `user`/`password` parameters;
 *   a wrong user or password is HTTP 403 with `Code: 516. DB::Exception: …(AUTHENTICATION_FAILED)`.
 * - `param_<name>` values are bound by the engine itself (chdb's server-side binding): the text ClickHouse
 *   would parse is unescaped here and escaped again by chdb, so no value is ever put into SQL text.
 * - `database`, `default_format`, a `FORMAT` clause (the client appends one), `query_id`.
 * - Settings in the URL are checked as ClickHouse's SettingsConstraints does for `readonly`: a user whose
 *   profile has readonly=1 may not change any setting; readonly=2 may change all but `readonly`; an
 *   unchanged value is never checked. The effective `readonly` is enforced by refusing, with code 164,
 *   queries that are not reads. Other known settings are accepted and recorded, not applied; unknown
 *   ones are refused (code 115) as ClickHouse does.
 * - Errors as ClickHouse sends them: the status of exceptionCodeToHTTPStatus, the text
 *   `Code: N. DB::Exception: … (TYPE) (version …)`, and the `X-ClickHouse-Exception-Code` header.
 * - `enable_http_compression=1` with `Accept-Encoding: gzip` compresses the answer; a gzip body is read.
 * Not done: sessions, multipart parameters, progress headers, multi-statement refusal.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync, gzipSync } from 'node:zlib'
import { ensureTool } from '../../scripts/test-tools.mjs'

/** The part of chdb's Session (chdb/index.d.ts) this server uses. */
interface ChdbSession {
  queryAsync(query: string, options?: { format?: string }): Promise<{ text(): string }>
  queryBindAsync(query: string, params: object, options?: { format?: string }): Promise<{ text(): string }>
  close(): void
}

/**
 * chdb, from the project's test-tool cache (scripts/test-tools.mjs installs it there at its pinned
 * version on first use): its engine is half a gigabyte, too heavy for every `npm ci` of the action.
 */
const { Session } = createRequire(join(ensureTool('chdb'), 'package.json'))('chdb') as {
  Session: new () => ChdbSession
}

export interface ClickHouseUser {
  password: string
  /** The `readonly` of the user's settings profile (0 when absent). */
  readonly?: 0 | 1 | 2
}

export interface ClickHouseServerOptions {
  /** Default: `default` with an empty password, as a fresh ClickHouse has. */
  users?: Record<string, ClickHouseUser>
  /** Database of the otel tables; created when not `default`. */
  database?: string
  logsTable?: string
  tracesTable?: string
  /** false: no otel tables (create your own with `exec`). */
  createTables?: boolean
}

/** Another table than the server's own, for rows of another schema (e.g. HyperDX's seed tables). */
export interface TableName {
  database: string
  table: string
}

/** One HTTP request as the server understood it. */
export interface RecordedRequest {
  method: string
  path: string
  user: string
  /** The SQL text exactly as received (URL `query` and body). */
  query: string
  /** `param_*` values, unescaped, by name without the prefix. */
  params: Record<string, string>
  /** Settings sent in the URL. */
  settings: Record<string, string>
  database: string
  status: number
  /** ClickHouse's error code when the answer was an error. */
  exceptionCode?: number
}

/** A log record as the ClickHouse exporter writes it; ServiceName defaults to resource `service.name`. */
export interface LogRow {
  timestamp: Date
  /** Nanoseconds after `timestamp`'s millisecond (0–999 999). */
  nanos?: number
  serviceName?: string
  body?: string
  severityText?: string
  severityNumber?: number
  traceId?: string
  spanId?: string
  resourceAttributes?: Record<string, string>
  scopeName?: string
  scopeVersion?: string
  logAttributes?: Record<string, string>
}

export interface SpanRow {
  timestamp: Date
  serviceName?: string
  spanName?: string
  spanKind?: string
  traceId?: string
  spanId?: string
  parentSpanId?: string
  durationNs?: number
  statusCode?: string
  resourceAttributes?: Record<string, string>
  spanAttributes?: Record<string, string>
}

/**
 * The exporter's tables (OpenTelemetry Collector contrib's clickhouseexporter, as ClickStack creates them):
 * same columns, types, codecs, indexes, partitioning and ordering; without the TTL.
 */
export function otelLogsDdl(database: string, table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(database)}.${ident(table)} (
  Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
  TimestampTime DateTime DEFAULT toDateTime(Timestamp),
  TraceId String CODEC(ZSTD(1)),
  SpanId String CODEC(ZSTD(1)),
  TraceFlags UInt8,
  SeverityText LowCardinality(String) CODEC(ZSTD(1)),
  SeverityNumber UInt8,
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  Body String CODEC(ZSTD(1)),
  ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
  ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
  ScopeName String CODEC(ZSTD(1)),
  ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
  ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = MergeTree
PARTITION BY toDate(TimestampTime)
PRIMARY KEY (ServiceName, TimestampTime)
ORDER BY (ServiceName, TimestampTime, Timestamp)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`
}

export function otelTracesDdl(database: string, table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(database)}.${ident(table)} (
  Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
  TraceId String CODEC(ZSTD(1)),
  SpanId String CODEC(ZSTD(1)),
  ParentSpanId String CODEC(ZSTD(1)),
  TraceState String CODEC(ZSTD(1)),
  SpanName LowCardinality(String) CODEC(ZSTD(1)),
  SpanKind LowCardinality(String) CODEC(ZSTD(1)),
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ScopeName String CODEC(ZSTD(1)),
  ScopeVersion String CODEC(ZSTD(1)),
  SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  Duration UInt64 CODEC(T64, ZSTD(1)),
  StatusCode LowCardinality(String) CODEC(ZSTD(1)),
  StatusMessage String CODEC(ZSTD(1)),
  Events Nested (
    Timestamp DateTime64(9),
    Name LowCardinality(String),
    Attributes Map(LowCardinality(String), String)
  ) CODEC(ZSTD(1)),
  Links Nested (
    TraceId String,
    SpanId String,
    TraceState String,
    Attributes Map(LowCardinality(String), String)
  ) CODEC(ZSTD(1)),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`
}

/** The extension's instrumentation scope is its repository path; a stand-in name here. */
const ROTEL_SCOPE = 'rotel-lambda-extension'

/** A backquoted identifier: for the fixed names this file creates, never for request data. */
function ident(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``
}

/** ClickHouse's exceptionCodeToHTTPStatus, for the codes a test can meet. */
function httpStatusOf(code: number): number {
  if (code === 194) return 401
  if ([192, 193, 516, 512, 497].includes(code)) return 403
  if ([36, 6, 27, 38, 41, 44, 62, 53, 117, 167, 168, 16, 15, 457, 26, 72, 69, 321].includes(code)) return 400
  if ([60, 46, 47, 50, 56, 81, 115, 73, 4, 170, 63, 511, 74].includes(code)) return 404
  if (code === 48) return 501
  if (code === 159) return 408
  return 500
}

const ERROR_NAMES: Record<number, string> = {
  81: 'UNKNOWN_DATABASE',
  115: 'UNKNOWN_SETTING',
  164: 'READONLY',
  516: 'AUTHENTICATION_FAILED',
  48: 'NOT_IMPLEMENTED'
}

class ServerError extends Error {
  constructor(
    readonly code: number,
    message: string
  ) {
    super(`Code: ${code}. DB::Exception: ${message}. (${ERROR_NAMES[code] ?? 'UNKNOWN_EXCEPTION'})`)
  }
}

/** URL parameters of the HTTP interface that are not settings. */
const NOT_SETTINGS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'session_id',
  'session_timeout',
  'session_check',
  'user',
  'password',
  'quota_key',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'role',
  'stacktrace'
])

/** Undoes the escaping of a parameter value (ClickHouse's "Escaped" text format). */
function unescapeParam(text: string): string {
  const escapes: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0', a: '\x07', v: '\v' }
  return text.replace(/\\(.)/gs, (_, char: string) => escapes[char] ?? char)
}

/** Whether a statement only reads, by its first keyword. */
function isRead(sql: string): boolean {
  const stripped = sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/^[\s(]+/, '')
  return /^(SELECT|WITH|SHOW|DESCRIBE|DESC|EXISTS|EXPLAIN)\b/i.test(stripped)
}

const contentTypes: Array<[RegExp, string]> = [
  [/^JSON/i, 'application/json; charset=UTF-8'],
  [/^(TSV|TabSeparated)/i, 'text/tab-separated-values; charset=UTF-8'],
  [/^CSV/i, 'text/csv; charset=UTF-8; header=absent']
]

export class ClickHouseTestServer {
  readonly requests: RecordedRequest[] = []
  /** Called before each query runs; a test can insert rows here, or count. */
  onQuery: ((request: RecordedRequest) => void | Promise<void>) | undefined
  private server: Server | undefined
  private session: ChdbSession | undefined
  private base = ''
  private chain: Promise<unknown> = Promise.resolve()
  private settingNames = new Set<string>()
  private version = ''
  readonly users: Record<string, ClickHouseUser>
  readonly database: string
  readonly logsTable: string
  readonly tracesTable: string
  /** Time spent starting chdb and creating the tables, for the report. */
  startupMs = 0

  constructor(private readonly options: ClickHouseServerOptions = {}) {
    this.users = options.users ?? { default: { password: '' } }
    this.database = options.database ?? 'default'
    this.logsTable = options.logsTable ?? 'otel_logs'
    this.tracesTable = options.tracesTable ?? 'otel_traces'
  }

  /** Opens chdb on a fresh temporary directory, creates the tables, listens on 127.0.0.1; returns the URL. */
  async start(): Promise<string> {
    const started = Date.now()
    this.session = new Session()
    this.version = (await this.run('SELECT version() FORMAT TSVRaw')).trim()
    this.settingNames = new Set(
      (await this.run('SELECT name FROM system.settings FORMAT TSVRaw')).split('\n').filter(Boolean)
    )
    if (this.database !== 'default') await this.exec(`CREATE DATABASE IF NOT EXISTS ${ident(this.database)}`)
    if (this.options.createTables !== false) {
      await this.exec(otelLogsDdl(this.database, this.logsTable))
      await this.exec(otelTracesDdl(this.database, this.tracesTable))
    }
    this.startupMs = Date.now() - started
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(error))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    this.server = server
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return this.base
  }

  get url(): string {
    return this.base
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server) {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    await this.chain.catch(() => undefined)
    this.session?.close()
    this.session = undefined
  }

  /** Runs SQL on the engine directly (not through HTTP, not recorded). */
  async exec(sql: string): Promise<void> {
    await this.run(sql)
  }

  /** Rows of a query on the engine directly. */
  async rows<T>(sql: string): Promise<T[]> {
    const text = await this.run(`${sql} FORMAT JSONEachRow`)
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as T)
  }

  /** Writes log records as the exporter does: one row each, ServiceName from the resource's service.name. */
  async insertLogs(rows: readonly LogRow[], into?: TableName): Promise<void> {
    const lines = rows.map((row) => {
      const resource = row.resourceAttributes ?? {}
      return JSON.stringify({
        Timestamp: timestamp64(row.timestamp, row.nanos ?? 0),
        TraceId: row.traceId ?? '',
        SpanId: row.spanId ?? '',
        TraceFlags: 0,
        SeverityText: row.severityText ?? 'INFO',
        SeverityNumber: row.severityNumber ?? 9,
        ServiceName: row.serviceName ?? resource['service.name'] ?? '',
        Body: row.body ?? '',
        ResourceSchemaUrl: '',
        ResourceAttributes: resource,
        ScopeSchemaUrl: '',
        ScopeName: row.scopeName ?? ROTEL_SCOPE,
        ScopeVersion: row.scopeVersion ?? '',
        ScopeAttributes: {},
        LogAttributes: row.logAttributes ?? {}
      })
    })
    await this.insert(into ?? { database: this.database, table: this.logsTable }, lines)
  }

  /** Writes spans as the exporter does. */
  async insertSpans(rows: readonly SpanRow[], into?: TableName): Promise<void> {
    const lines = rows.map((row, index) => {
      const resource = row.resourceAttributes ?? {}
      return JSON.stringify({
        Timestamp: timestamp64(row.timestamp, 0),
        TraceId: row.traceId ?? '0af7651916cd43dd8448eb211c80319c',
        SpanId: row.spanId ?? `b7ad6b71692033${String(index % 100).padStart(2, '0')}`,
        ParentSpanId: row.parentSpanId ?? '',
        TraceState: '',
        SpanName: row.spanName ?? 'invoke',
        SpanKind: row.spanKind ?? 'Server',
        ServiceName: row.serviceName ?? resource['service.name'] ?? '',
        ResourceAttributes: resource,
        ScopeName: ROTEL_SCOPE,
        ScopeVersion: '',
        SpanAttributes: row.spanAttributes ?? {},
        Duration: row.durationNs ?? 1_500_000,
        StatusCode: row.statusCode ?? 'Ok',
        StatusMessage: ''
      })
    })
    await this.insert(into ?? { database: this.database, table: this.tracesTable }, lines)
  }

  private async insert({ database, table }: TableName, lines: string[]): Promise<void> {
    if (lines.length === 0) return
    // Inline data after FORMAT, as clickhouse-local reads it; the rows are JSON built above, not request data.
    // best_effort: the timestamps are ISO 8601 with Z, whatever the engine's time zone.
    await this.run(
      `INSERT INTO ${ident(database)}.${ident(table)} SETTINGS date_time_input_format = 'best_effort' FORMAT JSONEachRow\n${lines.join('\n')}`
    )
  }

  /** One statement at a time: `USE` for the `database` parameter holds only between its own statements. */
  private run(
    sql: string,
    params?: Record<string, string>,
    format = 'TabSeparated',
    database?: string
  ): Promise<string> {
    const task = this.chain.then(async () => {
      const session = this.session
      if (!session) throw new Error('the ClickHouse test server is not running')
      if (database && database !== 'default') await session.queryAsync(`USE ${ident(database)}`)
      try {
        const result = params
          ? await session.queryBindAsync(sql, params, { format })
          : await session.queryAsync(sql, { format })
        return result.text()
      } finally {
        if (database && database !== 'default') await session.queryAsync('USE default')
      }
    })
    this.chain = task.catch(() => undefined)
    return task
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const method = req.method ?? 'GET'
    if (url.pathname === '/ping' || (url.pathname === '/' && method === 'GET' && !url.searchParams.has('query'))) {
      res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8' })
      res.end('Ok.\n')
      return
    }
    let body = await readBody(req)
    if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) body = gunzipSync(body)
    const search = url.searchParams
    const params: Record<string, string> = {}
    const settings: Record<string, string> = {}
    for (const [key, value] of search) {
      if (key.startsWith('param_')) params[key.slice('param_'.length)] = unescapeParam(value)
      else if (!NOT_SETTINGS.has(key)) settings[key] = value
    }
    const { user, password } = credentialsOf(req, search)
    const urlQuery = search.get('query') ?? ''
    const bodyText = method === 'POST' ? body.toString('utf8') : ''
    const query = urlQuery && bodyText ? `${urlQuery}\n${bodyText}` : urlQuery || bodyText
    const database = search.get('database') ?? 'default'
    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      user,
      query,
      params,
      settings,
      database,
      status: 200
    }
    this.requests.push(recorded)
    const queryId = search.get('query_id') ?? `test-${this.requests.length}`
    const fail = (error: unknown): void => {
      const code =
        error instanceof ServerError
          ? error.code
          : Number((error as { clickhouseCode?: unknown }).clickhouseCode ?? 1001)
      const message = error instanceof Error ? error.message : String(error)
      recorded.status = httpStatusOf(code)
      recorded.exceptionCode = code
      res.writeHead(recorded.status, {
        'content-type': 'text/plain; charset=UTF-8',
        'x-clickhouse-exception-code': String(code),
        'x-clickhouse-query-id': queryId,
        'x-clickhouse-server-display-name': 'chdb-test-server'
      })
      res.end(`${message} (version ${this.version} (official build))\n`)
    }
    try {
      const account = this.users[user]
      if (!account || account.password !== password)
        throw new ServerError(
          516,
          `${user}: Authentication failed: password is incorrect, or there is no user with such name`
        )
      // A GET may only read: ClickHouse sets readonly=2 for it when the profile allows more.
      let readonly: number = account.readonly ?? 0
      if (method === 'GET' && readonly === 0) readonly = 2
      const current = readonly
      for (const [name, value] of Object.entries(settings)) {
        if (!this.settingNames.has(name)) throw new ServerError(115, `Unknown setting '${name}'`)
        if (name === 'readonly') {
          const wanted = Number(value)
          if (wanted === current) continue
          if (current > 0) throw new ServerError(164, `Cannot modify 'readonly' setting in readonly mode`)
          readonly = wanted
        } else if (current === 1) {
          throw new ServerError(164, `Cannot modify '${name}' setting in readonly mode`)
        }
      }
      if (readonly > 0 && !isRead(query)) throw new ServerError(164, `${user}: Cannot execute query in readonly mode`)
      if (database !== 'default') {
        const known = await this.run('SELECT count() FROM system.databases WHERE name = {name:String}', {
          name: database
        })
        if (known.trim() === '0') throw new ServerError(81, `Database ${database} does not exist`)
      }
      await this.onQuery?.(recorded)
      const format = search.get('default_format') ?? 'TabSeparated'
      const text = await this.run(query, params, format, database)
      const asked = /\bFORMAT\s+(\w+)\s*;?\s*$/i.exec(query)?.[1] ?? format
      const headers: Record<string, string> = {
        'content-type': contentTypes.find(([pattern]) => pattern.test(asked))?.[1] ?? 'text/plain; charset=UTF-8',
        'x-clickhouse-format': asked,
        'x-clickhouse-query-id': queryId,
        'x-clickhouse-timezone': 'UTC',
        'x-clickhouse-server-display-name': 'chdb-test-server',
        'x-clickhouse-summary': JSON.stringify({
          read_rows: '0',
          read_bytes: '0',
          written_rows: '0',
          written_bytes: '0'
        })
      }
      let payload = Buffer.from(text, 'utf8')
      if (settings.enable_http_compression === '1' && /gzip/i.test(String(req.headers['accept-encoding'] ?? ''))) {
        payload = gzipSync(payload)
        headers['content-encoding'] = 'gzip'
      }
      res.writeHead(200, headers)
      res.end(payload)
    } catch (error) {
      fail(error)
    }
  }
}

/** A DateTime64(9) value as ISO 8601 in UTC with nanoseconds (read with date_time_input_format=best_effort). */
function timestamp64(date: Date, nanos: number): string {
  const iso = date.toISOString() // 2024-01-02T03:04:05.678Z
  const extra = String(Math.max(0, Math.min(999_999, Math.floor(nanos)))).padStart(6, '0')
  return `${iso.slice(0, 23)}${extra}Z`
}

function credentialsOf(req: IncomingMessage, search: URLSearchParams): { user: string; password: string } {
  const authorization = req.headers.authorization
  if (authorization?.startsWith('Basic ')) {
    const decoded = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon < 0
      ? { user: decoded, password: '' }
      : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
  }
  const headerUser = req.headers['x-clickhouse-user']
  if (typeof headerUser === 'string')
    return { user: headerUser, password: String(req.headers['x-clickhouse-key'] ?? '') }
  return { user: search.get('user') ?? 'default', password: search.get('password') ?? '' }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
