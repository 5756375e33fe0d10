/**
 * One function's way through the apply path: read, plan, write (guarded by its revision), wait,
 * test-invoke, check CloudWatch, and put it back exactly as it was when a step fails.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda'
import { checkCloudWatch, snapshotLogStreams } from '../aws/cloudwatchCheck.js'
import {
  emptyReport,
  type DeliveryReport,
  type FunctionOutcome,
  type FunctionReport,
  type FunctionState,
  type FunctionStatus,
  type FunctionTarget
} from '../core/model.js'
import { type ActionConfig, layerNameFor } from '../core/config.js'
import {
  functionId,
  type InvocationResult,
  invokeFunction,
  readFunction,
  waitForUpdate,
  writeConfiguration
} from '../aws/lambdaFunction.js'
import type { LayerVersion } from '../core/layerVersions.js'
import {
  diffOf,
  driftOf,
  layerNamesOf,
  logFormatOf,
  loggingToRestore,
  type Plan,
  planApply,
  planRemove,
  sameList
} from '../core/plan.js'
import type { InFlight } from './cancellation.js'
import type { Lease, Slots } from '../core/concurrency.js'
import { logsStillAllowed, workOnRole } from './roleSteps.js'
import { roleNameOf } from '../aws/executionRoles.js'
import { hyperdxSearchUrl, JSON_LOG_FORMAT_HINT } from '../clickstack/deliveryCheck.js'
import { instrumentationLayerArn, instrumentationLayerNames, languageFor, WRAPPERS } from '../core/instrumentation.js'
import { tailOf } from '../core/outsideText.js'
import { sleep } from '../core/retry.js'
import { errorName, isTransient, messageOf } from '../core/errors.js'
import type { RolloutContext } from './rolloutContext.js'

/** IAM is eventually consistent: a policy just written may take seconds to apply where Lambda runs. */
export const IAM_SETTLE_MS = 10_000

/** The function's `slots` slot: given back while it only waits, taken again to write. */
interface SlotHolder {
  release(): void
  reacquire(): Promise<void>
}

function holderOf(slots: Slots | undefined, first: Lease | undefined): SlotHolder {
  let lease = first
  return {
    release: () => {
      lease?.release()
      lease = undefined
    },
    reacquire: async () => {
      if (slots && !lease) lease = await slots.acquire()
    }
  }
}

/** How often a write is re-planned after someone else changed the function between read and write. */
const MAX_REPLANS = 3
/** How often a write waits out an update in progress (ResourceConflictException) before giving up. */
const MAX_CONFLICT_WAITS = 3

/** Processes one function in the configured mode; never throws, every failure ends up in the report. */
export async function rolloutFunction(ctx: RolloutContext, target: FunctionTarget): Promise<FunctionOutcome> {
  const report = emptyReport(target)
  const slot = holderOf(ctx.slots, await ctx.slots?.acquire())
  if (ctx.isCancelled?.()) {
    slot.release()
    return cancelledOutcome(report)
  }
  const flight: InFlight = { report, phase: 'reading', original: undefined }
  ctx.inFlight?.add(flight)
  const notices: string[] = []
  try {
    return { ...(await processFunction(ctx, target, report, flight, notices, slot)), notices }
  } finally {
    ctx.inFlight?.delete(flight)
    slot.release()
  }
}

/** The outcome of a function the run never started, or stopped before writing, because it was cancelled. */
export function cancelledOutcome(report: FunctionReport): FunctionOutcome {
  report.status = 'cancelled'
  report.error = `${report.function} was not changed: the run was cancelled before it was processed.`
  return { report, layer: undefined, log: [report.error], warnings: [] }
}

