/** The Reporter of a real run: the runner's workflow commands through @actions/core, the one module that uses it. */
import * as core from '@actions/core'
import { annotationTitle, logLines } from '../core/outsideText.js'
import type { Reporter } from './reporter.js'

/** Prints lines that hold outside text to the log, so that the runner runs no command from them (see logLines). */
function printOutside(...lines: readonly string[]): void {
  for (const line of logLines(lines)) core.info(line)
}

/** The runner's side of a run: what @actions/core writes to stdout and the runner's files. */
export const runnerReporter: Reporter = {
  getInput: (name) => core.getInput(name),
  info: (message) => core.info(message),
  outside: printOutside,
  group: (title, work) => core.group(title, work),
  // @actions/core escapes the title's line breaks; the lines are outside text.
  outsideGroup(title, lines) {
    core.startGroup(annotationTitle(title))
    printOutside(...lines)
    core.endGroup()
  },
  notice: (message, properties) => core.notice(message, properties),
  warning: (message, properties) => core.warning(message, properties),
  error: (message, properties) => core.error(message, properties),
  // Nothing held here: capAnnotations (reporter.ts) holds and gathers what GitHub would not show.
  endAnnotations: () => undefined,
  setSecret: (secret) => core.setSecret(secret),
  setOutput: (name, value) => core.setOutput(name, value),
  writeSummary: async (markdown) => {
    await core.summary.addRaw(markdown, true).write()
  },
  setFailed: (message) => core.setFailed(message),
  getIDToken: (audience) => core.getIDToken(audience)
}
