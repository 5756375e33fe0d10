import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  AccessDeniedException,
  CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  type LogStream,
  ResourceNotFoundException
} from '@aws-sdk/client-cloudwatch-logs'
import { mockClient } from 'aws-sdk-client-mock'
import { checkCloudWatch } from '../../../src/aws/cloudwatchCheck.js'

const logs = mockClient(CloudWatchLogsClient)
const client = new CloudWatchLogsClient({ region: 'us-east-1' })
const LOG_GROUP = '/aws/lambda/orders-api'

/** The invocation began here, by the runner's clock. */
const SINCE = 1_750_000_000_000
const MINUTE = 60_000

/** A clock that only moves when the code under test sleeps. */
function fakeClock(start = SINCE + 1500) {
  let time = start
  const sleeps: number[] = []
  return {
    now: () => time,
    sleep: async (ms: number): Promise<void> => {
      if (sleeps.length > 1000) throw new Error('slept too often: the poll never ends')
      sleeps.push(ms)
      time += ms
    },
    sleeps
  }
}

const stream = (name: string, fields: Partial<LogStream>): LogStream => ({ logStreamName: name, ...fields })
/** Streams from earlier invocations, well before SINCE. */
const OLD_STREAMS: LogStream[] = [
  stream('2025/06/15/[$LATEST]old1', {
    creationTime: SINCE - 10 * MINUTE,
    lastEventTimestamp: SINCE - 5 * MINUTE,
    lastIngestionTime: SINCE - 5 * MINUTE
  }),
  stream('2025/06/15/[$LATEST]old2', {
    creationTime: SINCE - 30 * MINUTE,
    lastEventTimestamp: SINCE - 20 * MINUTE,
    lastIngestionTime: SINCE - 20 * MINUTE
  })
]
const FRESH = stream('2025/06/15/[$LATEST]fresh', { creationTime: SINCE + 800 })

const describeCalls = () => logs.commandCalls(DescribeLogStreamsCommand)

beforeEach(() => {
  logs.reset()
})