async function processFunction(
  ctx: RolloutContext,
  target: FunctionTarget,
  report: FunctionReport,
  flight: InFlight,
  notices: string[],
  slot: SlotHolder
): Promise<FunctionOutcome> {
  const log: string[] = []
  const warnings: string[] = []
  const now = ctx.now ?? Date.now
  const lambda = ctx.lambdaFor(target.region)
  const { mode } = ctx.config
  let layer: LayerVersion | undefined
  const fail = (message: string): FunctionOutcome => {
    report.status = report.status === 'rolled-back' ? 'rolled-back' : 'failed'
    report.error = message
    log.push(`✖ ${message}`)
    return { report, layer, log, warnings }
  }

  let state: FunctionState
  const early = ctx.preRead?.get(target)
  try {
    if (early && 'error' in early) throw early.error
    state = early?.state ?? (await readFunction(lambda, target))
    ctx.onRead?.(state)
  } catch (error) {
    return fail(describeReadError(error, target))
  }
  Object.assign(report, {
    arn: state.arn,
    architecture: state.architecture,
    layersBefore: [...state.layers]
  })
  flight.original = state

  // remove needs no layer: it takes off whichever Rotel layer is there.
  let planFor: (current: FunctionState) => Plan
  if (mode === 'remove') {
    const names = layerNamesOf(ctx.config.layerNameTemplate)
    const instrumentationNames =
      ctx.config.instrumentation === 'none'
        ? undefined
        : instrumentationLayerNames(target.region, ctx.config.instrumentationLayer)
    planFor = (current) => planRemove(current, ctx.config.managedKeys, names, instrumentationNames)
  } else {
    const architecture = ctx.config.architecture === 'auto' ? state.architecture : ctx.config.architecture
    try {
      layer = await ctx.layers.resolve({
        region: target.region,
        account: ctx.config.layerAccount,
        name: layerNameFor(ctx.config.layerNameTemplate, architecture),
        version: ctx.config.layerVersion
      })
    } catch (error) {
      return fail(`Could not find the Rotel layer for ${target.region}/${architecture}: ${messageOf(error)}`)
    }
    log.push(`Target layer: ${layer.arn}${layer.tag ? ` (${layer.tag})` : ''}`)
    const desired = desiredFor(ctx.config, layer, state, target.region)
    if (ctx.config.instrumentation === 'auto' && !desired.instrumentation)
      notices.push(
        `${target.name}: its runtime ${state.runtime ?? '(none: a container image)'} has no AWS auto-instrumentation layer (Node.js, Python and Java have), so only the Rotel extension is added.`
      )
    planFor = (current) => planApply(current, desired)
  }
  // Plan, write; if someone changed the function since it was read, read again and plan again.
  let plan: Plan | undefined
  let written: { revisionId: string | undefined; basis: FunctionState } | undefined
  for (let replan = 0; ; replan++) {
    plan = planFor(state)
    Object.assign(report, {
      layerBefore: plan.rotelLayerBefore,
      layerAfter: layer?.arn ?? null,
      layersBefore: [...state.layers],
      layersAfter: [...plan.layersAfter],
      changedVariables: [...plan.changedVariables, ...plan.removedVariables],
      diff: diffOf(state, plan)
    })
    if (plan.problems.length > 0) {
      Object.assign(report, {
        layerAfter: plan.rotelLayerBefore,
        layersAfter: [...state.layers],
        changedVariables: [],
        diff: null
      })
      const verb = mode === 'plan' || mode === 'check' ? 'could not be' : 'was not'
      return fail(`${target.name} ${verb} changed: ${plan.problems.join(' Also, ')}`)
    }
    const roleProblem = await workOnRole(ctx, state, report, log, warnings)
    if (roleProblem) {
      Object.assign(report, { layerAfter: plan.rotelLayerBefore, layersAfter: [...state.layers], changedVariables: [], diff: null })
      return fail(
        mode === 'plan' || mode === 'check'
          ? `${target.name} could not be ${mode === 'plan' ? 'planned' : 'checked'}: ${roleProblem}`
          : mode === 'remove'
            ? `${target.name} was not changed: CloudWatch Logs could not be switched back on for it first, and without it removing the extension would lose its logs. ${roleProblem}`
            : `${target.name} was not changed: ${roleProblem}`
      )
    }
    if (mode === 'plan' || mode === 'check') return judgeWithRole(ctx, report, state, plan, layer, log, warnings, mode)
    if (!plan.changed && mode === 'apply' && ctx.config.cloudwatchLogs === 'off') {
      // Not invoked, so its logs cannot be watched: the role's policies say whether they can still go to CloudWatch.
      const stillOn = await logsStillAllowed(ctx, state)
      if (stillOn) {
        report.status = 'failed'
        report.error = `${target.name} has the extension, but CloudWatch Logs still gets its logs: ${stillOn}.`
        log.push(`✖ ${report.error}`)
        return { report, layer, log, warnings, cloudwatchStillOn: true }
      }
    }
    if (!plan.changed) {
      report.status = 'unchanged'
      log.push(
        mode === 'remove'
          ? 'Has no Rotel layer and none of the settings: nothing to remove.'
          : 'Already has the target layer and settings: nothing to change.'
      )
      return { report, layer, log, warnings }
    }
    if (ctx.isCancelled?.()) return cancelledOutcome(report)
    flight.original = state
    flight.phase = 'writing'
    flight.logFormatChanged = plan.loggingAfter !== undefined
    log.push(
      `Layers: ${describeLayers(state.layers)} → ${describeLayers(plan.layersAfter)}`,
      mode === 'remove'
        ? `Variables removed: ${plan.removedVariables.join(', ') || 'none'}${plan.changedVariables.length > 0 ? `; put back as they were before the action: ${plan.changedVariables.join(', ')}` : ''}`
        : `Variables set: ${plan.changedVariables.join(', ') || 'none'}`,
      ...(plan.loggingAfter ? [`LoggingConfig.LogFormat: ${logFormatOf(state)} → ${plan.loggingAfter.format}`] : [])
    )
    try {
      const result = await writeWithConflictWaits(lambda, state, plan, log, ctx.sleep)
      if (result.status === 'Failed') {
        written = { revisionId: result.revisionId, basis: state }
        const reason = `Lambda could not apply the update: ${result.reason ?? 'no reason given'}`
        return await rollbackOrFail(ctx, lambda, state, result.revisionId, reason, report, log, layer, warnings, plan)
      }
      written = { revisionId: result.revisionId, basis: state }
      break
    } catch (error) {
      const refused = errorName(error) === 'PreconditionFailedException'
      // A write whose answer was lost (5xx, reset, timeout) may have gone through, and an SDK retry of
      // it then meets its own new revision: the function itself says what happened.
      if (refused || isTransient(error)) {
        let current: FunctionState
        try {
          current = await readFunction(lambda, target)
          ctx.onRead?.(current)
        } catch (readError) {
          return fail(
            `${target.name} needs attention: the update's outcome is unknown (${errorName(error)}) and the function could not be read again (${errorName(readError)}). ${restoreHint(state, plan.loggingAfter !== undefined)}`
          )
        }
        if (holds(current, plan.layersAfter, plan.variablesAfter, plan.loggingAfter?.format ?? logFormatOf(state))) {
          log.push('The update went through although its answer was lost.')
          written = { revisionId: current.revisionId, basis: state }
          break
        }
        if (refused && replan < MAX_REPLANS) {
          log.push('The function changed since it was read (revision mismatch): reading it again and re-planning.')
          state = current
          continue
        }
        if (!refused && !holds(current, state.layers, state.variables ?? {}, logFormatOf(state)))
          return fail(
            `${target.name} needs attention: the update failed (${errorName(error)}: ${messageOf(error)}) and the function now holds neither its old configuration nor the planned one. ${restoreHint(state, plan.loggingAfter !== undefined)}`
          )
      }
      const hint =
        errorName(error) === 'PreconditionFailedException'
          ? ' It kept changing while the action tried to write it; run again when other deployments are done.'
          : ''
      return fail(`Failed to update ${target.name}: ${errorName(error)}: ${messageOf(error)}.${hint}`)
    }
  }
  report.status = mode === 'remove' ? 'removed' : 'updated'
  log.push(`${mode === 'remove' ? 'Removed' : 'Updated'} (revision ${written.revisionId ?? 'unknown'}).`)

  if (!ctx.config.testInvoke) {
    report.cloudwatch = 'unknown'
    return { report, layer, log, warnings }
  }
  // A write that cannot be verified any more is undone, so that nothing is left half-done.
  if (ctx.isCancelled?.()) {
    flight.phase = 'rolling back'
    const reason = 'the run was cancelled before the test invocation could verify the change.'
    return rollbackOrFail(ctx, lambda, written.basis, written.revisionId, reason, report, log, layer, warnings, plan)
  }
  flight.phase = 'verifying'

  // A test invocation right after the role got read access to the secrets could start the extension
  // before IAM applies it everywhere, fail, and roll a good change back.
  const writtenAt = state.role ? ctx.roleWrittenAt?.get(roleNameOf(state.role)) : undefined
  if (writtenAt !== undefined) {
    const wait = writtenAt + IAM_SETTLE_MS - now()
    if (wait > 0) {
      log.push(`Waiting ${Math.ceil(wait / 1000)} s for the new secret access of its role to apply before the test invocation.`)
      await (ctx.sleep ?? sleep)(wait)
    }
  }
  const logs = ctx.logsFor(target.region)
  // Only apply checks CloudWatch Logs afterwards: remove would read the group for nothing (and a role
  // without logs:DescribeLogStreams, which remove does not need, would be refused).
  const baseline = mode === 'remove' ? undefined : await snapshotLogStreams(logs, state.logGroup)
  const invokedAt = now()
  let invocation: InvocationResult
  try {
    invocation = await invokeFunction(ctx.invokerFor?.(target.region) ?? lambda, state.arn || functionId(target), ctx.config.testPayload)
  } catch (error) {
    report.invocation = { status: 'failed', statusCode: null, functionError: null }
    const reason = `the test invocation could not be made: ${errorName(error)}: ${messageOf(error)}`
    return rollbackOrFail(ctx, lambda, written.basis, written.revisionId, reason, report, log, layer, warnings, plan)
  }
  report.invocation = {
    status: invocation.ok ? 'ok' : 'failed',
    statusCode: invocation.statusCode ?? null,
    functionError: invocation.functionError ?? null
  }
  log.push(
    `Test invocation: status ${invocation.statusCode ?? '?'}${invocation.functionError ? `, FunctionError ${invocation.functionError}` : ''}${invocation.requestId ? ` (request ${invocation.requestId})` : ''}`
  )
  // The tail is the function's own output: bounded (Lambda sends 4 KB; a proxy may send more), and printed
  // by main.ts through printGroup, which keeps the runner from reading a command in it.
  if (invocation.logTail) log.push('Log tail:', ...indent(tailOf(invocation.logTail, 100, LOG_TAIL_CHARS)))
  if (!invocation.ok) {
    const tail = invocation.logTail ? ` Log tail: ${lastLines(invocation.logTail, 5)}` : ''
    const reason = `the test invocation failed (status ${invocation.statusCode ?? '?'}${invocation.functionError ? `, ${invocation.functionError} error` : ''}).${tail}`
    const outcome = await rollbackOrFail(ctx, lambda, written.basis, written.revisionId, reason, report, log, layer, warnings, plan)
    return invocation.logTail ? { ...outcome, logTail: tailOf(invocation.logTail, 100, LOG_TAIL_CHARS) } : outcome
  }
  // After a removal the logs are the function's own business again: nothing to verify.
  if (mode === 'remove') return { report, layer, log, warnings }

  // Both wait for things that arrive with a delay: look for them at the same time, without holding
  // a slot that the next function needs for its writes.
  slot.release()
  const waitForTelemetry = (): Promise<[Awaited<ReturnType<typeof checkCloudWatch>>, DeliveryReport | null]> =>
    Promise.all([
      checkCloudWatch(logs, {
        logGroup: state.logGroup,
        since: invokedAt,
        ...(baseline ? { baseline } : {}),
        pollSeconds: ctx.config.cloudwatchCheckSeconds,
        ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
        ...(ctx.now ? { now: ctx.now } : {})
      }),
      verifyDelivery(ctx, target, invocation.requestId, invokedAt)
    ])
  const [verdict, delivery] = await (ctx.waitSlots ? ctx.waitSlots.run(waitForTelemetry) : waitForTelemetry())
  report.delivery = delivery
  if (delivery) {
    log.push(
      delivery.status === 'delivered'
        ? `ClickStack: ${delivery.logRecords} log record(s) and ${delivery.spans} span(s) arrived within ${Math.round((delivery.firstArrivalMs ?? 0) / 1000)} s.`
        : `ClickStack: ${delivery.detail ?? 'nothing arrived'}`
    )
    if (delivery.status === 'delivered' && !delivery.withInvocationId) notices.push(`${target.name}: ${JSON_LOG_FORMAT_HINT}`)
    if (delivery.status !== 'delivered') {
      const reason = `its test invocation's telemetry did not reach ClickStack: ${delivery.detail ?? 'nothing arrived'}`
      if (ctx.config.delivery?.mode === 'require') {
        flight.phase = 'rolling back'
        await slot.reacquire()
        return rollbackOrFail(ctx, lambda, written.basis, written.revisionId, `${reason}.`, report, log, layer, warnings, plan)
      }
      warnings.push(`${target.name}: ${reason}; check otlp-endpoint, otlp-headers and that the function can reach the endpoint.`)
    }
  }
  report.cloudwatch = verdict.status
  log.push(`CloudWatch Logs: ${verdict.status} (${verdict.detail})`)
  if (verdict.status === 'on' && ctx.config.cloudwatchLogs === 'off') {
    const why = (await logsStillAllowed(ctx, state)) ?? 'no policy of its role lets it write logs any more; IAM changes can take a few seconds to apply everywhere, so run the check again later'
    report.status = 'failed'
    report.error = `${target.name} has the extension, but CloudWatch Logs still received its logs after the test invocation (${verdict.detail}): ${why}.`
    log.push(`✖ ${report.error}`)
    return { report, layer, log, warnings, cloudwatchStillOn: true }
  }
  if (verdict.status === 'on')
    warnings.push(
      `${target.name}: CloudWatch Logs still receives its logs (${verdict.detail}); its execution role may still write logs, so CloudWatch keeps billing for them.`
    )
  return { report, layer, log, warnings }
}

