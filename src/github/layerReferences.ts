/** Finding the Rotel layer version ARNs written in the repository's own files, for annotating the stale ones. */

import { type FileHandle, open, readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { compileGlob, type GlobMatcher } from '../core/glob.js'
import type { LayerReference } from '../core/model.js'
import { LAYER_VERSION_SOURCE } from '../core/arns.js'
import { PARTITION_IDS } from '../core/awsPartitions.js'

/**
 * The files `annotate-files` scans when not told otherwise.
 *
 * Precision comes from the ARN pattern, not from the file names: a file without a Rotel ARN costs a read and
 * yields nothing. So the list is broad wherever templates have no fixed name (CloudFormation YAML, CDK code,
 * which can live anywhere), and the scan limits bound the cost. The conventional names come first because
 * `scanWorkspace` reads files in the order of the first pattern they match: when a large repository hits
 * the limits, it is generic source that goes unread, not the templates.
 *
 * Not included: arbitrary JSON (package-lock.json and the like are big and never hold ARNs; CloudFormation
 * JSON goes by the names below); Java, C# and Go CDK apps, rare enough to add by hand rather than read every
 * such file of every repository. `dist/` is left out by pattern rather than always skipped: it is usually
 * compiled copies of sources (annotating both would say everything twice, and a fix belongs in the source),
 * yet a repository that does keep hand-written templates there can name them in its own list.
 */
export const DEFAULT_ANNOTATE_FILES: readonly string[] = [
  // SAM and CloudFormation by their conventional names.
  '**/template.{yml,yaml,json}',
  '**/*.template.{yml,yaml,json}',
  '**/*.cfn.{yml,yaml,json}',
  // SAM's parameter_overrides and CDK's context are places a layer ARN is passed in.
  '**/samconfig.toml',
  '**/cdk.json',
  '**/serverless.{yml,yaml,json,ts,js,mjs,cjs}',
  // Terraform and OpenTofu, Terragrunt.
  '**/*.{tf,tfvars}',
  '**/*.{tf,tfvars}.json',
  '**/*.hcl',
  // CloudFormation templates by any other name; a pinned ARN in a workflow or compose file is worth a note too.
  '**/*.{yml,yaml}',
  // CDK (and Pulumi, SDK scripts) in TypeScript, JavaScript or Python.
  '**/*.{ts,mts,cts,js,mjs,cjs,py}',
  '!**/dist/**'
]

// What templating languages put where a value is filled in later: CloudFormation/Terraform/JS/Serverless
// `${...}` (with one level of nesting, for `${opt:region, ${self:provider.region}}` and `${{ vars.X }}`),
// Python/C#/Go-template `{...}`/`{{...}}`, documentation `<region>`, shell `$REGION`, printf `%s`, IAM `*`.
const PLACEHOLDER = String.raw`\$?\{(?:[^{}\n]|\{[^{}\n]*\}){1,200}\}|<[A-Za-z_][\w.-]{0,100}>|\$[A-Za-z_]\w*|%s|\*`
const REGION = String.raw`[a-z]{2}(?:-[a-z]+)+-\d{1,2}`
const LITERAL_REGION = new RegExp(`^${REGION}$`)
// A version must be literal to be a finding, and whole: `:3` but not `:3${suffix}` or `:3abc`.
const ROTEL_ARN = new RegExp(
  String.raw`\barn:(?:${PARTITION_IDS.join('|')}|${PLACEHOLDER}):lambda:` +
    String.raw`(${REGION}|${PLACEHOLDER}):(\d{12}|${PLACEHOLDER}):layer:` +
    String.raw`(rotel-extension-(amd64|arm64)(?:-alpha)?):(${LAYER_VERSION_SOURCE})(?![\w$\{])`,
  'g'
)

/** Every Rotel layer version ARN with an explicit version in a text, several per line included, in order. */
export function findReferencesInText(text: string, file: string): LayerReference[] {
  const references: LayerReference[] = []
  // A `\r` left at the end of a line is harmless: nothing matched can include it.
  for (const [index, line] of text.split('\n').entries()) {
    // Most lines of most files: not worth a regular expression.
    if (!line.includes('rotel-extension-')) continue
    for (const match of line.matchAll(ROTEL_ARN)) {
      const [written, region, account, name, arch, version] = match
      if (region === undefined || account === undefined || name === undefined || version === undefined) continue
      const number = Number(version)
      if (!Number.isSafeInteger(number)) continue
      references.push({
        file,
        line: index + 1,
        column: match.index + 1,
        text: written,
        region: LITERAL_REGION.test(region) ? region : undefined,
        account: /^\d{12}$/.test(account) ? account : undefined,
        name,
        architecture: arch === 'arm64' ? 'arm64' : 'x86_64',
        version: number
      })
    }
  }
  return references
}

/** How much `scanWorkspace` may read; each has a default. */
export interface ScanLimits {
  /** Files read, text or binary; default 5000. */
  maxFiles?: number | undefined
  /** A larger file is skipped unread; default 1 MiB. */
  maxFileBytes?: number | undefined
  /** Bytes read over all files; default 50 MiB. */
  maxTotalBytes?: number | undefined
}

/** A file the patterns selected that was not searched, and why. */
export interface SkippedFile {
  /** Workspace-relative; a directory that could not be listed ends with `/`. */
  file: string
  reason: 'too-large' | 'binary' | 'limit' | 'unreadable'
}

/** What `scanWorkspace` found. */
export interface ScanResult {
  /** Sorted by file, line and column. */
  references: LayerReference[]
  /** Text files searched. */
  filesScanned: number
  /** Sorted by file. */
  skipped: SkippedFile[]
}

// Dependencies, version control, and the tools' own generated output (copies of the templates, or
// third-party code), none of it the repository's to fix. Always skipped: no pattern brings them back.
const SKIPPED_DIRECTORIES = new Set([
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  'cdk.out',
  '.aws-sam',
  '.serverless',
  '.terraform',
  '.terragrunt-cache',
  '.venv',
  '__pycache__'
])

const BINARY_SNIFF_BYTES = 8192

interface CompiledPattern {
  negated: boolean
  matcher: GlobMatcher
  /** A negation of a whole directory (`!x/**`) that no later pattern can undo: the walk need not enter it. */
  prunes: boolean
}

function compilePatterns(patterns: readonly string[]): CompiledPattern[] {
  const compiled = patterns
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== '' && pattern !== '!')
    .map((pattern) => {
      const negated = pattern.startsWith('!')
      const body = negated ? pattern.slice(1) : pattern
      return { negated, body, matcher: compileGlob(body) }
    })
  return compiled.map(({ negated, body, matcher }, index) => ({
    negated,
    matcher,
    // `x/**` matches `x` itself and everything below it, so it can be tested on the directory.
    prunes: negated && body.endsWith('/**') && compiled.slice(index + 1).every((later) => later.negated)
  }))
}

