/** How a function's run words layers and log tails in its log. */
import { tailOf } from '../../core/outsideText.js'

/** Layer ARNs without their common prefix, or (none). */
export function describeLayers(layers: readonly string[]): string {
  return layers.length === 0 ? '(none)' : layers.map((arn) => arn.replace(/^.*:layer:/, '')).join(', ')
}

/** The most characters of a test invocation's log tail kept in the log; Lambda itself returns the last 4 KB. */
export const LOG_TAIL_CHARS = 4096

/** A log tail's lines, indented: the indent also keeps a line such as `##[group]` from being drawn as a section. */
export function indent(text: string): string[] {
  return text.split('\n').map((line) => `    ${line}`)
}

/** The last lines of a log tail on one line, for an error message (an annotation, the report): bounded. */
export function lastLines(text: string, count: number): string {
  return tailOf(text, count, 500).split('\n').join(' | ')
}
