/**
 * What the layer references in a pull request's files may make the deploy role look up: only the configured
 * account, only published regions (or the run's, for a mirror), one lookup per layer, at most a fixed number.
 * What annotateWorkspace does with them is __tests__/unit/run/workspaceAnnotations.test.ts.
 */
import { describe, expect, it } from '@jest/globals'
import { loadConfig, ROTEL_REGIONS } from '../../../src/core/config.js'
import { findReferencesInText } from '../../../src/github/layerReferences.js'
import type { LayerReference } from '../../../src/core/model.js'
import { DEFAULT_LAYER_ACCOUNT } from '../../../src/core/layerVersions.js'
import {
  lookupScope,
  MAX_REFERENCE_LOOKUPS,
  planReferenceLookups,
  uncheckedNote
} from '../../../src/core/referenceLookups.js'

const MIRROR = '123456789012'

const arn = (region: string, account: string, arch: 'amd64' | 'arm64', version: number, alpha = true): string =>
  `arn:aws:lambda:${region}:${account}:layer:rotel-extension-${arch}${alpha ? '-alpha' : ''}:${version}`
const refsIn = (lines: readonly string[]): LayerReference[] => findReferencesInText(lines.join('\n'), 'main.tf')
const foreignAccount = (i: number): string => String(100000000000 + i * 7919)

const config = (inputs: Record<string, string>) =>
  loadConfig((name) => ({ functions: 'my-fn', 'aws-region': 'us-east-1', ...inputs })[name] ?? '', {})

describe('planReferenceLookups', () => {
  const scope = lookupScope(config({}))
  const nothingKnown = (): boolean => false

  it("looks up only the published layer account in published regions, placeholders being the run's", () => {
    const refs = refsIn([
      arn('us-east-1', DEFAULT_LAYER_ACCOUNT, 'amd64', 3),
      arn('eu-west-1', foreignAccount(1), 'amd64', 3),
      arn('zz-nowhere-1', DEFAULT_LAYER_ACCOUNT, 'amd64', 3),
      'arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:layer:rotel-extension-arm64-alpha:2'
    ])
    const plan = planReferenceLookups(refs, scope, nothingKnown)
    expect(plan.lookups).toEqual([
      { region: 'us-east-1', account: DEFAULT_LAYER_ACCOUNT, name: 'rotel-extension-amd64-alpha' },
      { region: 'us-east-1', account: DEFAULT_LAYER_ACCOUNT, name: 'rotel-extension-arm64-alpha' }
    ])
    expect(plan).toMatchObject({ otherAccount: 1, otherRegion: 1, overLimit: 0 })
    expect(plan.lookupOf(refs[1] as LayerReference)).toBeUndefined()
    expect(plan.lookupOf(refs[3] as LayerReference)).toBe(plan.lookups[1])
  })

  it('makes one lookup for many references to one layer', () => {
    const refs = refsIn(
      Array.from({ length: 300 }, (_, i) => arn('eu-west-1', DEFAULT_LAYER_ACCOUNT, 'arm64', 1 + (i % 9)))
    )
    const plan = planReferenceLookups(refs, scope, nothingKnown)
    expect(plan.lookups).toHaveLength(1)
    expect(uncheckedNote(plan, false)).toBeUndefined()
  })

  it(`stops at ${MAX_REFERENCE_LOOKUPS} new lookups, and counts the rest once, not each`, () => {
    // Every published region, both architectures, with and without -alpha: far more layers than the limit.
    const lines = ROTEL_REGIONS.flatMap((region) =>
      (['amd64', 'arm64'] as const).flatMap((arch) => [
        arn(region, DEFAULT_LAYER_ACCOUNT, arch, 1),
        arn(region, DEFAULT_LAYER_ACCOUNT, arch, 2, false)
      ])
    )
    const refs = refsIn([...lines, ...lines])
    const plan = planReferenceLookups(refs, scope, nothingKnown)
    expect(plan.lookups).toHaveLength(MAX_REFERENCE_LOOKUPS)
    // In the order the file names them.
    expect(plan.lookups[0]).toEqual({
      region: ROTEL_REGIONS[0],
      account: DEFAULT_LAYER_ACCOUNT,
      name: 'rotel-extension-amd64-alpha'
    })
    expect(plan.overLimit).toBe(refs.length - 2 * MAX_REFERENCE_LOOKUPS)
    const note = uncheckedNote(plan, false)
    expect(note).toBe(
      `${plan.overLimit} Rotel layer references were not checked against the latest version: ${plan.overLimit} would need more than the ${MAX_REFERENCE_LOOKUPS} layer lookups a run makes for the repository's files.`
    )
  })

  it('does not count a lookup the run already made against the limit', () => {
    const lines = ROTEL_REGIONS.slice(0, MAX_REFERENCE_LOOKUPS + 1).map((region) =>
      arn(region, DEFAULT_LAYER_ACCOUNT, 'amd64', 1)
    )
    const known = (lookup: { region: string }): boolean => lookup.region === ROTEL_REGIONS[0]
    const plan = planReferenceLookups(refsIn(lines), scope, known)
    expect(plan.lookups).toHaveLength(MAX_REFERENCE_LOOKUPS + 1)
    expect(plan.overLimit).toBe(0)
    expect(planReferenceLookups(refsIn(lines), scope, nothingKnown).overLimit).toBe(1)
  })

  it('for a mirror, looks in the regions of the run only, in the mirror account only', () => {
    const mirrored = lookupScope(
      config({
        'layer-account': MIRROR,
        functions: `my-fn\narn:aws:lambda:eu-west-1:${MIRROR}:function:billing`,
        'aws-region': 'us-east-1, ap-south-2'
      })
    )
    expect([...mirrored.regions].sort()).toEqual(['ap-south-2', 'eu-west-1', 'us-east-1'])
    const refs = refsIn([
      arn('ap-south-2', MIRROR, 'amd64', 1),
      arn('eu-west-2', MIRROR, 'amd64', 1),
      arn('us-east-1', DEFAULT_LAYER_ACCOUNT, 'amd64', 1)
    ])
    const plan = planReferenceLookups(refs, mirrored, nothingKnown)
    expect(plan.lookups).toEqual([{ region: 'ap-south-2', account: MIRROR, name: 'rotel-extension-amd64-alpha' }])
    expect(uncheckedNote(plan, true)).toBe(
      '2 Rotel layer references were not checked against the latest version: 1 name an account other than layer-account, 1 name a region this run does not work in.'
    )
  })
})
