/** Where the run acts: the regions, the layer's account, the functions named or selected, and their partition. */
import { partitionOf, REGION_PATTERN } from '../awsPartitions.js'
import { parseSelection } from '../functionSelection.js'
import { splitList } from '../inputText.js'
import { DEFAULT_LAYER_ACCOUNT } from '../layerVersions.js'
import type { FunctionTarget } from '../model.js'
import { parseFunctions } from './functions.js'
import type { Problem } from './parsers.js'

/** Regions where the Rotel layer is published in its own account. */
export const ROTEL_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-central-1',
  'eu-north-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-south-1',
  'sa-east-1'
]

/** Most items list inputs take: more is no configuration a run could act on in its time. */
const MAX_REGIONS = 50

/** Reports an ARN given in another input whose partition is not the functions'. */
export type SamePartition = (inputName: string, given: string, partition: string) => void

/** Where the run acts, as parseWhere reads it. */
export interface Where {
  readonly regions: string[]
  readonly defaultRegion: string
  readonly layerAccount: string
  readonly selection: ReturnType<typeof parseSelection>
  readonly functions: FunctionTarget[]
  readonly samePartition: SamePartition
}

/** aws-region, layer-account, functions and exclude, and the one partition they must share. */
export function parseWhere(
  input: (name: string) => string,
  refused: (name: string) => boolean,
  env: NodeJS.ProcessEnv,
  problem: Problem
): Where {
  const regionInputs = splitList(input('aws-region'))
  if (regionInputs.length > MAX_REGIONS)
    problem(
      `aws-region lists ${regionInputs.length} regions; AWS has fewer than ${MAX_REGIONS}: list each region once.`
    )
  for (const region of regionInputs)
    if (!REGION_PATTERN.test(region))
      problem(`aws-region "${region}" is not an AWS region name; write one like us-east-1.`)
  const envRegion = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || ''
  const defaultRegion = regionInputs[0] ?? envRegion
  const regions = regionInputs.length > 0 ? regionInputs : envRegion ? [envRegion] : []

  const layerAccount = input('layer-account') || DEFAULT_LAYER_ACCOUNT
  if (!/^\d{12}$/.test(layerAccount)) problem(`layer-account "${layerAccount}" is not a 12-digit AWS account ID.`)
  const mirrored = layerAccount !== DEFAULT_LAYER_ACCOUNT

  const selection = parseSelection({ functions: input('functions'), exclude: input('exclude'), regions })
  selection.problems.forEach(problem)
  if (
    selection.names.length === 0 &&
    selection.patterns.length === 0 &&
    selection.problems.length === 0 &&
    !refused('functions')
  )
    problem('functions is empty; list the Lambda functions to instrument, by name, ARN or pattern, one a line.')
  const functions = parseFunctions(selection.names, defaultRegion, refused('aws-region'), problem)
  // Where the run acts: every function named, and every region a pattern lists functions in.
  const places: Array<{ given: string; region: string }> = [
    ...functions.map((f) => ({ given: f.given, region: f.region })),
    ...selection.patterns.flatMap((pattern) => pattern.regions.map((region) => ({ given: pattern.given, region })))
  ]
  const partitions = new Set(
    places
      .map((place) => partitionOf(place.region))
      .filter((p) => p !== undefined)
      .sort()
  )
  if (partitions.size > 1)
    problem(
      `functions mixes functions of the partitions ${[...partitions].join(' and ')}; one run has credentials for one partition: split them into separate steps.`
    )
  const runPartition = partitions.size === 1 ? [...partitions][0] : undefined
  // aws-region was checked above; a region from the environment is used for names and patterns alike.
  if (regionInputs.length === 0 && envRegion && !REGION_PATTERN.test(envRegion))
    problem(
      `the region ${JSON.stringify(envRegion.slice(0, 64))} (from AWS_REGION or AWS_DEFAULT_REGION, as aws-region is empty) is not an AWS region name; set aws-region to one like us-east-1.`
    )
  if (!mirrored)
    for (const { given, region } of places) {
      const partition = partitionOf(region)
      if (partition !== undefined && partition !== 'aws')
        problem(
          `functions: ${given} is in the ${partition} partition, where the Rotel layer is not published; mirror the layer into an account there and set layer-account.`
        )
      else if (partition === 'aws' && !ROTEL_REGIONS.includes(region))
        problem(
          `functions: ${given} is in ${region}, where the Rotel layer is not published (it is in ${ROTEL_REGIONS.join(', ')}); mirror the layer into your own account there and set layer-account.`
        )
    }
  // An ARN of one partition cannot be used with credentials of another.
  const samePartition = (inputName: string, given: string, partition: string): void => {
    if (runPartition !== undefined && partition !== runPartition)
      problem(
        `${inputName}: ${given} is in the partition ${partition} and the functions are in ${runPartition}; AWS does not act across partitions: give one in ${runPartition}.`
      )
  }

  return { regions, defaultRegion, layerAccount, selection, functions, samePartition }
}
