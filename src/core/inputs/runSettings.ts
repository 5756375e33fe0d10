/** The settings of a run that stand alone: the deploy role, the layer, the test invocation, annotations, instrumentation, KMS keys. */
import { arnPartitionAndRegion, ROLE_ARN } from '../arns.js'
import { arnLocationProblem, partitionProblem } from '../awsPartitions.js'
import { globProblem } from '../glob.js'
import { splitList } from '../inputText.js'
import {
  INSTRUMENTATION_SETTINGS,
  type InstrumentationSetting,
  isValidInstrumentationTemplate
} from '../instrumentation.js'
import type { Architecture } from '../model.js'
import { kmsKeyArnProblem } from '../secretAccess.js'
import type { SecretReference } from '../secretReferences.js'
import { parseApiRates } from './apiRates.js'
import { parseRolloutWaves } from './rolloutWaves.js'
import { inputNameOfReference } from './managedVariables.js'
import { parseBoolean, parseInteger, type Problem } from './parsers.js'
import type { SamePartition } from './where.js'

/** The default layer-name. */
export const DEFAULT_LAYER_NAME = 'rotel-extension-{arch}-alpha'
/** Lambda's largest synchronous invocation payload. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/
const MAX_ANNOTATE_GLOBS = 100
/** IAM keeps a role's inline policies under 10,240 characters together; 20 key ARNs fill a quarter of that. */
const MAX_KMS_KEYS = 20
const LAYER_NAME_PATTERN = /^[A-Za-z0-9_-]{1,140}$/

type Input = (name: string) => string

/** role-to-assume and how the role is assumed. */
export function parseRole(input: Input, problem: Problem, samePartition: SamePartition) {
  const roleToAssume = input('role-to-assume') || undefined
  const rolePartition = roleToAssume ? ROLE_ARN.exec(roleToAssume)?.[1] : undefined
  if (roleToAssume && rolePartition === undefined)
    problem(
      `role-to-assume "${roleToAssume}" is not an IAM role ARN; write it as arn:aws:iam::123456789012:role/NAME, or leave it empty to use the credentials already in the environment.`
    )
  else if (roleToAssume && rolePartition !== undefined) {
    const unknown = partitionProblem(rolePartition)
    if (unknown) problem(`role-to-assume "${roleToAssume}" ${unknown}.`)
    else samePartition('role-to-assume', roleToAssume, rolePartition)
  }
  const roleSessionName = input('role-session-name') || 'rotel-clickstack-action'
  if (!SESSION_NAME_PATTERN.test(roleSessionName))
    problem(`role-session-name "${roleSessionName}" must be 2 to 64 characters of letters, digits and _+=,.@-.`)
  const audience = input('audience') || 'sts.amazonaws.com'
  const roleDurationSeconds = parseInteger(
    'role-duration-seconds',
    input('role-duration-seconds') || '3600',
    900,
    43200,
    problem
  )
  return { roleToAssume, roleSessionName, audience, roleDurationSeconds }
}

/** layer-version, layer-name and architecture. */
export function parseLayer(input: Input, problem: Problem) {
  const layerVersionInput = input('layer-version') || 'latest'
  let layerVersion: 'latest' | number = 'latest'
  if (layerVersionInput.toLowerCase() !== 'latest') {
    if (/^[1-9]\d{0,6}$/.test(layerVersionInput)) layerVersion = Number(layerVersionInput)
    else
      problem(
        `layer-version "${layerVersionInput}" must be "latest" or a layer version number (a whole number from 1).`
      )
  }
  const layerNameTemplate = input('layer-name') || DEFAULT_LAYER_NAME
  if (!LAYER_NAME_PATTERN.test(layerNameTemplate.replaceAll('{arch}', 'arch')))
    problem(
      `layer-name "${layerNameTemplate}" must be a layer name of letters, digits, - and _, with {arch} where amd64 or arm64 belongs (e.g. rotel-extension-{arch}-alpha).`
    )

  const architectureInput = input('architecture') || 'auto'
  let architecture: 'auto' | Architecture = 'auto'
  if (architectureInput === 'x86_64' || architectureInput === 'arm64') architecture = architectureInput
  else if (architectureInput !== 'auto') problem(`architecture "${architectureInput}" must be auto, x86_64 or arm64.`)
  return { layerVersion, layerNameTemplate, architecture }
}

