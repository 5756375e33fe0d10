/** The rollout's gate (canary first, then the rest; no new start past failure-tolerance) and its inputs' arithmetic. */
import { describe, expect, it } from '@jest/globals'
import { type FunctionReport, type FunctionTarget, emptyReport } from '../../../src/core/model.js'
import { countOf, parseRolloutWaves, type RolloutWaves } from '../../../src/core/inputs/rolloutWaves.js'
import {
  canaryTargets,
  type CanaryProof,
  type GateAnswer,
  gateResultOf,
  RolloutGate
} from '../../../src/core/rolloutGate.js'

const target = (name: string, region = 'us-east-1'): FunctionTarget => ({
  given: name,
  name,
  region,
  account: undefined,
  partition: 'aws'
})
const fleet = (n: number): FunctionTarget[] =>
  Array.from({ length: n }, (_, index) => target(`fn-${String(index).padStart(2, '0')}`))
const PROOF: CanaryProof = { testInvoke: true, verifiesTelemetry: true, deliveryRequired: false }

/** The waves as the inputs give them. */
function wavesOf(inputs: Record<string, string>, testInvoke = true): { waves: RolloutWaves; problems: string[] } {
  const problems: string[] = []
  const waves = parseRolloutWaves(
    (name) => inputs[name] ?? '',
    (message) => void problems.push(message),
    testInvoke
  )
  return { waves, problems }
}

function gateOf(targets: FunctionTarget[], inputs: Record<string, string>): RolloutGate {
  const { waves, problems } = wavesOf(inputs)
  expect(problems).toEqual([])
  const named = 'names' in waves.canary ? canaryTargets(waves.canary.names, targets).members : undefined
  return new RolloutGate(targets, waves, PROOF, named)
}

const go: GateAnswer = { go: true }
const names = (targets: readonly FunctionTarget[]): string[] => targets.map((t) => t.name)

describe('canary and failure-tolerance inputs', () => {
  it('read a count, a percentage and names; the default tolerance is 3 and no canary', () => {
    expect(wavesOf({}).waves).toEqual({ canary: { none: true }, failureTolerance: { count: 3 } })
    expect(wavesOf({ canary: '2', 'failure-tolerance': '0' }).waves).toEqual({
      canary: { count: 2 },
      failureTolerance: { count: 0 }
    })
    expect(wavesOf({ canary: '5%', 'failure-tolerance': '10 %' }).waves).toEqual({
      canary: { percent: 5 },
      failureTolerance: { percent: 10 }
    })
    expect(
      wavesOf({ canary: 'orders-api, arn:aws:lambda:eu-west-1:123456789012:function:billing\nreports # low risk' })
        .waves.canary
    ).toEqual({ names: ['orders-api', 'arn:aws:lambda:eu-west-1:123456789012:function:billing', 'reports'] })
  })

  it.each([
    [{ canary: '0' }, 'canary "0" must be a whole number of functions from 1'],
    [{ canary: '0%' }, 'canary "0%" must be'],
    [{ canary: '101%' }, 'canary "101%" must be'],
    [{ canary: '1.5' }, 'canary: "1.5" is not a function name or ARN'],
    [{ canary: 'orders api' }, 'canary: "orders api" is not a function name or ARN'],
    [{ 'failure-tolerance': '-1' }, 'failure-tolerance "-1" must be a whole number of functions from 0'],
    [{ 'failure-tolerance': '150%' }, 'failure-tolerance "150%" must be'],
    [{ 'failure-tolerance': 'some' }, 'failure-tolerance "some" must be']
  ])('refuse %j, naming the input and the fix', (inputs, start) => {
    const { problems } = wavesOf(inputs)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain(start)
    expect(problems[0]).toMatch(/e\.g\.|write a number/)
  })

  it('refuse a canary without the test invocation that proves it', () => {
    expect(wavesOf({ canary: '1' }, false).problems).toEqual([
      expect.stringContaining('canary is set but test-invoke is false')
    ])
    expect(wavesOf({ 'failure-tolerance': '1' }, false).problems).toEqual([])
  })

  it('round a share of the canary up and of the tolerance down, without floating-point extras', () => {
    expect(countOf({ percent: 5 }, 20, 'up')).toBe(1)
    expect(countOf({ percent: 5 }, 21, 'up')).toBe(2)
    expect(countOf({ percent: 10 }, 25, 'down')).toBe(2)
    expect(countOf({ percent: 3 }, 100, 'up')).toBe(3)
    expect(countOf({ percent: 0 }, 1000, 'down')).toBe(0)
    expect(countOf({ percent: 100 }, 7, 'down')).toBe(7)
    expect(countOf({ count: 4 }, 2, 'up')).toBe(4)
  })
})

