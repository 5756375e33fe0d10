/**
 * Errors, the one source of their names, messages and classification: what an AWS error is called, what
 * anything thrown says, and whether another attempt can cure it (which core/retry.ts acts on).
 */

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

/** The name of an error (an AWS error's code), `Error` when it has none. */
export function errorName(error: unknown): string {
  return asAwsLike(error).name ?? 'Error'
}

/** The HTTP status an AWS SDK error came with, when it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  return asAwsLike(error).$metadata?.httpStatusCode
}

/** Whether the service asked to slow down (a throttling name or HTTP 429). */
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
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout' || e.name === 'RequestTimeoutException') return true
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
