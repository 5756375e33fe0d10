/** After a run on the default alpha line: where the current release line is published, said once. */
import type { LayerResolver } from '../aws/layerResolver.js'
import { type ActionConfig, layerNameFor } from '../core/config.js'
import type { Architecture } from '../core/model.js'
import type { LayerVersion } from '../core/layerVersions.js'
import { MODE_POLICY } from '../core/modes.js'
import { annotationText } from '../core/outsideText.js'
import type { Redactor } from '../core/redact.js'
import {
  CURRENT_LINE_TEMPLATE,
  currentLineNotice,
  type CurrentLineVersion,
  onDefaultAlphaLine
} from '../core/releaseLine.js'
import type { Reporter } from '../github/reporter.js'

/**
 * Looks up the current line's latest version in each region and architecture where the run used the
 * alpha line (`used`: layersByRegionAndArch, keyed "region/architecture"), one search each through the
 * run's resolver, and gives one notice. Only a hint: a lookup that fails says nothing and fails nothing.
 */
export async function noticeCurrentLine(
  config: ActionConfig,
  layers: LayerResolver,
  used: ReadonlyMap<string, LayerVersion>,
  reporter: Reporter,
  redact: Redactor
): Promise<void> {
  if (!MODE_POLICY[config.mode].readsLayer || !onDefaultAlphaLine(config.layerNameTemplate, config.layerAccount)) return
  const lookups = [...used.keys()].map(async (key): Promise<CurrentLineVersion | undefined> => {
    const region = key.slice(0, key.lastIndexOf('/'))
    const architecture = key.slice(key.lastIndexOf('/') + 1) as Architecture
    try {
      const layer = await layers.resolve({
        region,
        account: config.layerAccount,
        name: layerNameFor(CURRENT_LINE_TEMPLATE, architecture),
        version: 'latest'
      })
      return { region, architecture, layer }
    } catch {
      return undefined
    }
  })
  const found = (await Promise.all(lookups)).filter((entry) => entry !== undefined)
  const notice = currentLineNotice(found)
  // A tag comes from the layer's Description: outside text.
  if (notice) reporter.notice(annotationText(notice, { redact }), { title: 'Rotel release line' })
}
