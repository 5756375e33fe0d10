/**
 * The action under faults: dist/index.js, run as the runner runs it, talks to moto through the fault
 * proxy (scripts/fault-proxy.mjs), which throttles, fails, resets, delays, pretends failed updates and
 * failing handlers, and emulates RevisionId. Apply, check and remove run under each fault on each
 * operation it can hit, and under seeded random mixes; afterwards every function is read back directly
 * from moto (not through the proxy) and guarantee 1 is checked for each:
 *
 *   After any run, every listed function is either in the target state and verified, or in exactly its
 *   original state, or clearly reported as needing attention with the reason and the command that
 *   restores it.
 *
 * and guarantee 2 (a change someone else makes between our read and our write is never overwritten)
 * with the proxy's RevisionId emulation.
 *
 * To stay fast (most of a faulted run is the SDK's backoff), the sample fleet exists LANES times (lane 0
 * is seedSampleFleet's, lane n has the same three functions named `<name>-ln`), and every scenario of
 * this file runs once, in one pool over the lanes, before the tests, which then judge the outcomes of
 * their scenarios. Each scenario puts its lane's functions back into the original state first and has its
 * own proxy, hence its own call log. moto drops LoggingConfig, so "exactly its original state" compares
 * layers (in order) and variables. The targets come from fault-free runs of the same dist/index.js; a
 * scenario during which dist/index.js was rebuilt is reported as such, not judged.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  type FunctionConfiguration,
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand
} from '@aws-sdk/client-lambda'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSampleFunction, resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { type FaultRule, type FaultType, type RecordedCall, startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { type ActionRun, freePort, ROOT, runAction, startEmulator, stopEmulator } from './harness.js'

let port = 0
const ACCOUNT = '123456789012'
const LANES = 6
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' }

type Key = 'orders' | 'billing' | 'legacy'
type Mode = 'apply' | 'remove' | 'check'
const KEYS: readonly Key[] = ['orders', 'billing', 'legacy']
const FLEET: Record<Key, { name: string; region: string }> = {
  orders: { name: 'orders-api', region: 'us-east-1' },
  billing: { name: 'billing-worker', region: 'eu-west-1' },
  legacy: { name: 'legacy-job', region: 'us-east-1' }
}

interface Fn {
  readonly key: Key
  readonly name: string
  readonly region: string
  readonly arn: string
}

interface Lane {
  readonly index: number
  readonly fns: Record<Key, Fn>
}

/** What guarantee 1 compares: the layers in order, and the variables. */
interface State {
  readonly layers: readonly string[]
  readonly variables: Readonly<Record<string, string>>
}

interface Row {
  function: string
  status: string
  error: string | null
  invocation: { status: string; statusCode: number | null; functionError: string | null }
  cloudwatch: string
}

interface Scenario {
  readonly name: string
  readonly mode: Mode
  readonly rules: (lane: Lane) => FaultRule[]
  readonly seed?: number
  /** Statuses each function may end with; default: guarantee 1 alone decides. */
  readonly expected?: Partial<Record<Key, readonly string[]>>
  /** Every faulted call must have been tried again and answered (faults the SDK or the action cure). */
  readonly retried?: boolean
  /** Kill the action after this long, and say so. */
  readonly deadlineMs?: number
  readonly inputs?: Record<string, string>
  /** A fault-free run that establishes the target: nothing to judge it against yet. */
  readonly baseline?: boolean
  /** Expected to take long (lasting throttling, a stall): started first, so that the pool packs well. */
  readonly slow?: boolean
  /** Variables someone else adds during the run: part of both states the function may end in. */
  readonly theirs?: Partial<Record<Key, Record<string, string>>>
  /** Run on this lane only: function names take part in the seeded draws, so a seed's faults need the same names. */
  readonly lane?: number
  /** The proxy's pendingReads: updates stay InProgress for this many reads, as on Lambda. */
  readonly pendingReads?: number
}

interface Outcome {
  readonly scenario: Scenario
  readonly lane: Lane
  readonly run: ActionRun
  readonly rows: Row[] | undefined
  readonly calls: RecordedCall[]
  readonly after: Record<Key, State>
  readonly ms: number
  readonly killed: boolean
  readonly problems: string[]
}

let endpoint: string
let lanes: Lane[] = []
let original: Record<Key, State>
const target = {} as Record<'apply' | 'remove', Record<Key, State>>
/** The dist/index.js the targets were computed with. */
let targetDist = ''
const distHash = (): string =>
  createHash('sha256')
    .update(readFileSync(join(ROOT, 'dist/index.js')))
    .digest('hex')

const clients = new Map<string, LambdaClient>()
/** A client for moto itself, never through a proxy. */
function direct(region: string): LambdaClient {
  let client = clients.get(region)
  if (!client) clients.set(region, (client = new LambdaClient({ region, endpoint, credentials: { ...credentials } })))
  return client
}

const stateOf = (configuration: FunctionConfiguration): State => ({
  layers: (configuration.Layers ?? []).map((layer) => layer.Arn ?? ''),
  variables: { ...(configuration.Environment?.Variables ?? {}) }
})

const canonical = (state: State): string =>
  JSON.stringify([state.layers, Object.entries(state.variables).sort(([a], [b]) => a.localeCompare(b))])
