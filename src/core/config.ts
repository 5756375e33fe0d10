/**
 * Turns the action's inputs into one readonly, validated configuration. Every input error is found
 * here, before any AWS call, and all of them are reported at once.
 */
import { type FunctionPattern, parseSelection } from './functionSelection.js'
import { globProblem } from './glob.js'
import { splitList } from './inputText.js'
import { findSecretReferences, type SecretReference } from './secretReferences.js'
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
import { ACTION_VARIABLE_PREFIX } from './variableRecord.js'
import { isSecretName, secretPartsOf } from './secretNames.js'
import { ACTION_RESOURCE_ATTRIBUTES } from './valueDisplay.js'
import { type Architecture, type FunctionTarget, type Mode, MODES } from './model.js'

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

export interface DeliveryConfig {
  readonly mode: 'warn' | 'require'
  readonly url: string
  readonly username: string | undefined
  readonly password: string | undefined
  readonly database: string
  readonly logsTable: string
  readonly tracesTable: string
  readonly timeoutSeconds: number
  readonly hyperdxUrl: string | undefined
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

const CLOUD_ATTRIBUTES = ACTION_RESOURCE_ATTRIBUTES

/** Variables Lambda sets itself and refuses to take from a function's configuration. */
const RESERVED_VARIABLES = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR'
])

const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
const FUNCTION_ARN_PATTERN =
  /^arn:([a-z][a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9$_-]+))?$/
const ROLE_ARN_PATTERN = /^arn:([a-z][a-z-]*):iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/
const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/
const VARIABLE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/**
 * Printable ASCII: an HTTP field value is bytes (RFC 9110 keeps non-ASCII only as obsolete text), and a
 * gRPC metadata value of a non-binary key is printable ASCII; the extension sends the headers by both.
 */
const HEADER_VALUE_PATTERN = /^[\x20-\x7e]*$/
/** ClickHouse's plain identifiers; a database name has no dot (a table may be written database.table). */
const CLICKHOUSE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,205}$/
const CLICKHOUSE_TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,205}(\.[A-Za-z_][A-Za-z0-9_]{0,205})?$/
/**
 * What may not be in hyperdx-url, which the summary puts into a Markdown link `[search](URL)`: what
 * would close or reopen the link, start HTML, or end the URL early.
 */
