import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import {
  DEFAULT_LAYER_ACCOUNT,
  findLatestVersion,
  layerArnFor,
  parseLayerVersionArn,
  tagFromDescription,
  type LayerProbe,
  type LayerVersion
} from '../../../src/core/layerVersions.js'

const ARN = 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64-alpha'

const layerVersion = (version: number, layerArn = ARN): LayerVersion => ({
  arn: `${layerArn}:${version}`,
  layerArn,
  version,
  description: `Tag=v${version}-alpha`,
  tag: `v${version}-alpha`,
  compatibleArchitectures: ['arm64']
})

/** A layer with versions 1..top except the missing ones, counting every probe it answers. */
function fakeLayer(top: number, missing: number[] = []) {
  const holes = new Set(missing)
  const calls: number[] = []
  const probe: LayerProbe = async (version) => {
    calls.push(version)
    if (!Number.isInteger(version) || version < 1) throw new Error(`probed impossible version ${version}`)
    return version <= top && !holes.has(version) ? layerVersion(version) : undefined
  }
  return { probe, calls }
}

const bound = (versions: number) => 2 * Math.ceil(Math.log2(versions)) + 2

/** The bench's gap pattern (bench/lib/lookup.mjs, gapsFor): about one version in five deleted, never two in a row, and V−1. */
function benchGaps(versions: number, seed = versions): number[] {
  let state = seed >>> 0
  const draw = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const holes = new Set<number>()
  for (let v = 2; v <= versions - 1; v++) if (!holes.has(v - 1) && draw() < 0.2) holes.add(v)
  if (versions >= 3 && !holes.has(versions - 2)) holes.add(versions - 1)
  return [...holes]
}