const same = (a: State, b: State): boolean => canonical(a) === canonical(b)

async function readFn(fn: Fn): Promise<FunctionConfiguration> {
  return direct(fn.region).send(new GetFunctionConfigurationCommand({ FunctionName: fn.name }))
}

async function readLane(lane: Lane): Promise<Record<Key, State>> {
  const states = await Promise.all(KEYS.map(async (key) => stateOf(await readFn(lane.fns[key]))))
  return Object.fromEntries(KEYS.map((key, i) => [key, states[i]])) as Record<Key, State>
}

/** Puts a lane's functions back into the sample fleet's original state, directly in moto. */
async function restore(lane: Lane): Promise<void> {
  for (const key of KEYS) {
    const fn = lane.fns[key]
    await direct(fn.region).send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: fn.name,
        Layers: [...original[key].layers],
        Environment: { Variables: { ...original[key].variables } }
      })
    )
  }
}

const functionsInput = (lane: Lane): string =>
  [lane.fns.orders.name, lane.fns.billing.arn, lane.fns.legacy.name].join('\n')

/** One rule per function of the lane (so that "the first call" means the first call of each function). */
const perFunction = (lane: Lane, rule: Omit<FaultRule, 'functionName'>, keys: readonly Key[] = KEYS): FaultRule[] =>
  keys.map((key) => ({ ...rule, functionName: lane.fns[key].name }))

const restoreCommand = /aws lambda update-function-configuration --region (\S+) --function-name (\S+) --layers (.*?) ;/

/**
 * Guarantee 1 for every function of the lane, from what moto holds after the run, the report row and
 * the proxy's call log. Returns what is wrong, in words; empty when all is well.
 */
function judge(
  mode: Mode,
  lane: Lane,
  run: ActionRun,
  rows: Row[] | undefined,
  calls: RecordedCall[],
  after: Record<Key, State>,
  theirs: Scenario['theirs'] = {}
): string[] {
  const problems: string[] = []
  if (!rows)
    return [`no report output (exit ${run.exitCode}): ${(run.stdout + run.stderr).split('\n').slice(-8).join(' | ')}`]
  const updates = calls.filter((c) => c.operation === 'UpdateFunctionConfiguration')
  const invokes = calls.filter((c) => c.operation === 'Invoke')
  if (mode === 'check' && (updates.length > 0 || invokes.length > 0 || calls.some((c) => c.method === 'PUT')))
    problems.push(
      `check mode wrote or invoked: ${[...updates, ...invokes].map((c) => `${c.method} ${c.path}`).join(', ')}`
    )

  for (const key of KEYS) {
    const fn = lane.fns[key]
    const row = rows.find((r) => r.function === fn.name)
    const say = (what: string): void => {
      problems.push(`${fn.name}: ${what} [status ${row?.status ?? '-'}; error: ${row?.error ?? '-'}]`)
    }
    if (!row) {
      say('has no report row')
      continue
    }
    const withTheirs = (state: State): State => ({
      layers: state.layers,
      variables: { ...state.variables, ...theirs[key] }
    })
    const was = withTheirs(original[key])
    const now = after[key]
    const goal = mode === 'check' ? was : withTheirs(target[mode][key])
    const mine = (c: RecordedCall): boolean => c.functionName === fn.name && c.region === fn.region
    const applied = updates.filter((c) => mine(c) && c.upstreamStatus !== null && c.upstreamStatus < 300)
    // A test invocation that succeeded (late, if its answer was delayed).
    const verified = invokes.some((c) => mine(c) && c.status === 200 && (c.fault === null || c.fault === 'delay'))
    const describe = (state: State): string =>
      `layers [${state.layers.map((l) => l.replace(/^.*:layer:/, '')).join(', ')}], variables ${Object.keys(state.variables).sort().join(',') || 'none'}`

    if (mode === 'check') {
      if (!same(now, was)) say(`check mode changed it: now ${describe(now)}`)
      if (row.status === 'failed') {
        if (!row.error) say('failed without a reason')
      } else if (row.status !== (same(was, target.apply[key]) ? 'in-sync' : 'drifted')) say('wrong check verdict')
      continue
    }
    const done = mode === 'apply' ? 'updated' : 'removed'
    switch (row.status) {
      case done:
        if (!same(now, goal)) say(`reported ${done} but is not in the target state: ${describe(now)}`)
        if (row.invocation.status !== 'ok' || !verified) say(`reported ${done} without a successful test invocation`)
        break
      case 'unchanged':
        if (!same(was, goal)) say('reported unchanged, but it was not in the target state before the run')
        if (!same(now, was)) say(`reported unchanged, but this run changed it: now ${describe(now)}`)
        if (applied.length > 0)
          say(`reported unchanged, but this run wrote to it (${applied.length} update(s) reached Lambda)`)
        break
      case 'rolled-back':
        if (!same(now, was)) say(`reported rolled back, but is not exactly as before: ${describe(now)}`)
        if (!/rolled back/i.test(row.error ?? '')) say('rolled-back without saying so in its error')
        break
      case 'failed': {
        if (!row.error) {
          say('failed without a reason')
          break
        }
        const wrote = applied.length > 0 || !same(now, was)
        if (!wrote) break
        // Needs attention: it must say how to put the function back (or that it was put back).
        const command = restoreCommand.exec(row.error)
        if (!command) {
          if (!(same(now, was) && /rolled back/i.test(row.error)))
            say(
              `failed after a write (now ${same(now, goal) ? 'in the target state' : same(now, was) ? 'as before' : describe(now)}) without the command that restores it`
            )
          break
        }
        const [, region, functionName, layers] = command
        const restoreLayers = layers === '[]' ? [] : (layers ?? '').split(' ')
        if (region !== fn.region || functionName !== fn.arn)
          say(`the restore command names ${functionName} in ${region}`)
        if (JSON.stringify(restoreLayers) !== JSON.stringify(was.layers))
          say(`the restore command sets layers ${layers}, not the original ones`)
        break
      }
      default:
        say(`unexpected status in ${mode} mode`)
    }
  }
  const bad = rows.some((r) => r.status === 'failed' || r.status === 'rolled-back')
  if (mode !== 'check' && run.exitCode !== (bad ? 1 : 0))
    problems.push(`exit code ${run.exitCode} with ${bad ? 'a' : 'no'} failed function`)
  return problems
}