const LINK_BREAKERS = /[\s()[\]<>"'`\\{}|^]/
/**
 * A value of nothing but "=" is the padding of a base64 key pasted without its name, whose first "=" was
 * taken for the separator: the key would become a name, shown everywhere names are.
 */
const PADDING_ONLY = /^=+$/
const PASTED_WITHOUT_NAME = 'looks like a base64 value pasted without its name (it ends in "=" padding; not shown)'
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
  const rolePartition = roleToAssume ? ROLE_ARN_PATTERN.exec(roleToAssume)?.[1] : undefined
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
    const [, partition = '', region = ''] = /^arn:([^:]*):lambda:([^:]*):/.exec(instrumentationLayer) ?? []
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

function parseFunctions(
  items: readonly string[],
  defaultRegion: string,
  regionRefused: boolean,
  problem: (message: string) => void
): FunctionTarget[] {
  const byKey = new Map<string, FunctionTarget>()
  for (const given of items) {
    let target: FunctionTarget | undefined
    if (given.startsWith('arn:')) {
      const match = FUNCTION_ARN_PATTERN.exec(given)
      if (!match) {
        problem(
          `functions: "${given}" is not a Lambda function ARN; write arn:aws:lambda:REGION:ACCOUNT:function:NAME, or the plain function name.`
        )
        continue
      }
      const [, partition, region, account, name, qualifier] = match as unknown as [
        string,
        string,
        string,
        string,
        string,
        string | undefined
      ]
      if (qualifier !== undefined) {
        problem(
          `functions: "${given}" names the version or alias ${qualifier}; only the function itself ($LATEST) can be configured: drop ":${qualifier}".`
        )
        continue
      }
      const location = arnLocationProblem(partition, region)
      if (location) {
        problem(`functions: "${given}" ${location}.`)
        continue
      }
      target = { given, name, region, account, partition }
    } else if (FUNCTION_NAME_PATTERN.test(given)) {
      if (!defaultRegion) {
        // A refused aws-region was reported already; that its names then have no region says nothing new.
        if (!regionRefused)
          problem(
            `functions: "${given}" is a plain name but no region is known; set aws-region (or AWS_REGION), or give the function's ARN.`
          )
        continue
      }
      target = {
        given,
        name: given,
        region: defaultRegion,
        account: undefined,
        partition: partitionOf(defaultRegion) ?? 'aws'
      }
    } else {
      problem(
        `functions: "${given}" is neither a function name (1 to 64 letters, digits, - and _) nor a function ARN.`
      )
      continue
    }
    // The same function by name and by ARN is one function: keep the more precise (ARN) form.
    const key = `${target.region}/${target.name}`
    const earlier = byKey.get(key)
    if (!earlier || (earlier.account === undefined && target.account !== undefined)) byKey.set(key, target)
  }
  return [...byKey.values()]
}

interface ManagedVariables {
  managedVariables: Record<string, string>
  secretVariableNames: string[]
  secretValues: string[]
  secretReferences: SecretReference[]
}

function parseManagedVariables(
  input: (name: string) => string,
  problem: (message: string) => void
): ManagedVariables {
  const variables: Record<string, string> = {}
  const secretValues: string[] = []
  const secretVariableNames: string[] = []

  const endpoint = input('otlp-endpoint')
  // A key in the query (?api_key=…) or a password in the URL is a secret even when the URL is refused.
  secretValues.push(...secretPartsOf(endpoint))
  if (endpoint) {
    let url: URL | undefined
    try {
      url = new URL(endpoint)
    } catch {
      url = undefined
    }
    // The endpoint is not quoted: its user-info or query may carry a key.
    if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname)
      problem('otlp-endpoint is not an http(s) URL; write it like https://clickstack.example.com:4317.')
    else if (/\s/.test(endpoint))
      // The URL parser would encode or drop it; the extension would be given the raw text.
      problem('otlp-endpoint holds a space; write the URL without spaces (percent-encode one that belongs in it as %20).')
    else if (url.username || url.password)
      problem('otlp-endpoint must not carry credentials in the URL; put the ingestion key in otlp-headers.')
    else variables[ENV.endpoint] = endpoint
  }

  const protocol = input('otlp-protocol')
  if (protocol) {
    if (protocol === 'grpc' || protocol === 'http') variables[ENV.protocol] = protocol
    else problem(`otlp-protocol "${protocol}" must be grpc or http (or empty for the extension's default, grpc).`)
  }

  const headers = input('otlp-headers')
  if (/^secret:\/\//.test(headers)) {
    // The whole header list lives in a secret: the extension reads it at start-up.
    secretValues.push(headers)
    variables[ENV.headers] = headers
    secretVariableNames.push(ENV.headers)
  } else if (headers) {
    secretValues.push(headers)
    const pairs = parsePairs(headers, 'otlp-headers', HEADER_NAME_PATTERN, problem, true)
    for (const [, headerValue] of pairs) if (headerValue) secretValues.push(headerValue, ...secretPartsOf(headerValue))
    const seen = new Set<string>()
    for (const [name, headerValue] of pairs) {
      // Header names ignore case: two spellings of one name are one header sent twice, or one lost.
      if (seen.has(name.toLowerCase()))
        problem(`otlp-headers: the header ${name} is given twice (header names ignore case); keep one.`)
      seen.add(name.toLowerCase())
      if (headerValue === '')
        problem(
          `otlp-headers: the header ${name} has an empty value; give its value (if a secret fills it, check that the secret is set for this workflow).`
        )
      else if (!HEADER_VALUE_PATTERN.test(headerValue))
        problem(
          `otlp-headers: the value of ${name} holds a character outside printable ASCII (value not shown); HTTP and gRPC headers take ASCII only: percent- or base64-encode it.`
        )
    }
    if (pairs.length > 0) {
      variables[ENV.headers] = pairs.map(([k, v]) => `${k}=${v}`).join(',')
      secretVariableNames.push(ENV.headers)
    }
  }

  const attributes = input('resource-attributes')
  const pairs = attributes ? parsePairs(attributes, 'resource-attributes', /^[A-Za-z0-9_.\-/]+$/, problem, false) : []
  for (const [index, [key]] of pairs.entries())
    if (pairs.findIndex(([other]) => other === key) < index)
      problem(`resource-attributes: ${key} is given twice; keep one.`)
  // The extension does not set these, although the guide tells users to look for them in HyperDX.
  if (parseBoolean('cloud-attributes', input('cloud-attributes'), true, problem))
    for (const [key, value] of CLOUD_ATTRIBUTES) if (!pairs.some(([k]) => k === key)) pairs.push([key, value])
  if (pairs.length > 0) variables[ENV.resourceAttributes] = pairs.map(([k, v]) => `${k}=${v}`).join(',')

  const envFile = input('env-file')
  if (envFile) {
    if (envFile.startsWith('/') && !/[\s,]/.test(envFile)) variables[ENV.envFile] = envFile
    else problem(`env-file "${envFile}" must be an absolute path inside the function, like /var/task/rotel.env.`)
  }

  const environmentKeys = new Set<string>()
  input('environment')
    .split(/\r?\n/)
    .forEach((line, index) => {
    const trimmed = line.trim()
    if (!trimmed || trimmed.startsWith('#')) return
    const eq = trimmed.indexOf('=')
    if (eq <= 0) {
      // The line is not shown: it may be a secret pasted without its key.
      problem(`environment: line ${index + 1} is not of the form KEY=VALUE; write one KEY=VALUE a line.`)
      return
    }
    const key = trimmed.slice(0, eq).trim()
    const value = trimmed.slice(eq + 1).trim()
    if (PADDING_ONLY.test(value)) {
      problem(`environment: line ${index + 1} ${PASTED_WITHOUT_NAME}; write one KEY=VALUE a line.`)
    } else if (!VARIABLE_NAME_PATTERN.test(key)) {
      // Not quoted: what comes before "=" may be a secret whose own "=" (base64 padding) was taken for the separator.
      problem(
        `environment: line ${index + 1} does not start with a variable name (a letter, then letters, digits and _) followed by "="; the line is not shown, in case it holds a secret.`
      )
    } else if (RESERVED_VARIABLES.has(key)) {
      problem(`environment: ${key} is reserved by Lambda and cannot be set; remove that line.`)
    } else if (key === LOG_FORMAT_VARIABLE || key.startsWith(ACTION_VARIABLE_PREFIX)) {
      problem(`environment: ${key} is a name the action keeps for its records (${ACTION_VARIABLE_PREFIX}…); remove that line.`)
    } else if (environmentKeys.has(key)) {
      problem(`environment: ${key} is given twice; keep one line.`)
    } else if (Object.hasOwn(variables, key)) {
      problem(`environment: ${key} is already set by another input of this action; set it in one place only.`)
    } else {
      environmentKeys.add(key)
      variables[key] = value
      if (isSecretName(key)) {
        secretVariableNames.push(key)
        if (value) secretValues.push(value)
      }
      secretValues.push(...secretPartsOf(value))
    }
  })

  const secretReferences: SecretReference[] = []
  for (const [key, value] of Object.entries(variables)) {
    if (!key.startsWith('ROTEL_')) continue
    const found = findSecretReferences(value, inputNameOf(key))
    found.problems.forEach(problem)
    secretReferences.push(...found.references)
  }
  return { managedVariables: variables, secretVariableNames, secretValues, secretReferences }
}

