/**
 * Glob patterns for workspace-relative POSIX paths (`**`, `*`, `?`, `{a,b}`, `[abc]`), matched in time linear in
 * the path for a given pattern: the paths come from pull requests, and a backtracking matcher can be made to
 * run for hours by one file name.
 */
import { wildcardSource } from './wildcard.js'

/** The longest pattern accepted, in characters: far beyond any real glob, and a bound on its matching cost. */
export const MAX_GLOB_LENGTH = 1024

/** The most brace alternatives one pattern may stand for: 18 `{a,b}` groups alone would make 262,144. */
export const MAX_BRACE_ALTERNATIVES = 256

/** A pattern refused for its size; the message says which bound and how to stay within it. */
export class GlobError extends Error {
  override readonly name = 'GlobError'
}

/** A compiled glob. */
export interface GlobMatcher {
  /** Whether a workspace-relative POSIX path matches. */
  test(path: string): boolean
}

/** A part of a pattern between slashes: `**` (any number of directories), a literal name, or a wildcard. */
type Segment = { kind: 'globstar' } | { kind: 'literal'; text: string } | { kind: 'wildcard'; regex: RegExp }

// A path segment never holds `/`, so a star is any run of other characters.
const SEGMENT_CHAR = '[^/]'

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

/** The first closed top-level brace group of a pattern, as [open, close] indexes, if there is one. */
function firstBraceGroup(pattern: string): [number, number] | undefined {
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
      if (depth === 0) return [open, i]
    }
  }
  // No closed brace: whatever `{` is left is a literal character.
  return undefined
}

/**
 * The brace-free patterns `{a,b}` alternatives stand for; expanding first keeps `**` detection to plain segments.
 * Stops as soon as there would be more than MAX_BRACE_ALTERNATIVES, so a hostile pattern costs little to refuse.
 */
function expandBraces(pattern: string, original: string): string[] {
  const done: string[] = []
  const pending = [pattern]
  while (pending.length > 0) {
    const next = pending.pop() as string
    const group = firstBraceGroup(next)
    if (!group) {
      done.push(next)
    } else {
      const [open, close] = group
      const prefix = next.slice(0, open)
      const suffix = next.slice(close + 1)
      // Reversed onto the stack so that alternatives come out in the order written.
      for (const alternative of splitAlternatives(next.slice(open + 1, close)).reverse())
        pending.push(prefix + alternative + suffix)
    }
    if (done.length + pending.length > MAX_BRACE_ALTERNATIVES)
      throw new GlobError(
        `the pattern ${shown(original)} stands for more than ${MAX_BRACE_ALTERNATIVES} alternatives through its {…} ` +
          'groups; write fewer groups, or split it over several lines'
      )
  }
  return done
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

/** The segments of a brace-free pattern: split at each `/` outside a class (an escaped one included). */
function toSegments(pattern: string): Segment[] {
  const segments: Segment[] = []
  // The pattern split at its stars, each piece a list of one-character sources, and the literal text if no
  // star or wildcard character appears.
  let pieces: string[][] = [[]]
  let literal: string | undefined = ''
  let stars = 0
  let onlyStars = true
  const close = (): void => {
    if (onlyStars && stars >= 2) segments.push({ kind: 'globstar' })
    else if (literal !== undefined) segments.push({ kind: 'literal', text: literal })
    else segments.push({ kind: 'wildcard', regex: new RegExp(`^${wildcardSource(pieces, SEGMENT_CHAR)}$`) })
    pieces = [[]]
    literal = ''
    stars = 0
    onlyStars = true
  }
  const add = (source: string, text: string | undefined): void => {
    ;(pieces[pieces.length - 1] as string[]).push(source)
    literal = literal !== undefined && text !== undefined ? literal + text : undefined
    onlyStars = false
  }
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i] as string
    if (c === '/') {
      close()
      i++
    } else if (c === '*') {
      // A run of stars inside a segment is one star; alone in its segment, two or more are `**`.
      let j = i
      while (pattern[j] === '*') j++
      stars += j - i
      pieces.push([])
      literal = undefined
      i = j
    } else if (c === '?') {
      add(SEGMENT_CHAR, undefined)
      i++
    } else if (c === '[' && classEnd(pattern, i) > 0) {
      const end = classEnd(pattern, i)
      add(classToRegExp(pattern, i, end), undefined)
      i = end + 1
    } else if (c === '\\' && i + 1 < pattern.length) {
      const escaped = pattern[i + 1] as string
      if (escaped === '/') close()
      else add(escapeRegExp(escaped), escaped)
      i += 2
    } else {
      add(escapeRegExp(c), c)
      i++
    }
  }
  close()
  return segments
}

