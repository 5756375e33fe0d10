/**
 * What the documentation tests read of a Markdown file: its prose (fenced code blocks left out, since a
 * `[x](y)` there is code, not a link), its headings' anchors as GitHub makes them, and its relative links.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

/** The text outside fenced code blocks, each code line blanked so that line numbers stay true. */
export function proseOf(markdown: string): string {
  let fenced = false
  return markdown
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced
        return ''
      }
      return fenced ? '' : line
    })
    .join('\n')
}

/**
 * GitHub's anchor for a heading: the rendered text (code spans and links by their text), lowercased,
 * punctuation but `-` and `_` dropped, each space a `-`.
 */
export function slugOf(heading: string): string {
  return heading
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-')
}

/** Every anchor the file's headings give, a repeated one numbered as GitHub numbers it (`-1`, `-2`). */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const match of proseOf(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = slugOf(match[1] ?? '')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    anchors.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return anchors
}

export interface Link {
  line: number
  target: string
}

/** The links of the file's prose whose target is not a URL with a scheme (http:, https:, mailto:). */
export function relativeLinksOf(markdown: string): Link[] {
  return proseOf(markdown)
    .split('\n')
    .flatMap((text, index) =>
      [...text.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
        .map((match) => ({ line: index + 1, target: match[1] ?? '' }))
        .filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link.target))
    )
}

/** Each relative link of `file` (absolute path) that names a missing file or a missing heading, in words. */
export function brokenLinksOf(file: string, markdown = readFileSync(file, 'utf8')): string[] {
  return relativeLinksOf(markdown).flatMap(({ line, target }) => {
    const [path = '', anchor] = target.split('#', 2)
    const linked = path === '' ? file : resolve(dirname(file), decodeURIComponent(path))
    const where = `${file}:${line} → ${target}`
    if (path !== '' && !existsSync(linked)) return [`${where}: no such file`]
    if (anchor === undefined) return []
    if (!linked.endsWith('.md')) return [`${where}: an anchor in a file that is not Markdown`]
    const text = linked === file ? markdown : readFileSync(linked, 'utf8')
    return anchorsOf(text).has(anchor) ? [] : [`${where}: no heading with that anchor`]
  })
}