/** plan and check with cloudwatch-logs: off: the role's planned change or drift counts beside the function's. */
async function judgeWithRole(
  ctx: RolloutContext,
  report: FunctionReport,
  state: FunctionState,
  plan: Plan,
  layer: LayerVersion | undefined,
  log: string[],
  warnings: string[],
  mode: 'plan' | 'check'
): Promise<FunctionOutcome> {
  const outcome = judge(report, state, plan, layer, log, warnings, mode)
  if (!ctx.roles || ctx.config.cloudwatchLogs !== 'off' || !state.role) return outcome
  if (mode === 'plan') {
    if (report.status === 'in-sync' && (report.executionRole?.changes.length ?? 0) > 0) {
      report.status = 'planned'
      log.push('Its execution role would change (above).')
    }
    return outcome
  }
  const checked = await ctx.roles.checkFor(state.arn)
  if (!checked.ok) {
    report.status = 'failed'
    report.error = `${state.name} could not be checked: ${checked.error}`
    log.push(`✖ ${report.error}`)
    return outcome
  }
  if (checked.value.drift.length > 0) {
    report.drift = [...report.drift, ...checked.value.drift]
    if (report.status === 'in-sync') report.status = 'drifted'
    log.push(`Drifted: ${checked.value.drift.join('; ')}.`)
  }
  return outcome
}

