/**
 * Fleets: `functions` may hold glob patterns (`orders-*`), resolved against ListFunctions in the
 * regions given, and `exclude` removes functions from what the patterns select. Parsing is pure (here), so
 * every input problem is found before any AWS call; resolving (aws/functionListing.ts) lists each region once.
 */
import { splitList } from './inputText.js'
import { arnLocationProblem } from './awsPartitions.js'
import { messageOf } from './errors.js'
import { wildcardSource } from './wildcard.js'
import { FUNCTION_ARN_PARTS } from './arns.js'

/** A pattern from `functions`, with where to look for the functions it may match. */
export interface FunctionPattern {
  /** What the user wrote, for messages. */
  readonly given: string
  /** Tests a function name; anchored. */
  readonly regex: RegExp
  /** The regions to list: those of aws-region, or the one region of an ARN pattern. */
  readonly regions: readonly string[]
  /** Set for an ARN pattern: only that account's functions match. */
  readonly account: string | undefined
}

/** What `functions` and `exclude` say, read without calling AWS. */
export interface Selection {
  /** The items that are not patterns, as written: config reads them as names or ARNs. */
  readonly names: string[]
  readonly patterns: FunctionPattern[]
  /** Each tests a function name or a function ARN; a function is excluded when any matches either. */
  readonly excludes: RegExp[]
  readonly problems: string[]
}

const NAME_CHAR = '[A-Za-z0-9_-]'
const NAME_CHAR_TEST = /^[A-Za-z0-9_-]$/
const MAX_NAME_LENGTH = 64
/** A function ARN is at most 140 characters (Lambda's FunctionName); a pattern, with its classes, at most this. */
const MAX_ITEM_LENGTH = 256
/** Items per list: every named function is read once, and a run has a job's time. */
const MAX_ITEMS: Readonly<Record<string, number>> = { functions: 1000, exclude: 200 }

/** Tells whether a `functions` or `exclude` item is a pattern: it holds `*`, `?` or `[`. */
export function isFunctionPattern(item: string): boolean {
  return /[*?[]/.test(item)
}

/** Turns a glob over function names into an anchored RegExp; throws an Error saying what is wrong with the pattern. */
export function functionPatternToRegExp(pattern: string): RegExp {
  return new RegExp(`^${globSource(pattern)}$`)
}

/**
 * The RegExp source of a name glob, unanchored. `*` is any run of name characters, empty included;
 * `?` is one; `[abc]`, `[a-z]` and the negations `[!abc]`, `[^abc]` are one name character of (or
 * not of) the class. wildcardSource keeps a match to about names × pattern steps.
 */
function globSource(pattern: string): string {
  if (pattern === '') throw new Error('it is empty')
  // The pieces between stars, each a list of one-character sources.
  const pieces: string[][] = [[]]
  let minLength = 0
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i] as string
    if (c === '*') {
      while (pattern[i + 1] === '*') i++
      pieces.push([])
      i++
      continue
    }
    const piece = pieces[pieces.length - 1] as string[]
    if (c === '?') {
      piece.push(NAME_CHAR)
      i++
    } else if (c === '[') {
      const { source, end } = classAt(pattern, i)
      piece.push(source)
      i = end
    } else if (NAME_CHAR_TEST.test(c)) {
      // "-" is the only name character that means something in a RegExp, and only inside a class.
      piece.push(c)
      i++
    } else {
      throw new Error(
        `"${c}" cannot be in a function name (names are letters, digits, - and _; patterns add *, ? and [...])`
      )
    }
    minLength++
  }
  if (minLength > MAX_NAME_LENGTH)
    throw new Error(`it needs at least ${minLength} characters, and a function name has at most ${MAX_NAME_LENGTH}`)

  return wildcardSource(pieces, NAME_CHAR)
}

/** Reads the class that opens at `start`, returning its RegExp source and the index after its `]`. */
function classAt(pattern: string, start: number): { source: string; end: number } {
  const close = pattern.indexOf(']', start + 1)
  if (close < 0) throw new Error(`the "[" at character ${start + 1} is never closed by "]"`)
  let body = pattern.slice(start + 1, close)
  const negated = body.startsWith('!') || body.startsWith('^')
  if (negated) body = body.slice(1)
  if (body === '') throw new Error(`the class "${pattern.slice(start, close + 1)}" is empty`)
  const members: string[] = []
  for (let j = 0; j < body.length; j++) {
    const from = body[j] as string
    if (!NAME_CHAR_TEST.test(from))
      throw new Error(
        `the class "${pattern.slice(start, close + 1)}" holds "${from}", which cannot be in a function name`
      )
    const to = body[j + 2]
    // A "-" first or last is the character itself, as in shell globs.
    if (body[j + 1] === '-' && to !== undefined) {
      if (!NAME_CHAR_TEST.test(to))
        throw new Error(
          `the class "${pattern.slice(start, close + 1)}" holds "${to}", which cannot be in a function name`
        )
      if (to < from)
        throw new Error(
          `the range "${from}-${to}" in "${pattern.slice(start, close + 1)}" runs backwards; write "${to}-${from}"`
        )
      members.push(`${escapeInClass(from)}-${escapeInClass(to)}`)
      j += 2
    } else {
      members.push(escapeInClass(from))
    }
  }
  const set = `[${members.join('')}]`
  // A range such as 0-z spans punctuation too: the lookahead keeps the class to name characters.
  const source = negated ? `(?!${set})${NAME_CHAR}` : `(?=${NAME_CHAR})${set}`
  return { source, end: close + 1 }
}

