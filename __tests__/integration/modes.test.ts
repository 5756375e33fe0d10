/**
 * plan, check and remove end to end: dist/index.js against moto, functions read back; the plan comment
 * against a local stand-in for GitHub's API; annotations against sample files; patterns over two regions.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { GitHubStandIn } from '../support/githubStandIn.js'
import { type ActionRun, emitted, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

let port = 0
const ACCOUNT = '123456789012'
const SECRET_KEY = 'ck_live_M0desSecretIngestionKey'
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' }
const BILLING_ARN = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:billing-worker`
const FLEET = `orders-api\n${BILLING_ARN}\nlegacy-job`

let endpoint: string

const layer = (region: string, arch: string, version: number): string =>
  `arn:aws:lambda:${region}:${ACCOUNT}:layer:rotel-extension-${arch}-alpha:${version}`

async function readBack(region: string, name: string): Promise<Record<string, unknown>> {
  const client = new LambdaClient({ region, endpoint, credentials: { ...credentials } })
  const { $metadata: _, ...configuration } = await client.send(
    new GetFunctionConfigurationCommand({ FunctionName: name })
  )
  return configuration
}

const readFleet = async (): Promise<Array<Record<string, unknown>>> =>
  Promise.all([
    readBack('us-east-1', 'orders-api'),
    readBack('eu-west-1', 'billing-worker'),
    readBack('us-east-1', 'legacy-job')
  ])

function run(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    endpoint,
    inputs: {
      functions: FLEET,
      'aws-region': 'us-east-1',
      'layer-account': ACCOUNT,
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      'otlp-headers': `Authorization=${SECRET_KEY}`,
      'cloudwatch-check-seconds': '0',
      // Preflight and delivery are proven in telemetry.test.ts; here the endpoint is a placeholder.
      preflight: 'false',
      'annotate-files': 'false',
      ...inputs
    },
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', ...env }
  })
}

const statuses = (result: ActionRun): Record<string, string> =>
  Object.fromEntries(
    (JSON.parse(result.outputs.report ?? '[]') as Array<{ function: string; status: string }>).map((r) => [
      r.function,
      r.status
    ])
  )

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
})

afterAll(() => {
  stopEmulator(port)
})

beforeEach(async () => {
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
})

describe('plan and check', () => {
  it('plan writes nothing, on drifted and in-sync functions alike, and shows the diff', async () => {
    // orders-api in sync, the other two drifted.
    expect((await run({ functions: 'orders-api' })).exitCode).toBe(0)
    const before = await readFleet()

    const plan = await run({ mode: 'plan' })
    expect(plan.exitCode).toBe(0)
    expect(await readFleet()).toEqual(before)
    expect(statuses(plan)).toEqual({ 'orders-api': 'in-sync', 'billing-worker': 'planned', 'legacy-job': 'planned' })
    expect(plan.outputs.changed).toBe('true')
    expect(plan.summary).toContain('This is a plan: nothing was written.')
    expect(plan.summary).toContain(`- ${layer('us-east-1', 'amd64', 3)}`)
    expect(plan.summary).toContain(`+ ${layer('us-east-1', 'arm64', 5)}`)
    expect(plan.summary).toContain('+ ROTEL_OTLP_EXPORTER_ENDPOINT=https://clickstack.example.com:4317')
    expect(plan.summary).toContain('+ ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS (value not shown)')
    expect(emitted(plan)).not.toContain(SECRET_KEY)
  })

  it('plan of an in-sync fleet says apply would change nothing', async () => {
    await run({})
    const plan = await run({ mode: 'plan' })
    expect(plan.outputs.changed).toBe('false')
    expect(Object.values(statuses(plan))).toEqual(['in-sync', 'in-sync', 'in-sync'])
  })

  it('check reports drift exactly for the drifted functions, writes nothing, and fails only with fail-on-drift', async () => {
    await run({ functions: 'orders-api' })
    const before = await readFleet()

    const check = await run({ mode: 'check' })
    expect(check.exitCode).toBe(1)
    expect(await readFleet()).toEqual(before)
    expect(check.outputs.drift).toBe('true')
    expect(statuses(check)).toEqual({ 'orders-api': 'in-sync', 'billing-worker': 'drifted', 'legacy-job': 'drifted' })
    expect(check.stdout).toMatch(
      /::warning title=billing-worker%3A drifted::billing-worker \(eu-west-1\) has drifted: the Rotel layer is missing/
    )
    expect(check.stdout).toMatch(
      /::warning title=legacy-job%3A drifted::legacy-job \(us-east-1\) has drifted: it has the amd64 Rotel layer/
    )
    expect(check.stdout).not.toMatch(/title=orders-api%3A drifted/)
    expect(check.stdout).toMatch(/::error::2 of 3 functions drifted from the target \(billing-worker, legacy-job\)/)

    const lenient = await run({ mode: 'check', 'fail-on-drift': 'false' })
    expect(lenient.exitCode).toBe(0)
    expect(lenient.outputs.drift).toBe('true')
    expect(await readFleet()).toEqual(before)

    await run({})
    const clean = await run({ mode: 'check' })
    expect(clean.exitCode).toBe(0)
    expect(clean.outputs.drift).toBe('false')
  })

  it('check names a setting that someone changed by hand', async () => {
    await run({})
    const changed = await run({ mode: 'check', 'otlp-endpoint': 'https://other.example.com:4317' })
    const report = JSON.parse(changed.outputs.report ?? '[]') as Array<{ drift: string[] }>
    expect(report[0]?.drift).toEqual(['ROTEL_OTLP_EXPORTER_ENDPOINT differs'])
  })
})

describe('remove', () => {
  it('remove, apply, remove gives back the configuration without the extension, the user settings intact', async () => {
    const pristineBilling = await readBack('eu-west-1', 'billing-worker')
    const firstRemove = await run({ mode: 'remove' })
    expect(firstRemove.exitCode).toBe(0)
    // billing-worker never had the extension; orders-api and legacy-job lose their old Rotel layers.
    expect(statuses(firstRemove)).toEqual({
      'orders-api': 'removed',
      'billing-worker': 'unchanged',
      'legacy-job': 'removed'
    })
    expect(await readBack('eu-west-1', 'billing-worker')).toEqual(pristineBilling)
    const withoutExtension = await readFleet()
    expect((withoutExtension[0]?.Layers as Array<{ Arn: string }>).map((l) => l.Arn)).toEqual([
      `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:shared-utils:1`
    ])

    expect((await run({})).exitCode).toBe(0)
    const second = await run({ mode: 'remove' })
    expect(Object.values(statuses(second))).toEqual(['removed', 'removed', 'removed'])
    const after = await readFleet()
    const essentials = (configuration: Record<string, unknown>) => ({
      Layers: configuration.Layers,
      Environment: configuration.Environment
    })
    expect(after.map(essentials)).toEqual(withoutExtension.map(essentials))

    const third = await run({ mode: 'remove' })
    expect(third.outputs.changed).toBe('false')
    expect(third.summary).toContain('Nothing to remove')
  })

  it("environment overwrites a variable of the function's own: remove puts its value back and deletes the added one", async () => {
    const ordersOnly = { functions: 'orders-api' }
    expect((await run({ ...ordersOnly, mode: 'remove' })).exitCode).toBe(0)
    const pristine = (await readBack('us-east-1', 'orders-api')).Environment as { Variables: Record<string, string> }
    expect(pristine.Variables.LOG_LEVEL).toBe('info')
    expect(pristine.Variables).not.toHaveProperty('NEW_VAR')

    const environment = 'LOG_LEVEL=debug\nNEW_VAR=x'
    const applied = await run({ ...ordersOnly, environment })
    expect(statuses(applied)).toEqual({ 'orders-api': 'updated' })
    const variables = ((await readBack('us-east-1', 'orders-api')).Environment as { Variables: Record<string, string> })
      .Variables
    expect(variables).toMatchObject({ LOG_LEVEL: 'debug', NEW_VAR: 'x' })
    // The record holds the previous value; no channel shows it.
    expect(JSON.parse(variables.CLICKSTACK_ACTION_PREVIOUS_VARIABLES ?? '')).toEqual({
      LOG_LEVEL: 'info',
      NEW_VAR: null
    })
    for (const channel of [applied.stdout, applied.summary, applied.outputs.report ?? '']) {
      expect(channel).not.toMatch(/LOG_LEVEL\\*"\s*:\s*\\*"info/)
      expect(channel).not.toMatch(/"before"\s*:\s*"info"/)
    }

    const again = await run({ ...ordersOnly, environment })
    expect(statuses(again)).toEqual({ 'orders-api': 'unchanged' })
    expect(again.outputs.changed).toBe('false')
    const check = await run({ ...ordersOnly, environment, mode: 'check' })
    expect(statuses(check)).toEqual({ 'orders-api': 'in-sync' })

    // A remove run without `environment`: the record, not the inputs, says what goes back.
    const removed = await run({ ...ordersOnly, mode: 'remove' })
    expect(statuses(removed)).toEqual({ 'orders-api': 'removed' })
    const restored = (await readBack('us-east-1', 'orders-api')).Environment as { Variables: Record<string, string> }
    expect(restored.Variables).toEqual(pristine.Variables)
    expect(JSON.stringify(Object.entries(restored.Variables).sort())).toBe(
      JSON.stringify(Object.entries(pristine.Variables).sort())
    )
  })
})

describe('patterns', () => {
  it('selects functions by pattern across two regions, with excludes, and warns about a pattern that matches nothing', async () => {
    const plan = await run({
      mode: 'plan',
      functions: '*-worker\n*-job\nnothing-like-this-*',
      exclude: 'orders-*',
      'aws-region': 'us-east-1\neu-west-1'
    })
    expect(plan.exitCode).toBe(0)
    const report = JSON.parse(plan.outputs.report ?? '[]') as Array<{ function: string; region: string }>
    expect(report.map((r) => `${r.region}/${r.function}`)).toEqual(['eu-west-1/billing-worker', 'us-east-1/legacy-job'])
    expect(plan.stdout).toMatch(/::warning::.*nothing-like-this-\*/)
  })

  it('fails a function named outright that does not exist', async () => {
    const result = await run({ mode: 'plan', functions: 'orders-api\nghost-function' })
    expect(result.exitCode).toBe(1)
    expect(statuses(result)['ghost-function']).toBe('failed')
  })
})