/** Waits for the test invocation's records in ClickHouse, when delivery verification is on. */
async function verifyDelivery(
  ctx: RolloutContext,
  target: FunctionTarget,
  requestId: string | undefined,
  invokedAt: number
): Promise<DeliveryReport | null> {
  const settings = ctx.config.delivery
  if (!ctx.delivery || !settings) return null
  const result = await ctx.delivery.waitForDelivery({
    functionName: target.name,
    ...(requestId ? { requestId } : {}),
    since: new Date(invokedAt),
    timeoutMs: settings.timeoutSeconds * 1000,
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
    ...(ctx.now ? { now: ctx.now } : {})
  })
  const windowEnd = invokedAt + Math.max(result.firstArrivalMs ?? 0, 60_000) + 60_000
  return {
    status: result.error ? 'error' : result.delivered ? 'delivered' : 'not-delivered',
    logRecords: result.logRecords,
    spans: result.spans,
    firstArrivalMs: result.firstArrivalMs,
    withInvocationId: result.withInvocationId,
    link: settings.hyperdxUrl ? hyperdxSearchUrl(settings.hyperdxUrl, target.name, invokedAt - 60_000, windowEnd) : null,
    detail: result.error ?? (result.delivered ? null : `no record of it within ${settings.timeoutSeconds} s`)
  }
}

