/** The action: inputs → credentials → one pass per function in the chosen mode → outputs, annotations, summary. */
import type { STSClient } from '@aws-sdk/client-sts'
import { context } from '@actions/github'
import { type AwsClients, createAwsClients } from '../aws/awsClients.js'
import { RunControl } from './cancellation.js'
import { type ActionConfig, InputError, loadConfig } from '../core/config.js'
import { emptyReport, type FunctionOutcome, type FunctionState, type FunctionTarget } from '../core/model.js'
import { assumeRoleWithOidc, type AwsCredentials } from '../aws/credentials.js'
import { forkPullRequestOf } from '../core/forkPullRequest.js'
import { selectFunctions } from '../aws/functionListing.js'
import { createDeliveryChecker, type DeliveryChecker } from '../clickstack/deliveryCheck.js'
import { sendPreflight } from '../clickstack/preflight.js'
import { DEFAULT_LAYER_ACCOUNT } from '../core/layerVersions.js'
import { LayerResolver } from '../aws/layerResolver.js'
import { annotationText } from '../core/outsideText.js'
import { type PlanCommentIo, postPlanComment } from '../github/planComment.js'
import { createGitHubClient, type GitHubClient } from '../github/prComment.js'
import { capAnnotations, type Reporter } from '../github/reporter.js'
import { runnerReporter } from '../github/runnerReporter.js'
import { Slots } from '../core/concurrency.js'
import { giveLogsBack, prepareRoles, shrinkSecretGrants, shrinksSecretGrants } from './roleSteps.js'
import { valuesToHide } from '../core/functionValues.js'
import { createRedactor, type Redactor } from '../core/redact.js'
import { publishResult } from '../github/report.js'
import { isSecretName, secretPartsOf } from '../core/secretNames.js'
import { rawHeaderValues } from '../core/inputs/otlpHeaders.js'
import { messageOf } from '../core/errors.js'
import { cancelledOutcome, restoreHint, rolloutFunction } from './rollout.js'
import type { RolloutContext } from './rolloutContext.js'
import { MODE_POLICY } from '../core/modes.js'
import { layersByRegionAndArch, type RunResult } from '../core/summary.js'
import { type ApiRates, paceLines } from '../core/apiRates.js'
import { openDeliveryChecker, preflightEndpoint, type TelemetryIo } from './telemetryEndpoint.js'
import { annotateWorkspace } from './workspaceAnnotations.js'
import { noticeCurrentLine } from './releaseLine.js'
import { rolloutGateOf } from './rolloutWaves.js'
import type { RolloutGate } from '../core/rolloutGate.js'
import { readEarlierReport } from './earlierReport.js'
import { withEarlierFigures } from '../core/earlierReport.js'

/** The last alpha release known when this version of the action was made; only where the search starts. */
const LAYER_VERSION_HINTS: Record<string, number> = {
  'rotel-extension-amd64-alpha': 41,
  'rotel-extension-arm64-alpha': 41
}

/** What a run talks to besides `env`: the runner, and the makers of the outside systems' clients. */
export interface RunDeps extends TelemetryIo {
  readonly reporter: Reporter
  /** The AWS clients of the run, with the deploy role's credentials when one was assumed, paced at `rates`. */
  readonly awsClients: (credentials: AwsCredentials | undefined, rates: ApiRates) => AwsClients
  /** The STS client that trades the OIDC ID token (the reporter's getIDToken) for the deploy role; its own when absent. */
  readonly stsClient?: ((region: string) => STSClient) | undefined
  /** The GitHub client of the plan comment. */
  readonly github: (token: string, baseUrl: string) => GitHubClient
  /** The workflow run's event: the pull request it is for, if any. */
  readonly event: Parameters<typeof forkPullRequestOf>[0] & PlanCommentIo['event']
  /** The clock and the pause of the rollout's waits; the real ones when absent. */
  readonly now?: (() => number) | undefined
  readonly sleep?: ((ms: number) => Promise<void>) | undefined
  /** Ends the process after a hard stop (the runner kills it soon anyway). */
  readonly exit: (code: number) => void
}

/** The runner, the real clients and the real process. */
export function realDeps(): RunDeps {
  return {
    // GitHub shows 10 annotations of a kind a step: the rest are gathered into the 10th (capAnnotations).
    reporter: capAnnotations(runnerReporter),
    awsClients: createAwsClients,
    github: createGitHubClient,
    event: context,
    sendPreflight,
    createDeliveryChecker,
    exit: (code) => process.exit(code)
  }
}

