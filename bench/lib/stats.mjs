// Summaries of repeated measurements: the median and the whole spread (min–max), never a mean that
// hides outliers on a loaded machine.

/** median, min, max, quartiles and count of a list of numbers (empty → null). */
export function summarize(values) {
  const xs = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (xs.length === 0) return null
  const at = (q) => {
    const pos = (xs.length - 1) * q
    const lo = Math.floor(pos)
    const hi = Math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
  }
  return {
    n: xs.length,
    median: at(0.5),
    min: xs[0],
    max: xs[xs.length - 1],
    p25: at(0.25),
    p75: at(0.75),
    values: values.filter((x) => Number.isFinite(x))
  }
}

/** "412 ms (398–455, n=5)" or "12.3 s (…)" – milliseconds in, the unit chosen for reading. */
export function formatMs(stats, { spread = true } = {}) {
  if (!stats) return '–'
  const unit = stats.median >= 10_000 ? 's' : 'ms'
  const f = (ms) => (unit === 's' ? (ms / 1000).toFixed(2) : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1))
  const head = `${f(stats.median)} ${unit}`
  if (!spread) return head
  if (stats.n < 2) return `${head} (n=1)`
  return `${head} (${f(stats.min)}–${f(stats.max)}, n=${stats.n})`
}

/** A count that should not vary between runs: "2" when it did not, "2 (2–3)" when it did. */
export function formatCount(stats, digits = 0) {
  if (!stats) return '–'
  const f = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(digits || 2))
  if (stats.min === stats.max) return f(stats.median)
  return `${f(stats.median)} (${f(stats.min)}–${f(stats.max)})`
}

export function ratio(a, b) {
  return a && b && b.median > 0 ? a.median / b.median : null
}
