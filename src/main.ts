/** The action: inputs → credentials → one pass per function in the chosen mode → outputs, annotations, summary. */
import * as core from '@actions/core'
import { type AwsClients, createAwsClients } from './awsClients.js'
import { RunControl } from './cancellation.js'
import { type ActionConfig, type FunctionTarget, InputError, loadConfig } from './config.js'
import { assumeRoleWithOidc } from './credentials.js'
import { selectFunctions } from './functionSelection.js'
import type { DeliveryChecker } from './deliveryCheck.js'
import { DEFAULT_LAYER_ACCOUNT, LayerResolver } from './layerVersions.js'
import { postPlanComment } from './planComment.js'
import { Slots } from './pool.js'
import { giveLogsBack, prepareRoles } from './roleSteps.js'
import { createRedactor, type Redactor } from './redact.js'
import { publishResult } from './report.js'
import { messageOf } from './retry.js'
import {
  cancelledOutcome,
  emptyReport,
  type FunctionOutcome,
  restoreHint,
  type RolloutContext,
  rolloutFunction
} from './rollout.js'
import { layersByRegionAndArch, type RunResult } from './summary.js'
import { openDeliveryChecker, preflightEndpoint } from './telemetryEndpoint.js'
import { annotateWorkspace } from './workspaceAnnotations.js'

/** The last alpha release known when this version of the action was made; only where the search starts. */
const LAYER_VERSION_HINTS: Record<string, number> = {
  'rotel-extension-amd64-alpha': 41,
  'rotel-extension-arm64-alpha': 41
}

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const maskedEarly = maskRawSecrets()
  let redact: Redactor = createRedactor(maskedEarly)
  try {
    const config = loadConfig((name) => core.getInput(name), env)
    const masked = new Set(maskedEarly)
    for (const secret of config.secretValues) if (!masked.has(secret)) core.setSecret(secret)
    redact = createRedactor([...maskedEarly, ...config.secretValues])
    if (config.literalIngestionKey && config.mode === 'apply')
      core.notice(
        'otlp-headers holds the ingestion key itself: Lambda keeps it in plain text in each function\'s configuration, readable by anyone allowed to read the function. Store it in Secrets Manager or Parameter Store and give a reference instead, e.g. Authorization=${arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME}.',
        { title: 'Ingestion key in plain text' }
      )

    const clients = createAwsClients(
      config.roleToAssume ? await core.group('Assume the deploy role', () => assumeRole(config, env)) : undefined
    )
    await preflightEndpoint(config)
    const delivery = await openDeliveryChecker(config)
    // The hints are the upstream account's numbering; a mirror numbers its own copies.
    const hints = config.layerAccount === DEFAULT_LAYER_ACCOUNT ? LAYER_VERSION_HINTS : {}
    const layers = new LayerResolver({ clientFor: clients.lambdaFor, hints })
    const selection = await selectFunctions(config, clients.lambdaFor)
    for (const warning of selection.warnings) core.warning(redact(warning))

    const done = new Map<FunctionTarget, FunctionOutcome>()
    const publishOnce = once(publishResult)
    const control = new RunControl(
      (reason) => {
        // The runner kills the process soon: report what is known, now, and leave.
        const outcomes = selection.targets.map((target) => done.get(target) ?? interrupted(control, target, reason))
        const result = { mode: config.mode, outcomes, layers: layersByRegionAndArch(outcomes), testInvoke: config.testInvoke }
        void publishOnce(config, result, redact).finally(() => process.exit(1))
      },
      (message) => core.warning(message)
    )
    const dispose = control.install()
    const outcomes = await processFunctions(config, clients, layers, selection.targets, control, done, delivery).finally(
      async () => {
        dispose()
        await delivery?.close()
      }
    )
    const notes = [...selection.warnings]
    if ((config.mode === 'plan' || config.mode === 'check') && config.annotateFiles?.length !== 0)
      notes.push(...(await annotateWorkspace(config, layers, env)))

    const result: RunResult = {
      mode: config.mode,
      outcomes,
      layers: layersByRegionAndArch(outcomes),
      testInvoke: config.testInvoke,
      notes
    }
    if (config.mode === 'plan' && config.prComment) await postPlanComment(config, result, redact, env)
    await publishOnce(config, result, redact)
  } catch (error) {
    if (error instanceof InputError) for (const problem of error.problems) core.error(redact(problem))
    core.setFailed(redact(messageOf(error)))
  }
}