/**
 * The index of the first pattern selecting a path, undefined if none does; as in .gitignore and
 * @actions/glob, the last pattern matching a path decides, so `!` patterns exclude what earlier ones included.
 */
function selection(path: string, patterns: readonly CompiledPattern[]): number | undefined {
  let first: number | undefined
  let selected = false
  for (const [index, pattern] of patterns.entries()) {
    if (!pattern.matcher.test(path)) continue
    selected = !pattern.negated
    if (selected && first === undefined) first = index
  }
  return selected ? first : undefined
}

interface Candidate {
  file: string
  path: string
  priority: number
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The files under `base` the patterns select, in the order to read them: by the first pattern selecting them, then
 * by the walk's order. A directory that cannot be listed goes to `skipped`; the root itself failing throws.
 */
async function listCandidates(
  base: string,
  compiled: readonly CompiledPattern[],
  skipped: SkippedFile[]
): Promise<Candidate[]> {
  const candidates: Candidate[] = []
  const walk = async (directory: string, prefix: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(directory, { withFileTypes: true })
    } catch (error) {
      // Without the root there is nothing to report on: that is a wrong workspace, not a skipped file.
      if (prefix === '')
        throw new Error(`cannot list the workspace ${base}: ${(error as Error).message}`, { cause: error })
      skipped.push({ file: prefix, reason: 'unreadable' })
      return
    }
    entries.sort((a, b) => byName(a.name, b.name))
    for (const entry of entries) {
      const file = prefix + entry.name
      // A link is never followed: out of the root it is not the repository's, inside it the walk gets there anyway.
      if (entry.isDirectory()) {
        if (SKIPPED_DIRECTORIES.has(entry.name)) continue
        if (compiled.some((pattern) => pattern.prunes && pattern.matcher.test(file))) continue
        await walk(join(directory, entry.name), `${file}/`)
      } else if (entry.isFile()) {
        const priority = selection(file, compiled)
        if (priority !== undefined) candidates.push({ file, path: join(directory, entry.name), priority })
      }
    }
  }
  await walk(base, '')

