import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import {
  compileGlob,
  GlobError,
  globProblem,
  MAX_BRACE_ALTERNATIVES,
  MAX_GLOB_LENGTH,
  matchesAny
} from '../../../src/core/glob.js'
import { DEFAULT_ANNOTATE_FILES } from '../../../src/github/layerReferences.js'

describe('compileGlob', () => {
  it.each([
    // `**/` is any number of directories, none included.
    ['**/*.yml', 'template.yml', true],
    ['**/*.yml', 'a/b/template.yml', true],
    ['**/*.yml', 'template.yaml', false],
    ['**/template.yaml', 'template.yaml', true],
    ['**/template.yaml', 'infra/sam/template.yaml', true],
    ['**/template.yaml', 'infra/my-template.yaml', false],
    ['a/**/b.tf', 'a/b.tf', true],
    ['a/**/b.tf', 'a/x/y/b.tf', true],
    ['a/**/b.tf', 'ab.tf', false],
    ['a/**/b.tf', 'x/a/b.tf', false],
    ['dist/**', 'dist/index.js', true],
    ['dist/**', 'dist/a/b/c.js', true],
    ['dist/**', 'dist', true],
    ['dist/**', 'distant/index.js', false],
    ['**/dist/**', 'packages/api/dist/template.yaml', true],
    ['**/dist/**', 'packages/api/distinct/template.yaml', false],
    ['**', 'any/thing/at/all.txt', true],
    // Several `**`: the directories between them are in order and never shared.
    ['**/a/**/a/**', 'a', false],
    ['**/a/**/a/**', 'x/a/y/a/z', true],
    ['**/a/b/**/b/**', 'a/b', false],
    ['**/a/b/**/b/**', 'a/b/b', true],
    ['x/**/a*/**/b?/y', 'x/ab/bc/y', true],
    ['x/**/a*/**/b?/y', 'x/bc/ab/y', false],
    // `*` stays within one segment.
    ['*.tf', 'main.tf', true],
    ['*.tf', 'a/b.tf', false],
    ['*.tf', 'main.tf.json', false],
    ['lib/*.ts', 'lib/stack.ts', true],
    ['lib/*.ts', 'lib/constructs/stack.ts', false],
    ['*', '.hidden', true],
    // `**` inside a segment is just `*`.
    ['a**.ts', 'abc.ts', true],
    ['a**.ts', 'a/b.ts', false],
    ['?.tf', 'a.tf', true],
    ['?.tf', 'ab.tf', false],
    ['?.tf', '/.tf', false],
    // Alternatives.
    ['{serverless,sls}.yml', 'serverless.yml', true],
    ['{serverless,sls}.yml', 'sls.yml', true],
    ['{serverless,sls}.yml', 'serverless,sls.yml', false],
    ['{serverless,sls}.yml', 'other.yml', false],
    ['**/serverless.{yml,yaml,ts}', 'svc/serverless.ts', true],
    ['**/serverless.{yml,yaml,ts}', 'svc/serverless.js', false],
    ['**/*.{tf,tfvars}.json', 'infra/prod.tfvars.json', true],
    ['template{,.prod}.yaml', 'template.yaml', true],
    ['template{,.prod}.yaml', 'template.prod.yaml', true],
    ['{**/a,b}.txt', 'x/y/a.txt', true],
    ['{**/a,b}.txt', 'x/b.txt', false],
    ['{a,{b,c}d}.txt', 'cd.txt', true],
    ['{a,{b,c}d}.txt', 'c.txt', false],
    ['x{y.txt', 'x{y.txt', true],
    // Classes.
    ['file[abc].ts', 'fileb.ts', true],
    ['file[abc].ts', 'filed.ts', false],
    ['file[a-c].ts', 'fileb.ts', true],
    ['file[!a-c].ts', 'fileb.ts', false],
    ['file[!a-c].ts', 'filed.ts', true],
    ['file[!a-c].ts', 'file/.ts', false],
    ['file[^a].ts', 'fileb.ts', true],
    ['file[]a].ts', 'file].ts', true],
    ['file[a\\-c].ts', 'fileb.ts', false],
    ['file[a\\-c].ts', 'file-.ts', true],
    ['file[.ts', 'file[.ts', true],
    // A `/` inside a class neither splits the pattern nor matches the separator.
    ['a[/]b', 'a/b', false],
    ['a[!x]b', 'a/b', false],
    // Regular-expression characters are literal.
    ['a.b', 'axb', false],
    ['a+b(c)|d$', 'a+b(c)|d$', true],
    ['\\*.ts', '*.ts', true],
    ['\\*.ts', 'a.ts', false],
    // Leading `./` or `/` means the workspace root; `!` is not special here.
    ['./template.yaml', 'template.yaml', true],
    ['/main.tf', 'main.tf', true],
    ['!main.tf', 'main.tf', false],
    ['!main.tf', '!main.tf', true]
  ])('%s against %s is %s', (pattern, path, expected) => {
    expect(compileGlob(pattern).test(path)).toBe(expected)
  })
})

describe('matchesAny', () => {
  it.each([
    [['**/*.tf', '**/*.yml'], 'infra/main.tf', true],
    [['**/*.tf', '**/*.yml'], 'serverless.yml', true],
    [['**/*.tf', '**/*.yml'], 'serverless.yaml', false],
    [[], 'main.tf', false]
  ])('%j against %s is %s', (patterns, path, expected) => {
    expect(matchesAny(path, patterns)).toBe(expected)
  })
})

