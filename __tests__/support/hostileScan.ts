/**
 * The three checks of the hostile-input suite, over every channel a run of the action writes to: no
 * secret in any form, no workflow command that came from outside, no Markdown/HTML that came from
 * outside. Each finding is one sentence naming the channel, the line and the form, so that a failing
 * test says what leaked where.
 */

/** Everything one run of the action wrote, as the runner and GitHub receive it. */
export interface Channels {
  readonly stdout: string
  readonly stderr: string
  readonly summary: string
  /** The GITHUB_OUTPUT file, raw. */
  readonly outputs: string
  readonly env: string
  readonly state: string
  /** Bodies of the comments the action sent to GitHub (POST and PATCH). */
  readonly comments: readonly string[]
}

/** The mark every planted hostile text carries, so that a finding can tell it from the action's own text. */
export const CANARY = 'HOSTILE'

/** Text that a runner would read as workflow commands, were the action to print it as it is. */
export function commandCanaries(id: string): string[] {
  return [
    `::error::${CANARY}-${id} injected error`,
    `  ::add-mask::${CANARY}-${id}-mask`,
    `::warning file=.github/workflows/ci.yml,line=1::${CANARY}-${id} fake annotation`,
    `##[warning]${CANARY}-${id} legacy warning`,
    `::set-output name=x::${CANARY}-${id}`,
    // Last: were it obeyed, it would silence everything after it, the action's own annotations too.
    `::stop-commands::${CANARY}-${id}-stop`
  ]
}

/** Text that renders as markup (a link, an image, HTML, a heading, a mention, a reference) in GitHub's Markdown. */
export function markupCanaries(id: string): string[] {
  return [
    `[click ${CANARY}-${id}](https://evil.example/${id})`,
    `![x](https://evil.example/${CANARY}-${id}.png)`,
    `<img src=x onerror=alert('${CANARY}-${id}')>`,
    `<details><summary>${CANARY}-${id}</summary>`,
    '@octocat',
    '#1',
    // On a line of its own: a heading.
    `# ✅ reviewed ${CANARY}-${id}`
  ]
}

/** A secret and what to call it in a finding (never the value itself: the test log is a channel too). */
export interface Secret {
  readonly label: string
  readonly value: string
}

interface Form {
  readonly form: string
  readonly text: string
  readonly caseless: boolean
}

