// Realistic runs of each mode, for scripts/render-summary.mjs to render and screenshot: a fleet in two
// regions and both architectures, grouped rows, memory figures, delivery, execution roles, and a failed
// rollout whose canary was rolled back. The shapes are src/core/model.ts's FunctionReport and RunResult.

const ROTEL = '418653438961'
const ACCOUNT = '123456789012'
const ARCH = { x86_64: 'amd64', arm64: 'arm64' }

const layerArn = (region, architecture, version) =>
  `arn:aws:lambda:${region}:${ROTEL}:layer:rotel-extension-${ARCH[architecture]}-alpha:${version}`

const layerOf = (region, architecture, version) => ({
  arn: layerArn(region, architecture, version),
  layerArn: layerArn(region, architecture, version).replace(/:\d+$/, ''),
  version,
  description: `Tag=v0.1.${version}-alpha`,
  tag: `v0.1.${version}-alpha`,
  compatibleArchitectures: [architecture]
})

const NOT_INVOKED = {
  status: 'skipped',
  statusCode: null,
  functionError: null,
  report: null,
  lowMemory: false,
  before: null
}
const VARIABLES = [
  'ROTEL_OTLP_EXPORTER_ENDPOINT',
  'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS',
  'ROTEL_OTEL_RESOURCE_ATTRIBUTES'
]

const figures = (used, size, init, extra = {}) => ({
  durationMs: 41.2,
  billedDurationMs: 42,
  memorySizeMb: size,
  maxMemoryUsedMb: used,
  initDurationMs: init,
  restoreDurationMs: null,
  billedRestoreDurationMs: null,
  ...extra
})

/** One report row: a function in a region and architecture, with what the run did to it. */
function row(name, region, architecture, status, fields = {}) {
  return {
    function: name,
    arn: `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`,
    region,
    architecture,
    status,
    layerBefore: null,
    layerAfter: null,
    layersBefore: [],
    layersAfter: [],
    changedVariables: [],
    invocation: NOT_INVOKED,
    cloudwatch: 'unknown',
    cloudwatchDetail: null,
    diff: null,
    drift: [],
    delivery: null,
    executionRole: null,
    error: null,
    ...fields
  }
}

/** The fields of a function that goes (or would go) from layer `from` (none when null) to `to`. */
function change(region, architecture, from, to, variables = VARIABLES) {
  const before = from === null ? [] : [layerArn(region, architecture, from)]
  const after = to === null ? [] : [layerArn(region, architecture, to)]
  return {
    layerBefore: before[0] ?? null,
    layerAfter: after[0] ?? null,
    layersBefore: before,
    layersAfter: after,
    changedVariables: variables,
    diff: {
      layers: { before, after },
      variables: variables.map((name) => ({
        name,
        change: to === null ? 'removed' : from === null ? 'added' : 'changed',
        before: null,
        after: name.endsWith('ENDPOINT') && to !== null ? 'https://clickstack.example.com:4318' : null,
        shown: name.endsWith('ENDPOINT') && to !== null
      }))
    }
  }
}

const invoked = (report, before = null, lowMemory = false) => ({
  status: 'ok',
  statusCode: 200,
  functionError: null,
  report,
  lowMemory,
  before
})

const current = (region, architecture) => {
  const arn = layerArn(region, architecture, 41)
  return { layerBefore: arn, layerAfter: arn, layersBefore: [arn], layersAfter: [arn] }
}

const outcome = (report, layer) => ({ report, layer, log: [], warnings: [] })

/** The run's layers keyed "<region>/<arch>", as layersByRegionAndArch keys them. */
function result(mode, outcomes, extra = {}) {
  const layers = new Map()
  for (const { report, layer } of outcomes) if (layer) layers.set(`${report.region}/${report.architecture}`, layer)
  return {
    mode,
    outcomes,
    layers: new Map([...layers].sort(([a], [b]) => a.localeCompare(b))),
    testInvoke: true,
    ...extra
  }
}

const USE1_AMD = layerOf('us-east-1', 'x86_64', 41)
const EUW1_ARM = layerOf('eu-west-1', 'arm64', 41)

const quiet = (names, region, architecture, status, layer) =>
  names.map((name) => outcome(row(name, region, architecture, status, current(region, architecture)), layer))

/** apply with cloudwatch-logs: keep and verify-delivery: updated, first installs, unchanged functions. */
function apply() {
  return result('apply', [
    outcome(
      row('orders-api', 'us-east-1', 'x86_64', 'updated', {
        ...change('us-east-1', 'x86_64', 40, 41, VARIABLES.slice(0, 2)),
        invocation: invoked(figures(112, 128, 250), figures(84, 128, 180)),
        cloudwatch: 'on',
        cloudwatchDetail: 'stream 2026/12/02/[$LATEST]ab12 in /aws/lambda/orders-api was created 3 s after the update',
        delivery: delivered(4, 2, 6000)
      }),
      USE1_AMD
    ),
    outcome(
      row('image-resizer-worker-production', 'eu-west-1', 'arm64', 'updated', {
        ...change('eu-west-1', 'arm64', null, 41),
        invocation: invoked(figures(1890, 2048, 612), null, true),
        cloudwatch: 'off',
        cloudwatchDetail:
          'no stream in /aws/lambda/image-resizer-worker-production was created or written since the update (12 streams of 2 days checked)',
        delivery: delivered(9, 3, 11000)
      }),
      EUW1_ARM
    ),
    ...quiet(['checkout', 'cart', 'search-suggest', 'inventory-sync'], 'us-east-1', 'x86_64', 'unchanged', USE1_AMD)
  ])
}

