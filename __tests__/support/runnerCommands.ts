/**
 * A model of how the Actions runner reads workflow commands in a step's stdout (actions/runner:
 * ActionCommandManager.TryProcessCommand with ActionCommand.TryParseV2 and TryParse), to check what a
 * log would make the runner do.
 *
 * - stdout is split into lines at \r\n, \r and \n (.NET ReadLine);
 * - v2: the line, after TrimStart (any Unicode white space, U+0085 included), starts with `::`; the command
 *   is what lies before the next `::`, up to a space;
 * - legacy: `##[` anywhere in the line, the command up to the next `]`, up to a space;
 * - the command must be registered (case-insensitive); `stop-commands` registers its data as the token;
 *   while stopped, only a command equal to the token (case-insensitive) does anything: it resumes.
 */

/** The commands the runner registers (its command extensions), and stop-commands. */
const REGISTERED = [
  'stop-commands',
  'set-env',
  'set-output',
  'save-state',
  'add-mask',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'warning',
  'error',
  'notice',
  'debug',
  'group',
  'endgroup',
  'echo'
]

export interface RunnerCommand {
  readonly command: string
  readonly data: string
  readonly line: string
}

export interface RunnerReading {
  /** Commands the runner would run, stop-commands and its resume excluded. */
  readonly commands: RunnerCommand[]
  /** Whether commands are still stopped when the output ends (the action's own would be ignored). */
  readonly stopped: boolean
}

const LEADING_WHITE_SPACE = /^[\s\u0085]*/

function parse(line: string, registered: ReadonlySet<string>): { command: string; data: string } | undefined {
  const trimmed = line.replace(LEADING_WHITE_SPACE, '')
  if (trimmed.startsWith('::')) {
    const end = trimmed.indexOf('::', 2)
    if (end >= 0) {
      const info = trimmed.slice(2, end)
      const command = (info.includes(' ') ? info.slice(0, info.indexOf(' ')) : info).toLowerCase()
      if (registered.has(command)) return { command, data: trimmed.slice(end + 2) }
    }
  }
  const prefix = line.indexOf('##[')
  if (prefix < 0) return undefined
  const bracket = line.indexOf(']', prefix)
  if (bracket < 0) return undefined
  const info = line.slice(prefix + 3, bracket)
  const command = (info.includes(' ') ? info.slice(0, info.indexOf(' ')) : info).toLowerCase()
  return registered.has(command) ? { command, data: line.slice(bracket + 1) } : undefined
}

/** What the runner would do with this stdout. */
export function readAsRunner(stdout: string): RunnerReading {
  const registered = new Set(REGISTERED)
  const commands: RunnerCommand[] = []
  let stopToken: string | undefined
  for (const line of stdout.split(/\r\n|\r|\n/)) {
    const parsed = parse(line, registered)
    if (!parsed) continue
    if (stopToken !== undefined) {
      // The runner never resumes on an empty token.
      if (stopToken !== '' && parsed.command === stopToken) {
        registered.delete(stopToken)
        stopToken = undefined
      }
      continue
    }
    if (parsed.command === 'stop-commands') {
      stopToken = parsed.data.toLowerCase()
      registered.add(stopToken)
      continue
    }
    commands.push({ ...parsed, line })
  }
  return { commands, stopped: stopToken !== undefined }
}
