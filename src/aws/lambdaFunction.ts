/** The Lambda edge: read a function, write its layers, variables and log format, wait for the write, invoke it. */
import {
  type FunctionConfiguration,
  GetFunctionCommand,
  type GetFunctionCommandOutput,
  InvokeCommand,
  type LambdaClient,
  type LoggingConfig as LambdaLoggingConfig,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2
} from '@aws-sdk/client-lambda'
import type { Architecture, FunctionState, FunctionTarget, LoggingConfig } from '../core/model.js'
import { sleep } from '../core/retry.js'
import { errorName } from '../core/errors.js'

/** How long to wait for one configuration update to settle. */
const UPDATE_WAIT_SECONDS = 300
/**
 * The settle wait's first gap between polls; it doubles (with jitter) up to 5 s. GetFunction has its own
 * 100 requests a second (see readFunction), so polling every half second early on costs no control-plane
 * quota, and a function that settles in 2 s is seen settled about a second sooner than with 1 s gaps,
 * which is a second less in its write slot.
 */
const SETTLE_POLL_MIN_SECONDS = 0.5

/**
 * Reads a function's configuration; the ARN form is used when known so that the account is the user's.
 * Through GetFunction, which has a quota of its own (100 requests a second per Region), not
 * GetFunctionConfiguration, which shares the 15 a second of every control-plane call with the writes
 * and the listing (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, "Lambda API requests").
 */
export async function readFunction(client: LambdaClient, target: FunctionTarget): Promise<FunctionState> {
  return toState(await getConfiguration(client, functionId(target)), target.region)
}

/**
 * GetFunction's Configuration, and nothing else of its answer: Code holds a presigned URL to the
 * deployment package and Tags the function's tags, neither of which the action may print or keep
 * (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html).
 */
async function getConfiguration(client: LambdaClient, functionName: string): Promise<FunctionConfiguration> {
  const { Configuration: configuration } = await client.send(new GetFunctionCommand({ FunctionName: functionName }))
  if (!configuration) throw new Error(`GetFunction ${functionName} answered without the function's configuration`)
  return configuration
}

/** What the waiters and writes identify a function by: its ARN when given, else its name. */
export function functionId(target: FunctionTarget): string {
  return target.account
    ? `arn:${target.partition}:lambda:${target.region}:${target.account}:function:${target.name}`
    : target.name
}

export function toState(configuration: FunctionConfiguration, region: string): FunctionState {
  const architecture: Architecture = configuration.Architectures?.[0] === 'arm64' ? 'arm64' : 'x86_64'
  const name = configuration.FunctionName ?? ''
  return {
    name,
    arn: stripQualifier(configuration.FunctionArn ?? ''),
    region,
    architecture,
    packageType: configuration.PackageType === 'Image' ? 'Image' : 'Zip',
    layers: (configuration.Layers ?? []).map((layer) => layer.Arn ?? '').filter((arn) => arn !== ''),
    variables: configuration.Environment?.Variables,
    revisionId: configuration.RevisionId,
    logGroup: configuration.LoggingConfig?.LogGroup || `/aws/lambda/${name}`,
    runtime: configuration.Runtime,
    role: configuration.Role,
    logging: configuration.LoggingConfig && {
      format: configuration.LoggingConfig.LogFormat ?? 'Text',
      applicationLogLevel: configuration.LoggingConfig.ApplicationLogLevel,
      systemLogLevel: configuration.LoggingConfig.SystemLogLevel,
      logGroup: configuration.LoggingConfig.LogGroup || undefined
    },
    memorySizeMb: configuration.MemorySize
  }
}

/** The LoggingConfig of UpdateFunctionConfiguration, with only the fields that have a value. */
function toLambdaLogging(logging: LoggingConfig): LambdaLoggingConfig {
  return {
    LogFormat: logging.format as LambdaLoggingConfig['LogFormat'],
    ...(logging.applicationLogLevel
      ? { ApplicationLogLevel: logging.applicationLogLevel as LambdaLoggingConfig['ApplicationLogLevel'] }
      : {}),
    ...(logging.systemLogLevel
      ? { SystemLogLevel: logging.systemLogLevel as LambdaLoggingConfig['SystemLogLevel'] }
      : {}),
    ...(logging.logGroup ? { LogGroup: logging.logGroup } : {})
  }
}

