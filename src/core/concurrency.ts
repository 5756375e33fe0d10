/**
 * Concurrency limiting, one limiter for the whole action: Slots bounds the functions in flight, the role
 * work and every mapWithConcurrency.
 */

/** A held slot: `release` gives it back (once; later calls do nothing). */
export interface Lease {
  release(): void
}

/**
 * At most `limit` holders at once, served first come, first served. A task (unlike one of mapWithConcurrency)
 * can give its slot back while it only waits (for telemetry to arrive) and take one again to write.
 */
export class Slots {
  private held = 0
  private readonly queue: Array<() => void> = []

  constructor(readonly limit: number) {}

  /** A slot, once one is free; `first`: ahead of those already waiting (work in flight before new work). */
  async acquire(first = false): Promise<Lease> {
    if (this.held < this.limit) this.held++
    // A released slot passes straight to the next in line, so `held` does not change then.
    else await new Promise<void>((resolve) => (first ? this.queue.unshift(resolve) : this.queue.push(resolve)))
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        const next = this.queue.shift()
        if (next) next()
        else this.held--
      }
    }
  }

  /** Runs `task` holding a slot, given back however the task ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const lease = await this.acquire()
    try {
      return await task()
    } finally {
      lease.release()
    }
  }
}

/** Runs a task for each item with at most `limit` running at once (in the order given), keeping results in input order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>
): Promise<R[]> {
  const slots = new Slots(Math.max(1, limit))
  return Promise.all(items.map((item, index) => slots.run(() => task(item, index))))
}
