/**
 * The one matcher behind every `*` in this action's patterns (function names in `functions`/`exclude`, path
 * segments in `annotate-files`), built so that a match costs about text × pattern steps whatever the pattern.
 */

/**
 * The RegExp source, unanchored, of a wildcard pattern split at its stars: `pieces[0]`, then a run of `star`
 * characters, then `pieces[1]`, and so on; each piece a list of sources that each match exactly one character.
 *
 * A plain translation (`a.*b.*c`) backtracks exponentially in the number of stars: `a*a*a*a*a*a*a*a*a*a*b` took
 * minutes on a 64-character text. Every piece between two stars has a fixed length, so placing each at its
 * leftmost occurrence is enough; the lookahead and backreference make that placement atomic (JavaScript has no
 * atomic groups). The source holds capturing groups numbered from 1, so it must stand alone in its RegExp, and
 * the one-character sources must hold none.
 */
export function wildcardSource(pieces: readonly (readonly string[])[], star: string): string {
  const [first, ...rest] = pieces.map((piece) => piece.join(''))
  let source = first ?? ''
  const last = rest.pop()
  rest.forEach((middle, index) => {
    source += `(?=(${star}*?${middle}))\\${index + 1}`
  })
  if (last !== undefined) source += `${star}*${last}`
  return source
}

/** A character as a RegExp source that matches exactly it. */
const literal = (character: string): string => character.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')

/**
 * An IAM wildcard pattern (Action, Resource) as an anchored RegExp: `*` is any run of characters, `:` and `/`
 * included, `?` any one character, everything else itself. Built on wildcardSource, so a pattern of many stars
 * costs linear time instead of the exponential backtracking of a plain `.*` translation.
 */
export function iamWildcardRegExp(pattern: string, ignoreCase: boolean): RegExp {
  const pieces = pattern.split('*').map((piece) => [...piece].map((c) => (c === '?' ? '.' : literal(c))))
  return new RegExp(`^${wildcardSource(pieces, '.')}$`, ignoreCase ? 'is' : 's')
}