/** Every faulted call was tried again (by the SDK or the action), and the later try was answered. */
function unretried(calls: RecordedCall[]): string[] {
  const problems: string[] = []
  for (const call of calls) {
    if (call.fault === null || call.fault === 'delay') continue
    const again = calls.find(
      (c) =>
        c.seq > call.seq &&
        c.operation === call.operation &&
        c.region === call.region &&
        c.functionName === call.functionName &&
        c.layerName === call.layerName &&
        c.fault === null &&
        c.status !== null &&
        c.status < 500 &&
        c.status !== 429
    )
    if (!again)
      problems.push(`${call.operation} ${call.functionName ?? call.layerName ?? ''} (${call.fault}) was not retried`)
  }
  return problems
}

async function runScenario(lane: Lane, scenario: Scenario): Promise<Outcome> {
  await restore(lane)
  const distBefore = scenario.baseline ? '' : distHash()
  const proxy = await startFaultProxy({
    target: endpoint,
    seed: scenario.seed ?? 1,
    revisions: true,
    pendingReads: scenario.pendingReads ?? 0,
    rules: scenario.rules(lane)
  })
  let killed = false
  let timer: NodeJS.Timeout | undefined
  const started = Date.now()
  try {
    const run = await runAction({
      endpoint: proxy.url,
      inputs: {
        functions: functionsInput(lane),
        'aws-region': 'us-east-1',
        'layer-account': ACCOUNT,
        'otlp-endpoint': 'https://clickstack.example.com:4317',
        'cloudwatch-check-seconds': '0',
        'annotate-files': 'false',
        // The endpoint is a placeholder: the OTLP preflight (telemetry.test.ts) is not what this file tests.
        preflight: 'false',
        mode: scenario.mode,
        ...scenario.inputs
      },
      env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
      onSpawn: (pid) => {
        if (scenario.deadlineMs !== undefined)
          timer = setTimeout(() => {
            killed = true
            process.kill(pid, 'SIGKILL')
          }, scenario.deadlineMs)
      }
    })
    const ms = Date.now() - started
    clearTimeout(timer)
    const calls = [...proxy.calls]
    const after = await readLane(lane)
    let rows: Row[] | undefined
    try {
      rows = run.outputs.report ? (JSON.parse(run.outputs.report) as Row[]) : undefined
    } catch {
      rows = undefined
    }
    const problems = killed
      ? [`did not finish within ${scenario.deadlineMs} ms and was killed`]
      : scenario.baseline
        ? []
        : judge(scenario.mode, lane, run, rows, calls, after, scenario.theirs)
    for (const [key, allowed] of Object.entries(scenario.expected ?? {}) as Array<[Key, readonly string[]]>) {
      const row = rows?.find((r) => r.function === lane.fns[key].name)
      if (row && !allowed.includes(row.status))
        problems.push(
          `${lane.fns[key].name}: expected ${allowed.join(' or ')}, got ${row.status} (${row.error ?? 'no error'})`
        )
    }
    if (scenario.retried) problems.push(...unretried(calls))
    if (!scenario.baseline && (distBefore !== targetDist || distHash() !== targetDist))
      problems.splice(
        0,
        problems.length,
        'dist/index.js was rebuilt after the targets were computed: this outcome is not comparable; run again'
      )
    return { scenario, lane, run, rows, calls, after, ms, killed, problems }
  } finally {
    clearTimeout(timer)
    await proxy.close()
  }
}

/** Every scenario of the file, by group; run once, together, in beforeAll. */
const groups = new Map<string, Scenario[]>()
const outcomes = new Map<string, Outcome[]>()
const timings: string[] = []

function declare(group: string, scenarios: Scenario[]): void {
  groups.set(group, scenarios)
}

function outcomesOf(group: string): Outcome[] {
  const found = outcomes.get(group)
  if (!found) throw new Error(`no outcomes for ${group}: did beforeAll run?`)
  return found
}

function outcome(group: string, name: string): Outcome {
  const found = outcomesOf(group).find((o) => o.scenario.name === name)
  if (!found) throw new Error(`no scenario "${name}" in ${group}`)
  return found
}

