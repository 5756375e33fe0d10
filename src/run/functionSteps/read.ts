/** The first steps of a function's run: read it, and choose how it is planned (and with which layer). */
import { layerNameFor, type ActionConfig } from '../../core/config.js'
import type { FunctionOutcome, FunctionState, FunctionTarget } from '../../core/model.js'
import {
  instrumentationLayerArn,
  instrumentationLayerNames,
  languageFor,
  WRAPPERS
} from '../../core/instrumentation.js'
import type { LayerVersion } from '../../core/layerVersions.js'
import { layerNamesOf, planApply, planRemove } from '../../core/plan.js'
import { errorName, messageOf } from '../../core/errors.js'
import { readFunction } from '../../aws/lambdaFunction.js'
import type { FunctionRun } from '../functionRun.js'

/**
 * Reads the function, or takes the configuration read or listed before the rollout (its revision
 * still guards the write); the report learns what it is.
 */
export async function readStep(run: FunctionRun): Promise<FunctionOutcome | undefined> {
  const { ctx, target } = run
  const early = ctx.preRead?.get(target)
  try {
    if (early && 'error' in early) throw early.error
    run.state = early?.state ?? (await readFunction(run.lambda, target))
    ctx.onRead?.(run.state)
  } catch (error) {
    return run.fail(describeReadError(error, target))
  }
  run.know({ arn: run.state.arn, architecture: run.state.architecture, layersBefore: [...run.state.layers] })
  run.original = run.state
  return undefined
}

/** Sets how the function is planned, and with which Rotel layer when the mode puts one on. */
export async function choosePlanStep(run: FunctionRun): Promise<FunctionOutcome | undefined> {
  const { ctx, target, state } = run
  const { config } = ctx
  // remove reads no layer: it takes off whichever Rotel layer is there.
  if (!run.policy.readsLayer) {
    const names = layerNamesOf(config.layerNameTemplate)
    const instrumentationNames =
      config.instrumentation === 'none'
        ? undefined
        : instrumentationLayerNames(target.region, config.instrumentationLayer)
    run.planFor = (current) => planRemove(current, config.managedKeys, names, instrumentationNames)
    return undefined
  }
  const architecture = config.architecture === 'auto' ? state.architecture : config.architecture
  let layer: LayerVersion
  try {
    layer = await ctx.layers.resolve({
      region: target.region,
      account: config.layerAccount,
      name: layerNameFor(config.layerNameTemplate, architecture),
      version: config.layerVersion
    })
  } catch (error) {
    return run.fail(`Could not find the Rotel layer for ${target.region}/${architecture}: ${messageOf(error)}`)
  }
  run.layer = layer
  run.log.push(`Target layer: ${layer.arn}${layer.tag ? ` (${layer.tag})` : ''}`)
  const desired = desiredFor(config, layer, state, target.region)
  if (config.instrumentation === 'auto' && !desired.instrumentation)
    run.notices.push(
      `${target.name}: its runtime ${state.runtime ?? '(none: a container image)'} has no AWS auto-instrumentation layer (Node.js, Python and Java have), so only the Rotel extension is added.`
    )
  run.planFor = (current) => planApply(current, desired)
  return undefined
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

function describeReadError(error: unknown, target: FunctionTarget): string {
  const name = errorName(error)
  if (name === 'ResourceNotFoundException')
    return `Function ${target.given} does not exist in ${target.region}; check the name, the region (aws-region) and the account.`
  if (name === 'AccessDeniedException' || name === 'AccessDenied')
    return `Not allowed to read ${target.given} in ${target.region} (${messageOf(error)}); the deploy role needs lambda:GetFunction on it.`
  return `Could not read ${target.given} in ${target.region}: ${name}: ${messageOf(error)}`
}
