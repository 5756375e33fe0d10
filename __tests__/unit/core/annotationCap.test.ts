/** GitHub's 10 annotations of a kind per step: the first ones as they come, the rest gathered into the last. */
import { describe, expect, it } from '@jest/globals'
import { AnnotationCap, SHOWN_PER_KIND } from '../../../src/core/annotationCap.js'

const note = (i: number) => ({ message: `message ${i}`, title: `fn-${i}: drifted` })

describe('AnnotationCap', () => {
  it('makes 9 warnings as they come and holds the 10th on', () => {
    const cap = new AnnotationCap()
    const admitted = Array.from({ length: 12 }, (_, i) => cap.admit('warning', note(i)))
    expect(admitted).toEqual([...new Array<boolean>(9).fill(true), false, false, false])
  })

  it('gives a lone held annotation back as it was', () => {
    const cap = new AnnotationCap()
    for (let i = 0; i < 10; i++) cap.admit('notice', note(i))
    expect(cap.gather()).toEqual([{ kind: 'notice', ...note(9) }])
  })

  it('gathers the rest into one annotation that counts and names them', () => {
    const cap = new AnnotationCap()
    for (let i = 0; i < 25; i++) cap.admit('warning', note(i))
    const [gathered, ...more] = cap.gather()
    expect(more).toEqual([])
    expect(gathered?.kind).toBe('warning')
    expect(gathered?.title).toBe('16 more warnings')
    expect(gathered?.message).toContain(
      `GitHub shows only ${SHOWN_PER_KIND} warnings of a step; 16 more are in the log`
    )
    for (let i = 9; i < 25; i++) expect(gathered?.message).toContain(`fn-${i}: drifted`)
    expect(gathered?.message).not.toContain('fn-8: drifted')
  })

  it('leaves a place for the error the failed step makes itself: 8 errors, then the gathered one', () => {
    const cap = new AnnotationCap()
    const admitted = Array.from({ length: 10 }, (_, i) => cap.admit('error', note(i)))
    expect(admitted.filter(Boolean)).toHaveLength(SHOWN_PER_KIND - 2)
    expect(cap.gather()).toEqual([expect.objectContaining({ kind: 'error', title: '2 more errors' })])
  })

  it('bounds the names of thousands, then says how many more', () => {
    const cap = new AnnotationCap()
    for (let i = 0; i < 5000; i++) cap.admit('error', { message: 'e', title: `${'x'.repeat(60)}-${i}: failed` })
    const [gathered] = cap.gather()
    expect(gathered?.message.length).toBeLessThan(1800)
    expect(gathered?.message).toMatch(/and \d+ more\. See the job summary for every function\.$/)
  })

  it('names an annotation without a title by its first words', () => {
    const cap = new AnnotationCap(2)
    cap.admit('warning', { message: 'first', title: undefined })
    cap.admit('warning', { message: 'No github-token: the plan is not posted\nsecond line', title: undefined })
    cap.admit('warning', { message: 'third', title: undefined })
    expect(cap.gather()[0]?.message).toContain('No github-token: the plan is not posted, third')
  })

  it('makes no 11th: once a kind is gathered, later ones stay in the log', () => {
    const cap = new AnnotationCap()
    for (let i = 0; i < 12; i++) cap.admit('warning', note(i))
    expect(cap.gather()).toHaveLength(1)
    expect(cap.admit('warning', note(99))).toBe(false)
    expect(cap.gather()).toEqual([])
  })

  it('keeps the kinds apart', () => {
    const cap = new AnnotationCap()
    for (let i = 0; i < 9; i++) cap.admit('warning', note(i))
    expect(cap.admit('notice', note(0))).toBe(true)
    expect(cap.admit('error', note(0))).toBe(true)
    expect(cap.gather()).toEqual([])
  })
})
