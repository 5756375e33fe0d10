/**
 * GitHub's caps on the job summary and the plan comment, and how a rendering is fitted under them: in
 * whole blocks of markup, never cut inside one, saying what was left out and where to find it.
 */

/**
 * A step's summary may hold at most 1 MiB: "If more than 1MiB of content is added for a step, then the
 * upload for the step will fail and an error annotation will be created" – nothing of it is shown.
 * https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#step-isolation-and-limits
 */
export const STEP_SUMMARY_MAX_BYTES = 1024 * 1024

/**
 * GitHub refuses an issue comment (a pull request's conversation comment) longer than 65,536 characters:
 * the REST API answers 422 "Body is too long (maximum is 65536 characters)". The figure is GitHub's answer;
 * the REST reference (https://docs.github.com/en/rest/issues/comments#create-an-issue-comment) names none.
 */
export const COMMENT_MAX_CHARACTERS = 65536

/** How much room a rendering has, how it is measured, and what the reader is told of the rest. */
export interface Room {
  /** The most the text may measure. */
  readonly max: number
  /** The text's size in the cap's unit: UTF-8 bytes for the summary, UTF-16 code units for a comment. */
  readonly measure: (text: string) => number
  /** The cap, in words: "GitHub's 1 MiB cap on a step summary". */
  readonly cap: string
  /** Where the reader finds what this text leaves out, as the end of a sentence: "the `report` output". */
  readonly elsewhere: string
}

/** UTF-8 bytes, what the runner uploads of the summary file. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** UTF-16 code units: never fewer than the characters GitHub counts, so a comment measured so always fits. */
export function utf16Length(text: string): number {
  return text.length
}

// Room kept back below each cap: the line that says the text was shortened, and a little to spare.
const SPARE_BYTES = 4096

/** The job summary's room: GitHub's cap less a spare; the rest is in the `report` output or its file. */
export const SUMMARY_ROOM: Room = {
  max: STEP_SUMMARY_MAX_BYTES - SPARE_BYTES,
  measure: utf8Length,
  cap: "GitHub's 1 MiB cap on a step summary",
  elsewhere: 'the `report` output (or the file `report-file` names)'
}

/**
 * The plan comment's room: the cap less the marker that opens the comment (at most ~250 characters) and
 * the footer that links the run.
 */
export const COMMENT_ROOM: Room = {
  max: COMMENT_MAX_CHARACTERS - 1024,
  measure: utf16Length,
  cap: "GitHub's 65,536-character cap on a comment",
  elsewhere: 'the job summary of this run and its `report` output'
}

/**
 * The blocks of a text, in order, as many from the first as fit in the room, then a line saying how many
 * were left out. A block is whole markup (a heading, a table row, a `<details>` element, a fenced block),
 * so the text never ends inside one. The first block (the title and tally) is always kept.
 */
export function fitBlocks(blocks: readonly string[], room: Room): string {
  const all = blocks.join('\n')
  if (room.measure(all) <= room.max) return all
  const leftOut = (count: number): string =>
    // After a blank line: right after a list item it would read as part of that item.
    `\n\n**Shortened here: ${count} more part${count === 1 ? '' : 's'} of this text (rows, list items, sections) ${count === 1 ? 'is' : 'are'} left out to stay within ${room.cap}. Every function is in ${room.elsewhere}.**`
  // The notice never needs more room than with the largest count.
  let used = room.measure(leftOut(blocks.length)) + 1
  let kept = 0
  for (const block of blocks) {
    const size = room.measure(block) + 1
    if (kept > 0 && used + size > room.max) break
    used += size
    kept++
  }
  return `${blocks.slice(0, kept).join('\n')}${leftOut(blocks.length - kept)}`
}
