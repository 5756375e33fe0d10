/**
 * The client-side rate governor: every Lambda and CloudWatch Logs request of a run takes its turn in the
 * bucket of its region and API class (core/apiRates.ts), paced at the class's rate (core/pace.ts), and a
 * throttle answer is waited out and sent again here, below the SDK's retry. One governor serves every
 * client of one createAwsClients, and so one set of credentials: its buckets are per account already.
 *
 * Why below the SDK's retry: the standard strategy counts a throttle against the call's attempts (6) and
 * against a retry quota shared by the whole client, which a fleet spends in seconds; then every throttled
 * call fails. Here a throttle costs neither: the request goes round again through the bucket until it is
 * answered or THROTTLE_DEADLINE_MS has passed. Every other error goes up to the SDK's retry as before, and
 * each of its attempts comes through the bucket again.
 */
import { apiClassOf, type ApiRates, type PacedService, type PaceFigures } from '../core/apiRates.js'
import { errorName, isThrottling } from '../core/errors.js'
import { classPauseMs, Pace, THROTTLE_DEADLINE_MS, throttleWaitMs } from '../core/pace.js'
import { sleep as realSleep } from '../core/retry.js'

/** The governor's time and chance: the real ones in a run, fakes in tests. */
export interface GovernorClock {
  now(): number
  sleep(ms: number): Promise<void>
  random(): number
}

const REAL_CLOCK: GovernorClock = { now: () => Date.now(), sleep: realSleep, random: Math.random }

/** The name of the SDK's signing middleware, which the governor goes just before (inside the retry loop). */
export const SIGNING_MIDDLEWARE = 'httpSigningMiddleware'
export const GOVERNOR_MIDDLEWARE = 'rotelRateGovernor'

type Handler<A, R> = (args: A) => Promise<R>
interface CommandContext {
  commandName?: string
}

/** One bucket: its pace, the queue of calls waiting for their turn, and what it did. */
class Bucket {
  private readonly pace: Pace
  /** The last call in line: each waits for the one before it, so turns go first come, first served. */
  private line: Promise<void> = Promise.resolve()
  sent = 0
  throttled = 0
  gaveUp = 0
  waitedMs = 0

  constructor(
    rate: number,
    private readonly clock: GovernorClock
  ) {
    this.pace = new Pace(rate)
  }

  /** Waits for this call's turn; resolves with the time it went. */
  async turn(): Promise<number> {
    const before = this.line
    let done!: () => void
    this.line = new Promise((resolve) => (done = resolve))
    const start = this.clock.now()
    try {
      await before
      // Checked again after each wait: a throttle meanwhile may have paused or slowed the class.
      for (let delay = this.pace.delayAt(this.clock.now()); delay > 0; delay = this.pace.delayAt(this.clock.now()))
        await this.clock.sleep(delay)
      const at = this.clock.now()
      this.pace.take(at)
      this.sent++
      this.waitedMs += at - start
      return at
    } finally {
      done()
    }
  }

  /** A throttle answer at `now` to the call sent at `sentAt`. */
  onThrottle(now: number, sentAt: number): void {
    this.throttled++
    this.pace.throttled(now, sentAt, classPauseMs(this.pace.intervalMs, this.clock.random()))
  }

  onAnswer(): void {
    this.pace.answered()
  }

  /** Waits out a throttled call's own backoff. */
  async backOff(ms: number): Promise<void> {
    this.waitedMs += ms
    await this.clock.sleep(ms)
  }
}

/** The buckets of one run, by region and class, and the SDK middleware that sends requests through them. */
export class RateGovernor {
  private readonly buckets = new Map<string, Bucket>()

  constructor(
    private readonly rates: ApiRates,
    private readonly clock: GovernorClock = REAL_CLOCK
  ) {}

  /** The middleware for a client of `service` in `region` (finalizeRequest step, before signing). */
  middleware(service: PacedService, region: string) {
    return <A, R>(next: Handler<A, R>, context: CommandContext): Handler<A, R> =>
      async (args: A): Promise<R> => {
        const paced = apiClassOf(service, context.commandName)
        if (!paced) return next(args)
        const bucket = this.bucket(region, paced.key, this.rates[paced.apiClass])
        return this.send(bucket, () => next(args), `${service}:${operationOf(context.commandName)}`, region)
      }
  }

  /** What each bucket did, for the run's log. */
  figures(): PaceFigures[] {
    return [...this.buckets].map(([id, bucket]) => {
      const [region = '', key = ''] = id.split('\n')
      const { sent, throttled, gaveUp, waitedMs } = bucket
      return { region, key, sent, throttled, gaveUp, waitedMs }
    })
  }

  private bucket(region: string, key: string, rate: number): Bucket {
    const id = `${region}\n${key}`
    let bucket = this.buckets.get(id)
    if (!bucket) this.buckets.set(id, (bucket = new Bucket(rate, this.clock)))
    return bucket
  }

  /** Sends through the bucket until an answer that is not a throttle, or the deadline. */
  private async send<R>(bucket: Bucket, attempt: () => Promise<R>, action: string, region: string): Promise<R> {
    let firstThrottleAt: number | undefined
    for (let throttles = 1; ; throttles++) {
      const sentAt = await bucket.turn()
      try {
        const answer = await attempt()
        bucket.onAnswer()
        return answer
      } catch (error) {
        if (!isThrottling(error)) {
          bucket.onAnswer()
          throw error
        }
        const now = this.clock.now()
        bucket.onThrottle(now, sentAt)
        firstThrottleAt ??= now
        if (now - firstThrottleAt >= THROTTLE_DEADLINE_MS) {
          bucket.gaveUp++
          throw throttledTooLong(error, action, region, throttles)
        }
        await bucket.backOff(throttleWaitMs(retryAfterOf(error, now), throttles, this.clock.random()))
      }
    }
  }
}

function operationOf(commandName: string | undefined): string {
  return (commandName ?? 'UnknownCommand').replace(/Command$/, '')
}

/**
 * The error of a call throttled past the deadline. It carries no HTTP status and a name of its own, so
 * that the SDK's retry (which would start the wait over, six times) and the run's retries leave it alone.
 */
function throttledTooLong(error: unknown, action: string, region: string, throttles: number): Error {
  const minutes = THROTTLE_DEADLINE_MS / 60_000
  const failed = new Error(
    `${action} in ${region} was throttled for ${minutes} minutes (${throttles} answers ${errorName(error)}) and was given up: another tool is using the account's quota for it. Run again later, or lower aws-api-rates to leave it room.`,
    { cause: error }
  )
  failed.name = 'ThrottledTooLong'
  return failed
}

/** The answer's Retry-After in seconds (Lambda's retryAfterSeconds, or the header), if it gave one. */
export function retryAfterOf(error: unknown, now: number): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const given = error as { retryAfterSeconds?: unknown; $response?: { headers?: Record<string, unknown> } }
  const raw = given.retryAfterSeconds ?? given.$response?.headers?.['retry-after']
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined
  const text = String(raw).trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text)
  // The header may also be an HTTP date.
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000)
}
