/**
 * The API rates the action keeps to, per account and region: which quota each call counts against, AWS's
 * published default for it, and whether an account can have it raised. The governor (aws/rateGovernor.ts)
 * paces the calls; the aws-api-rates input (inputs/apiRates.ts) lowers a rate, or raises a raisable one.
 */

/** Lambda quotas, "Lambda API requests". */
export const LAMBDA_QUOTAS_PAGE = 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html'
/** CloudWatch Logs quotas (CloudWatch Logs User Guide); the General Reference lists them too, at cwl_region.html. */
export const LOGS_QUOTAS_PAGE = 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html'

/** The rate classes, as the aws-api-rates input names them. */
export const API_CLASSES = ['lambda', 'get-function', 'get-policy', 'describe-log-streams', 'other-logs'] as const
export type ApiClass = (typeof API_CLASSES)[number]

export interface ApiQuota {
  /** Requests a second, per account and region, by default. */
  readonly rate: number
  /** Whether an account can have it raised (Service Quotas); a rate above a fixed one is refused. */
  readonly raisable: boolean
  /** The calls it covers, as a sentence can name them. */
  readonly covers: string
  readonly source: string
}

/**
 * AWS's published figures. Lambda (LAMBDA_QUOTAS_PAGE, "Lambda API requests"): GetFunction 100 requests a
 * second, GetPolicy 15, and "the remainder of the control plane API requests (excludes invocation,
 * GetFunction, and GetPolicy requests)" 15 a second across all of them together; none can be increased.
 * CloudWatch Logs (LOGS_QUOTAS_PAGE, and the API reference of DescribeLogStreams,
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html):
 * DescribeLogStreams 5 transactions a second per account and region, raisable on request. Some pages quote
 * 25 for it; the quotas page and the API reference say 5, and an account raised to 25 only loses speed
 * at 5 (aws-api-rates gives it back), while one on 5 paced at 25 would be throttled four calls in five.
 * The action makes no other CloudWatch Logs call today; any other is paced per operation at 5 a second,
 * the figure the quotas page gives DescribeLogGroups too.
 */
export const API_QUOTAS: Readonly<Record<ApiClass, ApiQuota>> = {
  lambda: {
    rate: 15,
    raisable: false,
    covers: "Lambda's control-plane calls (all but Invoke, GetFunction and GetPolicy, together)",
    source: LAMBDA_QUOTAS_PAGE
  },
  'get-function': { rate: 100, raisable: false, covers: "Lambda's GetFunction", source: LAMBDA_QUOTAS_PAGE },
  'get-policy': { rate: 15, raisable: false, covers: "Lambda's GetPolicy", source: LAMBDA_QUOTAS_PAGE },
  'describe-log-streams': {
    rate: 5,
    raisable: true,
    covers: "CloudWatch Logs' DescribeLogStreams",
    source: LOGS_QUOTAS_PAGE
  },
  'other-logs': {
    rate: 5,
    raisable: true,
    covers: 'every other CloudWatch Logs call, each on its own',
    source: LOGS_QUOTAS_PAGE
  }
}

/** The rate of each class the run keeps to, in requests a second. */
export type ApiRates = Readonly<Record<ApiClass, number>>

export const DEFAULT_API_RATES: ApiRates = Object.fromEntries(
  API_CLASSES.map((name) => [name, API_QUOTAS[name].rate])
) as Record<ApiClass, number>

/** Lambda calls with no request-rate quota of their own: invocations are bounded by concurrency instead. */
const UNPACED_LAMBDA = new Set(['Invoke', 'InvokeAsync', 'InvokeWithResponseStream'])

/** The services whose calls are paced. */
export type PacedService = 'lambda' | 'logs'

/**
 * The class a call counts against, and the key of its bucket (a class paced per operation adds the
 * operation); undefined for a call that is not paced.
 */
export function apiClassOf(
  service: PacedService,
  commandName: string | undefined
): { readonly apiClass: ApiClass; readonly key: string } | undefined {
  const operation = (commandName ?? '').replace(/Command$/, '')
  if (service === 'logs')
    return operation === 'DescribeLogStreams'
      ? { apiClass: 'describe-log-streams', key: 'describe-log-streams' }
      : { apiClass: 'other-logs', key: `other-logs:${operation}` }
  if (UNPACED_LAMBDA.has(operation)) return undefined
  if (operation === 'GetFunction') return { apiClass: 'get-function', key: 'get-function' }
  if (operation === 'GetPolicy') return { apiClass: 'get-policy', key: 'get-policy' }
  return { apiClass: 'lambda', key: 'lambda' }
}

/** What the governor did for one bucket of one region. */
export interface PaceFigures {
  readonly region: string
  /** The bucket: a class, or `other-logs:Operation`. */
  readonly key: string
  /** Requests sent, re-sends after a throttle included. */
  readonly sent: number
  /** Throttle answers received. */
  readonly throttled: number
  /** Calls given up after being throttled past the deadline. */
  readonly gaveUp: number
  /** Time calls spent waiting for their turn or after a throttle, added up over calls. */
  readonly waitedMs: number
}

/** One log line per region: what was sent, throttled and waited for, bucket by bucket. */
export function paceLines(figures: readonly PaceFigures[]): string[] {
  const regions = [...new Set(figures.map((figure) => figure.region))].sort()
  return regions.map((region) => {
    const buckets = figures
      .filter((figure) => figure.region === region && figure.sent > 0)
      .sort((a, b) => a.key.localeCompare(b.key))
      .map(
        (figure) =>
          `${figure.key} ${figure.sent} sent, ${figure.throttled} throttled${figure.gaveUp ? `, ${figure.gaveUp} given up` : ''}, ${(figure.waitedMs / 1000).toFixed(1)} s waited`
      )
    return `API pace in ${region}: ${buckets.length > 0 ? buckets.join('; ') : 'no paced calls'}.`
  })
}
