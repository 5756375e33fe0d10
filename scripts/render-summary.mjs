// Renders the job summary of sample runs (scripts/summary-samples.mjs) as GitHub would show it, 1,000 px
// wide, and screenshots each with headless Chromium, so that a change to src/core/summary*.ts is looked at:
// nothing scrolls sideways, failures come first, the words read.
//   node scripts/render-summary.mjs <out dir> [apply plan check remove failed]
// Writes <name>.md, <name>.html, <name>.png (as GitHub shows it) and <name>-open.png (every <details>
// open) for each sample, and says of each whether it is wider than the page (the exit status is 1 if so). Needs Node 24 (it loads src/ as TypeScript; an older node re-runs it under the project's
// pinned one) and Chromium (`chromium` on PATH, or CHROMIUM=/path/to/it).
// The Markdown to HTML here covers the subset the summary writes (headings, paragraphs, quotes, lists,
// tables, fenced blocks, <details>/<pre> blocks, code spans, bold, links): a render check, not a renderer.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const [outDir, ...names] = process.argv.slice(2)
if (!outDir) throw new Error('usage: node scripts/render-summary.mjs <out dir> [apply plan check remove failed]')

if (!process.features.typescript) {
  const { node24 } = await import('./test-tools.mjs')
  const node = node24()
  const rerun = spawnSync(node, process.argv.slice(1), { stdio: 'inherit' })
  process.exit(rerun.status ?? 1)
}

// src/ imports its TypeScript modules as .js (NodeNext): point those at the .ts files.
const { registerHooks } = await import('node:module')
registerHooks({
  resolve(specifier, context, next) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL)
      if (existsSync(fileURLToPath(ts))) return next(ts.href, context)
    }
    return next(specifier, context)
  }
})
const { renderSummary } = await import(pathToFileURL(join(root, 'src/core/summary.ts')).href)
const { createRedactor } = await import(pathToFileURL(join(root, 'src/core/redact.ts')).href)
const { SAMPLES } = await import('./summary-samples.mjs')

const WIDTH = 1000
const chromium = process.env.CHROMIUM ?? 'chromium'
mkdirSync(outDir, { recursive: true })
let wide = 0
for (const name of names.length > 0 ? names : Object.keys(SAMPLES)) {
  const sample = SAMPLES[name]
  if (!sample) throw new Error(`no sample "${name}"; the samples: ${Object.keys(SAMPLES).join(', ')}`)
  const markdown = renderSummary(sample(), createRedactor([]))
  const html = page(name, markdownToHtml(markdown))
  const base = resolve(outDir, name)
  writeFileSync(`${base}.md`, markdown)
  writeFileSync(`${base}.html`, html)
  // As GitHub shows it (details collapsed), then with every <details> open.
  for (const [hash, png] of [
    ['', `${base}.png`],
    ['#open', `${base}-open.png`]
  ]) {
    const url = `${pathToFileURL(`${base}.html`).href}${hash}`
    const { scrollWidth, height } = measure(url)
    screenshot(url, png, height)
    const fits = scrollWidth <= WIDTH
    if (!fits) wide++
    console.log(`${png}: ${fits ? 'fits' : `WIDER than ${WIDTH} px (${scrollWidth} px)`}, ${height} px tall`)
  }
}
process.exit(wide > 0 ? 1 : 0)

/** Chromium's flags for a run that talks to no one and keeps nothing. */
function chromiumArgs(profile) {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`
  ]
}

function runChromium(args) {
  const profile = mkdtempSync(join(tmpdir(), 'render-summary-'))
  try {
    const run = spawnSync(chromium, [...chromiumArgs(profile), ...args], { encoding: 'utf8', timeout: 60_000 })
    if (run.error)
      throw new Error(`${chromium} could not be started (${run.error.message}): install Chromium or set CHROMIUM`)
    if (run.status !== 0) throw new Error(`${chromium} failed (${run.status}): ${run.stderr}`)
    return run.stdout
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}

/** The page's width and height as laid out at WIDTH px: the page's script writes them into the DOM. */
function measure(url) {
  const dom = runChromium([`--window-size=${WIDTH},800`, '--virtual-time-budget=2000', '--dump-dom', url])
  const match = /data-scroll-width="(\d+)" data-height="(\d+)"/.exec(dom)
  if (!match) throw new Error(`${url}: the page did not measure itself`)
  return { scrollWidth: Number(match[1]), height: Number(match[2]) }
}

function screenshot(url, png, height) {
  runChromium([`--window-size=${WIDTH},${height}`, `--screenshot=${resolve(png)}`, url])
}

/** A page with GitHub's look for Markdown, which measures itself for measure(). */
function page(title, body) {
  const css = readFileSync(join(root, 'scripts/render-summary.css'), 'utf8')
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>${css}</style></head>
<body><article class="markdown-body">${body}</article>
<script>
  // #open: every <details> open, to see what they hold (and that it fits too).
  if (location.hash === '#open') for (const details of document.querySelectorAll('details')) details.open = true
  // A table wider than the page scrolls on its own on GitHub (display: block): it counts as too wide too.
  const widths = [...document.querySelectorAll('table, pre')].map((box) => box.scrollWidth - box.clientWidth)
  const overflow = Math.max(0, ...widths)
  const page = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)
  document.body.setAttribute('data-scroll-width', String(page + overflow))
  document.body.setAttribute('data-height', String(Math.ceil(document.body.getBoundingClientRect().height) + 40))
</script></body></html>`
}

