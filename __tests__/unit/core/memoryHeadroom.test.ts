import { describe, expect, it } from '@jest/globals'
import { headroomMb, lowMemoryReason, parseHeadroom } from '../../../src/core/memoryHeadroom.js'

describe('headroomMb', () => {
  it('takes a share of the memory size, or fixed MB', () => {
    expect(headroomMb({ percent: 10 }, 128)).toBe(12.8)
    expect(headroomMb({ percent: 10 }, 1024)).toBe(102.4)
    expect(headroomMb({ mb: 16 }, 128)).toBe(16)
    expect(headroomMb({ percent: 0 }, 128)).toBe(0)
  })
})

describe('lowMemoryReason', () => {
  it('is quiet while more than the headroom stays free', () => {
    // 128 - 115 = 13 MB free, more than 12.8
    expect(lowMemoryReason(115, 128, { percent: 10 })).toBeUndefined()
    expect(lowMemoryReason(111, 128, { mb: 16 })).toBeUndefined()
  })

  it('speaks once the free memory is within the headroom, naming the figures and the fix', () => {
    // 128 - 116 = 12 MB free, within 12.8
    const reason = lowMemoryReason(116, 128, { percent: 10 })
    expect(reason).toBe(
      'its test invocation used 116 MB of its 128 MB (12 MB free, within the memory-headroom of 10% of it, 12.8 MB); an out-of-memory error ends an invocation, so raise its MemorySize (to 192 MB, say) or, if the figure is expected, lower memory-headroom'
    )
    expect(lowMemoryReason(112, 128, { mb: 16 })).toMatch(
      /16 MB free, within the memory-headroom of 16 MB\).*to 192 MB/
    )
  })

  it('with no headroom, speaks only when all of the memory was used', () => {
    expect(lowMemoryReason(127, 128, { percent: 0 })).toBeUndefined()
    expect(lowMemoryReason(128, 128, { mb: 0 })).toMatch(/0 MB free/)
  })

  it('suggests a size that would pass, within Lambda’s largest', () => {
    const reason = lowMemoryReason(900, 1024, { percent: 20 }) ?? ''
    const suggested = Number(/to (\d+) MB, say/.exec(reason)?.[1])
    expect(lowMemoryReason(900, suggested, { percent: 20 })).toBeUndefined()
    expect(lowMemoryReason(10_240, 10_240, { percent: 10 })).toMatch(/to 10240 MB, say/)
  })

  it('says nothing without both figures', () => {
    expect(lowMemoryReason(null, 128, { percent: 10 })).toBeUndefined()
    expect(lowMemoryReason(120, null, { percent: 10 })).toBeUndefined()
  })
})

describe('parseHeadroom', () => {
  it.each(['10', '%', '91%', '100%', '10.55%', '10241MB', '1.5MB', '10 percent', '-1%', ''])('refuses %p', (text) => {
    expect(parseHeadroom(text)).toBeUndefined()
  })
})