/** Runs every declared scenario, slow ones first, one per lane at a time. */
async function runAll(): Promise<void> {
  const queue = [...groups.entries()]
    .flatMap(([group, scenarios]) => scenarios.map((scenario, index) => ({ group, scenario, index })))
    .sort((a, b) => Number(b.scenario.slow ?? false) - Number(a.scenario.slow ?? false))
  const results = new Map<string, Outcome[]>([...groups.keys()].map((group) => [group, []]))
  const started = Date.now()
  await Promise.all(
    lanes.map(async (lane) => {
      for (;;) {
        // The next scenario this lane may run: any, unless it is pinned to another lane.
        const at = queue.findIndex((item) => item.scenario.lane === undefined || item.scenario.lane === lane.index)
        if (at < 0) return
        const [{ group, scenario, index }] = queue.splice(at, 1) as [(typeof queue)[number]]
        ;(results.get(group) as Outcome[])[index] = await runScenario(lane, scenario)
      }
    })
  )
  const wall = Date.now() - started
  for (const [group, list] of results) {
    outcomes.set(group, list)
    const slowest = list.reduce((a, b) => (b.ms > a.ms ? b : a))
    const total = list.reduce((sum, o) => sum + o.ms, 0)
    timings.push(
      `  ${group}: ${list.length} run(s), ${(total / 1000).toFixed(1)} s of runs, slowest ${(slowest.ms / 1000).toFixed(1)} s (${slowest.scenario.name})`
    )
  }
  const runs = [...results.values()].reduce((sum, list) => sum + list.length, 0)
  timings.unshift(`${runs} runs of dist/index.js on ${LANES} lanes side by side in ${(wall / 1000).toFixed(1)} s:`)
}

/** Every problem of every scenario, one line each: the test's verdict. */
const problemsOf = (list: readonly Outcome[]): string[] =>
  list.flatMap((o) => o.problems.map((problem) => `${o.scenario.name}: ${problem}`))

const rowOf = (o: Outcome, key: Key): Row | undefined => o.rows?.find((r) => r.function === o.lane.fns[key].name)

/** The Lambda calls about one function of the scenario's lane, in words: "Operation status [fault]". */
const callsAbout = (o: Outcome, key: Key): string[] =>
  o.calls
    .filter((c) => c.service === 'lambda' && c.functionName === o.lane.fns[key].name)
    .map((c) => `${c.operation} ${c.status ?? 'no-answer'}${c.fault ? ` ${c.fault}` : ''}`)

const RETRYABLE: readonly FaultType[] = ['throttle', 'too-many-requests', '500', '503', 'reset', 'delay']
const SHORT_DELAY_MS = 1500
const APPLIED = { orders: ['updated'], billing: ['updated'], legacy: ['updated'] } as const
const REMOVED = { orders: ['removed'], billing: ['unchanged'], legacy: ['removed'] } as const
const DRIFTED = { orders: ['drifted'], billing: ['drifted'], legacy: ['drifted'] } as const
const OTHERS = { apply: APPLIED, remove: REMOVED, check: DRIFTED } as const

/**
 * The first call of each operation for each function (for GetLayerVersion: the first three probes) gets
 * `fault`: one run puts the fault on every operation, and the call log shows each faulted call retried.
 */
function transient(mode: Mode, operations: readonly string[], fault: FaultType): Scenario {
  return {
    name: `${mode}: ${fault} once on ${operations.length > 1 ? 'each of ' : ''}${operations.join(', ')}`,
    mode,
    retried: true,
    expected: OTHERS[mode],
    slow: fault === 'throttle' || fault === 'too-many-requests',
    rules: (lane) =>
      operations.flatMap((operation) =>
        operation === 'GetLayerVersion'
          ? [{ operation, times: 3, fault, delayMs: SHORT_DELAY_MS }]
          : perFunction(lane, { operation, nth: 1, fault, delayMs: SHORT_DELAY_MS })
      )
  }
}

/** Every call of `operation` about orders-api gets `fault`; the other two functions must still be done. */
function lasting(mode: Mode, operation: string, fault: FaultType, orders: readonly string[]): Scenario {
  return {
    name: `${mode}: ${fault} on every ${operation} of orders-api`,
    mode,
    expected: { ...OTHERS[mode], orders },
    slow: fault === 'throttle' || operation === 'GetLayerVersion',
    rules: (lane) =>
      operation === 'GetLayerVersion'
        ? [{ operation, layerName: 'rotel-extension-amd64-alpha', region: 'us-east-1', fault }]
        : perFunction(lane, { operation, fault }, ['orders'])
  }
}

/**
 * The first THROTTLES_PAST_ATTEMPTS calls of `operation` about orders-api are throttled: more than the SDK's
 * 6 attempts, which the rate governor does not spend on throttles, so the function is still done.
 */
const THROTTLES_PAST_ATTEMPTS = 8
function throttledPastAttempts(mode: Mode, operation: string): Scenario {
  return {
    name: `${mode}: throttle on the first ${THROTTLES_PAST_ATTEMPTS} ${operation} of orders-api`,
    mode,
    expected: OTHERS[mode],
    slow: true,
    rules: (lane) => perFunction(lane, { operation, fault: 'throttle', times: THROTTLES_PAST_ATTEMPTS }, ['orders'])
  }
}

