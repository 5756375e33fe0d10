// Types of scripts/aws-envelope.mjs (hand-written; keep in step with it). The sources of every figure are
// cited in the header comment of scripts/aws-envelope.mjs.

/**
 * The API class a call counts against: `lambda:control` (every Lambda API but Invoke, GetFunction, GetPolicy),
 * `lambda:GetFunction`, `lambda:GetPolicy`, `lambda:Invoke` (not limited), `logs:<Operation>`, `sts:<Action>`,
 * `iam:<Action>`.
 */
export type ApiClass = string

/** Requests per second per (account, Region) and class: 15 / 100 / 15 / 5 / 50. */
export declare const DEFAULT_RATES: Readonly<{
  'lambda:control': 15
  'lambda:GetFunction': 100
  'lambda:GetPolicy': 15
  'logs:DescribeLogStreams': 5
  'logs:CreateLogStream': 50
}>

export declare const ENVELOPE_DEFAULTS: Readonly<{
  settleMs: 2000
  logTimestampLagMs: 3600000
  extraThrottle: 0
  extraThrottleTakesToken: false
  listFunctionsPageSize: 50
}>

export interface EnvelopeOptions {
  /** Requests per second by class, merged over DEFAULT_RATES; 0 or Infinity: not limited. */
  rates?: Record<string, number>
  /** Bucket size by class (requests); default one second of the class's rate. */
  burst?: Record<string, number>
  /** How long an update stays InProgress (and refuses another update with 409), by wall time; default 2000. */
  settleMs?: number
  /** How long after an event DescribeLogStreams shows it in lastEventTimestamp/lastIngestionTime; default 1 h. */
  logTimestampLagMs?: number
  /** Share of Lambda and CloudWatch Logs calls (Invoke aside) additionally throttled, drawn from the proxy's seed. */
  extraThrottle?: number
  /** Whether an extra throttle also takes the bucket's token (another tool's call spent it); default false. */
  extraThrottleTakesToken?: boolean
  /** Functions per ListFunctions page; default 50. */
  listFunctionsPageSize?: number
  /**
   * Which functions' invocations write a log stream as Lambda does (one per execution environment, a new one after
   * each configuration update): a predicate, a list of names, or true for all; default none.
   */
  invokeWritesLogs?: boolean | readonly string[] | ReadonlySet<string> | ((functionName: string) => boolean)
  /** The clock (ms since the epoch) for buckets, settling and the lag; default Date.now. */
  clock?: () => number
}

export interface EnvelopeSettings extends Required<Omit<EnvelopeOptions, 'burst' | 'invokeWritesLogs'>> {
  rates: Record<string, number>
  burst?: Record<string, number>
  invokeWritesLogs?: EnvelopeOptions['invokeWritesLogs']
  writesLogsFor: (functionName: string) => boolean
}

interface CallLike {
  service: string
  operation: string
  region?: string | null
  functionName?: string | null
}

export declare function apiClassOf(call: CallLike): ApiClass | null
/** Checks and completes the option; throws naming the bad field. null when the option is absent or false. */
export declare function envelopeSettings(option: boolean | EnvelopeOptions | undefined): EnvelopeSettings | null

export interface RateLimiter {
  /** Takes a token: null when admitted, else whole seconds until a token is there (≥ 1). */
  take(account: string, region: string, apiClass: ApiClass): number | null
  reset(): void
}
export declare function createRateLimiter(settings: EnvelopeSettings): RateLimiter

export interface ExtraThrottle {
  refuses(call: CallLike, apiClass: ApiClass | null): boolean
  reset(): void
}
export declare function createExtraThrottle(settings: EnvelopeSettings, seed: number): ExtraThrottle

export interface LogStreamView {
  logStreamName: string
  creationTime?: number
  firstEventTimestamp?: number
  lastEventTimestamp?: number
  lastIngestionTime?: number
  [field: string]: unknown
}
export interface EventTimes {
  firstEventTimestamp?: number
  lastEventTimestamp: number
  lastIngestionTime?: number
}
export declare function laggedStream(
  stream: LogStreamView,
  remembered: EventTimes | undefined,
  now: number,
  lagMs: number
): { shown: LogStreamView; remember: EventTimes | undefined }

export interface StreamsRequest {
  prefix: string
  orderBy: 'LogStreamName' | 'LastEventTime'
  descending: boolean
  limit: number
  nextToken?: string
}
export declare function describeStreamsRequest(
  body: Record<string, unknown>
): { request: StreamsRequest; error?: undefined } | { error: [string, string]; request?: undefined }
export declare function streamQueryKey(group: string, request: StreamsRequest): string
export declare function pageOfStreams(
  shownStreams: LogStreamView[],
  request: StreamsRequest,
  queryKey: string
): { logStreams: LogStreamView[]; nextToken?: string; error?: undefined } | { error: [string, string] }

export declare function pageOfFunctions(
  all: Array<Record<string, unknown>>,
  query: URLSearchParams,
  pageSize: number
): { Functions: Array<Record<string, unknown>>; NextMarker?: string; error?: undefined } | { error: [string, string] }

/** `YYYY/MM/DD/[$LATEST]<32 hex>`, UTC date; `hex` random unless given. */
export declare function lambdaStreamName(time: number, hex?: string): string
export declare function invocationLogEvents(
  time: number,
  requestId: string
): Array<{ timestamp: number; message: string }>
