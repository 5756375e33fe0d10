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

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions
): Promise<T> {
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

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'SlowDown'
])

/** Error codes of a connection that failed or dropped: the request may be sent again. */
export const NETWORK_ERROR_CODES: readonly string[] = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET'
]

interface AwsLikeError {
  name?: string
  code?: string
  $metadata?: { httpStatusCode?: number }
}

function asAwsLike(error: unknown): AwsLikeError {
  return typeof error === 'object' && error !== null ? (error as AwsLikeError) : {}
}

export function errorName(error: unknown): string {
  return asAwsLike(error).name ?? 'Error'
}

export function httpStatusOf(error: unknown): number | undefined {
  return asAwsLike(error).$metadata?.httpStatusCode
}

export function isThrottling(error: unknown): boolean {
  const e = asAwsLike(error)
  return THROTTLING_NAMES.has(e.name ?? '') || e.$metadata?.httpStatusCode === 429
}

/** Throttling, a 5xx, a network fault or a timeout: worth another attempt. Validation and access errors are not. */
export function isTransient(error: unknown): boolean {
  const e = asAwsLike(error)
  if (isThrottling(error)) return true
  const status = e.$metadata?.httpStatusCode
  if (status !== undefined && status >= 500) return true
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout' || e.name === 'RequestTimeoutException')
    return true
  if (e.name === 'ServiceException' || e.name === 'ServiceUnavailableException' || e.name === 'InternalFailure')
    return true
  return NETWORK_ERROR_CODES.includes(e.code ?? '')
}

/** The message of anything thrown, never `[object Object]`. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name
  if (typeof error === 'string') return error
  try {
    return JSON.stringify(error)
  } catch {
    return String(error)
  }
}
