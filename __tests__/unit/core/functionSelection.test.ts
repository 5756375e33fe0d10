import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { functionPatternToRegExp, isFunctionPattern, parseSelection } from '../../../src/core/functionSelection.js'

const ACCOUNT = '123456789012'

describe('isFunctionPattern', () => {
  it.each([
    ['orders-*', true],
    ['orders-?', true],
    ['orders-[ab]', true],
    ['arn:aws:lambda:eu-west-1:123456789012:function:orders-*', true],
    ['orders-api', false],
    ['arn:aws:lambda:eu-west-1:123456789012:function:orders-api', false]
  ])('%s → %s', (item, expected) => {
    expect(isFunctionPattern(item)).toBe(expected)
  })
})

describe('functionPatternToRegExp', () => {
  // Decision: * is zero or more name characters, so orders-* takes orders- but not orders.
  it.each([
    ['orders-*', 'orders-api', true],
    ['orders-*', 'orders-', true],
    ['orders-*', 'orders', false],
    ['orders-*', 'xorders-api', false],
    ['*-api', 'orders-api', true],
    ['*-api', 'orders-api-v2', false],
    ['*', 'anything_at-all9', true],
    ['orders-?', 'orders-a', true],
    ['orders-?', 'orders-', false],
    ['orders-?', 'orders-ab', false],
    ['orders-[ab]', 'orders-a', true],
    ['orders-[ab]', 'orders-c', false],
    ['v[0-9]', 'v7', true],
    ['v[0-9]', 'vx', false],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['[-a]x', '-x', true],
    ['[a-]x', '-x', true],
    ['[a-]x', 'bx', false],
    ['[!ab]x', 'cx', true],
    ['[!ab]x', 'ax', false],
    ['[^ab]x', 'ax', false],
    ['Orders-*', 'orders-api', false],
    ['orders_*', 'orders-api', false],
    ['a**b', 'ab', true],
    ['a**b', 'a-x-b', true]
  ])('%s against %s → %s', (glob, name, expected) => {
    expect(functionPatternToRegExp(glob).test(name)).toBe(expected)
  })

  it('keeps classes and wildcards to name characters', () => {
    // 0-z spans : ; < = > ? @ [ \ ] ^ and ` in ASCII; none of them is in a function name.
    expect(functionPatternToRegExp('[0-z]').test(':')).toBe(false)
    expect(functionPatternToRegExp('[0-z]').test('Q')).toBe(true)
    expect(functionPatternToRegExp('[!a]').test(':')).toBe(false)
    expect(functionPatternToRegExp('a*').test('a:b')).toBe(false)
    expect(functionPatternToRegExp('a?').test('a.')).toBe(false)
  })

  it.each([
    ['orders.*', /"\." cannot be in a function name/],
    ['orders-[ab', /never closed/],
    ['orders-[]', /is empty/],
    ['orders-[!]', /is empty/],
    ['orders-[a.]', /holds "\."/],
    ['orders-[z-a]', /runs backwards; write "a-z"/],
    ['', /empty/],
    [`${'a'.repeat(65)}*`, /at least 65 characters/]
  ])('rejects %s', (glob, message) => {
    expect(() => functionPatternToRegExp(glob)).toThrow(message)
  })

  it('stays fast on many stars against a long name that does not match', () => {
    // Translated naively, this took minutes.
    const regex = functionPatternToRegExp(`${'a*'.repeat(20)}b`)
    const started = performance.now()
    expect(regex.test('a'.repeat(64))).toBe(false)
    expect(regex.test(`${'a'.repeat(63)}b`)).toBe(true)
    expect(performance.now() - started).toBeLessThan(50)
  })

  it('agrees with a plain glob matcher on generated patterns and names', () => {
    const element = fc.constantFrom('a', 'b', '-', '*', '?', '[ab]', '[!a]', '[a-b]')
    const globs = fc.array(element, { minLength: 1, maxLength: 8 })
    const name = fc.array(fc.constantFrom('a', 'b', 'c', '-'), { maxLength: 10 }).map((chars) => chars.join(''))
    fc.assert(
      fc.property(globs, name, (elements, text) => {
        expect(functionPatternToRegExp(elements.join('')).test(text)).toBe(referenceMatch(elements, text))
      }),
      { numRuns: 2000 }
    )
  })
})

/** Glob matching by dynamic programming over the elements used in the property above. */
function referenceMatch(elements: readonly string[], text: string): boolean {
  const one = (element: string, c: string): boolean =>
    element === '?' ||
    element === c ||
    ((element === '[ab]' || element === '[a-b]') && (c === 'a' || c === 'b')) ||
    (element === '[!a]' && c !== 'a')
  // can[i][j]: the first i elements match the first j characters.
  const can = Array.from({ length: elements.length + 1 }, () => new Array<boolean>(text.length + 1).fill(false))
  ;(can[0] as boolean[])[0] = true
  elements.forEach((element, i) => {
    const row = can[i] as boolean[]
    const next = can[i + 1] as boolean[]
    for (let j = 0; j <= text.length; j++) {
      if (element === '*') next[j] = Boolean(row[j]) || (j > 0 && Boolean(next[j - 1]))
      else next[j] = j > 0 && Boolean(row[j - 1]) && one(element, text[j - 1] as string)
    }
  })
  return Boolean(can[elements.length]?.[text.length])
}