function parseDelivery(
  input: (name: string) => string,
  problem: (message: string) => void,
  secretValues: string[],
  refused: (name: string) => boolean
): DeliveryConfig | undefined {
  const url = input('clickhouse-url')
  const password = input('clickhouse-password')
  if (password) secretValues.push(password)
  // The credentials in either URL, and user:password as the ClickHouse client sends it (Basic auth, base64).
  const urlParts = secretPartsOf(url)
  secretValues.push(...urlParts, ...secretPartsOf(input('hyperdx-url')))
  const fromUrl = urlCredentials(url)
  const sentPassword = password || fromUrl.password
  if (sentPassword) secretValues.push(`${input('clickhouse-user') || fromUrl.user || 'default'}:${sentPassword}`)
  const setting = input('verify-delivery') || (url ? 'warn' : 'off')
  if (!['off', 'warn', 'require'].includes(setting)) {
    problem(`verify-delivery "${setting}" must be off, warn or require.`)
    return undefined
  }
  const timeoutSeconds = parseInteger('verify-delivery-timeout', input('verify-delivery-timeout') || '90', 5, 900, problem)
  const username = input('clickhouse-user') || undefined
  const logsTable = input('logs-table') || 'otel_logs'
  const tracesTable = input('traces-table') || 'otel_traces'
  const database = input('clickhouse-database') || 'default'
  const hyperdxUrl = input('hyperdx-url') || undefined
  if (setting === 'off') return undefined
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (!url) {
    if (!refused('clickhouse-url'))
      problem(`verify-delivery is ${setting} but clickhouse-url is empty; set it to ClickStack's ClickHouse HTTP endpoint, e.g. https://clickhouse.example.com:8443.`)
    return undefined
  }
  // secretPartsOf above already holds the password as written; one the client could not decode is refused.
  if (parsed?.password) {
    try {
      decodeURIComponent(parsed.password)
    } catch {
      problem(
        'clickhouse-url: the password in the URL has a malformed %-escape (a % not followed by two hex digits); write % as %25, or put the password in clickhouse-password.'
      )
      return undefined
    }
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) {
    problem('clickhouse-url is not an http(s) URL; write it like https://clickhouse.example.com:8443.')
    return undefined
  }
  for (const [name, value] of [['logs-table', logsTable], ['traces-table', tracesTable]] as const)
    if (!CLICKHOUSE_TABLE.test(value))
      problem(`${name} "${value}" is not a ClickHouse table name; write NAME or DATABASE.NAME (letters, digits and _).`)
  if (!CLICKHOUSE_NAME.test(database))
    problem(
      `clickhouse-database "${database}" is not a ClickHouse database name (letters, digits and _, no dot); to name a table in another database, write DATABASE.NAME in logs-table and traces-table.`
    )
  if (hyperdxUrl) {
    const wrong = hyperdxUrlProblem(hyperdxUrl)
    if (wrong) problem(`hyperdx-url ${wrong}`)
  }
  return {
    mode: setting as 'warn' | 'require',
    url,
    username,
    password: password || undefined,
    database,
    logsTable,
    tracesTable,
    timeoutSeconds,
    hyperdxUrl
  }
}