/** What a glob means, said the slow and obvious way: every split tried. For short inputs only. */
function oracle(pattern: readonly string[], path: readonly string[]): boolean {
  const segment = (p: string, s: string): boolean => {
    if (p === '') return s === ''
    if (p[0] === '*') return [...Array(s.length + 1).keys()].some((k) => segment(p.slice(1), s.slice(k)))
    if (s === '') return false
    const ok = p[0] === '?' || p[0] === s[0]
    return ok && segment(p.slice(1), s.slice(1))
  }
  if (pattern.length === 0) return path.length === 0
  const [first, ...rest] = pattern as [string, ...string[]]
  if (first === '**') return oracle(rest, path) || (path.length > 0 && oracle(pattern, path.slice(1)))
  return path.length > 0 && segment(first, path[0] as string) && oracle(rest, path.slice(1))
}

describe('compileGlob against an obvious matcher', () => {
  it('agrees on any pattern of *, ?, ** and letters, and any path', () => {
    // Few distinct segments, so that literal ones meet their match often; random ones for the stars.
    const patternSegment = fc.oneof(
      fc.constant('**'),
      fc.constantFrom('a', 'b', 'ab', '*', 'a*'),
      fc
        .array(fc.constantFrom('a', 'b', '*', '?'), { minLength: 1, maxLength: 5 })
        .map((c) => c.join('').replace(/\*+/g, '*'))
    )
    const pathSegment = fc.oneof(
      fc.constantFrom('a', 'b', 'ab'),
      fc.array(fc.constantFrom('a', 'b'), { minLength: 1, maxLength: 5 }).map((c) => c.join(''))
    )
    fc.assert(
      fc.property(
        fc.array(patternSegment, { minLength: 1, maxLength: 6 }),
        fc.array(pathSegment, { minLength: 1, maxLength: 6 }),
        (pattern, path) => compileGlob(pattern.join('/')).test(path.join('/')) === oracle(pattern, path)
      ),
      { numRuns: 3000 }
    )
  })
})

describe('compileGlob on hostile paths and patterns', () => {
  // Generous: each took seconds to hours with a backtracking regular expression; here each is about a millisecond.
  const BOUND_MS = 200
  const timed = (pattern: string, path: string): { matched: boolean; ms: number } => {
    const started = performance.now()
    const matched = compileGlob(pattern).test(path)
    return { matched, ms: performance.now() - started }
  }

  it.each([
    ['*a*a*a*a*a*a*a*b', 'a'.repeat(200)],
    ['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(250)],
    ['**/*a*a*a*a*a*a*a*b', `${'a/'.repeat(100)}${'a'.repeat(200)}`],
    ['**/a/**/a/**/a/**/a/**/a/**/b', `${'a/'.repeat(200)}c`],
    ['**/*?*?*?*?*?*?*?*/x', `${'ab/'.repeat(60)}${'a'.repeat(200)}/y`],
    ['{*a*a*a*a*b,*a*a*a*a*c,**/*a*a*a*a*d}', `${'a/'.repeat(50)}${'a'.repeat(200)}`]
  ])('%s fails on a long path within the bound', (pattern, path) => {
    const { matched, ms } = timed(pattern, path)
    expect(matched).toBe(false)
    expect(ms).toBeLessThan(BOUND_MS)
  })

  it('still matches what those patterns should', () => {
    expect(compileGlob('*a*a*a*a*a*a*a*b').test(`${'a'.repeat(200)}b`)).toBe(true)
    expect(compileGlob('**/a/**/a/**/b').test(`${'a/'.repeat(200)}b`)).toBe(true)
  })

  it(`refuses a pattern standing for more than ${MAX_BRACE_ALTERNATIVES} alternatives, fast`, () => {
    // 2^8 alternatives are allowed; 2^9, and the 2^18 that once built a 5 MB regular expression, are not.
    expect(() => compileGlob('{a,b}'.repeat(8))).not.toThrow()
    expect(compileGlob('{a,b}'.repeat(8)).test('abababab')).toBe(true)
    for (const groups of [9, 18, 40]) {
      const started = performance.now()
      expect(() => compileGlob('{a,b}'.repeat(groups))).toThrow(GlobError)
      expect(performance.now() - started).toBeLessThan(BOUND_MS)
    }
    expect(globProblem('{a,b}'.repeat(18))).toMatch(
      /more than 256 alternatives .*write fewer groups, or split it over several lines/
    )
    // Nested groups count too.
    expect(globProblem('{{a,b},{c,d}}'.repeat(5))).toMatch(/more than 256 alternatives/)
  })

  it(`refuses a pattern over ${MAX_GLOB_LENGTH} characters, quoting only its start`, () => {
    expect(globProblem('a'.repeat(MAX_GLOB_LENGTH))).toBeUndefined()
    const problem = globProblem(`${'x'.repeat(MAX_GLOB_LENGTH)}*`)
    expect(problem).toMatch(
      new RegExp(`of ${MAX_GLOB_LENGTH + 1} characters .* longer than the ${MAX_GLOB_LENGTH} allowed`)
    )
    expect(problem?.length).toBeLessThan(200)
  })

  it('accepts every built-in annotate-files pattern', () => {
    for (const pattern of DEFAULT_ANNOTATE_FILES) expect(globProblem(pattern.replace(/^!/, ''))).toBeUndefined()
  })
})
