/** The one concurrency limiter: Slots (a lease a task can give back while it waits) and mapWithConcurrency on it. */
import { describe, expect, it } from '@jest/globals'
import { mapWithConcurrency, Slots } from '../../../src/core/concurrency.js'

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('Slots', () => {
  it('lets at most `limit` hold a slot, and serves the waiting in the order they came', async () => {
    const slots = new Slots(2)
    const order: string[] = []
    const a = await slots.acquire()
    const b = await slots.acquire()
    const c = slots.acquire().then((lease) => (order.push('c'), lease))
    const d = slots.acquire().then((lease) => (order.push('d'), lease))
    await tick()
    expect(order).toEqual([])
    b.release()
    await tick()
    expect(order).toEqual(['c'])
    a.release()
    await tick()
    expect(order).toEqual(['c', 'd'])
    ;(await c).release()
    ;(await d).release()
    // All given back: two can be held again at once, and no third.
    const e = await slots.acquire()
    const f = await slots.acquire()
    let third = false
    void slots.acquire().then(() => (third = true))
    await tick()
    expect(third).toBe(false)
    e.release()
    f.release()
  })

  it('serves one asking `first` ahead of those already waiting', async () => {
    const slots = new Slots(1)
    const order: string[] = []
    const held = await slots.acquire()
    const later = slots.acquire().then((lease) => (order.push('later'), lease))
    const first = slots.acquire(true).then((lease) => (order.push('first'), lease))
    held.release()
    ;(await first).release()
    ;(await later).release()
    expect(order).toEqual(['first', 'later'])
  })

  it('counts a second release of the same lease as nothing', async () => {
    const slots = new Slots(1)
    const lease = await slots.acquire()
    let second = false
    let third = false
    void slots.acquire().then(() => (second = true))
    void slots.acquire().then(() => (third = true))
    lease.release()
    lease.release()
    await tick()
    expect([second, third]).toEqual([true, false])
  })

  it('gives the slot back when the task throws', async () => {
    const slots = new Slots(1)
    await expect(slots.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(slots.run(async () => 'next')).resolves.toBe('next')
  })
})

describe('mapWithConcurrency', () => {
  it('runs at most `limit` tasks at once and keeps the results in input order', async () => {
    let running = 0
    let most = 0
    const results = await mapWithConcurrency([30, 10, 20, 0, 5], 2, async (ms, index) => {
      most = Math.max(most, ++running)
      await new Promise((resolve) => setTimeout(resolve, ms))
      running--
      return index
    })
    expect(results).toEqual([0, 1, 2, 3, 4])
    expect(most).toBe(2)
  })
})
