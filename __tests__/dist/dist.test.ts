/** GitHub runs dist/, never src/: this fails when dist/ is not the bundle of the current src/. */
import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

describe('dist/', () => {
  it('is the bundle that `npm run build` makes from src/ now', () => {
    const fresh = mkdtempSync(join(tmpdir(), 'rotel-dist-'))
    // The same command as `npm run build`, into a scratch folder.
    const build = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { build: string } })
      .scripts.build
    const args = build
      .split(/\s+/)
      .slice(1)
      .map((arg) => (arg === 'dist' ? fresh : arg))
    expect(args).toContain(fresh)
    execFileSync(join(root, 'node_modules/.bin/ncc'), args, { cwd: root, stdio: 'pipe' })
    const committed = join(root, 'dist')
    expect(readdirSync(committed).sort()).toEqual(readdirSync(fresh).sort())
    for (const file of readdirSync(fresh)) {
      const same = readFileSync(join(committed, file)).equals(readFileSync(join(fresh, file)))
      expect({ file, same }).toEqual({ file, same: true })
    }
  }, 120000)
})
