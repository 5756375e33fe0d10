/** The pacing arithmetic on a clock of our own: spacing, no burst, slowdown once per episode, recovery, backoff. */
import { describe, expect, it } from '@jest/globals'
import {
  BACKOFF_CAP_MS,
  classPauseMs,
  Pace,
  RECOVERY,
  RETRY_AFTER_CAP_MS,
  SLOWDOWN,
  SLOWEST,
  throttleWaitMs
} from '../../../src/core/pace.js'

/** The times `count` calls go at, each sent as soon as the pace lets it, starting at `start`. */
function sendTimes(pace: Pace, count: number, start = 0): number[] {
  const times: number[] = []
  let now = start
  for (let i = 0; i < count; i++) {
    now += pace.delayAt(now)
    pace.take(now)
    times.push(now)
  }
  return times
}

describe('Pace', () => {
  it('spaces calls at 1/rate: the first goes at once, then one every interval', () => {
    const times = sendTimes(new Pace(15), 4, 1_000)
    expect(times[0]).toBe(1_000)
    for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeCloseTo(1000 / 15, 6)
  })

  it('never sends more than the rate in any second, so a bucket of one second cannot run dry', () => {
    const times = sendTimes(new Pace(5), 50)
    for (const at of times) expect(times.filter((t) => t >= at && t < at + 1000).length).toBeLessThanOrEqual(5)
  })

  it('earns no burst from idle time: after a quiet minute the second call still waits one interval', () => {
    const pace = new Pace(10)
    pace.take(0)
    pace.take(60_000)
    expect(pace.delayAt(60_000)).toBeCloseTo(100, 6)
  })

  it('a throttle pauses the class and slows it by SLOWDOWN', () => {
    const pace = new Pace(10)
    pace.take(0)
    pace.throttled(50, 0, 500)
    expect(pace.delayAt(50)).toBe(500)
    expect(pace.currentShare).toBeCloseTo(SLOWDOWN, 9)
    expect(pace.intervalMs).toBeCloseTo(100 / SLOWDOWN, 6)
  })

  it('slows once for the calls of one crowded moment, again for a call sent after the slowdown', () => {
    const pace = new Pace(15)
    // Eight calls on their way at 0–7 ms all come back throttled at 20 ms: one signal.
    for (let sentAt = 0; sentAt < 8; sentAt++) pace.throttled(20, sentAt, 0)
    expect(pace.currentShare).toBeCloseTo(SLOWDOWN, 9)
    pace.throttled(200, 150, 0)
    expect(pace.currentShare).toBeCloseTo(SLOWDOWN * SLOWDOWN, 9)
  })

  it('never goes slower than SLOWEST of its rate', () => {
    const pace = new Pace(15)
    for (let i = 0; i < 100; i++) pace.throttled(i * 1000, i * 1000, 0)
    expect(pace.currentShare).toBe(SLOWEST)
  })

  it('recovers fast: two answers undo a slowdown, and the share never passes 1', () => {
    const pace = new Pace(15)
    pace.throttled(0, 0, 0)
    const answersToRecover = Math.ceil((1 - SLOWDOWN) / RECOVERY - 1e-9)
    expect(answersToRecover).toBe(2)
    for (let i = 0; i < answersToRecover; i++) pace.answered()
    expect(pace.currentShare).toBeCloseTo(1, 9)
    pace.answered()
    expect(pace.currentShare).toBe(1)
  })

  it('gives back the turn of a throttled call: AWS took nothing for it', () => {
    const pace = new Pace(10)
    pace.take(0)
    pace.take(100)
    // Next turn at 200; the call sent at 100 comes back throttled at 150 with no pause: its turn is free again.
    pace.throttled(150, 100, 0)
    expect(pace.delayAt(150)).toBe(0)
    pace.take(150)
    // One turn only: the call after it keeps the pace (next turn at 200).
    expect(pace.delayAt(150)).toBeCloseTo(50, 6)
  })

  it('gives back one turn for the calls of one crowded moment, not one each', () => {
    const pace = new Pace(10)
    for (let at = 0; at < 400; at += 100) pace.take(at)
    // Four calls sent at 0–300 come back throttled at 350; the next turn is at 400.
    for (let sentAt = 0; sentAt < 400; sentAt += 100) pace.throttled(350, sentAt, 0)
    pace.take(350)
    expect(pace.delayAt(350)).toBeGreaterThan(0)
  })

  it('with one call in five throttled at random, a busy class keeps within 1.25 × the quota floor', () => {
    // 300 calls to land at 15/s, always more waiting; each answered 50 ms after it goes, one in five
    // (a fixed pseudo-random sequence) throttled whatever the pace: the bench's "20 % throttled" case.
    const rate = 15
    const pace = new Pace(rate)
    let seed = 7
    const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647
    const inFlight: Array<{ sentAt: number; throttled: boolean }> = []
    let now = 0
    let landed = 0
    let throttles = 0
    while (landed < 300) {
      const sendAt = now + pace.delayAt(now)
      const first = inFlight[0]
      if (first && first.sentAt + 50 <= sendAt) {
        inFlight.shift()
        now = first.sentAt + 50
        if (first.throttled) {
          throttles++
          pace.throttled(now, first.sentAt, classPauseMs(pace.intervalMs, random()))
        } else {
          pace.answered()
          landed++
        }
        continue
      }
      now = sendAt
      pace.take(now)
      inFlight.push({ sentAt: now, throttled: random() < 0.2 })
    }
    const floorMs = (300 / rate) * 1000
    expect(throttles).toBeGreaterThan(50)
    // 1.06 × with these constants (1.22 × at 500 ms a call); without the turn given back, 1.40 ×.
    expect(now).toBeLessThanOrEqual(1.15 * floorMs)
  })
})

describe('throttleWaitMs', () => {
  it("honours the answer's Retry-After, capped", () => {
    expect(throttleWaitMs(2, 1, 0.5)).toBe(2_000)
    expect(throttleWaitMs(0, 3, 0.5)).toBe(0)
    expect(throttleWaitMs(3_600, 1, 0.5)).toBe(RETRY_AFTER_CAP_MS)
  })

  it('without Retry-After, full jitter from 200 ms doubling per throttle of the call, capped', () => {
    expect(throttleWaitMs(undefined, 1, 0.5)).toBe(100)
    expect(throttleWaitMs(undefined, 2, 0.5)).toBe(200)
    expect(throttleWaitMs(undefined, 3, 0.999)).toBe(799)
    expect(throttleWaitMs(undefined, 40, 1)).toBe(BACKOFF_CAP_MS)
    expect(throttleWaitMs(Number.NaN, 1, 0)).toBe(0)
  })
})

describe('classPauseMs', () => {
  it('is at most half an interval of the class, jittered', () => {
    expect(classPauseMs(66.7, 0)).toBe(0)
    expect(classPauseMs(66.7, 0.5)).toBe(16)
    expect(classPauseMs(200, 0.999)).toBe(99)
  })
})
