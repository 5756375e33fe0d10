/** What the action tells the runner and asks of it, behind one interface, so that a run can be watched in a test. */
import { type AnnotationKind, AnnotationCap, SHOWN_PER_KIND } from '../core/annotationCap.js'

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
  /** Makes the annotations held back to stay within GitHub's cap (see capAnnotations); at the end of the step. */
  endAnnotations(): void
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

/**
 * The reporter with GitHub's cap on annotations kept for every caller: the first of each kind are made as
 * they come, the rest are printed to the log as they come and gathered into the last annotation of their
 * kind at endAnnotations (or before the step is failed, whose annotation is always shown).
 */
export function capAnnotations(inner: Reporter, cap: AnnotationCap = new AnnotationCap()): Reporter {
  const annotate =
    (kind: AnnotationKind) =>
    (message: string, properties?: AnnotationProperties): void => {
      if (cap.admit(kind, { message, title: properties?.title })) {
        inner[kind](message, properties)
        return
      }
      // Printed whole, as outside text: the annotation that gathers it names it only.
      inner.outside(
        `${kind} (not an annotation: GitHub shows ${SHOWN_PER_KIND} of a step): ${properties?.title ? `${properties.title}: ` : ''}${message}`
      )
    }
  const endAnnotations = (): void => {
    for (const { kind, message, title } of cap.gather()) inner[kind](message, title === undefined ? {} : { title })
    inner.endAnnotations()
  }
  return {
    ...bound(inner),
    notice: annotate('notice'),
    warning: annotate('warning'),
    error: annotate('error'),
    endAnnotations,
    setFailed(message) {
      endAnnotations()
      inner.setFailed(message)
    }
  }
}

/** The inner reporter's methods bound to it, so that a class instance (MemoryReporter) can be wrapped. */
function bound(inner: Reporter): Reporter {
  return {
    getInput: (name) => inner.getInput(name),
    info: (message) => inner.info(message),
    outside: (...lines) => inner.outside(...lines),
    group: (title, work) => inner.group(title, work),
    outsideGroup: (title, lines) => inner.outsideGroup(title, lines),
    notice: (message, properties) => inner.notice(message, properties),
    warning: (message, properties) => inner.warning(message, properties),
    error: (message, properties) => inner.error(message, properties),
    endAnnotations: () => inner.endAnnotations(),
    setSecret: (secret) => inner.setSecret(secret),
    setOutput: (name, value) => inner.setOutput(name, value),
    writeSummary: (markdown) => inner.writeSummary(markdown),
    setFailed: (message) => inner.setFailed(message),
    getIDToken: (audience) => inner.getIDToken(audience)
  }
}
