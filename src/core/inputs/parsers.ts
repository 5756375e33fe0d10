/** The small parsers of inputs: each reports a problem through `problem` and returns a usable fallback. */

/** Takes one problem with the inputs; all of them are reported together. */
export type Problem = (message: string) => void

/**
 * A value of nothing but "=" is the padding of a base64 key pasted without its name, whose first "=" was
 * taken for the separator: the key would become a name, shown everywhere names are.
 */
export const PADDING_ONLY = /^=+$/
export const PASTED_WITHOUT_NAME =
  'looks like a base64 value pasted without its name (it ends in "=" padding; not shown)'
/**
 * The entries of a `k=v` list, given comma-separated or one a line, each trimmed (empty ones kept, so
 * that a message can count entries). A lone CR splits too: configuration refuses it before parsing, and
 * masking, which runs before that, must not miss a value behind one.
 */
export function splitEntries(value: string): string[] {
  return value.split(/\r\n|[\r\n,]/).map((item) => item.trim())
}

/**
 * Parses `k=v` pairs given comma-separated or one a line. The extension splits its value on commas,
 * so a comma inside a value would silently cut it: that is an error here.
 */
export function parsePairs(
  value: string,
  inputName: string,
  keyPattern: RegExp,
  problem: Problem,
  secret: boolean
): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  const items = splitEntries(value)
  items.forEach((item, index) => {
    if (!item) return
    const eq = item.indexOf('=')
    if (eq === 0) {
      problem(`${inputName}: entry ${index + 1} has no name before "="; write name=value.`)
      return
    }
    if (eq < 0) {
      problem(
        index > 0
          ? `${inputName}: a value contains a comma, or an entry lacks "="; write name=value entries separated by commas or new lines, with no comma inside a value.`
          : `${inputName}: the entry ${secret ? '(value hidden)' : `"${item}"`} is not name=value.`
      )
      return
    }
    const key = item.slice(0, eq).trim()
    const entryValue = item.slice(eq + 1).trim()
    if (secret && PADDING_ONLY.test(entryValue)) {
      problem(`${inputName}: entry ${index + 1} ${PASTED_WITHOUT_NAME}; write name=value.`)
      return
    }
    if (!keyPattern.test(key)) {
      // In a secret input, text before "=" may be a key pasted in the wrong form: it is not echoed.
      problem(
        `${inputName}: ${secret ? `entry ${index + 1}` : `"${key}"`} does not start with a valid name followed by "=".`
      )
      return
    }
    pairs.push([key, entryValue])
  })
  return pairs
}

/** One of `choices`; the first when empty. */
export function parseChoice<T extends string>(
  name: string,
  value: string,
  choices: readonly [T, ...T[]],
  problem: Problem
): T {
  if (!value) return choices[0]
  const found = choices.find((choice) => choice === value.toLowerCase())
  if (found) return found
  problem(`${name} "${value}" must be ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}.`)
  return choices[0]
}

/** true, yes or on; false, no or off; `fallback` when empty. */
export function parseBoolean(name: string, value: string, fallback: boolean, problem: Problem): boolean {
  if (!value) return fallback
  if (/^(true|yes|on)$/i.test(value)) return true
  if (/^(false|no|off)$/i.test(value)) return false
  problem(`${name} "${value}" must be true or false.`)
  return fallback
}

/** A whole number from `min` to `max`; `min` (after a problem) when it is not one. */
export function parseInteger(name: string, value: string, min: number, max: number, problem: Problem): number {
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    problem(`${name} "${value}" must be a whole number from ${min} to ${max}.`)
    return min
  }
  return Number(value)
}
