/**
 * Text from outside the action (log tails, AWS and ClickHouse errors, file names, layer descriptions,
 * function and role names) made inert where the action shows it: Markdown, the runner's log, annotations.
 */
import { randomUUID } from 'node:crypto'

/** Options for text from outside: a redactor runs after cleaning and before cutting, so no half secret is shown. */
export interface OutsideTextOptions {
  /** The most characters (code points) kept; longer text ends with `…`. */
  readonly max?: number
  readonly redact?: (text: string) => string
}

// Terminal escape sequences: CSI (ESC [ or the one-byte C1 form), OSC up to BEL or ST, and two-character escapes.
const ANSI = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b\n]*(?:\u0007|\u001b\\)|\u001b[@-_]?/g
// Other control characters (tab and newline stay), and the bidirectional overrides that reorder what is shown.
const CONTROL =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
// Everything the runner (.NET ReadLine) or a browser may break a line at becomes \n.
const LINE_BREAK = /\r\n|[\r\u0085\u2028\u2029]/g

/** Text without terminal escapes or control characters, line breaks as \n; redacted, then cut to `max`. */
export function plainText(text: string, options: OutsideTextOptions = {}): string {
  const clean = text.replace(LINE_BREAK, '\n').replace(ANSI, '').replace(CONTROL, '')
  return cut(options.redact ? options.redact(clean) : clean, options.max)
}

/** The last lines of a log, at most `lines` of them and `chars` characters, the cut marked with `…`. */
export function tailOf(text: string, lines: number, chars: number): string {
  const kept = plainText(text).trimEnd().split('\n').slice(-lines).join('\n')
  const points = [...kept]
  return points.length <= chars ? kept : `…${points.slice(points.length - chars + 1).join('')}`
}

function cut(text: string, max: number | undefined): string {
  if (max === undefined || text.length <= max) return text
  // By code points, so that no surrogate pair is split into two replacement characters.
  const points = [...text]
  return points.length <= max ? text : `${points.slice(0, Math.max(0, max - 1)).join('')}…`
}

const ZWSP = '\u200b'

/**
 * Any text as inert inline GitHub-flavoured Markdown, on one line: fit for a table cell, a list item or a
 * heading. Nothing in it can open markup: Markdown punctuation is backslash-escaped, `<`, `>` and `&` are
 * entities, and a zero-width space follows each `@` and `#` and breaks `://`, `www.` and `GH-` so that
 * GitHub links no mention, issue, commit range or URL (an entity would not do: GitHub links after decoding).
 * Emoji shortcodes (`:smile:`) are left: they draw a picture, nothing a Unicode emoji could not.
 */
