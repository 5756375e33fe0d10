/** canary and failure-tolerance: the shape of a rollout in waves, checked before any AWS call. */
import { FUNCTION_ARN } from '../arns.js'
import { splitList } from '../inputText.js'
import type { Problem } from './parsers.js'

/** A share of the selected functions, or a number of them. */
export type Amount = { readonly count: number } | { readonly percent: number }

/**
 * The first wave, which must succeed before the rest starts: none, a number or share of the functions
 * about to be written (the first in the listed order), or functions named outright.
 */
export type Canary = { readonly none: true } | Amount | { readonly names: readonly string[] }

/**
 * How a run rolls out: its first wave, and how many functions may fail before no new one is started. The
 * tolerance means what StackSets' FailureToleranceCount/Percentage mean, a percentage rounding down as
 * there (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackSetOperationPreferences.html),
 * with concurrency kept at max-concurrency as their SOFT_FAILURE_TOLERANCE does.
 */
export interface RolloutWaves {
  readonly canary: Canary
  readonly failureTolerance: Amount
}

/**
 * The default failure-tolerance: a team of three functions never sees a function skipped, and a fleet of
 * 1,000 stops after 4 failures, having written at most 4 + max-concurrency functions.
 */
export const DEFAULT_FAILURE_TOLERANCE = 3

const COUNT = /^\d{1,7}$/
const PERCENT = /^(\d{1,3}(?:\.\d+)?)\s*%$/
/** A function name as Lambda takes it (1 to 64 of letters, digits, - and _), or its ARN. */
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/

/** canary and failure-tolerance; `testInvoke` because a canary proves itself by its test invocation. */
export function parseRolloutWaves(
  input: (name: string) => string,
  problem: Problem,
  testInvoke: boolean
): RolloutWaves {
  const canary = parseCanary(input('canary'), problem)
  if (!('none' in canary) && !testInvoke)
    problem(
      'canary is set but test-invoke is false: a canary proves itself by its test invocation; set test-invoke: true, or leave canary empty.'
    )
  const failureTolerance = parseAmount(
    'failure-tolerance',
    input('failure-tolerance') || String(DEFAULT_FAILURE_TOLERANCE),
    0,
    problem
  ) ?? { count: DEFAULT_FAILURE_TOLERANCE }
  return { canary, failureTolerance }
}

function parseCanary(value: string, problem: Problem): Canary {
  if (value === '') return { none: true }
  if (COUNT.test(value) || value.endsWith('%')) return parseAmount('canary', value, 1, problem) ?? { none: true }
  const names = [...new Set(splitList(value))]
  for (const name of names)
    if (!FUNCTION_NAME.test(name) && !FUNCTION_ARN.test(name))
      problem(
        `canary: "${name}" is not a function name or ARN; write a number (2), a share of the functions (5%), or the functions' names or ARNs, one a line or comma-separated.`
      )
  return { names }
}

/** `N` or `N%`: a count from `least`, or a share from more than 0 (from 0 when `least` is 0) to 100 %. */
function parseAmount(name: string, value: string, least: number, problem: Problem): Amount | undefined {
  if (COUNT.test(value) && Number(value) >= least) return { count: Number(value) }
  const percent = PERCENT.exec(value)?.[1]
  if (percent !== undefined && Number(percent) <= 100 && (Number(percent) > 0 || least === 0))
    return { percent: Number(percent) }
  problem(
    `${name} "${value}" must be a whole number of functions from ${least} (e.g. 3) or a percentage of the selected functions ${least === 0 ? 'from 0 to 100' : 'above 0, up to 100'} (e.g. 5%).`
  )
  return undefined
}

/** The amount as a number of functions out of `total`: a share of the canary rounds up, of the tolerance down. */
export function countOf(amount: Amount, total: number, round: 'up' | 'down'): number {
  if ('count' in amount) return amount.count
  const exact = (amount.percent * total) / 100
  // 3 % of 100 is 3.0000000000000004 in floating point: a hair's breadth is no extra function.
  const near = Math.round(exact)
  if (Math.abs(exact - near) < 1e-9) return near
  return round === 'up' ? Math.ceil(exact) : Math.floor(exact)
}
