import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import type { LayerVersion } from '../../../src/core/layerVersions.js'
import { createRedactor } from '../../../src/core/redact.js'
import { emptyReport, type FunctionOutcome, type FunctionReport } from '../../../src/core/model.js'
import { plainText } from '../../../src/core/outsideText.js'
import { layersByRegionAndArch, renderOutputs, renderSummary, type RunResult } from '../../../src/core/summary.js'

const ROTEL = '418653438961'
const layerArn = (region: string, arch: 'amd64' | 'arm64', version: number): string =>
  `arn:aws:lambda:${region}:${ROTEL}:layer:rotel-extension-${arch}-alpha:${version}`
const fnArn = (region: string, name: string): string => `arn:aws:lambda:${region}:123456789012:function:${name}`

const layer = (region: string, arch: 'amd64' | 'arm64', version: number, tag: string | undefined): LayerVersion => ({
  arn: layerArn(region, arch, version),
  layerArn: layerArn(region, arch, version).replace(/:\d+$/, ''),
  version,
  description: tag ? `Tag=${tag}` : undefined,
  tag,
  compatibleArchitectures: [arch === 'amd64' ? 'x86_64' : 'arm64']
})

const report = (
  overrides: Partial<FunctionReport> & Pick<FunctionReport, 'function' | 'region' | 'status'>
): FunctionReport => ({
  ...emptyReport({
    given: overrides.function,
    name: overrides.function,
    region: overrides.region,
    account: undefined,
    partition: 'aws'
  }),
  arn: fnArn(overrides.region, overrides.function),
  architecture: 'x86_64',
  ...overrides
})

const outcome = (r: FunctionReport, l: LayerVersion | undefined): FunctionOutcome => ({
  report: r,
  layer: l,
  log: [],
  warnings: []
})

const AMD_USE1 = layer('us-east-1', 'amd64', 41, 'v0.1.41-alpha')
const ARM_EUW1 = layer('eu-west-1', 'arm64', 41, 'v0.1.41-alpha')
const ARM_USE1 = layer('us-east-1', 'arm64', 40, 'v0.1.40-alpha')

/** Updated from version 40 to 41, test-invoked fine, CloudWatch still on. */
const updated = outcome(
  report({
    function: 'orders-api',
    region: 'us-east-1',
    status: 'updated',
    architecture: 'x86_64',
    layerBefore: layerArn('us-east-1', 'amd64', 40),
    layerAfter: AMD_USE1.arn,
    layersBefore: [layerArn('us-east-1', 'amd64', 40)],
    layersAfter: [AMD_USE1.arn],
    changedVariables: ['ROTEL_OTLP_EXPORTER_ENDPOINT', 'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS'],
    invocation: { status: 'ok', statusCode: 200, functionError: null },
    cloudwatch: 'on',
    cloudwatchDetail: 'stream 2025/06/15/[$LATEST]ab12 in /aws/lambda/orders-api was created 3 s after the update'
  }),
  AMD_USE1
)

/** Already had layer 41 and the settings. */
const unchanged = outcome(
  report({
    function: 'image-worker',
    region: 'eu-west-1',
    status: 'unchanged',
    architecture: 'arm64',
    layerBefore: ARM_EUW1.arn,
    layerAfter: ARM_EUW1.arn,
    layersBefore: [ARM_EUW1.arn],
    layersAfter: [ARM_EUW1.arn],
    cloudwatch: 'off'
  }),
  ARM_EUW1
)

/** Updated, failed its test invocation, put back as it was. */
const rolledBack = outcome(
  report({
    function: 'billing-job',
    region: 'us-east-1',
    status: 'rolled-back',
    architecture: 'arm64',
    layerBefore: null,
    layerAfter: null,
    invocation: { status: 'failed', statusCode: 200, functionError: 'Unhandled' },
    cloudwatch: 'unknown',
    error:
      'billing-job: the test invocation failed (status 200, Unhandled error). It was rolled back to its previous configuration.'
  }),
  ARM_USE1
)

