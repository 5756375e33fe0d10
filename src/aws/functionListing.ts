/**
 * Resolving the `functions` patterns against ListFunctions, each region listed once; the configuration
 * each listed function comes with is kept as the function's first read.
 */
import { type FunctionConfiguration, type LambdaClient, paginateListFunctions } from '@aws-sdk/client-lambda'
import type { ActionConfig } from '../core/config.js'
import type { FunctionState, FunctionTarget } from '../core/model.js'
import type { FunctionPattern } from '../core/functionSelection.js'
import { partitionOf } from '../core/awsPartitions.js'
import { errorName, messageOf } from '../core/errors.js'
import { functionArnLocation } from '../core/arns.js'
import { toState } from './lambdaFunction.js'

const PAGE_SIZE = 50

/** What the patterns selected in AWS, with what to warn about. */
export interface Resolution {
  /** The functions the patterns selected, less the excluded ones, sorted by region then name. */
  readonly targets: FunctionTarget[]
  readonly warnings: string[]
  /** ListFunctions requests sent, every page counted. */
  readonly listCalls: number
  /** Each target's configuration as the listing gave it. */
  readonly listed: Map<FunctionTarget, FunctionState>
  /** Finds a function named outright in the listings, when its region was listed. */
  readonly find: (target: FunctionTarget) => FunctionState | undefined
}

interface Listed {
  readonly name: string
  readonly arn: string
  readonly partition: string
  readonly account: string | undefined
  /**
   * Its configuration (ListFunctions returns up to 50 per page with Layers, Environment, RevisionId,
   * Architectures and LoggingConfig, but not State or LastUpdateStatus:
   * https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html). The write is guarded by
   * this RevisionId, so a listing that is stale by then is refused and read again; a function still
   * being updated refuses the write with ResourceConflictException, which the write waits out.
   */
  readonly state: FunctionState
}

/** Lists the functions of every region the patterns use, matches them, and drops the excluded ones; throws when a listing fails. */
export async function resolvePatterns(
  patterns: readonly FunctionPattern[],
  excludes: readonly RegExp[],
  lambdaFor: (region: string) => LambdaClient
): Promise<Resolution> {
  const users = new Map<string, string[]>()
  for (const pattern of patterns)
    for (const region of pattern.regions) {
      const given = users.get(region) ?? []
      if (!given.includes(pattern.given)) given.push(pattern.given)
      users.set(region, given)
    }

  let listCalls = 0
  const countPage = (): void => void listCalls++
  // Every region is listed once, however many patterns look in it, and all regions at once.
  const regions = [...users.keys()]
  const settled = await Promise.allSettled(regions.map((region) => listRegion(lambdaFor(region), region, countPage)))
  const listings = new Map<string, Listed[]>()
  for (const [index, outcome] of settled.entries()) {
    const region = regions[index] as string
    // The first failing region in the patterns' order, so that the message does not depend on timing.
    if (outcome.status === 'rejected') {
      const error: unknown = outcome.reason
      throw new Error(
        `Could not list the functions in ${region} to resolve ${(users.get(region) ?? []).join(', ')}: ${errorName(error)}: ${messageOf(error)}; the deploy role needs lambda:ListFunctions`,
        { cause: error }
      )
    }
    listings.set(region, outcome.value)
  }

  const warnings: string[] = []
  const byKey = new Map<string, FunctionTarget>()
  const listed = new Map<FunctionTarget, FunctionState>()
  for (const pattern of patterns) {
    let matched = 0
    let excluded = 0
    for (const region of pattern.regions) {
      for (const fn of listings.get(region) ?? []) {
        if (pattern.account !== undefined && fn.account !== pattern.account) continue
        if (!pattern.regex.test(fn.name)) continue
        if (excludes.some((exclude) => exclude.test(fn.name) || exclude.test(fn.arn))) {
          excluded++
          continue
        }
        matched++
        const key = `${region}/${fn.name}`
        if (byKey.has(key)) continue
        const target = { given: fn.arn, name: fn.name, region, account: fn.account, partition: fn.partition }
        byKey.set(key, target)
        listed.set(target, fn.state)
      }
    }
    if (matched === 0) {
      const where = `${pattern.regions.join(', ')}${pattern.account === undefined ? '' : ` (account ${pattern.account})`}`
      warnings.push(
        excluded > 0
          ? `functions: the pattern "${pattern.given}" matched ${excluded} function${excluded === 1 ? '' : 's'} in ${where}, all removed by exclude.`
          : `functions: the pattern "${pattern.given}" matched no function in ${where}.`
      )
    }
  }

  const targets = [...byKey.values()].sort((a, b) => compare(a.region, b.region) || compare(a.name, b.name))
  // By region and name (unique in one account's region), so that thousands of named functions are found at once.
  const byName = new Map([...listings].map(([region, fns]) => [region, new Map(fns.map((fn) => [fn.name, fn]))]))
  const find = (target: FunctionTarget): FunctionState | undefined => {
    const fn = byName.get(target.region)?.get(target.name)
    const same =
      fn && (target.account === undefined || fn.account === target.account) && fn.partition === target.partition
    return same ? fn.state : undefined
  }
  return { targets, warnings, listCalls, listed, find }
}

