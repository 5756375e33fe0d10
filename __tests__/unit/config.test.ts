import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import {
  type ActionConfig,
  DEFAULT_LAYER_NAME,
  ENV,
  InputError,
  type InputReader,
  loadConfig
} from '../../src/config.js'
import { DEFAULT_LAYER_ACCOUNT } from '../../src/layerVersions.js'

type Inputs = Record<string, string>

/** A reader like core.getInput: a missing input reads as ''. */
const readerOf =
  (inputs: Inputs): InputReader =>
  (name) =>
    inputs[name] ?? ''

const load = (inputs: Inputs, env: NodeJS.ProcessEnv = {}): ActionConfig => loadConfig(readerOf(inputs), env)

/** The problems loadConfig reports; fails the test when it accepts the inputs or throws anything else. */
function problemsOf(inputs: Inputs, env: NodeJS.ProcessEnv = {}): readonly string[] {
  let thrown: unknown
  try {
    load(inputs, env)
  } catch (error) {
    thrown = error
  }
  if (thrown === undefined) throw new Error(`loadConfig accepted ${JSON.stringify(inputs)}`)
  expect(thrown).toBeInstanceOf(InputError)
  const error = thrown as InputError
  expect(error.name).toBe('InputError')
  expect(error.problems.length).toBeGreaterThan(0)
  return error.problems
}

const ACCOUNT = '123456789012'
const MIRROR_ACCOUNT = '210987654321'
const arn = (region: string, name: string, partition = 'aws', account = ACCOUNT): string =>
  `arn:${partition}:lambda:${region}:${account}:function:${name}`

/** Valid inputs that each bad case spoils in one place. */
const BASE: Inputs = { functions: 'my-fn', 'aws-region': 'us-east-1' }

/** The inputs declared in action.yml, with their defaults as the runner would pass them. */
function actionYmlInputs(): Map<string, string | undefined> {
  const text = readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')
  const block = text.slice(text.indexOf('\ninputs:\n'), text.indexOf('\noutputs:\n'))
  const inputs = new Map<string, string | undefined>()
  let current: string | undefined
  for (const line of block.split('\n')) {
    const name = /^ {2}([a-z][a-z0-9-]*):\s*$/.exec(line)
    if (name) {
      current = name[1] as string
      inputs.set(current, undefined)
      continue
    }
    const value = /^ {4}default:\s*(.*)$/.exec(line)
    if (value && current) {
      const raw = (value[1] as string).trim()
      inputs.set(current, raw.startsWith("'") ? raw.slice(1, -1).replace(/''/g, "'") : raw)
    }
  }
  return inputs
}

