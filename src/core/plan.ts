/**
 * The pure core: from a function's current configuration and what the action wants on it, the
 * configuration to write, what differs, and why it cannot be written when it cannot.
 */
import { EXTENSION_SETTINGS } from './extensionSettings.js'
import { isInstrumentationLayer, WRAPPER_VARIABLE, WRAPPERS } from './instrumentation.js'
import {
  PREVIOUS_VARIABLES_VARIABLE,
  readRecord,
  recordAfter,
  sameRecord,
  UnreadableRecordError,
  type VariableRecord,
  writeRecord
} from './variableRecord.js'
import { displayValue } from './valueDisplay.js'
import type { Architecture, FunctionState, LoggingConfig, PlanDiff, VariableChange } from './model.js'
import { layerVersionArnShape } from './arns.js'

export const MAX_LAYERS = 5
export const MAX_VARIABLES_BYTES = 4096

/**
 * Where json-logs records the log format a function had before the action switched it to JSON, so
 * that `remove` can put it back. Why a variable of the function, and not a tag:
 * - it is read with the configuration (GetFunction, or the listing), so check and plan stay at one read
 *   per function and remove needs no extra ListTags call; a tag would also need lambda:TagResource,
 *   UntagResource and ListTags on the deploy role;
 * - it is written in the same UpdateFunctionConfiguration as the LoggingConfig it describes, under the
 *   same RevisionId: the record and the change cannot part (a failed TagResource after a successful
 *   write would lose the previous format), and rollback, which restores the variables exactly, drops it;
 * - `remove` already takes the action's variables off, so the record goes with the change it explains.
 * Not a ROTEL_ name: the extension scans every ROTEL_ variable for secret references at start-up
 * (rotel-lambda-extension src/env.rs) and ROTEL_ is its configuration namespace; this one is the
 * action's alone, and its value (`Text`) is nothing the extension or the function needs. It costs its
 * ~45 bytes of the 4 KB variable budget, counted by the planner like any other variable.
 */
export const LOG_FORMAT_VARIABLE = 'CLICKSTACK_ACTION_PREVIOUS_LOG_FORMAT'

export interface Desired {
  /** The Rotel layer version ARN for this function's region and architecture. */
  readonly layerArn: string
  readonly layerArchitectures: readonly string[]
  /** The architecture the action was told to use, or auto. */
  readonly architecture: 'auto' | Architecture
  readonly variables: Readonly<Record<string, string>>
  /** Extra layer names (besides the Rotel defaults) that count as the Rotel layer, e.g. a mirror's. */
  readonly layerNames: readonly string[]
  /** AWS's auto-instrumentation layer and the wrapper that turns it on, when wanted for this function. */
  readonly instrumentation?:
    | {
        readonly layerArn: string
        readonly wrapper: string
        /** Names that count as the instrumentation layer besides ADOT's own, e.g. a mirror's from instrumentation-layer. */
        readonly layerNames: readonly string[]
      }
    | undefined
  /** json-logs: switch a function that logs Text to JSON, recording Text in LOG_FORMAT_VARIABLE. */
  readonly jsonLogs?: boolean | undefined
}

export interface Plan {
  readonly layersBefore: readonly string[]
  readonly layersAfter: readonly string[]
  readonly variablesAfter: Readonly<Record<string, string>>
  /** The Rotel layer the function had, if any. */
  readonly rotelLayerBefore: string | null
  /** Variables the write adds or changes, by name. */
  readonly changedVariables: readonly string[]
  /** Variables the write takes off, by name. */
  readonly removedVariables: readonly string[]
  /**
   * Variables whose values here are the user's own (the record of them, and the ones it gives back):
   * never shown, whatever their names.
   */
  readonly hiddenValues?: readonly string[]
  readonly layersChanged: boolean
  /** The LoggingConfig to write; undefined when the log format does not change (then none is sent). */
  readonly loggingAfter?: LoggingConfig | undefined
  readonly changed: boolean
  /** Why this function cannot be written; empty when it can. */
  readonly problems: readonly string[]
}

const ROTEL_LAYER_NAME = /^rotel-extension-(amd64|arm64)(-alpha)?$/

/** Whether a layer version ARN is a Rotel extension layer: either line, either arch, any account and version. */
export function isRotelLayer(layerArn: string, extraNames: readonly string[] = []): boolean {
  const name = layerVersionArnShape(layerArn)?.name
  if (name === undefined) return false
  return ROTEL_LAYER_NAME.test(name) || extraNames.includes(name)
}

