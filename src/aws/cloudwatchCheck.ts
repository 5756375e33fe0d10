/**
 * Whether a function's logs still reach CloudWatch Logs after its update: one look, at most two
 * DescribeLogStreams calls, because that call is limited to 5 a second per account and region
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html,
 * https://docs.aws.amazon.com/general/latest/gr/cwl_region.html) and a rollout checks many functions.
 *
 * The evidence is a stream created after the update: Lambda gives each execution environment its own
 * stream, named `YYYY/MM/DD/[<version>]<environment id>` after the environment's UTC start date
 * (https://docs.aws.amazon.com/lambda/latest/operatorguide/log-structure.html), and an update makes
 * every later invocation start a new environment with the new configuration
 * (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html), which creates
 * its stream only if the function may still write to CloudWatch. A stream's `creationTime` is set when
 * it is created; its `lastEventTimestamp` and `lastIngestionTime` are updated with a delay, typically
 * under an hour (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_LogStream.html),
 * so ordering by last event time can hide a new stream: the streams are listed by name first.
 */
import {
  type CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  type DescribeLogStreamsCommandInput,
  type DescribeLogStreamsCommandOutput,
  type LogStream
} from '@aws-sdk/client-cloudwatch-logs'
import { sleep as realSleep } from '../core/retry.js'
import { errorName, isThrottling, messageOf } from '../core/errors.js'
import type { CloudWatchStatus } from '../core/model.js'

export interface CloudWatchVerdict {
  readonly status: CloudWatchStatus
  /** What was seen: the stream that proves "on", what was looked through for "off", why it is unknown. */
  readonly detail: string
}

export interface CloudWatchCheckOptions {
  readonly logGroup: string
  /** When the update was sent, by the runner's clock (ms since the epoch): the streams that count are newer. */
  readonly writtenAt: number
  /** When to look (the test invocation plus cloudwatch-check-seconds): the check sleeps until then. */
  readonly lookAt: number
  readonly sleep?: (ms: number) => Promise<void>
  readonly now?: () => number
}

/** Tolerance for the difference between the runner's clock and AWS's. */
const CLOCK_SKEW_MS = 2000
/** The most streams one DescribeLogStreams call returns (its `limit`, 1 to 50; see the API page above). */
const PAGE_SIZE = 50
/** How long a throttled call is waited out and asked again before the verdict is unknown. */
export const THROTTLE_DEADLINE_MS = 5 * 60_000
const THROTTLE_FIRST_WAIT_MS = 1000
const THROTTLE_LONGEST_WAIT_MS = 16_000

/** The UTC date as Lambda writes it at the start of a stream's name: `2026/12/02`. */
const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '/')

function commonPrefix(a: string, b: string): string {
  let length = 0
  while (length < a.length && a[length] === b[length]) length++
  return a.slice(0, length)
}

/** Any of the stream's times at or after the threshold: created, or written to, since the update. */
const isEvidence = (stream: LogStream, threshold: number): boolean =>
  (stream.creationTime ?? 0) >= threshold ||
  (stream.lastEventTimestamp ?? 0) >= threshold ||
  (stream.lastIngestionTime ?? 0) >= threshold

/** What the check does not know yet: the look's window and its clock. */
interface Look {
  readonly client: CloudWatchLogsClient
  readonly options: CloudWatchCheckOptions
  readonly threshold: number
  /** The UTC days the new streams can be named after: the update's and the look's (one or two). */
  readonly days: readonly string[]
  /** The start the names of those days' streams share: `2026/12/02/`, or `2026/12/0` around midnight. */
  readonly prefix: string
  readonly sleep: (ms: number) => Promise<void>
  readonly now: () => number
  readonly throttleDeadline: number
}

/**
 * Looks once, `lookAt`, for a stream of the group created or written since the update: such a stream
 * means CloudWatch still receives the function's logs (on); none, or no group, means off. Throttling is
 * waited out; only an error that is no throttle (after the SDK's own retries) makes the verdict unknown.
 */
