/**
 * Lambda's REPORT line of one invocation, found in the log tail that Invoke returns with LogType Tail, and
 * what its memory figures say about the function's headroom.
 *
 * The tail is the function's own output and is read as hostile data: a function can print a line that
 * looks like Lambda's report. Only a report naming this invocation's request id counts, and of those the
 * last one, since Lambda writes its REPORT after everything the function printed for the invocation
 * (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html, "Report Log"). Without the request
 * id nothing tells Lambda's line from a forged one, so no figures are taken at all.
 */

/** The figures of a REPORT line; each is null when the line lacked it or its value could not be trusted. */
export interface InvocationFigures {
  readonly durationMs: number | null
  readonly billedDurationMs: number | null
  readonly memorySizeMb: number | null
  readonly maxMemoryUsedMb: number | null
  /** Only on a cold start (not with SnapStart, whose Init is reported when the version is published). */
  readonly initDurationMs: number | null
  /** SnapStart only, on a restore: https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html */
  readonly restoreDurationMs: number | null
  readonly billedRestoreDurationMs: number | null
}

/**
 * Lambda's largest memory size, 10,240 MB, and its smallest, 128 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, "Function configuration").
 */
export const MAX_MEMORY_MB = 10_240
export const MIN_MEMORY_MB = 128
/**
 * A function runs at most 900 seconds (the same quotas page, "Function timeout"); an init or restore is
 * shorter still. A duration above this is not Lambda's.
 */
const MAX_DURATION_MS = 900_000
/** Lambda's REPORT line is a few hundred characters, even with the X-Ray fields: a longer line is not read. */
const MAX_REPORT_LINE = 1_000
/** The platform.report record of a JSON log is about as long. */
const MAX_JSON_LINE = 2_000
/** Lambda's tail is the last 4 KB of the log (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html); a proxy may send more: only this much is looked at. */
const MAX_TAIL_CHARS = 64 * 1024

type Field = keyof InvocationFigures

/** The REPORT line's names (Text log format) and the platform.report metrics' names (JSON log format). */
const TEXT_FIELDS: Readonly<Record<string, readonly [Field, 'ms' | 'MB']>> = {
  Duration: ['durationMs', 'ms'],
  'Billed Duration': ['billedDurationMs', 'ms'],
  'Memory Size': ['memorySizeMb', 'MB'],
  'Max Memory Used': ['maxMemoryUsedMb', 'MB'],
  'Init Duration': ['initDurationMs', 'ms'],
  'Restore Duration': ['restoreDurationMs', 'ms'],
  'Billed Restore Duration': ['billedRestoreDurationMs', 'ms']
}

/**
 * With LoggingConfig LogFormat JSON, Lambda writes its report as a `platform.report` record whose metrics
 * are named as in the Telemetry API (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html#ReportMetrics).
 */
const JSON_FIELDS: Readonly<Record<string, Field>> = {
  durationMs: 'durationMs',
  billedDurationMs: 'billedDurationMs',
  memorySizeMB: 'memorySizeMb',
  maxMemoryUsedMB: 'maxMemoryUsedMb',
  initDurationMs: 'initDurationMs',
  restoreDurationMs: 'restoreDurationMs',
  billedRestoreDurationMs: 'billedRestoreDurationMs'
}

/** Longest names first, so that "Billed Restore Duration" is never read as "Restore Duration". */
const TEXT_FIELD = new RegExp(
  `(?<=^|\\s)(${Object.keys(TEXT_FIELDS)
    .sort((a, b) => b.length - a.length)
    .join('|')}): (\\d{1,7}(?:\\.\\d{1,3})?) (ms|MB)(?=\\s|$)`,
  'g'
)
const REQUEST_ID = /^[A-Za-z0-9-]{1,64}$/

/** The figures of this invocation's report in the tail, or null when there is none to trust. */
export function findInvocationReport(
  tail: string | undefined,
  requestId: string | undefined
): InvocationFigures | null {
  if (!tail || !requestId || !REQUEST_ID.test(requestId)) return null
  const lines = tail.slice(-MAX_TAIL_CHARS).split(/\r?\n/)
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = (lines[index] ?? '').trim()
    const figures = line.startsWith('{') ? fromJsonLine(line, requestId) : fromTextLine(line, requestId)
    if (figures) return figures
  }
  return null
}

function fromTextLine(line: string, requestId: string): InvocationFigures | null {
  if (line.length > MAX_REPORT_LINE) return null
  const head = /^REPORT RequestId: ([A-Za-z0-9-]{1,64})(?=\s|$)/.exec(line)
  if (!head || head[1] !== requestId) return null
  const values: Partial<Record<Field, number | null>> = {}
  for (const [, name = '', number = '', unit] of line.matchAll(TEXT_FIELD)) {
    const [field, expectedUnit] = TEXT_FIELDS[name] ?? []
    if (!field || unit !== expectedUnit) continue
    // A name given twice is a line Lambda did not write as documented: neither value is taken.
    values[field] = field in values ? null : bounded(field, Number(number))
  }
  return figuresOf(values)
}

function fromJsonLine(line: string, requestId: string): InvocationFigures | null {
  if (line.length > MAX_JSON_LINE || !line.includes('platform.report')) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return null
  }
  const event = parsed as { type?: unknown; record?: { requestId?: unknown; metrics?: unknown } } | null
  if (event?.type !== 'platform.report' || event.record?.requestId !== requestId) return null
  const metrics = event.record.metrics
  if (typeof metrics !== 'object' || metrics === null) return null
  const values: Partial<Record<Field, number | null>> = {}
  for (const [name, field] of Object.entries(JSON_FIELDS)) {
    const value = (metrics as Record<string, unknown>)[name]
    if (value !== undefined) values[field] = typeof value === 'number' ? bounded(field, value) : null
  }
  return figuresOf(values)
}

/** A figure within what Lambda can report, else null: the tail never sets a size the action trusts blindly. */
function bounded(field: Field, value: number): number | null {
  if (!Number.isFinite(value) || value < 0) return null
  if (field === 'memorySizeMb') return value >= MIN_MEMORY_MB && value <= MAX_MEMORY_MB ? value : null
  if (field === 'maxMemoryUsedMb') return value <= MAX_MEMORY_MB ? value : null
  return value <= MAX_DURATION_MS ? value : null
}

function figuresOf(values: Partial<Record<Field, number | null>>): InvocationFigures | null {
  const figures: InvocationFigures = {
    durationMs: values.durationMs ?? null,
    billedDurationMs: values.billedDurationMs ?? null,
    memorySizeMb: values.memorySizeMb ?? null,
    maxMemoryUsedMb: values.maxMemoryUsedMb ?? null,
    initDurationMs: values.initDurationMs ?? null,
    restoreDurationMs: values.restoreDurationMs ?? null,
    billedRestoreDurationMs: values.billedRestoreDurationMs ?? null
  }
  return Object.values(figures).some((value) => value !== null) ? figures : null
}

/** Figures kept in an earlier run's report (outside data): each field bounded as the tail's are, else null. */
export function figuresFromRecord(record: unknown): InvocationFigures | null {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return null
  const values: Partial<Record<Field, number | null>> = {}
  for (const field of Object.values(JSON_FIELDS)) {
    const value = (record as Record<string, unknown>)[field]
    if (typeof value === 'number') values[field] = bounded(field, value)
  }
  return figuresOf(values)
}
