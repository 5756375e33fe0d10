/**
 * Turns the action's inputs into one readonly, validated configuration. Every input error is found
 * here, before any AWS call, and all of them are reported at once.
 */
import { type FunctionPattern, parseSelection } from './functionSelection.js'
import { globProblem } from './glob.js'
import { splitList } from './inputText.js'
import type { SecretReference } from './secretReferences.js'
import { kmsKeyArnProblem, requiredSecretActions, type SecretNeed } from './secretAccess.js'
import {
  INSTRUMENTATION_SETTINGS,
  type InstrumentationSetting,
  isValidInstrumentationTemplate
} from './instrumentation.js'
import { arnLocationProblem, partitionOf, partitionProblem, REGION_PATTERN } from './awsPartitions.js'
import { inputTextProblem } from './inputLimits.js'
import { DEFAULT_LAYER_ACCOUNT } from './layerVersions.js'
import { LOG_FORMAT_VARIABLE, MAX_VARIABLES_BYTES, variablesSize } from './plan.js'
import { ENV } from './extensionSettings.js'
import { type Architecture, type FunctionTarget, type Mode, MODES } from './model.js'
import { type DeliveryConfig, parseDelivery } from './inputs/delivery.js'
import { parseFunctions } from './inputs/functions.js'
import { inputNameOf, inputNameOfReference, parseManagedVariables } from './inputs/managedVariables.js'
import { parseBoolean, parseChoice, parseInteger } from './inputs/parsers.js'
import { arnPartitionAndRegion, ROLE_ARN } from './arns.js'

export type { DeliveryConfig }

export interface ActionConfig {
  readonly mode: Mode
  /** The functions named outright (by name or ARN). */
  readonly functions: readonly FunctionTarget[]
  /** Patterns in `functions`, resolved with ListFunctions once credentials exist. */
  readonly patterns: readonly FunctionPattern[]
  /** From `exclude`: each tests a name or an ARN of what the patterns select. */
  readonly excludes: readonly RegExp[]
  /** Every region aws-region lists; the first is where plain names live. */
  readonly regions: readonly string[]
  readonly roleToAssume: string | undefined
  readonly roleSessionName: string
  readonly audience: string
  readonly roleDurationSeconds: number
  /** Region for STS and for clients that need one before any function is known. */
  readonly homeRegion: string
  readonly layerVersion: 'latest' | number
  /** May hold `{arch}`, replaced by `amd64` or `arm64`. */
  readonly layerNameTemplate: string
  readonly layerAccount: string
  readonly architecture: 'auto' | Architecture
  /** The variables the action sets on every function, in the order they are documented. */
  readonly managedVariables: Readonly<Record<string, string>>
  /** Names of managed variables whose values are secret and never shown. */
  readonly secretVariableNames: readonly string[]
  /** Every secret value the action knows of: masked in logs, redacted from summary and outputs. */
  readonly secretValues: readonly string[]
  readonly testInvoke: boolean
  readonly testPayload: string
  readonly rollbackOnFailure: boolean
  readonly maxConcurrency: number
  readonly cloudwatchCheckSeconds: number
  /** Keys `remove` takes off: the settings this action manages, whatever their values. */
  readonly managedKeys: readonly string[]
  readonly failOnDrift: boolean
  readonly prComment: boolean
  readonly githubToken: string
  /**
   * Workspace globs scanned for Rotel layer ARNs in plan and check modes: undefined for the built-in
   * list, empty to turn the scan off.
   */
  readonly annotateFiles: readonly string[] | undefined
  readonly instrumentation: InstrumentationSetting
  /** ARN template with {region} and {arch} for the instrumentation layer, replacing the shipped table. */
  readonly instrumentationLayer: string | undefined
  /** References to secrets in the ROTEL_* settings, resolved by the extension at start-up. */
  readonly secretReferences: readonly SecretReference[]
  /** otlp-headers holds a key itself, which Lambda stores in plain text in the function's configuration. */
  readonly literalIngestionKey: boolean
  /** Send one OTLP record to the endpoint before changing any function (apply mode). */
  readonly preflight: boolean
  /** Proving that the test invocation's telemetry reached ClickStack's ClickHouse. */
  readonly delivery: DeliveryConfig | undefined
  /** off: the execution roles may no longer write the functions' CloudWatch logs. */
  readonly cloudwatchLogs: 'keep' | 'off'
  readonly cloudwatchOffMethod: 'deny' | 'detach'
  /** true: give each execution role read access to exactly the referenced secrets; false: only warn. */
  readonly grantSecretAccess: boolean
  /** What the execution roles need to read the referenced secrets (with kms:Decrypt on secret-kms-key-arn). */
  readonly secretNeeds: readonly SecretNeed[]
  /** json-logs: switch functions that log Text to JSON (so that records carry faas.invocation_id). */
  readonly jsonLogs: boolean
}

