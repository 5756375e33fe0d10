/**
 * Guarantees 3 and 4: bad input is refused before any network call, with a message naming the input and
 * the fix; and no secret value reaches any byte the action emits, in any mode. The matrix runs
 * dist/index.js once per case, four at a time, with every destination (AWS, the ID-token endpoint,
 * GitHub's API, the OTLP endpoint) pointed at a listener of its own that records each connection: it
 * must stay silent. The cases that need functions run against moto behind the recording proxy.
 */
import { createServer, type Socket } from 'node:net'
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

/** The sample fleet, afresh: for the cases that reach moto (the matrix never does). */
async function resetFleet(): Promise<void> {
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
  proxy.reset()
}

const FN_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders-api`
const fnArn = (partition: string, region: string, name = 'orders-api'): string =>
  `arn:${partition}:lambda:${region}:${ACCOUNT}:function:${name}`
const SM_REF = `\${arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack-key}`
const KMS_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
/** Secrets the cases below give in their inputs; each must be nowhere in what the action emits. */
const PAYLOAD_SECRET = 'S3cr3t-In-The-Payload-77'
const PASTED_KEY = 'c2VjcmV0LWtleS1wYXN0ZWQ=='
const URL_PASSWORD = 'Ch-Pa55word-x'
const HEADER_SECRET = 'Hdr-S3cret-Value-42'
/** Earlier reports compare-report must refuse before any AWS call: too large, and not the report file. */
const REPORTS = mkdtempSync(join(tmpdir(), 'rotel-compare-'))
const HUGE_REPORT = join(REPORTS, 'huge.json')
writeFileSync(HUGE_REPORT, `[${' '.repeat(6 * 1024 * 1024 - 2)}]`)
const SMALL_REPORT = join(REPORTS, 'small.json')
writeFileSync(SMALL_REPORT, JSON.stringify({ reportFile: '/tmp/report.json', functions: 900, note: 'too large' }))

/** A bad-input case: the inputs that spoil BASE, the input the message must name, and the secrets it carries. */
interface BadCase {
  readonly what: string
  readonly inputs: Record<string, string>
  readonly names: string
  /** What the message must also say, where the wording is the point. */
  readonly says?: RegExp
  readonly secrets?: readonly string[]
  readonly env?: Record<string, string | undefined>
}

const bad = (
  what: string,
  inputs: Record<string, string>,
  names: string,
  extra: Pick<BadCase, 'says' | 'secrets' | 'env'> = {}
): BadCase => ({ what, inputs, names, ...extra })

const lines = (count: number, item: (i: number) => string): string =>
  Array.from({ length: count }, (_, i) => item(i)).join('\n')
const DELIVERY = { 'verify-delivery': 'warn', 'clickhouse-url': 'https://clickhouse.example.com:8443' }

const BAD_INPUTS: readonly BadCase[] = [
  // mode and the enumerations
  bad('an unknown mode', { mode: 'deploy' }, 'mode', {
    says: /mode "deploy" must be one of apply, plan, check, remove/
  }),
  bad('a mode in capitals', { mode: 'APPLY' }, 'mode'),
  bad('a mode with a line break inside', { mode: 'plan\ncheck' }, 'mode', { says: /line break at character 5/ }),
  bad('an unknown architecture', { architecture: 'amd64' }, 'architecture', { says: /must be auto, x86_64 or arm64/ }),
  bad('an architecture in capitals', { architecture: 'ARM64' }, 'architecture'),
  bad('an unknown otlp-protocol', { 'otlp-protocol': 'udp' }, 'otlp-protocol', { says: /must be grpc or http/ }),
  bad('an otlp-protocol in capitals', { 'otlp-protocol': 'GRPC' }, 'otlp-protocol'),
  bad('an unknown instrumentation', { instrumentation: 'ruby' }, 'instrumentation'),
  bad('an instrumentation in capitals', { instrumentation: 'NODEJS' }, 'instrumentation'),
  bad('an unknown cloudwatch-logs', { 'cloudwatch-logs': 'delete' }, 'cloudwatch-logs'),
  bad('an unknown cloudwatch-off-method', { 'cloudwatch-off-method': 'remove' }, 'cloudwatch-off-method'),
  bad('an unknown verify-delivery', { 'verify-delivery': 'always' }, 'verify-delivery'),
  // booleans
  bad('test-invoke that is not a boolean', { 'test-invoke': 'sometimes' }, 'test-invoke', {
    says: /must be true or false/
  }),
  bad('rollback-on-failure that is not a boolean', { 'rollback-on-failure': 'maybe' }, 'rollback-on-failure'),
  bad('fail-on-drift that is not a boolean', { 'fail-on-drift': '1' }, 'fail-on-drift'),
  bad('pr-comment that is not a boolean', { 'pr-comment': 'y' }, 'pr-comment'),
  bad('preflight that is not a boolean', { preflight: 'enabled' }, 'preflight'),
  bad('json-logs that is not a boolean', { 'json-logs': 'json' }, 'json-logs'),
  bad('grant-secret-access that is not a boolean', { 'grant-secret-access': 'all' }, 'grant-secret-access'),
  bad('cloud-attributes that is not a boolean', { 'cloud-attributes': 'aws' }, 'cloud-attributes'),
  bad('a boolean with an escape character', { 'test-invoke': 'true\u001b[0m' }, 'test-invoke', { says: /U\+001B/ }),
  // numbers
  bad('max-concurrency 0', { 'max-concurrency': '0' }, 'max-concurrency', { says: /from 1 to 64/ }),
  bad('a canary of 0', { canary: '0' }, 'canary', { says: /whole number of functions from 1 \(e\.g\. 3\)/ }),
  bad('a canary over 100 %', { canary: '120%' }, 'canary', { says: /percentage of the selected functions/ }),
  bad('a canary that is no function name', { canary: 'orders api' }, 'canary', { says: /not a function name or ARN/ }),
  bad('a canary without the test invocation', { canary: '1', 'test-invoke': 'false' }, 'canary', {
    says: /set test-invoke: true, or leave canary empty/
  }),
  bad('a negative failure-tolerance', { 'failure-tolerance': '-1' }, 'failure-tolerance', { says: /from 0/ }),
  bad('failure-tolerance over 100 %', { 'failure-tolerance': '101%' }, 'failure-tolerance'),
  bad('max-concurrency 65', { 'max-concurrency': '65' }, 'max-concurrency'),
  bad('max-concurrency in words', { 'max-concurrency': 'eight' }, 'max-concurrency'),
  bad('cloudwatch-check-seconds -1', { 'cloudwatch-check-seconds': '-1' }, 'cloudwatch-check-seconds'),
  bad('cloudwatch-check-seconds 301', { 'cloudwatch-check-seconds': '301' }, 'cloudwatch-check-seconds'),
  bad('role-duration-seconds too short', { 'role-duration-seconds': '60' }, 'role-duration-seconds', {
    says: /from 900 to 43200/
  }),
  bad('role-duration-seconds too long', { 'role-duration-seconds': '43201' }, 'role-duration-seconds'),
  bad('role-duration-seconds in exponent form', { 'role-duration-seconds': '1e3' }, 'role-duration-seconds'),
  bad('an unknown aws-api-rates name', { 'aws-api-rates': 'invoke=5' }, 'aws-api-rates', {
    says: /"invoke" is not a rate it knows; name one of lambda, get-function, get-policy/
  }),
  bad('an aws-api-rates rate in words', { 'aws-api-rates': 'lambda=fast' }, 'aws-api-rates', {
    says: /not a number of requests a second/
  }),
  bad('an aws-api-rates rate of 0', { 'aws-api-rates': 'describe-log-streams=0' }, 'aws-api-rates', {
    says: /must be at least 0\.1/
  }),
  bad('an aws-api-rates rate below 0', { 'aws-api-rates': 'get-function=-5' }, 'aws-api-rates'),
  bad('an aws-api-rates Lambda rate above its fixed quota', { 'aws-api-rates': 'lambda=20' }, 'aws-api-rates', {
    says: /above AWS's quota of 15 requests a second .* cannot be increased .*give at most 15/
  }),
  bad(
    'an aws-api-rates GetFunction rate above its fixed quota',
    { 'aws-api-rates': 'get-function=150' },
    'aws-api-rates',
    {
      says: /give at most 100/
    }
  ),
  bad('an aws-api-rates entry without "="', { 'aws-api-rates': 'describe-log-streams' }, 'aws-api-rates'),
  bad('a number of 300 digits', { 'max-concurrency': '9'.repeat(300) }, 'max-concurrency', {
    says: /300 characters long and may be at most 256/
  }),
  bad('layer-version 0', { 'layer-version': '0' }, 'layer-version', {
    says: /must be "latest" or a layer version number/
  }),
  bad('layer-version -1', { 'layer-version': '-1' }, 'layer-version'),
  bad('layer-version 1.5', { 'layer-version': '1.5' }, 'layer-version'),
  bad('layer-version abc', { 'layer-version': 'abc' }, 'layer-version'),
  bad('layer-version of 8 digits', { 'layer-version': '12345678' }, 'layer-version'),
  // regions
  bad('an unknown region', { 'aws-region': 'mars-east-1' }, 'aws-region', {
    says: /"mars-east-1" is not an AWS region name/
  }),
  bad('a region in capitals', { 'aws-region': 'US-EAST-1' }, 'aws-region'),
  bad('a region of no partition', { 'aws-region': 'zz-east-1' }, 'aws-region'),
  bad('two regions without a separator', { 'aws-region': 'us-east-1 eu-west-1' }, 'aws-region'),
  bad('a region with a bell character', { 'aws-region': 'us-east-1\u0007' }, 'aws-region', {
    says: /U\+0007 at line 1, character 10/
  }),
  bad('51 regions', { 'aws-region': lines(51, () => 'us-east-1') }, 'aws-region', { says: /51 regions/ }),
  bad('a region without the layer', { 'aws-region': 'af-south-1', 'layer-account': '' }, 'layer-account', {
    says: /af-south-1, where the Rotel layer is not published.*set layer-account/
  }),
  bad('a GovCloud region without a mirror', { 'aws-region': 'us-gov-west-1', 'layer-account': '' }, 'layer-account', {
    says: /aws-us-gov partition, where the Rotel layer is not published/
  }),
  // functions
  bad('empty functions', { functions: '' }, 'functions', { says: /functions is empty; list the Lambda functions/ }),
  bad('a malformed function ARN', { functions: 'arn:aws:lambda:us-east-1:123:function:x' }, 'functions', {
    says: /is not a Lambda function ARN; write arn:aws:lambda/
  }),
  bad(
    'an ARN of another partition without a mirror',
    { functions: fnArn('aws-cn', 'cn-north-1'), 'layer-account': '' },
    'layer-account',
    {
      says: /aws-cn partition.*set layer-account/
    }
  ),
  bad('an ARN whose partition does not own its region', { functions: fnArn('aws-cn', 'us-east-1') }, 'functions', {
    says: /puts us-east-1 in the partition aws-cn, but us-east-1 is in aws/
  }),
  bad('an ARN of a partition that does not exist', { functions: fnArn('aws-moon', 'us-east-1') }, 'functions', {
    says: /partition "aws-moon", which does not exist/
  }),
  bad('an ISO partition with a commercial region', { functions: fnArn('aws-iso', 'eu-west-1') }, 'functions', {
    says: /eu-west-1 is in aws/
  }),
  bad('a commercial partition with a GovCloud region', { functions: fnArn('aws', 'us-gov-west-1') }, 'functions', {
    says: /us-gov-west-1 is in aws-us-gov/
  }),
  bad('an ARN in a region that does not exist', { functions: fnArn('aws', 'moon-east-1') }, 'functions', {
    says: /"moon-east-1", which is not an AWS region/
  }),
  bad('an alias ARN', { functions: `${FN_ARN}:live` }, 'functions', {
    says: /names the version or alias live; only the function itself/
  }),
  bad('a version ARN', { functions: `${FN_ARN}:7` }, 'functions'),
  bad('a name of 65 characters', { functions: 'f'.repeat(65) }, 'functions'),
  bad('an item of 300 characters', { functions: 'f'.repeat(300) }, 'functions', {
    says: /item 1 is 300 characters long/
  }),
  bad('1001 functions', { functions: lines(1001, (i) => `fn-${i}`) }, 'functions', {
    says: /1001 items and takes at most 1000/
  }),
  bad('functions over 64 KiB', { functions: lines(2200, (i) => `${'f'.repeat(26)}-${i}`) }, 'functions', {
    says: /characters long and may be at most 65536/
  }),
  bad('a name with a bidirectional override', { functions: 'orders\u202eipa' }, 'functions', { says: /U\+202E/ }),
  bad('a name with a lone carriage return', { functions: 'orders-api\rbilling' }, 'functions', {
    says: /carriage return without a line feed/
  }),
  bad('a plain name with no region known', { 'aws-region': '' }, 'functions', {
    says: /no region is known; set aws-region/
  }),
  bad('a pattern with AWS_REGION that is no region', { functions: 'orders-*', 'aws-region': '' }, 'aws-region', {
    says: /from AWS_REGION or AWS_DEFAULT_REGION, as aws-region is empty\) is not an AWS region name/,
    env: { AWS_REGION: 'mars-1' }
  }),
  bad(
    'ARNs of two partitions in one run',
    { functions: `${FN_ARN}\n${fnArn('aws-cn', 'cn-north-1', 'b')}` },
    'functions',
    {
      says: /mixes functions of the partitions aws and aws-cn/
    }
  ),
  // patterns
  bad('a pattern with characters no name has', { functions: 'orders/*' }, 'functions', {
    says: /"\/" cannot be in a function name/
  }),
  bad('a pattern with an unclosed class', { functions: 'orders-[a*' }, 'functions', { says: /never closed/ }),
  bad('a pattern with a backwards range', { functions: 'orders-[z-a]*' }, 'functions', { says: /runs backwards/ }),
  bad('a pattern longer than any name', { functions: `${'?'.repeat(65)}*` }, 'functions', { says: /at most 64/ }),
  bad('a pattern without regions', { functions: 'orders-*', 'aws-region': '' }, 'functions', {
    says: /needs regions to look in/
  }),
  bad(
    'a pattern in a region without the layer',
    { functions: 'orders-*', 'aws-region': 'us-east-1, af-south-1', 'layer-account': '' },
    'layer-account',
    {
      says: /orders-\* is in af-south-1, where the Rotel layer is not published/
    }
  ),
  bad(
    'an ARN pattern in a region without the layer',
    { functions: fnArn('aws', 'me-south-1', 'orders-*'), 'layer-account': '' },
    'layer-account',
    {
      says: /me-south-1, where the Rotel layer is not published/
    }
  ),
  bad(
    'an ARN pattern in China without a mirror',
    { functions: fnArn('aws-cn', 'cn-north-1', 'orders-*'), 'layer-account': '' },
    'layer-account'
  ),
  bad(
    'an ARN pattern whose partition does not own its region',
    { functions: fnArn('aws-us-gov', 'us-east-1', 'o*') },
    'functions',
    {
      says: /us-east-1 is in aws/
    }
  ),
  bad(
    'an ARN pattern of a partition that does not exist',
    { functions: fnArn('aws-x', 'us-east-1', 'o*') },
    'functions'
  ),
  bad(
    'a pattern in the region of an ARN',
    { functions: `arn:aws:lambda:us-*:${ACCOUNT}:function:orders-*` },
    'functions',
    { says: /pattern in its region/ }
  ),
  bad(
    'a pattern and an ARN of another partition',
    { functions: `orders-*\n${fnArn('aws-us-gov', 'us-gov-west-1', 'b')}` },
    'functions',
    {
      says: /mixes functions of the partitions/
    }
  ),
  // exclude
  bad('named and excluded at once', { functions: 'orders-api\nbilling-*', exclude: 'orders-*' }, 'exclude', {
    says: /exclude excludes it/
  }),
  bad(
    'a malformed ARN in exclude',
    { functions: 'orders-*', exclude: 'arn:aws:lambda:us-east-1:123:function:x' },
    'exclude'
  ),
  bad('an exclude pattern with an unclosed class', { functions: 'orders-*', exclude: 'orders-[' }, 'exclude'),
  bad('201 exclude patterns', { functions: 'orders-*', exclude: lines(201, (i) => `x-${i}-*`) }, 'exclude', {
    says: /201 items/
  }),
  bad('an exclude item of 300 characters', { functions: 'orders-*', exclude: 'x'.repeat(300) }, 'exclude'),
  // layer
  bad('a layer-account of 5 digits', { 'layer-account': '12345' }, 'layer-account', {
    says: /12-digit AWS account ID/
  }),
  bad('a layer-account of letters', { 'layer-account': 'abcdefghijkl' }, 'layer-account'),
  bad('a layer-name with another placeholder', { 'layer-name': 'rotel-{region}-{arch}' }, 'layer-name', {
    says: /must be a layer name/
  }),
  bad('a layer-name with a space', { 'layer-name': 'rotel extension' }, 'layer-name'),
  bad('a layer-name of 141 characters', { 'layer-name': 'l'.repeat(141) }, 'layer-name'),
  // role
  bad('a malformed role-to-assume', { 'role-to-assume': 'deploy' }, 'role-to-assume', {
    says: /is not an IAM role ARN/
  }),
  bad('a role ARN with a short account', { 'role-to-assume': 'arn:aws:iam::123:role/deploy' }, 'role-to-assume'),
  bad(
    'a role ARN of a partition that does not exist',
    { 'role-to-assume': `arn:aws-moon:iam::${ACCOUNT}:role/deploy` },
    'role-to-assume',
    {
      says: /partition "aws-moon", which does not exist/
    }
  ),
  bad(
    'a role ARN of another partition than the functions',
    { 'role-to-assume': `arn:aws-cn:iam::${ACCOUNT}:role/deploy` },
    'role-to-assume',
    {
      says: /in the partition aws-cn and the functions are in aws/
    }
  ),
  bad(
    'a role ARN of 2100 characters',
    { 'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/${'r'.repeat(2070)}` },
    'role-to-assume',
    {
      says: /may be at most 2048/
    }
  ),
  bad(
    'a role-session-name with spaces',
    { 'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/deploy`, 'role-session-name': 'has spaces' },
    'role-session-name'
  ),
  bad('a role-session-name of one character', { 'role-session-name': 'a' }, 'role-session-name'),
  bad('an audience of 300 characters', { audience: 'a'.repeat(300) }, 'audience', { says: /at most 255/ }),
  bad('an audience with a line break', { audience: 'sts.amazonaws.com\n::warning::x' }, 'audience'),
  // otlp-endpoint
  bad('an otlp-endpoint that is not a URL', { 'otlp-endpoint': 'clickstack:4317' }, 'otlp-endpoint', {
    says: /is not an http\(s\) URL/
  }),
  bad('an otlp-endpoint of another scheme', { 'otlp-endpoint': 'ftp://clickstack.example.com' }, 'otlp-endpoint'),
  bad(
    'an otlp-endpoint with a line break inside',
    { 'otlp-endpoint': 'https://clickstack.example\n.com:4317' },
    'otlp-endpoint',
    {
      says: /otlp-endpoint holds a line break/
    }
  ),
  bad(
    'an otlp-endpoint with a carriage return',
    { 'otlp-endpoint': 'https://clickstack.example.com\r:4317' },
    'otlp-endpoint'
  ),
  bad('an otlp-endpoint with a tab', { 'otlp-endpoint': 'https://clickstack.example.com\t:4317' }, 'otlp-endpoint'),
  bad(
    'an otlp-endpoint with credentials',
    { 'otlp-endpoint': `https://user:${URL_PASSWORD}@clickstack.example.com` },
    'otlp-endpoint',
    {
      says: /must not carry credentials/,
      secrets: [URL_PASSWORD]
    }
  ),
  bad(
    'an otlp-endpoint with a space and a key in its query',
    { 'otlp-endpoint': `https://clickstack.example.com/v1 x?api_key=${HEADER_SECRET}` },
    'otlp-endpoint',
    {
      secrets: [HEADER_SECRET]
    }
  ),
  bad(
    'an otlp-endpoint that is no URL and carries a key',
    { 'otlp-endpoint': `clickstack?api_key=${HEADER_SECRET}` },
    'otlp-endpoint',
    {
      secrets: [HEADER_SECRET]
    }
  ),
  bad(
    'an otlp-endpoint of 5000 characters',
    { 'otlp-endpoint': `https://clickstack.example.com/${'p'.repeat(5000)}` },
    'otlp-endpoint',
    {
      says: /at most 4096 \(Lambda allows 4 KB/
    }
  ),
  // otlp-headers
  bad('a header value containing a comma', { 'otlp-headers': `Authorization=${INGESTION_KEY},more` }, 'otlp-headers', {
    says: /comma/
  }),
  bad('a header name with a carriage return', { 'otlp-headers': `Authorization\r=${INGESTION_KEY}` }, 'otlp-headers', {
    says: /carriage return without a line feed/
  }),
  bad(
    'two headers parted by a lone carriage return',
    { 'otlp-headers': `X-Team=a\rAuthorization=${INGESTION_KEY}` },
    'otlp-headers'
  ),
  bad('a header value outside Latin-1', { 'otlp-headers': `Authorization=${HEADER_SECRET}ключ` }, 'otlp-headers', {
    says: /outside printable ASCII/,
    secrets: [`${HEADER_SECRET}ключ`, HEADER_SECRET]
  }),
  bad('a header value with a Latin-1 letter', { 'otlp-headers': `Authorization=${HEADER_SECRET}é` }, 'otlp-headers', {
    secrets: [`${HEADER_SECRET}é`, HEADER_SECRET]
  }),
  bad('a header name outside ASCII', { 'otlp-headers': `Autorización=${HEADER_SECRET}` }, 'otlp-headers', {
    secrets: [HEADER_SECRET]
  }),
  bad('an empty header name first', { 'otlp-headers': `=${HEADER_SECRET}` }, 'otlp-headers', {
    says: /has no name before "="/,
    secrets: [HEADER_SECRET]
  }),
  bad(
    'an empty header name second',
    { 'otlp-headers': `Authorization=${INGESTION_KEY},=${HEADER_SECRET}` },
    'otlp-headers',
    {
      secrets: [HEADER_SECRET]
    }
  ),
  bad(
    'a header given twice',
    { 'otlp-headers': `Authorization=${INGESTION_KEY},Authorization=${HEADER_SECRET}` },
    'otlp-headers',
    {
      says: /given twice/,
      secrets: [HEADER_SECRET]
    }
  ),
  bad(
    'a header given twice in two cases',
    { 'otlp-headers': `Authorization=${INGESTION_KEY}\nauthorization=${HEADER_SECRET}` },
    'otlp-headers',
    {
      says: /ignore case/,
      secrets: [HEADER_SECRET]
    }
  ),
  bad('a header with an empty value (an unset secret)', { 'otlp-headers': 'Authorization=' }, 'otlp-headers', {
    says: /empty value/
  }),
  bad('a key pasted without its header name', { 'otlp-headers': `Bearer ${HEADER_SECRET}` }, 'otlp-headers', {
    secrets: [HEADER_SECRET]
  }),
  bad('a key with base64 padding pasted without its name', { 'otlp-headers': PASTED_KEY }, 'otlp-headers', {
    says: /looks like a base64 value pasted without its name/,
    secrets: [PASTED_KEY, PASTED_KEY.replace(/=+$/, '')]
  }),
  bad(
    'a malformed secret reference',
    { 'otlp-headers': `Authorization=\${arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/k#field}` },
    'otlp-headers',
    {
      says: /only Secrets Manager references can/
    }
  ),
  bad(
    'a ${…} that is part of a literal key',
    { 'otlp-headers': `Authorization=Bearer \${${HEADER_SECRET}}` },
    'otlp-headers',
    {
      says: /not a reference to a secret/,
      secrets: [HEADER_SECRET]
    }
  ),
  bad(
    'a secret reference whose partition does not own its region',
    {
      'otlp-headers': `Authorization=\${arn:aws-cn:secretsmanager:us-east-1:${ACCOUNT}:secret:k}`
    },
    'otlp-headers',
    { says: /us-east-1 is in aws/ }
  ),
  bad(
    'a secret reference in another partition than the functions',
    {
      'otlp-headers': `Authorization=\${arn:aws-cn:secretsmanager:cn-north-1:${ACCOUNT}:secret:k}`
    },
    'otlp-headers',
    { says: /in the partition aws-cn and the functions are in aws/ }
  ),
  bad(
    'a secret:// value with a bad ARN',
    { 'otlp-headers': 'secret://arn:aws:secretsmanager:mars:1:secret:x' },
    'otlp-headers'
  ),
  bad(
    'headers of 100 KB',
    { 'otlp-headers': `Authorization=${HEADER_SECRET}${'k'.repeat(100 * 1024)}` },
    'otlp-headers',
    {
      says: /at most 4096/,
      secrets: [HEADER_SECRET]
    }
  ),
  bad(
    'headers that with the other settings pass 4 KB',
    {
      'otlp-headers': `Authorization=${HEADER_SECRET}${'k'.repeat(2500)}`,
      environment: `PADDING=${'p'.repeat(1500)}`
    },
    'otlp-headers',
    { says: /take \d+ bytes as Lambda counts them \(otlp-headers \d+, environment \d+/, secrets: [HEADER_SECRET] }
  ),
  // resource-attributes
  bad(
    'a resource attribute with a space in its key',
    { 'resource-attributes': 'team name=orders' },
    'resource-attributes'
  ),
  bad('a resource attribute given twice', { 'resource-attributes': 'team=a,team=b' }, 'resource-attributes', {
    says: /team is given twice/
  }),
  bad(
    'resource attributes of 5000 characters',
    { 'resource-attributes': `team=${'a'.repeat(5000)}` },
    'resource-attributes'
  ),
  bad('a resource attribute with a form feed', { 'resource-attributes': 'team=a\fb' }, 'resource-attributes', {
    says: /U\+000C/
  }),
  // env-file
  bad('a relative env-file', { 'env-file': 'rotel.env' }, 'env-file', { says: /must be an absolute path/ }),
  bad('an env-file with a space', { 'env-file': '/var/task/rotel env' }, 'env-file'),
  bad('an env-file with a vertical tab', { 'env-file': '/var/task/rotel\u000b.env' }, 'env-file'),
  // environment
  bad('an environment line without =', { environment: 'JUST_A_WORD' }, 'environment', {
    says: /line 1 is not of the form KEY=VALUE/
  }),
  bad('a key pasted into environment without =', { environment: `API_KEY ${HEADER_SECRET}` }, 'environment', {
    secrets: [HEADER_SECRET]
  }),
  bad('a base64 key pasted into environment', { environment: `API_KEY ${PASTED_KEY}` }, 'environment', {
    says: /line 1 looks like a base64 value pasted without its name/,
    secrets: [PASTED_KEY, PASTED_KEY.replace(/=+$/, '')]
  }),
  bad('a bare base64 key in environment', { environment: PASTED_KEY }, 'environment', {
    says: /looks like a base64 value pasted without its name/,
    secrets: [PASTED_KEY, PASTED_KEY.replace(/=+$/, '')]
  }),
  bad('a reserved AWS_ variable', { environment: 'AWS_REGION=eu-west-1' }, 'environment', {
    says: /AWS_REGION is reserved by Lambda/
  }),
  bad(
    "the action's own log-format record",
    { environment: 'CLICKSTACK_ACTION_PREVIOUS_LOG_FORMAT=Text' },
    'environment'
  ),
  bad(
    'a variable another input sets',
    { environment: 'ROTEL_OTLP_EXPORTER_ENDPOINT=https://x.example.com' },
    'environment',
    { says: /already set by another input/ }
  ),
  bad('a variable given twice', { environment: 'TEAM=a\nTEAM=b' }, 'environment', { says: /TEAM is given twice/ }),
  bad('a variable name starting with a digit', { environment: '1TEAM=a' }, 'environment'),
  bad('a secret value with a bell character', { environment: `DB_PASSWORD=${HEADER_SECRET}\u0007` }, 'environment', {
    secrets: [HEADER_SECRET]
  }),
  bad('a variable of 5000 characters', { environment: `BIG=${'b'.repeat(5000)}` }, 'environment', {
    says: /at most 4096/
  }),
  bad(
    'two variables parted by a lone carriage return',
    { environment: `A=1\rDB_PASSWORD=${HEADER_SECRET}` },
    'environment',
    { secrets: [HEADER_SECRET] }
  ),
  // test-payload
  bad('an incomplete JSON test-payload', { 'test-payload': '{"test":' }, 'test-payload', {
    says: /test-payload is not valid JSON/
  }),
  bad('a test-payload that is no JSON', { 'test-payload': 'hello' }, 'test-payload'),
  bad(
    'a test-payload whose error would quote a secret',
    { 'test-payload': `{"token":"${PAYLOAD_SECRET}" oops}` },
    'test-payload',
    {
      secrets: [PAYLOAD_SECRET]
    }
  ),
  bad('a test-payload that is no JSON and a secret', { 'test-payload': PAYLOAD_SECRET }, 'test-payload', {
    secrets: [PAYLOAD_SECRET]
  }),
  bad(
    'a test-payload with a raw control character',
    { 'test-payload': `{"token":"${PAYLOAD_SECRET}\u0001"}` },
    'test-payload',
    {
      secrets: [PAYLOAD_SECRET]
    }
  ),
  // annotate-files
  bad('101 annotate-files globs', { 'annotate-files': lines(101, (i) => `dir${i}/**/*.tf`) }, 'annotate-files', {
    says: /101 globs/
  }),
  bad('annotate-files over 16 KiB', { 'annotate-files': `${'d/'.repeat(9000)}*.tf` }, 'annotate-files'),
  // instrumentation-layer
  bad(
    'an instrumentation-layer that is not an ARN',
    { 'instrumentation-layer': 'aws-otel-nodejs' },
    'instrumentation-layer'
  ),
  bad(
    'an instrumentation-layer of a partition that does not exist',
    {
      'instrumentation-layer': 'arn:aws-moon:lambda:{region}:901920570463:layer:otel-{arch}:1'
    },
    'instrumentation-layer',
    { says: /does not exist/ }
  ),
  bad(
    'an instrumentation-layer whose partition does not own its region',
    {
      'instrumentation-layer': 'arn:aws:lambda:cn-north-1:901920570463:layer:otel-{arch}:1'
    },
    'instrumentation-layer',
    { says: /cn-north-1 is in aws-cn/ }
  ),
  bad(
    'an instrumentation-layer in another partition than the functions',
    {
      'instrumentation-layer': 'arn:aws-cn:lambda:{region}:901920570463:layer:otel-{arch}:1'
    },
    'instrumentation-layer',
    { says: /functions are in aws/ }
  ),
  // delivery and HyperDX
  bad('verify-delivery without clickhouse-url', { 'verify-delivery': 'require' }, 'clickhouse-url', {
    says: /clickhouse-url is empty/
  }),
  bad('a clickhouse-url that is not a URL', { ...DELIVERY, 'clickhouse-url': 'clickhouse:8443' }, 'clickhouse-url'),
  bad(
    'a clickhouse-url of another scheme',
    { ...DELIVERY, 'clickhouse-url': 'tcp://clickhouse.example.com:9000' },
    'clickhouse-url'
  ),
  bad(
    'a clickhouse-url whose password has a malformed %-escape',
    {
      ...DELIVERY,
      'clickhouse-url': `https://default:${URL_PASSWORD}%zz@clickhouse.example.com:8443`
    },
    'clickhouse-url',
    { says: /malformed %-escape/, secrets: [URL_PASSWORD, `${URL_PASSWORD}%zz`] }
  ),
  bad(
    'a clickhouse-url with a line break',
    { ...DELIVERY, 'clickhouse-url': 'https://clickhouse.example.com\n:8443' },
    'clickhouse-url'
  ),
  bad(
    'a clickhouse-password with a line break',
    { ...DELIVERY, 'clickhouse-password': `${URL_PASSWORD}\nmore` },
    'clickhouse-password',
    {
      secrets: [URL_PASSWORD]
    }
  ),
  bad(
    'a clickhouse-user with an escape character',
    { ...DELIVERY, 'clickhouse-user': 'default\u001b' },
    'clickhouse-user'
  ),
  bad('a dotted clickhouse-database', { ...DELIVERY, 'clickhouse-database': 'otel.logs' }, 'clickhouse-database', {
    says: /no dot/
  }),
  bad(
    'a clickhouse-database with SQL in it',
    { ...DELIVERY, 'clickhouse-database': 'x;DROP TABLE y' },
    'clickhouse-database'
  ),
  bad('a logs-table of three parts', { ...DELIVERY, 'logs-table': 'a.b.c' }, 'logs-table'),
  bad('a traces-table starting with a digit', { ...DELIVERY, 'traces-table': '1traces' }, 'traces-table'),
  bad('verify-delivery-timeout 1', { ...DELIVERY, 'verify-delivery-timeout': '1' }, 'verify-delivery-timeout'),
  bad(
    'a hyperdx-url that breaks out of the link',
    { ...DELIVERY, 'hyperdx-url': 'https://hyperdx.example.com/x)[evil](https://evil.example' },
    'hyperdx-url',
    {
      says: /would break the summary's Markdown link/
    }
  ),
  bad(
    'a hyperdx-url with HTML',
    { ...DELIVERY, 'hyperdx-url': 'https://hyperdx.example.com/<img src=x>' },
    'hyperdx-url'
  ),
  bad(
    'a hyperdx-url with a quote',
    { ...DELIVERY, 'hyperdx-url': 'https://hyperdx.example.com/"title"' },
    'hyperdx-url'
  ),
  bad('a hyperdx-url with a space', { ...DELIVERY, 'hyperdx-url': 'https://hyperdx.example.com/a b' }, 'hyperdx-url'),
  bad(
    'a hyperdx-url with a closing bracket',
    { ...DELIVERY, 'hyperdx-url': 'https://hyperdx.example.com/]' },
    'hyperdx-url'
  ),
  bad('a javascript: hyperdx-url', { ...DELIVERY, 'hyperdx-url': 'javascript:alert(1)' }, 'hyperdx-url', {
    says: /is not an http\(s\) URL/
  }),
  bad('a hyperdx-url without a scheme', { ...DELIVERY, 'hyperdx-url': 'hyperdx.example.com' }, 'hyperdx-url'),
  bad(
    'a hyperdx-url with credentials',
    { ...DELIVERY, 'hyperdx-url': `https://admin:${URL_PASSWORD}@hyperdx.example.com` },
    'hyperdx-url',
    {
      says: /must not carry credentials/,
      secrets: [URL_PASSWORD]
    }
  ),
  bad(
    'a hyperdx-url with a query',
    { ...DELIVERY, 'hyperdx-url': 'https://hyperdx.example.com/?team=a' },
    'hyperdx-url'
  ),
  bad(
    'a hyperdx-url with a line break',
    { ...DELIVERY, 'hyperdx-url': 'https://hyperdx.example.com\n/x' },
    'hyperdx-url'
  ),
  // KMS keys
  bad(
    'a KMS alias ARN',
    { 'otlp-headers': `Authorization=${SM_REF}`, 'secret-kms-key-arn': `arn:aws:kms:us-east-1:${ACCOUNT}:alias/k` },
    'secret-kms-key-arn',
    {
      says: /alias ARN/
    }
  ),
  bad(
    'a KMS key that is not an ARN',
    { 'otlp-headers': `Authorization=${SM_REF}`, 'secret-kms-key-arn': 'my-key' },
    'secret-kms-key-arn'
  ),
  bad('a KMS key without any secret reference', { 'secret-kms-key-arn': KMS_KEY }, 'secret-kms-key-arn', {
    says: /no setting references a secret/
  }),
  bad(
    'a KMS key whose partition does not own its region',
    {
      'otlp-headers': `Authorization=${SM_REF}`,
      'secret-kms-key-arn': KMS_KEY.replace('arn:aws:', 'arn:aws-cn:')
    },
    'secret-kms-key-arn',
    { says: /us-east-1 is in aws/ }
  ),
  bad(
    'a KMS key in another partition than the functions',
    {
      'otlp-headers': `Authorization=${SM_REF}`,
      'secret-kms-key-arn': KMS_KEY.replace('arn:aws:kms:us-east-1', 'arn:aws-cn:kms:cn-north-1')
    },
    'secret-kms-key-arn',
    { says: /functions are in aws/ }
  ),
  bad(
    '21 KMS keys',
    { 'otlp-headers': `Authorization=${SM_REF}`, 'secret-kms-key-arn': lines(21, () => KMS_KEY) },
    'secret-kms-key-arn',
    { says: /21 keys/ }
  ),
  // github-token
  bad('a github-token with a line break', { 'github-token': `ghp_${HEADER_SECRET}\nX-Injected: 1` }, 'github-token', {
    secrets: [HEADER_SECRET]
  }),
  bad(
    'a github-token of 2000 characters',
    { 'github-token': `ghp_${HEADER_SECRET}${'t'.repeat(2000)}` },
    'github-token',
    { secrets: [HEADER_SECRET] }
  ),
  // memory-headroom, low-memory, compare-report
  bad('a memory-headroom without a unit', { 'memory-headroom': '10' }, 'memory-headroom', { says: /e\.g\. 10%/ }),
  bad('a memory-headroom of 95%', { 'memory-headroom': '95%' }, 'memory-headroom', { says: /from 0% to 90%/ }),
  bad('an unknown low-memory', { 'low-memory': 'rollback' }, 'low-memory', { says: /must be warn .* or fail/ }),
  bad('a compare-report over 5 MB', { 'compare-report': HUGE_REPORT }, 'compare-report', {
    says: /compare-report is 6 MB; at most 5 MB is read/
  }),
  bad(
    'a compare-report that is the small report output, not the file',
    { 'compare-report': SMALL_REPORT },
    'compare-report',
    {
      says: /not a JSON array of function rows/
    }
  ),
  // several at once: every one is reported
  bad('two bad inputs at once', { mode: 'deploy', 'max-concurrency': '0' }, 'max-concurrency', {
    says: /2 inputs are invalid: mode "deploy"/
  })
]

const ALL_FORMS = (secret: string): string[] => [
  secret,
  JSON.stringify(secret).slice(1, -1),
  encodeURIComponent(secret),
  Buffer.from(secret).toString('base64')
]

/** Listens on a port and records every connection made to it, answering none. */
async function startRecorder(): Promise<{ url: string; connections: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const recorder = { url: '', connections: 0, close: async () => {} }
  const server = createServer((socket) => {
    recorder.connections++
    sockets.add(socket)
    socket.destroy()
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const address = server.address()
  recorder.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  recorder.close = () => new Promise<void>((done) => server.close(() => done()))
  return recorder
}

interface CaseResult {
  readonly run: ActionRun
  readonly connections: number
}

/** Runs one case through dist/index.js with every network destination pointed at its own recorder. */
async function runBadCase(badCase: BadCase): Promise<CaseResult> {
  const recorder = await startRecorder()
  try {
    const run = await runAction({
      endpoint: recorder.url,
      inputs: {
        ...BASE,
        'otlp-endpoint': `${recorder.url}/otlp`,
        // A case the action wrongly accepts goes on to the preflight and AWS: the recorder sees it.
        preflight: 'true',
        ...badCase.inputs
      },
      env: {
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        ACTIONS_ID_TOKEN_REQUEST_URL: `${recorder.url}/token`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
        GITHUB_API_URL: recorder.url,
        ...badCase.env
      }
    })
    return { run, connections: recorder.connections }
  } finally {
    await recorder.close()
  }
}

/** Runs `work` on every item, `width` at a time. */
async function inBatches<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++
        results[index] = await work(items[index] as T)
      }
    })
  )
  return results
}

