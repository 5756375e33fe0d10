import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  AccessDeniedException,
  CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  type DescribeLogStreamsCommandInput,
  type LogStream,
  ResourceNotFoundException,
  ServiceUnavailableException
} from '@aws-sdk/client-cloudwatch-logs'
import { mockClient } from 'aws-sdk-client-mock'
import { checkCloudWatch, THROTTLE_DEADLINE_MS } from '../../../src/aws/cloudwatchCheck.js'

const logs = mockClient(CloudWatchLogsClient)
const client = new CloudWatchLogsClient({ region: 'us-east-1' })
const LOG_GROUP = '/aws/lambda/orders-api'

/** The update was sent here, by the runner's clock: 2025-06-15 at noon UTC. */
const WRITTEN_AT = Date.UTC(2025, 5, 15, 12, 0, 0)
const DAY = '2025/06/15'
const MINUTE = 60_000
const DAY_MS = 24 * 60 * MINUTE
/** The test invocation returned 3 s after the update; the look is 15 s later. */
const LOOK_AT = WRITTEN_AT + 18_000

/** A clock that only moves when the code under test sleeps. */
function fakeClock(start = WRITTEN_AT + 3000) {
  let time = start
  const sleeps: number[] = []
  return {
    now: () => time,
    sleep: async (ms: number): Promise<void> => {
      if (sleeps.length > 1000) throw new Error('slept too often: the wait never ends')
      sleeps.push(ms)
      time += ms
    },
    sleeps
  }
}

const stream = (name: string, fields: Partial<LogStream>): LogStream => ({ logStreamName: name, ...fields })
/** Streams of earlier environments, well before the update. */
const OLD_STREAMS: LogStream[] = [
  stream(`${DAY}/[$LATEST]old1`, {
    creationTime: WRITTEN_AT - 10 * MINUTE,
    lastEventTimestamp: WRITTEN_AT - 5 * MINUTE,
    lastIngestionTime: WRITTEN_AT - 5 * MINUTE
  }),
  stream(`${DAY}/[$LATEST]old2`, {
    creationTime: WRITTEN_AT - 30 * MINUTE,
    lastEventTimestamp: WRITTEN_AT - 20 * MINUTE,
    lastIngestionTime: WRITTEN_AT - 20 * MINUTE
  })
]
/** A new environment's stream: created after the update, its event times not updated yet. */
const FRESH = stream(`${DAY}/[$LATEST]fresh`, { creationTime: WRITTEN_AT + 4200 })

const calls = (): DescribeLogStreamsCommandInput[] =>
  logs.commandCalls(DescribeLogStreamsCommand).map((call) => call.args[0].input)
const byName = (input: DescribeLogStreamsCommandInput): boolean => input.orderBy !== 'LastEventTime'

/** Answers the listing by name and the listing by last event time each with their own page. */
function answer(pages: { named: LogStream[]; more?: boolean; recent?: LogStream[] }): void {
  logs
    .on(DescribeLogStreamsCommand)
    .callsFake((input: DescribeLogStreamsCommandInput) =>
      byName(input)
        ? { logStreams: pages.named, ...(pages.more ? { nextToken: 'page-2' } : {}) }
        : { logStreams: pages.recent ?? [], nextToken: 'more' }
    )
}

const check = (clock = fakeClock(), overrides: { writtenAt?: number; lookAt?: number } = {}) =>
  checkCloudWatch(client, { logGroup: LOG_GROUP, writtenAt: WRITTEN_AT, lookAt: LOOK_AT, ...clock, ...overrides })

/** Fifty streams of the day, none of them new: a page with more after it. */
const BUSY_DAY = Array.from({ length: 50 }, (_, n) =>
  stream(`${DAY}/[$LATEST]${String(n).padStart(2, '0')}`, { creationTime: WRITTEN_AT - (n + 1) * MINUTE })
)

beforeEach(() => {
  logs.reset()
})