/** The names a layer-name template gives for both architectures. */
export function layerNamesOf(template: string): string[] {
  return [template.replaceAll('{arch}', 'amd64'), template.replaceAll('{arch}', 'arm64')]
}

/** The byte size Lambda measures for the 4 KB limit: the variables serialised as JSON. */
export function variablesSize(variables: Readonly<Record<string, string>>): number {
  return Buffer.byteLength(JSON.stringify(variables))
}

/** Plans the write that puts the Rotel layer and settings on one function, keeping everything of the user's. */
export function planApply(state: FunctionState, desired: Desired): Plan {
  const problems = unfitProblems(state, desired)
  const { layersAfter, rotelLayerBefore } = withRotelLayer(state.layers, desired)
  const before = state.variables ?? {}
  const variables = variableWrites(before)
  if (desired.instrumentation) {
    const { layerArn, wrapper, layerNames } = desired.instrumentation
    placeInstrumentationLayer(layersAfter, layerArn, layerNames)
    const current = before[WRAPPER_VARIABLE]
    if (current && current !== wrapper && !Object.values(WRAPPERS).includes(current))
      problems.push(
        `its ${WRAPPER_VARIABLE} is already ${current}, a wrapper for something else; auto-instrumentation would replace it. Remove that wrapper first, or set instrumentation: none.`
      )
    else variables.set(WRAPPER_VARIABLE, wrapper)
  }
  if (layersAfter.length > MAX_LAYERS)
    problems.push(
      `it would have ${layersAfter.length} layers and Lambda allows ${MAX_LAYERS}; remove one of its layers first.`
    )

  const { settings, conflicts } = setSettings(desired, variables)
  problems.push(...conflicts)
  // A function already on JSON is left alone, and nothing is recorded: remove then leaves it JSON.
  let loggingAfter: LoggingConfig | undefined
  if (desired.jsonLogs && logFormatOf(state) !== 'JSON') {
    loggingAfter = { ...state.logging, format: 'JSON' }
    variables.set(LOG_FORMAT_VARIABLE, logFormatOf(state))
  }
  const writes = !sameList(state.layers, layersAfter) || variables.changed.length > 0 || loggingAfter !== undefined
  const record = recordReplaced(before, settings, rotelLayerBefore !== null, writes, variables)
  if (record.problem !== undefined) problems.push(record.problem)
  problems.push(...variablesProblems(variables.after))

  const layersChanged = !sameList(state.layers, layersAfter)
  return {
    layersBefore: state.layers,
    layersAfter,
    variablesAfter: variables.after,
    rotelLayerBefore,
    changedVariables: variables.changed,
    removedVariables: [],
    hiddenValues: record.hiddenValues,
    layersChanged,
    loggingAfter,
    changed: layersChanged || variables.changed.length > 0 || loggingAfter !== undefined,
    problems
  }
}

/** Why the function itself cannot take the layer: an image, or an architecture the layer or input does not fit. */
function unfitProblems(state: FunctionState, desired: Desired): string[] {
  const problems: string[] = []
  if (state.packageType === 'Image')
    problems.push(
      'it is a container-image function, and those cannot use layers; build the Rotel extension into the image instead.'
    )
  if (desired.architecture !== 'auto' && desired.architecture !== state.architecture)
    problems.push(
      `it is ${state.architecture} but the architecture input says ${desired.architecture}; the ${desired.architecture} extension cannot run on it: use architecture: auto.`
    )
  if (desired.layerArchitectures.length > 0 && !desired.layerArchitectures.includes(state.architecture))
    problems.push(
      `the layer ${desired.layerArn} is for ${desired.layerArchitectures.join(', ')}, not ${state.architecture}; check layer-name.`
    )
  return problems
}

/** The layers with the desired Rotel layer in, and the Rotel layer they had, if any. */
function withRotelLayer(
  layers: readonly string[],
  desired: Desired
): { layersAfter: string[]; rotelLayerBefore: string | null } {
  // Replace the first Rotel layer in place, so that the overlay order in /opt stays the user's;
  // drop any further Rotel layer, because two copies of the extension would both start.
  const layersAfter: string[] = []
  let rotelLayerBefore: string | null = null
  for (const layer of layers) {
    if (isRotelLayer(layer, desired.layerNames)) {
      if (rotelLayerBefore === null) {
        rotelLayerBefore = layer
        layersAfter.push(desired.layerArn)
      }
    } else {
      layersAfter.push(layer)
    }
  }
  if (rotelLayerBefore === null) layersAfter.push(desired.layerArn)
  return { layersAfter, rotelLayerBefore }
}

