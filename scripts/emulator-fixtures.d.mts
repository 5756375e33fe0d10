// Types of scripts/emulator-fixtures.mjs (hand-written; keep in step with it).
import type {
  Architecture,
  GetFunctionConfigurationCommandOutput,
  LambdaClient,
  PackageType,
  Runtime
} from '@aws-sdk/client-lambda'
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'

/** moto's default account: every fixture lives there. */
export declare const ACCOUNT_ID: '123456789012'
/** Dummy credentials moto accepts (the SDK annotates credential objects: pass a copy, not this). */
export declare const CREDENTIALS: Readonly<{ accessKeyId: 'testing'; secretAccessKey: 'testing' }>
/** Name of the execution role createSampleFunction uses (and creates when missing). */
export declare const LAMBDA_ROLE_NAME: 'lambda-exec'
/** ARN of that role. */
export declare const LAMBDA_ROLE_ARN: 'arn:aws:iam::123456789012:role/lambda-exec'
/** Regions the sample fleet uses. */
export declare const SAMPLE_REGIONS: readonly ['us-east-1', 'eu-west-1']

/** A Lambda client for the emulator at `endpoint` in `region`, with dummy credentials. */
export declare function lambdaClient(endpoint: string, region: string): LambdaClient
/** A CloudWatch Logs client for the emulator at `endpoint` in `region`, with dummy credentials. */
export declare function logsClient(endpoint: string, region: string): CloudWatchLogsClient

/** Switches moto's Lambda between its Docker ("regular") and non-Docker ("simple") store. */
export declare function setLambdaUseDocker(endpoint: string, useDocker: boolean): Promise<void>
/** Clears all emulator state (POST /moto-api/reset) and re-asserts Lambda's use_docker=false. */
export declare function resetEmulator(endpoint: string): Promise<void>

/** A valid zip archive holding `files` (path → text), stored without compression. */
export declare function makeZip(files: Record<string, string>): Buffer

export interface MirroredLayerOptions {
  region: string
  name: string
  /** How many versions to publish: 1..versions. */
  versions: number
  /** Versions to delete afterwards (in both stores), to leave gaps. */
  deleted?: number[]
  architectures: Architecture[]
  /** Description of version v; default `Tag=v${v}-alpha`. */
  descriptionFor?: (version: number) => string
}

export interface MirroredLayer {
  name: string
  region: string
  /** The layer's ARN without a version. */
  layerArn: string
  /** LayerVersionArn of every published version, deleted ones included. */
  arns: Record<number, string>
  /** Versions that still exist, ascending. */
  liveVersions: number[]
  /** Versions deleted again, ascending. */
  deletedVersions: number[]
}

/**
 * Publishes versions 1..`versions` of a layer into both of moto's Lambda stores (then deletes
 * `deleted` in both), so that functions can use it and GetLayerVersion/ListLayerVersions see it.
 * Throws when the layer already has versions (reset the emulator first).
 */
export declare function publishMirroredLayer(endpoint: string, options: MirroredLayerOptions): Promise<MirroredLayer>

/** Calls moto's IAM query API: `params` are the form fields (Action=… etc.); returns the XML text. */
export declare function iamQuery(endpoint: string, params: Record<string, string> & { Action: string }): Promise<string>

/**
 * Creates the execution role (default `lambda-exec`, trusted by Lambda, with
 * AWSLambdaBasicExecutionRole attached) unless it exists; returns its ARN.
 */
export declare function ensureLambdaRole(endpoint: string, roleName?: string): Promise<string>

export interface SampleFunctionOptions {
  region: string
  name: string
  architecture: 'x86_64' | 'arm64'
  /** Default nodejs20.x; ignored for packageType 'Image'. */
  runtime?: Runtime | `${Runtime}`
  /** Layer version ARNs; each must have been published with publishMirroredLayer. */
  layers?: string[]
  variables?: Record<string, string>
  /** Default 'Zip'. */
  packageType?: PackageType | `${PackageType}`
  /** Sent as LoggingConfig.LogGroup; moto 5.1/5.2 accept and drop it (GetFunctionConfiguration has no LoggingConfig). */
  logGroup?: string
  /** Execution role name, created when missing; default 'lambda-exec'. */
  role?: string
  description?: string
  /** For packageType 'Image'; moto does not check it. */
  imageUri?: string
}

/**
 * Creates a function (and its execution role when missing) with a tiny zip, or for
 * packageType 'Image' an image URI moto does not check; returns GetFunctionConfiguration's answer.
 */
export declare function createSampleFunction(
  endpoint: string,
  options: SampleFunctionOptions
): Promise<GetFunctionConfigurationCommandOutput>

export interface LogStreamOptions {
  region: string
  logGroup: string
  stream: string
  messages: string[]
  /** How long ago the events happened, in ms; default 0. Under 14 days: older events are dropped (then this throws). */
  ageMs?: number
}

/** Creates a log group (if missing) with one stream holding `messages`, stamped `ageMs` ago; throws when events are rejected. */
export declare function createLogStream(endpoint: string, options: LogStreamOptions): Promise<void>

export interface BusyLogGroupOptions {
  region: string
  logGroup: string
  /** How many streams. */
  streams: number
  /** How many of them are named for today (UTC); the others for the 7 days before. Default 0. */
  todayStreams?: number
  /** Age of the newest event, ms; at least the proxy's envelope.logTimestampLagMs to keep them visible. Default 0. */
  minAgeMs?: number
  /** Age step between the streams' events, ms; default 1000. */
  stepMs?: number
}

/**
 * Creates a busy log group: streams named as Lambda names them, each with one recent event, so that a new
 * stream is hidden behind them when DescribeLogStreams orders by LastEventTime under the envelope's lag.
 * Returns the stream names, newest event first.
 */
export declare function createBusyLogGroup(endpoint: string, options: BusyLogGroupOptions): Promise<string[]>

export interface SampleFleet {
  functions: Array<{ name: 'orders-api' | 'billing-worker' | 'legacy-job'; region: string; arn: string }>
  /** The account the Rotel layers were mirrored into (moto cannot use another account's layer). */
  layerAccount: '123456789012'
  /** The mirrored layers: Rotel amd64/arm64 per region, then shared-utils. */
  layers: MirroredLayer[]
}

/**
 * Seeds the demo's sample fleet (see the comment in emulator-fixtures.mjs for what it holds).
 * Expects a freshly reset emulator.
 */
export declare function seedSampleFleet(endpoint: string): Promise<SampleFleet>