describe('parseSelection', () => {
  const regions = ['eu-west-1', 'us-east-1']

  it('keeps plain names and ARNs untouched and turns patterns into regions to list', () => {
    const selection = parseSelection({
      functions:
        'orders-api\narn:aws:lambda:eu-west-1:123456789012:function:billing\n orders-* # the fleet\n*-api, orders-*',
      exclude: '',
      regions
    })
    expect(selection.problems).toEqual([])
    expect(selection.names).toEqual(['orders-api', 'arn:aws:lambda:eu-west-1:123456789012:function:billing'])
    expect(selection.patterns.map((p) => [p.given, p.regions, p.account])).toEqual([
      ['orders-*', regions, undefined],
      ['*-api', regions, undefined]
    ])
    expect(selection.patterns[0]?.regex.test('orders-x')).toBe(true)
  })

  it('limits an ARN pattern to its region and account and matches its name part', () => {
    const selection = parseSelection({
      functions: 'arn:aws:lambda:ap-south-1:123456789012:function:orders-*',
      exclude: '',
      regions
    })
    expect(selection.problems).toEqual([])
    const [only] = selection.patterns
    expect(only?.regions).toEqual(['ap-south-1'])
    expect(only?.account).toBe(ACCOUNT)
    expect(only?.regex.test('orders-api')).toBe(true)
    expect(only?.regex.test('arn:aws:lambda:ap-south-1:123456789012:function:orders-api')).toBe(false)
  })

  it('takes an ARN pattern even when aws-region is empty', () => {
    const selection = parseSelection({
      functions: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-*',
      exclude: '',
      regions: []
    })
    expect(selection.problems).toEqual([])
    expect(selection.patterns).toHaveLength(1)
  })

  it('trims and dedupes the regions given', () => {
    const selection = parseSelection({ functions: 'orders-*', exclude: '', regions: [' eu-west-1', 'eu-west-1', ''] })
    expect(selection.patterns[0]?.regions).toEqual(['eu-west-1'])
  })

  it.each([
    {
      functions: 'orders.*',
      regions,
      problem: /^functions: "orders\.\*" is not a usable function name pattern: "\." cannot be in a function name/
    },
    { functions: 'orders-*', regions: [], problem: /^functions: the pattern "orders-\*" needs regions.*aws-region/ },
    {
      functions: 'arn:aws:lambda:eu-*:123456789012:function:orders-*',
      regions,
      problem:
        /pattern in its region, which is not supported; give the plain pattern \(orders-\*\) and list the regions in aws-region/
    },
    {
      functions: 'arn:aws:lambda:eu-west-1:1234567890*:function:orders-*',
      regions,
      problem: /only the name part of an ARN may be a pattern/
    },
    {
      functions: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-*:prod',
      regions,
      problem: /version or alias \(:prod\).*drop ":prod"/
    },
    {
      functions: 'arn:aws:lambda:eu-west-1:12345:function:orders-*',
      regions,
      problem: /account "12345".*12-digit/
    },
    {
      functions: 'arn:aws:lambda:europe:123456789012:function:orders-*',
      regions,
      problem: /region "europe", which is not an AWS region name/
    },
    {
      functions: 'arn:aws-cn:lambda:eu-west-1:123456789012:function:orders-*',
      regions,
      problem: /puts eu-west-1 in the partition aws-cn, but eu-west-1 is in aws; write arn:aws:/
    },
    {
      functions: 'arn:aws:s3:::bucket-*',
      regions,
      problem: /^functions: "arn:aws:s3:::bucket-\*" is not a Lambda function ARN/
    }
  ])('reports $functions', ({ functions, regions: given, problem }) => {
    const selection = parseSelection({ functions, exclude: '', regions: given })
    expect(selection.problems).toHaveLength(1)
    expect(selection.problems[0]).toMatch(problem)
    expect(selection.patterns).toEqual([])
  })

  it('reports every problem at once, naming the exclude input for excludes', () => {
    const selection = parseSelection({
      functions: 'a.*\nb[',
      exclude: 'c!*\narn:aws:lambda:eu-*:123456789012:function:x',
      regions
    })
    expect(selection.problems).toHaveLength(4)
    expect(selection.problems.filter((p) => p.startsWith('exclude: '))).toHaveLength(2)
  })

  it('makes excludes that test names, and ARNs for ARN excludes', () => {
    const { excludes, problems } = parseSelection({
      functions: 'orders-*',
      exclude: 'orders-legacy\n*-test\narn:aws:lambda:us-east-1:123456789012:function:orders-b*',
      regions
    })
    expect(problems).toEqual([])
    const [literal, glob, arn] = excludes
    expect(literal?.test('orders-legacy')).toBe(true)
    expect(literal?.test('orders-legacy2')).toBe(false)
    expect(glob?.test('orders-test')).toBe(true)
    expect(arn?.test('arn:aws:lambda:us-east-1:123456789012:function:orders-batch')).toBe(true)
    expect(arn?.test('arn:aws:lambda:eu-west-1:123456789012:function:orders-batch')).toBe(false)
    expect(arn?.test('arn:aws:lambda:us-east-1:210987654321:function:orders-batch')).toBe(false)
    // An ARN exclude says which account and region: a bare name is not enough to match it.
    expect(arn?.test('orders-batch')).toBe(false)
  })

  it('refuses a function both named and excluded', () => {
    const selection = parseSelection({
      functions: 'orders-legacy\narn:aws:lambda:eu-west-1:123456789012:function:orders-old\norders-*',
      exclude: 'orders-l*, arn:aws:lambda:eu-west-1:123456789012:function:orders-o*',
      regions
    })
    expect(selection.problems).toEqual([
      expect.stringMatching(/^functions names orders-legacy and exclude excludes it/),
      expect.stringMatching(/^functions names arn:aws:lambda:eu-west-1:123456789012:function:orders-old and exclude/)
    ])
  })
})