/** A function in flight, or never started, when the run had to stop at once. */
function interrupted(control: RunControl, target: FunctionTarget, reason: string): FunctionOutcome {
  const flight = [...control.inFlight].find(({ report }) => report.function === target.name && report.region === target.region)
  if (!flight) return cancelledOutcome(emptyReport(target))
  const { report, phase, original } = flight
  report.status = 'failed'
  report.error =
    phase === 'reading'
      ? `${target.name} was not changed: the run stopped (${reason}) while reading it.`
      : `${target.name} needs attention: the run stopped (${reason}) while ${phase}, so it may hold the new configuration unverified. ${original ? restoreHint(original, flight.logFormatChanged) : ''}`
  return { report, layer: undefined, log: [report.error], warnings: [] }
}

/** Wraps an async function so that only its first call runs; later calls get the first call's promise. */
function once<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let first: Promise<R> | undefined
  return (...args) => (first ??= fn(...args))
}

/** Masks the secret inputs before anything can fail and print them, even when they are malformed. */
function maskRawSecrets(): string[] {
  const password = core.getInput('clickhouse-password').trim()
  if (password) core.setSecret(password)
  const raw = core.getInput('otlp-headers')
  const parts = raw
    .split(/[\r\n,]+/)
    .map((entry) => entry.slice(entry.indexOf('=') + 1).trim())
    .filter((part) => part.length >= 3)
  // The password in clickhouse-url, as written and decoded (config refuses a malformed %-escape without showing it).
  const inUrl = /^[a-z]+:\/\/[^/@:]*:([^/@]*)@/i.exec(core.getInput('clickhouse-url').trim())?.[1] ?? ''
  let decoded = inUrl
  try {
    decoded = decodeURIComponent(inUrl)
  } catch {
    // Masked as written only.
  }
  const secrets = [...new Set([raw.trim(), ...parts, password, inUrl, decoded].filter((secret) => secret.length > 0))]
  for (const secret of secrets) core.setSecret(secret)
  return secrets
}

async function assumeRole(config: ActionConfig, env: NodeJS.ProcessEnv): ReturnType<typeof assumeRoleWithOidc> {
  const credentials = await assumeRoleWithOidc({
    roleArn: config.roleToAssume ?? '',
    sessionName: config.roleSessionName,
    audience: config.audience,
    durationSeconds: config.roleDurationSeconds,
    stsRegion: config.homeRegion,
    getIdToken: (audience) => core.getIDToken(audience),
    mask: (secret) => core.setSecret(secret),
    env,
    log: (message) => core.info(message)
  })
  core.info(`Assumed ${config.roleToAssume ?? ''} as session ${config.roleSessionName}.`)
  return credentials
}

/**
 * Functions that wait for their telemetry at once. Each polls DescribeLogStreams every 2.5 s, so 48
 * stay under 20 calls a second, within CloudWatch Logs' default rate for that call.
 */
const WAITING_AT_ONCE = 48

const VERB = { apply: 'Rolling the Rotel extension out to', plan: 'Planning', check: 'Checking', remove: 'Removing the Rotel extension from' }

async function processFunctions(
  config: ActionConfig,
  clients: AwsClients,
  layers: LayerResolver,
  targets: readonly FunctionTarget[],
  control: RunControl,
  done: Map<FunctionTarget, FunctionOutcome>,
  delivery: DeliveryChecker | undefined
): Promise<FunctionOutcome[]> {
  core.info(
    `${VERB[config.mode]} ${targets.length} function${targets.length === 1 ? '' : 's'}, ${config.maxConcurrency} at a time.`
  )
  const roleWork = await prepareRoles(config, clients, targets, control)
  const context: RolloutContext = {
    ...roleWork,
    roleWrittenAt: new Map(),
    secretAccessByRole: new Map(),
    config,
    lambdaFor: clients.lambdaFor,
    invokerFor: clients.invokerFor,
    logsFor: clients.logsFor,
    layers,
    isCancelled: () => control.cancelled,
    inFlight: control.inFlight,
    delivery,
    slots: new Slots(config.maxConcurrency),
    waitSlots: new Slots(Math.max(WAITING_AT_ONCE, config.maxConcurrency))
  }
  // Every function is started; the slots decide how many write and how many wait at once.
  const outcomes = await Promise.all(targets.map(async (target) => {
    const outcome = await rolloutFunction(context, target)
    done.set(target, outcome)
    // Functions run in parallel, so each one's log is printed whole when it is done, in its own group.
    core.startGroup(`${target.name} (${target.region}): ${outcome.report.status}`)
    for (const line of outcome.log) core.info(line)
    core.endGroup()
    return outcome
  }))
  if (roleWork.roles && config.mode === 'apply' && config.cloudwatchLogs === 'off')
    await giveLogsBack(roleWork.roles, roleWork.preRead, targets, outcomes)
  return outcomes
}

