// Layer lookup: how many GetLayerVersion calls the action's own search (findLatestVersion in
// src/core/layerVersions.ts) makes to find the latest of V versions, with and without gaps. The TypeScript
// is transpiled (typescript's transpileModule, following its relative imports) into a temp dir whose
// node_modules is a link to the repo's, then imported; the probe is a counting fake.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/** Transpiles `entry` (a .ts file under root) and the .ts files it imports relatively into `outDir`; returns the module. */
export async function importTypeScript(root, entry, outDir) {
  const require = createRequire(join(root, 'package.json'))
  const ts = require('typescript')
  const seen = new Set()
  const queue = [resolve(root, entry)]
  while (queue.length > 0) {
    const file = queue.pop()
    if (seen.has(file)) continue
    seen.add(file)
    const source = readFileSync(file, 'utf8')
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false }
    })
    const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js')
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, outputText)
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g))
      queue.push(resolve(dirname(file), `${match[1]}.ts`))
  }
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n')
  symlinkSync(join(root, 'node_modules'), join(outDir, 'node_modules'), 'dir')
  return import(pathToFileURL(join(outDir, relative(root, resolve(root, entry))).replace(/\.ts$/, '.js')).href)
}

/** A deterministic generator in [0, 1) (mulberry32). */
function random(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Versions 1..V with about one in five deleted, never two in a row (the search is documented to see
 * past one missing version), and always V-1, so that the latest sits right above a hole. Version 1 and
 * V stay. Empty for V < 3.
 */
export function gapsFor(versions, seed = versions) {
  const holes = new Set()
  const draw = random(seed)
  for (let v = 2; v <= versions - 1; v++) if (!holes.has(v - 1) && draw() < 0.2) holes.add(v)
  if (versions >= 3 && !holes.has(versions - 2)) holes.add(versions - 1)
  return holes
}

/** The bound: 2·⌈log2 V⌉ + 2 calls. */
export const lookupBound = (versions) => 2 * Math.ceil(Math.log2(Math.max(1, versions))) + 2

/** Calls to find the latest of 1..V less `holes`, from `hint`; whether it found the true latest. */
export async function countLookup(findLatestVersion, versions, holes, hint) {
  let calls = 0
  const probe = async (v) => {
    calls++
    if (v < 1 || v > versions || holes.has(v)) return undefined
    return { arn: `arn:aws:lambda:us-east-1:123456789012:layer:bench:${v}`, layerArn: '', version: v, description: undefined, tag: undefined, compatibleArchitectures: [] }
  }
  const { latest } = await findLatestVersion(probe, hint === undefined ? {} : { hint })
  return { calls, found: latest?.version ?? null, correct: latest?.version === versions }
}

export async function measureLookups(findLatestVersion, { sizes = [1, 10, 100, 1000], hints = [1, 41] } = {}) {
  const rows = []
  for (const versions of sizes) {
    for (const gapped of [false, true]) {
      const holes = gapped ? gapsFor(versions) : new Set()
      if (gapped && holes.size === 0) continue
      const byHint = {}
      for (const hint of hints) byHint[hint] = await countLookup(findLatestVersion, versions, holes, hint)
      rows.push({ versions, gaps: holes.size, bound: lookupBound(versions), byHint })
    }
  }
  return rows
}
