// Types of scripts/fault-proxy.mjs (hand-written; keep in step with it).
import type { ApiClass, EnvelopeOptions } from './aws-envelope.mjs'

export type { ApiClass, EnvelopeOptions } from './aws-envelope.mjs'

/**
 * What a rule injects. Error faults answer in the service's own protocol, so that the SDK throws the
 * named exception (Lambda / CloudWatch Logs / STS-IAM):
 * - `throttle`: 429 ThrottlingException / 400 ThrottlingException / 400 Throttling
 * - `too-many-requests`: 429 TooManyRequestsException (Reason CallerRateLimitExceeded) / 400 / 400 TooManyRequests
 * - `500`: 500 ServiceException / InternalFailure / InternalFailure
 * - `503`: 503 ServiceUnavailableException / ServiceUnavailableException / ServiceUnavailable
 * - `conflict`: 409 ResourceConflictException ("An update is in progress for resource: …")
 * - `precondition`: 412 PreconditionFailedException ("The Revision Id provided does not match …")
 * - `invalid-parameter`: 400 InvalidParameterValueException / InvalidParameterException / InvalidParameterValue
 * - `reset`: the connection is reset without an answer (ECONNRESET)
 * - `delay`: the answer is held `delayMs` (default 60 000)
 * - `update-failed`: UpdateFunctionConfiguration is applied, answered LastUpdateStatus InProgress (Failed with
 *   `immediate`), and later reads of the function say Failed with `reason`/`reasonCode` until its next update
 * - `function-error`: Invoke is made, then answered 200 with X-Amz-Function-Error: Unhandled and X-Amz-Log-Result
 * - `log-tail`: Invoke is made and its answer kept, with X-Amz-Log-Result set to `logTail`, each `{requestId}` in it
 *   replaced by the answer's request id (moto sends no log)
 * - `environment-too-large`: UpdateFunctionConfiguration only, not forwarded: 400 InvalidParameterValueException with
 *   Lambda's message for variables over 4 KB, which quotes the requested variables as JSON ("String measured: {…}")
 * - `pass`: forwarded unchanged (for a rule that only runs `before`)
 */
export type FaultType =
  | 'throttle'
  | 'too-many-requests'
  | '500'
  | '503'
  | 'conflict'
  | 'precondition'
  | 'reset'
  | 'delay'
  | 'update-failed'
  | 'function-error'
  | 'log-tail'
  | 'invalid-parameter'
  | 'environment-too-large'
  | 'pass'

/** Every fault type, in the order above. */
export declare const FAULTS: readonly FaultType[]

/** One call the proxy received (moto's own /moto-api calls are not recorded). */
export interface RecordedCall {
  /** 1, 2, … in order of arrival. */
  seq: number
  /** When it arrived (ms since the epoch). */
  time: number
  method: string
  /** Path and query as sent. */
  path: string
  /** From the SigV4 credential scope (`lambda`, `logs`, `sts`, `iam`), else guessed from the request. */
  service: string
  /** `GetFunction`, `UpdateFunctionConfiguration`, `Invoke`, `GetLayerVersion`, `ListFunctions`,
   * `DescribeLogStreams`, `AssumeRoleWithWebIdentity`, …; `Unknown` when not recognised. */
  operation: string
  /** The function's name (also when the call names it by ARN); for CloudWatch Logs, `<name>` of `/aws/lambda/<name>`. */
  functionName: string | null
  region: string | null
  /** For layer calls, the layer's name. */
  layerName: string | null
  /** HTTP status answered; null while pending, and for a reset connection. */
  status: number | null
  /** What the emulator answered when the call reached it; null when it did not (a fault answered instead). */
  upstreamStatus: number | null
  /**
   * The fault injected; `stale-revision` when the RevisionId emulation refused an update,
   * `update-in-progress` when the pendingReads or envelope settling did; `quota` when the envelope's rate
   * refused the call, `extra-throttle` when its seeded extra throttling did; else null.
   */
  fault: FaultType | 'stale-revision' | 'update-in-progress' | 'quota' | 'extra-throttle' | null
  /** The API class the call counts against under the envelope (`lambda:control`, `logs:DescribeLogStreams`, …). */
  apiClass: ApiClass | null
  /** Index of the rule that fired, or null. */
  rule: number | null
  /** From arrival to answer (or reset); null while pending. */
  durationMs: number | null
}

