/**
 * The scanner of the hostile-input suite (__tests__/support/hostileScan.ts): each check finds what it
 * must (a secret in every form, a command the runner would run, markup that renders) and lets pass what
 * is safe (an add-mask command, a stop-commands block, code spans, escapes).
 */
import { describe, expect, it } from '@jest/globals'
import {
  type Channels,
  commandCanaries,
  commandsRun,
  findCommands,
  findForeignOutputs,
  findMarkup,
  findSecrets,
  markupCanaries,
  readLog,
  renderedLines,
  secretParts
} from '../support/hostileScan.js'

const SECRET = { label: 'the key', value: 'ck_live_Sc4nnerSecret"\\x' }
const channels = (partial: Partial<Channels>): Channels => ({
  stdout: '',
  stderr: '',
  summary: '',
  outputs: '',
  env: '',
  state: '',
  comments: [],
  ...partial
})

describe('secrets, in every form', () => {
  const embeddings: Array<[string, string]> = [
    ['raw', SECRET.value],
    ['JSON-escaped', JSON.stringify({ k: SECRET.value })],
    ['JSON-escaped twice', JSON.stringify(JSON.stringify({ k: SECRET.value }))],
    ['URL-encoded', `https://x.example/?k=${encodeURIComponent(SECRET.value)}`],
    ['form-encoded', new URLSearchParams({ k: `a b ${SECRET.value}` }).toString()],
    ['Markdown-escaped', SECRET.value.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&')]
  ]
  for (let offset = 0; offset < 6; offset++) {
    const embedded = Buffer.from(`${'u'.repeat(offset)}:${SECRET.value}:tail`)
    embeddings.push([`base64 at offset ${offset}`, `Basic ${embedded.toString('base64')}`])
    embeddings.push([`base64url at offset ${offset}`, embedded.toString('base64url')])
  }

  it.each(embeddings)('%s, in the summary', (form, text) => {
    const found = findSecrets(channels({ summary: `before ${text} after` }), [SECRET])
    expect(found.length).toBeGreaterThan(0)
    expect(found[0]).toMatch(/^step summary, line 1: the key, /)
  })

  it('names the channel: each file, each stream, each comment', () => {
    const found = findSecrets(
      channels({
        stderr: SECRET.value,
        outputs: `report<<x\n${SECRET.value}\nx`,
        env: SECRET.value,
        state: SECRET.value,
        comments: ['ok', SECRET.value]
      }),
      [SECRET]
    ).map((finding) => finding.split(',')[0])
    expect(new Set(found)).toEqual(
      new Set(['log (stderr)', 'outputs file', 'GITHUB_ENV file', 'GITHUB_STATE file', 'PR comment 2'])
    )
  })

  it("allows a secret only in the runner's own add-mask command, not in one inside a stop-commands block", () => {
    expect(findSecrets(channels({ stdout: `::add-mask::${SECRET.value}\nok` }), [SECRET])).toEqual([])
    const stopped = `::stop-commands::t0k\n::add-mask::${SECRET.value}\n::t0k::`
    expect(findSecrets(channels({ stdout: stopped }), [SECRET])).toEqual(['log (stdout), line 2: the key, raw'])
  })

  it('finds a cut-off excerpt through the parts of a secret', () => {
    const excerpt = '(Unexpected token, ..."{"token": PayL0ad-7b"... is not valid JSON)'
    expect(findSecrets(channels({ stdout: excerpt }), secretParts('the payload', 'PayL0ad-7b-Secret'))).toEqual([
      'log (stdout), line 1: the payload (characters 1–8), raw',
      'log (stdout), line 1: the payload (characters 2–9), raw',
      'log (stdout), line 1: the payload (characters 3–10), raw'
    ])
  })

  it('finds nothing in text without the secret', () => {
    expect(findSecrets(channels({ summary: 'ck_live_***', stdout: 'Sc4nner' }), [SECRET])).toEqual([])
  })
})

describe('workflow commands from outside', () => {
  it('finds every planted command, indented or legacy, unless inside a stop-commands block', () => {
    const planted = commandCanaries('u1')
    const found = findCommands(channels({ stdout: planted.join('\n') }))
    // Each line is a command (the last, stop-commands, then leaves the block open).
    expect(found.filter((f) => f.includes('from outside'))).toHaveLength(planted.length)
    expect(found.at(-1)).toMatch(/never ended/)

    const wrapped = ['::stop-commands::r4nd0m', ...planted, '::r4nd0m::', '::error title=fn::own'].join('\n')
    expect(findCommands(channels({ stdout: wrapped }))).toEqual([])
    expect(commandsRun(wrapped).map((line) => line.command)).toEqual(['stop-commands', 'resume-commands', 'error'])
  })

  it("a planted stop-commands silences the action's own annotations after it", () => {
    const log = ['START', '::stop-commands::HOSTILE-x', '::error title=fn::own', ''].join('\n')
    expect(commandsRun(log).filter((line) => line.command === 'error')).toEqual([])
    expect(readLog(log)[2]?.stopped).toBe(true)
  })

  it("lets the action's own annotation carry planted text as its escaped message, but not a legacy command anywhere in a line", () => {
    const own =
      '::error title=fn%3A rolled-back::fn: the test failed. Log tail:%0A::error::HOSTILE-u4%0A##[warning]HOSTILE-u4'
    expect(findCommands(channels({ stdout: own }))).toEqual([])
    expect(findCommands(channels({ stdout: 'Log tail: ##[warning]HOSTILE-u4 legacy' }))).toEqual([
      'log (stdout), line 1: the runner runs ::warning:: from outside: "Log tail: ##[warning]HOSTILE-u4 legacy"'
    ])
  })

  it('finds no command in plain or escaped text', () => {
    expect(
      findCommands(channels({ stdout: 'text ::error::HOSTILE-1\n%3A%3Aerror HOSTILE\n  : :error::HOSTILE' }))
    ).toEqual([])
  })

  it('outputs the action does not declare', () => {
    expect(findForeignOutputs('report<<d\n[]\nd\nchanged<<e\ntrue\ne\n', ['report', 'changed'])).toEqual([])
    expect(findForeignOutputs('report<<d\n[]\nd\nx=HOSTILE\n', ['report'])).toEqual([
      'outputs file: an output "x" the action does not declare'
    ])
  })
})

describe('markup from outside', () => {
  it('finds each planted canary as it is', () => {
    const found = findMarkup(channels({ summary: markupCanaries('u2').join('\n') }))
    expect(found.map((f) => f.replace(/ from outside.*/, '').replace(/^.*: /, ''))).toEqual([
      'a Markdown link or image',
      'a Markdown link or image',
      'an <img> tag',
      'a <details> block',
      'an @octocat mention',
      'a #1 reference',
      'a heading'
    ])
  })

  it('lets pass the same text escaped, or in code', () => {
    const escaped = [
      '\\[click HOSTILE-u3\\]\\(https://evil.example/u3\\)',
      '&lt;img src=x onerror=alert(1)&gt; &lt;details&gt;&lt;summary&gt;HOSTILE-u3',
      '`[click HOSTILE](https://evil.example)` `` <img src=x> ``',
      '@\u200Boctocat and `@octocat` and `#1` and &#35;1',
      '\\# ✅ reviewed HOSTILE-u3',
      '```',
      '# ✅ reviewed HOSTILE-u3',
      '![x](https://evil.example/HOSTILE.png)',
      '```'
    ].join('\n')
    expect(findMarkup(channels({ comments: [escaped] }))).toEqual([])
  })

  it("a planted fence closes the action's own, and what follows renders", () => {
    const text = ['```', 'tail', '```', '<img src=x>', '```'].join('\n')
    expect(findMarkup(channels({ summary: text }))).toEqual([
      expect.stringMatching(/^step summary, line 4: an <img> tag/)
    ])
  })

  it("ignores the action's own links and the marker comment", () => {
    const own =
      '<!-- rotel-clickstack-action:plan key=a -->\n<sub>From [this run](https://github.example/o/r/actions/runs/1).</sub>'
    expect(findMarkup(channels({ comments: [own] }))).toEqual([])
    expect(renderedLines('a `b` c')).toEqual([[1, 'a     c']])
  })
})
