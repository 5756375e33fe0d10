// Jest's test order (jest.config.js testSequencer). Jest runs the files it knows to be slow first, by the
// times of its last run in its cache, so that no worker is left alone with a long file at the end. Without
// that cache (a fresh clone, as in CI) it falls back on file size, which puts the dist/ check (a small file
// that builds src/, about a minute) last and mixes the unit files, seconds each, among the integration ones.
// Here, when neither of two files has a time: the dist check first, then integration files, then unit
// files, and by size within each.
import { createRequire } from 'node:module'
import { readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const { default: Sequencer } = require('@jest/test-sequencer')

/** The lower, the sooner: by the project's name in jest.config.js. */
const RANK = { dist: 0, integration: 1, unit: 2 }
const rankOf = (test) => RANK[test.context.config.displayName?.name] ?? 1

/**
 * A file's size, with the sizes of the modules beside it that it imports: a file that only runs a part of a
 * suite written in a sibling module (leastPrivilege*.test.ts) weighs what that suite weighs.
 */
function weightOf(path) {
  const text = readFileSync(path, 'utf8')
  const siblings = [...text.matchAll(/from '\.\/([\w-]+)\.js'/g)].map((match) => join(dirname(path), `${match[1]}.ts`))
  return siblings.reduce((sum, sibling) => {
    try {
      return sum + statSync(sibling).size
    } catch {
      return sum
    }
  }, text.length)
}

export default class SlowFirstSequencer extends Sequencer {
  sort(tests) {
    const size = new Map(tests.map((test) => [test.path, weightOf(test.path)]))
    const sorted = super.sort(tests)
    const untimed = sorted.filter((test) => test.duration == null && !this.hasFailed(test))
    const reordered = [...untimed].sort((a, b) => rankOf(a) - rankOf(b) || size.get(b.path) - size.get(a.path))
    // The untimed files keep the places jest gave them as a group; only their order among themselves changes.
    let next = 0
    return sorted.map((test) => (untimed.includes(test) ? reordered[next++] : test))
  }
}
