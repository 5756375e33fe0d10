export interface RunnerLog {
  line(raw: string): void
  mask(text: string): string
}
export function createRunnerLog(write: (line: string) => void): RunnerLog
export function readOutputs(text: string): Record<string, string>
