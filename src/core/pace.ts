/**
 * The arithmetic of pacing one class of API calls, on a clock the caller gives (milliseconds): when the
 * next call may go, how a throttle answer slows the class, and how long a throttled call waits.
 *
 * Calls are spaced evenly at 1/rate with no burst: AWS meters each quota with a bucket that holds about one
 * second of calls and refills at the rate, so a client that never sends two calls closer than 1/rate can
 * never empty it by itself, and the bucket's reserve is left to absorb network jitter (calls sent evenly
 * may arrive bunched) and other tools of the account. A burst on our side would spend that reserve. The
 * one exception is the turn of a call AWS refused, which took nothing from its bucket (see `throttled`).
 */

/** How much one throttle slows the class: the pace is multiplied by this (once per episode, see `throttled`). */
export const SLOWDOWN = 0.9
/** How much each answer that is not a throttle gives back, as a share of the full rate: 2 answers undo a slowdown. */
export const RECOVERY = 0.05
/** The slowest the class goes, as a share of its rate, however many throttles came. */
export const SLOWEST = 0.1
/** The longest a Retry-After is honoured; a longer one is an outlier, and the deadline still bounds the call. */
export const RETRY_AFTER_CAP_MS = 20_000
/** A throttled call's own backoff without Retry-After: full jitter from this, doubling per throttle of the call… */
export const BACKOFF_BASE_MS = 200
/** …up to this. */
export const BACKOFF_CAP_MS = 5_000
/**
 * How long one call may keep being throttled before it fails: long enough to outlast another tool's burst
 * on the account, short enough that a quota taken for good by something else ends the run with a reason.
 */
export const THROTTLE_DEADLINE_MS = 5 * 60_000

/** One class's pace: the earliest time the next call may go, and how far throttles have slowed it. */
export class Pace {
  private nextAt = Number.NEGATIVE_INFINITY
  private pausedUntil = Number.NEGATIVE_INFINITY
  /** The share of the rate the class goes at now, from SLOWEST to 1. */
  private share = 1
  private lastSlowdownAt = Number.NEGATIVE_INFINITY
  /** A turn given back by a throttled call, which one call may take before its time (at most one is kept). */
  private givenBack = 0

  constructor(readonly ratePerSecond: number) {}

  /** The spacing of calls now, in milliseconds. */
  get intervalMs(): number {
    return 1000 / (this.ratePerSecond * this.share)
  }

  /** The share of the rate the class goes at now (1 until a throttle). */
  get currentShare(): number {
    return this.share
  }

  /** How long a call that wants to go at `now` must wait; 0 when it may go. */
  delayAt(now: number): number {
    const paused = Math.max(0, this.pausedUntil - now)
    return this.givenBack > 0 ? paused : Math.max(paused, this.nextAt - now)
  }

  /** A call goes at `now`: a turn given back, if it is early; else the next one may go one interval later. Idle time earns nothing. */
  take(now: number): void {
    if (this.nextAt > now && this.givenBack > 0) this.givenBack--
    else this.nextAt = Math.max(this.nextAt, now) + this.intervalMs
  }

  /**
   * A call sent at `sentAt` was throttled, answered at `now`. The class pauses for `pauseMs` and slows by
   * SLOWDOWN – once for all the calls that were already on their way when it last slowed: the calls of one
   * crowded moment come back throttled together, and that is one signal, not eight. That first throttle
   * also gives its turn back: AWS took nothing from its bucket for a refused call, and without it one call
   * in five throttled at random would cost a quarter of the rate before any slowdown. Later throttles of
   * the same moment give nothing back, so that a quota really spent is not answered with more calls.
   */
  throttled(now: number, sentAt: number, pauseMs: number): void {
    if (sentAt >= this.lastSlowdownAt) {
      this.share = Math.max(SLOWEST, this.share * SLOWDOWN)
      this.lastSlowdownAt = now
      this.givenBack = 1
    }
    this.pausedUntil = Math.max(this.pausedUntil, now + pauseMs)
  }

  /** An answer that was not a throttle: the class gets back towards its full rate. */
  answered(): void {
    this.share = Math.min(1, this.share + RECOVERY)
  }
}

/**
 * How long a throttled call waits before it queues for its turn again: the answer's Retry-After (seconds,
 * capped), or full-jitter backoff from BACKOFF_BASE_MS doubling with each throttle of the same call.
 */
export function throttleWaitMs(retryAfterSeconds: number | undefined, throttlesOfCall: number, random: number): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0)
    return Math.min(RETRY_AFTER_CAP_MS, retryAfterSeconds * 1000)
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, throttlesOfCall - 1))
  return Math.floor(random * ceiling)
}

/**
 * How long the whole class pauses after a throttle: up to half an interval, jittered. A throttle that the
 * account's other tools caused (or a random one) must not stop the class for a Retry-After of whole seconds
 * each time – at 15 calls a second with one in five throttled that would be a stop three times a second.
 * The throttled call itself honours Retry-After; when the quota really is spent, every call of the class
 * is throttled, each waits its Retry-After, and the slowdowns add up.
 */
export function classPauseMs(intervalMs: number, random: number): number {
  return Math.floor((random * intervalMs) / 2)
}