/** The test invocation, rollback, the limits of a run's pace (max-concurrency, aws-api-rates) and its waves (canary, failure-tolerance). */
export function parseTestInvoke(input: Input, problem: Problem) {
  const testInvoke = parseBoolean('test-invoke', input('test-invoke'), true, problem)
  const testPayload = input('test-payload') || '{"test":"data"}'
  if (Buffer.byteLength(testPayload) > MAX_PAYLOAD_BYTES) {
    problem(
      `test-payload is ${Buffer.byteLength(testPayload)} bytes; Lambda takes at most 6 MB (6291456 bytes) in a synchronous invocation.`
    )
  } else {
    try {
      JSON.parse(testPayload)
    } catch (error) {
      // JSON.parse's message quotes the payload, which may hold data that is not for the log: only the position.
      const at = /position (\d+)/.exec((error as Error).message)?.[1]
      problem(
        `test-payload is not valid JSON${at === undefined ? '' : ` (the error is at character ${Number(at) + 1})`}; write a JSON document such as {"test":"data"} (the payload is not shown).`
      )
    }
  }
  const rollbackOnFailure = parseBoolean('rollback-on-failure', input('rollback-on-failure'), true, problem)
  const maxConcurrency = parseInteger('max-concurrency', input('max-concurrency') || '16', 1, 64, problem)
  const cloudwatchCheckSeconds = parseInteger(
    'cloudwatch-check-seconds',
    input('cloudwatch-check-seconds') || '15',
    0,
    300,
    problem
  )
  const apiRates = parseApiRates(input, problem)
  const waves = parseRolloutWaves(input, problem, testInvoke)
  return { testInvoke, testPayload, rollbackOnFailure, maxConcurrency, cloudwatchCheckSeconds, apiRates, waves }
}

/** annotate-files: undefined for the built-in list, empty to turn the scan off. */
export function parseAnnotateFiles(input: Input, problem: Problem): readonly string[] | undefined {
  const annotateInput = input('annotate-files')
  const annotateFiles = !annotateInput
    ? undefined
    : /^(false|none|off)$/i.test(annotateInput)
      ? []
      : // One glob a line: a comma belongs to braces, as in **/template.{yml,yaml}.
        annotateInput
          .split(/\r?\n/)
          .map((line) => line.trim())
          .filter((line) => line !== '' && !line.startsWith('#'))
  // Each pattern is matched against every file name of the workspace, which a pull request chooses: bounded here.
  for (const pattern of annotateFiles ?? []) {
    const tooBig = globProblem(pattern.replace(/^!/, ''))
    if (tooBig) problem(`annotate-files: ${tooBig}.`)
  }
  if (annotateFiles && annotateFiles.length > MAX_ANNOTATE_GLOBS)
    problem(
      `annotate-files lists ${annotateFiles.length} globs; at most ${MAX_ANNOTATE_GLOBS}: combine them with ** or {a,b}.`
    )
  return annotateFiles
}

/** instrumentation and instrumentation-layer. */
export function parseInstrumentation(input: Input, problem: Problem, samePartition: SamePartition) {
  const instrumentationInput = input('instrumentation') || 'none'
  const instrumentation = (INSTRUMENTATION_SETTINGS as readonly string[]).includes(instrumentationInput)
    ? (instrumentationInput as InstrumentationSetting)
    : 'none'
  if (instrumentation !== instrumentationInput)
    problem(`instrumentation "${instrumentationInput}" must be one of ${INSTRUMENTATION_SETTINGS.join(', ')}.`)
  const instrumentationLayer = input('instrumentation-layer') || undefined
  if (instrumentationLayer && !isValidInstrumentationTemplate(instrumentationLayer))
    problem(
      `instrumentation-layer "${instrumentationLayer}" must be a layer version ARN, with {region} and {arch} where they vary, e.g. arn:aws:lambda:{region}:901920570463:layer:aws-otel-nodejs-{arch}-ver-1-30-2:1.`
    )
  else if (instrumentationLayer) {
    const { partition = '', region = '' } = arnPartitionAndRegion(instrumentationLayer) ?? {}
    const wrong = region === '{region}' ? partitionProblem(partition) : arnLocationProblem(partition, region)
    if (wrong) problem(`instrumentation-layer "${instrumentationLayer}" ${wrong}.`)
    else samePartition('instrumentation-layer', instrumentationLayer, partition)
  }
  return { instrumentation, instrumentationLayer }
}

/** secret-kms-key-arn, checked with the secret references it serves. */
export function parseKmsKeys(
  input: Input,
  problem: Problem,
  samePartition: SamePartition,
  secretReferences: readonly SecretReference[],
  managedVariables: Readonly<Record<string, string>>
): string[] {
  const kmsKeys = splitList(input('secret-kms-key-arn'))
  if (kmsKeys.length > MAX_KMS_KEYS)
    problem(`secret-kms-key-arn lists ${kmsKeys.length} keys; at most ${MAX_KMS_KEYS}: the secrets' keys only.`)
  for (const key of kmsKeys) {
    const wrong = kmsKeyArnProblem(key)
    if (wrong) problem(`secret-kms-key-arn: ${wrong}`)
    else samePartition('secret-kms-key-arn', key, key.split(':')[1] ?? '')
  }
  for (const reference of secretReferences)
    samePartition(inputNameOfReference(reference, managedVariables), reference.arn, reference.arn.split(':')[1] ?? '')
  if (kmsKeys.length > 0 && secretReferences.length === 0)
    problem(
      'secret-kms-key-arn is set but no setting references a secret; drop it, or reference the ingestion key in otlp-headers as ${arn:aws:secretsmanager:…}.'
    )
  return kmsKeys
}