/**
 * The matrix's runs in groups, each group run in its own beforeAll (4 at a time) and held to its own time
 * limit: one beforeAll for all of them ran out of its limit on a loaded machine.
 */
const MATRIX_GROUP = 40

describe('the bad-input matrix: each case is refused before any network call', () => {
  it('has at least 120 cases, each named once', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(120)
    expect(new Set(BAD_INPUTS.map((badCase) => badCase.what)).size).toBe(BAD_INPUTS.length)
  })

  for (let first = 0; first < BAD_INPUTS.length; first += MATRIX_GROUP) {
    const group = BAD_INPUTS.slice(first, first + MATRIX_GROUP)
    describe(`cases ${first + 1} to ${first + group.length}`, () => {
      const results = new Map<string, CaseResult>()

      beforeAll(async () => {
        const outcomes = await inBatches(group, 4, runBadCase)
        group.forEach((badCase, index) => results.set(badCase.what, outcomes[index] as CaseResult))
      }, 120_000)

      it.each(group.map((badCase) => [badCase.what, badCase] as const))('%s', (_what, badCase) => {
        const { run, connections } = results.get(badCase.what) as CaseResult
        expect(run.exitCode).toBe(1)
        // Workflow commands escape %, CR and LF in their message; the test reads the message as the runner shows it.
        const errors = run.stdout
          .split('\n')
          .filter((line) => line.startsWith('::error::'))
          .map((line) => line.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'))
        expect(errors.at(-1)).toMatch(/^::error::(Invalid input: |\d+ inputs are invalid: )/)
        // One error line per problem, and one of them names the input (as a word, not inside another name).
        const naming = new RegExp(`(^|[^a-z-])${badCase.names.replace(/-/g, '\\-')}([^a-z-]|$)`)
        expect({
          errors,
          names: errors.slice(0, -1).some((line) => naming.test(line.slice('::error::'.length)))
        }).toEqual({
          errors,
          names: true
        })
        if (badCase.says) expect(errors.join('\n')).toMatch(badCase.says)
        // Input errors come before credentials: nothing at all left the process.
        expect(connections).toBe(0)
        const everything = emitted(run)
        for (const secret of [INGESTION_KEY, ...(badCase.secrets ?? [])])
          for (const form of ALL_FORMS(secret))
            expect({ form, found: everything.includes(form) }).toEqual({ form, found: false })
      })
    })
  }
})

