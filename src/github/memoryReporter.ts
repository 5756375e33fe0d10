/** A Reporter that keeps everything it is told, in order, for tests of a run without a runner. */
import type { AnnotationProperties, Reporter } from './reporter.js'

/** One thing the action told the runner, as it was told. */
export type Reported =
  | { kind: 'info'; text: string }
  | { kind: 'outside'; lines: readonly string[] }
  | { kind: 'group'; title: string }
  | { kind: 'endgroup' }
  | { kind: 'outsideGroup'; title: string; lines: readonly string[] }
  | { kind: 'notice' | 'warning' | 'error'; text: string; properties: AnnotationProperties | undefined }
  | { kind: 'secret'; secret: string }
  | { kind: 'output'; name: string; value: string }
  | { kind: 'summary'; markdown: string }
  | { kind: 'failed'; text: string }

type Annotation = Extract<Reported, { kind: 'notice' | 'warning' | 'error' }>

/** Records every call in `reported`; inputs and the ID token come from the constructor. */
export class MemoryReporter implements Reporter {
  readonly reported: Reported[] = []

  constructor(
    private readonly inputs: Readonly<Record<string, string>> = {},
    private readonly idToken: (audience: string) => Promise<string> = async () => {
      throw new Error('no ID token in this test')
    }
  ) {}

  getInput(name: string): string {
    return (this.inputs[name] ?? '').trim()
  }
  info(text: string): void {
    this.reported.push({ kind: 'info', text })
  }
  outside(...lines: readonly string[]): void {
    this.reported.push({ kind: 'outside', lines })
  }
  async group<T>(title: string, work: () => Promise<T>): Promise<T> {
    this.reported.push({ kind: 'group', title })
    try {
      return await work()
    } finally {
      this.reported.push({ kind: 'endgroup' })
    }
  }
  outsideGroup(title: string, lines: readonly string[]): void {
    this.reported.push({ kind: 'outsideGroup', title, lines })
  }
  notice(text: string, properties?: AnnotationProperties): void {
    this.reported.push({ kind: 'notice', text, properties })
  }
  warning(text: string, properties?: AnnotationProperties): void {
    this.reported.push({ kind: 'warning', text, properties })
  }
  error(text: string, properties?: AnnotationProperties): void {
    this.reported.push({ kind: 'error', text, properties })
  }
  endAnnotations(): void {
    // Keeps everything: a test wraps it in capAnnotations to see GitHub's cap applied.
  }
  setSecret(secret: string): void {
    this.reported.push({ kind: 'secret', secret })
  }
  setOutput(name: string, value: string): void {
    this.reported.push({ kind: 'output', name, value })
  }
  async writeSummary(markdown: string): Promise<void> {
    this.reported.push({ kind: 'summary', markdown })
  }
  setFailed(text: string): void {
    this.reported.push({ kind: 'failed', text })
  }
  getIDToken(audience: string): Promise<string> {
    return this.idToken(audience)
  }

  /** The annotations of one kind, in order. */
  annotations(kind: Annotation['kind']): Annotation[] {
    return this.reported.filter((entry): entry is Annotation => entry.kind === kind)
  }
  /** The outputs set, the last value of each. */
  get outputs(): Record<string, string> {
    const outputs: Record<string, string> = {}
    for (const entry of this.reported) if (entry.kind === 'output') outputs[entry.name] = entry.value
    return outputs
  }
  /** Every line printed to the log, the action's own and outside text alike, group titles included. */
  get lines(): string[] {
    return this.reported.flatMap((entry) => {
      if (entry.kind === 'info') return [entry.text]
      if (entry.kind === 'outside') return [...entry.lines]
      if (entry.kind === 'group') return [entry.title]
      if (entry.kind === 'outsideGroup') return [entry.title, ...entry.lines]
      return []
    })
  }
  /** The messages the step was failed with. */
  get failures(): string[] {
    return this.reported.flatMap((entry) => (entry.kind === 'failed' ? [entry.text] : []))
  }
}
