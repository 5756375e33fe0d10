/** Every relative link and anchor of the documentation leads somewhere: README.md, docs/*.md, CONTRIBUTING.md. */
import { describe, expect, it } from '@jest/globals'
import { readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { anchorsOf, brokenLinksOf, relativeLinksOf, slugOf } from '../support/markdown.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const documents = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`)
]

describe('GitHub anchors', () => {
  it.each([
    ["The extension's cost", 'the-extensions-cost'],
    ['Safe rollouts: canary and failure-tolerance', 'safe-rollouts-canary-and-failure-tolerance'],
    ['`report-file`', 'report-file'],
    ['Try it locally, and run the tests', 'try-it-locally-and-run-the-tests'],
    ['Deploy: apply after the functions are deployed', 'deploy-apply-after-the-functions-are-deployed']
  ])('%s → #%s', (heading, anchor) => {
    expect(slugOf(heading)).toBe(anchor)
  })

  it('numbers a repeated heading, and reads no heading inside a code block', () => {
    const anchors = anchorsOf('# Modes\n\n## Modes\n\n```bash\n# not a heading\n```\n')
    expect([...anchors]).toEqual(['modes', 'modes-1'])
  })
})

describe('the link check', () => {
  const file = join(root, 'docs', 'sample.md')
  it('finds a missing file, a missing anchor and a missing anchor of its own page', () => {
    const text =
      '# Sample\n\n[a](inputs.md#no-such-input) [b](nowhere.md) [c](#sample) [d](#nothing) [e](inputs.md#mode)\n'
    expect(brokenLinksOf(file, text)).toEqual([
      `${file}:3 → inputs.md#no-such-input: no heading with that anchor`,
      `${file}:3 → nowhere.md: no such file`,
      `${file}:3 → #nothing: no heading with that anchor`
    ])
  })

  it('leaves URLs, code spans and code blocks alone', () => {
    const text = '[x](https://example.com/a#b) `[y](z.md)`\n\n```md\n[w](v.md)\n```\n'
    expect(relativeLinksOf(text)).toEqual([])
  })
})

describe.each(documents)('%s', (document) => {
  it('has only links to files and headings that exist', () => {
    expect(brokenLinksOf(join(root, document))).toEqual([])
  })
})
