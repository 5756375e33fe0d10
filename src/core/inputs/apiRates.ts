/** aws-api-rates: the API rates to keep to, for accounts whose quotas were raised or that leave room for other tools. */
import { API_CLASSES, API_QUOTAS, type ApiClass, type ApiRates, DEFAULT_API_RATES } from '../apiRates.js'
import { parsePairs, type Problem } from './parsers.js'

const INPUT = 'aws-api-rates'
/** Slower than this, a run of any size would mostly wait: one call every 10 s. */
const MIN_RATE = 0.1
/** A raisable quota set this high is past what one run can use; a larger figure is a typo. */
const MAX_RATE = 10_000
const RATE = /^-?\d{1,5}(\.\d{1,3})?$/

type Input = (name: string) => string

/** The rates of the run: AWS's defaults, with those aws-api-rates names replaced. */
export function parseApiRates(input: Input, problem: Problem): ApiRates {
  const rates: Record<ApiClass, number> = { ...DEFAULT_API_RATES }
  const seen = new Set<string>()
  for (const [name, value] of parsePairs(input(INPUT), INPUT, /^[A-Za-z][\w-]*$/, problem, false)) {
    if (!(API_CLASSES as readonly string[]).includes(name)) {
      problem(`${INPUT}: "${name}" is not a rate it knows; name one of ${API_CLASSES.join(', ')}.`)
      continue
    }
    const apiClass = name as ApiClass
    if (seen.has(name)) {
      problem(`${INPUT} gives ${name} twice; give each rate once.`)
      continue
    }
    seen.add(name)
    const rate = rateOf(apiClass, value, problem)
    if (rate !== undefined) rates[apiClass] = rate
  }
  return rates
}

/** The rate `value` gives for `apiClass`, or undefined after a problem naming the fix. */
function rateOf(apiClass: ApiClass, value: string, problem: Problem): number | undefined {
  const quota = API_QUOTAS[apiClass]
  if (!RATE.test(value)) {
    problem(
      `${INPUT}: ${apiClass} "${value}" is not a number of requests a second; write e.g. ${apiClass}=${quota.rate}.`
    )
    return undefined
  }
  const rate = Number(value)
  if (rate < MIN_RATE) {
    problem(
      `${INPUT}: ${apiClass}=${value} must be at least ${MIN_RATE} requests a second; leave it out for AWS's default of ${quota.rate}.`
    )
    return undefined
  }
  if (!quota.raisable && rate > quota.rate) {
    problem(
      `${INPUT}: ${apiClass}=${value} is above AWS's quota of ${quota.rate} requests a second for ${quota.covers}, which cannot be increased (${quota.source}); give at most ${quota.rate}.`
    )
    return undefined
  }
  if (rate > MAX_RATE) {
    problem(`${INPUT}: ${apiClass}=${value} is above ${MAX_RATE} requests a second; give the quota your account has.`)
    return undefined
  }
  return rate
}
