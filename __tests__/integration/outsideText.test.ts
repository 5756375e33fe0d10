/**
 * A test invocation whose log tail is full of workflow commands and markup, through dist/index.js as the
 * runner runs it (the fault proxy answers the Invoke with `function-error` and the hostile tail): stdout,
 * read as the runner reads it, runs none of them, the action's own annotations still work, and the
 * summary and the report output carry the tail as inert text.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { readAsRunner } from '../support/runnerCommands.js'
import { type ActionRun, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const TAIL = [
  'START RequestId: 1',
  '::error::INJECTED-error',
  '  ::add-mask::INJECTED-mask',
  '::stop-commands::INJECTED-stop',
  '##[warning]INJECTED-legacy',
  '\u00a0::set-output name=changed::INJECTED-output',
  'text ##[error]INJECTED-midline',
  '\u001b[31m<img src=x onerror=alert(1)> [reviewed](https://evil.example) @octocat #1',
  '# ✅ reviewed',
  'END RequestId: 1',
  ''
].join('\n')

let port = 0
let run: ActionRun
let stopProxy: (() => Promise<void>) | undefined

beforeAll(async () => {
  port = await freePort()
  const endpoint = startEmulator(port)
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
  const proxy = await startFaultProxy({
    target: endpoint,
    seed: 1,
    rules: [
      {
        operation: 'Invoke',
        functionName: 'orders-api',
        fault: 'function-error',
        logTail: TAIL,
        errorMessage: '::error::INJECTED-payload'
      }
    ]
  })
  stopProxy = () => proxy.close()
  run = await runAction({
    endpoint: proxy.url,
    inputs: {
      functions: 'orders-api',
      'aws-region': 'us-east-1',
      'layer-account': '123456789012',
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      'cloudwatch-check-seconds': '0',
      'annotate-files': 'false',
      preflight: 'false',
      mode: 'apply'
    },
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' }
  })
}, 180_000)

afterAll(async () => {
  await stopProxy?.()
  if (port) stopEmulator(port)
})

describe('a hostile log tail of a test invocation', () => {
  it('rolls the function back and fails the step', () => {
    const [row] = JSON.parse(run.outputs.report ?? '[]') as Array<{ status: string; error: string }>
    expect(row?.status).toBe('rolled-back')
    expect(run.exitCode).toBe(1)
  })

  it('runs no command from the tail: only the action speaks, and its annotations after the tail still work', () => {
    expect(run.stdout).toContain('::error::INJECTED-error')
    const reading = readAsRunner(run.stdout)
    expect(reading.stopped).toBe(false)
    for (const command of reading.commands) {
      // The action's own commands start at column 0; those that carry the tail are its titled annotations.
      expect(command.line.startsWith('::')).toBe(true)
      if (command.line.includes('INJECTED')) expect(command.line).toMatch(/^::(error|warning) title=/)
    }
    expect(reading.commands.filter(({ command }) => command === 'set-output')).toEqual([])
    // The action masks the function's own values once it has read them (orders-api's DB_HOST), nothing else.
    expect(reading.commands.filter(({ command }) => command === 'add-mask').map(({ data }) => data)).toEqual([
      'db.internal'
    ])
    expect(
      reading.commands.some(({ command, data }) => command === 'error' && /could not be instrumented/.test(data))
    ).toBe(true)
  })

  it('shows the tail in the summary as text, not markup', () => {
    expect(run.summary).toContain('INJECTED-midline')
    // The whole tail, as a block that shows it as it came.
    const block = /<pre>([^]*)<\/pre>/.exec(run.summary)?.[1] ?? ''
    expect(block.replace(/&#x([0-9a-f]+);/g, (_, code: string) => String.fromCharCode(parseInt(code, 16)))).toBe(
      TAIL.replace('\u001b[31m', '').trimEnd()
    )
    expect(run.summary).not.toMatch(/<(?!\/?(pre|sub|details|summary)>)/)
    expect(run.summary).not.toContain('](https://evil')
    expect(run.summary).not.toMatch(/@octocat|#1\b/)
    for (const line of run.summary.split('\n')) if (line.startsWith('#')) expect(line).toMatch(/^##+ [A-Z]/)
  })

  it('keeps the report output free of terminal escapes and legacy commands, the tail intact', () => {
    const report = run.outputs.report ?? ''
    expect(report).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    expect(report).not.toContain('##[')
    const [row] = JSON.parse(report) as Array<{ error: string }>
    expect(row?.error).toContain('text ##[error]INJECTED-midline')
  })
})