/** Only the first update of orders-api (our write) fails; the rollback goes through. */
function firstUpdateFails(mode: Mode, immediate: boolean, reason?: string): Scenario {
  return {
    name: `${mode}: update-failed on the first update of orders-api${immediate ? ', Failed at once' : ', Failed after InProgress'}`,
    mode,
    expected: { ...OTHERS[mode], orders: ['rolled-back'] },
    rules: (lane) =>
      perFunction(
        lane,
        { fault: 'update-failed', nth: 1, immediate, ...(reason ? { reason, reasonCode: 'ExtensionError' } : {}) },
        ['orders']
      )
  }
}

const APPLY_OPERATIONS = [
  'GetFunction',
  'GetLayerVersion',
  'UpdateFunctionConfiguration',
  'Invoke',
  'DescribeLogStreams'
]
const FAILED_REASON = 'Extension rotel failed to start: layer archive corrupt'

declare('apply, transient', [
  ...RETRYABLE.map((fault) => transient('apply', APPLY_OPERATIONS, fault)),
  // What the action itself cures: an update in progress (wait), a revision that moved (re-read, re-plan).
  transient('apply', ['UpdateFunctionConfiguration'], 'conflict'),
  transient('apply', ['UpdateFunctionConfiguration'], 'precondition'),
  // No fault, but updates take time as on Lambda: the action waits for each one to settle.
  {
    name: 'apply: updates stay InProgress for two reads',
    mode: 'apply',
    expected: APPLIED,
    pendingReads: 2,
    rules: () => []
  }
])

declare('apply, lasting', [
  throttledPastAttempts('apply', 'GetFunction'),
  lasting('apply', 'GetFunction', '500', ['failed']),
  lasting('apply', 'GetFunction', 'reset', ['failed']),
  lasting('apply', 'GetLayerVersion', '500', ['failed']),
  lasting('apply', 'GetLayerVersion', 'conflict', ['failed']),
  throttledPastAttempts('apply', 'UpdateFunctionConfiguration'),
  lasting('apply', 'UpdateFunctionConfiguration', '503', ['failed']),
  lasting('apply', 'UpdateFunctionConfiguration', 'reset', ['failed']),
  lasting('apply', 'UpdateFunctionConfiguration', 'conflict', ['failed']),
  lasting('apply', 'UpdateFunctionConfiguration', 'precondition', ['failed']),
  // Our write fails and so does the rollback: it must say how to restore the function.
  lasting('apply', 'UpdateFunctionConfiguration', 'update-failed', ['failed']),
  lasting('apply', 'Invoke', '500', ['rolled-back']),
  lasting('apply', 'Invoke', 'reset', ['rolled-back']),
  lasting('apply', 'DescribeLogStreams', '500', ['updated'])
])

declare('apply, rollbacks', [
  firstUpdateFails('apply', false, FAILED_REASON),
  firstUpdateFails('apply', true, FAILED_REASON),
  {
    name: 'apply: the test invocation fails, the rollback is throttled once, updates take time',
    mode: 'apply',
    pendingReads: 1,
    expected: { ...APPLIED, orders: ['rolled-back'] },
    rules: (lane) => [
      ...perFunction(lane, { operation: 'Invoke', fault: 'function-error' }, ['orders']),
      ...perFunction(lane, { operation: 'UpdateFunctionConfiguration', nth: 2, fault: 'throttle' }, ['orders'])
    ]
  },
  {
    name: 'apply: the test invocations of orders-api and billing-worker fail',
    mode: 'apply',
    expected: { orders: ['rolled-back'], billing: ['rolled-back'], legacy: ['updated'] },
    rules: (lane) =>
      perFunction(
        lane,
        {
          fault: 'function-error',
          errorMessage: 'Cannot find module rotel',
          logTail: 'START\nERROR Cannot find module rotel\nEND\n'
        },
        ['orders', 'billing']
      )
  }
])

/** Someone else adds a variable to orders-api, directly in moto, keeping everything else. */
const THEIRS = { OTHER_TEAM_FLAG: 'on' }
const otherParty = (lane: Lane) => async (): Promise<void> => {
  const fn = lane.fns.orders
  const current = stateOf(await readFn(fn))
  await direct(fn.region).send(
    new UpdateFunctionConfigurationCommand({
      FunctionName: fn.name,
      Layers: [...current.layers],
      Environment: { Variables: { ...current.variables, ...THEIRS } }
    })
  )
}

declare('guarantee 2', [
  {
    name: 'changed between read and write',
    mode: 'apply',
    theirs: { orders: THEIRS },
    rules: (lane) =>
      perFunction(lane, { operation: 'UpdateFunctionConfiguration', nth: 1, fault: 'pass', before: otherParty(lane) }, [
        'orders'
      ])
  },
  {
    name: 'changed while Lambda said an update was in progress',
    mode: 'apply',
    theirs: { orders: THEIRS },
    rules: (lane) =>
      perFunction(
        lane,
        { operation: 'UpdateFunctionConfiguration', nth: 1, fault: 'conflict', before: otherParty(lane) },
        ['orders']
      )
  },
  {
    name: 'changed between our write and our rollback',
    mode: 'apply',
    expected: { orders: ['failed'], billing: ['updated'], legacy: ['updated'] },
    rules: (lane) =>
      perFunction(lane, { operation: 'Invoke', fault: 'function-error', before: otherParty(lane) }, ['orders'])
  }
])

