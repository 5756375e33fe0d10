/**
 * Turns the action's inputs into one readonly, validated configuration. Every input error is found
 * here, before any AWS call, and all of them are reported at once.
 */
import type { FunctionPattern } from './functionSelection.js'
import type { SecretReference } from './secretReferences.js'
import { requiredSecretActions, type SecretNeed } from './secretAccess.js'
import type { InstrumentationSetting } from './instrumentation.js'
import { inputTextProblem } from './inputLimits.js'
import { ENV } from './extensionSettings.js'
import { type Architecture, type FunctionTarget, type Mode, MODES } from './model.js'
import type { ApiRates } from './apiRates.js'
import { type DeliveryConfig, parseDelivery } from './inputs/delivery.js'
import { checkVariablesSize, parseManagedVariables } from './inputs/managedVariables.js'
import { parseBoolean, parseChoice } from './inputs/parsers.js'
import {
  DEFAULT_LAYER_NAME,
  MAX_PAYLOAD_BYTES,
  parseAnnotateFiles,
  parseInstrumentation,
  parseKmsKeys,
  parseLayer,
  parseRole,
  parseTestInvoke
} from './inputs/runSettings.js'
import { parseWhere, ROTEL_REGIONS } from './inputs/where.js'
import type { RolloutWaves } from './inputs/rolloutWaves.js'
import { parseMemorySettings } from './inputs/memory.js'
import type { LowMemoryAction, MemoryHeadroom } from './memoryHeadroom.js'

export type { DeliveryConfig }
export { DEFAULT_LAYER_NAME, MAX_PAYLOAD_BYTES, ROTEL_REGIONS }

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
  /** canary and failure-tolerance: the first wave, and how many failures stop the rollout. */
  readonly waves: RolloutWaves
  /** The API rates the run keeps to per region: AWS's published quotas unless aws-api-rates says otherwise. */
  readonly apiRates: ApiRates
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
  /** How much of its memory size a function must keep free in the test invocation (memory-headroom). */
  readonly memoryHeadroom: MemoryHeadroom
  /** low-memory: warn, or roll back and fail, when it does not. */
  readonly lowMemory: LowMemoryAction
  /** compare-report: an earlier run's report file, whose figures the rows compare with; undefined for none. */
  readonly compareReport: string | undefined
}

export { ENV }

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
  const { input, refused } = screenInputs(readInput, problem)

  const modeInput = input('mode') || 'apply'
  const mode = (MODES as readonly string[]).includes(modeInput) ? (modeInput as Mode) : 'apply'
  if (mode !== modeInput) problem(`mode "${modeInput}" must be one of ${MODES.join(', ')}.`)

  const place = parseWhere(input, refused, env, problem)
  const { regions, defaultRegion, layerAccount, selection, functions, samePartition } = place

  const role = parseRole(input, problem, samePartition)
  const layer = parseLayer(input, problem)

  const { managedVariables, secretVariableNames, secretValues, secretReferences } = parseManagedVariables(
    input,
    problem
  )

  const invoke = { ...parseTestInvoke(input, problem), ...parseMemorySettings(input, problem) }

  const failOnDrift = parseBoolean('fail-on-drift', input('fail-on-drift'), true, problem)
  const prComment = parseBoolean('pr-comment', input('pr-comment'), true, problem)
  const githubToken = input('github-token')
  const annotateFiles = parseAnnotateFiles(input, problem)

  const instrumentation = parseInstrumentation(input, problem, samePartition)

  const preflight = parseBoolean('preflight', input('preflight'), true, problem)
  const jsonLogs = parseBoolean('json-logs', input('json-logs'), false, problem)
  const delivery = parseDelivery(input, problem, secretValues, refused)
  const cloudwatchLogs = parseChoice('cloudwatch-logs', input('cloudwatch-logs'), ['keep', 'off'] as const, problem)
  const grantSecretAccess = parseBoolean('grant-secret-access', input('grant-secret-access'), false, problem)
  const kmsKeys = parseKmsKeys(input, problem, samePartition, secretReferences, managedVariables)
  const cloudwatchOffMethod = parseChoice(
    'cloudwatch-off-method',
    input('cloudwatch-off-method'),
    ['deny', 'detach'] as const,
    problem
  )

  // Checked here so that a value too big for any function fails now, not after every function was read.
  checkVariablesSize(managedVariables, jsonLogs, problem)

  if (problems.length > 0) throw new InputError([...new Set(problems)])

  return {
    mode,
    functions,
    patterns: selection.patterns,
    excludes: selection.excludes,
    regions,
    ...role,
    homeRegion: defaultRegion || functions[0]?.region || 'us-east-1',
    ...layer,
    layerAccount,
    managedVariables,
    secretVariableNames,
    secretValues,
    ...invoke,
    managedKeys: [...new Set([...Object.values(ENV), ...Object.keys(managedVariables)])],
    failOnDrift,
    prComment,
    githubToken,
    annotateFiles,
    ...instrumentation,
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

/**
 * Each input is screened once, before it is parsed: one refused for its size or a control character
 * reads as empty, so that no later check quotes it or parses a 100 KB value.
 */
function screenInputs(readInput: InputReader, problem: (message: string) => void) {
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

  return { input, refused }
}