/** Whether a function holds exactly these layers, in order, these variables and this log format. */
function holds(
  current: FunctionState,
  layers: readonly string[],
  variables: Readonly<Record<string, string>>,
  logFormat: string
): boolean {
  const now = current.variables ?? {}
  return (
    sameList(current.layers, layers) &&
    logFormatOf(current) === logFormat &&
    Object.keys(now).length === Object.keys(variables).length &&
    Object.entries(variables).every(([key, value]) => Object.hasOwn(now, key) && now[key] === value)
  )
}

/** plan and check end here: the plan is reported, or judged, and nothing is written. */
function judge(
  report: FunctionReport,
  state: FunctionState,
  plan: Plan,
  layer: LayerVersion | undefined,
  log: string[],
  warnings: string[],
  mode: 'plan' | 'check'
): FunctionOutcome {
  if (!plan.changed) {
    report.status = 'in-sync'
    log.push('In sync: it already has the target layer and settings.')
    return { report, layer, log, warnings }
  }
  log.push(`Layers: ${describeLayers(state.layers)} → ${describeLayers(plan.layersAfter)}`)
  for (const change of report.diff?.variables ?? [])
    log.push(`${change.change === 'added' ? '+' : '~'} ${change.name}${change.shown ? `=${change.after ?? ''}` : ' (value not shown)'}`)
  if (report.diff?.logFormat)
    log.push(`LoggingConfig.LogFormat: ${report.diff.logFormat.before} → ${report.diff.logFormat.after}`)
  if (mode === 'plan') {
    report.status = 'planned'
    return { report, layer, log, warnings }
  }
  report.status = 'drifted'
  report.drift = driftOf(state, plan, layer?.arn ?? '')
  log.push(`Drifted: ${report.drift.join('; ')}.`)
  return { report, layer, log, warnings }
}

