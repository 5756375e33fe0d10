/**
 * A synthetic run over a fleet of functions, for the tests of GitHub's caps: varied statuses, names up to
 * Lambda's 64 characters, a few hostile names, errors, diffs (some shared, some each their own), delivery
 * and execution roles, the way a platform team's 1,000 or 5,000 functions would look.
 */
import {
  emptyReport,
  type FunctionOutcome,
  type FunctionReport,
  type FunctionStatus,
  type Mode
} from '../../src/core/model.js'
import type { RunResult } from '../../src/core/summary.js'

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2']
const ROTEL = (region: string, version: number): string =>
  `arn:aws:lambda:${region}:418653438961:layer:rotel-extension-amd64-alpha:${version}`

/** What each mode reports for a function it changes and for one it leaves. */
const CHANGE: Record<Mode, { change: FunctionStatus; quiet: FunctionStatus }> = {
  apply: { change: 'updated', quiet: 'unchanged' },
  plan: { change: 'planned', quiet: 'in-sync' },
  check: { change: 'drifted', quiet: 'in-sync' },
  remove: { change: 'removed', quiet: 'unchanged' }
}

/** Names a run could meet: short, at Lambda's 64-character limit, and text that would be markup if shown raw. */
export function fleetName(index: number): string {
  if (index % 97 === 13) return `x](https://evil.example)<img src=x>@octocat #1 ${index}`
  if (index % 3 === 0)
    return `team-payments-ingest-worker-${String(index).padStart(6, '0')}-${'x'.repeat(64)}`.slice(0, 64)
  return `fn-${index}`
}

/**
 * One function of the fleet: a failure every 20th (its own error), a rolled-back one every 50th, a
 * cancelled one every 200th; of the rest, two thirds change (every 10th with its own other layer, so
 * that its diff is its own), a third do not.
 */
export function fleetOutcome(mode: Mode, index: number): FunctionOutcome {
  const name = fleetName(index)
  const region = REGIONS[index % REGIONS.length] as string
  const base: FunctionReport = {
    ...emptyReport({ given: name, name, region, account: undefined, partition: 'aws' }),
    arn: `arn:aws:lambda:${region}:123456789012:function:${name}`,
    architecture: 'x86_64',
    cloudwatch: 'off'
  }
  const { change, quiet } = CHANGE[mode]
  let report: FunctionReport
  if (index % 20 === 7)
    report = {
      ...base,
      status: 'failed',
      error: `Not allowed to read ${name} in ${region} (User is not authorized, request ${index}); the deploy role needs lambda:GetFunctionConfiguration on it.`
    }
  else if (index % 50 === 11)
    report = {
      ...base,
      status: 'rolled-back',
      invocation: { status: 'failed', statusCode: 200, functionError: 'Unhandled' },
      error: `${name}: the test invocation failed (status 200, Unhandled error). It was rolled back to its previous configuration.`
    }
  else if (index % 200 === 17)
    report = { ...base, status: 'cancelled', error: `${name} was not processed: the run was cancelled.` }
  else if (index % 3 === 2)
    report = { ...base, status: quiet, layerBefore: ROTEL(region, 41), layerAfter: ROTEL(region, 41) }
  else {
    const own = index % 10 === 1 ? [`arn:aws:lambda:${region}:123456789012:layer:team-lib-${index}:3`] : []
    report = {
      ...base,
      status: change,
      layerBefore: ROTEL(region, 40),
      layerAfter: ROTEL(region, 41),
      changedVariables: ['ROTEL_OTLP_EXPORTER_ENDPOINT'],
      drift: mode === 'check' ? ['the Rotel layer is version 40, the target 41'] : [],
      diff: {
        layers: { before: [...own, ROTEL(region, 40)], after: [...own, ROTEL(region, 41)] },
        variables: [
          {
            name: 'ROTEL_OTLP_EXPORTER_ENDPOINT',
            change: 'changed',
            before: null,
            after: 'https://otel.example:4318',
            shown: true
          }
        ]
      },
      executionRole: { role: `role-${index % 400}`, changes: index % 4 === 0 ? ['CloudWatch Logs denied'] : [] },
      delivery:
        mode === 'apply'
          ? {
              status: index % 25 === 4 ? 'not-delivered' : 'delivered',
              logRecords: 3,
              spans: 1,
              firstArrivalMs: 4000,
              withInvocationId: true,
              link: `https://hyperdx.example/search?fn=${index}`,
              detail: null
            }
          : null
    }
  }
  return { report, layer: undefined, log: [], warnings: [] }
}

/** A run over `size` functions in `mode`. */
export function fleetRun(mode: Mode, size: number): RunResult {
  const outcomes = Array.from({ length: size }, (_, index) => fleetOutcome(mode, index))
  return { mode, outcomes, layers: new Map(), testInvoke: mode === 'apply' }
}

/** Whether every `<details>` opens before it closes and all are closed. */
export function detailsBalanced(markdown: string): boolean {
  let depth = 0
  for (const [tag] of markdown.matchAll(/<\/?details>/g)) {
    depth += tag === '<details>' ? 1 : -1
    if (depth < 0) return false
  }
  return depth === 0
}