/** Could not even be read. */
const failed = outcome(
  report({
    function: 'legacy-cron',
    region: 'us-west-2',
    status: 'failed',
    arn: null,
    architecture: null,
    error:
      'Not allowed to read legacy-cron in us-west-2 (User is not authorized); the deploy role needs lambda:GetFunction on it.'
  }),
  undefined
)

const ALL = [updated, unchanged, rolledBack, failed]
const TARGET = { given: 'x', name: 'x', region: 'us-east-1', account: undefined, partition: 'aws' }
const result = (outcomes: readonly FunctionOutcome[], testInvoke = true): RunResult => ({
  mode: 'apply',
  outcomes,
  layers: layersByRegionAndArch(outcomes),
  testInvoke
})
const noSecrets = createRedactor([])

/** The cells of the table row that starts with `first` (a name, then its region and arch), unescaped. */
function rowOf(markdown: string, first: string): string[] {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${first} |`) || l.startsWith(`| ${first} <sub>`))
  if (!line) throw new Error(`no row for ${first} in:\n${markdown}`)
  return line
    .slice(2, -2)
    .split(/ (?<!\\)\| /)
    .map((c) => c.trim())
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`### ${heading}`)
  if (start < 0) return ''
  const next = markdown.indexOf('\n### ', start + 1)
  return markdown.slice(start, next < 0 ? undefined : next)
}

describe('layersByRegionAndArch', () => {
  it('keys each used layer by "<region>/<arch>", sorted, leaving out functions without a layer or an architecture', () => {
    const noArch = outcome(
      report({ function: 'x', region: 'us-west-1', status: 'failed', architecture: null }),
      AMD_USE1
    )
    const layers = layersByRegionAndArch([...ALL, noArch])
    expect([...layers.keys()]).toEqual(['eu-west-1/arm64', 'us-east-1/arm64', 'us-east-1/x86_64'])
    expect(layers.get('us-east-1/x86_64')).toBe(AMD_USE1)
    expect(layers.get('us-east-1/arm64')).toBe(ARM_USE1)
    expect(layers.get('eu-west-1/arm64')).toBe(ARM_EUW1)
  })
})