/** Puts the instrumentation layer into `layers` (changed in place). */
function placeInstrumentationLayer(layers: string[], layerArn: string, layerNames: readonly string[]): void {
  // Same rule as for the Rotel layer: an older instrumentation layer is replaced where it stands.
  const isOurs = (layer: string): boolean => isInstrumentationLayer(layer, layerNames)
  const first = layers.findIndex(isOurs)
  if (first === -1) layers.push(layerArn)
  else {
    layers[first] = layerArn
    for (let i = layers.length - 1; i > first; i--) if (isOurs(layers[i] ?? '')) layers.splice(i, 1)
  }
}

/** The variables a plan writes, built up from the function's, and which of them it adds or changes. */
interface VariableWrites {
  readonly after: Record<string, string>
  /** In the order first set; a variable set to the value the function has is not one of them. */
  readonly changed: string[]
  readonly set: (key: string, value: string) => void
}

function variableWrites(before: Readonly<Record<string, string>>): VariableWrites {
  const after: Record<string, string> = { ...before }
  const changed: string[] = []
  const set = (key: string, value: string): void => {
    if (before[key] !== value && !changed.includes(key)) changed.push(key)
    after[key] = value
  }
  return { after, changed, set }
}

/**
 * Sets the desired variables but a wrapper that instrumentation sets otherwise: the settings set, for
 * the record, and the conflicts, as problems.
 */
function setSettings(
  desired: Desired,
  variables: VariableWrites
): { settings: Array<[string, string]>; conflicts: string[] } {
  const settings: Array<[string, string]> = []
  const conflicts: string[] = []
  for (const [key, value] of Object.entries(desired.variables)) {
    if (key === WRAPPER_VARIABLE && desired.instrumentation && value !== desired.instrumentation.wrapper)
      conflicts.push(`environment sets ${WRAPPER_VARIABLE}, which instrumentation sets too; set it in one place only.`)
    else {
      settings.push([key, value])
      variables.set(key, value)
    }
  }
  return { settings, conflicts }
}

/**
 * Sets the record of the user's values the settings replace (variableRecord.ts), when a write happens
 * and the record changes; gives the names whose values are hidden, or why the record cannot be read.
 */
function recordReplaced(
  before: Readonly<Record<string, string>>,
  settings: ReadonlyArray<[string, string]>,
  hadRotelLayer: boolean,
  writes: boolean,
  variables: VariableWrites
): { hiddenValues: string[]; problem?: string } {
  // The record goes only with a write that happens anyway: by itself it is never a change (nor drift).
  try {
    const existing = readRecord(before)
    const record = recordAfter(existing, before, settings, hadRotelLayer)
    if (writes && !sameRecord(existing, record) && Object.keys(record).length > 0)
      variables.set(PREVIOUS_VARIABLES_VARIABLE, writeRecord(record))
    return { hiddenValues: hiddenBy(record) }
  } catch (error) {
    if (!(error instanceof UnreadableRecordError)) throw error
    return { hiddenValues: [PREVIOUS_VARIABLES_VARIABLE], problem: error.message }
  }
}

/** Why the variables after the write would not do: over Lambda's 4 KB, or no telemetry destination. */
function variablesProblems(variablesAfter: Readonly<Record<string, string>>): string[] {
  const problems: string[] = []
  const size = variablesSize(variablesAfter)
  if (size > MAX_VARIABLES_BYTES)
    problems.push(
      `its environment variables would take ${size} bytes and Lambda allows ${MAX_VARIABLES_BYTES}; move settings into env-file or remove unused variables.`
    )
  if (!hasExporterTarget(variablesAfter))
    problems.push(
      'it would have no telemetry destination (no ROTEL_OTLP_EXPORTER_ENDPOINT, ROTEL_ENV_FILE or ROTEL_EXPORTER), and the extension would drop everything; set otlp-endpoint.'
    )
  return problems
}

