/**
 * The Rotel release lines: the legacy alpha line the action uses by default (`rotel-extension-{arch}-alpha`,
 * release vN-alpha = layer version N, last v41-alpha) and the current line (`rotel-extension-{arch}`,
 * semver tags in each version's Description, `Tag=vX.Y.Z`). A run on the default alpha line tells once
 * where the current line is published, with the input that switches to it.
 */
import type { Architecture } from './model.js'
import type { LayerVersion } from './layerVersions.js'
import { DEFAULT_LAYER_ACCOUNT } from './layerVersions.js'
import { DEFAULT_LAYER_NAME } from './inputs/runSettings.js'

/** The layer-name that selects the current release line. */
export const CURRENT_LINE_TEMPLATE = 'rotel-extension-{arch}'

/** Whether a run takes its layer from the upstream alpha line by default (not a mirror, not a chosen name). */
export function onDefaultAlphaLine(layerNameTemplate: string, layerAccount: string): boolean {
  return layerNameTemplate === DEFAULT_LAYER_NAME && layerAccount === DEFAULT_LAYER_ACCOUNT
}

/** The current line's latest version found in one region for one architecture. */
export interface CurrentLineVersion {
  readonly region: string
  readonly architecture: Architecture
  readonly layer: LayerVersion
}

/** The one notice about the current line, or undefined when it was found nowhere. */
export function currentLineNotice(found: readonly CurrentLineVersion[]): string | undefined {
  if (found.length === 0) return undefined
  const where = found
    .map(({ region, architecture, layer }) => `${region}/${architecture}: ${layer.tag ?? `version ${layer.version}`}`)
    .sort()
  return (
    `This run used the legacy alpha release line (layer-name ${DEFAULT_LAYER_NAME}, no releases since v41-alpha). ` +
    `The current line is published where this run's functions are (${where.join(', ')}). ` +
    `To switch, set the input layer-name: ${CURRENT_LINE_TEMPLATE} (a plan run shows the change first).`
  )
}