export const DEFAULT_LAYER_NAME = 'rotel-extension-{arch}-alpha'
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

/** Regions where the Rotel layer is published in its own account. */
export const ROTEL_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-central-1',
  'eu-north-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-south-1',
  'sa-east-1'
]

export { ENV }

const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/
/** Most items list inputs take: more is no configuration a run could act on in its time. */
const MAX_REGIONS = 50
const MAX_ANNOTATE_GLOBS = 100
/** IAM keeps a role's inline policies under 10,240 characters together; 20 key ARNs fill a quarter of that. */
const MAX_KMS_KEYS = 20
const LAYER_NAME_PATTERN = /^[A-Za-z0-9_-]{1,140}$/

/** How the input reader marks an input refused before parsing (no input can hold NUL: it is refused). */
const REFUSED = '\u0000refused'

/** Thrown with every problem in the inputs, each naming the input and the fix. */
export class InputError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? `Invalid input: ${problems[0]}`
        : `${problems.length} inputs are invalid: ${problems.join(' ')}`
    )
    this.name = 'InputError'
  }
}

export type InputReader = (name: string) => string

/** Reads and validates every input; throws an InputError naming each bad one. */
export function loadConfig(readInput: InputReader, env: NodeJS.ProcessEnv): ActionConfig {
  const problems: string[] = []
  const problem = (message: string): void => void problems.push(message)
  // Each input is screened once, before it is parsed: one refused for its size or a control character
  // reads as empty, so that no later check quotes it or parses a 100 KB value.
  const screened = new Map<string, string>()
  const refused = (name: string): boolean => screened.get(name) === REFUSED
  const input = (name: string): string => {
    const known = screened.get(name)
    if (known !== undefined) return known === REFUSED ? '' : known
    const value = readInput(name).trim()
    const wrong = inputTextProblem(name, value)
    if (wrong) problem(wrong)
    screened.set(name, wrong ? REFUSED : value)
    return wrong ? '' : value
  }

  const modeInput = input('mode') || 'apply'
  const mode = (MODES as readonly string[]).includes(modeInput) ? (modeInput as Mode) : 'apply'
  if (mode !== modeInput) problem(`mode "${modeInput}" must be one of ${MODES.join(', ')}.`)

  const regionInputs = splitList(input('aws-region'))
  if (regionInputs.length > MAX_REGIONS)
    problem(`aws-region lists ${regionInputs.length} regions; AWS has fewer than ${MAX_REGIONS}: list each region once.`)
  for (const region of regionInputs)
    if (!REGION_PATTERN.test(region))
      problem(`aws-region "${region}" is not an AWS region name; write one like us-east-1.`)
  const envRegion = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || ''
  const defaultRegion = regionInputs[0] ?? envRegion
  const regions = regionInputs.length > 0 ? regionInputs : envRegion ? [envRegion] : []

  const layerAccount = input('layer-account') || DEFAULT_LAYER_ACCOUNT
  if (!/^\d{12}$/.test(layerAccount))
    problem(`layer-account "${layerAccount}" is not a 12-digit AWS account ID.`)
  const mirrored = layerAccount !== DEFAULT_LAYER_ACCOUNT

  const selection = parseSelection({ functions: input('functions'), exclude: input('exclude'), regions })
  selection.problems.forEach(problem)
  if (
    selection.names.length === 0 &&
    selection.patterns.length === 0 &&
    selection.problems.length === 0 &&
    !refused('functions')
  )
    problem('functions is empty; list the Lambda functions to instrument, by name, ARN or pattern, one a line.')
  const functions = parseFunctions(selection.names, defaultRegion, refused('aws-region'), problem)
  // Where the run acts: every function named, and every region a pattern lists functions in.
  const places: Array<{ given: string; region: string }> = [
    ...functions.map((f) => ({ given: f.given, region: f.region })),
    ...selection.patterns.flatMap((pattern) => pattern.regions.map((region) => ({ given: pattern.given, region })))
  ]
  const partitions = new Set(places.map((place) => partitionOf(place.region)).filter((p) => p !== undefined).sort())
  if (partitions.size > 1)
    problem(
      `functions mixes functions of the partitions ${[...partitions].join(' and ')}; one run has credentials for one partition: split them into separate steps.`
    )
  const runPartition = partitions.size === 1 ? [...partitions][0] : undefined
  // aws-region was checked above; a region from the environment is used for names and patterns alike.
  if (regionInputs.length === 0 && envRegion && !REGION_PATTERN.test(envRegion))
    problem(
      `the region ${JSON.stringify(envRegion.slice(0, 64))} (from AWS_REGION or AWS_DEFAULT_REGION, as aws-region is empty) is not an AWS region name; set aws-region to one like us-east-1.`
    )
  if (!mirrored)
    for (const { given, region } of places) {
      const partition = partitionOf(region)
      if (partition !== undefined && partition !== 'aws')
        problem(
          `functions: ${given} is in the ${partition} partition, where the Rotel layer is not published; mirror the layer into an account there and set layer-account.`
        )
      else if (partition === 'aws' && !ROTEL_REGIONS.includes(region))
        problem(
          `functions: ${given} is in ${region}, where the Rotel layer is not published (it is in ${ROTEL_REGIONS.join(', ')}); mirror the layer into your own account there and set layer-account.`
        )
    }
  // An ARN of one partition cannot be used with credentials of another.
  const samePartition = (inputName: string, given: string, partition: string): void => {
    if (runPartition !== undefined && partition !== runPartition)
      problem(
        `${inputName}: ${given} is in the partition ${partition} and the functions are in ${runPartition}; AWS does not act across partitions: give one in ${runPartition}.`
      )
  }

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
    problem(
      `role-session-name "${roleSessionName}" must be 2 to 64 characters of letters, digits and _+=,.@-.`
    )
  const audience = input('audience') || 'sts.amazonaws.com'
  const roleDurationSeconds = parseInteger(
    'role-duration-seconds',
    input('role-duration-seconds') || '3600',
    900,
    43200,
    problem
  )

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
  else if (architectureInput !== 'auto')
    problem(`architecture "${architectureInput}" must be auto, x86_64 or arm64.`)

  const { managedVariables, secretVariableNames, secretValues, secretReferences } = parseManagedVariables(
    input,
    problem
  )

  const testInvoke = parseBoolean('test-invoke', input('test-invoke'), true, problem)
  const testPayload = input('test-payload') || '{"test":"data"}'
  if (Buffer.byteLength(testPayload) > MAX_PAYLOAD_BYTES) {
    problem(`test-payload is ${Buffer.byteLength(testPayload)} bytes; Lambda takes at most 6 MB (6291456 bytes) in a synchronous invocation.`)
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
  const maxConcurrency = parseInteger('max-concurrency', input('max-concurrency') || '8', 1, 64, problem)
  const cloudwatchCheckSeconds = parseInteger(
    'cloudwatch-check-seconds',
    input('cloudwatch-check-seconds') || '15',
    0,
    300,
    problem
  )

  const failOnDrift = parseBoolean('fail-on-drift', input('fail-on-drift'), true, problem)
  const prComment = parseBoolean('pr-comment', input('pr-comment'), true, problem)
  const githubToken = input('github-token')
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
    problem(`annotate-files lists ${annotateFiles.length} globs; at most ${MAX_ANNOTATE_GLOBS}: combine them with ** or {a,b}.`)

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

  const preflight = parseBoolean('preflight', input('preflight'), true, problem)
  const jsonLogs = parseBoolean('json-logs', input('json-logs'), false, problem)
  const delivery = parseDelivery(input, problem, secretValues, refused)
  const cloudwatchLogs = parseChoice('cloudwatch-logs', input('cloudwatch-logs'), ['keep', 'off'] as const, problem)
  const grantSecretAccess = parseBoolean('grant-secret-access', input('grant-secret-access'), false, problem)
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
    problem('secret-kms-key-arn is set but no setting references a secret; drop it, or reference the ingestion key in otlp-headers as ${arn:aws:secretsmanager:…}.')
  const cloudwatchOffMethod = parseChoice(
    'cloudwatch-off-method',
    input('cloudwatch-off-method'),
    ['deny', 'detach'] as const,
    problem
  )

  // Checked here so that a value too big for any function fails now, not after every function was read.
  const written = { ...managedVariables, ...(jsonLogs ? { [LOG_FORMAT_VARIABLE]: 'Text' } : {}) }
  const size = variablesSize(written)
  if (size > MAX_VARIABLES_BYTES) {
    const shares = new Map<string, number>()
    for (const [key, value] of Object.entries(written)) {
      const name = key === LOG_FORMAT_VARIABLE ? 'json-logs' : inputNameOf(key).replace(/ \(.*\)$/, '')
      shares.set(name, (shares.get(name) ?? 0) + variablesSize({ [key]: value }) - 2)
    }
    const list = [...shares].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => `${name} ${bytes}`)
    problem(
      `the settings this action writes take ${size} bytes as Lambda counts them (${list.join(', ')}) and Lambda allows ${MAX_VARIABLES_BYTES} for all of a function's environment variables together; shorten them, or move settings into env-file.`
    )
  }

  if (problems.length > 0) throw new InputError([...new Set(problems)])

  return {
    mode,
    functions,
    patterns: selection.patterns,
    excludes: selection.excludes,
    regions,
    roleToAssume,
    roleSessionName,
    audience,
    roleDurationSeconds,
    homeRegion: defaultRegion || functions[0]?.region || 'us-east-1',
    layerVersion,
    layerNameTemplate,
    layerAccount,
    architecture,
    managedVariables,
    secretVariableNames,
    secretValues,
    testInvoke,
    testPayload,
    rollbackOnFailure,
    maxConcurrency,
    cloudwatchCheckSeconds,
    managedKeys: [...new Set([...Object.values(ENV), ...Object.keys(managedVariables)])],
    failOnDrift,
    prComment,
    githubToken,
    annotateFiles,
    instrumentation,
    instrumentationLayer,
    secretReferences,
    literalIngestionKey:
      ENV.headers in managedVariables &&
      !secretReferences.some((reference) => (managedVariables[ENV.headers] ?? '').includes(reference.text)),
    preflight,
    delivery,
    cloudwatchLogs,
    cloudwatchOffMethod,
    jsonLogs,
    grantSecretAccess,
    secretNeeds: requiredSecretActions(secretReferences, kmsKeys)
  }
}




/** The layer name for one architecture. */
export function layerNameFor(template: string, architecture: Architecture): string {
  return template.replaceAll('{arch}', architecture === 'arm64' ? 'arm64' : 'amd64')
}