function escapeInClass(c: string): string {
  return c === '-' ? '\\-' : c
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

interface ParsedArn {
  partition: string
  region: string
  account: string
  name: string
}

/**
 * Splits a function ARN whose name may be a pattern; any other part holding a pattern, or a
 * malformed ARN, is a problem for `inputName`.
 */
function parseArnItem(inputName: string, given: string): ParsedArn | string {
  const match = FUNCTION_ARN_PARTS.exec(given)
  if (!match)
    return `${inputName}: "${given}" is not a Lambda function ARN; write arn:aws:lambda:REGION:ACCOUNT:function:NAME, where NAME may be a pattern such as orders-*.`
  const [, partition, region, account, name, qualifier] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined
  ]
  if (isFunctionPattern(region))
    return `${inputName}: "${given}" has a pattern in its region, which is not supported; give the plain pattern (${name}) and list the regions in aws-region instead.`
  if (isFunctionPattern(account) || isFunctionPattern(partition))
    return `${inputName}: "${given}" has a pattern outside the function name; only the name part of an ARN may be a pattern.`
  if (qualifier !== undefined)
    return `${inputName}: "${given}" names a version or alias (:${qualifier}); only the function itself can be selected: drop ":${qualifier}".`
  const location = arnLocationProblem(partition, region)
  if (location) return `${inputName}: "${given}" ${location}.`
  if (!/^\d{12}$/.test(account))
    return `${inputName}: "${given}" names the account "${account}", which is not a 12-digit AWS account ID.`
  return { partition, region, account, name }
}

/** Splits `functions` into names and patterns and reads `exclude`, finding every problem without calling AWS. */
export function parseSelection(input: { functions: string; exclude: string; regions: readonly string[] }): Selection {
  const problems: string[] = []
  const names: string[] = []
  const patterns: FunctionPattern[] = []
  const regions = [...new Set(input.regions.map((region) => region.trim()).filter((region) => region !== ''))]

  for (const given of boundedList('functions', input.functions, problems)) {
    if (!isFunctionPattern(given)) {
      names.push(given)
      continue
    }
    if (patterns.some((pattern) => pattern.given === given)) continue
    if (given.startsWith('arn:')) {
      const arn = parseArnItem('functions', given)
      if (typeof arn === 'string') {
        problems.push(arn)
        continue
      }
      const regex = compile('functions', given, arn.name, problems)
      if (regex) patterns.push({ given, regex, regions: [arn.region], account: arn.account })
      continue
    }
    const regex = compile('functions', given, given, problems)
    if (!regex) continue
    if (regions.length === 0) {
      problems.push(
        `functions: the pattern "${given}" needs regions to look in; list them in aws-region (e.g. us-east-1, eu-west-1), or give an ARN pattern such as arn:aws:lambda:us-east-1:123456789012:function:${given}.`
      )
      continue
    }
    patterns.push({ given, regex, regions, account: undefined })
  }

  const excludes: RegExp[] = []
  for (const given of boundedList('exclude', input.exclude, problems)) {
    if (given.startsWith('arn:')) {
      const arn = parseArnItem('exclude', given)
      if (typeof arn === 'string') {
        problems.push(arn)
        continue
      }
      const name = compileSource('exclude', given, arn.name, problems)
      if (name === undefined) continue
      const prefix = `arn:${arn.partition}:lambda:${arn.region}:${arn.account}:function:`
      excludes.push(new RegExp(`^${escapeRegExp(prefix)}${name}$`))
    } else {
      const regex = compile('exclude', given, given, problems)
      if (regex) excludes.push(regex)
    }
  }

  // Naming a function and excluding it at once leaves its fate to the reader: make the user choose.
  for (const given of names) {
    const name = given.startsWith('arn:') ? given.slice(given.lastIndexOf(':') + 1) : given
    if (excludes.some((exclude) => exclude.test(given) || exclude.test(name)))
      problems.push(
        `functions names ${given} and exclude excludes it; remove it from one of the two (exclude only narrows what patterns select).`
      )
  }

  return { names, patterns, excludes, problems }
}

/** The items of a list input, less those too long to be a name or pattern; too many items is a problem too. */
function boundedList(inputName: string, value: string, problems: string[]): string[] {
  const items = splitList(value)
  const most = MAX_ITEMS[inputName] ?? 1000
  if (items.length > most)
    problems.push(
      `${inputName} lists ${items.length} items and takes at most ${most}; select the functions with patterns such as orders-*.`
    )
  return items.filter((item, index) => {
    if (item.length <= MAX_ITEM_LENGTH) return true
    problems.push(
      `${inputName}: item ${index + 1} is ${item.length} characters long; a function ARN has at most 140 and a pattern may have at most ${MAX_ITEM_LENGTH}.`
    )
    return false
  })
}

function compile(inputName: string, given: string, glob: string, problems: string[]): RegExp | undefined {
  const source = compileSource(inputName, given, glob, problems)
  return source === undefined ? undefined : new RegExp(`^${source}$`)
}

function compileSource(inputName: string, given: string, glob: string, problems: string[]): string | undefined {
  try {
    return globSource(glob)
  } catch (error) {
    problems.push(`${inputName}: "${given}" is not a usable function name pattern: ${messageOf(error)}.`)
    return undefined
  }
}