export async function checkCloudWatch(
  client: CloudWatchLogsClient,
  options: CloudWatchCheckOptions
): Promise<CloudWatchVerdict> {
  const sleep = options.sleep ?? realSleep
  const now = options.now ?? Date.now
  const wait = options.lookAt - now()
  if (wait > 0) await sleep(wait)
  const threshold = options.writtenAt - CLOCK_SKEW_MS
  const [first, last] = [utcDay(threshold), utcDay(now() + CLOCK_SKEW_MS)]
  const look: Look = {
    client,
    options,
    threshold,
    days: first === last ? [first] : [first, last],
    prefix: commonPrefix(`${first}/`, `${last}/`),
    sleep,
    now,
    throttleDeadline: now() + THROTTLE_DEADLINE_MS
  }
  try {
    return await lookForNewStreams(look)
  } catch (error) {
    return verdictOfError(error, options.logGroup)
  }
}

async function lookForNewStreams(look: Look): Promise<CloudWatchVerdict> {
  const { logGroup } = look.options
  // Descending by name: the newest day first (around midnight the prefix spans both days).
  const byName = await describe(look, {
    logGroupName: logGroup,
    logStreamNamePrefix: look.prefix,
    orderBy: 'LogStreamName',
    descending: true,
    limit: PAGE_SIZE
  })
  const named = byName.logStreams ?? []
  const found = named.find((stream) => isEvidence(stream, look.threshold))
  if (found) return onVerdict(look, found)
  const days = look.days.join(' and ')
  if (!byName.nextToken)
    return {
      status: 'off',
      detail: `no stream in ${logGroup} was created or written since the update (${named.length} stream${named.length === 1 ? '' : 's'} of ${days} checked)`
    }
  // More than a page that day: a busy function. Its most recently written streams are the other half of the look.
  const byEvent = await describe(look, {
    logGroupName: logGroup,
    orderBy: 'LastEventTime',
    descending: true,
    limit: PAGE_SIZE
  })
  const written = (byEvent.logStreams ?? []).find((stream) => isEvidence(stream, look.threshold))
  if (written) return onVerdict(look, written)
  return {
    status: 'off',
    detail: `no stream in ${logGroup} was created or written since the update, but the group had over ${PAGE_SIZE} streams of ${days}: the verdict rests on ${PAGE_SIZE} of them (by name) and the ${PAGE_SIZE} most recently written, whose times CloudWatch updates with a delay (typically under an hour); look at the group's newest streams again later to be sure`
  }
}

function onVerdict(look: Look, stream: LogStream): CloudWatchVerdict {
  const { writtenAt, logGroup } = look.options
  const name = stream.logStreamName ?? '?'
  const created = stream.creationTime ?? 0
  const after = (time: number): string => `${Math.max(0, Math.round((time - writtenAt) / 1000))} s after the update`
  const what =
    created >= look.threshold
      ? `created ${after(created)}`
      : `written ${after(Math.max(stream.lastEventTimestamp ?? 0, stream.lastIngestionTime ?? 0))}`
  return { status: 'on', detail: `stream ${name} in ${logGroup} was ${what}` }
}

/** One DescribeLogStreams call; a throttled one is asked again, with growing waits, until the deadline. */
async function describe(look: Look, input: DescribeLogStreamsCommandInput): Promise<DescribeLogStreamsCommandOutput> {
  for (let wait = THROTTLE_FIRST_WAIT_MS; ; wait = Math.min(wait * 2, THROTTLE_LONGEST_WAIT_MS)) {
    try {
      return await look.client.send(new DescribeLogStreamsCommand(input))
    } catch (error) {
      if (!isThrottling(error)) throw error
      if (look.now() + wait > look.throttleDeadline) throw new StillThrottled(error)
      await look.sleep(wait)
    }
  }
}

/** Throttling that lasted past THROTTLE_DEADLINE_MS: the one throttle that becomes a verdict. */
class StillThrottled extends Error {
  constructor(readonly last: unknown) {
    super(`${errorName(last)}: ${messageOf(last)}`)
  }
}

function verdictOfError(error: unknown, logGroup: string): CloudWatchVerdict {
  if (error instanceof StillThrottled)
    return {
      status: 'unknown',
      detail: `could not read log group ${logGroup}: DescribeLogStreams was still throttled after ${THROTTLE_DEADLINE_MS / 60_000} minutes of asking again (${error.message})`
    }
  if (errorName(error) === 'ResourceNotFoundException')
    return { status: 'off', detail: `log group ${logGroup} does not exist` }
  return { status: 'unknown', detail: `could not read log group ${logGroup}: ${errorName(error)}: ${messageOf(error)}` }
}