  // Stable: within one priority, the walk's order.
  candidates.sort((a, b) => a.priority - b.priority)
  return candidates
}

/** Up to `size` bytes from the start of a file, fewer if it shrank meanwhile. */
async function readUpTo(handle: FileHandle, size: number): Promise<Buffer> {
  // Reading no more than the size measured keeps the bounds when a file grows meanwhile.
  const content = Buffer.alloc(size)
  let filled = 0
  while (filled < size) {
    const { bytesRead: got } = await handle.read(content, filled, size - filled, filled)
    if (got === 0) break
    filled += got
  }
  return content.subarray(0, filled)
}

/**
 * The Rotel layer references in the workspace files the globs select (`!` excludes), within the limits, with
 * the files that were selected but not searched.
 */
export async function scanWorkspace(
  root: string,
  patterns: readonly string[],
  limits: ScanLimits = {}
): Promise<ScanResult> {
  const maxFiles = limits.maxFiles ?? 5000
  const maxFileBytes = limits.maxFileBytes ?? 1024 * 1024
  const maxTotalBytes = limits.maxTotalBytes ?? 50 * 1024 * 1024
  const compiled = compilePatterns(patterns)
  const base = resolve(root)
  const skipped: SkippedFile[] = []
  const candidates = await listCandidates(base, compiled, skipped)

  const references: LayerReference[] = []
  const decoder = new TextDecoder('utf-8')
  let filesRead = 0
  let bytesRead = 0
  let filesScanned = 0
  let stopped = false
  for (const { file, path } of candidates) {
    // Once a limit is reached the rest is listed, not read, so that the caller can say what was not looked at.
    if (stopped || filesRead >= maxFiles) {
      stopped = true
      skipped.push({ file, reason: 'limit' })
      continue
    }
    let content: Buffer
    try {
      const handle = await open(path, 'r')
      try {
        const { size } = await handle.stat()
        if (size > maxFileBytes) {
          skipped.push({ file, reason: 'too-large' })
          continue
        }
        if (bytesRead + size > maxTotalBytes) {
          stopped = true
          skipped.push({ file, reason: 'limit' })
          continue
        }
        content = await readUpTo(handle, size)
      } finally {
        await handle.close()
      }
    } catch {
      skipped.push({ file, reason: 'unreadable' })
      continue
    }
    filesRead++
    bytesRead += content.length
    if (content.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
      skipped.push({ file, reason: 'binary' })
      continue
    }
    filesScanned++
    references.push(...findReferencesInText(decoder.decode(content), file))
  }

  references.sort((a, b) => byName(a.file, b.file) || a.line - b.line || a.column - b.column)
  skipped.sort((a, b) => byName(a.file, b.file))
  return { references, filesScanned, skipped }
}

/** The references whose version is lower than the latest `latestFor` knows for their region and name. */
export function behindLatest(
  refs: LayerReference[],
  latestFor: (ref: LayerReference) => number | undefined
): Array<{ ref: LayerReference; latest: number }> {
  const behind: Array<{ ref: LayerReference; latest: number }> = []
  for (const ref of refs) {
    const latest = latestFor(ref)
    if (latest !== undefined && ref.version < latest) behind.push({ ref, latest })
  }
  return behind
}