describe('loadConfig: functions', () => {
  it('takes plain names in aws-region and ARNs in their own region', () => {
    const config = load({
      functions: `fn-a\n${arn('eu-west-1', 'fn-b')}`,
      'aws-region': 'us-east-1'
    })
    expect(config.functions).toEqual([
      { given: 'fn-a', name: 'fn-a', region: 'us-east-1', account: undefined, partition: 'aws' },
      { given: arn('eu-west-1', 'fn-b'), name: 'fn-b', region: 'eu-west-1', account: ACCOUNT, partition: 'aws' }
    ])
    expect(config.homeRegion).toBe('us-east-1')
  })

  it.each([
    { style: 'comma-separated', value: 'fn-a,fn-b, fn-c ,fn-d' },
    { style: 'one a line', value: 'fn-a\nfn-b\n  fn-c  \nfn-d\n' },
    { style: 'CRLF lines', value: 'fn-a\r\nfn-b\r\nfn-c\r\nfn-d' },
    { style: 'lines and commas mixed, blank lines', value: 'fn-a, fn-b\n\n fn-c,\nfn-d' },
    {
      style: '# comments, whole-line and trailing',
      value: '# the API\nfn-a # front door\nfn-b\n  # fn-x is retired\nfn-c\nfn-d  # last'
    }
  ])('splits a list written $style', ({ value }) => {
    const config = load({ functions: value, 'aws-region': 'us-east-1' })
    expect(config.functions.map((f) => f.name)).toEqual(['fn-a', 'fn-b', 'fn-c', 'fn-d'])
  })

  it.each([
    { order: 'name, then ARN', value: `fn-a\n${arn('us-east-1', 'fn-a')}` },
    { order: 'ARN, then name', value: `${arn('us-east-1', 'fn-a')}\nfn-a` },
    { order: 'ARN twice, name twice', value: `fn-a, ${arn('us-east-1', 'fn-a')}, fn-a, ${arn('us-east-1', 'fn-a')}` }
  ])('counts the same function given by $order once, in its ARN form', ({ value }) => {
    const config = load({ functions: value, 'aws-region': 'us-east-1' })
    expect(config.functions).toEqual([
      { given: arn('us-east-1', 'fn-a'), name: 'fn-a', region: 'us-east-1', account: ACCOUNT, partition: 'aws' }
    ])
  })

  it('counts the same name given twice once', () => {
    expect(load({ functions: 'fn-a\nfn-a,fn-a', 'aws-region': 'us-east-1' }).functions).toHaveLength(1)
  })

  it('keeps functions of the same name in different regions apart', () => {
    const config = load({ functions: `fn-a\n${arn('eu-west-1', 'fn-a')}`, 'aws-region': 'us-east-1' })
    expect(config.functions.map((f) => `${f.region}/${f.name}`)).toEqual(['us-east-1/fn-a', 'eu-west-1/fn-a'])
  })

  it.each([
    { source: 'aws-region over the environment', inputs: { 'aws-region': 'eu-west-2' }, env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' }, region: 'eu-west-2' },
    { source: 'AWS_REGION before AWS_DEFAULT_REGION', inputs: {}, env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' }, region: 'eu-west-1' },
    { source: 'AWS_DEFAULT_REGION when AWS_REGION is unset', inputs: {}, env: { AWS_DEFAULT_REGION: 'us-west-2' }, region: 'us-west-2' },
    { source: 'AWS_DEFAULT_REGION when AWS_REGION is blank', inputs: {}, env: { AWS_REGION: '  ', AWS_DEFAULT_REGION: 'us-west-2' }, region: 'us-west-2' }
  ])('finds the region of plain names from $source', ({ inputs, env, region }) => {
    const config = load({ functions: 'fn-a', ...inputs }, env)
    expect(config.functions[0]?.region).toBe(region)
    expect(config.homeRegion).toBe(region)
  })

  it('needs no region when every function is an ARN, and takes the home region from the first', () => {
    const config = load({ functions: `${arn('eu-central-1', 'fn-a')}\n${arn('us-west-2', 'fn-b')}` })
    expect(config.functions.map((f) => f.region)).toEqual(['eu-central-1', 'us-west-2'])
    expect(config.homeRegion).toBe('eu-central-1')
  })

  it('lets a mirrored layer-account reach a region outside the Rotel list', () => {
    const config = load({ functions: 'fn-a', 'aws-region': 'af-south-1', 'layer-account': MIRROR_ACCOUNT })
    expect(config.functions[0]?.region).toBe('af-south-1')
    expect(config.layerAccount).toBe(MIRROR_ACCOUNT)
  })

  it('lets a mirrored layer-account reach another partition', () => {
    const cn = arn('cn-north-1', 'fn-a', 'aws-cn')
    const config = load({ functions: cn, 'layer-account': MIRROR_ACCOUNT })
    expect(config.functions).toEqual([
      { given: cn, name: 'fn-a', region: 'cn-north-1', account: ACCOUNT, partition: 'aws-cn' }
    ])
  })

  // A plain name in a China region is a function of the aws-cn partition, so it does not "mix
  // partitions" with an aws-cn ARN of the same run.
  it('takes a plain name in a China region and an aws-cn ARN as one partition', () => {
    const config = load({
      functions: `fn-a\n${arn('cn-north-1', 'fn-b', 'aws-cn')}`,
      'aws-region': 'cn-north-1',
      'layer-account': MIRROR_ACCOUNT
    })
    expect(config.functions.map((f) => f.partition)).toEqual(['aws-cn', 'aws-cn'])
  })
})

describe('loadConfig: defaults', () => {
  it('gives every optional input its documented default', () => {
    const config = load({ functions: 'fn-a', 'aws-region': 'us-east-1' })
    expect(config).toEqual({
      functions: [{ given: 'fn-a', name: 'fn-a', region: 'us-east-1', account: undefined, partition: 'aws' }],
      roleToAssume: undefined,
      roleSessionName: 'rotel-clickstack-action',
      audience: 'sts.amazonaws.com',
      roleDurationSeconds: 3600,
      homeRegion: 'us-east-1',
      layerVersion: 'latest',
      layerNameTemplate: 'rotel-extension-{arch}-alpha',
      layerAccount: '418653438961',
      architecture: 'auto',
      managedVariables: { ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=aws,cloud.platform=aws_lambda' },
      secretVariableNames: [],
      secretValues: [],
      testInvoke: true,
      testPayload: '{"test":"data"}',
      rollbackOnFailure: true,
      maxConcurrency: 8,
      cloudwatchCheckSeconds: 15,
      mode: 'apply',
      patterns: [],
      excludes: [],
      regions: ['us-east-1'],
      managedKeys: [
        'ROTEL_OTLP_EXPORTER_ENDPOINT',
        'ROTEL_OTLP_EXPORTER_PROTOCOL',
        'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS',
        'ROTEL_OTEL_RESOURCE_ATTRIBUTES',
        'ROTEL_ENV_FILE'
      ],
      failOnDrift: true,
      prComment: true,
      githubToken: '',
      annotateFiles: undefined,
      instrumentation: 'none',
      instrumentationLayer: undefined,
      secretReferences: [],
      literalIngestionKey: false,
      preflight: true,
      cloudwatchLogs: 'keep',
      cloudwatchOffMethod: 'deny',
      delivery: undefined,
      jsonLogs: false,
      grantSecretAccess: false,
      secretNeeds: []
    })
    expect(DEFAULT_LAYER_ACCOUNT).toBe('418653438961')
    expect(DEFAULT_LAYER_NAME).toBe('rotel-extension-{arch}-alpha')
  })

  it('reads the same configuration from the defaults action.yml passes as from empty inputs', () => {
    const declared = actionYmlInputs()
    const defaults: Inputs = {}
    // The runner evaluates expressions such as ${{ github.token }}; a literal one is not a default to compare.
    for (const [name, value] of declared) if (value !== undefined && !value.startsWith('${{')) defaults[name] = value
    expect(Object.keys(defaults).length).toBeGreaterThan(15)
    const fromYml = load({ ...defaults, functions: 'fn-a', 'aws-region': 'us-east-1' })
    expect(fromYml).toEqual(load({ functions: 'fn-a', 'aws-region': 'us-east-1' }))
  })

  it('reads only inputs that action.yml declares', () => {
    const declared = actionYmlInputs()
    const read = new Set<string>()
    loadConfig(
      (name) => {
        read.add(name)
        return name === 'functions' ? 'fn-a' : name === 'aws-region' ? 'us-east-1' : ''
      },
      {}
    )
    for (const name of read) expect([...declared.keys()]).toContain(name)
    // Every declared input is read: one the code forgets would be silently ignored.
    expect([...declared.keys()].filter((name) => !read.has(name))).toEqual([])
  })

  it('parses the non-default values of each input', () => {
    const config = load({
      functions: 'fn-a',
      'aws-region': 'eu-west-1',
      'role-to-assume': 'arn:aws:iam::123456789012:role/deploy/rotel-deployer',
      'role-session-name': 'ci@run-42',
      audience: 'sts.example.com',
      'role-duration-seconds': '900',
      'layer-version': '42',
      'layer-name': 'rotel-extension-{arch}',
      'layer-account': MIRROR_ACCOUNT,
      architecture: 'arm64',
      'test-invoke': 'false',
      'test-payload': '[1, 2, 3]',
      'rollback-on-failure': 'no',
      'max-concurrency': '64',
      'cloudwatch-check-seconds': '0',
      'json-logs': 'true'
    })
    expect(config).toMatchObject({
      roleToAssume: 'arn:aws:iam::123456789012:role/deploy/rotel-deployer',
      roleSessionName: 'ci@run-42',
      audience: 'sts.example.com',
      roleDurationSeconds: 900,
      layerVersion: 42,
      layerNameTemplate: 'rotel-extension-{arch}',
      layerAccount: MIRROR_ACCOUNT,
      architecture: 'arm64',
      testInvoke: false,
      testPayload: '[1, 2, 3]',
      rollbackOnFailure: false,
      maxConcurrency: 64,
      cloudwatchCheckSeconds: 0,
      jsonLogs: true
    })
  })

  it.each([
    { value: 'latest', expected: 'latest' },
    { value: 'LATEST', expected: 'latest' },
    { value: '1', expected: 1 },
    { value: ' 41 ', expected: 41 }
  ])('reads layer-version "$value" as $expected', ({ value, expected }) => {
    expect(load({ ...BASE, 'layer-version': value }).layerVersion).toBe(expected)
  })

  it.each([
    { value: 'true', expected: true },
    { value: 'TRUE', expected: true },
    { value: 'yes', expected: true },
    { value: 'on', expected: true },
    { value: 'false', expected: false },
    { value: 'False', expected: false },
    { value: 'no', expected: false },
    { value: 'off', expected: false }
  ])('reads boolean "$value" as $expected', ({ value, expected }) => {
    const config = load({ ...BASE, 'test-invoke': value, 'rollback-on-failure': value })
    expect(config.testInvoke).toBe(expected)
    expect(config.rollbackOnFailure).toBe(expected)
  })
})

describe('loadConfig: managed variables', () => {
  it('maps the otlp inputs, resource attributes, env-file and environment to variables, in the documented order', () => {
    const config = load({
      ...BASE,
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      'otlp-protocol': 'http',
      'otlp-headers': 'Authorization=ingest-key-123\n  x-team = core  \n',
      'resource-attributes': 'service.namespace=shop\ndeployment.environment=prod, team=payments',
      'env-file': '/var/task/rotel.env',
      environment: '# extra settings\nLOG_LEVEL=debug\n\nROTEL_BATCH_SIZE = 512\nMY_API_KEY=k3y-value-99'
    })
    expect(config.managedVariables).toEqual({
      ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317',
      ROTEL_OTLP_EXPORTER_PROTOCOL: 'http',
      ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: 'Authorization=ingest-key-123,x-team=core',
      ROTEL_OTEL_RESOURCE_ATTRIBUTES:
        'service.namespace=shop,deployment.environment=prod,team=payments,cloud.provider=aws,cloud.platform=aws_lambda',
      ROTEL_ENV_FILE: '/var/task/rotel.env',
      LOG_LEVEL: 'debug',
      ROTEL_BATCH_SIZE: '512',
      MY_API_KEY: 'k3y-value-99'
    })
    expect(Object.keys(config.managedVariables)).toEqual([
      ENV.endpoint,
      ENV.protocol,
      ENV.headers,
      ENV.resourceAttributes,
      ENV.envFile,
      'LOG_LEVEL',
      'ROTEL_BATCH_SIZE',
      'MY_API_KEY'
    ])
    expect(ENV).toEqual({
      endpoint: 'ROTEL_OTLP_EXPORTER_ENDPOINT',
      protocol: 'ROTEL_OTLP_EXPORTER_PROTOCOL',
      headers: 'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS',
      resourceAttributes: 'ROTEL_OTEL_RESOURCE_ATTRIBUTES',
      envFile: 'ROTEL_ENV_FILE'
    })
  })

  it('treats the headers and secret-looking environment values as secrets, and nothing else', () => {
    const config = load({
      ...BASE,
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      'otlp-headers': 'Authorization=ingest-key-123\nx-tenant=acme-tenant',
      environment: 'LOG_LEVEL=debug\nMY_API_KEY=k3y-value-99\nDB_PASSWORD=hunter22\nOAUTH_CLIENT=client-77'
    })
    expect(config.secretVariableNames).toEqual(
      expect.arrayContaining([ENV.headers, 'MY_API_KEY', 'DB_PASSWORD', 'OAUTH_CLIENT'])
    )
    expect(config.secretVariableNames).not.toContain('LOG_LEVEL')
    expect(config.secretVariableNames).not.toContain(ENV.endpoint)
    expect(config.secretValues).toEqual(
      expect.arrayContaining(['ingest-key-123', 'acme-tenant', 'k3y-value-99', 'hunter22', 'client-77'])
    )
    expect(config.secretValues).not.toContain('debug')
    expect(config.secretValues).not.toContain('https://clickstack.example.com:4317')
  })

  it('keeps = inside a header value (base64 padding)', () => {
    const config = load({ ...BASE, 'otlp-headers': 'Authorization=Basic dXNlcjpwYXNz==' })
    expect(config.managedVariables[ENV.headers]).toBe('Authorization=Basic dXNlcjpwYXNz==')
    expect(config.secretValues).toContain('Basic dXNlcjpwYXNz==')
  })

  it("adds the cloud attributes the extension lacks, the user's own values winning", () => {
    expect(load({ ...BASE, 'resource-attributes': 'cloud.platform=custom' }).managedVariables).toEqual({
      ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=custom,cloud.provider=aws'
    })
    expect(load({ ...BASE, 'cloud-attributes': 'false' }).managedVariables).toEqual({})
  })

  it('keeps = inside an environment value', () => {
    const config = load({ ...BASE, environment: 'OPTS=a=b=c', 'cloud-attributes': 'false' })
    expect(config.managedVariables).toEqual({ OPTS: 'a=b=c' })
  })

  it('sets an environment variable named like an Object.prototype member', () => {
    const config = load({ ...BASE, environment: 'constructor=1\ntoString=2', 'cloud-attributes': 'false' })
    expect(config.managedVariables).toEqual({ constructor: '1', toString: '2' })
  })

  it('accepts a payload of exactly 6 MB', () => {
    const payload = JSON.stringify('x'.repeat(6 * 1024 * 1024 - 2))
    expect(Buffer.byteLength(payload)).toBe(6 * 1024 * 1024)
    expect(load({ ...BASE, 'test-payload': payload }).testPayload).toBe(payload)
  })
})

interface BadCase {
  readonly what: string
  readonly inputs: Inputs
  readonly env?: NodeJS.ProcessEnv
  /** The input one problem must name. */
  readonly names: string
  /** The fix that same problem must state. */
  readonly fix: RegExp
  /** Secret text no problem may contain. */
  readonly secrets?: readonly string[]
}

const BAD_CASES: readonly BadCase[] = [
  { what: 'cloudwatch-logs not keep or off', inputs: { 'cloudwatch-logs': 'disabled' }, names: 'cloudwatch-logs', fix: /must be keep or off/ },
  {
    what: 'cloudwatch-off-method not deny or detach',
    inputs: { 'cloudwatch-off-method': 'remove' },
    names: 'cloudwatch-off-method',
    fix: /must be deny or detach/
  },
  { what: 'grant-secret-access not a boolean', inputs: { 'grant-secret-access': 'always' }, names: 'grant-secret-access', fix: /true or false/ },
  {
    what: 'secret-kms-key-arn an alias',
    inputs: {
      'otlp-headers': 'Authorization=${arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack-key}',
      'secret-kms-key-arn': 'arn:aws:kms:us-east-1:123456789012:alias/clickstack'
    },
    names: 'secret-kms-key-arn',
    fix: /give the key's ARN/
  },
  {
    what: 'secret-kms-key-arn without any secret reference',
    inputs: { 'secret-kms-key-arn': 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
    names: 'secret-kms-key-arn',
    fix: /reference the ingestion key/
  },
  {
    what: 'malformed function ARN (short account)',
    inputs: { functions: 'arn:aws:lambda:us-east-1:1234:function:fn-a' },
    names: 'functions',
    fix: /arn:aws:lambda:REGION:ACCOUNT:function:NAME/
  },
  {
    what: 'ARN of something other than a function',
    inputs: { functions: 'arn:aws:lambda:us-east-1:123456789012:layer:fn-a' },
    names: 'functions',
    fix: /arn:aws:lambda:REGION:ACCOUNT:function:NAME/
  },
  {
    what: 'function ARN with an alias',
    inputs: { functions: arn('us-east-1', 'fn-a') + ':prod' },
    names: 'functions',
    fix: /drop ":prod"/
  },
  {
    what: 'function ARN with a version',
    inputs: { functions: arn('us-east-1', 'fn-a') + ':7' },
    names: 'functions',
    fix: /drop ":7"/
  },
  {
    what: 'aws-cn ARN without layer-account',
    inputs: { functions: arn('cn-north-1', 'fn-a', 'aws-cn') },
    names: 'functions',
    fix: /aws-cn partition.*set layer-account/
  },
  {
    what: 'ARNs of two partitions',
    inputs: {
      functions: `${arn('us-east-1', 'fn-a')}\n${arn('cn-north-1', 'fn-b', 'aws-cn')}`,
      'layer-account': MIRROR_ACCOUNT
    },
    names: 'functions',
    fix: /split them into separate steps/
  },
  {
    what: 'unknown region name in aws-region',
    inputs: { functions: 'fn-a', 'aws-region': 'mars-1' },
    names: 'aws-region',
    fix: /write one like us-east-1/
  },
  {
    what: 'unknown region name in AWS_REGION',
    inputs: { functions: 'fn-a' },
    env: { AWS_REGION: 'mars-1' },
    names: 'AWS_REGION',
    fix: /"mars-1".*not an AWS region name/
  },
  {
    what: 'unknown region name in an ARN',
    inputs: { functions: arn('mars-1', 'fn-a') },
    names: 'functions',
    fix: /"mars-1".*not an AWS region name/
  },
  {
    what: 'a region where the layer is not published',
    inputs: { functions: 'fn-a', 'aws-region': 'af-south-1' },
    names: 'functions',
    fix: /af-south-1.*mirror the layer.*set layer-account/
  },
  {
    what: 'an ARN in a region where the layer is not published',
    inputs: { functions: arn('me-south-1', 'fn-a') },
    names: 'functions',
    fix: /me-south-1.*set layer-account/
  },
  {
    what: 'plain name with no region anywhere',
    inputs: { functions: 'fn-a' },
    names: 'functions',
    fix: /set aws-region \(or AWS_REGION\), or give the function's ARN/
  },
  {
    what: 'a name that is neither a name nor an ARN',
    inputs: { ...BASE, functions: 'my function' },
    names: 'functions',
    fix: /neither a function name .* nor a function ARN/
  },
  { what: 'layer-version 0', inputs: { ...BASE, 'layer-version': '0' }, names: 'layer-version', fix: /"latest" or a layer version number/ },
  { what: 'layer-version -1', inputs: { ...BASE, 'layer-version': '-1' }, names: 'layer-version', fix: /"latest" or a layer version number/ },
  { what: 'layer-version 1.5', inputs: { ...BASE, 'layer-version': '1.5' }, names: 'layer-version', fix: /"latest" or a layer version number/ },
  { what: 'layer-version abc', inputs: { ...BASE, 'layer-version': 'abc' }, names: 'layer-version', fix: /"latest" or a layer version number/ },
  { what: 'empty functions', inputs: { ...BASE, functions: '' }, names: 'functions', fix: /list the Lambda functions/ },
  {
    what: 'functions holding only comments and separators',
    inputs: { ...BASE, functions: '# none yet\n , ,\n' },
    names: 'functions',
    fix: /list the Lambda functions/
  },
  { what: 'test-payload not JSON', inputs: { ...BASE, 'test-payload': '{test: data' }, names: 'test-payload', fix: /write a JSON document/ },
  {
    what: 'test-payload over 6 MB',
    inputs: { ...BASE, 'test-payload': JSON.stringify('x'.repeat(6 * 1024 * 1024)) },
    names: 'test-payload',
    fix: /at most 6 MB/
  },
  {
    what: 'header value containing a comma',
    inputs: { ...BASE, 'otlp-headers': 'Authorization=abc,def' },
    names: 'otlp-headers',
    fix: /no comma inside a value/,
    secrets: ['abc', 'def', 'abc,def']
  },
  {
    what: 'header entry without =',
    inputs: { ...BASE, 'otlp-headers': 'sk_live_8f7e6d5c4b3a' },
    names: 'otlp-headers',
    fix: /not name=value/,
    secrets: ['sk_live_8f7e6d5c4b3a']
  },
  {
    what: 'header written with a colon and a padded token',
    inputs: { ...BASE, 'otlp-headers': 'Authorization: Bearer s3cr3tT0ken==' },
    names: 'otlp-headers',
    fix: /name/,
    secrets: ['s3cr3tT0ken']
  },
  {
    what: 'environment line without =',
    inputs: { ...BASE, environment: 'LOG_LEVEL=debug\nghp_pastedTokenWithoutKey' },
    names: 'environment',
    fix: /line 2 .*KEY=VALUE/,
    secrets: ['ghp_pastedTokenWithoutKey']
  },
  {
    what: 'environment line starting with =',
    inputs: { ...BASE, environment: '=pastedSecretValue' },
    names: 'environment',
    fix: /KEY=VALUE/,
    secrets: ['pastedSecretValue']
  },
  {
    what: 'environment key that is not a variable name',
    inputs: { ...BASE, environment: 'MY-API-KEY=tok_value_123' },
    names: 'environment',
    fix: /a letter, then letters, digits and _/,
    secrets: ['tok_value_123']
  },
  {
    what: 'reserved AWS_REGION in environment',
    inputs: { ...BASE, environment: 'AWS_REGION=eu-west-1' },
    names: 'environment',
    fix: /AWS_REGION is reserved.*remove that line/
  },
  {
    what: 'reserved AWS_SECRET_ACCESS_KEY in environment',
    inputs: { ...BASE, environment: 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI' },
    names: 'environment',
    fix: /remove that line/,
    secrets: ['wJalrXUtnFEMI']
  },
  {
    what: 'environment key also set by otlp-endpoint',
    inputs: {
      ...BASE,
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      environment: 'ROTEL_OTLP_EXPORTER_ENDPOINT=https://other.example.com'
    },
    names: 'environment',
    fix: /ROTEL_OTLP_EXPORTER_ENDPOINT.*set it in one place only/
  },
  {
    what: 'environment key also set by otlp-headers',
    inputs: {
      ...BASE,
      'otlp-headers': 'Authorization=ingest-key-123',
      environment: 'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS=x-other=leaked-value'
    },
    names: 'environment',
    fix: /set it in one place only/,
    secrets: ['ingest-key-123']
  },
  {
    what: 'role-to-assume that is not a role ARN',
    inputs: { ...BASE, 'role-to-assume': 'arn:aws:iam::123456789012:user/deployer' },
    names: 'role-to-assume',
    fix: /arn:aws:iam::123456789012:role\/NAME/
  },
  {
    what: 'role-to-assume given as a bare name',
    inputs: { ...BASE, 'role-to-assume': 'deployer' },
    names: 'role-to-assume',
    fix: /leave it empty/
  },
  { what: 'role-session-name of one character', inputs: { ...BASE, 'role-session-name': 'a' }, names: 'role-session-name', fix: /2 to 64 characters/ },
  { what: 'role-session-name with a space', inputs: { ...BASE, 'role-session-name': 'my session' }, names: 'role-session-name', fix: /2 to 64 characters/ },
  { what: 'role-session-name of 65 characters', inputs: { ...BASE, 'role-session-name': 'x'.repeat(65) }, names: 'role-session-name', fix: /2 to 64 characters/ },
  { what: 'role-duration-seconds 100', inputs: { ...BASE, 'role-duration-seconds': '100' }, names: 'role-duration-seconds', fix: /from 900 to 43200/ },
  { what: 'role-duration-seconds 43201', inputs: { ...BASE, 'role-duration-seconds': '43201' }, names: 'role-duration-seconds', fix: /from 900 to 43200/ },
  { what: 'max-concurrency 0', inputs: { ...BASE, 'max-concurrency': '0' }, names: 'max-concurrency', fix: /from 1 to 64/ },
  { what: 'max-concurrency 65', inputs: { ...BASE, 'max-concurrency': '65' }, names: 'max-concurrency', fix: /from 1 to 64/ },
  { what: 'max-concurrency 2.5', inputs: { ...BASE, 'max-concurrency': '2.5' }, names: 'max-concurrency', fix: /whole number from 1 to 64/ },
  { what: 'cloudwatch-check-seconds 301', inputs: { ...BASE, 'cloudwatch-check-seconds': '301' }, names: 'cloudwatch-check-seconds', fix: /from 0 to 300/ },
  { what: 'architecture amd64', inputs: { ...BASE, architecture: 'amd64' }, names: 'architecture', fix: /auto, x86_64 or arm64/ },
  { what: 'otlp-protocol udp', inputs: { ...BASE, 'otlp-protocol': 'udp' }, names: 'otlp-protocol', fix: /grpc or http/ },
  { what: 'otlp-endpoint ftp://x', inputs: { ...BASE, 'otlp-endpoint': 'ftp://x' }, names: 'otlp-endpoint', fix: /https:\/\/clickstack\.example\.com:4317/ },
  { what: 'otlp-endpoint without a scheme', inputs: { ...BASE, 'otlp-endpoint': 'clickstack.example.com:4317' }, names: 'otlp-endpoint', fix: /http\(s\) URL/ },
  {
    what: 'otlp-endpoint with user:password@',
    inputs: { ...BASE, 'otlp-endpoint': 'https://ingest:hunter2pass@clickstack.example.com:4317' },
    names: 'otlp-endpoint',
    fix: /put the ingestion key in otlp-headers/,
    secrets: ['hunter2pass']
  },
  {
    what: 'otlp-endpoint of another scheme carrying user:password@',
    inputs: { ...BASE, 'otlp-endpoint': 'ftp://ingest:hunter2pass@clickstack.example.com' },
    names: 'otlp-endpoint',
    fix: /otlp-endpoint/,
    secrets: ['hunter2pass']
  },
  { what: 'env-file relative path', inputs: { ...BASE, 'env-file': 'rotel.env' }, names: 'env-file', fix: /absolute path inside the function/ },
  { what: 'env-file with a space', inputs: { ...BASE, 'env-file': '/var/task/my rotel.env' }, names: 'env-file', fix: /absolute path/ },
  { what: 'layer-name with {region}', inputs: { ...BASE, 'layer-name': 'rotel-{region}-{arch}' }, names: 'layer-name', fix: /with \{arch\} where amd64 or arm64 belongs/ },
  { what: 'layer-name with an unclosed brace', inputs: { ...BASE, 'layer-name': 'rotel-{arch' }, names: 'layer-name', fix: /\{arch\}/ },
  { what: 'layer-name with a stray closing brace', inputs: { ...BASE, 'layer-name': 'rotel}-{arch}' }, names: 'layer-name', fix: /\{arch\}/ },
  { what: 'layer-name with a colon', inputs: { ...BASE, 'layer-name': 'rotel:{arch}' }, names: 'layer-name', fix: /letters, digits, - and _/ },
  { what: 'layer-account not 12 digits', inputs: { ...BASE, 'layer-account': '41865343896' }, names: 'layer-account', fix: /12-digit AWS account ID/ },
  { what: 'test-invoke maybe', inputs: { ...BASE, 'test-invoke': 'maybe' }, names: 'test-invoke', fix: /true or false/ },
  { what: 'rollback-on-failure maybe', inputs: { ...BASE, 'rollback-on-failure': 'maybe' }, names: 'rollback-on-failure', fix: /true or false/ },
  { what: 'json-logs json', inputs: { ...BASE, 'json-logs': 'json' }, names: 'json-logs', fix: /true or false/ },
  {
    what: "environment setting json-logs' own record",
    inputs: { ...BASE, environment: 'CLICKSTACK_ACTION_PREVIOUS_LOG_FORMAT=Text' },
    names: 'CLICKSTACK_ACTION_PREVIOUS_LOG_FORMAT',
    fix: /keeps for its records .*remove that line/
  },
  {
    what: 'environment setting the record of the variables the action replaced',
    inputs: { ...BASE, environment: 'CLICKSTACK_ACTION_PREVIOUS_VARIABLES={}' },
    names: 'CLICKSTACK_ACTION_PREVIOUS_VARIABLES',
    fix: /keeps for its records .*remove that line/
  }
]

describe('loadConfig: bad inputs', () => {
  it('has at least 25 bad cases', () => {
    expect(BAD_CASES.length).toBeGreaterThanOrEqual(25)
  })

  it.each(BAD_CASES.map((c) => [c.what, c] as const))('rejects %s', (_what, badCase) => {
    const problems = problemsOf(badCase.inputs, badCase.env ?? {})
    // One problem both names the input and says the fix.
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`(?=[\\s\\S]*${escape(badCase.names)})(?=[\\s\\S]*(?:${badCase.fix.source}))`))])
    )
    for (const secret of badCase.secrets ?? []) {
      for (const problem of problems) expect(problem).not.toContain(secret)
    }
  })

  it('reports every bad input at once', () => {
    const bad: Inputs = {
      'layer-version': '0',
      'max-concurrency': '65',
      architecture: 'amd64',
      'otlp-protocol': 'udp',
      'test-invoke': 'maybe',
      'env-file': 'rotel.env',
      'role-session-name': 'a'
    }
    const problems = problemsOf({ ...BASE, ...bad })
    expect(problems).toHaveLength(Object.keys(bad).length)
    for (const name of Object.keys(bad)) expect(problems.some((p) => p.includes(name))).toBe(true)
    let message = ''
    try {
      load({ ...BASE, ...bad })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/^7 inputs are invalid: /)
    for (const problem of problems) expect(message).toContain(problem)
  })

  it('reports bad functions and other bad inputs together', () => {
    const problems = problemsOf({
      functions: `fn-a\n${arn('us-east-1', 'fn-b')}:prod\narn:aws:lambda:x`,
      'aws-region': 'us-east-1',
      'layer-version': 'abc'
    })
    expect(problems).toHaveLength(3)
  })

  it('shows a single problem as "Invalid input: …"', () => {
    let message = ''
    try {
      load({ ...BASE, architecture: 'amd64' })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toBe('Invalid input: architecture "amd64" must be auto, x86_64 or arm64.')
  })
})

describe('loadConfig: annotate-files patterns are bounded before anything runs', () => {
  it('names annotate-files and the fix for a pattern with too many brace alternatives or too long, negated or not', () => {
    const problems = problemsOf({ ...BASE, 'annotate-files': `**/*.tf\n${'{a,b}'.repeat(18)}\n!${'x'.repeat(2000)}` })
    expect(problems).toEqual([
      expect.stringMatching(/^annotate-files: the pattern .* more than 256 alternatives .*split it over several lines\.$/),
      expect.stringMatching(/^annotate-files: a pattern of 2000 characters .* longer than the 1024 allowed; shorten it\.$/)
    ])
  })

  it('accepts ordinary patterns', () => {
    expect(load({ ...BASE, 'annotate-files': '**/*.{tf,tfvars}\n!**/dist/**' }).annotateFiles).toEqual([
      '**/*.{tf,tfvars}',
      '!**/dist/**'
    ])
  })
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

describe('loadConfig: secret access', () => {
  it('turns the references and the KMS key into the exact reads the execution roles need', () => {
    const config = load({
      ...BASE,
      'otlp-headers': 'Authorization=${arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack-key#apiKey}',
      'resource-attributes': 'team=${arn:aws:ssm:us-east-1:123456789012:parameter/teams/orders}',
      'grant-secret-access': 'true',
      'secret-kms-key-arn': 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    })
    expect(config.grantSecretAccess).toBe(true)
    expect(config.secretNeeds.map((need) => `${need.action} ${need.resource}`)).toEqual([
      'secretsmanager:GetSecretValue arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack-key-??????',
      'secretsmanager:BatchGetSecretValue *',
      'ssm:GetParameters arn:aws:ssm:us-east-1:123456789012:parameter/teams/orders',
      'kms:Decrypt arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    ])
  })
})
