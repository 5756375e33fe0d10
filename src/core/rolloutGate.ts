/**
 * The gate every function passes just before its first write: the canary goes first, the rest waits until
 * it has succeeded, and once the canary fails, or more functions failed than failure-tolerance allows, no
 * new function is started. Functions with nothing to write never reach the gate; every function tells the
 * gate how it ended. Decisions only, no I/O: the run's steps ask and tell.
 */
import { FUNCTION_ARN } from './arns.js'
import type { FunctionReport, FunctionTarget } from './model.js'
import { type Canary, countOf, type RolloutWaves } from './inputs/rolloutWaves.js'

/** What the gate answers a function about to write: go on, or end without writing, for this reason. */
export type GateAnswer = { readonly go: true } | { readonly go: false; readonly reason: string }

/**
 * How a function ended, for the gate: `succeeded` (written and proven, or nothing to write), `failed`
 * (counts against the tolerance), `unproven` (written, but not proven as a canary must be: its test
 * invocation, CloudWatch verdict or delivery unknown), or `neutral` (never started: cancelled, skipped).
 */
export type GateResult = 'succeeded' | 'failed' | 'unproven' | 'neutral'

type Place = 'pending' | 'waiting' | 'passed' | 'ended'

/** The canary's functions among `targets`, by the names or ARNs given; the names that match none are `unknown`. */
export function canaryTargets(
  names: readonly string[],
  targets: readonly FunctionTarget[]
): { members: Set<FunctionTarget>; unknown: string[] } {
  const members = new Set<FunctionTarget>()
  const unknown: string[] = []
  for (const name of names) {
    const arn = FUNCTION_ARN.exec(name)
    const found = targets.filter((target) =>
      arn
        ? target.name === arn[4] && target.region === arn[2] && (target.account ?? arn[3]) === arn[3]
        : target.name === name || target.given === name
    )
    if (found.length === 0) unknown.push(name)
    for (const target of found) members.add(target)
  }
  return { members, unknown }
}

/** The gate of one run over its targets, in their listed order. */
export class RolloutGate {
  private readonly order: Map<FunctionTarget, number>
  private readonly places: Place[]
  private readonly waiting = new Map<number, () => void>()
  private readonly members = new Set<number>()
  /** A canary of a count: how many members it takes, chosen in listed order as they reach the gate. */
  private readonly wanted: number | undefined
  /** A canary of a count: the first target not yet considered for it. */
  private next = 0
  private canaryOpen: boolean
  private failures = 0
  /** Why no new function is started, once that is so: "the canary function x failed". */
  stopped: string | undefined

  /** How many functions may fail before no new one is started. */
  readonly tolerance: number

  constructor(
    targets: readonly FunctionTarget[],
    waves: RolloutWaves,
    /** What a canary function proves besides its write. */
    readonly proof: CanaryProof,
    /** The canary's functions when it is given by name (canaryTargets). */
    named: ReadonlySet<FunctionTarget> = new Set()
  ) {
    this.tolerance = countOf(waves.failureTolerance, targets.length, 'down')
    this.order = new Map(targets.map((target, index) => [target, index]))
    this.places = targets.map(() => 'pending')
    const canary: Canary = waves.canary
    this.wanted = 'none' in canary || 'names' in canary ? undefined : countOf(canary, targets.length, 'up')
    if ('names' in canary) for (const target of named) this.members.add(this.indexOf(target))
    this.canaryOpen = !('none' in canary)
    this.settleCanary()
  }

  /** The canary's functions so far (a count's are chosen as they reach the gate). */
  canaryOf(targets: readonly FunctionTarget[]): FunctionTarget[] {
    return targets.filter((target) => this.members.has(this.indexOf(target)))
  }

