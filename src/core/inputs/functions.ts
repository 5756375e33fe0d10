/** The functions named outright in `functions`: by name (in the first region) or by ARN. */
import { arnLocationProblem, partitionOf } from '../awsPartitions.js'
import type { FunctionTarget } from '../model.js'
import type { Problem } from './parsers.js'
import { FUNCTION_ARN } from '../arns.js'

const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** One target per function named; problems for each item that names none. */
export function parseFunctions(
  items: readonly string[],
  defaultRegion: string,
  regionRefused: boolean,
  problem: Problem
): FunctionTarget[] {
  const byKey = new Map<string, FunctionTarget>()
  for (const given of items) {
    let target: FunctionTarget | undefined
    if (given.startsWith('arn:')) {
      const match = FUNCTION_ARN.exec(given)
      if (!match) {
        problem(
          `functions: "${given}" is not a Lambda function ARN; write arn:aws:lambda:REGION:ACCOUNT:function:NAME, or the plain function name.`
        )
        continue
      }
      const [, partition, region, account, name, qualifier] = match as unknown as [
        string,
        string,
        string,
        string,
        string,
        string | undefined
      ]
      if (qualifier !== undefined) {
        problem(
          `functions: "${given}" names the version or alias ${qualifier}; only the function itself ($LATEST) can be configured: drop ":${qualifier}".`
        )
        continue
      }
      const location = arnLocationProblem(partition, region)
      if (location) {
        problem(`functions: "${given}" ${location}.`)
        continue
      }
      target = { given, name, region, account, partition }
    } else if (FUNCTION_NAME_PATTERN.test(given)) {
      if (!defaultRegion) {
        // A refused aws-region was reported already; that its names then have no region says nothing new.
        if (!regionRefused)
          problem(
            `functions: "${given}" is a plain name but no region is known; set aws-region (or AWS_REGION), or give the function's ARN.`
          )
        continue
      }
      target = {
        given,
        name: given,
        region: defaultRegion,
        account: undefined,
        partition: partitionOf(defaultRegion) ?? 'aws'
      }
    } else {
      problem(`functions: "${given}" is neither a function name (1 to 64 letters, digits, - and _) nor a function ARN.`)
      continue
    }
    // The same function by name and by ARN is one function: keep the more precise (ARN) form.
    const key = `${target.region}/${target.name}`
    const earlier = byKey.get(key)
    if (!earlier || (earlier.account === undefined && target.account !== undefined)) byKey.set(key, target)
  }
  return [...byKey.values()]
}
