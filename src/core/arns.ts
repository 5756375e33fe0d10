/**
 * ARNs, the one source of their grammar: every regular expression over an ARN (functions, layers, roles,
 * policies, log groups, KMS keys, secrets) is here. Partitions and regions are core/awsPartitions.ts.
 */
import { partitionOf } from './awsPartitions.js'

/** Any ARN, split into partition, service, region, account and resource (which may hold colons). */
export const ARN_PARTS = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):([^:]*):(.+)$/

/** The partition and region of anything written like an ARN, whatever is in them (`{region}` included). */
export function arnPartitionAndRegion(arn: string): { partition: string; region: string } | undefined {
  const match = /^arn:([^:]*):[^:]*:([^:]*):/.exec(arn)
  return match ? { partition: match[1] ?? '', region: match[2] ?? '' } : undefined
}

// Lambda functions

/** A function ARN as configuration takes it: partition, region, account, name and an optional qualifier. */
export const FUNCTION_ARN =
  /^arn:([a-z][a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9$_-]+))?$/

/** The same five fields, whatever is in them: for patterns over ARNs and for saying what is wrong with one. */
export const FUNCTION_ARN_PARTS = /^arn:([^:]*):lambda:([^:]*):([^:]*):function:([^:]*)(?::(.*))?$/

/** Where a function lives, from the ARN Lambda reports; `arn` is the ARN without a qualifier. */
export interface FunctionArnLocation {
  readonly arn: string
  readonly partition: string
  readonly region: string
  readonly account: string
}

/** Partition, region and account of a function ARN as Lambda writes it; undefined when it is not one. */
export function functionArnLocation(arn: string): FunctionArnLocation | undefined {
  const match = /^arn:([^:]+):lambda:([^:]+):(\d{12}):function:[^:]+/.exec(arn)
  if (!match) return undefined
  const [unqualified, partition, region, account] = match as unknown as [string, string, string, string]
  return { arn: unqualified, partition, region, account }
}

// Lambda layers

/** A layer name as Lambda takes it. */
export const LAYER_NAME = /^[A-Za-z0-9_-]{1,140}$/
/** A layer version number, as a RegExp source: from 1, at most 16 digits. */
export const LAYER_VERSION_SOURCE = String.raw`[1-9]\d{0,15}`

/** The shape of a layer version ARN, its partition and region not checked (a template filled in for a test). */
const LAYER_VERSION_ARN_SHAPE = /^arn:([a-z-]+):lambda:([a-z0-9-]+):(\d{12}):layer:([A-Za-z0-9_-]+):(\d+)$/

/** The parts of a versioned layer ARN. */
export interface LayerVersionArnParts {
  region: string
  account: string
  name: string
  version: number
}

/** The layer name and version of anything shaped like a layer version ARN (partition and region unchecked). */
export function layerVersionArnShape(arn: string): { name: string; version: number } | undefined {
  const match = LAYER_VERSION_ARN_SHAPE.exec(arn)
  return match ? { name: match[4] ?? '', version: Number(match[5]) } : undefined
}

/** The region, account, name and version of a versioned layer ARN, or undefined if it is not one. */
export function parseLayerVersionArn(arn: string): LayerVersionArnParts | undefined {
  const match = LAYER_VERSION_ARN_SHAPE.exec(arn)
  if (!match) return undefined
  const [, partition, region, account, name, version] = match
  if (region === undefined || account === undefined || name === undefined || version === undefined) return undefined
  // An ARN whose partition does not own its region names nothing that exists.
  if (partitionOf(region) !== partition) return undefined
  if (!LAYER_NAME.test(name) || !new RegExp(`^${LAYER_VERSION_SOURCE}$`).test(version)) return undefined
  const number = Number(version)
  if (!Number.isSafeInteger(number)) return undefined
  return { region, account, name, version: number }
}

// IAM and STS

/** An IAM role ARN as role-to-assume takes it; the partition is captured. */
export const ROLE_ARN = /^arn:([a-z][a-z-]*):iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/

/** The role name (the last part of its path) of an IAM role ARN; undefined when it is not one. */
export function roleNameOfArn(arn: string): string | undefined {
  return /^arn:[^:]+:iam::\d{12}:role\/(?:[^/]*\/)*([^/]+)$/.exec(arn)?.[1]
}

/** The role name of an STS assumed-role ARN; undefined when it is not one. */
export function assumedRoleNameOf(arn: string): string | undefined {
  return /^arn:[^:]+:sts::\d{12}:assumed-role\/([^/]+)\/[^/]+$/.exec(arn)?.[1]
}

/** Partition and account of an IAM ARN (role, user, policy of an account); undefined when it is not one. */
export function iamArnLocation(arn: string): { partition: string; account: string } | undefined {
  const match = /^arn:([^:]+):iam::(\d{12}):/.exec(arn)
  return match ? { partition: match[1] ?? '', account: match[2] ?? '' } : undefined
}

/** An AWS managed policy's ARN, in any partition: partition, path (with its final `/`) and name. */
export const AWS_MANAGED_POLICY_ARN = /^arn:([^:]+):iam::aws:policy\/(.*\/)?([^/]+)$/

// CloudWatch Logs, KMS

/** A log group ARN, with or without the trailing `:*` that DescribeLogGroups reports. */
export const LOG_GROUP_ARN = /^arn:([^:]+):logs:([^:]*):([^:]*):log-group:([^:]+?)(?::\*)?$/

/** A KMS key ARN as IAM grants kms:Decrypt on it; partition and region are captured. */
export const KMS_KEY_ARN = /^arn:([a-z][a-z-]*):kms:([a-z0-9-]+):\d{12}:key\/[A-Za-z0-9-]{1,128}$/
/** A KMS alias ARN, which IAM does not take where a key ARN belongs. */
export const KMS_ALIAS_ARN = /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//