describe('findLatestVersion', () => {
  // From no hint the gallop probes 1, 5, 21, 85, 341, 1365, …; its first absent version has its gap
  // window probed (6, 22, …), then a binary search closes on the latest, whose gap window is probed.
  // V = 1 cannot meet the bound of 2 while seeing past a missing version: 1 must be probed for its
  // details, and 2 and 3 to tell "no version 2" from "version 2 failed, 3 is the latest"; the gallop
  // adds 5 and 6 (1, 5, 6, 3, 2).
  it.each([
    { versions: 1, probes: 5, withinBound: false },
    { versions: 10, probes: 9, withinBound: true },
    { versions: 100, probes: 15, withinBound: true },
    { versions: 1000, probes: 19, withinBound: true }
  ])(
    'finds the latest of $versions contiguous versions in $probes probes',
    async ({ versions, probes, withinBound }) => {
      const layer = fakeLayer(versions)
      const result = await findLatestVersion(layer.probe, {})
      expect(result.latest?.version).toBe(versions)
      expect(result.probes).toBe(probes)
      expect(layer.calls).toHaveLength(probes)
      expect(new Set(layer.calls).size).toBe(layer.calls.length)
      if (withinBound) expect(result.probes).toBeLessThanOrEqual(bound(versions))
      else expect(result.probes).toBe(bound(versions) + 3)
    }
  )

  it('stays within 2·⌈log2 V⌉+2 probes without gaps for every V from 9 to 4096, and above it only at 1, 2, 6 and 8', async () => {
    const over: number[] = []
    for (let versions = 1; versions <= 4096; versions++) {
      const layer = fakeLayer(versions)
      const result = await findLatestVersion(layer.probe, {})
      expect(result.latest?.version).toBe(versions)
      if (result.probes > bound(versions)) over.push(versions)
    }
    expect(over).toEqual([1, 2, 6, 8])
  })

  it('probes 1, 5, 3 and 2 for a single version when told not to look past gaps', async () => {
    const layer = fakeLayer(1)
    const result = await findLatestVersion(layer.probe, { gapWindow: 1 })
    expect(result.latest?.version).toBe(1)
    expect(layer.calls).toEqual([1, 5, 3, 2])
  })

  // The counts with gaps, stated. A hole on the gallop's path costs the probe past it, and the gallop
  // goes on from there; a hole where the binary search lands costs a probe past it and a few more
  // inside the bracket it wrongly closed; a deleted latest costs nothing more.
  it.each([
    { versions: 10, missing: [5], latest: 10, probes: 9, note: 'hole on the gallop path' },
    {
      versions: 10,
      missing: [9],
      latest: 10,
      probes: 11,
      note: 'hole where the binary search lands, below the latest'
    },
    { versions: 10, missing: [10], latest: 9, probes: 8, note: 'deleted latest' },
    {
      versions: 10,
      missing: [5, 6],
      latest: 4,
      probes: 5,
      note: 'two-wide hole, as wide as the window, on the gallop path'
    },
    { versions: 100, missing: [85], latest: 100, probes: 16, note: 'hole on the gallop path' },
    { versions: 100, missing: [21, 85], latest: 100, probes: 16, note: 'two holes on the gallop path' },
    { versions: 100, missing: [99], latest: 100, probes: 16, note: 'hole below the latest' },
    { versions: 100, missing: [100], latest: 99, probes: 15, note: 'deleted latest' },
    { versions: 100, missing: [50, 51], latest: 100, probes: 15, note: 'two-wide hole off the search path' },
    { versions: 1000, missing: [341], latest: 1000, probes: 19, note: 'hole on the gallop path' },
    { versions: 1000, missing: [1000], latest: 999, probes: 18, note: 'deleted latest' },
    {
      versions: 1000,
      missing: [341, 999],
      latest: 1000,
      probes: 19,
      note: 'hole on the gallop path and below the latest'
    },
    {
      versions: 1000,
      missing: [85, 341, 1000],
      latest: 999,
      probes: 20,
      note: 'two holes on the gallop path, latest deleted'
    }
  ])(
    'V=$versions missing $missing ($note): finds $latest in $probes probes',
    async ({ versions, missing, latest, probes }) => {
      const layer = fakeLayer(versions, missing)
      const result = await findLatestVersion(layer.probe, {})
      expect(result.latest?.version).toBe(latest)
      expect(result.probes).toBe(probes)
      expect(new Set(layer.calls).size).toBe(layer.calls.length)
    }
  )

  // The bench's own cases (npm run bench, section 3). V = 10 with its one hole (at 9, where the binary
  // search lands) takes one probe more than the bound: 1, 5, 21, 22, 13, 9, 7, 8, 10, 11, 12.
  it.each([
    { versions: 10, gaps: 1, probes: 11, withinBound: false },
    { versions: 100, gaps: 17, probes: 16, withinBound: true },
    { versions: 1000, gaps: 167, probes: 19, withinBound: true }
  ])(
    "finds the latest of the bench's $versions versions with $gaps gaps in $probes probes",
    async ({ versions, gaps, probes, withinBound }) => {
      const missing = benchGaps(versions)
      expect(missing).toHaveLength(gaps)
      const layer = fakeLayer(versions, missing)
      const result = await findLatestVersion(layer.probe, {})
      expect(result.latest?.version).toBe(versions)
      expect(result.probes).toBe(probes)
      expect(result.probes <= bound(versions)).toBe(withinBound)
    }
  )

  it.each([
    { versions: 41, missing: [], hint: 41, latest: 41, probes: 3 },
    { versions: 41, missing: [42], hint: 41, latest: 41, probes: 3 },
    { versions: 1000, missing: [], hint: 1000, latest: 1000, probes: 3 },
    { versions: 43, missing: [], hint: 41, latest: 43, probes: 5 },
    { versions: 41, missing: [], hint: 40, latest: 41, probes: 5 },
    { versions: 41, missing: [41], hint: 41, latest: 40, probes: 3 }
  ])(
    'with hint $hint close to the latest ($latest) takes $probes probes',
    async ({ versions, missing, hint, latest, probes }) => {
      const layer = fakeLayer(versions, missing)
      const result = await findLatestVersion(layer.probe, { hint })
      expect(result.latest?.version).toBe(latest)
      expect(result.probes).toBe(probes)
    }
  )

  // The hint and the version below it absent: the latest is below both, and the search starts over
  // from 1, bounded by them; a hint above the latest costs the two probes of the hint.
  it.each([
    { versions: 41, hint: 45, probes: 10 },
    { versions: 41, hint: 100, probes: 12 },
    { versions: 41, hint: 1000, probes: 13 },
    { versions: 5, hint: 41, probes: 9 }
  ])(
    'searches below a hint that is absent: $versions versions, hint $hint, $probes probes',
    async ({ versions, hint, probes }) => {
      const layer = fakeLayer(versions)
      const result = await findLatestVersion(layer.probe, { hint })
      expect(result.latest?.version).toBe(versions)
      expect(result.probes).toBe(probes)
      expect(result.probes).toBeLessThanOrEqual((await findLatestVersion(fakeLayer(versions).probe, {})).probes + 2)
    }
  )

  it('looks past an absent hint that is a hole with newer versions above it', async () => {
    const layer = fakeLayer(50, [41])
    const result = await findLatestVersion(layer.probe, { hint: 41 })
    expect(result.latest?.version).toBe(50)
  })

  it('sees past a hole as wide as the gap window, and not past a wider one', async () => {
    expect((await findLatestVersion(fakeLayer(11, [9, 10]).probe, {})).latest?.version).toBe(8)
    expect((await findLatestVersion(fakeLayer(11, [9, 10]).probe, { gapWindow: 3 })).latest?.version).toBe(11)
  })

  it.each([1, 41])('returns no version, having probed nothing below 1, when none exists (hint %d)', async (hint) => {
    const layer = fakeLayer(0)
    const result = await findLatestVersion(layer.probe, { hint })
    expect(result.latest).toBeUndefined()
    expect(Math.min(...layer.calls)).toBe(1)
    expect(result.probes).toBe(layer.calls.length)
  })

  it.each([0, -5, Number.NaN, 2.7])('treats an unusable hint (%d) as a starting point of at least 1', async (hint) => {
    const layer = fakeLayer(10)
    const result = await findLatestVersion(layer.probe, { hint })
    expect(result.latest?.version).toBe(10)
    expect(Math.min(...layer.calls)).toBeGreaterThanOrEqual(1)
  })

  it('passes on what a probe throws', async () => {
    const probe: LayerProbe = async (version) => {
      if (version > 1) throw new Error('boom')
      return layerVersion(version)
    }
    await expect(findLatestVersion(probe, {})).rejects.toThrow('boom')
  })

  it('gives up, rather than probing forever, on a probe that says every version exists', async () => {
    const layer = fakeLayer(Number.MAX_SAFE_INTEGER)
    await expect(findLatestVersion(layer.probe, {})).rejects.toThrow('every version probed up to')
    expect(layer.calls.length).toBeLessThan(40)
  })
})

