import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import {
  annotationText,
  annotationTitle,
  logLines,
  markdownBlock,
  markdownCode,
  markdownLink,
  markdownText,
  mayBeCommand,
  plainText,
  tailOf
} from '../../../src/core/outsideText.js'
import { createRedactor } from '../../../src/core/redact.js'
import { readAsRunner } from '../../support/runnerCommands.js'

const ZWSP = '\u200b'

/** Pieces that mean something to Markdown, HTML, GitHub's linker, a terminal or the runner, and plain text. */
const hostilePiece = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '[',
      ']',
      '(',
      ')',
      '](',
      '<',
      '>',
      '&',
      '&amp;',
      '&#64;',
      '#',
      '# ',
      '@',
      '`',
      '```',
      '*',
      '**',
      '_',
      '__',
      '~~',
      '|',
      '\\',
      '$',
      '!',
      '\n',
      '\r',
      '\r\n',
      ' ',
      '    ',
      '\t',
      '\u00a0',
      '\u2028',
      '\u0085',
      '\u001b[31m',
      '\u001b]8;;http://e\u0007',
      '\u202e',
      '::',
      '::error::',
      '##[',
      '##[warning]',
      'http://',
      'HTTPS://',
      'www.',
      'WWW.',
      'GH-',
      'gh-',
      '1.',
      '2)',
      '-',
      '+',
      '=',
      '---',
      'octocat',
      'org/team',
      '12',
      'x',
      'é',
      '😀',
      ZWSP
    )
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) }
)
const hostileText = fc.array(hostilePiece, { maxLength: 24 }).map((pieces) => pieces.join(''))

