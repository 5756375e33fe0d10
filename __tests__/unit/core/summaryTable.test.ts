/** The summary at a glance (issue 15): few columns, plain words per mode, short layer names, failures first, details collapsed. */
import { describe, expect, it } from '@jest/globals'
import { createRedactor } from '../../../src/core/redact.js'
import { MODES, type Mode } from '../../../src/core/model.js'
import { renderPlanComment, renderSummary, type RunResult } from '../../../src/core/summary.js'
import { layerChange } from '../../../src/core/summaryTable.js'
import { fleetRun } from '../../support/fleet.js'

const noSecrets = createRedactor([])

/** The text under a `### heading`, to the next one. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`### ${heading}`)
  if (start < 0) return ''
  const next = markdown.indexOf('\n### ', start + 1)
  return markdown.slice(start, next < 0 ? undefined : next)
}

/** Each table row's cells, split as GitHub splits them (an escaped `\|` stays in its cell). */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) => line.slice(1, -1).split(/(?<!\\)\|/))
}

const HEADINGS: Record<Mode, string> = {
  apply: '| function | result | change | test invocation | CloudWatch Logs |',
  plan: '| function | result | change apply would make |',
  check: '| function | result | drift: what apply would change |',
  remove: '| function | result | change | test invocation |'
}

describe.each(MODES)('the %s summary of a fleet', (mode) => {
  // Failures, cancelled and rolled-back functions, grouped rows, diffs, delivery (apply) and roles.
  const run = fleetRun(mode, 300)
  const summary = renderSummary(run, noSecrets)

  it('has at most 6 columns in every table, and the functions table the mode’s own', () => {
    const rows = tableRows(summary)
    expect(rows.length).toBeGreaterThan(10)
    for (const cells of rows) expect(cells.length).toBeLessThanOrEqual(6)
    expect(section(summary, 'Functions').split('\n')[2]).toBe(HEADINGS[mode])
  })

  it('says "unknown", "on" or "off" in no cell of the functions table', () => {
    const cells = tableRows(section(summary, 'Functions')).flat()
    for (const text of cells) expect(text.trim()).not.toMatch(/^(unknown|on|off)$/)
    expect(section(summary, 'Functions')).not.toContain('unknown')
  })

  it('says what went wrong first: the errors before the functions table, its failed rows before the rest', () => {
    expect(summary.indexOf('### Errors')).toBeGreaterThan(0)
    expect(summary.indexOf('### Errors')).toBeLessThan(summary.indexOf('### Functions'))
    const statuses = tableRows(section(summary, 'Functions'))
      .slice(2)
      .map((cells) => (cells[1] ?? '').trim())
    const firstQuiet = statuses.findIndex((status) => !/failed|rolled back|cancelled/.test(status))
    expect(firstQuiet).toBeGreaterThan(0)
    expect(statuses.slice(firstQuiet).some((status) => /failed|rolled back|cancelled/.test(status))).toBe(false)
  })

  it('collapses every diff and list of names', () => {
    const changes = section(summary, 'Changes')
    expect(changes.match(/<details>/g)?.length ?? 0).toBeGreaterThan(0)
    expect(summary).not.toMatch(/<details [^>]*open/)
    // Each diff sits inside its own collapsed element.
    for (const block of changes.split('<details>').slice(1)) expect(block).toMatch(/^<summary>[^<]*<\/summary>\n\n/)
  })

  it('renders the plan comment from the same table', () => {
    const comment = renderPlanComment(run, noSecrets, undefined)
    expect(section(comment, 'Functions').split('\n')[2]).toBe(HEADINGS[mode])
  })
})

describe('what each mode says of CloudWatch Logs', () => {
  const words = (mode: Mode): string => renderSummary(fleetRun(mode, 30), noSecrets)

  it.each([
    ['plan', "CloudWatch Logs were not looked at: a plan reads the functions' configurations only."],
    ['check', "CloudWatch Logs were not looked at: a drift check reads the functions' configurations only"],
    ['remove', 'CloudWatch Logs were not looked at after the removal']
  ] as const)('%s: that it did not look, under the table', (mode, sentence) => {
    expect(section(words(mode), 'Functions')).toContain(sentence)
  })

  it('apply: a column with what its check saw, and no sentence that it did not look', () => {
    const text = section(words('apply'), 'Functions')
    expect(text).toContain('| no new log stream since the update |')
    expect(text).not.toContain('were not looked at')
  })
})

describe('the changes, each diff folded', () => {
  const run = (name: string): RunResult => {
    const fleet = fleetRun('plan', 3)
    const [first] = fleet.outcomes
    if (!first) throw new Error('no function')
    return { ...fleet, outcomes: [{ ...first, report: { ...first.report, function: name, status: 'planned' } }] }
  }

  it('names the function on a line shown unfolded, above its folded diff', () => {
    expect(section(renderSummary(run('orders-api'), noSecrets), 'Changes')).toMatch(
      /\n\*\*orders-api\*\* \(us-east-1, x86_64\) – 📝 will change\n\n<details><summary>the diff<\/summary>\n\n```diff\n/
    )
  })

  it('shows a check’s drift in words unfolded, above the folded diff', () => {
    const changes = section(renderSummary(fleetRun('check', 30), noSecrets), 'Changes')
    expect(changes).toMatch(
      /– ⚠️ drifted\n\nDrift: the Rotel layer is version 40, the target 41\.\n\n<details><summary>the diff<\/summary>/
    )
  })

  it('folds under the action’s own words only, whatever the names (the folded line is HTML)', () => {
    const text = renderSummary(fleetRun('plan', 300), noSecrets)
    const labels = [...text.matchAll(/<summary>([^<]*)<\/summary>/g)].map(([, label]) => label)
    expect(labels).toContain('the diff')
    expect(labels).toContain('their names and the diff')
    for (const label of labels) expect(label).toMatch(/^(\d+ functions|the diff|their names and the diff)$/)
    expect(text).not.toContain('<img')
  })
})

describe('layerChange', () => {
  const arn = (name: string, version: number): string =>
    `arn:aws:lambda:us-east-1:418653438961:layer:${name}:${version}`

  it.each([
    [
      arn('rotel-extension-amd64-alpha', 40),
      arn('rotel-extension-amd64-alpha', 41),
      '`rotel-extension-amd64-alpha` 40 → 41'
    ],
    [null, arn('rotel-extension-arm64-alpha', 41), '(none) → `rotel-extension-arm64-alpha:41`'],
    [arn('rotel-extension-amd64-alpha', 41), null, '`rotel-extension-amd64-alpha:41` → (none)'],
    [
      arn('rotel-extension-arm64-alpha', 41),
      arn('rotel-extension-amd64-alpha', 41),
      '`rotel-extension-arm64-alpha:41` → `rotel-extension-amd64-alpha:41`'
    ],
    [
      arn('rotel-extension-amd64-alpha', 41),
      arn('rotel-extension-amd64-alpha', 41),
      '`rotel-extension-amd64-alpha:41`'
    ],
    [null, null, '']
  ])('%s → %s reads %s', (before, after, short) => {
    expect(layerChange(before, after, noSecrets)).toBe(short)
  })
})