/** Runs the action in `env`; `deps` replace the runner and clients of a real run (in tests). */
export async function run(env: NodeJS.ProcessEnv = process.env, given: Partial<RunDeps> = {}): Promise<void> {
  const deps: RunDeps = { ...realDeps(), ...given }
  const { reporter } = deps
  // One redactor for every channel; it learns the configured secrets now and each function's values once read.
  const redactor = createRedactor()
  const redact: Redactor = redactor
  const mask = (forms: readonly string[]): void => forms.forEach((form) => reporter.setSecret(form))
  mask(redactor.add(rawSecrets(reporter)))
  try {
    const config = loadConfig((name) => reporter.getInput(name), env)
    mask(redactor.add(config.secretValues))
    noticeLiteralKey(config, reporter)
    const earlier = await readEarlierReport(config, env, (text) => reporter.warning(annotationText(text, { redact })))
    const clients = deps.awsClients(
      config.roleToAssume
        ? await reporter.group('Assume the deploy role', () => assumeRole(config, env, deps))
        : undefined,
      config.apiRates
    )
    await preflightEndpoint(config, deps)
    const delivery = await openDeliveryChecker(config, deps)
    // The hints are the upstream account's numbering; a mirror numbers its own copies.
    const hints = config.layerAccount === DEFAULT_LAYER_ACCOUNT ? LAYER_VERSION_HINTS : {}
    const probe = deps.sleep ? { probe: { sleep: deps.sleep } } : {}
    const layers = new LayerResolver({ clientFor: clients.lambdaOnceFor, hints, ...probe })
    const selection = await selectFunctions(config, clients.lambdaFor)
    for (const warning of selection.warnings) reporter.warning(annotationText(warning, { redact }))
    const onRead = functionValueMasker(config, selection.targets, (values) => mask(redactor.addEchoed(values)))
    // A listed configuration is the function's first read: its values are hidden now, as a read's are.
    for (const state of selection.listed.values()) onRead(state)

    const gate = rolloutGateOf(config, selection.targets, (line) => reporter.info(line))
    const done = new Map<FunctionTarget, FunctionOutcome>()
    const publishOnce = once((result: RunResult) => publishResult(config, result, redact, reporter, env))
    const control = new RunControl(
      (reason) => {
        // The runner kills the process soon: report what is known, now, and leave.
        const outcomes = selection.targets.map((target) => done.get(target) ?? interrupted(control, target, reason))
        void publishOnce(resultOf(config, outcomes)).finally(() => deps.exit(1))
      },
      (message) => reporter.warning(redact(message))
    )
    const dispose = control.install()
    const processed = await processFunctions(config, clients, layers, selection.targets, control, done, delivery, {
      onRead,
      redact,
      deps,
      listed: selection.listed,
      gate
    }).finally(async () => {
      dispose()
      await delivery?.close()
      for (const line of paceLines(clients.paceFigures())) reporter.info(line)
    })
    const outcomes = earlier ? withEarlierFigures(processed, earlier) : processed
    if (!control.cancelled) await noticeCurrentLine(config, layers, layersByRegionAndArch(outcomes), reporter, redact)
    const notes = [...selection.warnings]
    if (MODE_POLICY[config.mode].reports.annotatesFiles && config.annotateFiles?.length !== 0)
      notes.push(...(await annotateWorkspace(config, layers, env, reporter)))

    const result: RunResult = { ...resultOf(config, outcomes), notes, stopped: gate?.stopped }
    if (MODE_POLICY[config.mode].reports.prComment && config.prComment)
      await postPlanComment(config, result, redact, { reporter, env, event: deps.event, github: deps.github })
    await publishOnce(result)
  } catch (error) {
    if (error instanceof InputError)
      for (const problem of error.problems) reporter.error(annotationText(problem, { redact }))
    // An error from AWS or GitHub is outside text: no terminal escapes or control characters in the annotation.
    reporter.setFailed(annotationText(messageOf(error), { redact }))
  }
}

/** What the run did, as the outputs, summary and verdict say it. */
function resultOf(config: ActionConfig, outcomes: readonly FunctionOutcome[]): RunResult {
  return { mode: config.mode, outcomes, layers: layersByRegionAndArch(outcomes), testInvoke: config.testInvoke }
}

