import { describe, expect, it } from '@jest/globals'
import { DENY_POLICY_NAME } from '../../../src/core/logPermissions.js'
import { planDeny } from '../../../src/core/rolePlanning.js'
import {
  DENY_TAG,
  DETACHED_TAG,
  hasRecord,
  INLINE_UNDO_TAG_PREFIX,
  recordOf,
  recordTags,
  RecordTooLargeError,
  tagChanges
} from '../../../src/core/roleRecord.js'
import { planInlineRestore } from '../../../src/core/roleUndo.js'
import { ORDERS, THREE, BASIC_ARN, doc, allow, role } from '../../support/roleStates.js'

describe('the record in role tags', () => {
  it('round-trips, with keys prefixed and values within 256 characters', () => {
    const original = doc(allow(['logs:*', 's3:GetObject']), allow(THREE, `${ORDERS}:*`))
    const record = {
      denyPolicy: DENY_POLICY_NAME,
      detached: [BASIC_ARN],
      inline: [
        [
          {
            kind: 'statement' as const,
            policy: 'app',
            index: 0,
            original: allow(['logs:*', 's3:GetObject']),
            removed: false
          },
          { kind: 'policy' as const, policy: 'logging', document: JSON.stringify(original) }
        ]
      ]
    }
    const tags = recordTags(record)
    expect(tags[DENY_TAG]).toBe(DENY_POLICY_NAME)
    expect(tags[DETACHED_TAG]).toBe(BASIC_ARN)
    for (const [key, value] of Object.entries(tags)) {
      expect(key.startsWith('rotel-clickstack-action:')).toBe(true)
      expect(key.length).toBeLessThanOrEqual(128)
      expect(value.length).toBeLessThanOrEqual(256)
      expect(value).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u)
    }
    expect(recordOf({ ...tags, team: 'orders' })).toEqual(record)
    expect(hasRecord(recordOf({ team: 'orders' }))).toBe(false)
  })

  it('cuts a large record into numbered chunks and reads them back in order', () => {
    const statements = Array.from({ length: 40 }, (_, i) => ({
      kind: 'statement' as const,
      policy: `policy-${i}`,
      index: i,
      original: allow(['logs:*', `s3:GetObject${i}`], `arn:aws:s3:::bucket-${i}-${'x'.repeat(i)}/*`),
      removed: false
    }))
    const tags = recordTags({ detached: [], inline: [statements] })
    const chunks = Object.keys(tags).filter((key) => key.startsWith(INLINE_UNDO_TAG_PREFIX))
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks[0]).toBe(`${INLINE_UNDO_TAG_PREFIX}00`)
    expect(recordOf(tags).inline).toEqual([statements])
  })

  it('reads tag keys case-insensitively', () => {
    expect(recordOf({ [DENY_TAG.toUpperCase()]: DENY_POLICY_NAME }).denyPolicy).toBe(DENY_POLICY_NAME)
  })

  it.each<[string, (tags: Record<string, string>) => Record<string, string>]>([
    [
      'a damaged chunk',
      (tags) => ({ ...tags, [`${INLINE_UNDO_TAG_PREFIX}00`]: `A${tags[`${INLINE_UNDO_TAG_PREFIX}00`]?.slice(1)}` })
    ],
    ['a missing chunk', (tags) => Object.fromEntries(Object.entries(tags).filter(([key]) => !key.endsWith('-01')))],
    ['garbage', () => ({ [`${INLINE_UNDO_TAG_PREFIX}00`]: 'not-base64-deflate' })]
  ])('says the record cannot be read after %s, and restores nothing from it', (_, damage) => {
    const statements = Array.from({ length: 30 }, (_, i) => ({
      kind: 'statement' as const,
      policy: `p${i}`,
      index: i,
      original: allow(['logs:*', `s3:Get${'y'.repeat(i)}`], `arn:aws:s3:::b${i}${'z'.repeat(2 * i)}`),
      removed: false
    }))
    const record = recordOf(damage(recordTags({ detached: [], inline: [statements] })))
    expect(record.problem).toContain('cannot be read')
    expect(record.inline).toEqual([])
    expect(planInlineRestore(role(), record).conflicts[0]).toContain('were not restored')
  })

  it('refuses, before any change, a record that does not fit beside the role own tags', () => {
    const crowded = role({ tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`own-${i}`, 'x'])) })
    expect(() => tagChanges(crowded, { denyPolicy: DENY_POLICY_NAME, detached: [], inline: [] })).toThrow(
      RecordTooLargeError
    )
    expect(() => planDeny(crowded, [ORDERS])).toThrow(/at most 50.*cloudwatch-off-method: deny|Nothing was changed/)
    const fits = role({ tags: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`own-${i}`, 'x'])) })
    expect(tagChanges(fits, { denyPolicy: DENY_POLICY_NAME, detached: [], inline: [] })).toEqual({
      set: { [DENY_TAG]: DENY_POLICY_NAME },
      remove: []
    })
  })
})
