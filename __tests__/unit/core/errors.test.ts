/** The one classification of errors: what another attempt can cure, and what anything thrown says. */
import { describe, expect, it } from '@jest/globals'
import { isTransient, messageOf } from '../../../src/core/errors.js'

const awsError = (name: string, status?: number, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra })

describe('isTransient', () => {
  it.each([
    ['ThrottlingException', 400, true],
    ['TooManyRequestsException', 429, true],
    ['ServiceException', 500, true],
    ['Anything', 503, true],
    ['AccessDeniedException', 403, false],
    ['ResourceNotFoundException', 404, false],
    ['InvalidParameterValueException', 400, false]
  ])('%s (%d) → %s', (name, status, expected) => {
    expect(isTransient(awsError(name, status))).toBe(expected)
  })

  it('treats a reset connection as transient', () => {
    expect(isTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true)
  })
})

describe('messageOf', () => {
  it('never prints [object Object]', () => {
    expect(messageOf({ a: 1 })).toBe('{"a":1}')
    expect(messageOf(new Error('boom'))).toBe('boom')
    expect(messageOf('plain')).toBe('plain')
  })
})
