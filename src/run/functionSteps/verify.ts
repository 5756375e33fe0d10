/** The verify steps: test-invoke the written function, then watch CloudWatch Logs and ClickStack for its telemetry. */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { checkCloudWatch, type CloudWatchVerdict } from '../../aws/cloudwatchCheck.js'
import { functionId, type InvocationResult, invokeFunction } from '../../aws/lambdaFunction.js'
import { roleNameOf } from '../../core/roleModel.js'
import { type DeliveryResult, JSON_LOG_FORMAT_HINT } from '../../clickstack/deliveryCheck.js'
import { hyperdxSearchUrl } from '../../clickstack/hyperdxLink.js'
import { configuredServiceName } from '../../core/serviceName.js'
import type { DeliveryReport, FunctionOutcome } from '../../core/model.js'
import { tailOf } from '../../core/outsideText.js'
import { errorName, messageOf } from '../../core/errors.js'
import { sleep } from '../../core/retry.js'
import { logsStillAllowed } from '../roleSteps.js'
import type { FunctionRun } from '../functionRun.js'
import { rollbackStep } from './rollback.js'
import { indent, lastLines, LOG_TAIL_CHARS } from './words.js'
import { findInvocationReport } from '../../core/invocationReport.js'
import { figuresLine, MEMORY_HEADROOM_TOPIC } from '../../core/invocationFigures.js'
import { lowMemoryReason } from '../../core/memoryHeadroom.js'

/** IAM is eventually consistent: a policy just written may take seconds to apply where Lambda runs. */
const IAM_SETTLE_MS = 10_000

/** What the test invocation left for the telemetry step: when it was made, and when it returned. */
export interface Invoked {
  readonly invocation: InvocationResult
  readonly invokedAt: number
  readonly returnedAt: number
  readonly logs: CloudWatchLogsClient
}

/** Test-invokes the written function; returns an outcome when its run ends here. */
export async function invokeStep(run: FunctionRun): Promise<FunctionOutcome | Invoked> {
  const { ctx, target, state, log } = run
  if (!ctx.config.testInvoke) {
    run.know({ cloudwatch: 'unknown' })
    return run.outcome()
  }
  // A write that cannot be verified any more is undone, so that nothing is left half-done.
  if (ctx.isCancelled?.()) {
    run.phase = 'rolling back'
    return rollbackStep(run, 'the run was cancelled before the test invocation could verify the change.')
  }
  run.phase = 'verifying'
  await settleSecretAccess(run)
  const invokedAt = run.now()
  let invocation: InvocationResult
  try {
    invocation = await invokeFunction(
      ctx.invokerFor?.(target.region) ?? run.lambda,
      state.arn || functionId(target),
      ctx.config.testPayload
    )
  } catch (error) {
    run.know({
      invocation: {
        status: 'failed',
        statusCode: null,
        functionError: null,
        report: null,
        lowMemory: false,
        before: null
      }
    })
    return rollbackStep(run, `the test invocation could not be made: ${errorName(error)}: ${messageOf(error)}`)
  }
  log.push(
    `Test invocation: status ${invocation.statusCode ?? '?'}${invocation.functionError ? `, FunctionError ${invocation.functionError}` : ''}${invocation.requestId ? ` (request ${invocation.requestId})` : ''}`
  )
  // The tail is the function's own output: bounded (Lambda sends 4 KB; a proxy may send more), and printed
  // by main.ts through the reporter's outsideGroup, which keeps the runner from reading a command in it.
  if (invocation.logTail) log.push('Log tail:', ...indent(tailOf(invocation.logTail, 100, LOG_TAIL_CHARS)))
  const lowMemory = knowInvocation(run, invocation)
  if (!invocation.ok) {
    const tail = invocation.logTail ? ` Log tail: ${lastLines(invocation.logTail, 5)}` : ''
    const reason = `the test invocation failed (status ${invocation.statusCode ?? '?'}${invocation.functionError ? `, ${invocation.functionError} error` : ''}).${tail}`
    const outcome = await rollbackStep(run, reason)
    return invocation.logTail ? { ...outcome, logTail: tailOf(invocation.logTail, 100, LOG_TAIL_CHARS) } : outcome
  }
  if (lowMemory) {
    const said = `${target.name}: ${lowMemory}.`
    if (ctx.config.lowMemory === 'fail') {
      run.phase = 'rolling back'
      return rollbackStep(run, `${lowMemory}; low-memory is fail.`)
    }
    run.warn(MEMORY_HEADROOM_TOPIC.toLowerCase(), said)
  }
  // After a removal the logs are the function's own business again: nothing to verify (and a role without
  // logs:DescribeLogStreams, which remove does not need, would be refused).
  if (!run.policy.verifiesTelemetry) return run.outcome()
  return { invocation, invokedAt, returnedAt: run.now(), logs: ctx.logsFor(target.region) }
}

