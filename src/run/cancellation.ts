/**
 * What the action does when the runner cancels it: GitHub sends SIGINT, then SIGTERM a few seconds
 * later, then kills the process. The first signal stops new work and lets each function in flight
 * finish or roll back; the second signal, or the grace period running out, ends the run at once
 * with every function still in flight reported as needing attention.
 */
import type { FunctionReport, FunctionState } from '../core/model.js'

/** Where one function is, so that a hard stop can say what may be half-done. */
export interface InFlight {
  readonly report: FunctionReport
  phase: 'reading' | 'writing' | 'verifying' | 'rolling back'
  /** Its configuration before this run wrote anything, once read. */
  original: FunctionState | undefined
  /** Whether the write in flight changes the log format (json-logs), so that the restore command puts it back. */
  logFormatChanged?: boolean
}

/** SIGINT gives in-flight functions this long to finish or roll back before the run stops anyway (GitHub sends SIGTERM 7.5 s after SIGINT). */
export const GRACE_MS = 6000

export class RunControl {
  readonly inFlight = new Set<InFlight>()
  private signalCount = 0
  private graceTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly hardStop: (reason: string) => void,
    private readonly log: (message: string) => void,
    private readonly graceMs: number = GRACE_MS
  ) {}

  /** Whether the run was asked to stop: no new function starts, in-flight ones wind down. */
  get cancelled(): boolean {
    return this.signalCount > 0
  }

  /** Listens for the runner's signals until `dispose`. */
  install(target: NodeJS.Process = process): () => void {
    const onSignal = (signal: NodeJS.Signals): void => this.receive(signal)
    target.on('SIGINT', onSignal)
    target.on('SIGTERM', onSignal)
    return () => {
      target.off('SIGINT', onSignal)
      target.off('SIGTERM', onSignal)
      if (this.graceTimer) clearTimeout(this.graceTimer)
    }
  }

  receive(signal: string): void {
    this.signalCount++
    if (this.signalCount === 1) {
      this.log(
        `Received ${signal}: starting no new function; the ${this.inFlight.size} in flight finish or roll back (at most ${Math.round(this.graceMs / 1000)} s).`
      )
      this.graceTimer = setTimeout(() => this.hardStop('the grace period after cancellation ran out'), this.graceMs)
      this.graceTimer.unref()
    } else {
      this.hardStop(`received ${signal} after cancellation`)
    }
  }
}
