/** scripts/runner-log.mjs: the demo shows a step's log as GitHub's log viewer does, not the raw commands. */
import { describe, expect, it } from '@jest/globals'
import { createRunnerLog, readOutputs } from '../../scripts/runner-log.mjs'

const render = (...raw: string[]): string[] => {
  const shown: string[] = []
  const log = createRunnerLog((line) => shown.push(line))
  for (const line of raw) log.line(line)
  return shown
}

describe('createRunnerLog', () => {
  it('hides masks and debug lines, and every masked value after its mask, the longer value first', () => {
    expect(
      render(
        '::add-mask::key-123',
        '::add-mask::Authorization=key-123',
        '::debug::token url http://x',
        'sent Authorization=key-123 and key-123'
      )
    ).toEqual(['sent *** and ***'])
  })

  it('heads groups and indents their lines; annotations read with their kind and title, data unescaped', () => {
    expect(
      render(
        '::group::orders-api (us-east-1): updated',
        'Test invocation: status 200',
        '::endgroup::',
        '::warning title=CloudWatch Logs%3A check::two%0Alines 100%25'
      )
    ).toEqual([
      '▸ orders-api (us-east-1): updated',
      '  Test invocation: status 200',
      'Warning (CloudWatch Logs: check): two',
      'lines 100%'
    ])
  })

  it('runs no command between stop-commands and its token, as the runner does, and shows those lines as they are', () => {
    expect(
      render('::stop-commands::tok-1', '::add-mask::not-a-mask', '::error::not an error', '::tok-1::', 'not-a-mask')
    ).toEqual(['::add-mask::not-a-mask', '::error::not an error', 'not-a-mask'])
  })

  it('masks text given after the step (the summary) with the masks the step registered', () => {
    const log = createRunnerLog(() => undefined)
    log.line('::add-mask::s3cr3t')
    expect(log.mask('| a | s3cr3t |')).toBe('| a | *** |')
  })
})

describe('readOutputs', () => {
  it('reads heredoc and name=value outputs, keeping lines inside a value', () => {
    expect(readOutputs('changed<<ghadelimiter_1\ntrue\nghadelimiter_1\nreport<<d2\n[1,\n2]\nd2\nplain=x=y\n')).toEqual({
      changed: 'true',
      report: '[1,\n2]',
      plain: 'x=y'
    })
  })
})
