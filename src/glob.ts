/** Glob patterns for workspace-relative POSIX paths, compiled to regular expressions without a dependency. */

const REGEXP_SPECIAL = /[.*+?^${}()|[\]\\]/g

function escapeRegExp(text: string): string {
  return text.replace(REGEXP_SPECIAL, '\\$&')
}

/** The index of the `]` closing the class opened at `start`, or -1 when it is not closed (then `[` is literal). */
function classEnd(pattern: string, start: number): number {
  let i = start + 1
  if (pattern[i] === '!' || pattern[i] === '^') i++
  // A `]` first in the class is a member, as in shells.
  if (pattern[i] === ']') i++
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++
    else if (pattern[i] === ']') return i
  }
  return -1
}

/** Splits at the commas that are not inside a nested brace, a class or after a backslash. */
function splitAlternatives(body: string): string[] {
  const parts: string[] = []
  let depth = 0
  let from = 0
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c === '\\') i++
    else if (c === '[') {
      const end = classEnd(body, i)
      if (end > 0) i = end
    } else if (c === '{') depth++
    else if (c === '}' && depth > 0) depth--
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(from, i))
      from = i + 1
    }
  }
  parts.push(body.slice(from))
  return parts
}

/** The brace-free patterns `{a,b}` alternatives stand for; expanding first keeps `**` detection to plain segments. */
function expandBraces(pattern: string): string[] {
  let depth = 0
  let open = -1
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\') i++
    else if (c === '[') {
      const end = classEnd(pattern, i)
      if (end > 0) i = end
    } else if (c === '{') {
      if (depth === 0) open = i
      depth++
    } else if (c === '}' && depth > 0) {
      depth--
      if (depth === 0) {
        const prefix = pattern.slice(0, open)
        const suffix = pattern.slice(i + 1)
        return splitAlternatives(pattern.slice(open + 1, i)).flatMap((alternative) =>
          expandBraces(prefix + alternative + suffix)
        )
      }
    }
  }
  // No closed brace: whatever `{` is left is a literal character.
  return [pattern]
}

function classToRegExp(pattern: string, start: number, end: number): string {
  let i = start + 1
  const negated = pattern[i] === '!' || pattern[i] === '^'
  if (negated) i++
  let body = ''
  for (; i < end; i++) {
    const escaped = pattern[i] === '\\' && i + 1 < end
    const c = pattern[escaped ? ++i : i] as string
    // An unescaped `-` stays a range operator, so that `a-z` keeps working.
    body += c === '-' && !escaped ? c : c.replace(/[-\\\]\[^]/, '\\$&')
  }
  // A class never matches the separator, the way `*` and `?` do not.
  return negated ? `[^/${body}]` : `(?!/)[${body}]`
}

function plainToRegExp(pattern: string): string {
  let out = ''
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i] as string
    if (c === '*') {
      let j = i
      while (pattern[j] === '*') j++
      const wholeSegment =
        j - i >= 2 && (i === 0 || pattern[i - 1] === '/') && (j === pattern.length || pattern[j] === '/')
      if (!wholeSegment) out += '[^/]*'
      else if (j === pattern.length) {
        // `a/**` is `a` and everything below it; a lone `**` is everything.
        out = i === 0 ? '.*' : `${out.slice(0, -1)}(?:/.*)?`
      } else {
        // `**/` is any number of directories, none included, so `**/x` matches `x` at the root.
        out += '(?:.*/)?'
        j++
      }
      i = j
    } else if (c === '?') {
      out += '[^/]'
      i++
    } else if (c === '[' && classEnd(pattern, i) > 0) {
      const end = classEnd(pattern, i)
      out += classToRegExp(pattern, i, end)
      i = end + 1
    } else if (c === '\\' && i + 1 < pattern.length) {
      out += escapeRegExp(pattern[i + 1] as string)
      i += 2
    } else {
      out += escapeRegExp(c)
      i++
    }
  }
  return out
}

/**
 * The anchored regular expression for a glob over workspace-relative POSIX paths (`**`, `*`, `?`, `{a,b}`,
 * `[abc]`); a leading `!` is a literal here, negation being the caller's business.
 */
export function globToRegExp(pattern: string): RegExp {
  // `./x` and `/x` are written to mean the workspace's `x`, and paths never carry either prefix.
  const rooted = pattern.replace(/^(?:\.\/|\/)+/, '')
  const alternatives = expandBraces(rooted).map(plainToRegExp)
  return new RegExp(`^(?:${alternatives.join('|')})$`)
}

/** Whether a workspace-relative POSIX path matches at least one of the globs. */
export function matchesAny(path: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => globToRegExp(pattern).test(path))
}