/** A layer fast-check draws: each present version follows the one before after a gap narrower than the window. */
const randomLayer = fc
  .record({
    gapWindow: fc.integer({ min: 1, max: 3 }),
    // The chance, in percent, that a present version follows a gap rather than the one before.
    gapPercent: fc.integer({ min: 0, max: 100 }),
    draws: fc.array(fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 2 })), { maxLength: 700 }),
    hint: fc.option(fc.integer({ min: 1, max: 3000 }), { nil: undefined })
  })
  .map(({ gapWindow, gapPercent, draws, hint }) => {
    const present = new Set<number>()
    let version = 0
    for (const [roll, width] of draws) {
      version += 1 + (roll < gapPercent ? Math.min(width, gapWindow - 1) : 0)
      present.add(version)
    }
    return { gapWindow, gapPercent, present, latest: version, hint }
  })

/** A probe of `present`, failing the test on a version probed twice or below 1. */
function probeOf(present: ReadonlySet<number>) {
  const calls: number[] = []
  const probe: LayerProbe = async (version) => {
    if (!Number.isSafeInteger(version) || version < 1) throw new Error(`probed impossible version ${version}`)
    if (calls.includes(version)) throw new Error(`probed version ${version} twice`)
    calls.push(version)
    return present.has(version) ? layerVersion(version) : undefined
  }
  return { probe, calls }
}