/** Tells once that otlp-headers holds the key itself, in the modes that write it to functions. */
function noticeLiteralKey(config: ActionConfig, reporter: Reporter): void {
  if (config.literalIngestionKey && MODE_POLICY[config.mode].writes === 'extension')
    reporter.notice(
      "otlp-headers holds the ingestion key itself: Lambda keeps it in plain text in each function's configuration, readable by anyone allowed to read the function. Store it in Secrets Manager or Parameter Store and give a reference instead, e.g. Authorization=${arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME}.",
      { title: 'Ingestion key in plain text' }
    )
}

/** What to do with each function's configuration once read: hide its values in every channel from then on. */
function functionValueMasker(
  config: ActionConfig,
  targets: readonly FunctionTarget[],
  hide: (values: string[]) => void
): (state: FunctionState) => void {
  // Names and regions are printed anyway: a value found inside one hides nothing and would garble them.
  const publicTexts = [...config.regions, ...targets.flatMap((target) => [target.name, target.given, target.region])]
  return (state) => hide(valuesToHide(state, publicTexts))
}

/** A function in flight, or never started, when the run had to stop at once: a new report, the in-flight one left as it is. */
function interrupted(control: RunControl, target: FunctionTarget, reason: string): FunctionOutcome {
  const flight = [...control.inFlight].find(
    ({ report }) => report.function === target.name && report.region === target.region
  )
  if (!flight) return cancelledOutcome(emptyReport(target))
  const { phase, original } = flight
  const error =
    phase === 'reading'
      ? `${target.name} was not changed: the run stopped (${reason}) while reading it.`
      : `${target.name} needs attention: the run stopped (${reason}) while ${phase}, so it may hold the new configuration unverified. ${original ? restoreHint(original, flight.logFormatChanged) : ''}`
  return { report: { ...flight.report, status: 'failed', error }, layer: undefined, log: [error], warnings: [] }
}

/** Wraps an async function so that only its first call runs; later calls get the first call's promise. */
function once<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let first: Promise<R> | undefined
  return (...args) => (first ??= fn(...args))
}

/** The secret inputs as given, to mask before anything can fail and print them, even when they are malformed. */
function rawSecrets(reporter: Reporter): string[] {
  const password = reporter.getInput('clickhouse-password').trim()
  const user = reporter.getInput('clickhouse-user').trim() || 'default'
  const raw = reporter.getInput('otlp-headers')
  const parts = rawHeaderValues(raw)
  const environment = reporter
    .getInput('environment')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    // A line without "=" may be a secret pasted without its name: all of it is masked.
    .flatMap((line) =>
      line.includes('=')
        ? [[line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim()] as const]
        : [['', line] as const]
    )
    .flatMap(([name, value]) => [...(name === '' || isSecretName(name) ? [value] : []), ...secretPartsOf(value)])
  const urls = ['otlp-endpoint', 'clickhouse-url', 'hyperdx-url'].flatMap((name) =>
    secretPartsOf(reporter.getInput(name).trim())
  )
  return [
    ...new Set(
      [
        raw.trim(),
        ...parts,
        ...parts.flatMap(secretPartsOf),
        ...environment,
        ...urls,
        password,
        password && `${user}:${password}`
      ].filter((secret) => secret.length > 0)
    )
  ]
}

