/**
 * The record of the function's own variables that the action replaced or added, kept in the function's
 * variable PREVIOUS_VARIABLES_VARIABLE so that `remove` gives back exactly what was there. Why a
 * variable and not a tag: the same reasons as json-logs' record (plan.ts, LOG_FORMAT_VARIABLE): read
 * with the configuration, written in the same guarded write as the change it explains, dropped by a
 * rollback with it.
 *
 * The value is a compact JSON object: a name with the value it had before the action first set it, or
 * null when it did not exist (remove deletes it). The action's own extension settings (ENV) are
 * recorded only when they replaced a value of the user's: remove always takes them off otherwise,
 * which keeps the record small (it counts towards Lambda's 4 KB).
 *
 * Values in the record are the user's and may be secret: the record's value is never shown (diffOf
 * hides it by name, driftOf leaves it out), and neither is a value it restores.
 */
import { EXTENSION_SETTINGS } from './extensionSettings.js'

/** Names that start with this are the action's records, refused in `environment`. */
export const ACTION_VARIABLE_PREFIX = 'CLICKSTACK_ACTION_'
/** Not a ROTEL_ name: the extension scans every ROTEL_ variable for secret references at start-up. */
export const PREVIOUS_VARIABLES_VARIABLE = `${ACTION_VARIABLE_PREFIX}PREVIOUS_VARIABLES`

/** Each recorded name with its value before the action set it, or null when it was absent. */
export type VariableRecord = Readonly<Record<string, string | null>>

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/

/** Thrown for a record that is not the action's any more; the message never holds its content. */
export class UnreadableRecordError extends Error {}

/**
 * The record a function holds: undefined when it has none; throws UnreadableRecordError when its value
 * is not a JSON object of variable names to strings or null (edited by hand), since guessing what to
 * restore could lose a value.
 */
export function readRecord(variables: Readonly<Record<string, string>>): VariableRecord | undefined {
  if (!Object.hasOwn(variables, PREVIOUS_VARIABLES_VARIABLE)) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(variables[PREVIOUS_VARIABLES_VARIABLE] ?? '')
  } catch {
    parsed = undefined
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.entries(parsed).every(
      ([name, value]) =>
        NAME.test(name) && !name.startsWith(ACTION_VARIABLE_PREFIX) && (value === null || typeof value === 'string')
    )
  if (!valid)
    throw new UnreadableRecordError(
      `its variable ${PREVIOUS_VARIABLES_VARIABLE}, where the action records the values it replaced, is not the action's record any more (edited by hand?), so the action cannot tell what to give back. ` +
        `Put back the value it had, or delete it after restoring the variables the action set yourself; nothing was written.`
    )
  // A fresh object without a prototype: a recorded name like `constructor` is a name like any other.
  return Object.assign(Object.create(null) as Record<string, string | null>, parsed)
}

/** The record as stored: compact JSON, names in the order they were recorded. */
export function writeRecord(record: VariableRecord): string {
  return JSON.stringify(record)
}

/**
 * The record after the action sets `settings` on a function that holds `before`: each name it sets
 * for the first time gets its previous value (null when absent). A name already recorded keeps its
 * entry, so the value from before the action stays, whatever the action set since. Equal values:
 * on a function the action never touched (`fresh`) they are the user's and recorded as such; on one
 * it set up before it kept a record (`adopted`) they are taken as that earlier run's (null: remove
 * deletes them, as it always did); with a record they were not set by the action and need no entry.
 */
export function recordAfter(
  existing: VariableRecord | undefined,
  before: Readonly<Record<string, string>>,
  settings: ReadonlyArray<readonly [string, string]>,
  carriesExtension: boolean
): Record<string, string | null> {
  const record: Record<string, string | null> = Object.assign(
    Object.create(null) as Record<string, string | null>,
    existing
  )
  for (const [name, value] of settings) {
    if (Object.hasOwn(record, name)) continue
    const had = Object.hasOwn(before, name)
    const previous = had ? (before[name] ?? '') : null
    const extension = EXTENSION_SETTINGS.includes(name)
    if (existing === undefined && carriesExtension) {
      // Set up by a version without a record: its settings are its own, unless they differ (the user's, maybe).
      if (had && previous !== value && !extension) record[name] = previous
      else if (!extension) record[name] = null
      continue
    }
    if (extension) {
      if (had && existing === undefined) record[name] = previous
      continue
    }
    if (!had || previous !== value || existing === undefined) record[name] = previous
  }
  return record
}

/** Whether two records hold the same entries (order aside). */
export function sameRecord(a: VariableRecord | undefined, b: VariableRecord): boolean {
  if (a === undefined) return false
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
}