describe('findLatestVersion on random layers (fast-check)', () => {
  const RUNS = { numRuns: 300 }
  const log2 = (n: number) => Math.ceil(Math.log2(Math.max(2, n)))

  it('finds the true latest whenever gaps are narrower than the window, from any hint, probing each version once', async () => {
    await fc.assert(
      fc.asyncProperty(randomLayer, async ({ gapWindow, present, latest, hint }) => {
        const { probe, calls } = probeOf(present)
        const result = await findLatestVersion(probe, { gapWindow, ...(hint !== undefined ? { hint } : {}) })
        expect(result.latest?.version).toBe(latest === 0 ? undefined : latest)
        expect(result.probes).toBe(calls.length)
      }),
      RUNS
    )
  })

  // Not the bound, which holds without gaps (above) but not for every gap pattern: a search
  // that lands on hole after hole checks each, so the cost grows towards log² V when gaps are dense.
  it('takes at most (⌈log2 max(V, hint)⌉ + 2)² probes, and at most 5·(⌈log2 V⌉ + 1) when at most one version in four follows a gap', async () => {
    await fc.assert(
      fc.asyncProperty(randomLayer, async ({ gapWindow, gapPercent, present, latest, hint }) => {
        const { probe } = probeOf(present)
        const result = await findLatestVersion(probe, { gapWindow, ...(hint !== undefined ? { hint } : {}) })
        expect(result.probes).toBeLessThanOrEqual((log2(Math.max(latest, hint ?? 1)) + 2) ** 2)
        if (gapPercent <= 25 && hint === undefined) expect(result.probes).toBeLessThanOrEqual(5 * (log2(latest) + 1))
      }),
      RUNS
    )
  })
})

describe('layer ARNs', () => {
  it.each([
    ['us-east-1', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64'],
    ['cn-north-1', 'arn:aws-cn:lambda:cn-north-1:418653438961:layer:rotel-extension-amd64'],
    ['us-gov-west-1', 'arn:aws-us-gov:lambda:us-gov-west-1:418653438961:layer:rotel-extension-amd64'],
    ['us-iso-east-1', 'arn:aws-iso:lambda:us-iso-east-1:418653438961:layer:rotel-extension-amd64'],
    ['eusc-de-east-1', 'arn:aws-eusc:lambda:eusc-de-east-1:418653438961:layer:rotel-extension-amd64']
  ])('builds the layer ARN in %s with its partition', (region, arn) => {
    expect(layerArnFor(region, DEFAULT_LAYER_ACCOUNT, 'rotel-extension-amd64')).toBe(arn)
    expect(parseLayerVersionArn(`${arn}:12`)).toEqual({
      region,
      account: DEFAULT_LAYER_ACCOUNT,
      name: 'rotel-extension-amd64',
      version: 12
    })
  })

  it.each([
    'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64',
    'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:0',
    'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:01',
    'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:41 ',
    'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:41:1',
    'arn:aws:lambda:us-east-1:41865343896:layer:rotel-extension-amd64:41',
    'arn:aws:lambda:US-EAST-1:418653438961:layer:rotel-extension-amd64:41',
    'arn:aws:lambda:us-east-1:418653438961:function:rotel-extension-amd64:41',
    'arn:aws-iso:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:41',
    'arn:aws-mars:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:41',
    'arn:aws-cn:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:41',
    'arn:aws:lambda:cn-north-1:418653438961:layer:rotel-extension-amd64:41',
    'xarn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:41'
  ])('does not take %s for a layer version ARN', (arn) => {
    expect(parseLayerVersionArn(arn)).toBeUndefined()
  })

  it.each([
    ['Tag=v41-alpha', 'v41-alpha'],
    ['Rotel extension, Tag=v0.0.12', 'v0.0.12'],
    ['Tag=v3 built 2025-01-01', 'v3'],
    ['NoTag=v1', undefined],
    ['', undefined],
    [undefined, undefined]
  ])('reads the tag of %j as %j', (description, tag) => {
    expect(tagFromDescription(description)).toBe(tag)
  })
})
