#!/usr/bin/env node
// The heavy tools only the tests use, kept out of node_modules so that `npm ci` stays light: each is
// installed on first use, at the exact version scripts/test-tools.json pins, into the project's own
// cache (.cache/test-tools/<name>@<version>), and reused after. Says what it fetches before it does.
//
//   node scripts/test-tools.mjs               ensures every tool
//   node scripts/test-tools.mjs node chdb     ensures these
//   node scripts/test-tools.mjs --path node   prints where a tool's package is (installs it first)
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const PINS = JSON.parse(readFileSync(join(ROOT, 'scripts/test-tools.json'), 'utf8'))
const CACHE = join(ROOT, '.cache/test-tools')

/** The folder of a tool's package at its pinned version (whether installed or not). */
export function toolPackage(name) {
  const pin = PINS[name]
  if (!pin)
    throw new Error(`unknown test tool "${name}": scripts/test-tools.json names ${Object.keys(PINS).join(', ')}`)
  return join(CACHE, `${name}@${pin.version}`, 'node_modules', name)
}

/** The Node 24 binary the tests, the demo and the bench run the action with (installed first when missing). */
export function node24() {
  return join(ensureTool('node'), 'bin/node')
}

/** Installs a tool at its pinned version unless it is there; returns its package folder. */
export function ensureTool(name, log = (line) => process.stderr.write(`${line}\n`)) {
  const target = toolPackage(name)
  const done = join(CACHE, `${name}@${PINS[name].version}`, '.complete')
  if (existsSync(done)) return target
  const { version, why, size } = PINS[name]
  log(`test tools: fetching ${name} ${version} (${why}; ${size}) into .cache/test-tools, once`)
  const home = join(CACHE, `${name}@${version}`)
  const partial = `${home}.partial`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { recursive: true })
  // A package.json of its own, so that npm installs here and not into the project.
  // The project's rule for install scripts (package.json allowScripts): node's fetches its binary, chdb's is not needed.
  const { allowScripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  writeFileSync(
    join(partial, 'package.json'),
    JSON.stringify({ name: `test-tool-${name}`, private: true, allowScripts })
  )
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', partial, `${name}@${version}`], {
    stdio: ['ignore', 'ignore', 'inherit']
  })
  rmSync(home, { recursive: true, force: true })
  renameSync(partial, home)
  writeFileSync(done, `${version}\n`)
  return target
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const printPath = args[0] === '--path'
  const names = (printPath ? args.slice(1) : args).length ? (printPath ? args.slice(1) : args) : Object.keys(PINS)
  for (const name of names) {
    const folder = ensureTool(name)
    if (printPath) console.log(folder)
  }
}