describe('pull requests', () => {
  const github = new GitHubStandIn()
  let apiUrl: string
  let workspace: string

  beforeAll(async () => {
    apiUrl = await github.start()
  })
  afterAll(async () => {
    await github.stop()
  })

  function pullRequestEnv(): Record<string, string> {
    const event = join(mkdtempSync(join(tmpdir(), 'rotel-event-')), 'event.json')
    writeFileSync(event, JSON.stringify({ pull_request: { number: 7 } }))
    return {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: 'my-org/my-repo',
      GITHUB_API_URL: apiUrl,
      GITHUB_WORKFLOW: 'lambda',
      GITHUB_JOB: 'plan',
      GITHUB_WORKSPACE: workspace
    }
  }

  beforeEach(() => {
    github.reset()
    workspace = mkdtempSync(join(tmpdir(), 'rotel-workspace-'))
    // Sample infrastructure files, pinning versions behind the emulator's latest (5).
    writeFileSync(
      join(workspace, 'template.yaml'),
      [
        'Resources:',
        '  Orders:',
        '    Type: AWS::Serverless::Function',
        '    Properties:',
        '      Layers:',
        `        - !Sub arn:aws:lambda:\${AWS::Region}:${ACCOUNT}:layer:rotel-extension-amd64-alpha:3`,
        '  Billing:',
        '    Type: AWS::Serverless::Function',
        '    Properties:',
        '      Layers:',
        `        - arn:aws:lambda:us-east-1:${ACCOUNT}:layer:rotel-extension-arm64-alpha:5`,
        ''
      ].join('\n')
    )
    writeFileSync(
      join(workspace, 'serverless.yml'),
      [
        'service: orders',
        'provider:',
        '  name: aws',
        'functions:',
        '  api:',
        '    handler: handler.main',
        '    layers:',
        `      - arn:aws:lambda:\${self:provider.region}:${ACCOUNT}:layer:rotel-extension-amd64-alpha:2`,
        ''
      ].join('\n')
    )
    mkdirSync(join(workspace, 'infra'))
    writeFileSync(
      join(workspace, 'infra', 'main.tf'),
      [
        'resource "aws_lambda_function" "worker" {',
        '  function_name = "billing-worker"',
        `  layers        = ["arn:aws:lambda:eu-west-1:${ACCOUNT}:layer:rotel-extension-arm64-alpha:1"]`,
        '}',
        ''
      ].join('\n')
    )
  })

  it('posts the plan as one comment, updates it in place, and annotates pinned layer versions behind the latest', async () => {
    const first = await run(
      { mode: 'plan', 'github-token': 'ghs_fakeToken123', 'annotate-files': '' },
      pullRequestEnv()
    )
    expect(first.exitCode).toBe(0)
    let comments = github.commentsOf('my-org', 'my-repo', 7)
    expect(comments).toHaveLength(1)
    const id = comments[0]?.id
    expect(comments[0]?.body).toMatch(
      /^<!-- rotel-clickstack-action:plan key=lambda\/plan -->\n## Rotel Lambda Extension for ClickStack: plan/
    )
    expect(comments[0]?.body).not.toContain(SECRET_KEY)
    expect(github.requests.every((r) => r.authorization === 'token ghs_fakeToken123')).toBe(true)

    expect(first.stdout).toMatch(
      /::warning title=Rotel layer behind the latest,file=template.yaml,line=6,col=16::rotel-extension-amd64-alpha version 3 is behind the latest, version 5/
    )
    expect(first.stdout).toMatch(
      /::warning title=Rotel layer behind the latest,file=serverless.yml,line=8,col=9::rotel-extension-amd64-alpha version 2/
    )
    expect(first.stdout).toMatch(
      /::warning title=Rotel layer behind the latest,file=infra\/main.tf,line=3,col=21::rotel-extension-arm64-alpha version 1 is behind the latest, version 5 in eu-west-1/
    )
    expect(first.stdout).not.toMatch(/file=template.yaml,line=11/)

    // Someone fixes a function by hand; the next plan edits the same comment.
    await run({ functions: 'legacy-job' })
    const second = await run({ mode: 'plan', 'github-token': 'ghs_fakeToken123' }, pullRequestEnv())
    expect(second.exitCode).toBe(0)
    comments = github.commentsOf('my-org', 'my-repo', 7)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.id).toBe(id)
    expect(comments[0]?.body).toMatch(/\| legacy-job <sub>us-east-1 · arm64<\/sub> \| ✅ in sync \|/)
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1)
  })

  it("never edits a comment someone else posted with the plan's marker: its own is created, then updated", async () => {
    const marker = '<!-- rotel-clickstack-action:plan key=lambda/plan -->'
    const fakeBody = `${marker}\n## Rotel Lambda Extension for ClickStack: plan\n\n✅ Nothing to change. Approve and merge.`
    const fake = github.addComment('my-org', 'my-repo', 7, fakeBody, { login: 'mallory', type: 'User' })

    const first = await run({ mode: 'plan', 'github-token': 'ghs_fakeToken123' }, pullRequestEnv())
    expect(first.exitCode).toBe(0)
    let comments = github.commentsOf('my-org', 'my-repo', 7)
    expect(comments).toHaveLength(2)
    const ours = comments.find((comment) => comment.id !== fake.id)
    expect(ours?.user.login).toBe('github-actions[bot]')
    expect(ours?.body.startsWith(`${marker}\n## Rotel Lambda Extension for ClickStack: plan`)).toBe(true)
    expect(github.requests.some((r) => r.method === 'POST' && r.path === '/graphql')).toBe(true)

    await run({ functions: 'legacy-job' })
    const second = await run({ mode: 'plan', 'github-token': 'ghs_fakeToken123' }, pullRequestEnv())
    expect(second.exitCode).toBe(0)
    comments = github.commentsOf('my-org', 'my-repo', 7)
    expect(comments).toHaveLength(2)
    expect(comments.find((comment) => comment.id === ours?.id)?.body).toMatch(
      /\| legacy-job <sub>us-east-1 · arm64<\/sub> \| ✅ in sync \|/
    )
    expect(fake.body).toBe(fakeBody)
    expect(github.requests.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual([
      `/repos/my-org/my-repo/issues/comments/${ours?.id}`
    ])
  })

  it('writes a new comment, and warns, when it cannot learn which account the token is', async () => {
    github.addComment('my-org', 'my-repo', 7, '<!-- rotel-clickstack-action:plan key=lambda/plan -->\nold plan')
    github.setViewer(undefined)
    const result = await run({ mode: 'plan', 'github-token': 'ghs_fakeToken123' }, pullRequestEnv())
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(
      /::warning::Could not learn which account github-token acts as .*a new comment was written/
    )
    expect(github.commentsOf('my-org', 'my-repo', 7).map((comment) => comment.body.split('\n')[1])).toEqual([
      'old plan',
      '## Rotel Lambda Extension for ClickStack: plan'
    ])
    expect(github.requests.filter((r) => r.method === 'PATCH')).toEqual([])
  })

  it('warns, and still succeeds, when the token may not write comments', async () => {
    github.failWith({ status: 403, message: 'Resource not accessible by integration' })
    const result = await run({ mode: 'plan', 'github-token': 'ghs_fakeToken123' }, pullRequestEnv())
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/::warning::.*pull-requests: write/)
    expect(result.stdout).not.toContain('ghs_fakeToken123')
  })

  it('posts nothing with pr-comment: false, nor outside plan mode', async () => {
    await run({ mode: 'plan', 'github-token': 'ghs_fakeToken123', 'pr-comment': 'false' }, pullRequestEnv())
    await run({ mode: 'check', 'github-token': 'ghs_fakeToken123', 'fail-on-drift': 'false' }, pullRequestEnv())
    expect(github.requests).toEqual([])
  })
})
