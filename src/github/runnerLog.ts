/** Outside text printed to the runner's log so that the runner runs no command from it (see logLines). */
import * as core from '@actions/core'
import { annotationTitle, logLines } from '../core/outsideText.js'

/** Prints lines that hold outside text to the log, so that the runner runs no command from them (see logLines). */
export function printOutside(...lines: readonly string[]): void {
  for (const line of logLines(lines)) core.info(line)
}

/** A group of the log whose title and lines hold outside text; @actions/core escapes the title's line breaks. */
export function printGroup(title: string, lines: readonly string[]): void {
  core.startGroup(annotationTitle(title))
  printOutside(...lines)
  core.endGroup()
}