/** The user-info of a URL, decoded as the ClickHouse client takes it; empty when none or not a URL. */
function urlCredentials(url: string): { user: string; password: string } {
  try {
    const parsed = new URL(url)
    return { user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }
  } catch {
    return { user: '', password: '' }
  }
}

/** Why hyperdx-url cannot be the base of the summary's `[search](URL)` link; undefined when it can. Never quotes it. */
function hyperdxUrlProblem(value: string): string | undefined {
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname || !/^https?:\/\//i.test(value))
    return 'is not an http(s) URL; write it like https://hyperdx.example.com.'
  // Refused rather than percent-encoded: an address with these is more likely a mistake than HyperDX's.
  if (LINK_BREAKERS.test(value))
    return 'holds a character that would break the summary\'s Markdown link (a space, quote, bracket, parenthesis, <, >, \\, {, }, | or ^); percent-encode it, e.g. ) as %29.'
  if (url.username || url.password)
    return 'must not carry credentials (they would be shown in every link); HyperDX asks for its own login.'
  if (url.search || url.hash)
    return 'must be HyperDX\'s address without a ?query or #fragment; the action adds the search to it.'
  return undefined
}

/** The input a secret reference was written in, for messages. */
function inputNameOfReference(reference: SecretReference, variables: Readonly<Record<string, string>>): string {
  const key = Object.keys(variables).find((k) => k.startsWith('ROTEL_') && (variables[k] ?? '').includes(reference.text))
  return key ? inputNameOf(key) : 'otlp-headers'
}

