// AWS's published envelope for the fault proxy (scripts/fault-proxy.mjs, option `envelope`): moto answers
// every call at once and never throttles, so a rollout proven against it alone says nothing about a fleet.
// This module holds the figures, the bookkeeping, and the envelope's own calls to the emulator (listing a log
// group whole, writing an invocation's stream); the proxy wires them in. Types: scripts/aws-envelope.d.mts.
//
// The figures (every one overridable), from AWS's pages:
// - Lambda, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, "Lambda API requests":
//   the control plane (every API except Invoke, GetFunction and GetPolicy) 15 requests per second per Region,
//   all those APIs together; GetFunction 100 per second; GetPolicy 15 per second. Invoke is limited by
//   concurrency, not by a request rate, at this scale: not counted here.
// - Lambda ListFunctions, https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html: up to 50
//   functions per page (Marker / NextMarker).
// - CloudWatch Logs DescribeLogStreams, https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html:
//   "a limit of five transactions per second, after which transactions are throttled", per account and Region.
//   The quotas page (https://docs.aws.amazon.com/general/latest/gr/cwl_region.html) is the authority for the
//   current default; its quota table could not be read in the stored copy available here, and the issue reports
//   that some AWS pages now say 25, so the default stays at the API reference's (and the issue's) 5, the
//   stricter of the two; `rates: { 'logs:DescribeLogStreams': 25 }` tries the other.
// - CloudWatch Logs CreateLogStream, https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html:
//   50 transactions per second. Other CloudWatch Logs APIs are not limited unless `rates` names them.
// - LogStream, https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_LogStream.html:
//   lastEventTimestamp and lastIngestionTime update "on an eventual consistency basis", typically in less
//   than an hour; creationTime is the stream's creation and is there at once. DescribeLogStreams orders
//   by LastEventTime on lastEventTimestamp, and refuses orderBy LastEventTime with a logStreamNamePrefix.
// - Throttling answers: Lambda 429 TooManyRequestsException, Reason CallerRateLimitExceeded, its
//   retryAfterSeconds sent as the Retry-After header
//   (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html, Errors); CloudWatch
//   Logs 400 ThrottlingException "Rate exceeded" (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html).
// - Settling: after a configuration update Lambda keeps LastUpdateStatus InProgress while it applies it and
//   refuses another update meanwhile with 409 ResourceConflictException
//   (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html). How long is not published: 2 s
//   here is the figure, an assumption.
import { createHash, randomBytes } from 'node:crypto'

/** Requests per second per (account, Region) and API class; a class missing here (or 0/Infinity) is not limited. */
export const DEFAULT_RATES = Object.freeze({
  'lambda:control': 15,
  'lambda:GetFunction': 100,
  'lambda:GetPolicy': 15,
  'logs:DescribeLogStreams': 5,
  'logs:CreateLogStream': 50
})

export const ENVELOPE_DEFAULTS = Object.freeze({
  settleMs: 2000,
  // The LogStream page's "typically less than an hour": the rig shows the slow end, so that a check that
  // relies on lastEventTimestamp is seen to fail rather than pass by luck.
  logTimestampLagMs: 3_600_000,
  extraThrottle: 0,
  // An extra throttle is a refusal, and a token bucket takes nothing for a refusal; true models the account's
  // other tools spending that token instead (the caller then gets 20 % less of the quota, not only re-sends).
  extraThrottleTakesToken: false,
  listFunctionsPageSize: 50
})

// Lambda's Invoke does not count against the request-rate quotas (concurrency limits it instead).
const LAMBDA_UNCOUNTED = new Set(['Invoke'])
const LAMBDA_OWN_CLASS = new Set(['GetFunction', 'GetPolicy'])

/** The API class a call counts against: `lambda:control`, `lambda:GetFunction`, `logs:DescribeLogStreams`, …; null for none. */
export function apiClassOf(call) {
  if (call.service === 'lambda') {
    if (LAMBDA_UNCOUNTED.has(call.operation)) return 'lambda:Invoke'
    return LAMBDA_OWN_CLASS.has(call.operation) ? `lambda:${call.operation}` : 'lambda:control'
  }
  if (call.service === 'logs') return `logs:${call.operation}`
  if (call.service === 'sts' || call.service === 'iam') return `${call.service}:${call.operation}`
  return null
}

