import { describe, expect, it } from '@jest/globals'
import {
  actionMatches,
  decodePolicyText,
  parsePolicyDocument,
  type PolicyDocument,
  policySize,
  resourceMatches,
  sameJson,
  serializePolicyDocument,
  statementsOf
} from '../../../src/core/iamPolicy.js'
import { LOG_WRITE_ACTIONS } from '../../../src/core/logPermissions.js'
import { allow, doc } from '../../support/policyFixtures.js'

const ORDERS = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders-api'
const ORDERS_V2 = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders-api-v2'
const THREE = [...LOG_WRITE_ACTIONS]
const BASIC = doc(allow(THREE))

describe('policy documents', () => {
  it('decodes URL-encoded documents as IAM returns them, and takes plain JSON as it is', () => {
    const text = JSON.stringify(BASIC)
    expect(decodePolicyText(encodeURIComponent(text))).toBe(text)
    expect(parsePolicyDocument(encodeURIComponent(text))).toEqual(BASIC)
    const withPercent = JSON.stringify(doc(allow('s3:GetObject', 'arn:aws:s3:::bucket/100%/*')))
    expect(parsePolicyDocument(withPercent)).toEqual(JSON.parse(withPercent))
    expect(parsePolicyDocument(` ${encodeURIComponent(withPercent)} `)).toEqual(JSON.parse(withPercent))
  })

  it('refuses anything but a JSON object', () => {
    expect(() => parsePolicyDocument('[]')).toThrow('JSON object')
    expect(() => parsePolicyDocument('%5B%5D')).toThrow('JSON object')
    expect(() => parsePolicyDocument('not json')).toThrow()
  })

  it.each([
    ['an array', doc(allow('a:b'), allow('c:d')), 2],
    ['one object', { Version: '2012-10-17', Statement: allow('a:b') }, 1],
    ['none', { Version: '2012-10-17' }, 0]
  ])('reads Statement as %s', (_, document, count) => {
    expect(statementsOf(document as PolicyDocument)).toHaveLength(count)
  })

  it('counts size as IAM does, without whitespace', () => {
    expect(policySize('{ "a" : [ 1, 2 ] }\n')).toBe('{"a":[1,2]}'.length)
    expect(serializePolicyDocument(BASIC)).toBe(JSON.stringify(BASIC))
  })

  it('compares JSON regardless of key order, not of array order', () => {
    expect(sameJson({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true)
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false)
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false)
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true)
  })
})

describe('matching', () => {
  it.each([
    ['logs:PutLogEvents', 'logs:PutLogEvents', true],
    ['LOGS:putlogevents', 'logs:PutLogEvents', true],
    ['logs:*', 'logs:PutLogEvents', true],
    ['logs:Put*', 'logs:PutLogEvents', true],
    ['logs:Put*', 'logs:CreateLogGroup', false],
    ['logs:?utLogEvents', 'logs:PutLogEvents', true],
    ['*', 'logs:CreateLogStream', true],
    ['*:Create*', 'logs:CreateLogStream', true],
    ['s3:*', 'logs:PutLogEvents', false],
    ['logs:PutLogEvent', 'logs:PutLogEvents', false]
  ])('action %s against %s: %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected)
  })

  it.each([
    ['*', ORDERS, true],
    ['arn:aws:logs:*:*:*', `${ORDERS}:log-stream:x`, true],
    ['arn:aws:logs:us-east-1:123456789012:*', ORDERS, true],
    ['arn:aws:logs:eu-west-1:123456789012:*', ORDERS, false],
    ['arn:aws:logs:*:*:log-group:/aws/lambda/*', ORDERS, true],
    [`${ORDERS}:*`, `${ORDERS}:log-stream:2024/01/01/[$LATEST]abc`, true],
    [`${ORDERS}:*`, ORDERS, false],
    [`${ORDERS}:*`, `${ORDERS_V2}:log-stream:x`, false],
    [ORDERS, ORDERS, true],
    [ORDERS.toUpperCase(), ORDERS, false],
    ['arn:aws:logs:*:*:log-group:/aws/lambda/${aws:PrincipalTag/team}-*', ORDERS, true],
    ['arn:aws:s3:::bucket/*', ORDERS, false]
  ])('resource %s against %s: %s', (pattern, arn, expected) => {
    expect(resourceMatches(pattern, arn)).toBe(expected)
  })

  it('reads a policy variable as never matching when asked for certainty', () => {
    expect(resourceMatches('arn:aws:logs:*:*:log-group:${aws:username}', ORDERS, 'never')).toBe(false)
  })
})
