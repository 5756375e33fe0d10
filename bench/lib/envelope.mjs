// Section 6 of the bench (`--only=envelope`): the fleet rollout under AWS's published envelope – the fault
// proxy's `envelope` option (scripts/aws-envelope.mjs holds the figures and their AWS pages): the control
// plane at 15 requests/s, GetFunction at 100/s, DescribeLogStreams at 5/s, updates InProgress for 2 s, and
// streams' event times lagged as CloudWatch lags them. Apply runs with the test invocation and the default
// CloudWatch check, then check; each invocation writes a log stream as Lambda does, and every tenth function's
// log group is busy (streams with events older than the lag), so that a new stream hides behind them when
// streams are ordered by LastEventTime.
import { CreateLogGroupCommand, DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs'
import { DEFAULT_RATES, ENVELOPE_DEFAULTS } from '../../scripts/aws-envelope.mjs'
import { startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { createBusyLogGroup, logsClient } from '../../scripts/emulator-fixtures.mjs'
import { mapLimit, REGION, resetFleet } from './fleet.mjs'
import { runAction } from './processes.mjs'
import { describeOps } from './calls.mjs'

export const ENVELOPE_SETTLE_MS = 2000
// action.yml's default of cloudwatch-check-seconds, passed as the runner would pass the default.
export const DEFAULT_CHECK_SECONDS = 15
const BUSY_EVERY = 10
const BUSY_STREAMS = 8
// A run of 1,000 functions under the envelope takes many minutes; the spawn's default limit is 10.
const RUN_TIMEOUT_MS = 3 * 3600 * 1000

/** Each function's log group afresh: deleted, and for every BUSY_EVERY-th function refilled with busy streams. */
export async function resetLogGroups(endpoint, names, lagMs) {
  const client = logsClient(endpoint, REGION)
  try {
    await mapLimit(names, 8, async (name, index) => {
      const logGroup = `/aws/lambda/${name}`
      await client.send(new DeleteLogGroupCommand({ logGroupName: logGroup })).catch((error) => {
        if (error.name !== 'ResourceNotFoundException') throw error
      })
      if (index % BUSY_EVERY !== 0) return
      await client.send(new CreateLogGroupCommand({ logGroupName: logGroup }))
      await createBusyLogGroup(endpoint, {
        region: REGION,
        logGroup,
        streams: BUSY_STREAMS,
        todayStreams: 2,
        minAgeMs: lagMs + 10 * 60_000
      })
    })
  } finally {
    client.destroy()
  }
}

/** Calls and throttles (faults `quota` and `extra-throttle`) per API class, from the proxy's call log. */
export function classCounts(calls) {
  const classes = {}
  for (const call of calls) {
    if (call.service === 'moto' || !call.apiClass) continue
    const entry = (classes[call.apiClass] ??= { calls: 0, throttled: 0, operations: {} })
    entry.calls++
    entry.operations[call.operation] = (entry.operations[call.operation] ?? 0) + 1
    if (call.fault === 'quota' || call.fault === 'extra-throttle') entry.throttled++
  }
  return classes
}

/**
 * The least time any apply can take under the quotas: the settle time, the CloudWatch window, and the longer of
 * the updates at the control plane's rate and one DescribeLogStreams per test-invoked function (the least a
 * CloudWatch check can ask) at its rate. The calls a run actually made are reported beside it.
 */
export function quotaFloorMs({ settleMs, windowSeconds, updates, invocations }) {
  const updatesMs = (updates / DEFAULT_RATES['lambda:control']) * 1000
  const logsMs = (invocations / DEFAULT_RATES['logs:DescribeLogStreams']) * 1000
  return settleMs + windowSeconds * 1000 + Math.max(updatesMs, logsMs)
}

const tally = (values) => {
  const counts = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  return counts
}

/** One run's figures: wall time, calls and throttles per class, the report's statuses and CloudWatch verdicts. */
function sampleOf({ n, step, extraThrottle, mode, result, calls, busy }) {
  const classes = classCounts(calls)
  const answered = (operation, accepts) =>
    calls.filter((call) => call.operation === operation && call.status !== null && accepts(call)).length
  // Updates that went through; DescribeLogStreams calls the envelope let on, whatever they found.
  const updates = answered('UpdateFunctionConfiguration', (call) => call.status < 300)
  const invocations = answered('Invoke', (call) => call.status < 300)
  const describeLogStreams = answered(
    'DescribeLogStreams',
    (call) => call.fault !== 'quota' && call.fault !== 'extra-throttle'
  )
  const floorMs =
    mode === 'apply'
      ? quotaFloorMs({
          settleMs: ENVELOPE_SETTLE_MS,
          windowSeconds: DEFAULT_CHECK_SECONDS,
          updates,
          invocations
        })
      : null
  return {
    n,
    step,
    mode,
    extraThrottle,
    wallMs: result.ms,
    exitCode: result.exitCode,
    statuses: result.statuses ?? {},
    cloudwatch: tally((result.report ?? []).map((row) => row.cloudwatch ?? 'none')),
    busyCloudwatch: tally(
      (result.report ?? []).filter((row) => busy.has(row.function)).map((row) => row.cloudwatch ?? 'none')
    ),
    classes,
    calls: calls.filter((call) => call.service !== 'moto').length,
    throttled: Object.values(classes).reduce((sum, entry) => sum + entry.throttled, 0),
    updates,
    invocations,
    describeLogStreams,
    floorMs
  }
}

/** Runs the envelope section: apply then check at each size, and the apply at one size with extra throttling. */
export async function sectionEnvelope(ctx, { inputsFor, otlp, credentials, log }) {
  const { endpoint, allNames, options } = ctx
  const sizes = options.envelopeFleet
  const throttledSize = sizes.includes(300) ? 300 : Math.max(...sizes)
  const scenarios = [
    ...sizes.map((n) => ({ n, extraThrottle: 0 })),
    { n: throttledSize, extraThrottle: 0.2, applyOnly: true }
  ]
  const runs = []
  for (const [index, scenario] of scenarios.entries()) {
    const names = allNames.slice(0, scenario.n)
    const busy = new Set(names.filter((_, i) => i % BUSY_EVERY === 0))
    await resetFleet(endpoint, names)
    await resetLogGroups(endpoint, names, ENVELOPE_DEFAULTS.logTimestampLagMs)
    const proxy = await startFaultProxy({
      target: endpoint,
      latencyMs: options.latencyMs,
      seed: index + 1,
      envelope: { settleMs: ENVELOPE_SETTLE_MS, invokeWritesLogs: true, extraThrottle: scenario.extraThrottle }
    })
    try {
      const steps = scenario.applyOnly ? ['apply'] : ['apply', 'check']
      for (const mode of steps) {
        otlp.reset()
        const from = proxy.calls.length
        const extra = mode === 'apply' ? { 'test-invoke': 'true', 'cloudwatch-check-seconds': String(DEFAULT_CHECK_SECONDS) } : {}
        // check selects the whole fleet by a pattern (the issue's target), where the fleet is that size.
        const byPattern = mode === 'check' && names.length === allNames.length
        const inputs = inputsFor(names, mode, 0, otlp.url, {
          ...extra,
          ...(byPattern ? { functions: 'bench-fn-*' } : {}),
          // The action's own default, as a workflow that does not set it gets, unless the bench is told otherwise.
          'max-concurrency': options.envelopeConcurrency ?? ''
        })
        const result = await runAction({
          node: ctx.runtimeNode,
          script: ctx.dist.script,
          endpoint: proxy.url,
          inputs,
          env: credentials,
          timeoutMs: RUN_TIMEOUT_MS
        })
        const step = `${mode}${byPattern ? ' (by a pattern)' : ''}${scenario.extraThrottle ? `, ${scenario.extraThrottle * 100}% extra throttled` : ''}`
        const sample = sampleOf({
          n: scenario.n,
          step,
          mode,
          extraThrottle: scenario.extraThrottle,
          result,
          calls: proxy.calls.slice(from),
          busy
        })
        runs.push(sample)
        log(
          `envelope: N=${scenario.n} ${step}: ${(sample.wallMs / 1000).toFixed(1)} s, ${sample.calls} calls, ${sample.throttled} throttled, exit ${sample.exitCode}`
        )
        if (result.exitCode !== 0 && !result.report?.length)
          log(`warning: envelope ${step} N=${scenario.n}: ${(result.stderr || result.stdout).trim().slice(-400)}`)
      }
    } finally {
      await proxy.close()
    }
  }
  return {
    date: new Date().toISOString(),
    dist: ctx.dist.sha256,
    commit: ctx.git?.commit ?? null,
    runtime: ctx.machine?.nodeRuntime ?? null,
    latencyMs: options.latencyMs,
    settleMs: ENVELOPE_SETTLE_MS,
    lagMs: ENVELOPE_DEFAULTS.logTimestampLagMs,
    checkSeconds: DEFAULT_CHECK_SECONDS,
    concurrency: options.envelopeConcurrency ?? 'the default',
    busyEvery: BUSY_EVERY,
    busyStreams: BUSY_STREAMS,
    runs
  }
}

const seconds = (ms) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`)

function classCell(classes, apiClass) {
  const entry = classes[apiClass]
  if (!entry) return '0'
  return `${entry.calls}${entry.throttled ? ` (${entry.throttled} thr.)` : ''}`
}

/** The section's table, for the bench's output and README-performance.md. */
export function renderEnvelope(envelope) {
  const lines = [
    `#### 6. Fleet under AWS's envelope: control plane 15/s, GetFunction 100/s, DescribeLogStreams 5/s, updates settle in ${envelope.settleMs / 1000} s, ${envelope.latencyMs} ms per call`,
    '',
    `Measured ${envelope.date}; dist/index.js ${String(envelope.dist).slice(0, 12)} (commit ${envelope.commit ?? '?'}) on Node ${String(envelope.runtime ?? '?').replace(/^v/, '')}. ` +
      `apply: test-invoke true, cloudwatch-check-seconds default (${envelope.checkSeconds}), max-concurrency ${envelope.concurrency ?? 8}; then check. ` +
      `Invocations write log streams as Lambda does; stream event times show ${envelope.lagMs / 60_000} min late; every ${envelope.busyEvery}th function's log group holds ${envelope.busyStreams} busy streams. ` +
      'Quota floor = settle + window + max(updates ÷ 15/s, test-invoked functions × 1 DescribeLogStreams ÷ 5/s); "thr." = answered 429/ThrottlingException by the envelope.',
    '',
    '| N | run | wall time | quota floor | ÷ floor | control plane calls | GetFunction | DescribeLogStreams | Invoke | CloudWatch verdicts (busy groups) | statuses | exit |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |'
  ]
  for (const run of envelope.runs) {
    const ratio = run.floorMs ? `${(run.wallMs / run.floorMs).toFixed(2)}×` : '–'
    const control = run.classes['lambda:control']
    const controlOps = control ? ` (${describeOps(control.operations)})` : ''
    const list = (counts) =>
      Object.entries(counts ?? {})
        .map(([verdict, count]) => `${count} ${verdict}`)
        .join(', ')
    const verdicts = `${list(run.cloudwatch) || '–'}${run.busyCloudwatch ? ` (${list(run.busyCloudwatch) || '–'})` : ''}`
    const statuses =
      Object.entries(run.statuses)
        .map(([status, count]) => `${count} ${status}`)
        .join(', ') || '–'
    lines.push(
      `| ${run.n} | ${run.step} | ${seconds(run.wallMs)} | ${seconds(run.floorMs)} | ${ratio} | ${classCell(run.classes, 'lambda:control')}${controlOps} | ${classCell(run.classes, 'lambda:GetFunction')} | ${classCell(run.classes, 'logs:DescribeLogStreams')} | ${classCell(run.classes, 'lambda:Invoke')} | ${verdicts} | ${statuses} | ${run.exitCode} |`
    )
  }
  lines.push('')
  return lines.join('\n')
}