declare('lost answers', [
  {
    name: 'apply: update applied, connection reset before its answer, retried',
    mode: 'apply',
    rules: (lane) =>
      perFunction(lane, { operation: 'UpdateFunctionConfiguration', nth: 1, fault: 'reset', forward: true }, ['orders'])
  },
  {
    name: 'apply: update applied, answered 500 on every attempt',
    mode: 'apply',
    rules: (lane) =>
      perFunction(lane, { operation: 'UpdateFunctionConfiguration', fault: '500', forward: true }, ['orders'])
  },
  {
    name: 'remove: removal applied, connection reset before its answer, retried',
    mode: 'remove',
    rules: (lane) =>
      perFunction(lane, { operation: 'UpdateFunctionConfiguration', nth: 1, fault: 'reset', forward: true }, ['orders'])
  }
])

declare('stalled answer', [
  {
    name: 'apply: the first GetFunction of orders-api held for 120 s',
    mode: 'apply',
    slow: true,
    deadlineMs: 40_000,
    expected: APPLIED,
    rules: (lane) =>
      perFunction(lane, { operation: 'GetFunction', nth: 1, fault: 'delay', delayMs: 120_000, forward: false }, [
        'orders'
      ])
  }
])

declare('remove', [
  ...(['throttle', '500', 'reset'] as const).map((fault) =>
    transient('remove', ['GetFunction', 'UpdateFunctionConfiguration', 'Invoke'], fault)
  ),
  lasting('remove', 'UpdateFunctionConfiguration', '503', ['failed']),
  lasting('remove', 'UpdateFunctionConfiguration', 'update-failed', ['failed']),
  lasting('remove', 'Invoke', 'function-error', ['rolled-back']),
  firstUpdateFails('remove', false)
])

declare('check', [
  ...(['throttle', '500', 'reset'] as const).map((fault) =>
    transient('check', ['GetFunction', 'GetLayerVersion'], fault)
  ),
  lasting('check', 'GetFunction', '500', ['failed']),
  lasting('check', 'GetLayerVersion', 'conflict', ['failed'])
])

/** Every fault, on every operation, each call with this probability. */
const mix = (probability: number): FaultRule => ({
  probability,
  fault: [
    'throttle',
    'too-many-requests',
    '500',
    '503',
    'reset',
    'delay',
    'conflict',
    'precondition',
    'update-failed',
    'function-error'
  ],
  delayMs: 700
})
const modeFor = (seed: number): Mode => (seed <= 6 ? 'apply' : seed <= 8 ? 'remove' : 'check')

declare(
  'random',
  Array.from({ length: 10 }, (_, i): Scenario => ({
    name: `seed ${i + 1} (${modeFor(i + 1)})`,
    seed: i + 1,
    lane: i % LANES,
    mode: modeFor(i + 1),
    rules: () => [mix(0.2)]
  }))
)

declare(
  'random with lost answers',
  Array.from({ length: 5 }, (_, i): Scenario => ({
    name: `seed ${i + 11} (${i % 2 === 0 ? 'apply' : 'remove'}) with lost answers`,
    seed: i + 11,
    lane: (i + 10) % LANES,
    mode: i % 2 === 0 ? 'apply' : 'remove',
    rules: () => [
      {
        operation: ['UpdateFunctionConfiguration', 'Invoke'],
        probability: 0.25,
        fault: ['reset', '500', '503'],
        forward: true
      },
      mix(0.15)
    ]
  }))
)

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  await resetEmulator(endpoint)
  const fleet = await seedSampleFleet(endpoint)
  const arnOf = (name: string): string => fleet.functions.find((f) => f.name === name)?.arn ?? ''
  const lane0: Lane = {
    index: 0,
    fns: Object.fromEntries(
      KEYS.map((key) => [key, { key, name: FLEET[key].name, region: FLEET[key].region, arn: arnOf(FLEET[key].name) }])
    ) as Record<Key, Fn>
  }
  const configurations = await Promise.all(KEYS.map((key) => readFn(lane0.fns[key])))
  original = Object.fromEntries(
    KEYS.map((key, i) => [key, stateOf(configurations[i] as FunctionConfiguration)])
  ) as Record<Key, State>
  lanes = [lane0]
  for (let index = 1; index < LANES; index++) {
    const fns = {} as Record<Key, Fn>
    for (const [i, key] of KEYS.entries()) {
      const source = configurations[i] as FunctionConfiguration
      const name = `${FLEET[key].name}-l${index}`
      const created = await createSampleFunction(endpoint, {
        region: FLEET[key].region,
        name,
        architecture: source.Architectures?.[0] === 'arm64' ? 'arm64' : 'x86_64',
        ...(source.Runtime ? { runtime: source.Runtime } : {}),
        layers: [...original[key].layers],
        variables: { ...original[key].variables }
      })
      fns[key] = { key, name, region: FLEET[key].region, arn: created.FunctionArn ?? '' }
    }
    lanes.push({ index, fns })
  }
  // The targets, from fault-free runs through a proxy (which then must not change anything).
  targetDist = distHash()
  for (const mode of ['apply', 'remove'] as const) {
    const clean = await runScenario(lane0, { name: `clean ${mode}`, mode, baseline: true, rules: () => [] })
    if (clean.run.exitCode !== 0) throw new Error(`the fault-free ${mode} run failed: ${clean.run.stdout}`)
    target[mode] = clean.after
  }
  await runAll()
}, 300_000)

