/** The run's waves: the gate of canary and failure-tolerance for the modes that write, and the line that says them. */
import { type ActionConfig, InputError } from '../core/config.js'
import type { FunctionTarget } from '../core/model.js'
import { MODE_POLICY, writesFunctions } from '../core/modes.js'
import { canaryTargets, RolloutGate } from '../core/rolloutGate.js'

/**
 * The gate of a run that writes (none for plan and check, which only say what apply would do); a canary
 * name that matches none of the selected functions is an input error, found before anything is written.
 */
export function rolloutGateOf(
  config: ActionConfig,
  targets: readonly FunctionTarget[],
  say: (line: string) => void
): RolloutGate | undefined {
  const { canary } = config.waves
  const named = 'names' in canary ? canaryTargets(canary.names, targets) : undefined
  if (named && named.unknown.length > 0)
    throw new InputError(
      named.unknown.map(
        (name) =>
          `canary: "${name}" is not one of the selected functions; name functions that \`functions\` selects (and \`exclude\` leaves), by name or ARN.`
      )
    )
  const gate = new RolloutGate(
    targets,
    config.waves,
    {
      testInvoke: config.testInvoke,
      verifiesTelemetry: MODE_POLICY[config.mode].verifiesTelemetry,
      deliveryRequired: config.delivery?.mode === 'require'
    },
    named?.members
  )
  const writes = writesFunctions(config.mode)
  say(`${writes ? '' : 'Apply would roll out in waves: '}${wavesLine(config, gate, targets)}`)
  return writes ? gate : undefined
}

/** The waves in one line: what goes first, and when the rollout stops. */
function wavesLine(config: ActionConfig, gate: RolloutGate, targets: readonly FunctionTarget[]): string {
  const { canary } = config.waves
  const first =
    'none' in canary
      ? 'no canary'
      : 'names' in canary
        ? `canary ${gate
            .canaryOf(targets)
            .map((target) => target.name)
            .join(', ')} first`
        : `canary: the first ${'count' in canary ? canary.count : `${canary.percent}%`} of the functions to be written first`
  const then = 'none' in canary ? '' : ', then the rest once it succeeded'
  return `${first}${then}; no new function is started after more than ${gate.tolerance} failure${gate.tolerance === 1 ? '' : 's'} (failure-tolerance).`
}