describe('checkCloudWatch: where it looks and how often', () => {
  it('waits until the look, then lists the day’s streams by name, newest first, in one call', async () => {
    answer({ named: [FRESH, ...OLD_STREAMS] })
    const clock = fakeClock()
    const verdict = await check(clock)
    expect(verdict.status).toBe('on')
    expect(clock.sleeps).toEqual([LOOK_AT - (WRITTEN_AT + 3000)])
    expect(calls()).toEqual([
      {
        logGroupName: LOG_GROUP,
        logStreamNamePrefix: `${DAY}/`,
        orderBy: 'LogStreamName',
        descending: true,
        limit: 50
      }
    ])
  })

  it('looks at once, without sleeping, when the look is already due', async () => {
    answer({ named: OLD_STREAMS })
    const clock = fakeClock(LOOK_AT + 500)
    await check(clock)
    expect(clock.sleeps).toEqual([])
    expect(calls()).toHaveLength(1)
  })

  it('is off after one call when every stream of the day was seen and none is new', async () => {
    answer({ named: OLD_STREAMS })
    const verdict = await check()
    expect(verdict).toEqual({
      status: 'off',
      detail: `no stream in ${LOG_GROUP} was created or written since the update (2 streams of ${DAY} checked)`
    })
    expect(calls()).toHaveLength(1)
  })

  it('is off after one call when the group has no stream that day', async () => {
    answer({ named: [] })
    const verdict = await check()
    expect(verdict.status).toBe('off')
    expect(verdict.detail).toContain(`(0 streams of ${DAY} checked)`)
    expect(calls()).toHaveLength(1)
  })

  it('makes a second call, by last event time, only when the day has more than one page of streams', async () => {
    answer({ named: BUSY_DAY, more: true, recent: OLD_STREAMS })
    const verdict = await check()
    expect(calls()).toHaveLength(2)
    expect(calls()[1]).toEqual({ logGroupName: LOG_GROUP, orderBy: 'LastEventTime', descending: true, limit: 50 })
    // Never more, although the second listing has more pages too.
    expect(verdict.status).toBe('off')
    expect(verdict.detail).toMatch(/over 50 streams of 2025\/06\/15: the verdict rests on 50 of them/)
    expect(verdict.detail).toMatch(
      /with a delay \(typically under an hour\); look at the group's newest streams again later/
    )
  })

  it('finds a busy function’s recently written stream with the second call', async () => {
    const written = stream(`${DAY}/[$LATEST]zz-busy`, {
      creationTime: WRITTEN_AT - 90 * MINUTE,
      lastEventTimestamp: WRITTEN_AT + 6000
    })
    answer({ named: BUSY_DAY, more: true, recent: [written, ...OLD_STREAMS] })
    const verdict = await check()
    expect(verdict).toEqual({
      status: 'on',
      detail: `stream ${DAY}/[$LATEST]zz-busy in ${LOG_GROUP} was written 6 s after the update`
    })
    expect(calls()).toHaveLength(2)
  })

  it('does not make the second call when the first page already holds the evidence', async () => {
    answer({ named: [FRESH, ...BUSY_DAY.slice(1)], more: true })
    expect((await check()).status).toBe('on')
    expect(calls()).toHaveLength(1)
  })
})

