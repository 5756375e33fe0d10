/** Rotel layer versions: their ARNs, and the search for the latest version over a probe (no AWS call here). */

import { partitionOf } from './awsPartitions.js'
import { LAYER_NAME } from './arns.js'

const ACCOUNT = /^\d{12}$/

export { type LayerVersionArnParts, parseLayerVersionArn } from './arns.js'

/** The account that publishes the Rotel Lambda Extension layers. */
export const DEFAULT_LAYER_ACCOUNT = '418653438961'

/** One published version of a layer, as GetLayerVersion describes it. */
export interface LayerVersion {
  /** The versioned ARN, the one a function's configuration takes. */
  arn: string
  /** The unversioned layer ARN. */
  layerArn: string
  version: number
  description: string | undefined
  /** The release tag, from a description of the form `Tag=<release tag>`. */
  tag: string | undefined
  compatibleArchitectures: string[]
}

/** Looks up one version of one layer: the version, or undefined when it is absent (or not visible to us). */
export type LayerProbe = (version: number) => Promise<LayerVersion | undefined>

/** The unversioned ARN of layer `name` of `account` in `region`, with the partition the region belongs to. */
export function layerArnFor(region: string, account: string, name: string): string {
  // Caught here rather than by Lambda, whose ValidationException would not say which input was wrong.
  const partition = partitionOf(region)
  if (partition === undefined) throw new Error(`invalid region "${region}": expected a region such as us-east-1`)
  if (!ACCOUNT.test(account)) throw new Error(`invalid layer-account "${account}": expected a 12-digit AWS account id`)
  if (!LAYER_NAME.test(name))
    throw new Error(`invalid layer-name "${name}": expected 1 to 140 letters, digits, hyphens or underscores`)
  return `arn:${partition}:lambda:${region}:${account}:layer:${name}`
}

/** The release tag in a layer description of the form `Tag=<release tag>`, if there is one. */
export function tagFromDescription(description: string | undefined): string | undefined {
  if (description === undefined) return undefined
  return /(?:^|[\s,;])Tag=([^\s,;]+)/.exec(description)?.[1]
}

/** Options of `findLatestVersion`. */
export interface FindLatestOptions {
  /** Where to start looking; the closer to the latest, the fewer probes. Defaults to 1. */
  hint?: number
  /**
   * How many versions above a candidate must all be absent before it is called the latest.
   * Defaults to 2, which sees past one missing version (a failed release, a deleted version).
   */
  gapWindow?: number
}

/** Gallop steps from a present hint: small at first, as the latest is expected a few versions above it. */
const stepFromHint = (k: number): number => (k < 3 ? 2 ** k : 4 ** (k - 1))
/** Gallop steps from nothing (no hint, or a hint above the latest): probes 1, 5, 21, 85, 341, 1365, … */
const stepFromStart = (k: number): number => 4 ** k
/**
 * The share of holes among versions assumed before any is seen (0.25 holes in 4 versions), added to
 * what the search has seen below the highest present version.
 */
const PRIOR_HOLES = 0.25
const PRIOR_VERSIONS = 4

/**
 * The highest version a probe finds, seeing past gaps narrower than the gap window.
 *
 * A gallop (steps ×4, smaller at first from a hint) until a version is absent; the gap window past
 * that version is probed, and a version there moves the gallop on from it. Then a binary search
 * between the highest present version and the lowest absent one above it. An absent version met
 * there may be a hole rather than the end; its gap window is probed once a hole is the likelier story
 * (few versions between it and the highest present one beside those between it and the known end,
 * weighed by the share of holes seen so far), and always before the version below it is called the
 * latest. Without gaps: 1.5·log2 V probes and a few; each gap the search lands in costs one or a few
 * more. A hint above the latest costs the hint and its gap window below it, then the search starts
 * from 1 below them.
 */