/** Checks and completes `envelope: true | {…}`; throws naming the bad field. */
export function envelopeSettings(option) {
  if (option === undefined || option === false) return null
  const given = option === true ? {} : option
  if (typeof given !== 'object' || given === null) throw new Error('fault proxy: envelope must be true or an object')
  const settings = { ...ENVELOPE_DEFAULTS, ...given, rates: { ...DEFAULT_RATES, ...(given.rates ?? {}) } }
  for (const field of ['settleMs', 'logTimestampLagMs', 'listFunctionsPageSize'])
    if (!(Number.isFinite(settings[field]) && settings[field] >= 0))
      throw new Error(`fault proxy: envelope.${field} must be a number ≥ 0`)
  if (typeof settings.extraThrottleTakesToken !== 'boolean')
    throw new Error('fault proxy: envelope.extraThrottleTakesToken must be true or false')
  if (!(settings.extraThrottle >= 0 && settings.extraThrottle <= 1))
    throw new Error('fault proxy: envelope.extraThrottle must be between 0 and 1')
  for (const [name, rate] of Object.entries(settings.rates))
    if (!(typeof rate === 'number' && rate >= 0))
      throw new Error(`fault proxy: envelope.rates["${name}"] must be a number ≥ 0 (requests per second)`)
  if (settings.burst !== undefined)
    for (const [name, size] of Object.entries(settings.burst))
      if (!(typeof size === 'number' && size >= 1))
        throw new Error(`fault proxy: envelope.burst["${name}"] must be a number ≥ 1 (requests)`)
  const writes = settings.invokeWritesLogs
  settings.writesLogsFor =
    typeof writes === 'function'
      ? writes
      : writes === true
        ? () => true
        : writes instanceof Set || Array.isArray(writes)
          ? (
              (names) => (name) =>
                names.has(name)
            )(new Set(writes))
          : () => false
  settings.clock = typeof given.clock === 'function' ? given.clock : Date.now
  return settings
}

/**
 * The rate governor AWS runs: one token bucket per (account, Region, API class). Capacity is one second of
 * the rate unless `burst` says otherwise: AWS states these quotas per second and publishes no burst size, and
 * a bucket of one second's tokens never lets a caller exceed the rate over time while it still admits a
 * caller that keeps to the rate but sends its second's calls together (as a pool of concurrent workers does).
 */
export function createRateLimiter(settings) {
  const buckets = new Map()
  return {
    /** Takes a token; answers null when admitted, else the seconds until one is there (for Retry-After). */
    take(account, region, apiClass) {
      const rate = settings.rates[apiClass]
      if (!rate || rate === Infinity) return null
      const capacity = settings.burst?.[apiClass] ?? rate
      const now = settings.clock()
      const key = `${account}/${region}/${apiClass}`
      let bucket = buckets.get(key)
      if (!bucket) buckets.set(key, (bucket = { tokens: capacity, at: now }))
      bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * rate)
      bucket.at = now
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return null
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / rate))
    },
    reset: () => buckets.clear()
  }
}

/**
 * Whether the seeded extra throttling refuses this call: a draw from the seed, the call's class and function,
 * and which call of that operation on that function it is – the same seed throttles the same calls whatever
 * order concurrent callers' calls arrive in.
 */
export function createExtraThrottle(settings, seed) {
  const occurrences = new Map()
  return {
    refuses(call, apiClass) {
      if (!settings.extraThrottle || !apiClass || !/^(lambda|logs):/.test(apiClass) || apiClass === 'lambda:Invoke')
        return false
      const key = `${apiClass}/${call.operation}/${call.region ?? ''}/${call.functionName ?? ''}`
      const occurrence = (occurrences.get(key) ?? 0) + 1
      occurrences.set(key, occurrence)
      const digest = createHash('sha256').update(`${seed}|envelope|${key}|${occurrence}`).digest()
      return digest.readUInt32BE(0) / 2 ** 32 < settings.extraThrottle
    },
    reset: () => occurrences.clear()
  }
}

// ---------------------------------------------------------------------------------------------
// DescribeLogStreams as CloudWatch answers it, from moto's full listing

const MAX_STREAM_PAGE = 50

/**
 * What a stream shows under the lag: event times are visible `lagMs` after the event; until then the stream
 * shows the values it showed before (`remembered`) or none. lastIngestionTime and firstEventTimestamp go with
 * them (the LogStream page says the same of lastIngestionTime; firstEventTimestamp is hidden too, so that only
 * creationTime tells a new stream). Returns the stream to answer and what to remember.
 */