describe('renderSummary', () => {
  const summary = renderSummary(result(ALL), noSecrets)

  it('tallies the statuses', () => {
    expect(summary).toContain('4 functions: 1 updated, 1 unchanged, 1 rolled back, 1 failed.')
  })

  it('has one row per function: name with region and arch, result, short layer change and settings count', () => {
    const functions = section(summary, 'Functions')
    for (const name of ['orders-api', 'image-worker', 'billing-job', 'legacy-cron'])
      expect(functions.split('\n').filter((l) => l.startsWith(`| ${name} `))).toHaveLength(1)

    const api = rowOf(functions, 'orders-api')
    expect(api.slice(0, 2)).toEqual(['orders-api <sub>us-east-1 · x86_64</sub>', '✅ updated'])
    // The same layer at a new version reads as the version's change; the Layer table has the full ARN.
    expect(api[2]).toBe('`rotel-extension-amd64-alpha` 40 → 41 · 2 variables')
    expect(api[3]).toBe('ok (200)')
    expect(api[4]).toBe('⚠️ still receiving logs')

    const worker = rowOf(functions, 'image-worker')
    expect(worker.slice(0, 3)).toEqual([
      'image-worker <sub>eu-west-1 · arm64</sub>',
      '➖ unchanged',
      '`rotel-extension-arm64-alpha:41`'
    ])
    // Nothing was invoked, so nothing was looked at: the cell says so rather than a stale verdict.
    expect(worker[4]).toBe('not looked at')

    const billing = rowOf(functions, 'billing-job')
    expect(billing.slice(1, 4)).toEqual(['↩️ rolled back', '—', 'failed (200) Unhandled'])
    // The invocation failed, so the CloudWatch check was never made: not "unknown".
    expect(billing[4]).toBe('not looked at')

    expect(rowOf(functions, 'legacy-cron').slice(0, 2)).toEqual([
      'legacy-cron <sub>us-west-2 · arch unknown</sub>',
      '❌ failed'
    ])
  })

  it('shows a first install as (none) → the new layer, and a change of layer name in full short names', () => {
    const fresh = outcome(
      report({
        function: 'new-fn',
        region: 'us-east-1',
        status: 'updated',
        layerAfter: AMD_USE1.arn,
        changedVariables: ['ROTEL_OTLP_EXPORTER_ENDPOINT']
      }),
      AMD_USE1
    )
    expect(rowOf(renderSummary(result([fresh]), noSecrets), 'new-fn')[2]).toBe(
      '(none) → `rotel-extension-amd64-alpha:41` · 1 variable'
    )
    const renamed = outcome(
      report({
        function: 'renamed',
        region: 'us-east-1',
        status: 'updated',
        layerBefore: layerArn('us-east-1', 'arm64', 40),
        layerAfter: AMD_USE1.arn
      }),
      AMD_USE1
    )
    expect(rowOf(renderSummary(result([renamed]), noSecrets), 'renamed')[2]).toBe(
      '`rotel-extension-arm64-alpha:40` → `rotel-extension-amd64-alpha:41`'
    )
  })

  it('says the invocation was not made when test-invoke is off, and that CloudWatch Logs were not looked at', () => {
    const changed = { ...updated, report: { ...updated.report, invocation: emptyReport(TARGET).invocation } }
    const off = rowOf(renderSummary(result([changed], false), noSecrets), 'orders-api')
    expect(off.slice(3)).toEqual(['off (test-invoke: false)', 'not looked at (no test invocation)'])
    const on = rowOf(renderSummary(result([unchanged], true), noSecrets), 'image-worker')
    expect(on.slice(3)).toEqual(['not made', 'not looked at'])
  })

  it.each([
    ['off', null, 'no new log stream since the update'],
    ['on', 'stream s was created', '⚠️ still receiving logs'],
    ['unknown', 'could not read log group g: AccessDenied', 'could not tell (see the warning)'],
    ['unknown', null, 'not looked at']
  ] as const)(
    'words the CloudWatch verdict %s (detail %s) as "%s", never "on", "off" or "unknown"',
    (cw, detail, words) => {
      const seen = { ...updated, report: { ...updated.report, cloudwatch: cw, cloudwatchDetail: detail } }
      expect(rowOf(renderSummary(result([seen]), noSecrets), 'orders-api')[4]).toBe(words)
    }
  )

  it('lists each region/arch layer ARN with its tag', () => {
    const layers = section(summary, 'Layer')
    expect(rowOf(layers, 'us-east-1/x86_64')).toEqual(['us-east-1/x86_64', `\`${AMD_USE1.arn}\``, 'v0.1.41-alpha'])
    expect(rowOf(layers, 'us-east-1/arm64')).toEqual(['us-east-1/arm64', `\`${ARM_USE1.arn}\``, 'v0.1.40-alpha'])
    expect(rowOf(layers, 'eu-west-1/arm64')).toEqual(['eu-west-1/arm64', `\`${ARM_EUW1.arn}\``, 'v0.1.41-alpha'])
    expect(layers.split('\n').filter((l) => l.startsWith('| ') && l.includes('arn:aws:lambda'))).toHaveLength(3)
  })

  it('lists every error, and only errors', () => {
    const errors = section(summary, 'Errors')
    expect(errors).toContain(`- **billing-job** (us-east-1): ${rolledBack.report.error ?? ''}`)
    expect(errors).toContain(`- **legacy-cron** (us-west-2): ${failed.report.error ?? ''}`)
    expect(errors.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(2)
    expect(section(renderSummary(result([updated, unchanged]), noSecrets), 'Errors')).toBe('')
  })

  it('names the functions CloudWatch Logs still receives logs from', () => {
    const cloudwatch = section(summary, 'CloudWatch Logs')
    expect(cloudwatch).toContain('orders-api')
    expect(cloudwatch).not.toContain('image-worker')
    expect(section(renderSummary(result([unchanged]), noSecrets), 'CloudWatch Logs')).toBe('')
  })

  it.each([
    { what: 'all unchanged', outcomes: [unchanged], nothing: true },
    { what: 'one updated', outcomes: [unchanged, updated], nothing: false },
    { what: 'one failed', outcomes: [unchanged, failed], nothing: false },
    { what: 'one rolled back', outcomes: [unchanged, rolledBack], nothing: false },
    { what: 'everything', outcomes: ALL, nothing: false }
  ])('says "Nothing to change" only when nothing changed or failed: $what', ({ outcomes, nothing }) => {
    const text = renderSummary(result(outcomes), noSecrets)
    expect(text.includes('Nothing to change')).toBe(nothing)
  })
})

describe('renderSummary of a stopped rollout', () => {
  it('lists the failure first, then the functions not started, whose one reason is said once with their names', () => {
    const failedCanary = report({
      function: 'wave-00',
      region: 'us-east-1',
      status: 'rolled-back',
      error: 'wave-00: the test invocation failed (status 200, Unhandled error). It was rolled back.'
    })
    const skipped = ['wave-01', 'wave-02', 'wave-03'].map((name) =>
      report({
        function: name,
        region: 'us-east-1',
        status: 'skipped',
        error: `${name} was not started: the rollout stopped after the canary function wave-00 failed.`
      })
    )
    const summary = renderSummary(
      {
        mode: 'apply',
        outcomes: [...skipped, failedCanary].map((r) => outcome(r, undefined)),
        layers: new Map(),
        testInvoke: true,
        stopped: 'the canary function wave-00 failed'
      },
      createRedactor()
    )
    expect(summary).toContain('4 functions: 1 rolled back, 3 skipped.')
    const errors = summary.slice(summary.indexOf('### Errors'))
    expect(errors.split('\n').filter((line) => line.startsWith('- '))).toEqual([
      '- **wave-00** (us-east-1): wave-00: the test invocation failed (status 200, Unhandled error). It was rolled back.',
      expect.stringMatching(
        /^- \*\*3 functions\*\* \(… is each one's name\): … was not started: the rollout stopped after the canary function wave-00 failed\. .*wave-01, wave-02, wave-03/
      )
    ])
    expect(summary.indexOf('↩️ rolled back')).toBeLessThan(summary.indexOf('⏭️ skipped'))
  })
})

describe('renderSummary with json-logs', () => {
  const switched = report({
    function: 'orders-api',
    region: 'us-east-1',
    status: 'planned',
    layerBefore: AMD_USE1.arn,
    layerAfter: AMD_USE1.arn,
    layersBefore: [AMD_USE1.arn],
    layersAfter: [AMD_USE1.arn],
    changedVariables: ['CLICKSTACK_ACTION_PREVIOUS_LOG_FORMAT'],
    diff: {
      layers: { before: [AMD_USE1.arn], after: [AMD_USE1.arn] },
      variables: [
        { name: 'CLICKSTACK_ACTION_PREVIOUS_LOG_FORMAT', change: 'added', before: null, after: 'Text', shown: true }
      ],
      logFormat: { before: 'Text', after: 'JSON' }
    }
  })
  const text = renderSummary({ ...result([outcome(switched, AMD_USE1)]), mode: 'plan' }, noSecrets)

  it('names the log format among the settings that change', () => {
    expect(rowOf(text, 'orders-api')[2]).toBe('`rotel-extension-amd64-alpha:41` · 1 variable · LogFormat Text → JSON')
  })

  it('shows the log format in the diff of the function', () => {
    const changes = section(text, 'Changes')
    expect(changes).toContain('# logging\n- LoggingConfig.LogFormat=Text\n+ LoggingConfig.LogFormat=JSON\n```')
    expect(changes).toContain('+ CLICKSTACK_ACTION_PREVIOUS_LOG_FORMAT=Text')
  })

  it('shows no logging part when the format does not change', () => {
    const plain = {
      ...switched,
      changedVariables: [],
      diff: { layers: { before: [], after: [AMD_USE1.arn] }, variables: [] }
    }
    const other = renderSummary({ ...result([outcome(plain, AMD_USE1)]), mode: 'plan' }, noSecrets)
    expect(other).not.toContain('LogFormat')
  })
})

describe('renderOutputs', () => {
  it.each([
    { what: 'one updated', outcomes: [unchanged, updated], changed: 'true' },
    { what: 'all unchanged', outcomes: [unchanged], changed: 'false' },
    { what: 'rolled back and failed only', outcomes: [rolledBack, failed, unchanged], changed: 'false' },
    { what: 'no functions', outcomes: [], changed: 'false' }
  ])('changed is $changed when $what', ({ outcomes, changed }) => {
    expect(renderOutputs(result(outcomes), noSecrets).changed).toBe(changed)
  })

  it('reports every function as JSON with the documented fields', () => {
    const outputs = renderOutputs(result(ALL), noSecrets)
    const parsed = JSON.parse(outputs.report) as Array<Record<string, unknown>>
    expect(parsed).toHaveLength(4)
    for (const row of parsed) {
      for (const field of [
        'function',
        'arn',
        'region',
        'architecture',
        'status',
        'layerBefore',
        'layerAfter',
        'layersBefore',
        'layersAfter',
        'changedVariables',
        'invocation',
        'cloudwatch',
        'cloudwatchDetail',
        'diff',
        'drift',
        'delivery',
        'executionRole',
        'error'
      ])
        expect(row).toHaveProperty(field)
      expect(Object.keys(row.invocation as object).sort()).toEqual([
        'before',
        'functionError',
        'lowMemory',
        'report',
        'status',
        'statusCode'
      ])
    }
    expect(parsed[0]).toEqual({
      function: 'orders-api',
      arn: fnArn('us-east-1', 'orders-api'),
      executionRole: null,
      region: 'us-east-1',
      architecture: 'x86_64',
      status: 'updated',
      layerBefore: layerArn('us-east-1', 'amd64', 40),
      layerAfter: AMD_USE1.arn,
      layersBefore: [layerArn('us-east-1', 'amd64', 40)],
      layersAfter: [AMD_USE1.arn],
      changedVariables: ['ROTEL_OTLP_EXPORTER_ENDPOINT', 'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS'],
      invocation: { status: 'ok', statusCode: 200, functionError: null, report: null, lowMemory: false, before: null },
      cloudwatch: 'on',
      cloudwatchDetail: 'stream 2025/06/15/[$LATEST]ab12 in /aws/lambda/orders-api was created 3 s after the update',
      diff: null,
      drift: [],
      delivery: null,
      error: null
    })
    expect(parsed.map((r) => [r.function, r.status, r.cloudwatch])).toEqual([
      ['orders-api', 'updated', 'on'],
      ['image-worker', 'unchanged', 'off'],
      ['billing-job', 'rolled-back', 'unknown'],
      ['legacy-cron', 'failed', 'unknown']
    ])
    expect(parsed[2]?.invocation).toEqual({
      status: 'failed',
      statusCode: 200,
      functionError: 'Unhandled',
      report: null,
      lowMemory: false,
      before: null
    })
    expect(parsed[3]?.error).toBe(failed.report.error)
    expect(parsed[3]?.architecture).toBeNull()
  })

  it('gives layer-arns as a JSON object keyed "<region>/<arch>"', () => {
    const outputs = renderOutputs(result(ALL), noSecrets)
    expect(JSON.parse(outputs['layer-arns'])).toEqual({
      'eu-west-1/arm64': ARM_EUW1.arn,
      'us-east-1/arm64': ARM_USE1.arn,
      'us-east-1/x86_64': AMD_USE1.arn
    })
    expect(JSON.parse(renderOutputs(result([failed]), noSecrets)['layer-arns'])).toEqual({})
  })
})

describe('redaction', () => {
  const SECRET = 'ck_ingest_9f8e7d6c5b4a'
  const leaky = outcome(
    report({
      function: 'leaky-fn',
      region: 'us-east-1',
      status: 'failed',
      error: `leaky-fn: the test invocation failed (status 200, Unhandled error). Log tail: auth header Authorization=${SECRET} rejected | exit 1`
    }),
    AMD_USE1
  )
  const redact = createRedactor([SECRET])

  it('replaces a secret in an error with *** in the summary', () => {
    const summary = renderSummary(result([updated, leaky]), redact)
    expect(summary).not.toContain(SECRET)
    // Escaped as Markdown: GitHub shows it as `Authorization=*** rejected | exit 1`.
    expect(section(summary, 'Errors')).toContain('Authorization=\\*\\*\\* rejected \\| exit 1')
  })

  it('redacts a secret holding Markdown punctuation before escaping it, so that its escaped form is gone too', () => {
    const secret = 'p4_ss*w[0]rd|x'
    const punctuated = outcome(
      report({ function: 'punct-fn', region: 'us-east-1', status: 'failed', error: `login as ${secret} failed` }),
      AMD_USE1
    )
    const summary = renderSummary(result([punctuated]), createRedactor([secret]))
    expect(summary).not.toContain('p4')
    expect(section(summary, 'Errors')).toContain('login as \\*\\*\\* failed')
  })

  it('replaces a secret in an error with *** in the outputs', () => {
    const outputs = renderOutputs(result([updated, leaky]), redact)
    for (const value of Object.values(outputs)) expect(value).not.toContain(SECRET)
    const parsed = JSON.parse(outputs.report) as FunctionReport[]
    expect(parsed[1]?.error).toContain('Authorization=*** rejected')
  })

  it('keeps the report valid JSON with the secret redacted when the secret holds characters JSON escapes', () => {
    const secret = 'pa"ss\\w0rd'
    const quoted = outcome(
      report({ function: 'quoted-fn', region: 'us-east-1', status: 'failed', error: `login with ${secret} failed` }),
      AMD_USE1
    )
    const redactQuoted = createRedactor([secret])
    expect(renderSummary(result([quoted]), redactQuoted)).not.toContain(secret)
    const parsed = JSON.parse(renderOutputs(result([quoted]), redactQuoted).report) as FunctionReport[]
    expect(parsed[0]?.error).toBe('login with *** failed')
  })
})

describe('outside text in the summary and the outputs', () => {
  const NAME = 'x](https://evil.example)<img src=x onerror=alert(1)>@octocat\n# ✅ reviewed by security'
  const TAIL =
    'START\n::error::injected\n  ::add-mask::y\n##[warning]w\n\u001b[31m[click](https://evil.example) @admin #1'
  const hostile = outcome(
    report({
      function: NAME,
      region: 'us-east-1',
      status: 'rolled-back',
      layerBefore: `${layerArn('us-east-1', 'amd64', 40)}\n\`\`\``,
      layerAfter: layerArn('us-east-1', 'amd64', 41),
      layersBefore: [`arn:x\n\`\`\`\n# fake heading`],
      layersAfter: [layerArn('us-east-1', 'amd64', 41)],
      changedVariables: ['<b>BOLD</b>', 'A|B'],
      invocation: { status: 'failed', statusCode: 200, functionError: 'Unhandled<script>' },
      drift: ['layer is [old](https://evil.example)'],
      diff: {
        layers: { before: ['```', 'L1\n```\n# fake heading'], after: ['```', 'L1\n```\n# fake heading', 'L2'] },
        variables: []
      },
      executionRole: { role: 'role|<b>admin</b>', changes: ['grant @everyone'] },
      delivery: {
        status: 'error',
        logRecords: 0,
        spans: 0,
        firstArrivalMs: null,
        withInvocationId: false,
        link: 'https://hyperdx.example/search?where=a)](https://evil.example',
        detail: 'Code: 60. <b>DB::Exception</b> @clickhouse'
      },
      error: `the test invocation failed. Log tail: ${TAIL}`
    }),
    { ...AMD_USE1, tag: '<script>alert(1)</script> [x](https://evil.example)' }
  )
  const withTail: FunctionOutcome = { ...hostile, logTail: TAIL }
  const STATUS = { apply: 'updated', plan: 'planned', check: 'drifted', remove: 'removed' } as const
  // Each mode's change status, so that the diff block is shown as well.
  const run = (mode: RunResult['mode']): RunResult => ({
    ...result([{ ...hostile, report: { ...hostile.report, status: STATUS[mode] } }, withTail]),
    mode,
    notes: [
      '1 Rotel layer version is pinned behind the latest (docs/[x](https://evil.example).tf:3, # ✅ reviewed.tf:1)'
    ]
  })
  const OURS = /^(## Rotel Lambda Extension for ClickStack|### [A-Z]|# layers, in order|# variables|# logging)/

  it.each(['apply', 'plan', 'check', 'remove'] as const)('%s: outside text opens no markup', (mode) => {
    const summary = renderSummary(run(mode), noSecrets)
    expect(summary).not.toMatch(/<(?!\/?(pre|sub|details|summary)>)/)
    expect(summary).not.toContain('](https://evil')
    expect(summary).not.toMatch(/@(octocat|admin|everyone|clickhouse)/)
    expect(summary).not.toMatch(/#1\b/)
    expect(summary).not.toContain('\u001b')
    for (const line of summary.split('\n')) if (line.startsWith('#')) expect(line).toMatch(OURS)
    // Every table row keeps its columns: a pipe from outside is escaped.
    const tables = summary.split('\n').filter((line) => line.startsWith('|'))
    for (const table of ['Functions', 'Layer', 'Execution roles', 'Delivery to ClickStack']) {
      const rows = section(summary, table)
        .split('\n')
        .filter((line) => line.startsWith('|'))
      const columns = new Set(rows.map((row) => row.split(/(?<!\\)\|/).length))
      if (rows.length > 0) expect(columns.size).toBe(1)
    }
    expect(tables.length).toBeGreaterThan(0)
  })

  it("shows a failed test invocation's log tail as a block of text", () => {
    const tails = section(renderSummary(run('apply'), noSecrets), 'Log tails of the failed test invocations')
    const block = /<pre>([^]*)<\/pre>/.exec(tails)?.[1] ?? ''
    expect(block.replace(/&#x([0-9a-f]+);/g, (_, code: string) => String.fromCharCode(parseInt(code, 16)))).toBe(
      plainText(TAIL)
    )
    expect(tails).not.toMatch(/<(?!\/?pre>)/)
  })

  it('keeps the diff block closed by its own fence only', () => {
    const summary = renderSummary(run('plan'), noSecrets)
    const changes = section(summary, 'Changes').split('\n')
    const open = changes.findIndex((line) => /^`{3,}diff$/.test(line))
    const fence = (changes[open] ?? '').replace('diff', '')
    // CommonMark: a fence closes at a line of up to 3 spaces and at least as many backticks as it opened with.
    const closes = (line: string): boolean => (/^ {0,3}(`+)\s*$/.exec(line)?.[1]?.length ?? 0) >= fence.length
    const close = changes.findIndex((line, i) => i > open && closes(line))
    expect(changes[close]).toBe(fence)
    expect(changes[close - 1]).toMatch(/^\+ L2/)
    expect(changes.slice(open + 1, close).some((line) => line.includes('```'))).toBe(true)
  })

  it('keeps the report valid JSON without control characters or a legacy command, the text intact', () => {
    const { report: json, 'layer-arns': arns } = renderOutputs(run('apply'), noSecrets)
    expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    expect(json).not.toContain('##[')
    expect(arns).not.toContain('##[')
    const [row] = JSON.parse(json) as FunctionReport[]
    expect(row?.function).toBe(NAME)
    expect(row?.error).toContain('##[warning]w')
    expect(row?.error).not.toContain('\u001b')
  })

  it('bounds a long error in the summary and in the report', () => {
    const long = outcome(
      report({ function: 'long', region: 'us-east-1', status: 'failed', error: 'e'.repeat(100_000) }),
      undefined
    )
    expect(renderSummary(result([long]), noSecrets).length).toBeLessThan(5_000)
    expect(renderOutputs(result([long]), noSecrets).report.length).toBeLessThan(6_000)
  })

  it('shows at most ten log tails, each bounded, the cut redacted first', () => {
    const secret = 'tail-secret-0123456789'
    const tail = `${'x'.repeat(5_000)}${secret}${'y'.repeat(1_990)}\nEND`
    const many = Array.from({ length: 12 }, (_, i): FunctionOutcome => ({
      ...outcome(report({ function: `fn-${i}`, region: 'us-east-1', status: 'rolled-back' }), undefined),
      logTail: tail
    }))
    const tails = section(
      renderSummary(result(many), createRedactor([secret])),
      'Log tails of the failed test invocations'
    )
    const blocks = [...tails.matchAll(/<pre>([^<]*)<\/pre>/g)].map(([, block]) => block ?? '')
    expect(blocks).toHaveLength(10)
    for (const block of blocks) {
      const shown = block.replace(/&#x[0-9a-f]+;/g, '.')
      // Long lines go on in pieces of 110 characters, so that nothing scrolls sideways at 1,000 px.
      for (const line of shown.split('\n')) expect([...line].length).toBeLessThanOrEqual(110 + '  ↪ '.length)
      const whole = shown.replace(/\n {2}↪ /g, '')
      expect([...whole].length).toBeLessThanOrEqual(2000)
      expect(whole).toMatch(/^…x*\*\*\*y+\nEND$/)
    }
    expect(tails).toContain('The tails of 2 more are in the log.')
  })
})

describe('outside text in the summary, any text', () => {
  const piece = fc.oneof(
    fc.constantFrom(
      '[x](https://e.example)',
      '<img src=x>',
      '@octocat',
      '#12',
      '\n# h\n',
      '|',
      '`',
      '```',
      '::error::x',
      '##[warning]',
      '*',
      '_',
      '\r',
      '- ',
      '1. ',
      '> '
    ),
    fc.string({ maxLength: 6 })
  )
  const text = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''))
  const OURS = /^(## Rotel Lambda Extension for ClickStack|### [A-Z]|# layers, in order|# variables|# logging)/

  it('opens no markup, whatever the names, errors, tags, notes, drift and tails', () => {
    fc.assert(
      fc.property(text, text, text, text, text, text, (name, error, tag, note, drift, tail) => {
        const r = report({
          function: name,
          region: 'us-east-1',
          status: 'planned',
          error,
          drift: [drift],
          layerBefore: tag,
          layerAfter: name,
          changedVariables: [note],
          executionRole: { role: name, changes: [error] },
          delivery: {
            status: 'error',
            logRecords: 0,
            spans: 0,
            firstArrivalMs: null,
            withInvocationId: false,
            link: tail,
            detail: drift
          }
        })
        const planned: FunctionOutcome = {
          ...outcome(
            { ...r, diff: { layers: { before: [tag], after: [tag, name] }, variables: [] } },
            { ...AMD_USE1, tag }
          ),
          logTail: tail
        }
        const summary = renderSummary({ ...result([planned]), mode: 'plan', notes: [note] }, noSecrets)
        // Inside a code block (the diff) text is shown as it is; everywhere else it must be inert.
        let fence: string | undefined
        const outside: string[] = []
        for (const line of summary.split('\n')) {
          const run = /^ {0,3}(`{3,})/.exec(line)?.[1]
          if (fence === undefined && run) fence = run
          else if (fence !== undefined && run && run.length >= fence.length && /^ {0,3}`+\s*$/.test(line))
            fence = undefined
          else if (fence === undefined) outside.push(line)
        }
        expect(fence).toBeUndefined()
        for (const line of outside) {
          if (line.startsWith('#')) expect(line).toMatch(OURS)
          expect(line).not.toMatch(/<(?!\/?(pre|sub|details|summary)>)/)
          expect(line).not.toContain('](')
          expect(line).not.toMatch(/@octocat|#12/)
        }
      }),
      { numRuns: 200 }
    )
  })
})
