/** One SDK client per service and region for the whole run, all with the same credentials. */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { IAMClient } from '@aws-sdk/client-iam'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { type ApiRates, DEFAULT_API_RATES, type PacedService, type PaceFigures } from '../core/apiRates.js'
import { iamRegionOf } from '../core/awsPartitions.js'
import type { AwsCredentials } from './credentials.js'
import { httpStatusOf } from '../core/errors.js'
import { GOVERNOR_MIDDLEWARE, type GovernorClock, RateGovernor, SIGNING_MIDDLEWARE } from './rateGovernor.js'

export interface AwsClients {
  lambdaFor(region: string): LambdaClient
  /**
   * Sends each request once, for a caller whose own retry loop is the policy (the layer probe): a loop
   * around a retrying client multiplied the attempts (5 × 6 = 30 requests for one throttled lookup).
   */
  lambdaOnceFor(region: string): LambdaClient
  /** For Invoke only: its timeout covers the longest a function may run. */
  invokerFor(region: string): LambdaClient
  logsFor(region: string): CloudWatchLogsClient
  /** IAM is global per partition; its endpoint lives in one region of it. */
  iamFor(partition: string): IAMClient
  /** What the rate governor did so far, per region and bucket (the Lambda and CloudWatch Logs clients share it). */
  paceFigures(): PaceFigures[]
}

/**
 * Lambda and CloudWatch Logs requests are paced per region and API class at `rates` and wait out
 * throttling (rateGovernor.ts); 5xx and network faults are retried with the SDK's standard strategy;
 * stalled calls time out. IAM and STS calls are not paced.
 */
export function createAwsClients(
  credentials: AwsCredentials | undefined,
  rates: ApiRates = DEFAULT_API_RATES,
  clock?: GovernorClock
): AwsClients {
  const governor = new RateGovernor(rates, clock)
  const common = {
    maxAttempts: 6,
    // Standard retry (jittered backoff per call): adaptive mode's client-side rate limiter throttled a
    // whole fleet run to about a call a second after a few throttles (bench: 94 s against 6–13 s).
    retryMode: 'standard',
    customUserAgent: 'rotel-clickstack-action',
    // Without a timeout a stalled connection would hang the run until the runner kills it.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000, throwOnRequestTimeout: true },
    ...(credentials ? { credentials } : {})
  } as const
  const named = <T extends LambdaClient | CloudWatchLogsClient>(client: T, service: PacedService, region: string): T =>
    governed(client, service, governor.middleware(service, region))
  const lambdas = new Map<string, LambdaClient>()
  const lambdasOnce = new Map<string, LambdaClient>()
  const invokers = new Map<string, LambdaClient>()
  const logs = new Map<string, CloudWatchLogsClient>()
  const iams = new Map<string, IAMClient>()
  return {
    lambdaFor(region) {
      let client = lambdas.get(region)
      if (!client) lambdas.set(region, (client = named(new LambdaClient({ ...common, region }), 'lambda', region)))
      return client
    },
    lambdaOnceFor(region) {
      let client = lambdasOnce.get(region)
      if (!client)
        lambdasOnce.set(
          region,
          (client = named(new LambdaClient({ ...common, maxAttempts: 1, region }), 'lambda', region))
        )
      return client
    },
    invokerFor(region) {
      let client = invokers.get(region)
      // A test invocation lasts as long as the function may run: up to Lambda's 15 minutes.
      if (!client)
        invokers.set(
          region,
          (client = named(
            new LambdaClient({
              ...common,
              region,
              requestHandler: { connectionTimeout: 5_000, requestTimeout: 960_000, throwOnRequestTimeout: true }
            }),
            'lambda',
            region
          ))
        )
      return client
    },
    logsFor(region) {
      let client = logs.get(region)
      if (!client) logs.set(region, (client = named(new CloudWatchLogsClient({ ...common, region }), 'logs', region)))
      return client
    },
    iamFor(partition) {
      let client = iams.get(partition)
      if (!client) iams.set(partition, (client = new IAMClient({ ...common, region: iamRegionOf(partition) })))
      return client
    },
    paceFigures: () => governor.figures()
  }
}

/** The client with its middleware: refusals named, and requests paced by the rate governor. */
function governed<T extends LambdaClient | CloudWatchLogsClient>(
  client: T,
  service: PacedService,
  pacing: ReturnType<RateGovernor['middleware']>
): T {
  client.middlewareStack.add(nameRefusals(service), { step: 'initialize', name: 'rotelNameRefusals' })
  // Inside the SDK's retry loop and before signing: each attempt takes its turn and is signed afresh.
  client.middlewareStack.addRelativeTo(pacing, {
    relation: 'before',
    toMiddleware: SIGNING_MIDDLEWARE,
    name: GOVERNOR_MIDDLEWARE
  })
  return client
}

/** IAM's name of an operation where the two differ. */
const IAM_ACTION_NAMES: Readonly<Record<string, string>> = { 'lambda:Invoke': 'lambda:InvokeFunction' }

/** The IAM action a command needs: `lambda:UpdateFunctionConfiguration` for UpdateFunctionConfigurationCommand. */
export function iamActionOf(service: string, commandName: string | undefined): string {
  const action = `${service}:${(commandName ?? 'UnknownCommand').replace(/Command$/, '')}`
  return IAM_ACTION_NAMES[action] ?? action
}

/**
 * A 403 whose answer is not the service's own error (an HTML page from a proxy, an emulator's XML
 * where Lambda speaks JSON) reaches the caller as a parse error – "Unexpected token '<'… Deserialization
 * error" – that does not say the call was refused. Such an error becomes an AccessDeniedException
 * naming the IAM action, as AWS's own answer would; every other error is left as it is.
 */
export function explainRefusal(error: unknown, service: string, commandName: string | undefined): unknown {
  if (httpStatusOf(error) !== 403) return error
  // The SDK's exceptions for answers it could read carry $fault ('client' or 'server').
  if (typeof error !== 'object' || error === null || '$fault' in error) return error
  const action = iamActionOf(service, commandName)
  const refused = new Error(`access denied to ${action} (HTTP 403; the answer gave no more detail)`, { cause: error })
  refused.name = 'AccessDeniedException'
  return Object.assign(refused, { $fault: 'client', $metadata: (error as { $metadata?: unknown }).$metadata })
}

/** Client middleware: errors pass through explainRefusal, which knows the command from the context. */
function nameRefusals(service: string) {
  return <A, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
    async (args: A): Promise<R> => {
      try {
        return await next(args)
      } catch (error) {
        throw explainRefusal(error, service, context.commandName)
      }
    }
}
