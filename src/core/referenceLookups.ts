/**
 * Which of the Rotel layer references found in the workspace's files a run looks up. The files come from pull
 * requests, so what they may cost is bounded: only the configured layer account, only regions where the layer is
 * published (or, for a mirror, the regions of the run), one lookup per region and layer name, at most
 * MAX_REFERENCE_LOOKUPS of them, each a handful of GetLayerVersion calls made with the deploy role.
 */
import { type ActionConfig, ROTEL_REGIONS } from './config.js'
import type { LayerReference } from './model.js'
import { DEFAULT_LAYER_ACCOUNT } from './layerVersions.js'

/** Latest-version lookups the workspace's references may add to those the run already made for its functions. */
export const MAX_REFERENCE_LOOKUPS = 8

/** One layer whose latest version is to be looked up. */
export interface ReferenceLookup {
  region: string
  account: string
  name: string
}

/** The lookups to make, and how many references are left unchecked for each reason. */
export interface LookupPlan {
  /** Distinct, in the order their first reference appears. */
  lookups: ReferenceLookup[]
  /** The lookup that answers for a reference; undefined when it is not checked. */
  lookupOf: (ref: LayerReference) => ReferenceLookup | undefined
  otherAccount: number
  otherRegion: number
  overLimit: number
}

/** Where a run may look layers up: the account it uses, and the regions that account has the layer in. */
export interface LookupScope {
  layerAccount: string
  /** Stands in for a placeholder region. */
  homeRegion: string
  regions: ReadonlySet<string>
}

/** The scope of a run: the published regions, or for a mirrored layer the regions the run itself works in. */
export function lookupScope(
  config: Pick<ActionConfig, 'layerAccount' | 'homeRegion' | 'regions' | 'functions' | 'patterns'>
): LookupScope {
  const regions =
    config.layerAccount === DEFAULT_LAYER_ACCOUNT
      ? ROTEL_REGIONS
      : [
          config.homeRegion,
          ...config.regions,
          ...config.functions.map((target) => target.region),
          ...config.patterns.flatMap((pattern) => pattern.regions)
        ]
  return { layerAccount: config.layerAccount, homeRegion: config.homeRegion, regions: new Set(regions) }
}

/**
 * Picks the lookups for the references: placeholders stand for the run's account and home region; `known` tells
 * a lookup the run already made (it costs nothing again and is not counted against the limit).
 */
export function planReferenceLookups(
  references: readonly LayerReference[],
  scope: LookupScope,
  known: (lookup: ReferenceLookup) => boolean
): LookupPlan {
  const chosen = new Map<string, ReferenceLookup>()
  const refused = new Set<string>()
  let added = 0
  let otherAccount = 0
  let otherRegion = 0
  let overLimit = 0
  const keyOf = (ref: LayerReference): string =>
    `${ref.region ?? scope.homeRegion}|${ref.account ?? scope.layerAccount}|${ref.name}`
  for (const ref of references) {
    const account = ref.account ?? scope.layerAccount
    const region = ref.region ?? scope.homeRegion
    if (account !== scope.layerAccount) {
      otherAccount++
      continue
    }
    if (!scope.regions.has(region)) {
      otherRegion++
      continue
    }
    const key = keyOf(ref)
    if (chosen.has(key)) continue
    if (refused.has(key)) {
      overLimit++
      continue
    }
    const lookup = { region, account, name: ref.name }
    if (!known(lookup)) {
      if (added >= MAX_REFERENCE_LOOKUPS) {
        refused.add(key)
        overLimit++
        continue
      }
      added++
    }
    chosen.set(key, lookup)
  }
  return {
    lookups: [...chosen.values()],
    lookupOf: (ref) => chosen.get(keyOf(ref)),
    otherAccount,
    otherRegion,
    overLimit
  }
}

/** One sentence on the references left unchecked, or undefined when all were checked. */
export function uncheckedNote(plan: LookupPlan, mirrored: boolean): string | undefined {
  const total = plan.otherAccount + plan.otherRegion + plan.overLimit
  if (total === 0) return undefined
  const parts = [
    plan.otherAccount > 0 ? `${plan.otherAccount} name an account other than layer-account` : undefined,
    plan.otherRegion > 0
      ? `${plan.otherRegion} name a region ${mirrored ? 'this run does not work in' : 'where the Rotel layer is not published'}`
      : undefined,
    plan.overLimit > 0
      ? `${plan.overLimit} would need more than the ${MAX_REFERENCE_LOOKUPS} layer lookups a run makes for the repository's files`
      : undefined
  ].filter((part) => part !== undefined)
  return `${total} Rotel layer reference${total === 1 ? ' was' : 's were'} not checked against the latest version: ${parts.join(', ')}.`
}