export async function findLatestVersion(
  probe: LayerProbe,
  options: FindLatestOptions = {}
): Promise<{ latest: LayerVersion | undefined; probes: number }> {
  const found = new Map<number, LayerVersion | undefined>()
  const exists = async (version: number): Promise<boolean> => {
    if (!found.has(version)) found.set(version, await probe(version))
    return found.get(version) !== undefined
  }
  const isAbsent = (version: number): boolean => found.has(version) && found.get(version) === undefined
  const unknownIn = (from: number, to: number): number | undefined => {
    for (let version = from; version <= to; version++) if (!found.has(version)) return version
    return undefined
  }

  const hint = Number.isFinite(options.hint) ? Math.max(1, Math.floor(options.hint ?? 1)) : 1
  const gapWindow = Math.max(1, Math.floor(options.gapWindow ?? 2))
  // `version` and the gapWindow − 1 above it absent: nothing above it exists (gaps being narrower).
  const isEnd = (version: number): boolean => {
    for (let v = version; v < version + gapWindow; v++) if (!isAbsent(v)) return false
    return true
  }

  // The highest version seen present, 0 while none is; the gallop steps small from a version found near the hint.
  let lo = await startFromHint(exists, hint, gapWindow)
  const step = lo > 0 ? stepFromHint : stepFromStart

  let galloped = 0
  let galloping = true
  for (;;) {
    // `hi`: the lowest version seen absent above `lo`; `end`: the lowest one known to be the end.
    let hi = Infinity
    let end = Infinity
    for (const [version, layer] of found)
      if (version > lo && layer === undefined) {
        hi = Math.min(hi, version)
        if (version < end && isEnd(version)) end = version
      }
    // The gallop stops at its first absent version, or where it would reach one already seen.
    if (galloping && lo + step(galloped) >= hi) galloping = false
    let next: number | undefined
    let gallop = false
    if (hi === Infinity || galloping) {
      next = lo + step(galloped++)
      gallop = true
    } else if (hi < end && worthChecking(found, lo, hi, end)) {
      next = unknownIn(hi + 1, hi + gapWindow - 1)
    } else if (hi - lo > 1) {
      next = lo + Math.floor((hi - lo) / 2)
    } else {
      // The bracket is closed: `lo` is the latest unless a version past `hi` shows that `hi` is a gap.
      next = unknownIn(lo + 2, lo + gapWindow)
      if (next === undefined) return { latest: lo === 0 ? undefined : found.get(lo), probes: found.size }
    }
    // Not reached: the gap window of `hi` holds an unknown version unless `hi` is the end (then hi = end).
    if (next === undefined) throw new Error(`findLatestVersion: no version to probe between ${lo} and ${hi}`)
    if (next > Number.MAX_SAFE_INTEGER) throw new Error(`findLatestVersion: every version probed up to ${lo} exists`)
    if (await exists(next)) lo = Math.max(lo, next)
    else if (gallop) galloping = false
  }
}

/**
 * Where the search starts from a hint: the hint when present, else the highest present version of
 * the hint's gap window below it, else 0 (nothing seen present; also without a hint).
 */
async function startFromHint(
  exists: (version: number) => Promise<boolean>,
  hint: number,
  gapWindow: number
): Promise<number> {
  if (hint <= 1) return 0
  if (await exists(hint)) return hint
  // The hint's gap window below it: a version there is the latest or below it, and all of them
  // absent with the hint mean the latest is below them, so the search starts over from 1.
  for (let version = hint - 1; version >= Math.max(1, hint - gapWindow + 1); version--)
    if (await exists(version)) return version
  return 0
}

/**
 * Whether to probe the gap window of `hi`, an absent version that may be a hole: yes when the odds
 * that it is one (the share of holes seen below `lo`, times the versions between `hi` and the end,
 * against those between `lo` and `hi`) are at least even. Without a known end, always.
 */
function worthChecking(
  found: ReadonlyMap<number, LayerVersion | undefined>,
  lo: number,
  hi: number,
  end: number
): boolean {
  if (end === Infinity) return true
  let holes = 0
  let seen = 0
  for (const [version, layer] of found)
    if (version < lo) {
      seen++
      if (layer === undefined) holes++
    }
  return ((holes + PRIOR_HOLES) / (seen + PRIOR_VERSIONS)) * (end - hi) >= hi - lo
}
