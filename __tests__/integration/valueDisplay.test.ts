/**
 * Values a plan or an error may not show, end to end: dist/index.js against moto (behind the fault
 * proxy where an AWS error must echo a function's environment) and the GitHub stand-in. Every channel
 * is scanned: the log, the summary, the outputs and the PR comment body the stand-in received.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand
} from '@aws-sdk/client-lambda'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { GitHubStandIn } from '../support/githubStandIn.js'
import { type ActionRun, emitted, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const ACCOUNT = '123456789012'
const INGESTION_KEY = 'ck_live_V4lueDisplayIngestKey'
/** What the functions hold already: one secret-named, one not, one too short to be learnt but echoed by AWS. */
const OWN = { DB_PASSWORD: 'fn-Own-Db-Pa55word', UPSTREAM_HOST: 'upstream-7f3a9c.internal', PIN: 'q7z' }
const LEGACY_OWN = { API_TOKEN: 'legacy-T0ken-zz91', CALLBACK: 'https://hooks.internal/cb-55aa77' }
const DATABASE_URL = 'postgres://app:Pg-Pa55word-42@db.internal:5432/app'
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' }

let port = 0
let endpoint: string
const github = new GitHubStandIn()
let apiUrl: string

async function addVariables(name: string, variables: Record<string, string>): Promise<void> {
  const client = new LambdaClient({ region: 'us-east-1', endpoint, credentials: { ...credentials } })
  const current = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
  await client.send(
    new UpdateFunctionConfigurationCommand({
      FunctionName: name,
      Environment: { Variables: { ...(current.Environment?.Variables ?? {}), ...variables } }
    })
  )
}

function pullRequestEnv(): Record<string, string> {
  const event = join(mkdtempSync(join(tmpdir(), 'rotel-event-')), 'event.json')
  writeFileSync(event, JSON.stringify({ pull_request: { number: 11 } }))
  return {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: event,
    GITHUB_REPOSITORY: 'my-org/my-repo',
    GITHUB_API_URL: apiUrl,
    GITHUB_WORKFLOW: 'lambda',
    GITHUB_JOB: 'plan'
  }
}

function run(
  inputs: Record<string, string>,
  options: { env?: Record<string, string>; via?: string } = {}
): Promise<ActionRun> {
  return runAction({
    endpoint: options.via ?? endpoint,
    inputs: {
      functions: 'orders-api\nlegacy-job',
      'aws-region': 'us-east-1',
      'layer-account': ACCOUNT,
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      'otlp-headers': `Authorization=${INGESTION_KEY}`,
      environment: `DATABASE_URL=${DATABASE_URL}\nFEATURE_MODE=shadow-write-7`,
      'cloudwatch-check-seconds': '0',
      preflight: 'false',
      'annotate-files': 'false',
      'fail-on-drift': 'false',
      ...inputs
    },
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', ...options.env }
  })
}

/** Every value that must not be seen, with the forms a careless path would print it in. */
const HIDDEN = [
  ...Object.values(OWN),
  ...Object.values(LEGACY_OWN),
  DATABASE_URL,
  'Pg-Pa55word-42',
  'shadow-write-7',
  INGESTION_KEY,
  Buffer.from(OWN.DB_PASSWORD).toString('base64'),
  encodeURIComponent(DATABASE_URL)
]

function expectNothingHidden(channels: Record<string, string>): void {
  for (const [channel, text] of Object.entries(channels))
    for (const value of HIDDEN)
      expect({ channel, value, found: text.includes(value) }).toEqual({ channel, value, found: false })
}

const masks = (result: ActionRun): string[] =>
  result.stdout
    .split('\n')
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) => line.slice('::add-mask::'.length))

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  apiUrl = await github.start()
})

afterAll(async () => {
  stopEmulator(port)
  await github.stop()
})

beforeEach(async () => {
  github.reset()
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
  await addVariables('orders-api', OWN)
  await addVariables('legacy-job', LEGACY_OWN)
})