describe('checkCloudWatch: what counts as evidence', () => {
  it('finds a new stream that the ordering by last event time hides, by its name and creation time', async () => {
    // A busy group's last event times lag: ordered by them, old streams come first and the new one not at all.
    const recentlyWritten = Array.from({ length: 50 }, (_, n) =>
      stream(`2025/06/14/[$LATEST]busy${n}`, { creationTime: WRITTEN_AT - DAY_MS, lastEventTimestamp: WRITTEN_AT - n })
    )
    answer({ named: [FRESH, ...OLD_STREAMS], recent: recentlyWritten })
    const verdict = await check()
    expect(verdict).toEqual({
      status: 'on',
      detail: `stream ${DAY}/[$LATEST]fresh in ${LOG_GROUP} was created 4 s after the update`
    })
    expect(calls().some((input) => input.orderBy === 'LastEventTime')).toBe(false)
  })

  it('does not count a stream created before the update, however recently', async () => {
    const before = stream(`${DAY}/[$LATEST]before`, { creationTime: WRITTEN_AT - 2500 })
    answer({ named: [before, ...OLD_STREAMS] })
    expect((await check()).status).toBe('off')
  })

  it('allows two seconds of clock skew, and says "0 s after" rather than a negative time', async () => {
    const skewed = stream(`${DAY}/[$LATEST]skewed`, { creationTime: WRITTEN_AT - 1500 })
    answer({ named: [skewed] })
    expect(await check()).toEqual({
      status: 'on',
      detail: `stream ${DAY}/[$LATEST]skewed in ${LOG_GROUP} was created 0 s after the update`
    })
  })

  it('counts an old stream that ingested logs after the update', async () => {
    const ingested = stream(`${DAY}/[$LATEST]ingested`, {
      creationTime: WRITTEN_AT - 10 * MINUTE,
      lastEventTimestamp: WRITTEN_AT - 9 * MINUTE,
      lastIngestionTime: WRITTEN_AT + 1200
    })
    answer({ named: [...OLD_STREAMS, ingested] })
    const verdict = await check()
    expect(verdict.status).toBe('on')
    expect(verdict.detail).toContain('ingested in /aws/lambda/orders-api was written 1 s after the update')
  })
})

describe('checkCloudWatch: around midnight (UTC)', () => {
  it.each([
    ['day', Date.UTC(2025, 5, 15, 23, 59, 58), '2025/06/1', '2025/06/16'],
    ['month', Date.UTC(2025, 5, 30, 23, 59, 58), '2025/0', '2025/07/01'],
    ['year', Date.UTC(2025, 11, 31, 23, 59, 58), '202', '2026/01/01']
  ])(
    'lists the streams of both days when the %s changes between the update and the look',
    async (_, writtenAt, prefix, nextDay) => {
      const newDay = stream(`${nextDay}/[$LATEST]new`, { creationTime: writtenAt + 4000 })
      answer({ named: [newDay] })
      const clock = fakeClock(writtenAt + 3000)
      const verdict = await check(clock, { writtenAt, lookAt: writtenAt + 18_000 })
      expect(calls()[0]?.logStreamNamePrefix).toBe(prefix)
      expect(verdict.status).toBe('on')
      expect(verdict.detail).toContain(`${nextDay}/[$LATEST]new`)
    }
  )

  it('takes the next day in when the look falls within the clock skew of midnight', async () => {
    const writtenAt = Date.UTC(2025, 5, 15, 23, 59, 55)
    answer({ named: [] })
    const verdict = await check(fakeClock(writtenAt + 3000), { writtenAt, lookAt: writtenAt + 3000 })
    expect(calls()[0]?.logStreamNamePrefix).toBe('2025/06/1')
    expect(verdict.detail).toContain('streams of 2025/06/15 and 2025/06/16 checked')
  })

  it('keeps to the one day when update and look are both well inside it', async () => {
    answer({ named: [] })
    await check(fakeClock(Date.UTC(2025, 5, 15, 0, 0, 8)), {
      writtenAt: Date.UTC(2025, 5, 15, 0, 0, 5),
      lookAt: Date.UTC(2025, 5, 15, 0, 0, 20)
    })
    expect(calls()[0]?.logStreamNamePrefix).toBe('2025/06/15/')
  })
})

const throttled = (name = 'ThrottlingException') =>
  Object.assign(new Error('Rate exceeded'), { name, $metadata: { httpStatusCode: 400 } })

