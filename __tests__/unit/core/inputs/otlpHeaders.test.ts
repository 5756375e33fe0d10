/** otlp-headers has one parser: what configuration validates, what preflight sends and what is masked at start-up. */
import { describe, expect, it } from '@jest/globals'
import { headerMap, parseOtlpHeaders, rawHeaderValues } from '../../../../src/core/inputs/otlpHeaders.js'
import { splitEntries } from '../../../../src/core/inputs/parsers.js'

describe('otlp-headers', () => {
  it('splits entries on commas and line breaks (CRLF, LF and a lone CR), trimmed', () => {
    expect(splitEntries(' a=1 ,b=2\r\nc=3\nd=4\re=5')).toEqual(['a=1', 'b=2', 'c=3', 'd=4', 'e=5'])
  })

  it('reads the variable the action writes back into the headers preflight sends', () => {
    const problems: string[] = []
    const pairs = parseOtlpHeaders('authorization=abc==\nx-team = ops', (p) => problems.push(p))
    expect(problems).toEqual([])
    expect(headerMap(pairs.map(([k, v]) => `${k}=${v}`).join(','))).toEqual({ authorization: 'abc==', 'x-team': 'ops' })
    expect(headerMap('secret://arn:aws:secretsmanager:us-east-1:123456789012:secret:h')).toEqual({
      secret: 'secret://arn:aws:secretsmanager:us-east-1:123456789012:secret:h'
    })
  })

  it('masks the raw values before validation, also of entries configuration refuses', () => {
    expect(rawHeaderValues('authorization=key-1,,broken-without-name\nx=ab')).toEqual(['key-1', 'broken-without-name'])
  })

  it('reports a header given twice in another case', () => {
    const problems: string[] = []
    parseOtlpHeaders('A=1,a=2', (p) => problems.push(p))
    expect(problems).toEqual(['otlp-headers: the header a is given twice (header names ignore case); keep one.'])
  })
})