function delivered(logRecords, spans, firstArrivalMs) {
  return {
    status: 'delivered',
    logRecords,
    spans,
    firstArrivalMs,
    withInvocationId: true,
    link: 'https://hyperdx.example.com/search?q=faas.name',
    detail: null
  }
}

/** apply whose canary failed its test invocation: rolled back, one function unreadable, the rest not started. */
function failed() {
  const stopped = 'not started: the canary billing-job failed, so the rollout stopped before it (canary: 1).'
  return result(
    'apply',
    [
      {
        ...outcome(
          row('billing-job', 'us-east-1', 'arm64', 'rolled-back', {
            invocation: { ...invoked(figures(97, 128, 410)), status: 'failed', functionError: 'Unhandled' },
            error:
              "billing-job: the test invocation failed (status 200, Unhandled error). Log tail: INIT_REPORT Init Duration: 410 ms | Error: Cannot find module 'rotel' | END RequestId: 7d1f. It was rolled back to its previous configuration."
          }),
          layerOf('us-east-1', 'arm64', 41)
        ),
        logTail:
          "START RequestId: 7d1f Version: $LATEST\n2026-12-02T16:41:03.120Z\t7d1f\tERROR\tError: Cannot find module 'rotel'\nEND RequestId: 7d1f\nREPORT RequestId: 7d1f\tDuration: 41.2 ms\tBilled Duration: 42 ms\tMemory Size: 128 MB\tMax Memory Used: 97 MB\tInit Duration: 410.3 ms"
      },
      outcome(
        row('legacy-cron', 'us-west-2', null, 'failed', {
          arn: null,
          error:
            'Not allowed to read legacy-cron in us-west-2 (User: arn:aws:sts::123456789012:assumed-role/deploy/gha is not authorized to perform: lambda:GetFunction); the deploy role needs lambda:GetFunction on it.'
        }),
        undefined
      ),
      ...['orders-api', 'checkout', 'cart', 'search-suggest', 'inventory-sync', 'email-sender'].map((name) =>
        outcome(row(name, 'us-east-1', 'x86_64', 'skipped', { error: `${name} was ${stopped}` }), undefined)
      )
    ],
    { stopped: 'The canary billing-job failed: no other function was started.' }
  )
}

/** plan with cloudwatch-logs: off: two functions would change, one of them its log format, the rest in sync. */
function plan() {
  const json = change('eu-west-1', 'arm64', null, 41)
  return result('plan', [
    outcome(
      row('orders-api', 'us-east-1', 'x86_64', 'planned', {
        ...change('us-east-1', 'x86_64', 40, 41, VARIABLES.slice(0, 1)),
        executionRole: { role: 'orders-api-role', changes: ['would deny logs:CreateLogStream and logs:PutLogEvents'] }
      }),
      USE1_AMD
    ),
    outcome(
      row('image-resizer-worker-production', 'eu-west-1', 'arm64', 'planned', {
        ...json,
        diff: { ...json.diff, logFormat: { before: 'Text', after: 'JSON' } },
        executionRole: { role: 'image-resizer-role', changes: ['would detach AWSLambdaBasicExecutionRole'] }
      }),
      EUW1_ARM
    ),
    outcome(
      row('reports-nightly', 'us-west-2', 'x86_64', 'failed', {
        error: 'Not allowed to read reports-nightly in us-west-2; the deploy role needs lambda:GetFunction on it.'
      }),
      undefined
    ),
    ...quiet(['checkout', 'cart', 'search-suggest'], 'us-east-1', 'x86_64', 'in-sync', USE1_AMD)
  ])
}

/** check: two functions drifted (someone changed a layer and a variable), the rest in sync. */
function check() {
  return result('check', [
    outcome(
      row('orders-api', 'us-east-1', 'x86_64', 'drifted', {
        ...change('us-east-1', 'x86_64', 39, 41, VARIABLES.slice(0, 1)),
        drift: ['layer rotel-extension-amd64-alpha:39 instead of :41', 'ROTEL_OTLP_EXPORTER_ENDPOINT differs']
      }),
      USE1_AMD
    ),
    outcome(
      row('image-resizer-worker-production', 'eu-west-1', 'arm64', 'drifted', {
        ...change('eu-west-1', 'arm64', null, 41, []),
        drift: ['no Rotel layer']
      }),
      EUW1_ARM
    ),
    ...quiet(['checkout', 'cart', 'search-suggest', 'inventory-sync'], 'us-east-1', 'x86_64', 'in-sync', USE1_AMD)
  ])
}

/** remove: the extension taken off three functions, their logs put back first; one never had it. */
function remove() {
  const removed = (name, region, architecture) =>
    outcome(
      row(name, region, architecture, 'removed', {
        ...change(region, architecture, 41, null),
        invocation: invoked(figures(71, 128, 150)),
        executionRole: {
          role: `${name}-role`,
          changes: ['removed the deny of logs:CreateLogStream and logs:PutLogEvents']
        }
      }),
      undefined
    )
  return result('remove', [
    removed('orders-api', 'us-east-1', 'x86_64'),
    removed('checkout', 'us-east-1', 'x86_64'),
    removed('image-resizer-worker-production', 'eu-west-1', 'arm64'),
    outcome(row('email-sender', 'us-east-1', 'x86_64', 'unchanged'), undefined)
  ])
}

/** The samples by the PNG's name. */
export const SAMPLES = { apply, plan, check, remove, failed }
