/**
 * Guarantees 3 and 4: bad input is refused before any AWS write, with a message naming the input and
 * the fix; and no secret value reaches any byte the action emits, in any mode. dist/index.js runs
 * against moto behind the recording proxy, whose call log proves that nothing was written.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resetEmulator, seedSampleFleet, createSampleFunction } from '../../scripts/emulator-fixtures.mjs'
import { startFakeOidc } from '../../scripts/fake-oidc.mjs'
import { type FaultProxy, startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { type ActionRun, emitted, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const ACCOUNT = '123456789012'
const INGESTION_KEY = 'ck_live_B4dInputSecretKey'
const REQUEST_TOKEN = 'runtime-request-token-b4d1nput'
let port = 0
let endpoint: string
let proxy: FaultProxy
let oidc: Awaited<ReturnType<typeof startFakeOidc>>

const WRITES = new Set(['UpdateFunctionConfiguration', 'Invoke', 'PutFunctionConcurrency', 'TagResource'])
const writesOf = (): string[] => proxy.calls.filter((call) => WRITES.has(call.operation)).map((call) => call.operation)

const BASE: Record<string, string> = {
  functions: 'orders-api',
  'aws-region': 'us-east-1',
  'layer-account': ACCOUNT,
  'otlp-endpoint': 'https://clickstack.example.com:4317',
  'otlp-headers': `Authorization=${INGESTION_KEY}`,
  'cloudwatch-check-seconds': '0',
  // Preflight and delivery are proven in telemetry.test.ts; here the endpoint is a placeholder.
  preflight: 'false',
  'annotate-files': 'false'
}

function run(inputs: Record<string, string>, env: Record<string, string | undefined> = {}): Promise<ActionRun> {
  return runAction({
    endpoint: proxy.url,
    inputs: { ...BASE, ...inputs },
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', ...env }
  })
}

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  proxy = await startFaultProxy({ target: endpoint })
  oidc = await startFakeOidc({ requestToken: REQUEST_TOKEN })
})

afterAll(async () => {
  await proxy?.close()
  await oidc?.close()
  stopEmulator(port)
})

beforeEach(async () => {
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
  proxy.reset()
})

const FN_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders-api`

/** [what, inputs, a pattern the error must match]: each names the input and says the fix. */
const BAD_INPUTS: Array<[string, Record<string, string>, RegExp]> = [
  ['malformed function ARN', { functions: 'arn:aws:lambda:us-east-1:123:function:x' }, /functions: .* is not a Lambda function ARN; write arn:aws:lambda/],
  ['ARN of another partition', { functions: 'arn:aws-cn:lambda:cn-north-1:123456789012:function:x', 'layer-account': '' }, /aws-cn partition.*set layer-account/],
  ['unknown region', { 'aws-region': 'mars-east-1' }, /aws-region "mars-east-1" .*write one like us-east-1|layer is not published/],
  ['a region without the layer', { 'aws-region': 'af-south-1', 'layer-account': '' }, /af-south-1, where the Rotel layer is not published/],
  ['layer-version 0', { 'layer-version': '0' }, /layer-version "0" must be "latest" or a layer version number/],
  ['layer-version -1', { 'layer-version': '-1' }, /layer-version "-1"/],
  ['layer-version 1.5', { 'layer-version': '1.5' }, /layer-version "1.5"/],
  ['layer-version abc', { 'layer-version': 'abc' }, /layer-version "abc"/],
  ['empty functions', { functions: '' }, /functions is empty; list the Lambda functions/],
  ['invalid JSON test-payload', { 'test-payload': '{"test":' }, /test-payload is not valid JSON/],
  // A payload over 6 MB cannot reach the action through an environment variable (the OS caps one at
  // 128 KiB, on the runner too); __tests__/unit/config.test.ts checks the 6 MB limit itself.
  ['a header value containing a comma', { 'otlp-headers': `Authorization=${INGESTION_KEY},more` }, /otlp-headers: .*comma/],
  ['an environment line without =', { environment: 'JUST_A_WORD' }, /environment: line 1 is not of the form KEY=VALUE/],
  ['a reserved AWS_ variable', { environment: 'AWS_REGION=eu-west-1' }, /environment: AWS_REGION is reserved by Lambda/],
  ['malformed role-to-assume', { 'role-to-assume': 'deploy' }, /role-to-assume "deploy" is not an IAM role ARN/],
  ['an invalid role-session-name', { 'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/deploy`, 'role-session-name': 'has spaces' }, /role-session-name "has spaces" must be 2 to 64 characters/],
  ['max-concurrency 0', { 'max-concurrency': '0' }, /max-concurrency "0" must be a whole number from 1 to 64/],
  ['an unknown mode', { mode: 'deploy' }, /mode "deploy" must be one of apply, plan, check, remove/],
  ['an alias ARN', { functions: `${FN_ARN}:live` }, /names the version or alias live; only the function itself/],
  ['an unknown architecture', { architecture: 'amd64' }, /architecture "amd64" must be auto, x86_64 or arm64/],
  ['an unknown otlp-protocol', { 'otlp-protocol': 'udp' }, /otlp-protocol "udp" must be grpc or http/],
  ['an otlp-endpoint that is not a URL', { 'otlp-endpoint': 'clickstack:4317' }, /otlp-endpoint .*is not an http\(s\) URL/],
  ['a relative env-file', { 'env-file': 'rotel.env' }, /env-file "rotel.env" must be an absolute path/],
  ['a boolean that is not one', { 'test-invoke': 'sometimes' }, /test-invoke "sometimes" must be true or false/],
  ['role-duration-seconds too short', { 'role-duration-seconds': '60' }, /role-duration-seconds "60" must be a whole number from 900 to 43200/],
  ['a malformed secret reference', { 'otlp-headers': 'Authorization=${arn:aws:ssm:us-east-1:123456789012:parameter/k#field}' }, /only Secrets Manager references can/],
  ['an unknown instrumentation', { instrumentation: 'ruby' }, /instrumentation "ruby" must be one of none, auto, nodejs, python, java/],
  ['a pattern with characters no name has', { functions: 'orders/*' }, /functions: /],
  ['named and excluded at once', { functions: 'orders-api\nbilling-*', exclude: 'orders-*' }, /exclude/],
  ['a layer-name with another placeholder', { 'layer-name': 'rotel-{region}-{arch}' }, /layer-name "rotel-\{region\}-\{arch\}" must be a layer name/]
]

describe('bad input is refused before any AWS call', () => {
  it.each(BAD_INPUTS)('%s', async (_what, inputs, message) => {
    const result = await run(inputs)
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(message)
    expect(result.stdout).toMatch(/::error::Invalid input: |::error::\d+ inputs are invalid: /)
    // Input errors come before credentials: nothing at all reached AWS.
    expect(proxy.calls).toEqual([])
    expect(emitted(result)).not.toContain(INGESTION_KEY)
  })
})

describe('bad functions are refused before any write', () => {
  const cases: Array<[string, () => Promise<unknown>, Record<string, string>, RegExp]> = [
    ['a function that does not exist', async () => {}, { functions: 'ghost' }, /Function ghost does not exist in us-east-1; check the name, the region/],
    [
      'an image-package function',
      () => createSampleFunction(endpoint, { region: 'us-east-1', name: 'image-fn', architecture: 'x86_64', packageType: 'Image' }),
      { functions: 'image-fn' },
      /container-image function/
    ],
    [
      'a sixth layer',
      async () => {
        const { publishMirroredLayer } = await import('../../scripts/emulator-fixtures.mjs')
        const layers: string[] = []
        for (const n of [1, 2, 3, 4, 5]) {
          const published = await publishMirroredLayer(endpoint, { region: 'us-east-1', name: `extra-${n}`, versions: 1, architectures: ['x86_64'] })
          layers.push(published.arns[1] as string)
        }
        await createSampleFunction(endpoint, { region: 'us-east-1', name: 'full-fn', architecture: 'x86_64', layers })
      },
      { functions: 'full-fn' },
      /6 layers and Lambda allows 5; remove one of its layers first/
    ],
    [
      'variables over 4 KB',
      () =>
        createSampleFunction(endpoint, { region: 'us-east-1', name: 'big-fn', architecture: 'x86_64', variables: { BIG: 'x'.repeat(4050) } }),
      { functions: 'big-fn' },
      /would take \d+ bytes and Lambda allows 4096; move settings into env-file/
    ]
  ]

  it.each(cases)('%s', async (_what, setUp, inputs, message) => {
    await setUp()
    proxy.reset()
    const result = await run(inputs)
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(message)
    expect(writesOf()).toEqual([])
  })

  it('missing id-token permission: one sentence, and no AWS call', async () => {
    const result = await run({ 'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/deploy` }, { ACTIONS_ID_TOKEN_REQUEST_URL: undefined })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/::error::.*permissions: id-token: write/)
    expect(proxy.calls).toEqual([])
  })

  it("a fork's pull request: says GitHub withholds the token there and what to do, not to add the permission", async () => {
    const event = join(mkdtempSync(join(tmpdir(), 'rotel-fork-event-')), 'event.json')
    writeFileSync(
      event,
      JSON.stringify({
        pull_request: { number: 31, head: { repo: { full_name: 'outsider/my-repo', fork: true } }, base: { repo: { full_name: 'my-org/my-repo' } } }
      })
    )
    const result = await run(
      { 'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/deploy`, mode: 'plan' },
      { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event, GITHUB_REPOSITORY: 'my-org/my-repo' }
    )
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/::error::This run is for pull request #31 from the fork outsider\/my-repo, and GitHub gives .*no OIDC token.*head\.repo\.full_name == github\.repository.*pull_request_target/)
    expect(result.stdout).not.toMatch(/add .*id-token: write|needs `permissions: id-token: write`/)
    expect(proxy.calls).toEqual([])
  })

  it('the same function twice, by name and by ARN, is one function', async () => {
    const result = await run({ functions: `orders-api\n${FN_ARN}`, mode: 'plan' })
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.outputs.report ?? '[]')).toHaveLength(1)
  })
})

describe('no secret in anything the action emits', () => {
  it.each(['apply', 'plan', 'check', 'remove'])('%s mode', async (mode) => {
    const result = await run(
      {
        mode,
        'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/deploy`,
        environment: 'DB_PASSWORD=pa55-W0rd-Secret',
        'fail-on-drift': 'false'
      },
      { ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }
    )
    expect(result.exitCode).toBe(0)
    const everything = emitted(result)
    // The ingestion key, the other secret-looking value, the runner's request token, and every
    // credential the run handled (the ID token and the assumed role's keys, which it masked).
    const masked = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('::add-mask::'))
      .map((line) => line.slice('::add-mask::'.length))
    expect(masked.length).toBeGreaterThanOrEqual(5)
    for (const secret of [INGESTION_KEY, 'pa55-W0rd-Secret', REQUEST_TOKEN, ...masked])
      expect({ secret, found: everything.includes(secret) }).toEqual({ secret, found: false })
  })
})