async function assumeRole(
  config: ActionConfig,
  env: NodeJS.ProcessEnv,
  deps: RunDeps
): ReturnType<typeof assumeRoleWithOidc> {
  const { reporter } = deps
  const credentials = await assumeRoleWithOidc({
    roleArn: config.roleToAssume ?? '',
    sessionName: config.roleSessionName,
    audience: config.audience,
    durationSeconds: config.roleDurationSeconds,
    stsRegion: config.homeRegion,
    getIdToken: (audience) => reporter.getIDToken(audience),
    mask: (secret) => reporter.setSecret(secret),
    env,
    forkPullRequest: forkPullRequestOf(deps.event),
    ...(deps.stsClient ? { stsClient: deps.stsClient(config.homeRegion) } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    // A retry names STS's error: outside text.
    log: (message) => reporter.outside(message)
  })
  reporter.info(`Assumed ${config.roleToAssume ?? ''} as session ${config.roleSessionName}.`)
  return credentials
}

/**
 * Functions that wait for their ClickStack delivery at once (verify-delivery polls ClickHouse while it
 * waits). Without it a wait is a timer and one or two DescribeLogStreams calls at its end, paced by the
 * rate governor, so no cap: a cap would hold the CloudWatch checks of a fleet below the 5 per second
 * that CloudWatch Logs allows (48 waits of 15 s are 3.2 checks per second).
 */
const WAITING_AT_ONCE = 48

/** What processFunctions is told besides the run's configuration, clients and targets. */
interface ProcessingIo {
  readonly onRead: (state: FunctionState) => void
  readonly redact: Redactor
  readonly deps: RunDeps
  /** The configurations the listing gave (selectFunctions' `listed`). */
  readonly listed: ReadonlyMap<FunctionTarget, FunctionState>
  /** canary and failure-tolerance, in the modes that write. */
  readonly gate: RolloutGate | undefined
}

async function processFunctions(
  config: ActionConfig,
  clients: AwsClients,
  layers: LayerResolver,
  targets: readonly FunctionTarget[],
  control: RunControl,
  done: Map<FunctionTarget, FunctionOutcome>,
  delivery: DeliveryChecker | undefined,
  { onRead, redact, deps, listed, gate }: ProcessingIo
): Promise<FunctionOutcome[]> {
  const { reporter } = deps
  reporter.info(
    `${MODE_POLICY[config.mode].reports.verb} ${targets.length} function${targets.length === 1 ? '' : 's'}, ${config.maxConcurrency} at a time.`
  )
  // The listing's configurations are the functions' first reads: none of them is read again.
  const known = new Map([...listed].map(([target, state]) => [target, { state }] as const))
  const roleWork = await prepareRoles(config, clients, targets, control, reporter, onRead, known)
  // Every configuration known before the rollout says which layer versions the functions carry: where
  // the search for the latest Rotel layer starts. Those read during the rollout come too late to say it.
  for (const read of (roleWork.preRead ?? known).values()) if ('state' in read) layers.noteCarried(read.state.layers)
  const context: RolloutContext = {
    preRead: known,
    ...roleWork,
    roleWrittenAt: new Map(),
    secretAccessByRole: new Map(),
    config,
    lambdaFor: clients.lambdaFor,
    invokerFor: clients.invokerFor,
    logsFor: clients.logsFor,
    layers,
    onRead,
    isCancelled: () => control.cancelled,
    inFlight: control.inFlight,
    delivery,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    slots: new Slots(config.maxConcurrency),
    gate,
    ...(config.delivery ? { waitSlots: new Slots(Math.max(WAITING_AT_ONCE, config.maxConcurrency)) } : {})
  }
  // Every function is started; the slots decide how many write and how many wait at once.
  const outcomes = await Promise.all(
    targets.map(async (target) => {
      const outcome = await rolloutFunction(context, target)
      done.set(target, outcome)
      // Functions run in parallel, so each one's log is printed whole when it is done, in its own group.
      // The log holds outside text (log tails, AWS errors): outsideGroup keeps the runner from running a command in it.
      reporter.outsideGroup(
        redact(`${target.name} (${target.region}): ${outcome.report.status}`),
        outcome.log.map(redact)
      )
      return outcome
    })
  )
  // The steps after the rollout say what they add to each outcome: the outcome is built anew with it,
  // also in `done`, so that a hard stop reports it too.
  let finished = outcomes
  const add = (additions: Additions): void => {
    finished = finished.map((outcome, index) => {
      const more = additions.get(outcome)
      const target = targets[index]
      if (!more) return outcome
      const next = withAdditions(outcome, more)
      if (target) done.set(target, next)
      return next
    })
  }
  if (roleWork.roles && MODE_POLICY[config.mode].roles === 'switch-off' && config.cloudwatchLogs === 'off')
    add(await giveLogsBack(roleWork.roles, roleWork.preRead, targets, finished))
  if (roleWork.roles && shrinksSecretGrants(config) && !control.cancelled)
    add(await shrinkSecretGrants(roleWork.roles, config, roleWork.preRead, targets, finished, reporter))
  return finished
}

/** What giveLogsBack and shrinkSecretGrants add to the finished outcomes (roleSteps.ts' OutcomeAdditions), and one of them. */
type Additions = Awaited<ReturnType<typeof giveLogsBack>>
type Addition = NonNullable<ReturnType<Additions['get']>>

/** A finished function's outcome with what a step after the rollout adds to it: its role's changes, log lines, warnings. */
function withAdditions(outcome: FunctionOutcome, more: Addition): FunctionOutcome {
  const role = more.executionRole
  return {
    ...outcome,
    report: role
      ? {
          ...outcome.report,
          executionRole: {
            role: role.role,
            changes: [...(outcome.report.executionRole?.changes ?? []), ...role.changes]
          }
        }
      : outcome.report,
    log: [...outcome.log, ...(more.log ?? [])],
    warnings: [...outcome.warnings, ...(more.warnings ?? [])]
  }
}