/** The forms a secret can take on its way out: raw, escaped, encoded, and base64 at any alignment. */
export function secretForms(value: string): Form[] {
  const forms: Form[] = []
  const add = (form: string, text: string, caseless = false): void => {
    if (text.length >= 6 && !forms.some((f) => f.text === text)) forms.push({ form, text, caseless })
  }
  add('raw', value)
  const json = JSON.stringify(value).slice(1, -1)
  add('JSON-escaped', json)
  add('JSON-escaped twice', JSON.stringify(json).slice(1, -1))
  add('URL-encoded', encodeURIComponent(value), true)
  add('form-encoded', new URLSearchParams({ v: value }).toString().slice(2), true)
  add('URL-encoded (encodeURI)', encodeURI(value), true)
  add(
    'HTML-escaped',
    value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  )
  add(
    'HTML-escaped (named)',
    value.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c)
  )
  add('Markdown-escaped', value.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&'))
  // Base64 of any text the secret is embedded in: only the characters that depend on the secret's bytes
  // alone, for each of the three alignments.
  const bytes = Buffer.from(value, 'utf8')
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64')
    const first = Math.ceil((offset * 8) / 6)
    const end = Math.floor(((offset + bytes.length) * 8) / 6)
    const middle = encoded.slice(first, end)
    add(`base64 (embedded at offset ${offset})`, middle)
    add(`base64url (embedded at offset ${offset})`, middle.replace(/\+/g, '-').replace(/\//g, '_'))
  }
  add('hex', bytes.toString('hex'), true)
  return forms
}

/** Basic auth's `user:password`, a secret of its own: its base64 is the Authorization header. */
export function basicAuthSecret(label: string, user: string, password: string): Secret {
  return { label: `${label} (user:password of Basic auth)`, value: `${user}:${password}` }
}

/** Every `size`-character part of a secret, each a secret of its own: an error that quotes a cut-off excerpt still leaks. */
export function secretParts(label: string, value: string, size = 8): Secret[] {
  const parts: Secret[] = []
  for (let at = 0; at + size <= value.length; at++)
    parts.push({ label: `${label} (characters ${at + 1}–${at + size})`, value: value.slice(at, at + size) })
  return parts
}

/** One log line as the runner reads it. */
export interface LogLine {
  readonly number: number
  readonly text: string
  /** The command's name when the runner would run this line as a command, else undefined. */
  readonly command: string | undefined
  /** The command's data (its message), after the `::` or `]` that ends name and properties. */
  readonly data: string
  /** Inside a `::stop-commands::` block: printed, never run. */
  readonly stopped: boolean
}

/**
 * The runner's reading of a log (actions/runner ActionCommand): a line whose trimmed start is `::NAME …::`
 * is a command; failing that, the first `##[NAME …]` anywhere in the line is one (the legacy form). Inside a
 * `::stop-commands::TOKEN` block nothing is, until a line `::TOKEN::`.
 */
export function readLog(text: string): LogLine[] {
  let token: string | undefined
  return text.split(/\r?\n/).map((line, index) => {
    const number = index + 1
    const trimmed = line.trimStart()
    if (token !== undefined) {
      if (trimmed.toLowerCase().startsWith(`::${token.toLowerCase()}::`)) {
        token = undefined
        return { number, text: line, command: 'resume-commands', data: '', stopped: false }
      }
      return { number, text: line, command: undefined, data: '', stopped: true }
    }
    // The name runs to the first space, the properties to the next `::`.
    const end = trimmed.startsWith('::') ? trimmed.indexOf('::', 2) : -1
    if (end > 2) {
      const command = (trimmed.slice(2, end).split(' ')[0] ?? '').toLowerCase()
      const data = trimmed.slice(end + 2)
      if (command === 'stop-commands') token = data.trim()
      return { number, text: line, command, data, stopped: false }
    }
    const legacy = /##\[([^\]\s]+)[^\]]*\]/.exec(line)
    if (legacy && legacy.index === line.indexOf('##['))
      return {
        number,
        text: line,
        command: (legacy[1] ?? '').toLowerCase(),
        data: line.slice(legacy.index + legacy[0].length),
        stopped: false
      }
    return { number, text: line, command: undefined, data: '', stopped: false }
  })
}

const excerpt = (text: string, at: number, width = 60): string =>
  JSON.stringify(text.slice(Math.max(0, at - width / 2), at + width / 2))

/** Where a secret appears in one text, in which form: one finding per form. */
function secretFindings(channel: string, text: string, secrets: readonly Secret[]): string[] {
  const findings: string[] = []
  for (const secret of secrets)
    for (const { form, text: needle, caseless } of secretForms(secret.value)) {
      const at = caseless ? text.toLowerCase().indexOf(needle.toLowerCase()) : text.indexOf(needle)
      if (at < 0) continue
      const line = text.slice(0, at).split('\n').length
      findings.push(`${channel}, line ${line}: ${secret.label}, ${form}`)
    }
  return findings
}

/** Check 1: no secret in any channel, in any form; the log may carry one only in a runner's `::add-mask::` command. */
export function findSecrets(channels: Channels, secrets: readonly Secret[]): string[] {
  const findings: string[] = []
  for (const stream of ['stdout', 'stderr'] as const) {
    // The masking commands are the one place a secret must be written: the runner hides them.
    const shown = readLog(channels[stream])
      .map((line) => (line.command === 'add-mask' ? '' : line.text))
      .join('\n')
    findings.push(...secretFindings(`log (${stream})`, shown, secrets))
  }
  findings.push(...secretFindings('step summary', channels.summary, secrets))
  findings.push(...secretFindings('outputs file', channels.outputs, secrets))
  findings.push(...secretFindings('GITHUB_ENV file', channels.env, secrets))
  findings.push(...secretFindings('GITHUB_STATE file', channels.state, secrets))
  channels.comments.forEach((body, i) => findings.push(...secretFindings(`PR comment ${i + 1}`, body, secrets)))
  return findings
}

/** Check 2: no command the runner would run is planted text; no planted stop-commands silences the rest. */
export function findCommands(channels: Channels): string[] {
  const findings: string[] = []
  for (const stream of ['stdout', 'stderr'] as const) {
    const lines = readLog(channels[stream])
    // Planted text that is itself the command: its name, or its message from the start. The action's own
    // annotation may carry planted text later in its message, escaped: the runner reads that as data.
    for (const line of lines)
      if (
        line.command !== undefined &&
        (line.command.includes(CANARY.toLowerCase()) || line.data.trimStart().startsWith(CANARY))
      )
        findings.push(
          `log (${stream}), line ${line.number}: the runner runs ::${line.command}:: from outside: ${JSON.stringify(line.text.slice(0, 120))}`
        )
    const opened = lines.map((line) => line.command).lastIndexOf('stop-commands')
    if (opened >= 0 && !lines.slice(opened).some((line) => line.command === 'resume-commands'))
      findings.push(
        `log (${stream}): a ::stop-commands:: block is never ended, so the runner ignores every command after it`
      )
  }
  return findings
}

/** The commands the runner runs (outside stop-commands blocks), with their lines. */
export function commandsRun(log: string): LogLine[] {
  return readLog(log).filter((line) => line.command !== undefined)
}

/** Check 3 (summary, comments): planted markup that still renders, outside code spans and fenced blocks. */
export function findMarkup(channels: Channels): string[] {
  const findings: string[] = []
  const scan = (channel: string, text: string): void => {
    for (const [line, content] of renderedLines(text)) {
      const say = (what: string, at: number): void => {
        findings.push(`${channel}, line ${line}: ${what} from outside renders: ${excerpt(content, at)}`)
      }
      for (const match of content.matchAll(/(?<!\\)\]\s*\(/g)) {
        const target = content.slice(match.index, match.index + 200).split(/[)\n]/)[0] ?? ''
        if (/evil\.example/i.test(target) || target.includes(CANARY)) say('a Markdown link or image', match.index)
      }
      const html = /(?<!\\)<img\b/i.exec(content)
      if (html) say('an <img> tag', html.index)
      const details = /(?<!\\)<details\b[^>]*>\s*<summary\b[^>]*>[^<\n]*HOSTILE|(?<!\\)<details\b[^>]*HOSTILE/i.exec(
        content
      )
      if (details) say('a <details> block', details.index)
      if (/^\s{0,3}(?:>\s*)*\s{0,3}#{1,6}(?:\s|$)/.test(content) && /HOSTILE|✅ reviewed/.test(content))
        say('a heading', 0)
      // GitHub links a mention or an issue reference after Markdown has run: a backslash does not stop it.
      const mention = /(?<![\w`])@octocat\b/.exec(content)
      if (mention) say('an @octocat mention', mention.index)
      const reference = /(?<![\w&#`])#1\b(?!\d)/.exec(content)
      if (reference) say('a #1 reference', reference.index)
    }
  }
  scan('step summary', channels.summary)
  channels.comments.forEach((body, i) => scan(`PR comment ${i + 1}`, body))
  return findings
}

/** The lines of a Markdown text with code (fenced blocks, code spans) and HTML comments blanked, numbered from 1. */
export function renderedLines(text: string): Array<[number, string]> {
  const out: Array<[number, string]> = []
  let fence: string | undefined
  const withoutComments = text.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ' '))
  withoutComments.split('\n').forEach((line, index) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker)
        fence = undefined
      return
    }
    if (marker !== undefined) {
      fence = marker
      return
    }
    out.push([index + 1, withoutCodeSpans(line)])
  })
  return out
}

