/** Retry with full-jitter exponential backoff, for the errors that a later attempt can cure. */

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly attempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  /** Decides, per error, whether another attempt can help. */
  readonly isRetryable: (error: unknown) => boolean
  /** Told before each wait, so that the log says what failed and when it tries again. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  readonly sleep?: (ms: number) => Promise<void>
  readonly random?: () => number
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `operation` until it succeeds, the error is not retryable, or the attempts are spent. */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep
  const random = options.random ?? Math.random
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt)
    } catch (error) {
      if (attempt >= options.attempts || !options.isRetryable(error)) throw error
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1))
      const delayMs = Math.floor(random() * ceiling)
      options.onRetry?.(error, attempt, delayMs)
      await wait(delayMs)
    }
  }
}