describe('plan and check show no value that is not known to be safe', () => {
  it("plan: the diff names every variable, shows only the action's own values, in every channel", async () => {
    const result = await run({ mode: 'plan', 'github-token': 'ghs_fakeToken123' }, { env: pullRequestEnv() })
    expect(result.exitCode).toBe(0)
    const comments = github.commentsOf('my-org', 'my-repo', 11)
    expect(comments).toHaveLength(1)
    const body = comments[0]?.body ?? ''
    expectNothingHidden({ emitted: emitted(result), comment: body })

    for (const text of [result.summary, body]) {
      expect(text).toContain('+ DATABASE_URL (value not shown)')
      expect(text).toContain('+ FEATURE_MODE (value not shown)')
      expect(text).toContain('+ ROTEL_OTLP_EXPORTER_ENDPOINT=https://clickstack.example.com:4317')
      expect(text).toContain('+ ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS (value not shown)')
    }
    const report = JSON.parse(result.outputs.report ?? '[]') as Array<{
      function: string
      diff: { variables: Array<{ name: string; before: unknown; shown: boolean }> }
    }>
    const orders = report.find((row) => row.function === 'orders-api')
    expect(orders?.diff.variables.find((v) => v.name === 'DATABASE_URL')).toMatchObject({ before: null, shown: false })
    // The log is masked too: the runner gets the function's own values and the user's secrets as masks.
    expect(masks(result)).toEqual(
      expect.arrayContaining([OWN.DB_PASSWORD, OWN.UPSTREAM_HOST, LEGACY_OWN.API_TOKEN, DATABASE_URL, 'Pg-Pa55word-42'])
    )
    // Values too short to learn and not secret-named stay readable where they belong (none here is printed).
    expect(masks(result)).not.toContain(OWN.PIN)
  })

  it('check: drift is named, never valued', async () => {
    const result = await run({ mode: 'check' })
    expect(result.exitCode).toBe(0)
    expect(result.outputs.drift).toBe('true')
    expectNothingHidden({ emitted: emitted(result) })
    expect(result.stdout).toMatch(/orders-api \(us-east-1\) has drifted: [^\n]*DATABASE_URL is missing/)
    expect(result.summary).toContain('+ DATABASE_URL (value not shown)')
  })
})

describe("AWS errors that echo a function's environment", () => {
  it('apply: neither the echoed map nor any value of it reaches an annotation, the summary or the report', async () => {
    // Lambda's answer to a write over 4 KB quotes the variables it measured.
    const echo = (variables: Record<string, string>): string =>
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(variables)}`
    const proxy = await startFaultProxy({
      target: endpoint,
      rules: [
        {
          operation: 'UpdateFunctionConfiguration',
          functionName: 'orders-api',
          fault: 'update-failed',
          nth: 1,
          immediate: true,
          reason: `${echo({ ...OWN, DATABASE_URL })} (first value: ${OWN.DB_PASSWORD})`
        },
        {
          operation: 'UpdateFunctionConfiguration',
          functionName: 'legacy-job',
          fault: '500',
          message: `${echo(LEGACY_OWN)}; also ${JSON.stringify(JSON.stringify(LEGACY_OWN))}`
        }
      ]
    })
    try {
      const result = await run({ mode: 'apply', 'test-invoke': 'false' }, { via: proxy.url })
      expect(result.exitCode).toBe(1)
      expectNothingHidden({ emitted: emitted(result) })
      const report = JSON.parse(result.outputs.report ?? '[]') as Array<{
        function: string
        status: string
        error: string
      }>
      expect(report.map((row) => row.status).sort()).toEqual(['failed', 'rolled-back'])
      for (const row of report) expect(row.error).toContain('String measured: {…}')
      expect(result.stdout).toMatch(/::error title=orders-api[^\n]*String measured: \{…\}/)
      expect(result.summary).toContain('String measured: {…}')
      // The short value is gone with the map, not by luck: it is not a mask.
      expect(masks(result)).not.toContain(OWN.PIN)
    } finally {
      await proxy.close()
    }
  })
})
