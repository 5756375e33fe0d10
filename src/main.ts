/** The action: inputs → credentials → one pass per function in the chosen mode → outputs, annotations, summary. */
import * as core from '@actions/core'
import { type AwsClients, createAwsClients } from './awsClients.js'
import { RunControl } from './cancellation.js'
import { type ActionConfig, type FunctionTarget, InputError, loadConfig } from './config.js'
import { assumeRoleWithOidc } from './credentials.js'
import { selectFunctions } from './functionSelection.js'
import { describeUndo, logsReachClickStack } from './cloudwatchOff.js'
import { ExecutionRoles, RoleCoordinator, type RoleOutcome, roleNameOf, type UndoResult } from './executionRoles.js'
import { readFunction } from './lambdaFunction.js'
import { logGroupArnForFunction } from './logPermissions.js'
import { SECRET_POLICY_TAG } from './secretAccess.js'
import type { DeliveryChecker } from './deliveryCheck.js'
import { DEFAULT_LAYER_ACCOUNT, LayerResolver } from './layerVersions.js'
import { postPlanComment } from './planComment.js'
import { mapWithConcurrency, Slots } from './pool.js'
import { createRedactor, type Redactor } from './redact.js'
import { publishResult } from './report.js'
import { messageOf } from './retry.js'
import {
  cancelledOutcome,
  emptyReport,
  type FunctionOutcome,
  type PreRead,
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
  const secrets = [...new Set([raw.trim(), ...parts, password].filter((secret) => secret.length > 0))]
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

/**
 * Execution roles are shared between functions, so each is read and written once for all of its
 * functions: every function is read first, to know which roles and log groups are involved.
 * remove puts CloudWatch Logs back before any extension comes off, so no log is lost in between.
 */
async function prepareRoles(
  config: ActionConfig,
  clients: AwsClients,
  targets: readonly FunctionTarget[],
  control: RunControl
): Promise<Pick<RolloutContext, 'roles' | 'preRead' | 'restored'>> {
  const needed =
    config.cloudwatchLogs === 'off' || config.mode === 'remove' || checksSecretAccess(config)
  const partition = targets[0]?.partition
  if (!needed || !partition || targets.length === 0) return {}
  const edge = new ExecutionRoles(clients.iamFor(partition))
  const roles = new RoleCoordinator(edge)
  const preRead = new Map<FunctionTarget, PreRead>()
  await mapWithConcurrency(targets, config.maxConcurrency, async (target) => {
    if (control.cancelled) return
    try {
      const state = await readFunction(clients.lambdaFor(target.region), target)
      preRead.set(target, { state })
      if (state.role) roles.plan({ key: state.arn, role: state.role, logGroupArn: logGroupArnForFunction(state.arn, state.logGroup) })
    } catch (error) {
      preRead.set(target, { error })
    }
  })
  if (config.mode !== 'remove') return { roles, preRead }

  // Only roles that carry this action's record are read in full and restored.
  const keysByRole = new Map<string, string[]>()
  for (const read of preRead.values())
    if ('state' in read && read.state.role) {
      const keys = keysByRole.get(read.state.role) ?? []
      keysByRole.set(read.state.role, [...keys, read.state.arn])
    }
  const restored = new Map<string, RoleOutcome<UndoResult>>()
  await core.group('Switch CloudWatch Logs back on where this action switched it off', async () => {
    await mapWithConcurrency([...keysByRole], 4, async ([roleArn, keys]) => {
      const role = roleNameOf(roleArn)
      let recorded: Awaited<ReturnType<ExecutionRoles['recordsOn']>>
      try {
        recorded = await edge.recordsOn(role)
      } catch (error) {
        const reason = `could not read execution role ${role} to see whether this action switched its CloudWatch Logs off (${messageOf(error)}); grant the deploy role iam:GetRole on it (see README, Permissions)`
        // Told cloudwatch-logs: off, the user did switch logs off: removing the extension blind could
        // lose logs. Otherwise the feature was most likely never used: say so, and go on.
        if (config.cloudwatchLogs === 'off') for (const key of keys) restored.set(key, { ok: false, error: reason })
        else
          core.warning(
            `The extension is removed, but it is unknown whether an earlier cloudwatch-logs: off run switched CloudWatch Logs off for execution role ${role}: ${reason}. If one did, CloudWatch Logs stays off for its functions.`,
            { title: 'Execution role not readable' }
          )
        return
      }
      if (recorded.secretPolicy)
        // Other functions of the role, not in this run, may still read the secret through it.
        core.notice(
          `Execution role ${role} keeps inline policy ${recorded.secretPolicy}, which grant-secret-access put there: other functions using the role may still read the ingestion key through it. Once none does: aws iam delete-role-policy --role-name ${role} --policy-name ${recorded.secretPolicy} ; aws iam untag-role --role-name ${role} --tag-keys ${SECRET_POLICY_TAG}`,
          { title: 'Secret access left in place' }
        )
      if (!recorded.cloudwatchOff) return
      const results = await roles.undoFor(keys)
      for (const outcome of results.values()) {
        if (outcome.ok) core.info(`${role}: ${describeUndo(outcome.value).join('; ') || 'nothing to restore'}.`)
        for (const key of keys) restored.set(key, outcome)
      }
    })
  })
  return { roles, preRead, restored }
}

/** Reading the roles for secret access needs IAM reads: apply does it, plan only when asked to grant. */
function checksSecretAccess(config: ActionConfig): boolean {
  return config.secretNeeds.length > 0 && (config.mode === 'apply' || (config.mode === 'plan' && config.grantSecretAccess))
}

/**
 * After an apply with cloudwatch-logs: off, a function whose logs are not known to reach ClickStack
 * (rolled back, failed, cancelled, telemetry not arriving) gets CloudWatch Logs back.
 */
async function giveLogsBack(
  roles: RoleCoordinator,
  preRead: ReadonlyMap<FunctionTarget, PreRead> | undefined,
  targets: readonly FunctionTarget[],
  outcomes: FunctionOutcome[]
): Promise<void> {
  // Every function planned on a role counts, also one that failed before its own role step: the role
  // was switched off for all of its planned functions at once.
  const needing: Array<{ outcome: FunctionOutcome; key: string; role: string }> = []
  targets.forEach((target, index) => {
    const read = preRead?.get(target)
    const outcome = outcomes[index]
    if (!outcome || !read || !('state' in read) || !read.state.role) return
    if (!logsReachClickStack(outcome.report, outcome.cloudwatchStillOn ?? false))
      needing.push({ outcome, key: read.state.arn, role: read.state.role.replace(/^.*\//, '') })
  })
  if (needing.length === 0) return
  const results = await roles.undoFor(needing.map(({ key }) => key))
  for (const { outcome, role } of needing) {
    const result = results.get(role)
    const log = outcome.log as string[]
    const warnings = outcome.warnings as string[]
    if (!result) continue
    if (result.ok) {
      const changes = describeUndo(result.value)
      if (changes.length === 0) continue
      const before = outcome.report.executionRole?.changes ?? []
      outcome.report.executionRole = { role, changes: [...before, ...changes.map((change) => `then ${change}`)] }
      log.push(`CloudWatch Logs switched back on for it, as its logs are not known to reach ClickStack: ${changes.join('; ')}.`)
      // detach is role-wide: the other functions of the role get CloudWatch Logs back too.
      if (result.value.reattached.length > 0 || result.value.inlineRestored.length > 0)
        warnings.push(
          `Execution role ${role}: CloudWatch Logs is on again for every function using it, because ${outcome.report.function} did not end with its logs reaching ClickStack; run again once it does.`
        )
    } else {
      warnings.push(
        `${outcome.report.function}: its logs are not known to reach ClickStack, and CloudWatch Logs could not be switched back on for it: ${result.error}`
      )
    }
  }
}