/** The record itself and every name it holds a value of the user's for. */
function hiddenBy(record: VariableRecord): string[] {
  return [PREVIOUS_VARIABLES_VARIABLE, ...Object.keys(record).filter((name) => record[name] !== null)]
}

/** The log format a function has: Text unless its LoggingConfig says JSON (Lambda's default is Text). */
export function logFormatOf(state: FunctionState): string {
  return state.logging?.format === 'JSON' ? 'JSON' : 'Text'
}

/**
 * The LoggingConfig that puts a function's logging back as it was read. Text goes back with its log
 * group only, since Lambda refuses log levels with Text; JSON with its levels and group.
 */
export function loggingToRestore(state: FunctionState): LoggingConfig {
  return logFormatOf(state) === 'JSON' ? { ...state.logging, format: 'JSON' } : textLogging(state.logging?.logGroup)
}

function textLogging(logGroup: string | undefined): LoggingConfig {
  return logGroup === undefined ? { format: 'Text' } : { format: 'Text', logGroup }
}

/**
 * Plans the write that takes the Rotel layer and the action's settings off a function, keeping every
 * other layer in its order and every other variable as it is. With the action's record
 * (variableRecord.ts) a variable goes back to the value it had before the action set it, or is
 * deleted when it had none, and the extension's own settings go; without one (set up before the
 * record existed) the managed keys go, as they always did, if the function still has the Rotel layer.
 */
export function planRemove(
  state: FunctionState,
  managedKeys: readonly string[],
  layerNames: readonly string[],
  /** Given when this run manages instrumentation: the names, besides ADOT's, that are its layer. */
  instrumentationNames?: readonly string[]
): Plan {
  // Instrumentation comes off only when this run manages it: a user's own ADOT setup stays.
  const instrumentation = instrumentationNames !== undefined
  const ours = (layer: string): boolean =>
    isRotelLayer(layer, layerNames) || (instrumentation && isInstrumentationLayer(layer, instrumentationNames))
  const rotelLayers = state.layers.filter((layer) => isRotelLayer(layer, layerNames))
  const layersAfter = state.layers.filter((layer) => !ours(layer))
  const before = state.variables ?? {}
  const wrapperIsOurs = instrumentation && Object.values(WRAPPERS).includes(before[WRAPPER_VARIABLE] ?? '')
  const problems: string[] = []
  let record: VariableRecord | undefined
  try {
    record = readRecord(before)
  } catch (error) {
    if (!(error instanceof UnreadableRecordError)) throw error
    problems.push(error.message)
  }
  const restore: Record<string, string> = {}
  // Without a record, only a function that carries the extension holds settings of the action's: on
  // one without (a second remove, say) those names are the user's again.
  let taken: string[] = rotelLayers.length > 0 ? [...managedKeys] : []
  if (record) {
    for (const [name, value] of Object.entries(record)) if (value !== null) restore[name] = value
    taken = [...EXTENSION_SETTINGS, ...Object.keys(record).filter((name) => record[name] === null)]
  }
  const removedVariables = [
    ...new Set([
      ...taken,
      ...(wrapperIsOurs ? [WRAPPER_VARIABLE] : []),
      LOG_FORMAT_VARIABLE,
      PREVIOUS_VARIABLES_VARIABLE
    ])
  ].filter((key) => Object.hasOwn(before, key) && !Object.hasOwn(restore, key))
  const changedVariables = Object.keys(restore).filter(
    (name) => !Object.hasOwn(before, name) || before[name] !== restore[name]
  )
  // The format json-logs recorded goes back, whatever this run's json-logs says: the record is what
  // tells that the action made the function log JSON. Only Text is ever recorded.
  const recorded = Object.hasOwn(before, LOG_FORMAT_VARIABLE) ? before[LOG_FORMAT_VARIABLE] : undefined
  const loggingAfter =
    recorded === 'Text' && logFormatOf(state) === 'JSON' ? textLogging(state.logging?.logGroup) : undefined
  const variablesAfter: Record<string, string> = Object.fromEntries(
    Object.entries(before).filter(([key]) => !removedVariables.includes(key))
  )
  for (const name of changedVariables) variablesAfter[name] = restore[name] ?? ''
  const size = variablesSize(variablesAfter)
  if (size > MAX_VARIABLES_BYTES)
    problems.push(
      `putting back the variables the action replaced would take ${size} bytes and Lambda allows ${MAX_VARIABLES_BYTES}; remove unused variables first.`
    )
  const layersChanged = layersAfter.length !== state.layers.length
  return {
    layersBefore: state.layers,
    layersAfter,
    variablesAfter,
    rotelLayerBefore: rotelLayers[0] ?? null,
    changedVariables,
    removedVariables,
    hiddenValues: [PREVIOUS_VARIABLES_VARIABLE, ...Object.keys(restore)],
    layersChanged,
    loggingAfter,
    changed: layersChanged || removedVariables.length > 0 || changedVariables.length > 0 || loggingAfter !== undefined,
    problems
  }
}

