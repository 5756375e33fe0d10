/** The delivery settings: where ClickStack's ClickHouse is asked whether the test invocation's telemetry arrived. */
import { secretPartsOf } from '../secretNames.js'
import { parseInteger, type Problem } from './parsers.js'

/** How and where the run proves delivery. */
export interface DeliveryConfig {
  readonly mode: 'warn' | 'require'
  readonly url: string
  readonly username: string | undefined
  readonly password: string | undefined
  readonly database: string
  readonly logsTable: string
  readonly tracesTable: string
  readonly timeoutSeconds: number
  readonly hyperdxUrl: string | undefined
}

/** ClickHouse's plain identifiers; a database name has no dot (a table may be written database.table). */
const CLICKHOUSE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,205}$/
const CLICKHOUSE_TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,205}(\.[A-Za-z_][A-Za-z0-9_]{0,205})?$/
/**
 * What may not be in hyperdx-url, which the summary puts into a Markdown link `[search](URL)`: what
 * would close or reopen the link, start HTML, or end the URL early.
 */
const LINK_BREAKERS = /[\s()[\]<>"'`\\{}|^]/

/** The delivery settings; undefined when verify-delivery is off or wrong. Adds the secrets it reads to `secretValues`. */
export function parseDelivery(
  input: (name: string) => string,
  problem: Problem,
  secretValues: string[],
  refused: (name: string) => boolean
): DeliveryConfig | undefined {
  const url = input('clickhouse-url')
  const password = input('clickhouse-password')
  if (password) secretValues.push(password)
  // The credentials in either URL, and user:password as the ClickHouse client sends it (Basic auth, base64).
  const urlParts = secretPartsOf(url)
  secretValues.push(...urlParts, ...secretPartsOf(input('hyperdx-url')))
  const fromUrl = urlCredentials(url)
  const sentPassword = password || fromUrl.password
  if (sentPassword) secretValues.push(`${input('clickhouse-user') || fromUrl.user || 'default'}:${sentPassword}`)
  const setting = input('verify-delivery') || (url ? 'warn' : 'off')
  if (!['off', 'warn', 'require'].includes(setting)) {
    problem(`verify-delivery "${setting}" must be off, warn or require.`)
    return undefined
  }
  const timeoutSeconds = parseInteger(
    'verify-delivery-timeout',
    input('verify-delivery-timeout') || '90',
    5,
    900,
    problem
  )
  const username = input('clickhouse-user') || undefined
  const logsTable = input('logs-table') || 'otel_logs'
  const tracesTable = input('traces-table') || 'otel_traces'
  const database = input('clickhouse-database') || 'default'
  const hyperdxUrl = input('hyperdx-url') || undefined
  if (setting === 'off') return undefined
  const urlProblems = clickhouseUrlProblems(url, setting, refused)
  if (urlProblems) {
    urlProblems.forEach(problem)
    return undefined
  }
  for (const [name, value] of [
    ['logs-table', logsTable],
    ['traces-table', tracesTable]
  ] as const)
    if (!CLICKHOUSE_TABLE.test(value))
      problem(`${name} "${value}" is not a ClickHouse table name; write NAME or DATABASE.NAME (letters, digits and _).`)
  if (!CLICKHOUSE_NAME.test(database))
    problem(
      `clickhouse-database "${database}" is not a ClickHouse database name (letters, digits and _, no dot); to name a table in another database, write DATABASE.NAME in logs-table and traces-table.`
    )
  if (hyperdxUrl) {
    const wrong = hyperdxUrlProblem(hyperdxUrl)
    if (wrong) problem(`hyperdx-url ${wrong}`)
  }
  return {
    mode: setting as 'warn' | 'require',
    url,
    username,
    password: password || undefined,
    database,
    logsTable,
    tracesTable,
    timeoutSeconds,
    hyperdxUrl
  }
}

/**
 * What keeps clickhouse-url from being queried (an empty list when the problem was said already, as a
 * refused input); undefined when it can be. Never quotes the URL: it may hold a password.
 */
function clickhouseUrlProblems(url: string, setting: string, refused: (name: string) => boolean): string[] | undefined {
  if (!url)
    return refused('clickhouse-url')
      ? []
      : [
          `verify-delivery is ${setting} but clickhouse-url is empty; set it to ClickStack's ClickHouse HTTP endpoint, e.g. https://clickhouse.example.com:8443.`
        ]
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  // secretPartsOf already holds the password as written; one the client could not decode is refused.
  if (parsed?.password) {
    try {
      decodeURIComponent(parsed.password)
    } catch {
      return [
        'clickhouse-url: the password in the URL has a malformed %-escape (a % not followed by two hex digits); write % as %25, or put the password in clickhouse-password.'
      ]
    }
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol))
    return ['clickhouse-url is not an http(s) URL; write it like https://clickhouse.example.com:8443.']
  return undefined
}

/** The user-info of a URL, decoded as the ClickHouse client takes it; empty when none or not a URL. */
function urlCredentials(url: string): { user: string; password: string } {
  try {
    const parsed = new URL(url)
    return { user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }
  } catch {
    return { user: '', password: '' }
  }
}

/** Why hyperdx-url cannot be the base of the summary's `[search](URL)` link; undefined when it can. Never quotes it. */
function hyperdxUrlProblem(value: string): string | undefined {
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname || !/^https?:\/\//i.test(value))
    return 'is not an http(s) URL; write it like https://hyperdx.example.com.'
  // Refused rather than percent-encoded: an address with these is more likely a mistake than HyperDX's.
  if (LINK_BREAKERS.test(value))
    return "holds a character that would break the summary's Markdown link (a space, quote, bracket, parenthesis, <, >, \\, {, }, | or ^); percent-encode it, e.g. ) as %29."
  if (url.username || url.password)
    return 'must not carry credentials (they would be shown in every link); HyperDX asks for its own login.'
  if (url.search || url.hash)
    return "must be HyperDX's address without a ?query or #fragment; the action adds the search to it."
  return undefined
}
