import { describe, expect, it, jest } from '@jest/globals'
import { EventEmitter } from 'node:events'
import { RunControl } from '../../../src/run/cancellation.js'

const fakeProcess = (): NodeJS.Process => new EventEmitter() as unknown as NodeJS.Process

describe('RunControl', () => {
  it('the first signal cancels softly; the second stops at once', () => {
    const hardStop = jest.fn<(reason: string) => void>()
    const control = new RunControl(hardStop, () => {}, 60000)
    const proc = fakeProcess()
    const dispose = control.install(proc)
    expect(control.cancelled).toBe(false)
    proc.emit('SIGINT', 'SIGINT')
    expect(control.cancelled).toBe(true)
    expect(hardStop).not.toHaveBeenCalled()
    proc.emit('SIGTERM', 'SIGTERM')
    expect(hardStop).toHaveBeenCalledWith('received SIGTERM after cancellation')
    dispose()
    expect((proc as unknown as EventEmitter).listenerCount('SIGINT')).toBe(0)
  })

  it('stops at once when the grace period runs out', async () => {
    jest.useFakeTimers()
    try {
      const hardStop = jest.fn<(reason: string) => void>()
      const control = new RunControl(hardStop, () => {}, 5000)
      control.receive('SIGINT')
      jest.advanceTimersByTime(4999)
      expect(hardStop).not.toHaveBeenCalled()
      jest.advanceTimersByTime(2)
      expect(hardStop).toHaveBeenCalledWith('the grace period after cancellation ran out')
    } finally {
      jest.useRealTimers()
    }
  })
})
