/**
 * AWS partitions and their regions: whether a name is a region, which partition owns it, and whether an
 * ARN's partition and region agree. One table, used by every check of a region or an ARN.
 */

/** One partition: its ARN prefix, the shape of its region names, and the region its IAM endpoint is in. */
export interface Partition {
  readonly id: string
  readonly regions: RegExp
  readonly iamRegion: string
}

/**
 * The partitions AWS publishes in the endpoint data its SDKs ship (@aws-sdk partitions.json, `regionRegex`
 * and `implicitGlobalRegion`), region numbers kept to two digits. Every region is in exactly one
 * partition, and the shapes do not overlap (`us-gov-west-1` is not an `aws` region name).
 */
export const PARTITIONS: readonly Partition[] = [
  { id: 'aws', regions: /^(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d{1,2}$/, iamRegion: 'us-east-1' },
  { id: 'aws-cn', regions: /^cn-[a-z]+-\d{1,2}$/, iamRegion: 'cn-north-1' },
  { id: 'aws-us-gov', regions: /^us-gov-[a-z]+-\d{1,2}$/, iamRegion: 'us-gov-west-1' },
  { id: 'aws-iso', regions: /^us-iso-[a-z]+-\d{1,2}$/, iamRegion: 'us-iso-east-1' },
  { id: 'aws-iso-b', regions: /^us-isob-[a-z]+-\d{1,2}$/, iamRegion: 'us-isob-east-1' },
  { id: 'aws-iso-e', regions: /^eu-isoe-[a-z]+-\d{1,2}$/, iamRegion: 'eu-isoe-west-1' },
  { id: 'aws-iso-f', regions: /^us-isof-[a-z]+-\d{1,2}$/, iamRegion: 'us-isof-south-1' },
  { id: 'aws-eusc', regions: /^eusc-de-[a-z]+-\d{1,2}$/, iamRegion: 'eusc-de-east-1' }
]

/** Every partition's ARN prefix (`aws`, `aws-cn`, …). */
export const PARTITION_IDS: readonly string[] = PARTITIONS.map((partition) => partition.id)

/** Any AWS region name of any partition, anchored; its source also composes into ARN patterns. */
export const REGION_PATTERN = new RegExp(
  `^(?:${PARTITIONS.map((partition) => partition.regions.source.slice(1, -1)).join('|')})$`
)

/** The partition that owns a region, or undefined when the name is no AWS region's. */
export function partitionOf(region: string): string | undefined {
  return PARTITIONS.find((partition) => partition.regions.test(region))?.id
}

/** The region IAM's endpoint of a partition lives in (IAM is global per partition). */
export function iamRegionOf(partition: string): string {
  return PARTITIONS.find((candidate) => candidate.id === partition)?.iamRegion ?? 'us-east-1'
}

/**
 * Why an ARN's partition and region cannot name anything, or undefined when they agree: an unknown
 * partition, a region that is no AWS region, or a region of another partition. Says the fix, not the input.
 */
export function arnLocationProblem(partition: string, region: string): string | undefined {
  const unknown = partitionProblem(partition)
  if (unknown) return unknown
  const owner = partitionOf(region)
  if (owner === undefined)
    return `names the region "${region}", which is not an AWS region name; write one like us-east-1`
  if (owner !== partition)
    return `puts ${region} in the partition ${partition}, but ${region} is in ${owner}; write arn:${owner}:…`
  return undefined
}

/** Why an ARN's partition names none, or undefined when it is one of AWS's. */
export function partitionProblem(partition: string): string | undefined {
  return PARTITION_IDS.includes(partition)
    ? undefined
    : `names the partition "${partition}", which does not exist (AWS's partitions are ${PARTITION_IDS.join(', ')})`
}