afterAll(() => {
  for (const client of clients.values()) client.destroy()
  stopEmulator(port)
  if (timings.length > 0) console.log(timings.join('\n'))
})

describe('the targets the scenarios are judged against', () => {
  it('are the sample fleet instrumented, and without the extension, as apply.test.ts and modes.test.ts prove', () => {
    const layer = (region: string, arch: string, version: number): string =>
      `arn:aws:lambda:${region}:${ACCOUNT}:layer:rotel-extension-${arch}-alpha:${version}`
    const sharedUtils = `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:shared-utils:1`
    expect(original.orders.layers).toEqual([sharedUtils, layer('us-east-1', 'amd64', 2)])
    expect(target.apply.orders.layers).toEqual([sharedUtils, layer('us-east-1', 'amd64', 5)])
    expect(target.apply.orders.variables).toMatchObject({
      ...original.orders.variables,
      ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317'
    })
    expect(target.apply.billing.layers).toEqual([layer('eu-west-1', 'arm64', 5)])
    expect(target.apply.legacy.layers).toEqual([layer('us-east-1', 'arm64', 5)])
    expect(target.remove.orders).toEqual({ layers: [sharedUtils], variables: original.orders.variables })
    expect(target.remove.billing).toEqual(original.billing)
    expect(target.remove.legacy.layers).toEqual([])
  })
})

describe('apply under faults', () => {
  it('a fault that a retry cures, once on each operation of each function: all updated and verified, and the faulted call was retried', () => {
    const list = outcomesOf('apply, transient')
    expect(problemsOf(list)).toEqual([])
    const each = `each of ${APPLY_OPERATIONS.join(', ')}`
    // The log shows each retry: a throttled call, then the same call answered.
    expect(callsAbout(outcome('apply, transient', `apply: throttle once on ${each}`), 'orders')).toEqual([
      'GetFunction 429 throttle',
      'GetFunction 200',
      'UpdateFunctionConfiguration 429 throttle',
      'UpdateFunctionConfiguration 200',
      'Invoke 429 throttle',
      'Invoke 200'
    ])
    // A connection reset: the call made again (the test invocation too: invoked again, not rolled back).
    expect(callsAbout(outcome('apply, transient', `apply: reset once on ${each}`), 'billing')).toEqual([
      'GetFunction no-answer reset',
      'GetFunction 200',
      'UpdateFunctionConfiguration no-answer reset',
      'UpdateFunctionConfiguration 200',
      'Invoke no-answer reset',
      'Invoke 200'
    ])
    const logs = outcome('apply, transient', `apply: 503 once on ${each}`).calls.filter(
      (c) => c.operation === 'DescribeLogStreams'
    )
    expect(logs.filter((c) => c.fault === '503')).toHaveLength(3)
  })

  it('a fault that lasts, on one function: that one ends failed, or rolled back exactly as before, with the reason; the others are still updated', () => {
    const list = outcomesOf('apply, lasting')
    expect(problemsOf(list)).toEqual([])
    for (const o of list) {
      const row = rowOf(o, 'orders')
      if (row?.status === 'failed') expect(row.error).toMatch(/Exception|Throttl|ECONNRESET|Error|Rolling back failed/)
    }
    expect(
      rowOf(outcome('apply, lasting', 'apply: 500 on every DescribeLogStreams of orders-api'), 'orders')?.cloudwatch
    ).toBe('unknown')
    // Throttled more times than the SDK has attempts: the governor waits each one out, and the update lands.
    const throttled = callsAbout(
      outcome(
        'apply, lasting',
        `apply: throttle on the first ${THROTTLES_PAST_ATTEMPTS} UpdateFunctionConfiguration of orders-api`
      ),
      'orders'
    ).filter((c) => c.startsWith('UpdateFunctionConfiguration'))
    expect(throttled.slice(0, THROTTLES_PAST_ATTEMPTS + 1)).toEqual([
      ...Array.from({ length: THROTTLES_PAST_ATTEMPTS }, () => 'UpdateFunctionConfiguration 429 throttle'),
      'UpdateFunctionConfiguration 200'
    ])
  })

  it('a failed update (LastUpdateStatus Failed) and a failing test invocation end rolled-back, the original configuration back, the reason and the log tail said', () => {
    const list = outcomesOf('apply, rollbacks')
    expect(problemsOf(list)).toEqual([])
    const [inProgress, immediate, throttledRollback, functionError] = list as [Outcome, Outcome, Outcome, Outcome]
    for (const o of list) expect(o.after.orders).toEqual(original.orders)
    expect(functionError.after.billing).toEqual(original.billing)
    expect(rowOf(inProgress, 'orders')?.error).toContain(FAILED_REASON)
    expect(rowOf(immediate, 'orders')?.error).toContain(FAILED_REASON)
    // The waiter saw Failed, the reason was read, then the rollback was written.
    expect(callsAbout(inProgress, 'orders')).toEqual([
      'GetFunction 200',
      'UpdateFunctionConfiguration 200 update-failed',
      'GetFunction 200',
      'GetFunction 200',
      'UpdateFunctionConfiguration 200'
    ])
    expect(callsAbout(immediate, 'orders')).toEqual([
      'GetFunction 200',
      'UpdateFunctionConfiguration 200 update-failed',
      'UpdateFunctionConfiguration 200'
    ])
    // The rollback waited for our update to settle, was throttled, retried, and then settled too.
    expect(callsAbout(throttledRollback, 'orders').filter((c) => c.startsWith('UpdateFunctionConfiguration'))).toEqual([
      'UpdateFunctionConfiguration 200',
      'UpdateFunctionConfiguration 429 throttle',
      'UpdateFunctionConfiguration 200'
    ])
    const invoked = rowOf(functionError, 'orders')
    expect(invoked?.invocation).toMatchObject({ status: 'failed', functionError: 'Unhandled' })
    expect(invoked?.error).toContain('ERROR Cannot find module rotel')
  })
})