export interface FaultRule {
  /** Only calls of this service (`lambda`, `logs`, `sts`, `iam`). */
  service?: string
  /**
   * Only calls of this operation (or these). `update-failed` and `environment-too-large` imply
   * UpdateFunctionConfiguration, `function-error` and `log-tail` Invoke.
   */
  operation?: string | readonly string[]
  /** Only calls about this function (name, never ARN), or names this pattern matches. */
  functionName?: string | RegExp
  region?: string
  layerName?: string
  /**
   * Only Lambda calls about a function that carries, when the call arrives, a layer version whose ARN
   * contains this text (e.g. `:layer:rotel-extension-amd64-alpha:5`); the proxy reads the function's
   * configuration from the emulator to know.
   */
  withLayer?: string
  /** Fire only on the nth call this rule matches (1-based). */
  nth?: number
  /** Fire at most this many times. */
  times?: number
  /** Fire on each matching call with this probability, drawn from the proxy's seed. */
  probability?: number
  /** The fault, or a list to pick one from (seeded) each time the rule fires. */
  fault: FaultType | readonly FaultType[]
  /** For `delay`: how long the answer is held, default 60 000 ms. */
  delayMs?: number
  /**
   * Let the call reach the emulator before the fault: for error faults and `reset` (default false) the
   * write then happens and only its answer is lost; for `delay` (default true) false holds the request instead.
   */
  forward?: boolean
  /** For error faults: the message, instead of the service's usual one. */
  message?: string
  /** For `update-failed`: LastUpdateStatusReason, and LastUpdateStatusReasonCode (default InvalidLayer). */
  reason?: string
  reasonCode?: string
  /** For `update-failed`: the update's own answer says Failed (default: InProgress, and the next read says Failed). */
  immediate?: boolean
  /** For `function-error`: the error message in the payload, and the log tail (plain text; sent base64); for `log-tail`, the tail. */
  errorMessage?: string
  logTail?: string
  /** Called when the rule fires, before the call is forwarded or faulted: e.g. to change the function meanwhile. */
  before?: (call: RecordedCall) => void | Promise<void>
}

export interface FaultProxyOptions {
  /** The emulator, e.g. http://127.0.0.1:5079. */
  target: string
  /** Seed of the random draws of `probability` rules and fault lists; default 1. */
  seed?: number
  rules?: readonly FaultRule[]
  /** Extra delay of every call before it is forwarded (for benchmarks); default 0. */
  latencyMs?: number
  /** Emulate Lambda's RevisionId (moto has none): add it to reads, listings and updates, refuse stale updates with 412. */
  revisions?: boolean
  /**
   * Let updates take time, as on Lambda (moto finishes them at once): an update answers LastUpdateStatus
   * InProgress, so do the next `pendingReads` reads of that function, and an update of it meanwhile is
   * refused with 409 ResourceConflictException. Default 0.
   */
  pendingReads?: number
  /**
   * AWS's published envelope (scripts/aws-envelope.mjs): rates per (account, Region, API class) answered with
   * the real throttles, updates that settle by wall time, DescribeLogStreams answered as CloudWatch does with
   * lagged event times, ListFunctions paged by 50, and optionally invocations that write log streams.
   */
  envelope?: boolean | EnvelopeOptions
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL or a client's endpoint. */
  url: string
  /** Every call received, oldest first (the array is kept, and cleared by reset()). */
  calls: RecordedCall[]
  /** Replaces the rules; their counts start again. */
  setRules(rules: readonly FaultRule[]): void
  /** Clears the call log, the rules' counts, and the emulated per-function state (failed updates, revisions). */
  reset(): void
  /** Stops listening, drops held answers and open connections. */
  close(): Promise<void>
}

/** Starts the proxy on 127.0.0.1 in front of `target`; resolves once it listens. */
export declare function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy>
