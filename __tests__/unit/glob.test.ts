import { describe, expect, it } from '@jest/globals'
import { globToRegExp, matchesAny } from '../../src/glob.js'

describe('globToRegExp', () => {
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
    expect(globToRegExp(pattern).test(path)).toBe(expected)
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