/** The Markdown subset the summary writes, as HTML; raw HTML (details, sub, pre) passes as GitHub passes it. */
function markdownToHtml(markdown) {
  const lines = markdown.split('\n')
  const out = []
  for (let i = 0; i < lines.length;) {
    const line = lines[i]
    const fence = /^(`{3,})(\w*)$/.exec(line)
    if (fence) {
      const end = lines.findIndex((l, j) => j > i && l === fence[1])
      const body = lines.slice(i + 1, end).map((l) => `<span class="${diffClass(fence[2], l)}">${escape(l)}</span>`)
      out.push(`<pre><code>${body.join('\n')}</code></pre>`)
      i = end + 1
    } else if (/^<(details|pre|\/details)/.test(line)) {
      // An HTML block runs to the next blank line; Markdown resumes after it.
      const end = nextBlank(lines, i)
      out.push(lines.slice(i, end).join('\n'))
      i = end
    } else if (/^#{1,6} /.test(line)) {
      const level = /^#+/.exec(line)[0].length
      out.push(`<h${level}>${inline(line.slice(level + 1))}</h${level}>`)
      i++
    } else if (line.startsWith('|')) {
      const end = lines.findIndex((l, j) => j > i && !l.startsWith('|'))
      out.push(table(lines.slice(i, end < 0 ? undefined : end)))
      i = end < 0 ? lines.length : end
    } else if (line.startsWith('- ')) {
      const end = lines.findIndex((l, j) => j > i && !l.startsWith('- '))
      const items = lines.slice(i, end < 0 ? undefined : end).map((l) => `<li>${inline(l.slice(2))}</li>`)
      out.push(`<ul>${items.join('')}</ul>`)
      i = end < 0 ? lines.length : end
    } else if (line.startsWith('> ')) {
      out.push(`<blockquote><p>${inline(line.slice(2))}</p></blockquote>`)
      i++
    } else if (line.trim() === '') i++
    else {
      const end = nextBlank(lines, i)
      out.push(`<p>${lines.slice(i, end).map(inline).join('\n')}</p>`)
      i = end
    }
  }
  return out.join('\n')
}

function nextBlank(lines, from) {
  const end = lines.findIndex((l, j) => j > from && l.trim() === '')
  return end < 0 ? lines.length : end
}

function diffClass(language, line) {
  if (language !== 'diff') return ''
  return line.startsWith('+') ? 'added' : line.startsWith('-') ? 'removed' : line.startsWith('#') ? 'comment' : ''
}

function table(rows) {
  const cells = (row) =>
    row
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => inline(c.trim()))
  const [head, , ...body] = rows
  const th = cells(head)
    .map((c) => `<th>${c}</th>`)
    .join('')
  const trs = body.map(
    (row) =>
      `<tr>${cells(row)
        .map((c) => `<td>${c}</td>`)
        .join('')}</tr>`
  )
  return `<table><thead><tr>${th}</tr></thead><tbody>${trs.join('')}</tbody></table>`
}

/** Code spans, bold, links and backslash escapes; the HTML tags the summary writes pass, any other `<` is text. */
function inline(text) {
  const parts = text.split(/(`+)([^`]*?)\1/)
  let html = ''
  for (let k = 0; k < parts.length; k += 3) {
    html += prose(parts[k])
    if (k + 2 < parts.length) html += `<code>${escape(parts[k + 2])}</code>`
  }
  return html
}

function prose(text) {
  return text
    .replace(/<(?!\/?(details|summary|sub|br)>)/g, '&lt;')
    .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>')
    .replace(/\\([!-/:-@[-`{-~])/g, '$1')
}

function escape(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
