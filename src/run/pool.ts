/** Runs a task for each item with at most `limit` running at once, keeping results in input order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index] as T, index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** A held slot: `release` gives it back (once; later calls do nothing). */
export interface Lease {
  release(): void
}

/**
 * At most `limit` holders at once, served first come, first served. Unlike mapWithConcurrency, a task
 * can give its slot back while it only waits (for telemetry to arrive) and take one again to write.
 */
export class Slots {
  private held = 0
  private readonly queue: Array<() => void> = []

  constructor(readonly limit: number) {}

  async acquire(): Promise<Lease> {
    if (this.held < this.limit) this.held++
    // A released slot passes straight to the next in line, so `held` does not change then.
    else await new Promise<void>((resolve) => this.queue.push(resolve))
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

  async run<T>(task: () => Promise<T>): Promise<T> {
    const lease = await this.acquire()
    try {
      return await task()
    } finally {
      lease.release()
    }
  }
}
