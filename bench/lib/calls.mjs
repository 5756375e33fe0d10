// Counting API calls from the fault proxy's call log (scripts/fault-proxy.mjs): per operation, split
// into the run's fixed cost (calls about no function: credentials, layer lookups, listing) and the
// cost per function.

/** The operation and function of a recorded call; the proxy leaves Lambda's tag API as "Unknown". */
export function classify(call) {
  let operation = call.operation
  let functionName = call.functionName
  if (operation === 'Unknown') {
    const tags = /\/tags\/([^?]+)/.exec(call.path ?? '')
    if (tags) {
      operation = call.method === 'GET' ? 'ListTags' : call.method === 'POST' ? 'TagResource' : 'UntagResource'
      const arn = decodeURIComponent(tags[1])
      functionName = /:function:([^:]+)/.exec(arn)?.[1] ?? functionName
    }
  }
  return { operation, functionName }
}

/**
 * What a run's calls cost: `fixed` (no function named), `perFunction` (calls naming a function,
 * divided by the number of functions), per operation, and the faults the proxy injected.
 */
export function countCalls(calls, functionCount) {
  const fixedByOp = {}
  const perFnByOp = {}
  const byFunction = new Map()
  const layerLookups = {}
  let fixed = 0
  let functional = 0
  let faults = 0
  for (const call of calls) {
    if (call.service === 'moto') continue
    const { operation, functionName } = classify(call)
    if (call.fault && call.fault !== 'stale-revision') faults++
    if (functionName) {
      functional++
      perFnByOp[operation] = (perFnByOp[operation] ?? 0) + 1
      byFunction.set(functionName, (byFunction.get(functionName) ?? 0) + 1)
    } else {
      fixed++
      fixedByOp[operation] = (fixedByOp[operation] ?? 0) + 1
      if (operation === 'GetLayerVersion') {
        const key = `${call.region ?? '?'}/${call.layerName ?? '?'}`
        layerLookups[key] = (layerLookups[key] ?? 0) + 1
      }
    }
  }
  const n = Math.max(1, functionCount)
  const perFunctionByOp = Object.fromEntries(Object.entries(perFnByOp).map(([op, count]) => [op, count / n]))
  const counts = [...byFunction.values()]
  return {
    total: fixed + functional,
    fixed,
    fixedByOp,
    perFunction: functional / n,
    perFunctionByOp,
    maxPerFunction: counts.length ? Math.max(...counts) : 0,
    layerCallsByRegionAndName: layerLookups,
    faults
  }
}

/** "GetFunction 1, UpdateFunctionConfiguration 1" with short names (GetFunctionConfiguration in older runs' logs). */
export function describeOps(byOp, digits = 2) {
  const short = {
    GetFunctionConfiguration: 'GetFunctionConfig',
    UpdateFunctionConfiguration: 'UpdateFunctionConfig',
    AssumeRoleWithWebIdentity: 'AssumeRoleWithWebIdentity'
  }
  const entries = Object.entries(byOp).sort((a, b) => b[1] - a[1])
  if (entries.length === 0) return '–'
  return entries
    .map(([op, count]) => `${short[op] ?? op} ${Number.isInteger(count) ? count : count.toFixed(digits)}`)
    .join(', ')
}

/**
 * Where a run's time went, from its call log: spawn → first call (start-up, config, credentials),
 * first call → last answer, last answer → exit; and the median time the emulator took per call
 * (the proxy's duration less the injected latency; faulted calls left out).
 */
export function timeline(calls, run, latencyMs) {
  const real = calls.filter((call) => call.service !== 'moto' && call.durationMs !== null)
  if (real.length === 0 || run.startedAt === undefined) return null
  const first = Math.min(...real.map((call) => call.time))
  const lastEnd = Math.max(...real.map((call) => call.time + call.durationMs))
  const service = real.filter((call) => !call.fault).map((call) => call.durationMs - latencyMs).sort((a, b) => a - b)
  return {
    toFirstCallMs: first - run.startedAt,
    callSpanMs: lastEnd - first,
    afterLastCallMs: run.endedAt - lastEnd,
    emulatorMsPerCall: service.length ? service[Math.floor(service.length / 2)] : null
  }
}