export function laggedStream(stream, remembered, now, lagMs) {
  const { firstEventTimestamp, lastEventTimestamp, lastIngestionTime, ...always } = stream
  const actual =
    lastEventTimestamp === undefined ? undefined : { firstEventTimestamp, lastEventTimestamp, lastIngestionTime }
  const visible = actual && now - actual.lastEventTimestamp >= lagMs ? actual : remembered
  const shown = { ...always }
  if (visible) {
    shown.firstEventTimestamp = visible.firstEventTimestamp
    shown.lastEventTimestamp = visible.lastEventTimestamp
    shown.lastIngestionTime = Math.min(visible.lastIngestionTime ?? visible.lastEventTimestamp, now)
  } else delete shown.uploadSequenceToken
  return { shown, remember: visible }
}

/** A request's parameters checked as CloudWatch checks them; `error` is [code, message] when refused. */
export function describeStreamsRequest(body) {
  const request = {
    prefix: body.logStreamNamePrefix ?? '',
    orderBy: body.orderBy ?? 'LogStreamName',
    descending: body.descending === true,
    limit: body.limit ?? MAX_STREAM_PAGE,
    nextToken: body.nextToken
  }
  if (!['LogStreamName', 'LastEventTime'].includes(request.orderBy))
    return {
      error: [
        'InvalidParameterException',
        `1 validation error detected: Value '${request.orderBy}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]`
      ]
    }
  if (!(Number.isInteger(request.limit) && request.limit >= 1 && request.limit <= MAX_STREAM_PAGE))
    return {
      error: [
        'InvalidParameterException',
        `1 validation error detected: Value '${request.limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50`
      ]
    }
  if (request.orderBy === 'LastEventTime' && request.prefix)
    return { error: ['InvalidParameterException', 'Cannot order by LastEventTime with a logStreamNamePrefix.'] }
  return { request }
}

/** One page of shown streams: prefix, order (on the shown, lagged values), limit and an opaque nextToken. */
export function pageOfStreams(shownStreams, request, queryKey) {
  const selected = shownStreams.filter((s) => s.logStreamName.startsWith(request.prefix))
  const byName = (a, b) => (a.logStreamName < b.logStreamName ? -1 : a.logStreamName > b.logStreamName ? 1 : 0)
  selected.sort(
    request.orderBy === 'LastEventTime'
      ? (a, b) => (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0) || byName(a, b)
      : byName
  )
  if (request.descending) selected.reverse()
  let start = 0
  if (request.nextToken !== undefined) {
    const token = parseToken(request.nextToken, queryKey)
    if (token === null) return { error: ['InvalidParameterException', 'The specified nextToken is invalid.'] }
    start = token
  }
  const page = selected.slice(start, start + request.limit)
  const end = start + page.length
  return { logStreams: page, nextToken: end < selected.length ? makeToken(end, queryKey) : undefined }
}

/** The part of a request a nextToken belongs to: a token from another query is refused. */
export function streamQueryKey(group, request) {
  return `${group}|${request.prefix}|${request.orderBy}|${request.descending}`
}

function makeToken(offset, queryKey) {
  const mac = createHash('sha256').update(`${queryKey}#${offset}`).digest('hex').slice(0, 16)
  return Buffer.from(`env1/${offset}/${mac}`).toString('base64')
}

function parseToken(token, queryKey) {
  const match = /^env1\/(\d+)\/([0-9a-f]{16})$/.exec(Buffer.from(String(token), 'base64').toString('utf8'))
  if (!match) return null
  const offset = Number(match[1])
  return makeToken(offset, queryKey) === token ? offset : null
}

// ---------------------------------------------------------------------------------------------
// ListFunctions as Lambda pages it

/** Lambda's page of ListFunctions from moto's one-page answer: at most `pageSize`, Marker/NextMarker, no state. */
export function pageOfFunctions(all, query, pageSize) {
  const wanted = query.get('MaxItems')
  const size = Math.min(wanted === null ? pageSize : Number(wanted), pageSize)
  const marker = query.get('Marker')
  let start = 0
  if (marker !== null) {
    const match = /^envfn\/(\d+)$/.exec(Buffer.from(marker, 'base64').toString('utf8'))
    if (!match) return { error: ['InvalidParameterValueException', 'Invalid Marker value.'] }
    start = Number(match[1])
  }
  // ListFunctions does not return a function's State or LastUpdateStatus (API_ListFunctions, FunctionConfiguration).
  const page = all.slice(start, start + size).map((config) => {
    const {
      State: _state,
      StateReason: _stateReason,
      StateReasonCode: _stateCode,
      LastUpdateStatus: _status,
      LastUpdateStatusReason: _reason,
      LastUpdateStatusReasonCode: _code,
      ...rest
    } = config
    return rest
  })
  const end = start + page.length
  return {
    Functions: page,
    ...(end < all.length ? { NextMarker: Buffer.from(`envfn/${end}`).toString('base64') } : {})
  }
}

