// Seeds the emulator with the sample fleet, then runs dist/index.js the way the runner does (inputs as
// INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, an OIDC token endpoint, Node 24 where available), twice:
// the first run instruments the fleet, the second shows that nothing is left to change.
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { resetEmulator, seedSampleFleet } from './emulator-fixtures.mjs'
import { createRunnerLog, readOutputs } from './runner-log.mjs'
import { node24 } from './test-tools.mjs'
import { startFakeOidc } from './fake-oidc.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const endpoint = process.env.AWS_ENDPOINT_URL
if (!endpoint) throw new Error('AWS_ENDPOINT_URL must point at the emulator (scripts/demo.sh sets it)')
// Node 24, as `runs.using: node24` runs the action (fetched into the project's cache on first use).
const node = node24()

await resetEmulator(endpoint)
const fleet = await seedSampleFleet(endpoint)
const requestToken = 'demo-request-token'
const oidc = await startFakeOidc({ requestToken })

// Stands for ClickStack's OTLP/HTTP endpoint, so that the action's preflight has someone to talk to.
const received = []
const otlp = createServer((request, response) => {
  request.resume()
  request.on('end', () => {
    received.push(`${request.method} ${request.url}`)
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
})
await new Promise((done) => otlp.listen(0, '127.0.0.1', done))
const otlpEndpoint = `http://127.0.0.1:${otlp.address().port}`

const inputs = {
  functions: [fleet.functions[0].name, fleet.functions[1].arn, fleet.functions[2].name].join('\n'),
  'aws-region': 'us-east-1',
  'role-to-assume': `arn:aws:iam::${fleet.layerAccount}:role/deploy`,
  'layer-account': fleet.layerAccount,
  'otlp-endpoint': otlpEndpoint,
  'otlp-protocol': 'http',
  'otlp-headers': 'Authorization=demo-ingestion-key-not-shown',
  'resource-attributes': 'deployment.environment=demo',
  'cloudwatch-check-seconds': '3'
}

async function runAction(title) {
  const work = mkdtempSync(join(tmpdir(), 'rotel-demo-'))
  const output = join(work, 'output')
  const summary = join(work, 'summary')
  writeFileSync(output, '')
  writeFileSync(summary, '')
  console.log(`\n━━━ ${title}: the step's log, as GitHub shows it ━━━\n`)
  // Asynchronous: the OIDC token endpoint is served from this process and must keep answering.
  const child = spawn(node, [join(root, 'dist/index.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      // The report file goes beside the outputs, not into the machine's temporary folder.
      RUNNER_TEMP: work,
      ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
      AWS_ENDPOINT_URL: endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]))
    }
  })
  // The runner's commands (masks, groups, annotations) rendered as the log viewer does, not printed raw.
  const log = createRunnerLog((line) => console.log(line))
  createInterface({ input: child.stdout }).on('line', (line) => log.line(line))
  const status = await new Promise((done) => child.on('close', (code) => done(code)))
  console.log(`\n━━━ ${title}: exit code ${status}; the job summary (Markdown) ━━━\n`)
  console.log(log.mask(readFileSync(summary, 'utf8')))
  console.log(`━━━ ${title}: outputs ━━━\n`)
  for (const [name, value] of Object.entries(readOutputs(readFileSync(output, 'utf8'))))
    console.log(`${name}: ${log.mask(name === 'report' ? reportDigest(value) : value)}`)
  return status
}

/** The report output in a line a person reads: each function's status (the whole JSON is in report-file). */
function reportDigest(json) {
  const rows = JSON.parse(json)
  if (!Array.isArray(rows)) return json
  const each = rows.map((row) => `${row.function} (${row.region}) ${row.status}`).join(', ')
  return `${rows.length} function${rows.length === 1 ? '' : 's'}: ${each} (every field in report-file)`
}

try {
  const first = await runAction('First run')
  const second = await runAction('Second run (nothing should change)')
  process.exitCode = first === 0 && second === 0 ? 0 : 1
  console.log(`The local OTLP endpoint received: ${received.join(', ') || 'nothing'} (the preflight records).`)
  console.log(
    `The emulator keeps running at ${endpoint} for a look around; stop it with: bash scripts/emulator.sh stop`
  )
} finally {
  await oidc.close()
  otlp.close()
}
