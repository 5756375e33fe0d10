/**
 * Annotates the repository's own files where they pin a Rotel layer version older than the latest,
 * so that a pull request shows the line to bump.
 */
import type { ActionConfig } from '../core/config.js'
import { behindLatest, DEFAULT_ANNOTATE_FILES, scanWorkspace } from '../github/layerReferences.js'
import type { LayerReference } from '../core/model.js'
import { DEFAULT_LAYER_ACCOUNT } from '../core/layerVersions.js'
import type { LayerResolver } from '../aws/layerResolver.js'
import { lookupScope, planReferenceLookups, type ReferenceLookup, uncheckedNote } from '../core/referenceLookups.js'
import { messageOf } from '../core/errors.js'
import type { Reporter } from '../github/reporter.js'

// GitHub shows a step's first 10 warnings; a few more reach the log, and a file with thousands would only drown it.
const MAX_ANNOTATIONS = 50
// Where they are, in the summary and the comment; the annotations have the rest.
const MAX_LISTED = 10

/** Scans the workspace, warns on each reference behind the latest, and returns a sentence for the summary. */
export async function annotateWorkspace(
  config: ActionConfig,
  layers: LayerResolver,
  env: NodeJS.ProcessEnv,
  reporter: Reporter
): Promise<string[]> {
  const root = env.GITHUB_WORKSPACE
  if (!root) return []
  let references: LayerReference[]
  try {
    ;({ references } = await scanWorkspace(root, config.annotateFiles ?? DEFAULT_ANNOTATE_FILES))
  } catch (error) {
    return [`The workspace could not be scanned for Rotel layer versions: ${messageOf(error)}`]
  }
  // The files are the pull request's: what they may make the deploy role look up is bounded.
  const plan = planReferenceLookups(references, lookupScope(config), (lookup) =>
    layers.has({ ...lookup, version: 'latest' })
  )
  const latest = new Map<ReferenceLookup, number>()
  await Promise.all(
    plan.lookups.map(async (lookup) => {
      const { region, account, name } = lookup
      try {
        latest.set(lookup, (await layers.resolve({ ...lookup, version: 'latest' })).version)
      } catch (error) {
        // A layer the deploy role cannot see is not the pull request's fault: say so in the log only.
        // The name comes from a file of the pull request, the message from AWS: neither may run a command.
        reporter.outside(`Could not look up the latest ${name} in ${region} (${account}): ${messageOf(error)}`)
      }
    })
  )
  const unchecked = uncheckedNote(plan, config.layerAccount !== DEFAULT_LAYER_ACCOUNT)
  if (unchecked) reporter.info(unchecked)
  const behind = behindLatest(references, (ref) => {
    const lookup = plan.lookupOf(ref)
    return lookup && latest.get(lookup)
  })
  for (const { ref, latest: newest } of behind.slice(0, MAX_ANNOTATIONS))
    reporter.warning(
      `${ref.name} version ${ref.version} is behind the latest, version ${newest}${ref.region ? ` in ${ref.region}` : ''}; bump it to ${newest}.`,
      { title: 'Rotel layer behind the latest', file: ref.file, startLine: ref.line, startColumn: ref.column }
    )
  const listed = behind.slice(0, MAX_LISTED).map(({ ref }) => `${ref.file}:${ref.line}`)
  if (behind.length > MAX_LISTED) listed.push(`${behind.length - MAX_LISTED} more`)
  const notes =
    behind.length > 0
      ? [
          `${behind.length} Rotel layer version${behind.length === 1 ? ' is' : 's are'} pinned behind the latest in this repository (${listed.join(', ')}); see the annotations${behind.length > MAX_ANNOTATIONS ? ` (the first ${MAX_ANNOTATIONS})` : ''}.`
        ]
      : []
  return unchecked ? [...notes, unchecked] : notes
}
