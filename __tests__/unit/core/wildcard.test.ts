/** The one wildcard matcher, as IAM's Action and Resource patterns use it. */
import { describe, expect, it } from '@jest/globals'
import { iamWildcardRegExp } from '../../../src/core/wildcard.js'
import { actionMatches, resourceMatches } from '../../../src/core/iamPolicy.js'

/** The plain translation it replaced: right answers, exponential time on many stars. */
const naive = (pattern: string, ignoreCase: boolean): RegExp =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    ignoreCase ? 'is' : 's'
  )

describe('iamWildcardRegExp', () => {
  it('answers as the plain translation on every short pattern and text over a small alphabet', () => {
    const alphabet = ['a', 'b', ':', '*', '?', '.']
    let seed = 7
    const pick = (): string => alphabet[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % alphabet.length] ?? 'a'
    for (let round = 0; round < 3000; round++) {
      const pattern = Array.from({ length: round % 7 }, pick).join('')
      const text = Array.from({ length: round % 9 }, pick)
        .join('')
        .replace(/[*?]/g, 'a')
      for (const ignoreCase of [false, true])
        expect([pattern, text, iamWildcardRegExp(pattern, ignoreCase).test(text)]).toEqual([
          pattern,
          text,
          naive(pattern, ignoreCase).test(text)
        ])
    }
  })

  it('matches actions without case and resources with it; * crosses : and /', () => {
    expect(actionMatches('LOGS:Put*', 'logs:PutLogEvents')).toBe(true)
    expect(
      resourceMatches(
        'arn:aws:logs:*:*:log-group:/aws/lambda/*',
        'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/a:*'
      )
    ).toBe(true)
    expect(
      resourceMatches(
        'arn:aws:logs:*:*:log-group:/aws/Lambda/*',
        'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/a'
      )
    ).toBe(false)
  })

  it('takes a policy of many stars, which a pull request can write, in linear time', () => {
    const pattern = `${'a*'.repeat(40)}b`
    const text = 'a'.repeat(5000)
    const started = performance.now()
    expect(actionMatches(pattern, text)).toBe(false)
    expect(
      resourceMatches(`arn:aws:logs:*:*:log-group:${pattern}`, `arn:aws:logs:us-east-1:123456789012:log-group:${text}`)
    ).toBe(false)
    expect(performance.now() - started).toBeLessThan(1000)
  })
})