describe('checkCloudWatch', () => {
  it('is on at the first look when a stream was created after the invocation began', async () => {
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [FRESH, ...OLD_STREAMS] })
    const clock = fakeClock()
    const verdict = await checkCloudWatch(client, { logGroup: LOG_GROUP, since: SINCE, pollSeconds: 15, ...clock })
    expect(verdict.status).toBe('on')
    expect(verdict.detail).toContain('2025/06/15/[$LATEST]fresh')
    expect(verdict.detail).toContain(LOG_GROUP)
    expect(describeCalls()).toHaveLength(1)
    expect(clock.sleeps).toEqual([])
  })

  it("asks for the group's streams by last event time, newest first", async () => {
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [FRESH] })
    await checkCloudWatch(client, { logGroup: LOG_GROUP, since: SINCE, pollSeconds: 15, ...fakeClock() })
    expect(describeCalls()[0]?.args[0].input).toMatchObject({
      logGroupName: LOG_GROUP,
      orderBy: 'LastEventTime',
      descending: true
    })
  })

  it.each([
    { pollSeconds: 15, intervalMs: 2500, polls: 7 },
    { pollSeconds: 15, intervalMs: undefined, polls: 7 },
    { pollSeconds: 10, intervalMs: 2500, polls: 5 },
    { pollSeconds: 5, intervalMs: 1000, polls: 6 },
    { pollSeconds: 7, intervalMs: 2000, polls: 4 },
    { pollSeconds: 0, intervalMs: 2500, polls: 1 }
  ])(
    'is off after $polls polls when only old streams show in $pollSeconds s (interval $intervalMs ms)',
    async ({ pollSeconds, intervalMs, polls }) => {
      // One look at the start and one after every full interval that fits in the window.
      expect(polls).toBe(Math.floor((pollSeconds * 1000) / (intervalMs ?? 2500)) + 1)
      logs.on(DescribeLogStreamsCommand).resolves({ logStreams: OLD_STREAMS })
      const clock = fakeClock()
      const start = clock.now()
      const verdict = await checkCloudWatch(client, {
        logGroup: LOG_GROUP,
        since: SINCE,
        pollSeconds,
        ...(intervalMs === undefined ? {} : { intervalMs }),
        ...clock
      })
      expect(verdict.status).toBe('off')
      expect(verdict.detail).toContain(LOG_GROUP)
      expect(describeCalls()).toHaveLength(polls)
      expect(clock.sleeps).toEqual(Array(polls - 1).fill(intervalMs ?? 2500))
      // Never looks past the window.
      expect(clock.now() - start).toBeLessThanOrEqual(pollSeconds * 1000)
    }
  )

  it('is off when the group has no streams at all', async () => {
    logs.on(DescribeLogStreamsCommand).resolves({})
    const verdict = await checkCloudWatch(client, {
      logGroup: LOG_GROUP,
      since: SINCE,
      pollSeconds: 5,
      intervalMs: 2500,
      ...fakeClock()
    })
    expect(verdict.status).toBe('off')
    expect(describeCalls()).toHaveLength(3)
  })

  it('is on when a fresh stream shows up on the third poll, and stops polling there', async () => {
    logs
      .on(DescribeLogStreamsCommand)
      .resolvesOnce({ logStreams: OLD_STREAMS })
      .resolvesOnce({ logStreams: OLD_STREAMS })
      .resolves({ logStreams: [FRESH, ...OLD_STREAMS] })
    const clock = fakeClock()
    const verdict = await checkCloudWatch(client, {
      logGroup: LOG_GROUP,
      since: SINCE,
      pollSeconds: 15,
      intervalMs: 2500,
      ...clock
    })
    expect(verdict.status).toBe('on')
    expect(verdict.detail).toContain('fresh')
    expect(describeCalls()).toHaveLength(3)
    expect(clock.sleeps).toEqual([2500, 2500])
  })

  it('is on when an old stream received an event after the invocation began', async () => {
    const reused = stream('2025/06/15/[$LATEST]warm', {
      creationTime: SINCE - 10 * MINUTE,
      lastEventTimestamp: SINCE + 300
    })
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [reused, ...OLD_STREAMS] })
    const clock = fakeClock()
    const verdict = await checkCloudWatch(client, { logGroup: LOG_GROUP, since: SINCE, pollSeconds: 15, ...clock })
    expect(verdict.status).toBe('on')
    expect(verdict.detail).toContain('warm')
    expect(describeCalls()).toHaveLength(1)
  })

  it('is on when an old stream ingested after the invocation began', async () => {
    const reused = stream('2025/06/15/[$LATEST]ingested', {
      creationTime: SINCE - 10 * MINUTE,
      lastEventTimestamp: SINCE - 9 * MINUTE,
      lastIngestionTime: SINCE + 1200
    })
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [...OLD_STREAMS, reused] })
    const verdict = await checkCloudWatch(client, {
      logGroup: LOG_GROUP,
      since: SINCE,
      pollSeconds: 15,
      ...fakeClock()
    })
    expect(verdict.status).toBe('on')
    expect(verdict.detail).toContain('ingested')
  })

  it('allows for a small clock skew, but not for a stream minutes old', async () => {
    const skewed = stream('skewed', { creationTime: SINCE - 1000 })
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [skewed] })
    expect(
      (await checkCloudWatch(client, { logGroup: LOG_GROUP, since: SINCE, pollSeconds: 0, ...fakeClock() })).status
    ).toBe('on')

    logs.reset()
    const stale = stream('stale', { creationTime: SINCE - MINUTE, lastEventTimestamp: SINCE - MINUTE })
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [stale] })
    expect(
      (await checkCloudWatch(client, { logGroup: LOG_GROUP, since: SINCE, pollSeconds: 0, ...fakeClock() })).status
    ).toBe('off')
  })

  it('is off at once when the log group does not exist', async () => {
    logs.on(DescribeLogStreamsCommand).rejects(
      new ResourceNotFoundException({
        message: 'The specified log group does not exist.',
        $metadata: { httpStatusCode: 400 }
      })
    )
    const clock = fakeClock()
    const verdict = await checkCloudWatch(client, { logGroup: LOG_GROUP, since: SINCE, pollSeconds: 15, ...clock })
    expect(verdict.status).toBe('off')
    expect(verdict.detail).toContain('does not exist')
    expect(verdict.detail).toContain(LOG_GROUP)
    expect(describeCalls()).toHaveLength(1)
    expect(clock.sleeps).toEqual([])
  })

  it('is unknown, with the error in the detail, when reading the group is denied', async () => {
    logs.on(DescribeLogStreamsCommand).rejects(
      new AccessDeniedException({
        message:
          'User: arn:aws:sts::123456789012:assumed-role/deploy is not authorized to perform: logs:DescribeLogStreams',
        $metadata: { httpStatusCode: 400 }
      })
    )
    const clock = fakeClock()
    const verdict = await checkCloudWatch(client, { logGroup: LOG_GROUP, since: SINCE, pollSeconds: 15, ...clock })
    expect(verdict.status).toBe('unknown')
    expect(verdict.detail).toContain('AccessDeniedException')
    expect(verdict.detail).toContain('not authorized to perform: logs:DescribeLogStreams')
    expect(verdict.detail).toContain(LOG_GROUP)
    expect(describeCalls()).toHaveLength(1)
    expect(clock.sleeps).toEqual([])
  })

  it('says unknown, not off, when access is denied after some polls found nothing', async () => {
    logs
      .on(DescribeLogStreamsCommand)
      .resolvesOnce({ logStreams: OLD_STREAMS })
      .rejects(new AccessDeniedException({ message: 'denied', $metadata: {} }))
    const verdict = await checkCloudWatch(client, {
      logGroup: LOG_GROUP,
      since: SINCE,
      pollSeconds: 15,
      ...fakeClock()
    })
    expect(verdict.status).toBe('unknown')
    expect(describeCalls()).toHaveLength(2)
  })
})