/**
 * The plan as a diff a person can review: layers in order, variables by name, and a value only where
 * displayValue proves it safe; what the function holds now is never shown.
 */
export function diffOf(state: FunctionState, plan: Plan): PlanDiff {
  const before = state.variables ?? {}
  const after = (name: string): Pick<VariableChange, 'after' | 'shown'> => {
    const value = Object.hasOwn(plan.variablesAfter, name) ? plan.variablesAfter[name] : undefined
    // The record and what it gives back are the user's values: hidden whatever their names.
    const hidden = name === PREVIOUS_VARIABLES_VARIABLE || (plan.hiddenValues ?? []).includes(name)
    const shown = value === undefined || hidden ? undefined : displayValue(name, value)
    return shown === undefined ? { after: null, shown: false } : { after: shown, shown: true }
  }
  const variables: VariableChange[] = [
    ...plan.changedVariables.map((name) => ({
      name,
      // Own keys only: a variable named like an Object.prototype member (constructor) is a real name.
      change: Object.hasOwn(before, name) ? ('changed' as const) : ('added' as const),
      before: null,
      ...after(name)
    })),
    ...plan.removedVariables.map((name) => ({
      name,
      change: 'removed' as const,
      before: null,
      after: null,
      shown: false
    }))
  ]
  return {
    layers: { before: [...plan.layersBefore], after: [...plan.layersAfter] },
    variables,
    ...(plan.loggingAfter ? { logFormat: { before: logFormatOf(state), after: plan.loggingAfter.format } } : {})
  }
}

/**
 * What differs between a function and the target, in words for an annotation: the layer (missing,
 * older, of the other architecture or line) and each setting missing or different.
 */
export function driftOf(state: FunctionState, plan: Plan, targetLayerArn: string): string[] {
  const reasons: string[] = []
  const target = layerVersionArnShape(targetLayerArn)
  const current = plan.rotelLayerBefore ? layerVersionArnShape(plan.rotelLayerBefore) : undefined
  if (!current) reasons.push('the Rotel layer is missing')
  else if (target && current.name !== target.name) {
    const archOf = (name: string): string | undefined => /(amd64|arm64)/.exec(name)?.[1]
    reasons.push(
      archOf(current.name) !== archOf(target.name)
        ? `it has the ${archOf(current.name) ?? 'other'} Rotel layer (${current.name}:${current.version}) but needs ${target.name}:${target.version}`
        : `it has ${current.name}:${current.version}, not ${target.name}:${target.version}`
    )
  } else if (target && current.version < target.version)
    reasons.push(`the Rotel layer is version ${current.version}, older than the target ${target.version}`)
  else if (target && current.version > target.version)
    reasons.push(`the Rotel layer is version ${current.version}, not the target ${target.version}`)
  if (plan.layersChanged && reasons.length === 0) reasons.push('its layers hold more than one Rotel layer')
  if (plan.loggingAfter)
    reasons.push(`log format is ${logFormatOf(state)}, json-logs wants ${plan.loggingAfter.format}`)
  const before = state.variables ?? {}
  // The records (previous format, previous variables) only come with the changes they explain, said here.
  const records = [LOG_FORMAT_VARIABLE, PREVIOUS_VARIABLES_VARIABLE]
  for (const name of plan.changedVariables.filter((name) => !records.includes(name)))
    reasons.push(Object.hasOwn(before, name) ? `${name} differs` : `${name} is missing`)
  return reasons
}

function hasExporterTarget(variables: Readonly<Record<string, string>>): boolean {
  return ['ROTEL_OTLP_EXPORTER_ENDPOINT', 'ROTEL_ENV_FILE', 'ROTEL_EXPORTER'].some(
    (key) => (variables[key] ?? '') !== ''
  )
}

/** Whether two lists hold the same items in the same order. */
export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i])
}
