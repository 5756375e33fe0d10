/** aws-api-rates: names, numbers and the quotas that cannot be raised, each refused with its fix. */
import { describe, expect, it } from '@jest/globals'
import { DEFAULT_API_RATES } from '../../../../src/core/apiRates.js'
import { parseApiRates } from '../../../../src/core/inputs/apiRates.js'

function parse(value: string) {
  const problems: string[] = []
  const rates = parseApiRates(
    (name) => (name === 'aws-api-rates' ? value : ''),
    (p) => problems.push(p)
  )
  return { rates, problems }
}

describe('parseApiRates', () => {
  it("is AWS's published defaults when empty", () => {
    expect(parse('')).toEqual({ rates: DEFAULT_API_RATES, problems: [] })
  })

  it('replaces the rates it names, comma-separated or one a line, decimals allowed', () => {
    const { rates, problems } = parse('describe-log-streams=25, lambda=10\nget-function = 50.5')
    expect(problems).toEqual([])
    expect(rates).toEqual({ ...DEFAULT_API_RATES, 'describe-log-streams': 25, lambda: 10, 'get-function': 50.5 })
  })

  it('takes a fixed quota at its full figure', () => {
    expect(parse('lambda=15, get-function=100, get-policy=15').problems).toEqual([])
  })

  it.each([
    ['an unknown name', 'invoke=5', /"invoke" is not a rate it knows; name one of lambda, get-function/],
    ['a name in capitals', 'Lambda=5', /"Lambda" is not a rate it knows/],
    [
      'a word for a number',
      'lambda=fast',
      /lambda "fast" is not a number of requests a second; write e\.g\. lambda=15/
    ],
    ['an exponent', 'describe-log-streams=1e3', /is not a number of requests a second/],
    [
      'zero',
      'describe-log-streams=0',
      /describe-log-streams=0 must be at least 0\.1 requests a second; leave it out for AWS's default of 5/
    ],
    ['a negative rate', 'lambda=-1', /lambda=-1 must be at least 0\.1/],
    ['an entry without "="', 'lambda', /the entry "lambda" is not name=value/],
    ['a name given twice', 'lambda=5, lambda=6', /gives lambda twice; give each rate once/],
    ['a rate past any quota', 'describe-log-streams=99999', /above 10000 requests a second/]
  ])('refuses %s, naming the input', (_what, value, says) => {
    const { problems } = parse(value)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^aws-api-rates/)
    expect(problems[0]).toMatch(says)
  })

  it('refuses a rate above a quota that cannot be increased, saying why and where AWS says so', () => {
    const { rates, problems } = parse('lambda=20, get-function=101, get-policy=16')
    expect(problems).toEqual([
      expect.stringMatching(
        /lambda=20 is above AWS's quota of 15 requests a second for Lambda's control-plane calls .*cannot be increased \(https:\/\/docs\.aws\.amazon\.com\/lambda\/latest\/dg\/gettingstarted-limits\.html\); give at most 15\./
      ),
      expect.stringMatching(/get-function=101 is above AWS's quota of 100 .*give at most 100\./),
      expect.stringMatching(/get-policy=16 is above AWS's quota of 15 .*give at most 15\./)
    ])
    expect(rates).toEqual(DEFAULT_API_RATES)
  })

  it('lets a raisable quota go above its default', () => {
    expect(parse('describe-log-streams=50, other-logs=10').problems).toEqual([])
  })
})
