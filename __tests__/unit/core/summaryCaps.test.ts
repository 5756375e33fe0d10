/** The job summary and the plan comment of a fleet of 1,000 and 5,000 functions, within GitHub's caps. */
import { describe, expect, it } from '@jest/globals'
import { markdownText } from '../../../src/core/outsideText.js'
import { createRedactor } from '../../../src/core/redact.js'
import { renderPlanComment, renderSummary, type RunResult } from '../../../src/core/summary.js'
import {
  COMMENT_MAX_CHARACTERS,
  fitBlocks,
  type Room,
  STEP_SUMMARY_MAX_BYTES,
  utf8Length
} from '../../../src/core/summaryFit.js'
import { errorTemplate } from '../../../src/core/summaryGroups.js'
import { renderedLines } from '../../support/hostileScan.js'
import { detailsBalanced, fleetRun } from '../../support/fleet.js'

const noSecrets = createRedactor([])

/** Whether every fenced block the text opens is closed, read as GitHub reads fences. */
function fencesClosed(markdown: string): boolean {
  let fence: string | undefined
  for (const line of markdown.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (marker === undefined) continue
    if (fence === undefined) fence = marker
    else if (marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined
  }
  return fence === undefined
}

/** What every failed function must leave in the text: its name and its error (or, grouped, its error's words). */
function failuresShown(run: RunResult, text: string, max = 300): string[] {
  const missing: string[] = []
  for (const { report: r } of run.outcomes) {
    if (r.error === null) continue
    const name = markdownText(r.function, { max: 300 })
    const error = markdownText(r.error, { max })
    const template = markdownText(errorTemplate(r), { max })
    if (!text.includes(name)) missing.push(`name of ${r.function}`)
    if (!text.includes(error) && !text.includes(template)) missing.push(`error of ${r.function}`)
  }
  return missing
}

const LABELS: Record<string, string> = {
  failed: '❌ failed',
  'rolled-back': '↩️ rolled back',
  cancelled: '⏹️ cancelled',
  planned: '📝 will change',
  'in-sync': '✅ in sync'
}

/** Each name in the Functions table, with the status its row shows (a row names one function or a list). */
function statusByName(markdown: string): Record<string, string> {
  const table = markdown.slice(
    markdown.indexOf('### Functions'),
    markdown.indexOf('\n### ', markdown.indexOf('### Functions'))
  )
  const found: Record<string, string> = {}
  for (const row of table.split('\n').filter((line) => line.startsWith('| ') && !/^\| (function|---) \|/.test(line))) {
    const cells = row.slice(2, -2).split(/ (?<!\\)\| /)
    // The first cell: a name or a collapsed list of names, then the region and arch in <sub>.
    const named = (cells[0] ?? '').replace(/ <sub>[^<]*<\/sub>$/, '')
    const names = /<\/summary>(.*)<\/details>/.exec(named)?.[1]?.split(', ') ?? [named]
    for (const name of names) found[name] = cells[1] ?? ''
  }
  return found
}

function expectedStatuses(run: RunResult): Record<string, string> {
  return Object.fromEntries(
    run.outcomes.map(({ report: r }) => [markdownText(r.function, { max: 300 }), LABELS[r.status] ?? r.status])
  )
}

describe.each([1000, 5000])('the job summary of %i functions', (size) => {
  describe.each(['apply', 'plan', 'check'] as const)('%s', (mode) => {
    const run = fleetRun(mode, size)
    const summary = renderSummary(run, noSecrets)

    it('is within 1 MiB, its markup whole, hostile names inert', () => {
      expect(utf8Length(summary)).toBeLessThanOrEqual(STEP_SUMMARY_MAX_BYTES)
      expect(detailsBalanced(summary)).toBe(true)
      expect(fencesClosed(summary)).toBe(true)
      // Only the summary's own tags: a name's `<img>` is an entity.
      expect(summary).not.toMatch(/<(?!\/?(details|summary|pre|sub)>)/)
      for (const [, line] of renderedLines(summary)) expect(line).not.toMatch(/(?<![\w`])@octocat\b/)
    })

    it('keeps every failed function with its error, and the count of every status', () => {
      expect(failuresShown(run, summary)).toEqual([])
      expect(summary).toContain(`${size} functions: `)
    })

    it('lists failures before anything else', () => {
      const functions = summary.slice(summary.indexOf('### Functions'))
      const firstOk = functions.search(/✅|➖|📝|⚠️ drifted/)
      expect(functions.indexOf('❌ failed')).toBeGreaterThan(0)
      expect(functions.indexOf('❌ failed')).toBeLessThan(firstOk)
      expect(functions.indexOf('↩️ rolled back')).toBeLessThan(firstOk)
    })
  })

  it('names every function with its status when it fits, and says when it is shortened', () => {
    const run = fleetRun('plan', size)
    const summary = renderSummary(run, noSecrets)
    const shortened = summary.includes('**Shortened**')
    if (size === 1000) expect(shortened).toBe(false)
    if (!shortened) expect(statusByName(summary)).toEqual(expectedStatuses(run))
    else expect(summary).toMatch(/Every function, with its error and diff, is in the `report` output/)
  })
})

describe('the job summary when the room is small', () => {
  const run = fleetRun('plan', 1000)
  const room = (max: number): Room => ({
    max,
    measure: utf8Length,
    cap: 'the test cap',
    elsewhere: 'the `report` output'
  })

  it('steps down one level at a time and says what it left out', () => {
    const full = renderSummary(run, noSecrets, room(10_000_000))
    expect(full).not.toContain('**Shortened**')
    const compact = renderSummary(run, noSecrets, room(utf8Length(full) - 1))
    expect(compact).toContain('> **Shortened** to stay within the test cap: errors are cut to 300 characters')
    expect(utf8Length(compact)).toBeLessThan(utf8Length(full))
    expect(failuresShown(run, compact)).toEqual([])
  })

  it('groups functions that did not change into a count at the last step', () => {
    const counted = renderSummary(run, noSecrets, room(60_000))
    expect(utf8Length(counted)).toBeLessThanOrEqual(60_000)
    expect(counted).toContain('functions (names left out)')
    expect(counted).toContain('the names of functions that did not change are only counted')
    expect(detailsBalanced(counted)).toBe(true)
    expect(fencesClosed(counted)).toBe(true)
  })

  it('ends after the last whole block that fits when even the last step is too large', () => {
    const cut = renderSummary(run, noSecrets, room(8_000))
    expect(utf8Length(cut)).toBeLessThanOrEqual(8_000)
    expect(cut).toMatch(
      /\n\n\*\*Shortened here: \d+ more parts of this text \(rows, list items, sections\) are left out to stay within the test cap/
    )
    expect(detailsBalanced(cut)).toBe(true)
    expect(fencesClosed(cut)).toBe(true)
    // The title and the tally of every status come first and stay.
    expect(cut).toContain('1000 functions: ')
  })
})

describe('fitBlocks', () => {
  const room: Room = { max: 40, measure: (text) => text.length, cap: 'cap', elsewhere: 'there' }
  it('keeps the text whole when it fits', () => {
    expect(fitBlocks(['a', 'b'], room)).toBe('a\nb')
  })
  it('drops whole blocks from the end, never a part of one, and says how many', () => {
    const text = fitBlocks(['head', '<details>\nx\n</details>', 'y'.repeat(300)], { ...room, max: 250 })
    expect(text.startsWith('head\n<details>\nx\n</details>\n')).toBe(true)
    expect(text).not.toContain('yyy')
    expect(text).toContain(
      '\n\n**Shortened here: 1 more part of this text (rows, list items, sections) is left out to stay within cap. Every function is in there.**'
    )
    expect(text.length).toBeLessThanOrEqual(250)
  })
})

describe.each([1000, 5000])('the plan comment of %i functions', (size) => {
  const run = fleetRun('plan', size)
  const comment = renderPlanComment(run, noSecrets, 'https://github.com/acme/lambdas/actions/runs/7')

  it('fits a comment with room for its marker, its markup whole', () => {
    // The marker that opens the comment is at most ~250 characters.
    expect(comment.length + 300).toBeLessThanOrEqual(COMMENT_MAX_CHARACTERS)
    expect(detailsBalanced(comment)).toBe(true)
    expect(fencesClosed(comment)).toBe(true)
    expect(comment).toMatch(/<sub>From \[this run\]\(https:\/\/github.com\/acme\/lambdas\/actions\/runs\/7\)/)
  })

  it('keeps the count of every status and says where the rest is', () => {
    expect(comment).toContain(`${size} functions: `)
    expect(comment).toContain("GitHub's 65,536-character cap on a comment")
    expect(comment).toContain('the job summary of this run and its `report` output')
  })

  it('shows the failures first, each with its error, as far as they fit', () => {
    const errors = comment.indexOf('### Errors')
    expect(errors).toBeGreaterThan(0)
    expect(errors).toBeLessThan(comment.search(/📝 will change|### Functions/))
    const [failed] = run.outcomes.filter(({ report }) => report.status === 'failed')
    expect(comment).toContain(markdownText(failed?.report.error ?? '', { max: 300 }))
  })
})

describe('5,000 failures', () => {
  const failures = (error: (name: string, index: number) => string): RunResult => {
    const run = fleetRun('apply', 5000)
    return {
      ...run,
      outcomes: run.outcomes.map((outcome, index) => ({
        ...outcome,
        report: { ...outcome.report, status: 'failed', error: error(outcome.report.function, index) }
      }))
    }
  }

  it('of one kind read as that error once, with every name, within 1 MiB', () => {
    const run = failures(
      (name) =>
        `Not allowed to read ${name} (User: arn:aws:sts::123456789012:assumed-role/deploy/ci is not authorized to perform: lambda:GetFunctionConfiguration on resource: arn:aws:lambda:us-east-1:123456789012:function:${name}); the deploy role needs lambda:GetFunctionConfiguration on it.`
    )
    const summary = renderSummary(run, noSecrets)
    expect(utf8Length(summary)).toBeLessThanOrEqual(STEP_SUMMARY_MAX_BYTES)
    expect(failuresShown(run, summary)).toEqual([])
    expect(detailsBalanced(summary)).toBe(true)
  })

  it('each with its own long error stay within 1 MiB, whole blocks only, the first failures with their errors', () => {
    const run = failures((name, index) => `${name} failed: ${String(index).repeat(2000).slice(0, 1990)}`)
    const summary = renderSummary(run, noSecrets)
    expect(utf8Length(summary)).toBeLessThanOrEqual(STEP_SUMMARY_MAX_BYTES)
    expect(detailsBalanced(summary)).toBe(true)
    expect(fencesClosed(summary)).toBe(true)
    expect(summary).toContain('5000 functions: 5000 failed.')
    expect(summary).toMatch(/Shortened here: \d+ more parts/)
    const [first] = run.outcomes
    expect(summary).toContain(markdownText(first?.report.error ?? '', { max: 300 }))
  })
})