/** The input a managed variable comes from, for messages. */
function inputNameOf(key: string): string {
  const entry = Object.entries(ENV).find(([, variable]) => variable === key)
  return entry ? INPUT_OF[entry[0] as keyof typeof ENV] : `environment (${key})`
}

const INPUT_OF: Record<keyof typeof ENV, string> = {
  endpoint: 'otlp-endpoint',
  protocol: 'otlp-protocol',
  headers: 'otlp-headers',
  resourceAttributes: 'resource-attributes',
  envFile: 'env-file'
}

/**
 * Parses `k=v` pairs given comma-separated or one a line. The extension splits its value on commas,
 * so a comma inside a value would silently cut it: that is an error here.
 */
function parsePairs(
  value: string,
  inputName: string,
  keyPattern: RegExp,
  problem: (message: string) => void,
  secret: boolean
): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  const items = value
    .split(/\r?\n/)
    .flatMap((line) => line.split(','))
    .map((item) => item.trim())
  items.forEach((item, index) => {
    if (!item) return
    const eq = item.indexOf('=')
    if (eq === 0) {
      problem(`${inputName}: entry ${index + 1} has no name before "="; write name=value.`)
      return
    }
    if (eq < 0) {
      problem(
        index > 0
          ? `${inputName}: a value contains a comma, or an entry lacks "="; write name=value entries separated by commas or new lines, with no comma inside a value.`
          : `${inputName}: the entry ${secret ? '(value hidden)' : `"${item}"`} is not name=value.`
      )
      return
    }
    const key = item.slice(0, eq).trim()
    const entryValue = item.slice(eq + 1).trim()
    if (secret && PADDING_ONLY.test(entryValue)) {
      problem(`${inputName}: entry ${index + 1} ${PASTED_WITHOUT_NAME}; write name=value.`)
      return
    }
    if (!keyPattern.test(key)) {
      // In a secret input, text before "=" may be a key pasted in the wrong form: it is not echoed.
      problem(`${inputName}: ${secret ? `entry ${index + 1}` : `"${key}"`} does not start with a valid name followed by "=".`)
      return
    }
    pairs.push([key, entryValue])
  })
  return pairs
}

/** One of `choices`; the first when empty. */
function parseChoice<T extends string>(
  name: string,
  value: string,
  choices: readonly [T, ...T[]],
  problem: (message: string) => void
): T {
  if (!value) return choices[0]
  const found = choices.find((choice) => choice === value.toLowerCase())
  if (found) return found
  problem(`${name} "${value}" must be ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}.`)
  return choices[0]
}

function parseBoolean(
  name: string,
  value: string,
  fallback: boolean,
  problem: (message: string) => void
): boolean {
  if (!value) return fallback
  if (/^(true|yes|on)$/i.test(value)) return true
  if (/^(false|no|off)$/i.test(value)) return false
  problem(`${name} "${value}" must be true or false.`)
  return fallback
}

function parseInteger(
  name: string,
  value: string,
  min: number,
  max: number,
  problem: (message: string) => void
): number {
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    problem(`${name} "${value}" must be a whole number from ${min} to ${max}.`)
    return min
  }
  return Number(value)
}

/** The layer name for one architecture. */
export function layerNameFor(template: string, architecture: Architecture): string {
  return template.replaceAll('{arch}', architecture === 'arm64' ? 'arm64' : 'amd64')
}
