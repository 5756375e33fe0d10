import { describe, expect, it } from '@jest/globals'
import {
  arnLocationProblem,
  iamRegionOf,
  PARTITION_IDS,
  partitionOf,
  REGION_PATTERN
} from '../../../src/core/awsPartitions.js'

/** Regions AWS's SDK endpoint data lists per partition (a sample of each). */
const REGIONS: ReadonlyArray<[string, string]> = [
  ['us-east-1', 'aws'],
  ['ap-southeast-7', 'aws'],
  ['il-central-1', 'aws'],
  ['mx-central-1', 'aws'],
  ['cn-north-1', 'aws-cn'],
  ['cn-northwest-1', 'aws-cn'],
  ['us-gov-west-1', 'aws-us-gov'],
  ['us-gov-east-1', 'aws-us-gov'],
  ['us-iso-east-1', 'aws-iso'],
  ['us-iso-west-1', 'aws-iso'],
  ['us-isob-east-1', 'aws-iso-b'],
  ['eu-isoe-west-1', 'aws-iso-e'],
  ['us-isof-south-1', 'aws-iso-f'],
  ['eusc-de-east-1', 'aws-eusc']
]

describe('AWS partitions', () => {
  it.each(REGIONS)('puts %s in %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition)
    expect(REGION_PATTERN.test(region)).toBe(true)
    expect(arnLocationProblem(partition, region)).toBeUndefined()
    for (const other of PARTITION_IDS.filter((id) => id !== partition))
      expect(arnLocationProblem(other, region)).toBe(
        `puts ${region} in the partition ${other}, but ${region} is in ${partition}; write arn:${partition}:…`
      )
  })

  it.each([
    'mars-east-1',
    'zz-east-1',
    'us-east',
    'US-EAST-1',
    'us-east-1 ',
    'eusc-east-1',
    'cn-north-123',
    'us-gov-west-1\n',
    ''
  ])('knows %j for no region', (region) => {
    expect(partitionOf(region)).toBeUndefined()
    expect(REGION_PATTERN.test(region)).toBe(false)
  })

  it('names a partition that does not exist, and the ones that do', () => {
    expect(arnLocationProblem('aws-moon', 'us-east-1')).toBe(
      'names the partition "aws-moon", which does not exist (AWS\'s partitions are aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)'
    )
  })

  it("finds each partition's IAM region inside that partition", () => {
    for (const id of PARTITION_IDS) expect(partitionOf(iamRegionOf(id))).toBe(id)
  })
})
