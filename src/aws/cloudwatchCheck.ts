/** Whether a function's logs still reach CloudWatch Logs after its test invocation. */
import { type CloudWatchLogsClient, DescribeLogStreamsCommand, type LogStream } from '@aws-sdk/client-cloudwatch-logs'
import { sleep as realSleep } from '../core/retry.js'
import { errorName, messageOf } from '../core/errors.js'
import type { CloudWatchStatus } from '../core/model.js'

export interface CloudWatchVerdict {
  readonly status: CloudWatchStatus
  /** What was seen: the stream that proves "on", or why the status is unknown. */
  readonly detail: string
}

export interface CloudWatchCheckOptions {
  readonly logGroup: string
  /** When the invocation began, by the runner's clock (ms since the epoch). */
  readonly since: number
  /** How long to keep looking: Lambda creates the stream, and ingests events, with a delay. */
  readonly pollSeconds: number
  readonly intervalMs?: number
  /**
   * The group's newest streams as they were just before the invocation (from snapshotLogStreams):
   * a stream that has not changed since is not evidence, however recent its timestamps.
   */
  readonly baseline?: LogStreamSnapshot

  readonly sleep?: (ms: number) => Promise<void>
  readonly now?: () => number
}

/** Fingerprints of a log group's newest streams, by stream name. */
export type LogStreamSnapshot = ReadonlyMap<string, string>

const fingerprint = (stream: LogStream): string =>
  `${stream.creationTime ?? ''}/${stream.lastEventTimestamp ?? ''}/${stream.lastIngestionTime ?? ''}`

async function newestStreams(client: CloudWatchLogsClient, logGroup: string): Promise<LogStream[]> {
  const { logStreams = [] } = await client.send(
    new DescribeLogStreamsCommand({ logGroupName: logGroup, orderBy: 'LastEventTime', descending: true, limit: 5 })
  )
  return logStreams
}

/**
 * The group's newest streams before the test invocation, so that streams written just before it
 * (by the action's own clock, within the skew tolerance) are not taken for streams written by it.
 */
export async function snapshotLogStreams(
  client: CloudWatchLogsClient,
  logGroup: string
): Promise<LogStreamSnapshot | undefined> {
  try {
    const streams = await newestStreams(client, logGroup)
    return new Map(streams.map((stream) => [stream.logStreamName ?? '', fingerprint(stream)]))
  } catch (error) {
    // No group yet is an empty snapshot; anything else leaves the check to the timestamps alone.
    return errorName(error) === 'ResourceNotFoundException' ? new Map() : undefined
  }
}

/** Tolerance for the difference between the runner's clock and AWS's. */
const CLOCK_SKEW_MS = 2000

/**
 * Polls the log group's newest streams: a stream created, or written to, at or after the invocation
 * began means CloudWatch still receives the function's logs. No such stream, or no group, means off.
 */
export async function checkCloudWatch(
  client: CloudWatchLogsClient,
  options: CloudWatchCheckOptions
): Promise<CloudWatchVerdict> {
  const sleep = options.sleep ?? realSleep
  const now = options.now ?? Date.now
  const intervalMs = options.intervalMs ?? 2500
  const threshold = options.since - CLOCK_SKEW_MS
  const deadline = now() + options.pollSeconds * 1000
  for (;;) {
    try {
      const logStreams = await newestStreams(client, options.logGroup)
      const fresh = logStreams.find(
        (stream) =>
          options.baseline?.get(stream.logStreamName ?? '') !== fingerprint(stream) &&
          ((stream.creationTime ?? 0) >= threshold ||
            (stream.lastEventTimestamp ?? 0) >= threshold ||
            (stream.lastIngestionTime ?? 0) >= threshold)
      )
      if (fresh)
        return {
          status: 'on',
          detail: `log stream ${fresh.logStreamName ?? '?'} in ${options.logGroup} received logs after the test invocation`
        }
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException')
        return { status: 'off', detail: `log group ${options.logGroup} does not exist` }
      return {
        status: 'unknown',
        detail: `could not read log group ${options.logGroup}: ${errorName(error)}: ${messageOf(error)}`
      }
    }
    if (now() + intervalMs > deadline)
      return { status: 'off', detail: `no new log stream in ${options.logGroup} after the test invocation` }
    await sleep(intervalMs)
  }
}
