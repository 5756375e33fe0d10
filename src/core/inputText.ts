/** Reading the action's list inputs. */

/** Splits a list input written one item a line, or comma-separated, or both; `#` starts a comment. */
export function splitList(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
}