/**
 * Records the test invocation in the report row, with the figures of Lambda's REPORT line for it; says why
 * its memory use is too close to its size when it carries the extension now and is (undefined otherwise).
 */
function knowInvocation(run: FunctionRun, invocation: InvocationResult): string | undefined {
  const figures = findInvocationReport(invocation.logTail, invocation.requestId)
  // The size read from the function's configuration, not the tail's: the tail is the function's own output.
  const memorySizeMb = run.state.memorySizeMb ?? figures?.memorySizeMb ?? null
  const lowMemory =
    run.policy.writes === 'extension' && figures
      ? lowMemoryReason(figures.maxMemoryUsedMb, memorySizeMb, run.ctx.config.memoryHeadroom)
      : undefined
  run.know({
    invocation: {
      status: invocation.ok ? 'ok' : 'failed',
      statusCode: invocation.statusCode ?? null,
      functionError: invocation.functionError ?? null,
      report: figures,
      lowMemory: lowMemory !== undefined,
      before: null
    }
  })
  if (figures) run.log.push(`Lambda's report: ${figuresLine(figures)}`)
  else if (invocation.logTail)
    run.log.push("Lambda's report: none for this invocation's request id in the log tail; no figures.")
  return lowMemory
}

/**
 * A test invocation right after the role got read access to the secrets could start the extension
 * before IAM applies it everywhere, fail, and roll a good change back.
 */
async function settleSecretAccess(run: FunctionRun): Promise<void> {
  const { ctx, state } = run
  const writtenAt = state.role ? ctx.roleWrittenAt?.get(roleNameOf(state.role)) : undefined
  if (writtenAt === undefined) return
  const wait = writtenAt + IAM_SETTLE_MS - run.now()
  if (wait <= 0) return
  run.log.push(
    `Waiting ${Math.ceil(wait / 1000)} s for the new secret access of its role to apply before the test invocation.`
  )
  await (ctx.sleep ?? sleep)(wait)
}

/** Waits for the invocation's logs in CloudWatch and its telemetry in ClickStack, then judges both. */
export async function telemetryStep(
  run: FunctionRun,
  { invocation, invokedAt, returnedAt, logs }: Invoked
): Promise<FunctionOutcome> {
  const { ctx, state } = run
  // Both wait for things that arrive with a delay: look for them at the same time, without holding
  // a slot that the next function needs for its writes.
  run.slot.release()
  const waitForTelemetry = (): Promise<[CloudWatchVerdict, DeliveryReport | null]> =>
    Promise.all([
      checkCloudWatch(logs, {
        logGroup: state.logGroup,
        writtenAt: run.written.sentAt,
        lookAt: returnedAt + ctx.config.cloudwatchCheckSeconds * 1000,
        ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
        ...(ctx.now ? { now: ctx.now } : {})
      }),
      verifyDelivery(run, invocation.requestId, invokedAt)
    ])
  const [verdict, delivery] = await (ctx.waitSlots ? ctx.waitSlots.run(waitForTelemetry) : waitForTelemetry())
  const givenBack = await judgeDelivery(run, delivery)
  if (givenBack) return givenBack
  return judgeCloudWatch(run, verdict)
}