function stripQualifier(arn: string): string {
  return arn.replace(/(:function:[^:]+):.+$/, '$1')
}

export interface WriteResult {
  /** LastUpdateStatus once settled. */
  readonly status: 'Successful' | 'Failed'
  readonly reason: string | undefined
  /** The revision after the write, for a rollback that must not overwrite someone else's change. */
  readonly revisionId: string | undefined
}

/**
 * Writes the layers and variables, and the LoggingConfig only when given (the log format changes),
 * nothing else, guarded by the revision read; then waits until Lambda says the update succeeded or failed.
 */
export async function writeConfiguration(
  client: LambdaClient,
  functionArn: string,
  layers: readonly string[],
  variables: Readonly<Record<string, string>>,
  revisionId: string | undefined,
  pause: (ms: number) => Promise<void> = sleep,
  logging?: LoggingConfig
): Promise<WriteResult> {
  const response = await client.send(
    new UpdateFunctionConfigurationCommand({
      FunctionName: functionArn,
      Layers: [...layers],
      Environment: { Variables: { ...variables } },
      ...(logging ? { LoggingConfig: toLambdaLogging(logging) } : {}),
      ...(revisionId ? { RevisionId: revisionId } : {})
    })
  )
  // Lambda may report the outcome at once; polling then would only cost a call.
  if (response.LastUpdateStatus === 'Successful' || response.LastUpdateStatus === 'Failed')
    return {
      status: response.LastUpdateStatus,
      reason: response.LastUpdateStatusReason,
      revisionId: response.RevisionId
    }
  // An update takes about a second to apply: polling at once only costs a call that says InProgress.
  await pause(1000)
  return waitForUpdate(client, functionArn)
}

/**
 * Waits until no update of the function is in progress, and says how the last one ended. The waiter
 * polls GetFunction (the V2 waiter; the first one polls GetFunctionConfiguration), whose quota is its
 * own rather than the control plane's (see readFunction).
 */
export async function waitForUpdate(client: LambdaClient, functionArn: string): Promise<WriteResult> {
  try {
    const outcome = await waitUntilFunctionUpdatedV2(
      { client, maxWaitTime: UPDATE_WAIT_SECONDS, minDelay: SETTLE_POLL_MIN_SECONDS, maxDelay: 5 },
      { FunctionName: functionArn }
    )
    // Only the revision is taken from the answer: its Code and Tags are neither printed nor kept.
    const settled = (outcome.reason as GetFunctionCommandOutput | undefined)?.Configuration
    return { status: 'Successful', reason: undefined, revisionId: settled?.RevisionId }
  } catch (error) {
    // The waiter fails on LastUpdateStatus "Failed" (and on timeouts): read the reason it ended with.
    const latest = await getConfiguration(client, functionArn)
    if (latest.LastUpdateStatus === 'Failed')
      return { status: 'Failed', reason: latest.LastUpdateStatusReason, revisionId: latest.RevisionId }
    throw new Error(
      `the update of ${functionArn} did not settle within ${UPDATE_WAIT_SECONDS} s (LastUpdateStatus ${latest.LastUpdateStatus ?? 'unknown'}): ${errorName(error)}`
    )
  }
}

export interface InvocationResult {
  readonly statusCode: number | undefined
  readonly functionError: string | undefined
  readonly requestId: string | undefined
  /** The last lines of the function's log, as Lambda returns them with LogType Tail. */
  readonly logTail: string | undefined
  readonly ok: boolean
}

/** Invokes the function synchronously with the test payload, asking for the tail of its log. */
export async function invokeFunction(
  client: LambdaClient,
  functionArn: string,
  payload: string
): Promise<InvocationResult> {
  const response = await client.send(
    new InvokeCommand({
      FunctionName: functionArn,
      InvocationType: 'RequestResponse',
      LogType: 'Tail',
      Payload: Buffer.from(payload)
    })
  )
  const statusCode = response.StatusCode
  const functionError = response.FunctionError || undefined
  return {
    statusCode,
    functionError,
    requestId: response.$metadata?.requestId,
    logTail: response.LogResult ? Buffer.from(response.LogResult, 'base64').toString('utf8') : undefined,
    ok: functionError === undefined && statusCode !== undefined && statusCode >= 200 && statusCode < 300
  }
}
