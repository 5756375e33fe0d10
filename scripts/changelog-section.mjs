#!/usr/bin/env node
// Prints the section of CHANGELOG.md for one version (the release notes), or fails naming what is missing.
// Usage: node scripts/changelog-section.mjs X.Y.Z [path of the changelog]
import { readFileSync } from 'node:fs'

const [version, file = new URL('../CHANGELOG.md', import.meta.url)] = process.argv.slice(2)
if (!/^\d+\.\d+\.\d+$/.test(version ?? '')) {
  console.error('usage: node scripts/changelog-section.mjs X.Y.Z [CHANGELOG.md]')
  process.exit(2)
}
const lines = readFileSync(file, 'utf8').split(/\r?\n/)
// A heading of the Keep a Changelog form: "## [1.2.0] - 2026-12-02" (or without the brackets).
const heading = (line) => /^## \[?(\d+\.\d+\.\d+|Unreleased)\]?(\s|$)/i.exec(line)?.[1]
const start = lines.findIndex((line) => heading(line) === version)
if (start < 0) {
  console.error(`CHANGELOG.md has no section "## [${version}]": move the Unreleased notes under it first.`)
  process.exit(1)
}
const end = lines.findIndex((line, index) => index > start && heading(line) !== undefined)
const body = lines
  .slice(start + 1, end < 0 ? undefined : end)
  .join('\n')
  .trim()
if (body === '') {
  console.error(`CHANGELOG.md's section for ${version} is empty.`)
  process.exit(1)
}
console.log(body)
