/** One function's state on its way through the rollout steps; the report row is written only here. */
import type { LambdaClient } from '@aws-sdk/client-lambda'
import {
  emptyReport,
  type FunctionOutcome,
  type FunctionReport,
  type FunctionState,
  type FunctionStatus,
  type FunctionTarget
} from '../core/model.js'
import type { LayerVersion } from '../core/layerVersions.js'
import { type ModePolicy, policyOf } from '../core/modes.js'
import type { Plan } from '../core/plan.js'
import type { InFlight } from './cancellation.js'
import type { Lease, Slots } from '../core/concurrency.js'
import type { RolloutContext } from './rolloutContext.js'

/** The function's `slots` slot: given back while it only waits, taken again to write. */
export interface SlotHolder {
  release(): void
  /** `first`: ahead of the functions waiting to start (one let through the rollout's gate). */
  reacquire(first?: boolean): Promise<void>
}

/** A slot holder over the lease taken before the function started (none without max-concurrency). */
export function holderOf(slots: Slots | undefined, first: Lease | undefined): SlotHolder {
  let lease = first
  return {
    release: () => {
      lease?.release()
      lease = undefined
    },
    reacquire: async (first = false) => {
      if (slots && !lease) lease = await slots.acquire(first)
    }
  }
}

/** The write that went through: the revision it produced, the configuration it replaced, when it was sent. */
export interface Written {
  readonly revisionId: string | undefined
  readonly basis: FunctionState
  /** By the runner's clock: the CloudWatch check counts the log streams created since. */
  readonly sentAt: number
}

/** The report fields a step learns; status and error are set by ending the run. */
export type KnownFields = Partial<Omit<FunctionReport, 'function' | 'region' | 'status' | 'error'>>

/**
 * One function's run: what was read, planned and written, the log lines, and the report as it becomes
 * known. It is also the function's in-flight entry, so that a hard stop reads the report as it stands.
 */
export class FunctionRun implements InFlight {
  readonly report: FunctionReport
  readonly lambda: LambdaClient
  /** What the mode reads, writes, verifies and says. */
  readonly policy: ModePolicy
  readonly now: () => number
  readonly log: string[] = []
  readonly warnings: string[] = []
  readonly warningTopics: Record<string, string> = {}
  readonly notices: string[] = []
  phase: InFlight['phase'] = 'reading'
  original: FunctionState | undefined = undefined
  logFormatChanged?: boolean
  /** Set by the read step; the steps after it run only once it is. */
  state!: FunctionState
  layer: LayerVersion | undefined = undefined
  /** How the function's configuration is planned, for the state read first and any read after a refused write. */
  planFor!: (current: FunctionState) => Plan
  plan!: Plan
  written!: Written

  constructor(
    readonly ctx: RolloutContext,
    readonly target: FunctionTarget,
    readonly slot: SlotHolder
  ) {
    this.report = emptyReport(target)
    this.lambda = ctx.lambdaFor(target.region)
    this.policy = policyOf(ctx.config.mode)
    this.now = ctx.now ?? Date.now
  }

  /** Records report fields as they become known. */
  know(fields: KnownFields): void {
    Object.assign(this.report, fields)
  }

  /** The report row says the function's configuration stays as it was read (nothing of the plan holds). */
  keepAsRead(): void {
    this.know({
      layerAfter: this.plan.rotelLayerBefore,
      layersAfter: [...this.state.layers],
      changedVariables: [],
      diff: null
    })
  }

  /** Sets the function's status (and its error, logged with a ✖) without ending the run. */
  mark(status: FunctionStatus, error?: string): void {
    this.report.status = status
    if (error === undefined) return
    this.report.error = error
    this.log.push(`✖ ${error}`)
  }

  /** Ends the run failed (or rolled back, when it was), with this message. */
  fail(message: string, extra: Partial<FunctionOutcome> = {}): FunctionOutcome {
    this.mark(this.report.status === 'rolled-back' ? 'rolled-back' : 'failed', message)
    return this.outcome(extra)
  }

  /** Ends the run with this status (and error). */
  end(status: FunctionStatus, error?: string, extra: Partial<FunctionOutcome> = {}): FunctionOutcome {
    this.mark(status, error)
    return this.outcome(extra)
  }

  /** Ends the run as cancelled before anything was written: its outcome says only that. */
  cancelled(): FunctionOutcome {
    return cancelledOutcome(this.report)
  }

  /** The run's outcome as it stands: the one place its report, log and warnings are put together. */
  outcome(extra: Partial<FunctionOutcome> = {}): FunctionOutcome {
    return {
      report: this.report,
      layer: this.layer,
      log: this.log,
      warnings: this.warnings,
      warningTopics: this.warningTopics,
      ...extra
    }
  }

  /** A warning with its own topic, which titles its annotation (`<function>: <topic>`). */
  warn(topic: string, message: string): void {
    this.warnings.push(message)
    this.warningTopics[message] = topic
  }
}

/** The outcome of a function the run never started, or stopped before writing, because it was cancelled. */
export function cancelledOutcome(report: FunctionReport): FunctionOutcome {
  report.status = 'cancelled'
  report.error = `${report.function} was not changed: the run was cancelled before it was processed.`
  return { report, layer: undefined, log: [report.error], warnings: [] }
}