describe('bad functions are refused before any write', () => {
  beforeEach(resetFleet)

  const cases: Array<[string, () => Promise<unknown>, Record<string, string>, RegExp]> = [
    [
      'a function that does not exist',
      async () => {},
      { functions: 'ghost' },
      /Function ghost does not exist in us-east-1; check the name, the region/
    ],
    [
      'an image-package function',
      () =>
        createSampleFunction(endpoint, {
          region: 'us-east-1',
          name: 'image-fn',
          architecture: 'x86_64',
          packageType: 'Image'
        }),
      { functions: 'image-fn' },
      /container-image function/
    ],
    [
      'a sixth layer',
      async () => {
        const { publishMirroredLayer } = await import('../../scripts/emulator-fixtures.mjs')
        const layers: string[] = []
        for (const n of [1, 2, 3, 4, 5]) {
          const published = await publishMirroredLayer(endpoint, {
            region: 'us-east-1',
            name: `extra-${n}`,
            versions: 1,
            architectures: ['x86_64']
          })
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
        createSampleFunction(endpoint, {
          region: 'us-east-1',
          name: 'big-fn',
          architecture: 'x86_64',
          variables: { BIG: 'x'.repeat(4050) }
        }),
      { functions: 'big-fn' },
      /would take \d+ bytes and Lambda allows 4096; move settings into env-file/
    ],
    [
      'a canary that names a function not selected',
      async () => {},
      { functions: 'orders-api', canary: 'billing-worker' },
      /canary: "billing-worker" is not one of the selected functions; name functions that `functions` selects/
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
    const result = await run(
      { 'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/deploy` },
      { ACTIONS_ID_TOKEN_REQUEST_URL: undefined }
    )
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/::error::.*permissions: id-token: write/)
    expect(proxy.calls).toEqual([])
  })

  it("a fork's pull request: says GitHub withholds the token there and what to do, not to add the permission", async () => {
    const event = join(mkdtempSync(join(tmpdir(), 'rotel-fork-event-')), 'event.json')
    writeFileSync(
      event,
      JSON.stringify({
        pull_request: {
          number: 31,
          head: { repo: { full_name: 'outsider/my-repo', fork: true } },
          base: { repo: { full_name: 'my-org/my-repo' } }
        }
      })
    )
    const result = await run(
      { 'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/deploy`, mode: 'plan' },
      {
        ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: event,
        GITHUB_REPOSITORY: 'my-org/my-repo'
      }
    )
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(
      /::error::This run is for pull request #31 from the fork outsider\/my-repo, and GitHub gives .*no OIDC token.*head\.repo\.full_name == github\.repository.*pull_request_target/
    )
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
  beforeEach(resetFleet)

  it.each(['apply', 'plan', 'check', 'remove'])('%s mode', async (mode) => {
    const tokensBefore = oidc.requests.length
    const result = await run(
      {
        mode,
        'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/deploy`,
        environment: 'DB_PASSWORD=pa55-W0rd-Secret',
        'fail-on-drift': 'false'
      },
      {
        ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined
      }
    )
    expect(result.exitCode).toBe(0)
    const everything = emitted(result)
    // The ingestion key, the other secret-looking value, the runner's request token, and every
    // credential the run handled (the ID token and the assumed role's keys, which it masked).
    const masked = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('::add-mask::'))
      .map((line) => line.slice('::add-mask::'.length))
    // Each secret the run was given or handled is masked by name, not merely some number of them: the
    // ingestion key, the secret-looking variable, the ID token the stand-in issued for this run, and the
    // assumed role's access key ID (its secret key and session token have no shape to tell them by).
    const idTokens = oidc.requests.slice(tokensBefore).map((request) => request.token)
    expect(idTokens).toHaveLength(1)
    for (const secret of [INGESTION_KEY, 'pa55-W0rd-Secret', ...idTokens])
      expect({ secret, masked: masked.includes(secret as string) }).toEqual({ secret, masked: true })
    expect(masked.filter((value) => /^(AKIA|ASIA)[A-Z0-9]{16}$/.test(value))).toHaveLength(1)
    for (const secret of [INGESTION_KEY, 'pa55-W0rd-Secret', REQUEST_TOKEN, ...masked])
      expect({ secret, found: everything.includes(secret) }).toEqual({ secret, found: false })
  })
})