/** The layers and variables the action wants on a function that uses this layer version. */
function desiredFor(
  config: ActionConfig,
  layer: LayerVersion,
  state: FunctionState,
  region: string
): Parameters<typeof planApply>[1] {
  const language = languageFor(config.instrumentation, state.runtime)
  return {
    layerArn: layer.arn,
    layerArchitectures: layer.compatibleArchitectures,
    architecture: config.architecture,
    variables: config.managedVariables,
    layerNames: layerNamesOf(config.layerNameTemplate),
    jsonLogs: config.jsonLogs,
    instrumentation: language && {
      layerArn: instrumentationLayerArn(language, region, state.architecture, config.instrumentationLayer),
      wrapper: WRAPPERS[language],
      layerNames: instrumentationLayerNames(region, config.instrumentationLayer)
    }
  }
}

async function writeWithConflictWaits(
  lambda: LambdaClient,
  state: FunctionState,
  plan: Plan,
  log: string[],
  pause: ((ms: number) => Promise<void>) | undefined
): ReturnType<typeof writeConfiguration> {
  for (let wait = 0; ; wait++) {
    try {
      return await writeConfiguration(
        lambda,
        state.arn,
        plan.layersAfter,
        plan.variablesAfter,
        state.revisionId,
        pause,
        plan.loggingAfter
      )
    } catch (error) {
      if (errorName(error) !== 'ResourceConflictException' || wait >= MAX_CONFLICT_WAITS) throw error
      // Another update is in progress: let it finish; the revision check then decides whether ours still applies.
      log.push('Another update of the function is in progress: waiting for it to finish.')
      await waitForUpdate(lambda, state.arn)
    }
  }
}

/**
 * Puts the function's layers and variables back as they were read (and its LoggingConfig, when the
 * write changed it), guarded by the revision our own write produced, so that a change someone else
 * made in between is never overwritten.
 */