describe('checkCloudWatch: throttling and errors', () => {
  it.each(['ThrottlingException', 'TooManyRequestsException'])(
    'waits out a %s and asks again: the answer is a verdict, not unknown',
    async (name) => {
      logs
        .on(DescribeLogStreamsCommand)
        .rejectsOnce(throttled(name))
        .rejectsOnce(throttled(name))
        .resolves({ logStreams: [FRESH] })
      const clock = fakeClock(LOOK_AT)
      const verdict = await check(clock)
      expect(verdict.status).toBe('on')
      expect(clock.sleeps).toEqual([1000, 2000])
      // The same question asked again: the listing by name each time.
      expect(calls().map((input) => input.logStreamNamePrefix)).toEqual([`${DAY}/`, `${DAY}/`, `${DAY}/`])
    }
  )

  it('waits out throttling of the second call too, and still makes no third kind of call', async () => {
    let recentCalls = 0
    logs.on(DescribeLogStreamsCommand).callsFake((input: DescribeLogStreamsCommandInput) => {
      if (byName(input)) return { logStreams: BUSY_DAY, nextToken: 'page-2' }
      if (++recentCalls === 1) throw throttled()
      return { logStreams: OLD_STREAMS }
    })
    const verdict = await check(fakeClock(LOOK_AT))
    expect(verdict.status).toBe('off')
    expect(calls().map(byName)).toEqual([true, false, false])
  })

  it('gives up only after the throttle deadline, then says unknown and why', async () => {
    logs.on(DescribeLogStreamsCommand).rejects(throttled())
    const clock = fakeClock(LOOK_AT)
    const verdict = await check(clock)
    expect(verdict.status).toBe('unknown')
    expect(verdict.detail).toBe(
      `could not read log group ${LOG_GROUP}: DescribeLogStreams was still throttled after 5 minutes of asking again (ThrottlingException: Rate exceeded)`
    )
    const waited = clock.sleeps.reduce((sum, ms) => sum + ms, 0)
    expect(waited).toBeLessThanOrEqual(THROTTLE_DEADLINE_MS)
    expect(waited).toBeGreaterThan(THROTTLE_DEADLINE_MS - 16_000)
    expect(Math.max(...clock.sleeps)).toBe(16_000)
  })

  it('is unknown, with the reason, when reading the group is denied, after one call', async () => {
    logs.on(DescribeLogStreamsCommand).rejects(
      new AccessDeniedException({
        message:
          'User: arn:aws:sts::123456789012:assumed-role/deploy is not authorized to perform: logs:DescribeLogStreams',
        $metadata: { httpStatusCode: 400 }
      })
    )
    const clock = fakeClock(LOOK_AT)
    const verdict = await check(clock)
    expect(verdict.status).toBe('unknown')
    expect(verdict.detail).toBe(
      `could not read log group ${LOG_GROUP}: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/deploy is not authorized to perform: logs:DescribeLogStreams`
    )
    expect(calls()).toHaveLength(1)
    expect(clock.sleeps).toEqual([])
  })

  it('is unknown when the second call fails, not off on half a look', async () => {
    logs.on(DescribeLogStreamsCommand).callsFake((input: DescribeLogStreamsCommandInput) => {
      if (byName(input)) return { logStreams: BUSY_DAY, nextToken: 'page-2' }
      throw new ServiceUnavailableException({ message: 'try later', $metadata: { httpStatusCode: 503 } })
    })
    const verdict = await check(fakeClock(LOOK_AT))
    expect(verdict.status).toBe('unknown')
    expect(verdict.detail).toContain('ServiceUnavailableException: try later')
    expect(calls()).toHaveLength(2)
  })

  it('is off when the log group does not exist', async () => {
    logs.on(DescribeLogStreamsCommand).rejects(
      new ResourceNotFoundException({
        message: 'The specified log group does not exist.',
        $metadata: { httpStatusCode: 400 }
      })
    )
    const verdict = await check(fakeClock(LOOK_AT))
    expect(verdict).toEqual({ status: 'off', detail: `log group ${LOG_GROUP} does not exist` })
    expect(calls()).toHaveLength(1)
  })
})