/** What a reader sees of markdownText's output: backslash escapes and entities undone, its zero-width spaces gone. */
function shown(markdown: string): string {
  return markdown
    .replace(/\\(.)/gu, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replaceAll(ZWSP, '')
}

/** Whether the character at `index` follows an odd number of backslashes, i.e. is escaped. */
function escapedAt(text: string, index: number): boolean {
  let count = 0
  for (let i = index - 1; i >= 0 && text[i] === '\\'; i--) count++
  return count % 2 === 1
}

describe('plainText', () => {
  it('drops terminal escapes, control characters and bidirectional overrides, and makes every line break \\n', () => {
    expect(
      plainText(
        '\u001b[1;31mred\u001b[0m a\rb\r\nc\u2028d\u0085e \u001b]8;;http://x\u0007link\u001b]8;;\u0007 \u202eevil\u0000\u007f\u009b2J'
      )
    ).toBe('red a\nb\nc\nd\ne link evil')
  })

  it('keeps tabs, newlines and ordinary Unicode', () => {
    expect(plainText('a\tb\nç 😀')).toBe('a\tb\nç 😀')
  })

  it('redacts before it cuts, so that no part of a secret is left at the cut', () => {
    const secret = 'ck_ingest_9f8e7d6c5b4a'
    const redact = createRedactor([secret])
    const cut = plainText(`${'x'.repeat(10)}${secret}`, { max: 16, redact })
    expect(cut).toBe(`${'x'.repeat(10)}***`)
    const cutLate = plainText(`${'x'.repeat(10)}${secret}${'y'.repeat(40)}`, { max: 16, redact })
    expect(cutLate).toBe(`${'x'.repeat(10)}***yy…`)
    expect(cutLate).not.toContain('ck_')
  })

  it('cuts by code point: no half of a surrogate pair is left', () => {
    expect(plainText('😀😀😀😀', { max: 3 })).toBe('😀😀…')
  })
})

describe('tailOf', () => {
  it('keeps the last lines, at most the given characters', () => {
    expect(tailOf('1\n2\n3\n4\n', 2, 100)).toBe('3\n4')
    const long = tailOf(`start\n${'x'.repeat(50)}END`, 5, 20)
    expect([...long]).toHaveLength(20)
    expect(long.startsWith('…')).toBe(true)
    expect(long.endsWith('END')).toBe(true)
  })
})

describe('markdownText', () => {
  it.each([
    ['a link', '[reviewed](https://evil.example/x)', ['](', 'https://']],
    ['an image', '![x](https://evil.example/x.png)', ['](', '![']],
    ['a heading', '# ✅ reviewed by security', []],
    ['HTML', '<img src=x onerror=alert(1)><details open>', ['<']],
    ['a mention', 'ping @octocat and @github/security', ['@o', '@g']],
    ['an issue reference', 'fixes #12 and GH-34 and org/repo#5', ['#1', 'GH-3', '#5']],
    ['a bare URL', 'see www.evil.example or http://evil.example', ['www.', '://']],
    ['a table breaker', 'a | b || c', []],
    ['math', '$\\huge{REVIEWED}$', []],
    ['a line break', 'first\n# second\n\n- third', ['\n']]
  ])('makes %s inert', (_what, text, absent) => {
    const markdown = markdownText(text)
    for (const fragment of absent) expect(markdown).not.toContain(fragment)
    expect(markdown).not.toMatch(/^\s*[#>\-+=*]/)
    expect(markdown).not.toMatch(/(?<!\\)\|/)
    expect(markdown).not.toMatch(/(?<!\\)\$/)
    expect(shown(markdown)).toBe(text.replace(/\s+/g, ' ').trim())
  })

  it('leaves plain names and intraword underscores as they are', () => {
    expect(markdownText('orders-api')).toBe('orders-api')
    expect(markdownText('ROTEL_OTLP_EXPORTER_ENDPOINT, us-east-1/x86_64 (v0.1.41-alpha)')).toBe(
      'ROTEL_OTLP_EXPORTER_ENDPOINT, us-east-1/x86_64 (v0.1.41-alpha)'
    )
    expect(markdownText('_emphasis_ and __strong__')).toBe('\\_emphasis\\_ and \\_\\_strong\\_\\_')
  })

  it('escapes list and heading starts', () => {
    expect(markdownText('1. one')).toBe('1\\. one')
    expect(markdownText('2) two')).toBe('2\\) two')
    expect(markdownText('- item')).toBe('\\- item')
    expect(markdownText('===')).toBe('\\===')
    expect(markdownText('> quote')).toBe('&gt; quote')
  })

  it('bounds the text, redacted first', () => {
    const secret = 'hunter2_[secret]'
    const markdown = markdownText(`token ${secret} ${'z'.repeat(500)}`, { max: 50, redact: createRedactor([secret]) })
    expect(markdown).not.toContain('hunter2')
    expect(markdown.startsWith('token \\*\\*\\* zzz')).toBe(true)
    expect([...shown(markdown)]).toHaveLength(50)
  })

  it('renders any text as one line of inert Markdown that shows the same text', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const markdown = markdownText(text)
        expect(markdown).not.toMatch(/[\n\r\u2028\u2029\u0085\u001b\u0000-\u0008]/)
        expect(markdown).not.toContain('<')
        expect(markdown).not.toContain('](')
        expect(markdown).not.toMatch(/^[\s#>\-+=*|]|^\d+[.)]/)
        expect(markdown).not.toMatch(/@[\p{L}\p{N}_]/u)
        expect(markdown).not.toMatch(/#[\p{L}\p{N}]/u)
        expect(markdown).not.toMatch(/:\/\/|(?<![\p{L}\p{N}])(?:www\.|gh-)/iu)
        expect(markdown).not.toMatch(/&(?!amp;|lt;|gt;)/)
        for (let i = 0; i < markdown.length; i++)
          if ('[]`*~|$'.includes(markdown.charAt(i))) expect(escapedAt(markdown, i)).toBe(true)
        expect(shown(markdown).replaceAll(ZWSP, '')).toBe(
          plainText(text).replace(/\s+/g, ' ').trim().replaceAll(ZWSP, '')
        )
      }),
      { numRuns: 500 }
    )
  })
})

describe('markdownCode', () => {
  it('shows an ARN as code', () => {
    expect(markdownCode('arn:aws:lambda:us-east-1:1:layer:x_y-z:3')).toBe('`arn:aws:lambda:us-east-1:1:layer:x_y-z:3`')
    expect(markdownCode('rotel-extension-amd64-alpha:40')).toBe('`rotel-extension-amd64-alpha:40`')
  })

  it('shows anything else as escaped text', () => {
    expect(markdownCode('a|b')).toBe('a\\|b')
    expect(markdownCode('x`y')).toBe('x\\`y')
    expect(markdownCode('<img src=x>')).toBe('&lt;img src=x&gt;')
    expect(markdownCode('')).toBe('')
  })

  it('never lets the text end the code span, the cell or the line', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const code = markdownCode(text)
        expect(code).not.toMatch(/[\n\r]/)
        if (!code.startsWith('`')) expect(code).toBe(markdownText(text))
        else expect(code.slice(1, -1)).toMatch(/^[^`|<>@#&\s]+$/)
      }),
      { numRuns: 300 }
    )
  })
})

describe('markdownBlock', () => {
  const decode = (html: string): string =>
    html.replace(/&#x([0-9a-f]+);/g, (_, code: string) => String.fromCharCode(parseInt(code, 16)))

  it('shows a log tail in <pre>, every character that means something as an entity', () => {
    const tail = 'ok\n</pre><img src=x>\n\n# heading @octocat & [x](y) ::error::z\n```'
    const block = markdownBlock(tail)
    expect(block).toBe(
      '<pre>ok\n&#x3c;/pre&#x3e;&#x3c;img src=x&#x3e;\n\n&#x23; heading &#x40;octocat &#x26; &#x5b;x&#x5d;(y) &#x3a;&#x3a;error&#x3a;&#x3a;z\n&#x60;&#x60;&#x60;</pre>'
    )
    expect(decode(block.slice(5, -6))).toBe(tail)
  })

  it('keeps any text inside the block, shown as it came', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const block = markdownBlock(text)
        expect(block.startsWith('<pre>') && block.endsWith('</pre>')).toBe(true)
        const inside = block.slice(5, -6)
        expect(inside.replace(/&#x[0-9a-f]+;/g, '')).not.toMatch(/[<>#@[\]:`~|&\r\u001b]/)
        expect(inside).not.toMatch(/&(?!#x[0-9a-f]+;)/)
        expect(decode(inside)).toBe(plainText(text).replace(/\t/g, '    ').trimEnd())
      }),
      { numRuns: 300 }
    )
  })
})

describe('markdownLink', () => {
  it('percent-encodes what would end the link and drops credentials', () => {
    expect(markdownLink('search', 'https://user:pw@hyperdx.example/search?q=a)b|c [d]')).toBe(
      '[search](https://hyperdx.example/search?q=a%29b%7Cc%20%5Bd%5D)'
    )
  })

  it('shows only the label for a URL that is not http(s)', () => {
    expect(markdownLink('search', 'javascript:alert(1)')).toBe('search')
    expect(markdownLink('search', 'not a url')).toBe('search')
  })
})

describe('annotations', () => {
  it('strip terminal escapes and control characters from messages, and bound them', () => {
    expect(annotationText('\u001b[31mfailed\u001b[0m\u0007 badly\r\nnext')).toBe('failed badly\nnext')
    expect([...annotationText('x'.repeat(10_000))]).toHaveLength(4000)
  })

  it('keep titles on one line', () => {
    expect(annotationTitle('fn\n::error::x\u001b[2K: drifted')).toBe('fn ::error::x: drifted')
  })
})

describe('logLines', () => {
  const HOSTILE = ['::error::x', '  ::add-mask::y', '::stop-commands::z', '##[warning]w', 'text ##[error]mid-line']
  const ours = '::warning::the action still speaks'

  it('writes hostile lines so that the runner runs none of them, and runs the next command of the action', () => {
    for (const line of HOSTILE) {
      const written = [...logLines(['Log tail:', `    ${line}`]), ours].join('\n')
      const reading = readAsRunner(written)
      expect(reading.commands).toEqual([{ command: 'warning', data: 'the action still speaks', line: ours }])
      expect(reading.stopped).toBe(false)
      expect(written).toContain(line)
    }
  })

  it('catches commands behind any white space the runner trims and any line break it reads', () => {
    for (const text of [
      '\u00a0::error::nbsp',
      '\u3000::error::ideographic',
      'a\r::error::cr',
      'a\u2028::error::ls',
      'a\u0085::error::nel'
    ])
      expect(readAsRunner([...logLines([text]), ours].join('\n')).commands).toHaveLength(1)
  })

  it('adds no block when no line could be a command', () => {
    expect(logLines(['Updated (revision 3).', 'a:: b', '## heading [x]'])).toEqual([
      'Updated (revision 3).',
      'a:: b',
      '## heading [x]'
    ])
    expect(mayBeCommand('a:: b')).toBe(false)
    expect(mayBeCommand(' \t::x::')).toBe(true)
    expect(mayBeCommand('x ##[y')).toBe(true)
  })

  it('takes a fresh token per block, never one the text holds', () => {
    const guessed = 'c0ffee00-1111-2222-3333-444455556666'
    const lines = logLines([`::${guessed.toUpperCase()}::`, '::error::after the guessed token'], () => guessed)
    expect(lines[0]).not.toContain(guessed)
    expect(readAsRunner([...lines, ours].join('\n')).commands).toHaveLength(1)
    const first = logLines(['::error::a'])[0]
    expect(logLines(['::error::a'])[0]).not.toBe(first)
  })

  it('lets no text run a command or silence the action, and keeps the text', () => {
    fc.assert(
      fc.property(fc.array(hostileText, { maxLength: 6 }), (texts) => {
        const lines = logLines(texts)
        const reading = readAsRunner([...lines, ours].join('\n'))
        expect(reading.commands.map(({ command }) => command)).toEqual(['warning'])
        expect(reading.stopped).toBe(false)
        const data = lines[0]?.startsWith('::stop-commands::') ? lines.slice(1, -1) : lines
        expect(data).toEqual(texts.flatMap((text) => plainText(text).split('\n')))
      }),
      { numRuns: 500 }
    )
  })
})
