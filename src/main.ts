/** The action: inputs → credentials → one rollout per function → outputs, annotations and job summary. */
import * as core from '@actions/core'
import { type AwsClients, createAwsClients } from './awsClients.js'
import { type ActionConfig, InputError, loadConfig } from './config.js'
import { assumeRoleWithOidc } from './credentials.js'
import { LayerResolver } from './layerVersions.js'
import { mapWithConcurrency } from './pool.js'
import { createRedactor, type Redactor } from './redact.js'
import { messageOf } from './retry.js'
import { type FunctionOutcome, rolloutFunction } from './rollout.js'
import { layersByRegionAndArch, renderOutputs, renderSummary } from './summary.js'

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

    const clients = createAwsClients(
      config.roleToAssume ? await core.group('Assume the deploy role', () => assumeRole(config, env)) : undefined
    )
    const outcomes = await rollout(config, clients)
    await report(config, outcomes, redact)
  } catch (error) {
    if (error instanceof InputError) for (const problem of error.problems) core.error(redact(problem))
    core.setFailed(redact(messageOf(error)))
  }
}

/** Masks the secret inputs before anything can fail and print them, even when they are malformed. */
function maskRawSecrets(): string[] {
  const raw = core.getInput('otlp-headers')
  const parts = raw
    .split(/[\r\n,]+/)
    .map((entry) => entry.slice(entry.indexOf('=') + 1).trim())
    .filter((part) => part.length >= 3)
  const secrets = [...new Set([raw.trim(), ...parts].filter((secret) => secret.length > 0))]
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

async function rollout(config: ActionConfig, clients: AwsClients): Promise<FunctionOutcome[]> {
  const layers = new LayerResolver({ clientFor: clients.lambdaFor, hints: LAYER_VERSION_HINTS })
  core.info(
    `Rolling the Rotel extension out to ${config.functions.length} function${config.functions.length === 1 ? '' : 's'}, ${config.maxConcurrency} at a time.`
  )
  return mapWithConcurrency(config.functions, config.maxConcurrency, async (target) => {
    const outcome = await rolloutFunction({ config, lambdaFor: clients.lambdaFor, logsFor: clients.logsFor, layers }, target)
    // Functions run in parallel, so each one's log is printed whole when it is done, in its own group.
    core.startGroup(`${target.name} (${target.region}): ${outcome.report.status}`)
    for (const line of outcome.log) core.info(line)
    core.endGroup()
    return outcome
  })
}

async function report(config: ActionConfig, outcomes: FunctionOutcome[], redact: Redactor): Promise<void> {
  const result = { outcomes, layers: layersByRegionAndArch(outcomes), testInvoke: config.testInvoke }
  const outputs = renderOutputs(result, redact)
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value)

  for (const { report: row, warnings } of outcomes) {
    for (const warning of warnings) core.warning(redact(warning), { title: `${row.function}: CloudWatch Logs` })
    if (row.error) core.error(redact(row.error), { title: `${row.function}: ${row.status}` })
  }

  const summary = renderSummary(result, redact)
  // Outside a runner (a local run) there is no summary file: print it instead.
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(summary, true).write()
  else core.info(summary)

  const failed = outcomes.filter(({ report: row }) => row.status === 'failed' || row.status === 'rolled-back')
  if (failed.length > 0)
    core.setFailed(
      `${failed.length} of ${outcomes.length} function${outcomes.length === 1 ? '' : 's'} could not be instrumented (${failed.map(({ report: row }) => row.function).join(', ')}); see the errors above and the job summary.`
    )
  else if (outcomes.some(({ report: row }) => row.status === 'updated'))
    core.info('Every function has the Rotel extension and its settings.')
  else core.info('Nothing changed: every function already had the Rotel extension and its settings.')
}