export function markdownText(text: string, options: OutsideTextOptions = {}): string {
  const flat = plainText(text, options).replace(/\s+/g, ' ').trim()
  return (
    flat
      .replace(/[\\`*~[\]|$]/g, '\\$&')
      // Between two letters or digits `_` opens no emphasis (GFM's intraword rule): ROTEL_OTLP stays as it is.
      .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_')
      // With every `]` escaped no link can form; `(` after one is escaped too, so that `](` never appears.
      .replace(/\]\(/g, ']\\(')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/#/g, `\\#${ZWSP}`)
      .replace(/@/g, `@${ZWSP}`)
      .replace(/:\/\//g, `:${ZWSP}//`)
      // Shown the same, and a scan of the summary for workflow commands finds none from outside.
      .replace(/:(?=:)/g, ':\\')
      // GFM links `www.` after `_`, `*`, `~` or `(` too, so the test is "not after a letter or digit".
      .replace(/(?<![\p{L}\p{N}])(www)\./giu, `$1${ZWSP}.`)
      .replace(/(?<![\p{L}\p{N}])(gh)-/giu, `$1${ZWSP}-`)
      // At the start of a line these open a list, a heading underline or a thematic break.
      .replace(/^([-+=])/, '\\$1')
      .replace(/^(\d+)([.)])/, '$1\\$2')
  )
}

/**
 * Text shown as code (an ARN, a layer name and version) when it holds only the characters of an ARN, so
 * that nothing in the code span needs escaping (no backtick, no `|` for GitHub's table splitter, no `<`
 * or `@` for a scan to stumble on); any other text is shown as escaped text instead.
 */
export function markdownCode(text: string, options: OutsideTextOptions = {}): string {
  const flat = plainText(text, options).replace(/\s+/g, ' ').trim()
  return /^[\w:/.$+=,*-]+$/.test(flat) ? `\`${flat}\`` : markdownText(flat)
}

/**
 * A block of outside text (a log tail) for the summary: an HTML `<pre>`, its text shown as it came.
 * GitHub renders nothing inside as Markdown (an HTML block of `<pre>` ends only at `</pre>`, and `<` is
 * an entity) and links no mention or reference inside `pre`. The other characters that mean something
 * to Markdown, GitHub or the runner (`#`, `@`, `[`, `:`, backticks …) are numeric entities as well: the
 * browser shows the same text, and no scan of the summary's source (nor commentBody's fence count) finds a
 * heading, mention, link, fence or command.
 */
export function markdownBlock(text: string, options: OutsideTextOptions = {}): string {
  const escaped = plainText(text, options)
    .replace(/\t/g, '    ')
    .trimEnd()
    // Hexadecimal, so that no entity reads as an issue reference (`#124`) to a scan of the source.
    .replace(/[&<>#@[\]:`~|]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`)
  return `<pre>${escaped}</pre>`
}

/**
 * A link to a URL the action built (HyperDX search), or the label alone when the URL is not http(s).
 * Characters that would end the Markdown link or a table cell are percent-encoded.
 */
export function markdownLink(label: string, url: string): string {
  let href: string
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return markdownText(label)
    // A link is shown to everyone who reads the summary: it never carries credentials.
    parsed.username = ''
    parsed.password = ''
    href = parsed.href
  } catch {
    return markdownText(label)
  }
  const encoded = href.replace(
    /[\s()[\]<>|`'"\\]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
  )
  return `[${markdownText(label)}](${encoded})`
}

/** Annotation text: no terminal escapes or control characters, redacted, bounded; @actions/core escapes the rest. */
export function annotationText(text: string, options: OutsideTextOptions = {}): string {
  return plainText(text, { max: 4000, ...options }).trim()
}

/** An annotation title on one line (a function name in it): the runner shows titles on a single line. */
export function annotationTitle(text: string): string {
  return plainText(text, { max: 200 }).replace(/\s+/g, ' ').trim()
}

/**
 * Whether the runner could read this line as a workflow command. Its two parsers (ActionCommand.TryParseV2
 * and TryParse) take a line whose start, after .NET's TrimStart, is `::`, and a line holding `##[` anywhere
 * (the legacy form is not anchored). The test errs on the side of yes: JavaScript's `\s` plus U+0085
 * covers every character .NET trims.
 */
export function mayBeCommand(line: string): boolean {
  return /^[\s\u0085]*::/.test(line) || line.includes('##[')
}

/**
 * Lines of outside text as the runner's log must receive them: one physical line each (the runner splits at
 * \r as well as \n), without terminal escapes. When any of them could be read as a command, the lines are
 * put inside the runner's documented `::stop-commands::<token>` … `::<token>::` block, with a fresh random
 * token that the text does not hold: while it is open the runner runs no command of either form, and after
 * it the action's own annotations work again. Escaping each line instead would have to change the text
 * (the legacy `##[` form is matched anywhere in a line); the block shows it exactly as it came.
 */
export function logLines(lines: readonly string[], newToken: () => string = randomUUID): string[] {
  const physical = lines.flatMap((line) => plainText(line).split('\n'))
  if (!physical.some(mayBeCommand)) return physical
  const text = physical.join('\n').toLowerCase()
  let token = newToken()
  // The runner compares the resume command without regard to case.
  while (token.length < 16 || text.includes(token.toLowerCase())) token = randomUUID()
  return [`::stop-commands::${token}`, ...physical, `::${token}::`]
}
