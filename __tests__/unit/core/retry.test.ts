import { describe, expect, it, jest } from '@jest/globals'
import { withRetry } from '../../../src/core/retry.js'
import { isTransient } from '../../../src/core/errors.js'

const awsError = (name: string, status?: number, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra })

describe('withRetry', () => {
  it('retries transient errors with growing, jittered waits until it succeeds', async () => {
    const waits: number[] = []
    let calls = 0
    const result = await withRetry(
      async () => {
        calls++
        if (calls < 3) throw awsError('ThrottlingException', 400)
        return 'ok'
      },
      {
        attempts: 5,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        isRetryable: isTransient,
        sleep: async (ms) => void waits.push(ms),
        random: () => 0.5
      }
    )
    expect(result).toBe('ok')
    expect(calls).toBe(3)
    expect(waits).toEqual([50, 100])
  })

  it('does not retry an error the predicate calls final', async () => {
    const operation = jest.fn(async () => {
      throw awsError('InvalidParameterValueException', 400)
    })
    await expect(
      withRetry(operation, {
        attempts: 5,
        baseDelayMs: 1,
        maxDelayMs: 1,
        isRetryable: isTransient,
        sleep: async () => {}
      })
    ).rejects.toThrow('InvalidParameterValueException')
    expect(operation).toHaveBeenCalledTimes(1)
  })

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0
    await expect(
      withRetry(
        async () => {
          calls++
          throw awsError('ServiceException', 503)
        },
        { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, isRetryable: isTransient, sleep: async () => {} }
      )
    ).rejects.toThrow('ServiceException')
    expect(calls).toBe(3)
  })
})
