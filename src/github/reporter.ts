/** What the action tells the runner and asks of it, behind one interface, so that a run can be watched in a test. */

/** Where an annotation points and what it is called; GitHub shows the title on one line. */
export interface AnnotationProperties {
  title?: string
  file?: string
  startLine?: number
  startColumn?: number
}

/**
 * Everything the action says to the runner (log, groups, annotations, masks, outputs, the summary, the verdict)
 * and asks of it (inputs, the OIDC ID token). Text the action did not write itself (AWS errors, log tails,
 * names, URLs) goes through `outside` and `outsideGroup`, which keep the runner from running a command in it.
 */
export interface Reporter {
  /** An input of the step as the workflow gave it, trimmed; '' when absent. */
  getInput(name: string): string
  /** A line of the action's own words. */
  info(message: string): void
  /** Lines that hold outside text: printed so that the runner runs no command from them. */
  outside(...lines: readonly string[]): void
  /** A group of the log around work of the action's own, titled in its own words. */
  group<T>(title: string, work: () => Promise<T>): Promise<T>
  /** A group of the log whose title and lines hold outside text. */
  outsideGroup(title: string, lines: readonly string[]): void
  notice(message: string, properties?: AnnotationProperties): void
  warning(message: string, properties?: AnnotationProperties): void
  error(message: string, properties?: AnnotationProperties): void
  /** Masks a value in everything the runner shows from now on. */
  setSecret(secret: string): void
  setOutput(name: string, value: string): void
  /** Appends Markdown to the job summary (only where the runner gave a summary file). */
  writeSummary(markdown: string): Promise<void>
  /** Fails the step with one message, shown as an error annotation. */
  setFailed(message: string): void
  /** A GitHub OIDC ID token for the audience. */
  getIDToken(audience: string): Promise<string>
}