// ---------------------------------------------------------------------------------------------
// Log streams the way Lambda makes them

/** `YYYY/MM/DD/[$LATEST]<32 hex>` with the UTC date, as Lambda names an execution environment's stream. */
export function lambdaStreamName(time, hex = randomBytes(16).toString('hex')) {
  const date = new Date(time)
  const pad = (n) => String(n).padStart(2, '0')
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/[$LATEST]${hex}`
}

/** The lines an invocation writes to its stream (START, END, REPORT), stamped `time`. */
export function invocationLogEvents(time, requestId) {
  return [
    { timestamp: time, message: `START RequestId: ${requestId} Version: $LATEST` },
    { timestamp: time, message: `END RequestId: ${requestId}` },
    {
      timestamp: time,
      message: `REPORT RequestId: ${requestId}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB`
    }
  ]
}

// ---------------------------------------------------------------------------------------------
// The calls the proxy makes to the emulator on its own behalf (not recorded, not limited)

/** Headers for a CloudWatch Logs call to moto: its region comes from the SigV4 scope, which moto does not verify. */
function logsHeaders(operation, region, account) {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '')
  return {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': `Logs_20140328.${operation}`,
    authorization: `AWS4-HMAC-SHA256 Credential=testing/${day}/${region}/logs/aws4_request, SignedHeaders=host, Signature=0`,
    ...(account ? { 'x-moto-account-id': account } : {})
  }
}

/**
 * The envelope's own traffic with the emulator: `send(method, path, headers, body)` is the proxy's request
 * to moto. Lists a log group whole, and writes the streams an invocation leaves.
 */
export function createEnvelopeIo(settings, send) {
  const environments = new Map()
  const logsCall = async (operation, region, account, payload) => {
    const answer = await send(
      'POST',
      '/',
      logsHeaders(operation, region, account),
      Buffer.from(JSON.stringify(payload))
    )
    let value
    try {
      value = JSON.parse(answer.body.toString('utf8') || '{}')
    } catch {
      value = {}
    }
    return { status: answer.status, value, answer }
  }

  /** Every stream of a group, through moto's own paging (by name); `failure` is moto's answer when it refused. */
  const listWholeGroup = async (group, region, account) => {
    const streams = []
    let nextToken
    do {
      const { status, value, answer } = await logsCall('DescribeLogStreams', region, account, {
        ...group,
        limit: 50,
        ...(nextToken ? { nextToken } : {})
      })
      if (status !== 200) return { failure: answer }
      streams.push(...(value.logStreams ?? []))
      nextToken = value.nextToken ?? undefined
    } while (nextToken)
    return { streams }
  }

  /** Writes one invocation's lines to the stream of the function's current execution environment. */
  const writeInvocationLogs = async (call, generation) => {
    const region = call.region ?? 'us-east-1'
    const key = `${call.account ?? ''}/${call.functionKey}#${generation}`
    let environment = environments.get(key)
    if (!environment) {
      environment = (async () => {
        const config = await send(
          'GET',
          `/2015-03-31/functions/${encodeURIComponent(call.functionName)}/configuration`,
          {
            authorization: `AWS4-HMAC-SHA256 Credential=testing/20240101/${region}/lambda/aws4_request, SignedHeaders=host, Signature=0`,
            ...(call.account ? { 'x-moto-account-id': call.account } : {})
          },
          Buffer.alloc(0)
        )
        let logGroupName = `/aws/lambda/${call.functionName}`
        try {
          logGroupName = JSON.parse(config.body.toString('utf8')).LoggingConfig?.LogGroup ?? logGroupName
        } catch {
          // moto's answer was not JSON: the default group
        }
        const logStreamName = lambdaStreamName(settings.clock())
        await logsCall('CreateLogGroup', region, call.account, { logGroupName })
        await logsCall('CreateLogStream', region, call.account, { logGroupName, logStreamName })
        return { logGroupName, logStreamName }
      })()
      environments.set(key, environment)
    }
    const { logGroupName, logStreamName } = await environment
    const requestId = randomBytes(16)
      .toString('hex')
      .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')
    await logsCall('PutLogEvents', region, call.account, {
      logGroupName,
      logStreamName,
      logEvents: invocationLogEvents(settings.clock(), requestId)
    })
  }

  return { listWholeGroup, writeInvocationLogs, reset: () => environments.clear() }
}