describe('canaryTargets', () => {
  it('finds functions by name, as given, or by ARN in their region, and says which names match none', () => {
    const targets = [target('orders'), target('orders', 'eu-west-1'), target('billing', 'eu-west-1')]
    const found = canaryTargets(
      [
        'arn:aws:lambda:eu-west-1:123456789012:function:billing',
        'orders',
        'arn:aws:lambda:us-west-2:123456789012:function:orders',
        'nope'
      ],
      targets
    )
    expect([...found.members]).toEqual([targets[2], targets[0], targets[1]])
    expect(found.unknown).toEqual(['arn:aws:lambda:us-west-2:123456789012:function:orders', 'nope'])
  })
})

describe('RolloutGate', () => {
  it('lets the first N to be written, in listed order, go first; the rest wait until the canary succeeded', async () => {
    const targets = fleet(5)
    const gate = gateOf(targets, { canary: '2' })
    const [a, b, c, d, e] = targets as [FunctionTarget, FunctionTarget, FunctionTarget, FunctionTarget, FunctionTarget]
    // b reaches the gate before a has been read: it waits, a may have something to write.
    expect(gate.check(b)).toBe('wait')
    let bDecided = false
    void gate.decided(b).then(() => (bDecided = true))
    // a turns out to have nothing to write: b is now the first, and c the second.
    gate.settle(a, 'succeeded')
    await Promise.resolve()
    expect(bDecided).toBe(true)
    expect(gate.check(b)).toEqual(go)
    expect(gate.check(d)).toBe('wait')
    expect(gate.check(c)).toEqual(go)
    expect(names(gate.canaryOf(targets))).toEqual(['fn-01', 'fn-02'])
    let dDecided = false
    void gate.decided(d).then(() => (dDecided = true))
    gate.settle(b, 'succeeded')
    await Promise.resolve()
    expect(dDecided).toBe(false)
    gate.settle(c, 'succeeded')
    await Promise.resolve()
    expect(dDecided).toBe(true)
    expect(gate.check(d)).toEqual(go)
    expect(gate.check(e)).toEqual(go)
    expect(gate.stopped).toBeUndefined()
  })

  it('starts nothing more once a canary function fails: the waiting and the later ones are told why', async () => {
    const targets = fleet(4)
    const gate = gateOf(targets, { canary: '1', 'failure-tolerance': '10' })
    const [a, b, c, d] = targets as [FunctionTarget, FunctionTarget, FunctionTarget, FunctionTarget]
    expect(gate.check(a)).toEqual(go)
    expect(gate.check(b)).toBe('wait')
    const woken = gate.decided(b)
    gate.settle(a, 'failed')
    await woken
    const stop = { go: false, reason: 'the rollout stopped after the canary function fn-00 failed' }
    expect(gate.check(b)).toEqual(stop)
    gate.settle(c, 'succeeded')
    expect(gate.check(d)).toEqual(stop)
  })

  it('counts a canary written but not proven (CloudWatch verdict unknown) as a stop, not as a failure', () => {
    const targets = fleet(2)
    const gate = gateOf(targets, { canary: '1' })
    expect(gate.check(targets[0] as FunctionTarget)).toEqual(go)
    gate.settle(targets[0] as FunctionTarget, 'unproven')
    expect(gate.stopped).toBe('the canary function fn-00 could not be proven')
  })

  it('takes named canary functions first, whatever their place in the list', () => {
    const targets = fleet(3)
    const gate = gateOf(targets, { canary: 'fn-02' })
    expect(gate.check(targets[0] as FunctionTarget)).toBe('wait')
    expect(gate.check(targets[2] as FunctionTarget)).toEqual(go)
  })

  it('makes a canary larger than the fleet the whole fleet, and lets none wait for ever', () => {
    const targets = fleet(3)
    const gate = gateOf(targets, { canary: '10' })
    for (const t of targets) expect(gate.check(t)).toEqual(go)
    const gateOfAll = gateOf(targets, { canary: '100%' })
    expect(gateOfAll.check(targets[1] as FunctionTarget)).toBe('wait')
    gateOfAll.settle(targets[0] as FunctionTarget, 'succeeded')
    expect(gateOfAll.check(targets[1] as FunctionTarget)).toEqual(go)
  })

  it('stops after more failures than the tolerance, counting failures before the gate too; in-flight ones still end', () => {
    const targets = fleet(6)
    const gate = gateOf(targets, { 'failure-tolerance': '2' })
    const [a, b, c, d, e, f] = targets as [
      FunctionTarget,
      FunctionTarget,
      FunctionTarget,
      FunctionTarget,
      FunctionTarget,
      FunctionTarget
    ]
    for (const t of [a, b, c, d]) expect(gate.check(t)).toEqual(go)
    gate.settle(e, 'failed')
    gate.settle(a, 'failed')
    expect(gate.check(f)).toEqual(go)
    gate.settle(b, 'failed')
    expect(gate.stopped).toBe('3 failures (failure-tolerance 2)')
    // f passed before the stop: it is in flight and asks again after a re-read (a replan).
    expect(gate.check(f)).toEqual(go)
    expect(gate.check(c)).toEqual(go)
    gate.settle(c, 'failed')
    expect(gate.stopped).toBe('3 failures (failure-tolerance 2)')
  })

  it('with tolerance 0 stops at the first failure; a percentage rounds down', () => {
    const targets = fleet(3)
    const strict = gateOf(targets, { 'failure-tolerance': '0' })
    strict.settle(targets[0] as FunctionTarget, 'failed')
    expect(strict.check(targets[1] as FunctionTarget)).toEqual({
      go: false,
      reason: 'the rollout stopped after 1 failure (failure-tolerance 0)'
    })
    expect(gateOf(fleet(19), { 'failure-tolerance': '10%' }).tolerance).toBe(1)
  })
})