function withoutCodeSpans(line: string): string {
  let result = ''
  let i = 0
  while (i < line.length) {
    if (line[i] !== '`' || (i > 0 && line[i - 1] === '\\')) {
      result += line[i]
      i++
      continue
    }
    let run = 0
    while (line[i + run] === '`') run++
    const ticks = '`'.repeat(run)
    // The span ends at the next run of exactly as many backticks.
    let close = -1
    for (let j = line.indexOf(ticks, i + run); j >= 0; j = line.indexOf(ticks, j + 1)) {
      if (line[j - 1] !== '`' && line[j + run] !== '`') {
        close = j
        break
      }
    }
    if (close < 0) {
      result += ticks
      i += run
      continue
    }
    result += ' '.repeat(close + run - i)
    i = close + run
  }
  return result
}

/** Outputs the action declares; any other name in the outputs file was injected. */
export function findForeignOutputs(outputs: string, declared: readonly string[]): string[] {
  const names: string[] = []
  const lines = outputs.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (line === '') continue
    const block = /^([^<=]+)<<(.+)$/.exec(line)
    if (block) {
      names.push(block[1] as string)
      const delimiter = block[2]
      while (i + 1 < lines.length && lines[i + 1] !== delimiter) i++
      i++
      continue
    }
    names.push(line.split('=')[0] ?? line)
  }
  return names
    .filter((name) => !declared.includes(name))
    .map((name) => `outputs file: an output "${name}" the action does not declare`)
}