async function rollbackOrFail(
  ctx: RolloutContext,
  lambda: LambdaClient,
  original: FunctionState,
  revisionAfterWrite: string | undefined,
  reason: string,
  report: FunctionReport,
  log: string[],
  layer: LayerVersion | undefined,
  warnings: string[],
  /** The plan that was written: its LoggingConfig says whether the log format must go back too. */
  plan: Plan
): Promise<FunctionOutcome> {
  const done = (status: FunctionStatus, error: string): FunctionOutcome => {
    report.status = status
    report.error = error
    log.push(`✖ ${error}`)
    return { report, layer, log, warnings }
  }
  if (!ctx.config.rollbackOnFailure)
    return done(
      'failed',
      `${original.name} was updated but ${reason} It was left updated because rollback-on-failure is false. ${restoreHint(original, plan.loggingAfter !== undefined)}`
    )
  try {
    const restored = await writeConfiguration(
      lambda,
      original.arn,
      original.layers,
      original.variables ?? {},
      revisionAfterWrite,
      ctx.sleep,
      plan.loggingAfter && loggingToRestore(original)
    )
    if (restored.status === 'Failed')
      return done(
        'failed',
        `${original.name}: ${reason} Rolling back failed too (${restored.reason ?? 'no reason given'}); it needs attention. ${restoreHint(original, plan.loggingAfter !== undefined)}`
      )
    report.layersAfter = [...original.layers]
    report.layerAfter = report.layerBefore
    report.changedVariables = []
    report.diff = null
    log.push(
      `Rolled back: layers${plan.loggingAfter ? ', variables and log format are' : ' and variables are'} as they were before this run.`
    )
    return done('rolled-back', `${original.name}: ${reason} It was rolled back to its previous configuration.`)
  } catch (error) {
    const concurrent =
      errorName(error) === 'PreconditionFailedException'
        ? ' Someone else changed the function after our update, so the rollback did not overwrite their change.'
        : ` The rollback failed: ${errorName(error)}: ${messageOf(error)}.`
    return done('failed', `${original.name}: ${reason}${concurrent} It needs attention. ${restoreHint(original, plan.loggingAfter !== undefined)}`)
  }
}

/**
 * A command that puts the layers back (and the LoggingConfig, when this run's write changes the log
 * format); variables are named, never printed, because they may hold secrets.
 */
export function restoreHint(original: FunctionState, logFormatChanged = false): string {
  const layers = original.layers.length > 0 ? original.layers.join(' ') : '[]'
  const logging = logFormatChanged ? loggingToRestore(original) : undefined
  const loggingOption = logging
    ? ` --logging-config ${[
        `LogFormat=${logging.format}`,
        ...(logging.applicationLogLevel ? [`ApplicationLogLevel=${logging.applicationLogLevel}`] : []),
        ...(logging.systemLogLevel ? [`SystemLogLevel=${logging.systemLogLevel}`] : []),
        ...(logging.logGroup ? [`LogGroup=${logging.logGroup}`] : [])
      ].join(',')}`
    : ''
  return `To restore its layers${logging ? ' and log format' : ''}: aws lambda update-function-configuration --region ${original.region} --function-name ${original.arn} --layers ${layers}${loggingOption} ; its variables before this run were: ${Object.keys(original.variables ?? {}).join(', ') || 'none'}.`
}

function describeReadError(error: unknown, target: FunctionTarget): string {
  const name = errorName(error)
  if (name === 'ResourceNotFoundException')
    return `Function ${target.given} does not exist in ${target.region}; check the name, the region (aws-region) and the account.`
  if (name === 'AccessDeniedException' || name === 'AccessDenied')
    return `Not allowed to read ${target.given} in ${target.region} (${messageOf(error)}); the deploy role needs lambda:GetFunctionConfiguration on it.`
  return `Could not read ${target.given} in ${target.region}: ${name}: ${messageOf(error)}`
}

function describeLayers(layers: readonly string[]): string {
  return layers.length === 0 ? '(none)' : layers.map((arn) => arn.replace(/^.*:layer:/, '')).join(', ')
}

/** The most characters of a test invocation's log tail kept in the log; Lambda itself returns the last 4 KB. */
const LOG_TAIL_CHARS = 4096

// The indent also keeps a tail line such as `##[group]` from being drawn as a section by the log viewer.
function indent(text: string): string[] {
  return text.split('\n').map((line) => `    ${line}`)
}

/** The last lines of a log tail on one line, for an error message (an annotation, the report): bounded. */
function lastLines(text: string, count: number): string {
  return tailOf(text, count, 500).split('\n').join(' | ')
}
