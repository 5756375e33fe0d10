import { describe, expect, it } from '@jest/globals'
import { loadConfig } from '../../../src/core/config.js'
import { FunctionRun, holderOf } from '../../../src/run/functionRun.js'
import type { RolloutContext } from '../../../src/run/rolloutContext.js'
import { Slots } from '../../../src/core/concurrency.js'

const target = { given: 'orders-api', name: 'orders-api', region: 'us-east-1', account: undefined, partition: 'aws' }
const ctx = {
  config: loadConfig((name) => ({ functions: 'orders-api', 'aws-region': 'us-east-1' })[name] ?? '', {}),
  lambdaFor: () => ({}),
  logsFor: () => ({})
} as unknown as RolloutContext
const run = (): FunctionRun => new FunctionRun(ctx, target, holderOf(undefined, undefined))

describe('FunctionRun', () => {
  it('starts as its own in-flight entry: reading, nothing read, its report failed until a step says otherwise', () => {
    const r = run()
    expect([r.phase, r.original, r.report.status, r.report.function, r.report.region]).toEqual([
      'reading',
      undefined,
      'failed',
      'orders-api',
      'us-east-1'
    ])
  })

  it('ends failed with the error logged once, or keeps rolled-back when a rollback already said so', () => {
    const failed = run().fail('it broke')
    expect([failed.report.status, failed.report.error, failed.log]).toEqual(['failed', 'it broke', ['✖ it broke']])
    const r = run()
    r.mark('rolled-back')
    expect(r.fail('then this').report.status).toBe('rolled-back')
  })

  it('puts the outcome together from what the steps left, with any extra field', () => {
    const r = run()
    r.know({ cloudwatch: 'off' })
    r.log.push('a line')
    r.warnings.push('a warning')
    r.warn('ClickStack delivery', 'a warning with its own topic')
    const outcome = r.end('updated', undefined, { cloudwatchStillOn: true })
    expect(outcome).toEqual({
      report: r.report,
      layer: undefined,
      log: ['a line'],
      warnings: ['a warning', 'a warning with its own topic'],
      warningTopics: { 'a warning with its own topic': 'ClickStack delivery' },
      cloudwatchStillOn: true
    })
    expect([outcome.report.status, outcome.report.error, outcome.report.cloudwatch]).toEqual(['updated', null, 'off'])
  })

  it('says a cancelled function was not changed, and nothing else of its log', () => {
    const r = run()
    r.log.push('Target layer: x')
    const outcome = r.cancelled()
    expect(outcome.report.status).toBe('cancelled')
    expect(outcome.log).toEqual(['orders-api was not changed: the run was cancelled before it was processed.'])
  })
})

describe('holderOf', () => {
  it('gives the slot back once, and takes it again only when it had given it back', async () => {
    const slots = new Slots(1)
    const holder = holderOf(slots, await slots.acquire())
    holder.release()
    holder.release()
    await holder.reacquire()
    await holder.reacquire()
    let second = false
    void slots.acquire().then(() => (second = true))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(second).toBe(false)
    holder.release()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(second).toBe(true)
  })
})
