/**
 * Annotates the repository's own files where they pin a Rotel layer version older than the latest,
 * so that a pull request shows the line to bump.
 */
import * as core from '@actions/core'
import type { ActionConfig } from './config.js'
import { behindLatest, DEFAULT_ANNOTATE_FILES, type LayerReference, scanWorkspace } from './layerReferences.js'
import type { LayerResolver } from './layerVersions.js'
import { messageOf } from './retry.js'
import { printOutside } from './outsideText.js'

/** Scans the workspace, warns on each reference behind the latest, and returns a sentence for the summary. */
export async function annotateWorkspace(
  config: ActionConfig,
  layers: LayerResolver,
  env: NodeJS.ProcessEnv
): Promise<string[]> {
  const root = env.GITHUB_WORKSPACE
  if (!root) return []
  let references: LayerReference[]
  try {
    ;({ references } = await scanWorkspace(root, config.annotateFiles ?? DEFAULT_ANNOTATE_FILES))
  } catch (error) {
    return [`The workspace could not be scanned for Rotel layer versions: ${messageOf(error)}`]
  }
  // A placeholder region or account is the one this run works with.
  const keyOf = (ref: LayerReference): string =>
    `${ref.region ?? config.homeRegion}|${ref.account ?? config.layerAccount}|${ref.name}`
  const latest = new Map<string, number>()
  await Promise.all(
    [...new Set(references.map(keyOf))].map(async (key) => {
      const [region = '', account = '', name = ''] = key.split('|')
      try {
        latest.set(key, (await layers.resolve({ region, account, name, version: 'latest' })).version)
      } catch (error) {
        // A layer the deploy role cannot see is not the pull request's fault: say so in the log only.
        // The name comes from a file of the pull request, the message from AWS: neither may run a command.
        printOutside(`Could not look up the latest ${name} in ${region} (${account}): ${messageOf(error)}`)
      }
    })
  )
  const behind = behindLatest(references, (ref) => latest.get(keyOf(ref)))
  for (const { ref, latest: newest } of behind)
    core.warning(
      `${ref.name} version ${ref.version} is behind the latest, version ${newest}${ref.region ? ` in ${ref.region}` : ''}; bump it to ${newest}.`,
      { title: 'Rotel layer behind the latest', file: ref.file, startLine: ref.line, startColumn: ref.column }
    )
  return behind.length > 0
    ? [
        `${behind.length} Rotel layer version${behind.length === 1 ? ' is' : 's are'} pinned behind the latest in this repository (${behind
          .map(({ ref }) => `${ref.file}:${ref.line}`)
          .join(', ')}); see the annotations.`
      ]
    : []
}
