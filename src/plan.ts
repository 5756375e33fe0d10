/**
 * The pure core: from a function's current configuration and what the action wants on it, the
 * configuration to write, what differs, and why it cannot be written when it cannot.
 */
import type { Architecture } from './config.js'

export const MAX_LAYERS = 5
export const MAX_VARIABLES_BYTES = 4096

/** What the planner needs to know of a function, read from GetFunctionConfiguration. */
export interface FunctionState {
  readonly name: string
  readonly arn: string
  readonly region: string
  readonly architecture: Architecture
  readonly packageType: 'Zip' | 'Image'
  /** Layer version ARNs, in the function's order. */
  readonly layers: readonly string[]
  /** Undefined when the function has no Environment at all, which Lambda treats like an empty map. */
  readonly variables: Readonly<Record<string, string>> | undefined
  readonly revisionId: string | undefined
  readonly logGroup: string
}

export interface Desired {
  /** The Rotel layer version ARN for this function's region and architecture. */
  readonly layerArn: string
  readonly layerArchitectures: readonly string[]
  /** The architecture the action was told to use, or auto. */
  readonly architecture: 'auto' | Architecture
  readonly variables: Readonly<Record<string, string>>
  /** Extra layer names (besides the Rotel defaults) that count as the Rotel layer, e.g. a mirror's. */
  readonly layerNames: readonly string[]
}

export interface Plan {
  readonly layersBefore: readonly string[]
  readonly layersAfter: readonly string[]
  readonly variablesAfter: Readonly<Record<string, string>>
  /** The Rotel layer the function had, if any. */
  readonly rotelLayerBefore: string | null
  /** Variables the write adds or changes, by name. */
  readonly changedVariables: readonly string[]
  readonly layersChanged: boolean
  readonly changed: boolean
  /** Why this function cannot be written; empty when it can. */
  readonly problems: readonly string[]
}

const ROTEL_LAYER_NAME = /^rotel-extension-(amd64|arm64)(-alpha)?$/
const LAYER_VERSION_ARN = /^arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:layer:([A-Za-z0-9_-]+):\d+$/

/** Whether a layer version ARN is a Rotel extension layer: either line, either arch, any account and version. */
export function isRotelLayer(layerArn: string, extraNames: readonly string[] = []): boolean {
  const name = LAYER_VERSION_ARN.exec(layerArn)?.[1]
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
  const problems: string[] = []
  if (state.packageType === 'Image')
    problems.push(
      'it is a container-image function, and those cannot use layers; build the Rotel extension into the image instead.'
    )
  if (desired.architecture !== 'auto' && desired.architecture !== state.architecture)
    problems.push(
      `it is ${state.architecture} but the architecture input says ${desired.architecture}; the ${desired.architecture} extension cannot run on it: use architecture: auto.`
    )
  if (
    desired.layerArchitectures.length > 0 &&
    !desired.layerArchitectures.includes(state.architecture)
  )
    problems.push(
      `the layer ${desired.layerArn} is for ${desired.layerArchitectures.join(', ')}, not ${state.architecture}; check layer-name.`
    )

  // Replace the first Rotel layer in place, so that the overlay order in /opt stays the user's;
  // drop any further Rotel layer, because two copies of the extension would both start.
  const layersAfter: string[] = []
  let rotelLayerBefore: string | null = null
  for (const layer of state.layers) {
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
  if (layersAfter.length > MAX_LAYERS)
    problems.push(
      `it would have ${layersAfter.length} layers and Lambda allows ${MAX_LAYERS}; remove one of its layers first.`
    )

  const before = state.variables ?? {}
  const variablesAfter: Record<string, string> = { ...before }
  const changedVariables: string[] = []
  for (const [key, value] of Object.entries(desired.variables)) {
    if (before[key] !== value) changedVariables.push(key)
    variablesAfter[key] = value
  }
  const size = variablesSize(variablesAfter)
  if (size > MAX_VARIABLES_BYTES)
    problems.push(
      `its environment variables would take ${size} bytes and Lambda allows ${MAX_VARIABLES_BYTES}; move settings into env-file or remove unused variables.`
    )
  if (!hasExporterTarget(variablesAfter))
    problems.push(
      'it would have no telemetry destination (no ROTEL_OTLP_EXPORTER_ENDPOINT, ROTEL_ENV_FILE or ROTEL_EXPORTER), and the extension would drop everything; set otlp-endpoint.'
    )

  const layersChanged = !sameList(state.layers, layersAfter)
  return {
    layersBefore: state.layers,
    layersAfter,
    variablesAfter,
    rotelLayerBefore,
    changedVariables,
    layersChanged,
    changed: layersChanged || changedVariables.length > 0,
    problems
  }
}

function hasExporterTarget(variables: Readonly<Record<string, string>>): boolean {
  return ['ROTEL_OTLP_EXPORTER_ENDPOINT', 'ROTEL_ENV_FILE', 'ROTEL_EXPORTER'].some(
    (key) => (variables[key] ?? '') !== ''
  )
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i])
}