describe('gateResultOf', () => {
  const row = (fields: Partial<FunctionReport>): FunctionReport => ({ ...emptyReport(target('f')), ...fields })
  const invoked = { status: 'ok' as const, statusCode: 200, functionError: null }

  it('proves a written function by its invocation, its CloudWatch verdict and, when required, its delivery', () => {
    expect(gateResultOf(row({ status: 'updated', invocation: invoked, cloudwatch: 'off' }), PROOF)).toBe('succeeded')
    expect(gateResultOf(row({ status: 'updated', invocation: invoked, cloudwatch: 'unknown' }), PROOF)).toBe('unproven')
    expect(
      gateResultOf(row({ status: 'updated', invocation: invoked, cloudwatch: 'on', delivery: null }), {
        ...PROOF,
        deliveryRequired: true
      })
    ).toBe('unproven')
    expect(gateResultOf(row({ status: 'removed', invocation: invoked }), { ...PROOF, verifiesTelemetry: false })).toBe(
      'succeeded'
    )
  })

  it('counts failed and rolled back as failures; cancelled and skipped as neither', () => {
    expect(gateResultOf(row({ status: 'failed' }), PROOF)).toBe('failed')
    expect(gateResultOf(row({ status: 'rolled-back' }), PROOF)).toBe('failed')
    expect(gateResultOf(row({ status: 'cancelled' }), PROOF)).toBe('neutral')
    expect(gateResultOf(row({ status: 'skipped' }), PROOF)).toBe('neutral')
    expect(gateResultOf(row({ status: 'unchanged' }), PROOF)).toBe('succeeded')
  })
})