/** Reports what the CloudWatch check saw; fails the function whose logs still reach CloudWatch with cloudwatch-logs: off. */
async function judgeCloudWatch(run: FunctionRun, verdict: CloudWatchVerdict): Promise<FunctionOutcome> {
  const { ctx, target, state } = run
  run.know({ cloudwatch: verdict.status, cloudwatchDetail: verdict.detail })
  run.log.push(cloudwatchLogLine(verdict))
  if (verdict.status === 'on' && ctx.config.cloudwatchLogs === 'off') {
    const why =
      (await logsStillAllowed(ctx, state)) ??
      'no policy of its role lets it write logs any more; IAM changes can take a few seconds to apply everywhere, so run the check again later'
    return run.end(
      'failed',
      `${target.name} has the extension, but CloudWatch Logs still received its logs after the test invocation (${verdict.detail}): ${why}.`,
      { cloudwatchStillOn: true }
    )
  }
  if (verdict.status === 'on')
    run.warn(
      'CloudWatch Logs',
      `${target.name}: CloudWatch Logs still receives its logs (${verdict.detail}); its execution role may still write logs, so CloudWatch keeps billing for them.`
    )
  // The run's verdict (core/modes.ts) fails the step for this one with cloudwatch-logs: off.
  if (verdict.status === 'unknown')
    run.warn(
      'CloudWatch Logs',
      ctx.config.cloudwatchLogs === 'off'
        ? `${target.name}: it has the extension, but whether its logs no longer reach CloudWatch Logs could not be verified (${verdict.detail}); the change is kept.`
        : `${target.name}: whether CloudWatch Logs still receives its logs could not be checked (${verdict.detail}).`
    )
  return run.outcome()
}

/**
 * What the CloudWatch check saw, in words that cannot be misread: "off" would read as switched off even
 * with cloudwatch-logs: keep, where all that was seen is that no stream was created or written since the update.
 */
function cloudwatchLogLine({ status, detail }: CloudWatchVerdict): string {
  if (status === 'on') return `CloudWatch Logs still receiving logs: ${detail}.`
  if (status === 'off') return `CloudWatch Logs: ${detail}.`
  return `CloudWatch Logs: could not tell whether it still receives logs: ${detail}.`
}

/** Reports what reached ClickStack; rolls back when it is required and nothing did. */
async function judgeDelivery(run: FunctionRun, delivery: DeliveryReport | null): Promise<FunctionOutcome | undefined> {
  const { ctx, target } = run
  run.know({ delivery })
  if (!delivery) return undefined
  run.log.push(
    delivery.status === 'delivered'
      ? `ClickStack: ${delivery.logRecords} log record(s) and ${delivery.spans} span(s) arrived within ${Math.round((delivery.firstArrivalMs ?? 0) / 1000)} s.`
      : `ClickStack: ${delivery.detail ?? 'nothing arrived'}`
  )
  if (delivery.status === 'delivered' && !delivery.withInvocationId)
    run.notices.push(`${target.name}: ${JSON_LOG_FORMAT_HINT}`)
  if (delivery.status === 'delivered') return undefined
  const reason = `its test invocation's telemetry did not reach ClickStack: ${delivery.detail ?? 'nothing arrived'}`
  if (ctx.config.delivery?.mode === 'require') {
    run.phase = 'rolling back'
    await run.slot.reacquire()
    return rollbackStep(run, `${reason}.`)
  }
  run.warn(
    'ClickStack delivery',
    `${target.name}: ${reason}; check otlp-endpoint, otlp-headers and that the function can reach the endpoint.`
  )
  return undefined
}

/** Waits for the test invocation's records in ClickHouse, when delivery verification is on. */
async function verifyDelivery(
  run: FunctionRun,
  requestId: string | undefined,
  invokedAt: number
): Promise<DeliveryReport | null> {
  const { ctx, target } = run
  const settings = ctx.config.delivery
  if (!ctx.delivery || !settings) return null
  // resource-attributes may rename service.name; faas.name stays the function's name.
  const serviceName = configuredServiceName(run.plan.variablesAfter)
  const result = await ctx.delivery.waitForDelivery({
    functionName: target.name,
    ...(serviceName ? { serviceName } : {}),
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
    link: settings.hyperdxUrl
      ? hyperdxSearchUrl(settings.hyperdxUrl, {
          functionName: target.name,
          serviceName,
          requestId,
          fromMs: invokedAt - 60_000,
          toMs: windowEnd
        })
      : null,
    detail:
      result.error ?? (result.delivered ? null : notDelivered(target.name, requestId, result, settings.timeoutSeconds))
  }
}

/** Why nothing proved delivery: nothing arrived, or only records that do not name the invocation. */
function notDelivered(name: string, requestId: string | undefined, result: DeliveryResult, seconds: number): string {
  const unmatched = result.unmatched ?? 0
  if (unmatched === 0 || !requestId) return `no record of it within ${seconds} s`
  return `no record of it within ${seconds} s; ${unmatched} record(s) of ${name} arrived since the invocation, but none names its request id ${requestId}, so none proves it (an execution environment started before the change could have sent them): set json-logs: true, or log through console (Node.js) or the logging module (Python), whose lines carry the request id`
}
