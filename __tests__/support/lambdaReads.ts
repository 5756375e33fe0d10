/**
 * The action reads a function with GetFunction and keeps only its Configuration: tests stub those
 * reads with configurations, which this wraps as GetFunction's answer (Code and Tags beside, so that
 * a test can see they are dropped).
 */
import {
  type FunctionConfiguration,
  GetFunctionCommand,
  type GetFunctionCommandInput,
  type GetFunctionCommandOutput,
  type LambdaClient
} from '@aws-sdk/client-lambda'
import type { AwsClientStub } from 'aws-sdk-client-mock'

/** A presigned URL as GetFunction's Code.Location gives it: never to be printed or kept. */
export const CODE_LOCATION =
  'https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/snapshots/code.zip?X-Amz-Signature=secret-code-signature'

/** GetFunction's answer for a configuration. */
export function getFunctionAnswer(configuration: FunctionConfiguration): Omit<GetFunctionCommandOutput, '$metadata'> {
  return {
    Configuration: configuration,
    Code: { RepositoryType: 'S3', Location: CODE_LOCATION },
    Tags: { team: 'secret-tag-value' }
  }
}

export interface ReadStub {
  resolves(configuration: FunctionConfiguration): ReadStub
  resolvesOnce(configuration: FunctionConfiguration): ReadStub
  rejects(error: Error): ReadStub
  callsFake(answer: (input: { FunctionName: string }) => FunctionConfiguration): ReadStub
}

/** Stubs the reads (GetFunction) of a mocked Lambda client with the configurations they answer. */
export function readsOf(lambda: AwsClientStub<LambdaClient>): ReadStub {
  const behavior = lambda.on(GetFunctionCommand)
  const reads: ReadStub = {
    resolves: (configuration) => (behavior.resolves(getFunctionAnswer(configuration)), reads),
    resolvesOnce: (configuration) => (behavior.resolvesOnce(getFunctionAnswer(configuration)), reads),
    rejects: (error) => (behavior.rejects(error), reads),
    callsFake: (answer) => (
      behavior.callsFake((input: GetFunctionCommandInput) =>
        getFunctionAnswer(answer({ FunctionName: input.FunctionName ?? '' }))
      ),
      reads
    )
  }
  return reads
}
