/** One SDK client per service and region for the whole run, all with the same credentials. */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { IAMClient } from '@aws-sdk/client-iam'
import { LambdaClient } from '@aws-sdk/client-lambda'
import type { AwsCredentials } from './credentials.js'

export interface AwsClients {
  lambdaFor(region: string): LambdaClient
  /** For Invoke only: its timeout covers the longest a function may run. */
  invokerFor(region: string): LambdaClient
  logsFor(region: string): CloudWatchLogsClient
  /** IAM is global per partition; its endpoint lives in one region of it. */
  iamFor(partition: string): IAMClient
}

const IAM_REGION: Record<string, string> = { aws: 'us-east-1', 'aws-cn': 'cn-north-1', 'aws-us-gov': 'us-gov-west-1' }

/**
 * Clients retry throttling and 5xx with the SDK's standard strategy, and time out stalled calls.
 */
export function createAwsClients(credentials: AwsCredentials | undefined): AwsClients {
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
  const lambdas = new Map<string, LambdaClient>()
  const invokers = new Map<string, LambdaClient>()
  const logs = new Map<string, CloudWatchLogsClient>()
  const iams = new Map<string, IAMClient>()
  return {
    lambdaFor(region) {
      let client = lambdas.get(region)
      if (!client) lambdas.set(region, (client = new LambdaClient({ ...common, region })))
      return client
    },
    invokerFor(region) {
      let client = invokers.get(region)
      // A test invocation lasts as long as the function may run: up to Lambda's 15 minutes.
      if (!client)
        invokers.set(
          region,
          (client = new LambdaClient({
            ...common,
            region,
            requestHandler: { connectionTimeout: 5_000, requestTimeout: 960_000, throwOnRequestTimeout: true }
          }))
        )
      return client
    },
    logsFor(region) {
      let client = logs.get(region)
      if (!client) logs.set(region, (client = new CloudWatchLogsClient({ ...common, region })))
      return client
    },
    iamFor(partition) {
      let client = iams.get(partition)
      if (!client) iams.set(partition, (client = new IAMClient({ ...common, region: IAM_REGION[partition] ?? 'us-east-1' })))
      return client
    }
  }
}
