/**
 * GitHub shows at most 10 error and 10 warning annotations of a step ("GitHub Actions are limited to 10
 * warning annotations and 10 error annotations per step",
 * https://docs.github.com/en/rest/checks/runs#create-a-check-run, `output.annotations`); the rest are
 * dropped without a word. Notices have no documented figure and are held to the same 10. This decides which
 * annotations are made as they come and gathers the rest into one last annotation of their kind that names
 * them, so that none is lost without the reader being told.
 */
import { someNames } from './summaryGroups.js'

export type AnnotationKind = 'error' | 'warning' | 'notice'

/** An annotation as it is made: its text and, when it has one, its title. */
export interface HeldAnnotation {
  readonly message: string
  readonly title: string | undefined
}

/** The most annotations of one kind GitHub shows for a step. */
export const SHOWN_PER_KIND = 10

/** The most characters of the names in the annotation that gathers the rest: the first ones, then "and N more". */
const NAMES_MAX = 1500

/**
 * Counts the annotations of a step by kind. The first ones of each kind are made as they come; once only
 * one place is left (two for errors: the step's failure is one more, made by setFailed, and must be seen),
 * the rest are held, and `gather` turns them into that last annotation.
 */
export class AnnotationCap {
  private readonly made = new Map<AnnotationKind, number>()
  private readonly held = new Map<AnnotationKind, HeldAnnotation[]>()

  constructor(private readonly shown = SHOWN_PER_KIND) {}

  /** Whether this annotation is made now (true), or held for the one that gathers the rest (false). */
  admit(kind: AnnotationKind, annotation: HeldAnnotation): boolean {
    const made = this.made.get(kind) ?? 0
    const held = this.held.get(kind) ?? []
    if (held.length === 0 && made < this.passThrough(kind)) {
      this.made.set(kind, made + 1)
      return true
    }
    held.push(annotation)
    this.held.set(kind, held)
    return false
  }

  /**
   * The annotations to make now for those held, one per kind: a held one alone as it was, several as one
   * that names them. Once a kind's places are used up, later ones are only in the log (the caller prints
   * every held annotation there as it comes).
   */
  gather(): Array<{ kind: AnnotationKind } & HeldAnnotation> {
    const out: Array<{ kind: AnnotationKind } & HeldAnnotation> = []
    for (const [kind, held] of this.held) {
      this.held.set(kind, [])
      const made = this.made.get(kind) ?? 0
      if (held.length === 0 || made >= this.passThrough(kind) + 1) continue
      this.made.set(kind, made + 1)
      const [first] = held as [HeldAnnotation]
      if (held.length === 1) out.push({ kind, ...first })
      else out.push({ kind, ...gathered(kind, held) })
    }
    return out
  }

  private passThrough(kind: AnnotationKind): number {
    return kind === 'error' ? this.shown - 2 : this.shown - 1
  }
}

const PLURAL: Record<AnnotationKind, string> = { error: 'errors', warning: 'warnings', notice: 'notices' }

/** One annotation for many: how many, and what they were about (their titles, else their first words). */
function gathered(kind: AnnotationKind, held: readonly HeldAnnotation[]): HeldAnnotation {
  const about = held.map(({ title, message }) => title ?? firstWords(message))
  return {
    title: `${held.length} more ${PLURAL[kind]}`,
    message: `GitHub shows only ${SHOWN_PER_KIND} ${PLURAL[kind]} of a step; ${held.length} more are in the log: ${someNames(about, NAMES_MAX)}. See the job summary for every function.`
  }
}

function firstWords(message: string): string {
  const line = message.split('\n')[0] ?? ''
  return line.length > 80 ? `${line.slice(0, 79)}…` : line
}