// Code-unit order, not the locale's: the same on every runner.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

async function listRegion(client: LambdaClient, region: string, countPage: () => void): Promise<Listed[]> {
  const listed: Listed[] = []
  // stopOnSameToken: a service that hands back the marker it was given would otherwise loop forever.
  const pages = paginateListFunctions(
    { client, pageSize: PAGE_SIZE, stopOnSameToken: true, withCommand: (command) => (countPage(), command) },
    {}
  )
  for await (const page of pages) {
    for (const configuration of page.Functions ?? []) {
      const fn = toListed(configuration, region)
      if (fn) listed.push(fn)
    }
  }
  return listed
}

function toListed(configuration: FunctionConfiguration, region: string): Listed | undefined {
  const name = configuration.FunctionName
  if (!name) return undefined
  const state = toState(configuration, region)
  const location = functionArnLocation(configuration.FunctionArn ?? '')
  if (!location) return { name, arn: name, partition: partitionOf(region) ?? 'aws', account: undefined, state }
  const { arn, partition, account } = location
  return { name, arn, partition, account, state }
}

/** The functions of a run, with what their selection learned. */
export interface SelectedFunctions {
  readonly targets: FunctionTarget[]
  /** The warnings of patterns that matched nothing. */
  readonly warnings: string[]
  readonly listCalls: number
  /** The configurations the listings gave, by target: the run does not read these functions again. */
  readonly listed: ReadonlyMap<FunctionTarget, FunctionState>
}

/**
 * The functions of this run: those named outright, then those the patterns select that were not
 * named. A function named outright is read on its own (one GetFunction each) unless a pattern's
 * listing of its region holds it anyway: listing a region to save those reads would cost a page per
 * 50 functions of the region, in the control plane's 15 requests a second, and lambda:ListFunctions.
 */
export async function selectFunctions(
  config: Pick<ActionConfig, 'functions' | 'patterns' | 'excludes'>,
  lambdaFor: (region: string) => LambdaClient
): Promise<SelectedFunctions> {
  if (config.patterns.length === 0)
    return { targets: [...config.functions], warnings: [], listCalls: 0, listed: new Map() }
  const resolved = await resolvePatterns(config.patterns, config.excludes, lambdaFor)
  const named = new Set(config.functions.map((target) => `${target.region}/${target.name}`))
  const selected = resolved.targets.filter((target) => !named.has(`${target.region}/${target.name}`))
  const listed = new Map<FunctionTarget, FunctionState>()
  for (const target of config.functions) {
    const state = resolved.find(target)
    if (state) listed.set(target, state)
  }
  for (const target of selected) {
    const state = resolved.listed.get(target)
    if (state) listed.set(target, state)
  }
  return {
    targets: [...config.functions, ...selected],
    warnings: resolved.warnings,
    listCalls: resolved.listCalls,
    listed
  }
}