  /**
   * Called by a function about to write, holding its max-concurrency slot: go (it is in flight from now),
   * not at all (why), or wait: then it gives its slot back, awaits `decided` and asks again once it holds
   * one, so that every function written after a stop was decided on, with its slot, before the stop.
   */
  check(target: FunctionTarget): GateAnswer | 'wait' {
    const index = this.indexOf(target)
    if (this.places[index] === 'passed') return { go: true }
    if (this.stopped) return { go: false, reason: `the rollout stopped after ${this.stopped}` }
    this.places[index] = 'waiting'
    this.chooseMembers()
    if (this.canaryOpen && !this.members.has(index)) return 'wait'
    this.places[index] = 'passed'
    return { go: true }
  }

  /** Resolves once `check` would no longer say wait to this function: the canary was decided, or it joined it. */
  decided(target: FunctionTarget): Promise<void> {
    const index = this.indexOf(target)
    const done = new Promise<void>((resolve) => this.waiting.set(index, resolve))
    this.pump()
    return done
  }

  /** Called once by every function as it ends, whether it reached the gate or not. */
  settle(target: FunctionTarget, result: GateResult): void {
    const index = this.indexOf(target)
    this.places[index] = 'ended'
    this.waiting.delete(index)
    if (result === 'failed') this.failures++
    const name = target.name
    if (this.canaryOpen && this.members.has(index) && (result === 'failed' || result === 'unproven'))
      this.stop(
        result === 'failed' ? `the canary function ${name} failed` : `the canary function ${name} could not be proven`
      )
    else if (this.failures > this.tolerance && !this.stopped)
      this.stop(`${this.failures} failure${this.failures === 1 ? '' : 's'} (failure-tolerance ${this.tolerance})`)
    this.pump()
  }

  private stop(reason: string): void {
    this.stopped ??= reason
    this.canaryOpen = false
  }

  /** Wakes every waiting function whose answer is now known. */
  private pump(): void {
    this.chooseMembers()
    this.settleCanary()
    for (const [index, resolve] of [...this.waiting]) {
      if (this.stopped === undefined && this.canaryOpen && !this.members.has(index)) continue
      this.waiting.delete(index)
      resolve()
    }
  }

  /** A canary of a count takes the first functions in listed order that reach the gate, skipping those that ended before it. */
  private chooseMembers(): void {
    if (this.wanted === undefined || !this.canaryOpen) return
    while (this.members.size < this.wanted && this.next < this.places.length) {
      const place = this.places[this.next]
      if (place === 'pending') return
      if (place === 'waiting') this.members.add(this.next)
      this.next++
    }
  }

  /** The canary succeeded once all its functions ended (none failed, or it would be stopped) and no more will join. */
  private settleCanary(): void {
    if (!this.canaryOpen) return
    const complete = this.wanted === undefined || this.members.size >= this.wanted || this.next >= this.places.length
    if (complete && [...this.members].every((index) => this.places[index] === 'ended')) this.canaryOpen = false
  }

  private indexOf(target: FunctionTarget): number {
    const index = this.order.get(target)
    if (index === undefined) throw new Error(`${target.name} is not a target of this run`)
    return index
  }
}

/** What a canary must prove besides its write: its test invocation, the CloudWatch verdict, ClickStack delivery. */
export interface CanaryProof {
  readonly testInvoke: boolean
  /** The mode watches CloudWatch Logs after the test invocation (apply). */
  readonly verifiesTelemetry: boolean
  /** verify-delivery: require. */
  readonly deliveryRequired: boolean
}

/** How a function's report row ended, for the gate. */
export function gateResultOf(report: FunctionReport, proof: CanaryProof): GateResult {
  switch (report.status) {
    case 'failed':
    case 'rolled-back':
      return 'failed'
    case 'cancelled':
    case 'skipped':
      return 'neutral'
    case 'updated':
    case 'removed': {
      const proven =
        (!proof.testInvoke || report.invocation.status === 'ok') &&
        (!proof.testInvoke || !proof.verifiesTelemetry || report.cloudwatch !== 'unknown') &&
        (!proof.deliveryRequired || report.delivery?.status === 'delivered')
      return proven ? 'succeeded' : 'unproven'
    }
    default:
      return 'succeeded'
  }
}
