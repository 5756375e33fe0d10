/**
 * What the action writes to stdout, read as the runner reads it (__tests__/support/runnerCommands.ts):
 * outside text in the log and in annotations runs no command, and the action's own commands still work.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as core from '@actions/core'
import type { ActionConfig } from '../../../src/core/config.js'
import { emptyReport, type FunctionOutcome, type FunctionReport, type Mode } from '../../../src/core/model.js'
import { runnerReporter } from '../../../src/github/runnerReporter.js'
import { createRedactor } from '../../../src/core/redact.js'
import { publishResult } from '../../../src/github/report.js'
import { readAsRunner } from '../../support/runnerCommands.js'

const HOSTILE_LINES = [
  '::error::x',
  '  ::add-mask::y',
  '::stop-commands::z',
  '##[warning]w',
  'mid-line ##[set-output name=a]b'
]

let stdout = ''
const savedEnv = { ...process.env }
beforeEach(() => {
  stdout = ''
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  })
  // No runner files: outputs and the summary go to stdout as well, where the runner would read them.
  delete process.env.GITHUB_OUTPUT
  delete process.env.GITHUB_STEP_SUMMARY
})
afterEach(() => {
  jest.restoreAllMocks()
  process.env = { ...savedEnv }
  process.exitCode = undefined
})

describe('runnerReporter.outsideGroup', () => {
  it('prints a log tail full of commands so that the runner runs none, and the annotation after it', () => {
    runnerReporter.outsideGroup('fn (us-east-1): rolled-back', [
      'Test invocation: status 200',
      'Log tail:',
      ...HOSTILE_LINES.map((line) => `    ${line}`)
    ])
    core.warning('the action still speaks')
    const reading = readAsRunner(stdout)
    expect(reading.commands.map(({ command, data }) => [command, data])).toEqual([
      ['group', 'fn (us-east-1): rolled-back'],
      ['endgroup', ''],
      ['warning', 'the action still speaks']
    ])
    expect(reading.stopped).toBe(false)
    for (const line of HOSTILE_LINES) expect(stdout).toContain(line)
  })

  it('keeps a title with line breaks and commands on its own line', () => {
    runnerReporter.outsideGroup('evil\n::add-mask::x\r##[error]y (us-east-1): failed', [])
    const reading = readAsRunner(stdout)
    expect(reading.commands.map(({ command }) => command)).toEqual(['group', 'endgroup'])
  })

  it('prints one outside line the same way', () => {
    runnerReporter.outside('Could not look up the latest ::error::x in us-east-1: ##[add-mask]y')
    expect(readAsRunner(stdout).commands).toEqual([])
  })
})

const outcome = (name: string, extra: Partial<FunctionReport>, warnings: string[] = []): FunctionOutcome => ({
  report: {
    ...emptyReport({ given: name, name, region: 'us-east-1', account: undefined, partition: 'aws' }),
    arn: null,
    architecture: 'x86_64',
    ...extra
  },
  layer: undefined,
  log: [],
  warnings
})

describe('publishResult', () => {
  const config = (mode: Mode): ActionConfig => ({ mode, failOnDrift: true }) as ActionConfig
  const NAME = 'fn,file=/etc/passwd::x\n::add-mask::z'
  const ERROR = `the test invocation failed. Log tail: ${HOSTILE_LINES.join('\n')}\u001b[31m`

  it('writes annotations, outputs and the summary so that outside text runs no command', async () => {
    const outcomes = [
      outcome(NAME, { status: 'rolled-back', error: ERROR }, ['##[warning]secret ::add-mask::w']),
      outcome('drifty', { status: 'drifted', drift: ['layer ::error::d', '##[error]e'] })
    ]
    await publishResult(
      config('check'),
      { mode: 'check', outcomes, layers: new Map(), testInvoke: true },
      createRedactor([]),
      runnerReporter,
      {}
    )
    const reading = readAsRunner(stdout)
    expect(reading.stopped).toBe(false)
    const kinds = reading.commands.map(({ command }) => command)
    // The action's own: 5 outputs, a warning, 2 drift warnings... exactly what publishResult issues, nothing else.
    expect(kinds.filter((kind) => kind === 'set-output')).toHaveLength(5)
    expect(kinds.filter((kind) => kind === 'warning')).toHaveLength(2)
    expect(kinds.filter((kind) => kind === 'error')).toHaveLength(2)
    expect(kinds.filter((kind) => !['set-output', 'warning', 'error'].includes(kind))).toEqual([])
    expect(stdout).not.toContain('\u001b')
  })

  it('keeps a function name inside its annotation title', async () => {
    await publishResult(
      config('apply'),
      {
        mode: 'apply',
        outcomes: [outcome(NAME, { status: 'failed', error: 'it broke' })],
        layers: new Map(),
        testInvoke: true
      },
      createRedactor([]),
      runnerReporter,
      {}
    )
    const annotation = readAsRunner(stdout).commands.find(
      ({ command, data }) => command === 'error' && data === 'it broke'
    )
    const title = /^::error title=([^:]*)::/.exec(annotation?.line ?? '')?.[1]
    // One property, the title, with `,` and `:` escaped: the name cannot add a file or end the properties.
    expect(title).toBe('fn%2Cfile=/etc/passwd%3A%3Ax %3A%3Aadd-mask%3A%3Az%3A failed')
  })
})