/**
 * A brace-free pattern as matched: the segments before its first `**`, the fixed groups between its `**`s, and
 * the segments after its last; without any `**`, only `prefix`.
 */
interface Shape {
  prefix: Segment[]
  groups: Segment[][] | undefined
  suffix: Segment[]
}

function toShape(segments: readonly Segment[]): Shape {
  const first = segments.findIndex((segment) => segment.kind === 'globstar')
  if (first < 0) return { prefix: [...segments], groups: undefined, suffix: [] }
  let last = segments.length - 1
  while (segments[last]?.kind !== 'globstar') last--
  const groups: Segment[][] = [[]]
  for (const segment of segments.slice(first + 1, last))
    if (segment.kind === 'globstar') groups.push([])
    else (groups[groups.length - 1] as Segment[]).push(segment)
  return {
    prefix: segments.slice(0, first),
    groups: groups.filter((group) => group.length > 0),
    suffix: segments.slice(last + 1)
  }
}

function segmentMatches(segment: Segment, part: string): boolean {
  if (segment.kind === 'literal') return segment.text === part
  return segment.kind === 'wildcard' && segment.regex.test(part)
}

function matchesAt(group: readonly Segment[], parts: readonly string[], at: number): boolean {
  for (let i = 0; i < group.length; i++) if (!segmentMatches(group[i] as Segment, parts[at + i] as string)) return false
  return true
}

/**
 * Whether the path's segments match. The ends are fixed; between `**`s each group has a fixed number of
 * segments, so placing each at its first fit is enough (as wildcardSource does within a segment), which keeps
 * a match to about path × pattern segment tests.
 */
function matchShape(shape: Shape, parts: readonly string[]): boolean {
  const { prefix, groups, suffix } = shape
  if (groups === undefined) return parts.length === prefix.length && matchesAt(prefix, parts, 0)
  const end = parts.length - suffix.length
  if (end < prefix.length || !matchesAt(prefix, parts, 0) || !matchesAt(suffix, parts, end)) return false
  let at = prefix.length
  for (const group of groups) {
    while (at + group.length <= end && !matchesAt(group, parts, at)) at++
    if (at + group.length > end) return false
    at += group.length
  }
  return true
}

/**
 * Compiles a glob over workspace-relative POSIX paths (`**`, `*`, `?`, `{a,b}`, `[abc]`); a leading `!` is a
 * literal here, negation being the caller's business. Throws a GlobError for a pattern over the size bounds.
 */
export function compileGlob(pattern: string): GlobMatcher {
  if (pattern.length > MAX_GLOB_LENGTH)
    throw new GlobError(
      `a pattern of ${pattern.length} characters (${shown(pattern)}) is longer than the ${MAX_GLOB_LENGTH} allowed; shorten it`
    )
  // `./x` and `/x` are written to mean the workspace's `x`, and paths never carry either prefix.
  const rooted = pattern.replace(/^(?:\.\/|\/)+/, '')
  const shapes = expandBraces(rooted, pattern).map((alternative) => toShape(toSegments(alternative)))
  return {
    test(path: string): boolean {
      const parts = path.split('/')
      return shapes.some((shape) => matchShape(shape, parts))
    }
  }
}

/** What is wrong with a pattern's size, or undefined when it compiles. */
export function globProblem(pattern: string): string | undefined {
  try {
    compileGlob(pattern)
    return undefined
  } catch (error) {
    if (error instanceof GlobError) return error.message
    throw error
  }
}

/** Whether a workspace-relative POSIX path matches at least one of the globs. */
export function matchesAny(path: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => compileGlob(pattern).test(path))
}

// Enough of a pattern to recognise it in a message, never the whole of a huge one.
function shown(pattern: string): string {
  return JSON.stringify(pattern.length > 60 ? `${pattern.slice(0, 60)}…` : pattern)
}
