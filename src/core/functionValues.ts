/**
 * A function's own variables, as read from AWS: GitHub never saw them, so the runner cannot mask
 * them, yet AWS error texts echo them. Their values are secrets for the rest of the run.
 */
import type { FunctionState } from './model.js'
import { isSecretName } from './secretNames.js'
import { displayValue } from './valueDisplay.js'

/**
 * A value whose name does not say secret is hidden from this length on. Shorter ones are words,
 * numbers, flags, levels and ports (true, 1, info, debug, 8080, staging): hiding them would blot
 * those words out of every message, and a credential is longer. Secret-named values are hidden from
 * the redactor's minimum (3) on.
 */
export const MIN_PLAIN_VALUE_LENGTH = 8

/**
 * The values of a function's variables that every channel must hide from now on. Left out: values
 * the action may show itself (displayValue returns them unchanged) and values found inside what the
 * run prints anyway (the function's name, ARN, region, role, log group and layers, and `publicTexts`):
 * hiding those would hide nothing, only garble the names.
 */
export function valuesToHide(state: FunctionState, publicTexts: readonly string[] = []): string[] {
  const known = [state.name, state.arn, state.region, state.role ?? '', state.logGroup, ...state.layers, ...publicTexts]
  const values: string[] = []
  for (const [name, value] of Object.entries(state.variables ?? {})) {
    const secret = isSecretName(name)
    if (value.length < (secret ? 3 : MIN_PLAIN_VALUE_LENGTH)) continue
    if (!secret && displayValue(name, value) === value) continue
    if (known.some((text) => text.includes(value))) continue
    values.push(value)
  }
  return values
}