describe('guarantee 2: a change someone else makes meanwhile is never overwritten (RevisionId emulated by the proxy)', () => {
  it('between our read and our write: the write is refused (412), the action re-reads and re-plans, and their variable survives beside ours', () => {
    const changed = outcome('guarantee 2', 'changed between read and write')
    const duringConflict = outcome('guarantee 2', 'changed while Lambda said an update was in progress')
    for (const o of [changed, duringConflict]) {
      expect(o.problems).toEqual([])
      expect(rowOf(o, 'orders')?.status).toBe('updated')
      expect(o.after.orders.layers).toEqual(target.apply.orders.layers)
      expect(o.after.orders.variables).toEqual({ ...target.apply.orders.variables, ...THEIRS })
    }
    expect(callsAbout(changed, 'orders')).toEqual([
      'GetFunction 200',
      'UpdateFunctionConfiguration 412 stale-revision',
      'GetFunction 200',
      'UpdateFunctionConfiguration 200',
      'Invoke 200'
    ])
    expect(callsAbout(duringConflict, 'orders')).toEqual([
      'GetFunction 200',
      'UpdateFunctionConfiguration 409 conflict',
      'GetFunction 200',
      'UpdateFunctionConfiguration 412 stale-revision',
      'GetFunction 200',
      'UpdateFunctionConfiguration 200',
      'Invoke 200'
    ])
  })

  it('between our write and our rollback: the rollback is refused, their change survives, and the function is reported with the restore command', () => {
    const o = outcome('guarantee 2', 'changed between our write and our rollback')
    expect(o.problems).toEqual([])
    expect(o.after.orders.variables).toMatchObject(THEIRS)
    const row = rowOf(o, 'orders')
    expect(row?.error).toMatch(/Someone else changed the function after our update/)
    expect(row?.error).toMatch(/aws lambda update-function-configuration/)
    expect(callsAbout(o, 'orders').slice(-2)).toEqual([
      'Invoke 200 function-error',
      'UpdateFunctionConfiguration 412 stale-revision'
    ])
  })
})

describe('lost answers: the call reached Lambda, its answer did not reach the action', () => {
  it('an update applied whose answer was lost ends verified in the target state, or reported with the command that restores it', () => {
    expect(problemsOf(outcomesOf('lost answers'))).toEqual([])
  })

  it('a stalled answer does not hang the run: the call is given up and retried, and the run ends on its own', () => {
    expect(problemsOf(outcomesOf('stalled answer'))).toEqual([])
  })
})

describe('remove under faults', () => {
  it('transient faults are retried to the same result; lasting ones leave the function as it was, rolled back, or reported with the restore command', () => {
    expect(problemsOf(outcomesOf('remove'))).toEqual([])
    const rolledBack = outcome(
      'remove',
      'remove: update-failed on the first update of orders-api, Failed after InProgress'
    )
    expect(rolledBack.after.orders).toEqual(original.orders)
  })
})

describe('check under faults', () => {
  it('writes nothing and invokes nothing, whatever fails; transient faults still give the right verdict, lasting ones a failure with the reason', () => {
    const list = outcomesOf('check')
    expect(problemsOf(list)).toEqual([])
    for (const o of list) {
      expect(o.calls.filter((c) => c.method === 'PUT' || c.operation === 'Invoke')).toEqual([])
      expect(o.after).toEqual(original)
    }
  })
})

describe('random mixes of faults, seeded', () => {
  it('10 seeds × 20 % faults, answered before the call reaches AWS, in apply, remove and check: guarantee 1 holds for every function', () => {
    const list = outcomesOf('random')
    expect(problemsOf(list)).toEqual([])
    // The mixes did inject faults, of many kinds.
    const injected = new Set(list.flatMap((o) => o.calls.map((c) => c.fault).filter((f) => f !== null)))
    expect(injected.size).toBeGreaterThanOrEqual(6)
  })

  it('5 seeds with lost answers too (the write reaches AWS, its answer is reset or replaced): guarantee 1 holds for every function', () => {
    expect(problemsOf(outcomesOf('random with lost answers'))).toEqual([])
  })
})
