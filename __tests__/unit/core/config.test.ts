import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import {
  type ActionConfig,
  DEFAULT_LAYER_NAME,
  ENV,
  InputError,
  type InputReader,
  loadConfig
} from '../../../src/core/config.js'
import { DEFAULT_LAYER_ACCOUNT } from '../../../src/core/layerVersions.js'
import { MAX_VARIABLES_BYTES, variablesSize } from '../../../src/core/plan.js'

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
  const text = readFileSync(new URL('../../../action.yml', import.meta.url), 'utf8')
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
    {
      source: 'aws-region over the environment',
      inputs: { 'aws-region': 'eu-west-2' },
      env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' },
      region: 'eu-west-2'
    },
    {
      source: 'AWS_REGION before AWS_DEFAULT_REGION',
      inputs: {},
      env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' },
      region: 'eu-west-1'
    },
    {
      source: 'AWS_DEFAULT_REGION when AWS_REGION is unset',
      inputs: {},
      env: { AWS_DEFAULT_REGION: 'us-west-2' },
      region: 'us-west-2'
    },
    {
      source: 'AWS_DEFAULT_REGION when AWS_REGION is blank',
      inputs: {},
      env: { AWS_REGION: '  ', AWS_DEFAULT_REGION: 'us-west-2' },
      region: 'us-west-2'
    }
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
      maxConcurrency: 16,
      cloudwatchCheckSeconds: 15,
      apiRates: { lambda: 15, 'get-function': 100, 'get-policy': 15, 'describe-log-streams': 5, 'other-logs': 5 },
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
      secretNeeds: [],
      waves: { canary: { none: true }, failureTolerance: { count: 3 } },
      memoryHeadroom: { percent: 10 },
      lowMemory: 'warn',
      compareReport: undefined
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
    loadConfig((name) => {
      read.add(name)
      return name === 'functions' ? 'fn-a' : name === 'aws-region' ? 'us-east-1' : ''
    }, {})
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
      'aws-api-rates': 'describe-log-streams=25\nlambda=10',
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
      apiRates: { lambda: 10, 'get-function': 100, 'get-policy': 15, 'describe-log-streams': 25, 'other-logs': 5 },
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
  {
    what: 'memory-headroom without a unit',
    inputs: { 'memory-headroom': '10' },
    names: 'memory-headroom',
    fix: /e\.g\. 10%.*e\.g\. 32MB/
  },
  {
    what: 'memory-headroom of 95%',
    inputs: { 'memory-headroom': '95%' },
    names: 'memory-headroom',
    fix: /from 0% to 90%/
  },
  {
    what: 'memory-headroom above the largest memory size',
    inputs: { 'memory-headroom': '20000MB' },
    names: 'memory-headroom',
    fix: /from 0 to 10240/
  },
  {
    what: 'memory-headroom negative',
    inputs: { 'memory-headroom': '-5%' },
    names: 'memory-headroom',
    fix: /must be a share/
  },
  {
    what: 'low-memory not warn or fail',
    inputs: { 'low-memory': 'rollback' },
    names: 'low-memory',
    fix: /must be warn .* or fail/
  },
  {
    what: 'cloudwatch-logs not keep or off',
    inputs: { 'cloudwatch-logs': 'disabled' },
    names: 'cloudwatch-logs',
    fix: /must be keep or off/
  },
  {
    what: 'cloudwatch-off-method not deny or detach',
    inputs: { 'cloudwatch-off-method': 'remove' },
    names: 'cloudwatch-off-method',
    fix: /must be deny or detach/
  },
  {
    what: 'grant-secret-access not a boolean',
    inputs: { 'grant-secret-access': 'always' },
    names: 'grant-secret-access',
    fix: /true or false/
  },
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
  {
    what: 'layer-version 0',
    inputs: { ...BASE, 'layer-version': '0' },
    names: 'layer-version',
    fix: /"latest" or a layer version number/
  },
  {
    what: 'layer-version -1',
    inputs: { ...BASE, 'layer-version': '-1' },
    names: 'layer-version',
    fix: /"latest" or a layer version number/
  },
  {
    what: 'layer-version 1.5',
    inputs: { ...BASE, 'layer-version': '1.5' },
    names: 'layer-version',
    fix: /"latest" or a layer version number/
  },
  {
    what: 'layer-version abc',
    inputs: { ...BASE, 'layer-version': 'abc' },
    names: 'layer-version',
    fix: /"latest" or a layer version number/
  },
  { what: 'empty functions', inputs: { ...BASE, functions: '' }, names: 'functions', fix: /list the Lambda functions/ },
  {
    what: 'functions holding only comments and separators',
    inputs: { ...BASE, functions: '# none yet\n , ,\n' },
    names: 'functions',
    fix: /list the Lambda functions/
  },
  {
    what: 'test-payload not JSON',
    inputs: { ...BASE, 'test-payload': '{test: data' },
    names: 'test-payload',
    fix: /write a JSON document/
  },
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
  {
    what: 'role-session-name of one character',
    inputs: { ...BASE, 'role-session-name': 'a' },
    names: 'role-session-name',
    fix: /2 to 64 characters/
  },
  {
    what: 'role-session-name with a space',
    inputs: { ...BASE, 'role-session-name': 'my session' },
    names: 'role-session-name',
    fix: /2 to 64 characters/
  },
  {
    what: 'role-session-name of 65 characters',
    inputs: { ...BASE, 'role-session-name': 'x'.repeat(65) },
    names: 'role-session-name',
    fix: /2 to 64 characters/
  },
  {
    what: 'role-duration-seconds 100',
    inputs: { ...BASE, 'role-duration-seconds': '100' },
    names: 'role-duration-seconds',
    fix: /from 900 to 43200/
  },
  {
    what: 'role-duration-seconds 43201',
    inputs: { ...BASE, 'role-duration-seconds': '43201' },
    names: 'role-duration-seconds',
    fix: /from 900 to 43200/
  },
  {
    what: 'max-concurrency 0',
    inputs: { ...BASE, 'max-concurrency': '0' },
    names: 'max-concurrency',
    fix: /from 1 to 64/
  },
  {
    what: 'max-concurrency 65',
    inputs: { ...BASE, 'max-concurrency': '65' },
    names: 'max-concurrency',
    fix: /from 1 to 64/
  },
  {
    what: 'max-concurrency 2.5',
    inputs: { ...BASE, 'max-concurrency': '2.5' },
    names: 'max-concurrency',
    fix: /whole number from 1 to 64/
  },
  {
    what: 'cloudwatch-check-seconds 301',
    inputs: { ...BASE, 'cloudwatch-check-seconds': '301' },
    names: 'cloudwatch-check-seconds',
    fix: /from 0 to 300/
  },
  {
    what: 'architecture amd64',
    inputs: { ...BASE, architecture: 'amd64' },
    names: 'architecture',
    fix: /auto, x86_64 or arm64/
  },
  {
    what: 'otlp-protocol udp',
    inputs: { ...BASE, 'otlp-protocol': 'udp' },
    names: 'otlp-protocol',
    fix: /grpc or http/
  },
  {
    what: 'otlp-endpoint ftp://x',
    inputs: { ...BASE, 'otlp-endpoint': 'ftp://x' },
    names: 'otlp-endpoint',
    fix: /https:\/\/clickstack\.example\.com:4317/
  },
  {
    what: 'otlp-endpoint without a scheme',
    inputs: { ...BASE, 'otlp-endpoint': 'clickstack.example.com:4317' },
    names: 'otlp-endpoint',
    fix: /http\(s\) URL/
  },
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
  {
    what: 'env-file relative path',
    inputs: { ...BASE, 'env-file': 'rotel.env' },
    names: 'env-file',
    fix: /absolute path inside the function/
  },
  {
    what: 'env-file with a space',
    inputs: { ...BASE, 'env-file': '/var/task/my rotel.env' },
    names: 'env-file',
    fix: /absolute path/
  },
  {
    what: 'layer-name with {region}',
    inputs: { ...BASE, 'layer-name': 'rotel-{region}-{arch}' },
    names: 'layer-name',
    fix: /with \{arch\} where amd64 or arm64 belongs/
  },
  {
    what: 'layer-name with an unclosed brace',
    inputs: { ...BASE, 'layer-name': 'rotel-{arch' },
    names: 'layer-name',
    fix: /\{arch\}/
  },
  {
    what: 'layer-name with a stray closing brace',
    inputs: { ...BASE, 'layer-name': 'rotel}-{arch}' },
    names: 'layer-name',
    fix: /\{arch\}/
  },
  {
    what: 'layer-name with a colon',
    inputs: { ...BASE, 'layer-name': 'rotel:{arch}' },
    names: 'layer-name',
    fix: /letters, digits, - and _/
  },
  {
    what: 'layer-account not 12 digits',
    inputs: { ...BASE, 'layer-account': '41865343896' },
    names: 'layer-account',
    fix: /12-digit AWS account ID/
  },
  {
    what: 'test-invoke maybe',
    inputs: { ...BASE, 'test-invoke': 'maybe' },
    names: 'test-invoke',
    fix: /true or false/
  },
  {
    what: 'rollback-on-failure maybe',
    inputs: { ...BASE, 'rollback-on-failure': 'maybe' },
    names: 'rollback-on-failure',
    fix: /true or false/
  },
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

describe('loadConfig: memory headroom', () => {
  it.each([
    ['10%', { percent: 10 }],
    ['0%', { percent: 0 }],
    ['12.5 %', { percent: 12.5 }],
    ['32MB', { mb: 32 }],
    ['64 mb', { mb: 64 }],
    ['0MB', { mb: 0 }]
  ])('reads memory-headroom %s', (given, expected) => {
    expect(load({ ...BASE, 'memory-headroom': given }).memoryHeadroom).toEqual(expected)
  })

  it('reads low-memory fail and compare-report', () => {
    const config = load({ ...BASE, 'low-memory': 'fail', 'compare-report': 'previous/report.json' })
    expect(config.lowMemory).toBe('fail')
    expect(config.compareReport).toBe('previous/report.json')
  })
})

describe('loadConfig: bad inputs', () => {
  it('has at least 25 bad cases', () => {
    expect(BAD_CASES.length).toBeGreaterThanOrEqual(25)
  })

  it.each(BAD_CASES.map((c) => [c.what, c] as const))('rejects %s', (_what, badCase) => {
    const problems = problemsOf(badCase.inputs, badCase.env ?? {})
    // One problem both names the input and says the fix.
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`(?=[\\s\\S]*${escape(badCase.names)})(?=[\\s\\S]*(?:${badCase.fix.source}))`))
      ])
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
      expect.stringMatching(
        /^annotate-files: the pattern .* more than 256 alternatives .*split it over several lines\.$/
      ),
      expect.stringMatching(
        /^annotate-files: a pattern of 2000 characters .* longer than the 1024 allowed; shorten it\.$/
      )
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

/** Every problem of the inputs, joined: what a reader of the log would see. */
const allProblems = (inputs: Inputs, env: NodeJS.ProcessEnv = {}): string => problemsOf(inputs, env).join('\n')
const MIRRORED: Inputs = { ...BASE, 'layer-account': MIRROR_ACCOUNT }
const SECRET = 'Zq-S3cret-Value-9137'
const SM_REF = `\${arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack-key}`

describe('loadConfig: partitions and regions', () => {
  it.each([
    [
      arn('us-east-1', 'f', 'aws-cn'),
      /puts us-east-1 in the partition aws-cn, but us-east-1 is in aws; write arn:aws:/
    ],
    [arn('cn-north-1', 'f', 'aws'), /cn-north-1 is in aws-cn/],
    [arn('us-gov-west-1', 'f', 'aws'), /us-gov-west-1 is in aws-us-gov/],
    [arn('eu-west-1', 'f', 'aws-iso'), /eu-west-1 is in aws/],
    [
      arn('us-east-1', 'f', 'aws-moon'),
      /partition "aws-moon", which does not exist \(AWS's partitions are aws, aws-cn/
    ],
    [arn('moon-east-1', 'f'), /the region "moon-east-1", which is not an AWS region name/]
  ])('refuses the function ARN %s, even with a mirror', (given, message) => {
    const problems = problemsOf({ ...MIRRORED, functions: given })
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^functions: "${escape(given)}" `))])
    expect(problems[0]).toMatch(message)
  })

  it.each([
    ['aws-iso', 'us-iso-east-1'],
    ['aws-iso-b', 'us-isob-east-1'],
    ['aws-iso-e', 'eu-isoe-west-1'],
    ['aws-iso-f', 'us-isof-south-1'],
    ['aws-eusc', 'eusc-de-east-1'],
    ['aws-us-gov', 'us-gov-east-1']
  ])('takes an ARN of the partition %s in %s with a mirror', (partition, region) => {
    const config = load({ ...MIRRORED, functions: arn(region, 'f', partition) })
    expect(config.functions[0]).toMatchObject({ partition, region })
    expect(config.homeRegion).toBe('us-east-1')
  })

  it.each([
    ['a plain name', { functions: 'my-fn' }],
    ['a pattern', { functions: 'my-*' }]
  ])('refuses an AWS_REGION that is no region, used for %s', (_what, inputs) => {
    expect(problemsOf({ ...inputs, 'layer-account': MIRROR_ACCOUNT }, { AWS_REGION: 'mars-1\n::warning::x' })).toEqual([
      'the region "mars-1\\n::warning::x" (from AWS_REGION or AWS_DEFAULT_REGION, as aws-region is empty) is not an AWS region name; set aws-region to one like us-east-1.'
    ])
  })

  it('takes a plain name in an ISO region with its partition', () => {
    const config = load({ ...MIRRORED, 'aws-region': 'us-isob-east-1' })
    expect(config.functions[0]).toMatchObject({ partition: 'aws-iso-b', region: 'us-isob-east-1' })
  })

  it.each(['zz-east-1', 'eusc-east-1', 'us-gov-west', 'US-EAST-1'])('refuses aws-region %s', (region) => {
    expect(allProblems({ ...MIRRORED, 'aws-region': region })).toMatch(/aws-region ".*" is not an AWS region name/)
  })

  it('refuses a pattern in a region where the layer is not published, and takes it with a mirror', () => {
    const inputs = { functions: 'orders-*', 'aws-region': 'us-east-1, af-south-1' }
    expect(problemsOf(inputs)).toEqual([
      expect.stringMatching(
        /^functions: orders-\* is in af-south-1, where the Rotel layer is not published .* set layer-account\.$/
      )
    ])
    expect(load({ ...inputs, 'layer-account': MIRROR_ACCOUNT }).patterns[0]?.regions).toEqual([
      'us-east-1',
      'af-south-1'
    ])
  })

  it('refuses an ARN pattern in a region or partition where the layer is not published', () => {
    expect(allProblems({ functions: arn('me-south-1', 'orders-*') })).toMatch(
      /me-south-1, where the Rotel layer is not published/
    )
    expect(allProblems({ functions: arn('cn-north-1', 'orders-*', 'aws-cn') })).toMatch(
      /aws-cn partition, where the Rotel layer is not published/
    )
  })

  it('refuses patterns and names of two partitions in one run', () => {
    expect(allProblems({ ...MIRRORED, functions: `orders-*\n${arn('us-gov-west-1', 'b', 'aws-us-gov')}` })).toMatch(
      /functions mixes functions of the partitions aws and aws-us-gov/
    )
  })

  it('refuses a role, a secret reference, a KMS key or an instrumentation layer of another partition than the functions', () => {
    const problems = problemsOf({
      ...BASE,
      'role-to-assume': `arn:aws-cn:iam::${ACCOUNT}:role/deploy`,
      'otlp-headers': `Authorization=\${arn:aws-us-gov:secretsmanager:us-gov-west-1:${ACCOUNT}:secret:k}`,
      'secret-kms-key-arn': `arn:aws-cn:kms:cn-north-1:${ACCOUNT}:key/abc`,
      'instrumentation-layer': `arn:aws-cn:lambda:{region}:${ACCOUNT}:layer:otel-{arch}:1`
    })
    for (const name of ['role-to-assume', 'otlp-headers', 'secret-kms-key-arn', 'instrumentation-layer'])
      expect(problems).toContainEqual(
        expect.stringMatching(
          new RegExp(`^${name}: .* and the functions are in aws; AWS does not act across partitions`)
        )
      )
  })

  it("takes a role, a reference and a key of the functions' own partition", () => {
    const config = load({
      ...MIRRORED,
      functions: arn('cn-north-1', 'f', 'aws-cn'),
      'role-to-assume': `arn:aws-cn:iam::${ACCOUNT}:role/deploy`,
      'otlp-headers': `Authorization=\${arn:aws-cn:secretsmanager:cn-north-1:${ACCOUNT}:secret:k}`,
      'secret-kms-key-arn': `arn:aws-cn:kms:cn-north-1:${ACCOUNT}:key/abc`
    })
    expect(config.roleToAssume).toBe(`arn:aws-cn:iam::${ACCOUNT}:role/deploy`)
    expect(config.secretReferences).toHaveLength(1)
  })

  it.each([
    [`arn:aws-moon:iam::${ACCOUNT}:role/deploy`, 'role-to-assume', /"aws-moon", which does not exist/],
    [`arn:aws-cn:kms:us-east-1:${ACCOUNT}:key/abc`, 'secret-kms-key-arn', /us-east-1 is in aws/],
    [`arn:aws:lambda:cn-north-1:${ACCOUNT}:layer:otel-{arch}:1`, 'instrumentation-layer', /cn-north-1 is in aws-cn/],
    [
      `arn:aws-x:lambda:{region}:${ACCOUNT}:layer:otel-{arch}:1`,
      'instrumentation-layer',
      /"aws-x", which does not exist/
    ]
  ])('refuses %s in %s', (value, name, message) => {
    const extra = name === 'secret-kms-key-arn' ? { 'otlp-headers': `Authorization=${SM_REF}` } : {}
    expect(allProblems({ ...BASE, ...extra, [name]: value })).toMatch(message)
  })
})

describe('loadConfig: size limits', () => {
  it.each([
    ['otlp-headers', 4096, (n: number) => `Authorization=${'k'.repeat(n - 14)}`],
    ['environment', 4096, (n: number) => `BIG=${'b'.repeat(n - 4)}`],
    ['resource-attributes', 4096, (n: number) => `team=${'a'.repeat(n - 5)}`],
    ['otlp-endpoint', 4096, (n: number) => `https://c.example.com/${'p'.repeat(n - 22)}`],
    ['role-to-assume', 2048, (n: number) => `arn:aws:iam::${ACCOUNT}:role/${'r'.repeat(n - 31)}`],
    ['audience', 255, (n: number) => 'a'.repeat(n)],
    ['clickhouse-url', 2048, (n: number) => `https://c.example.com/${'p'.repeat(n - 22)}`],
    ['github-token', 1024, (n: number) => 't'.repeat(n)],
    ['layer-account', 256, (n: number) => '1'.repeat(n)],
    ['aws-region', 1024, (n: number) => 'u'.repeat(n)]
  ])('refuses %s one character over %i, naming it and not quoting it', (name, limit, valueOf) => {
    const over = valueOf(limit + 1)
    expect(over).toHaveLength(limit + 1)
    const problems = problemsOf({ ...BASE, [name]: over })
    expect(problems[0]).toMatch(
      new RegExp(`^${name} is ${limit + 1} characters long and may be at most ${limit} \\(.+\\); shorten it\\.$`)
    )
    // Only that one problem: the refused value is not parsed as well.
    expect(problems).toHaveLength(1)
    expect(problems.join('\n')).not.toContain(over.slice(-40))
  })

  it('reads an input of exactly its limit', () => {
    expect(load({ ...BASE, audience: 'a'.repeat(255) }).audience).toHaveLength(255)
  })

  it("refuses settings that take more than Lambda's 4 KB together, naming each input with its share", () => {
    const within = (pad: number): Inputs => ({
      ...BASE,
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      'otlp-headers': `Authorization=${'k'.repeat(2000)}`,
      environment: `PAD=${'p'.repeat(pad)}`
    })
    const base = variablesSize(load(within(0)).managedVariables)
    const fits = within(MAX_VARIABLES_BYTES - base)
    expect(variablesSize(load(fits).managedVariables)).toBe(MAX_VARIABLES_BYTES)
    const problems = problemsOf(within(MAX_VARIABLES_BYTES - base + 1))
    expect(problems).toEqual([
      expect.stringMatching(
        /^the settings this action writes take 4097 bytes as Lambda counts them \(otlp-headers 20\d\d, environment 1\d\d\d, resource-attributes \d+, otlp-endpoint \d+\) and Lambda allows 4096/
      )
    ])
  })

  it('counts the json-logs record in the 4 KB', () => {
    const inputs = { ...BASE, environment: 'PAD=' }
    const pad = MAX_VARIABLES_BYTES - variablesSize(load(inputs).managedVariables)
    const full = { ...BASE, environment: `PAD=${'p'.repeat(pad)}` }
    expect(() => load(full)).not.toThrow()
    expect(allProblems({ ...full, 'json-logs': 'true' })).toMatch(/json-logs \d+/)
  })

  it('bounds the items of functions, exclude, aws-region, annotate-files and secret-kms-key-arn', () => {
    const lines = (count: number, item: (i: number) => string): string =>
      Array.from({ length: count }, (_, i) => item(i)).join('\n')
    expect(load({ ...MIRRORED, functions: lines(1000, (i) => `fn-${i}`) }).functions).toHaveLength(1000)
    expect(allProblems({ ...MIRRORED, functions: lines(1001, (i) => `fn-${i}`) })).toMatch(
      /^functions lists 1001 items and takes at most 1000/
    )
    expect(allProblems({ ...BASE, functions: 'orders-*', exclude: lines(201, (i) => `x${i}-*`) })).toMatch(
      /^exclude lists 201 items/
    )
    expect(allProblems({ ...BASE, 'aws-region': lines(51, () => 'us-east-1') })).toMatch(/^aws-region lists 51 regions/)
    expect(allProblems({ ...BASE, 'annotate-files': lines(101, (i) => `d${i}/*.tf`) })).toMatch(
      /^annotate-files lists 101 globs/
    )
    const keys = lines(21, (i) => `arn:aws:kms:us-east-1:${ACCOUNT}:key/k${i}`)
    expect(allProblems({ ...BASE, 'otlp-headers': `Authorization=${SM_REF}`, 'secret-kms-key-arn': keys })).toMatch(
      /^secret-kms-key-arn lists 21 keys/
    )
  })

  it('refuses a functions item longer than any ARN or pattern without quoting it', () => {
    const item = `${'a'.repeat(250)}-${'*'.repeat(6)}`
    expect(problemsOf({ ...BASE, functions: item })).toEqual([
      'functions: item 1 is 257 characters long; a function ARN has at most 140 and a pattern may have at most 256.'
    ])
  })
})

describe('loadConfig: control characters', () => {
  const SINGLE_LINE: Inputs = {
    mode: 'plan',
    'otlp-endpoint': 'https://clickstack.example.com:4317',
    'role-to-assume': `arn:aws:iam::${ACCOUNT}:role/deploy`,
    audience: 'sts.amazonaws.com',
    'env-file': '/var/task/rotel.env',
    'clickhouse-password': 'pa55word',
    'github-token': 'ghs_token',
    'layer-name': 'rotel-{arch}',
    'test-invoke': 'true'
  }

  it.each(
    Object.keys(SINGLE_LINE).flatMap((name) =>
      ['\n', '\r', '\t', '\u0007', '\u001b', '\u007f', '\u0085', '\u2028', '\u202e'].map((c) => [name, c] as const)
    )
  )('refuses in %s the character %j, naming the input and where', (name, c) => {
    const value = `${(SINGLE_LINE[name] as string).slice(0, 3)}${c}${(SINGLE_LINE[name] as string).slice(3)}`
    const problems = problemsOf({ ...BASE, ...SINGLE_LINE, [name]: value })
    expect(problems).toEqual([
      expect.stringMatching(
        new RegExp(`^${name} holds .* at character 4; write it on one line, without control characters\\.$`)
      )
    ])
  })

  it('takes line breaks (LF or CRLF) and tabs in a list input, and refuses a lone carriage return', () => {
    const config = load({ ...MIRRORED, functions: 'fn-a\r\n\tfn-b\nfn-c' })
    expect(config.functions.map((f) => f.name)).toEqual(['fn-a', 'fn-b', 'fn-c'])
    expect(problemsOf({ ...MIRRORED, functions: 'fn-a\rfn-b' })).toEqual([
      'functions holds a carriage return without a line feed at line 1, character 5; remove it (line breaks and tabs are the only control characters this input takes).'
    ])
  })

  it('refuses a newline inside otlp-endpoint, which the URL parser would drop and the function would get as it is', () => {
    expect(problemsOf({ ...BASE, 'otlp-endpoint': 'https://clickstack.example\n.com:4317' })).toEqual([
      'otlp-endpoint holds a line break at character 27; write it on one line, without control characters.'
    ])
  })

  it('refuses a space inside otlp-endpoint without quoting the URL', () => {
    const problems = problemsOf({ ...BASE, 'otlp-endpoint': `https://c.example.com/v1 x?api_key=${SECRET}` })
    expect(problems).toEqual([expect.stringMatching(/^otlp-endpoint holds a space/)])
    expect(problems.join()).not.toContain(SECRET)
  })

  it('refuses a bare NUL in any input', () => {
    expect(allProblems({ ...BASE, 'otlp-headers': `Authorization=${SECRET}\u0000` })).toMatch(
      /otlp-headers holds the invisible character U\+0000/
    )
  })
})

describe('loadConfig: otlp-headers', () => {
  it.each([
    [
      `Authorization=${SECRET},authorization=other`,
      /the header authorization is given twice \(header names ignore case\)/
    ],
    [`Authorization=${SECRET}\nAuthorization=${SECRET}`, /the header Authorization is given twice/],
    ['Authorization=', /the header Authorization has an empty value; give its value \(if a secret fills it/],
    [`Authorization=${SECRET}ключ`, /the value of Authorization holds a character outside printable ASCII/],
    [`Authorization=${SECRET}é`, /outside printable ASCII/],
    [`=${SECRET}`, /entry 1 has no name before "="/],
    [`X-Team=a,=${SECRET}`, /entry 2 has no name before "="/],
    [`${SECRET}==`, /entry 1 looks like a base64 value pasted without its name/],
    [`Authorization=Bearer \${${SECRET}}`, /a \$\{…\} \(not shown\) is not a reference to a secret/]
  ])('refuses %j without showing the key', (headers, message) => {
    const problems = allProblems({ ...BASE, 'otlp-headers': headers })
    expect(problems).toMatch(message)
    expect(problems).toMatch(/^otlp-headers: /)
    expect(problems).not.toContain(SECRET)
  })

  it('takes printable ASCII, = inside a value, and a value with spaces', () => {
    const config = load({ ...BASE, 'otlp-headers': 'Authorization=Basic dXNlcjpwYXNz==,X-Team=a b~' })
    expect(config.managedVariables[ENV.headers]).toBe('Authorization=Basic dXNlcjpwYXNz==,X-Team=a b~')
  })

  it('refuses a resource attribute given twice', () => {
    expect(problemsOf({ ...BASE, 'resource-attributes': 'team=a,team=b' })).toEqual([
      'resource-attributes: team is given twice; keep one.'
    ])
  })
})

describe('loadConfig: environment', () => {
  it.each([
    [`API_KEY ${SECRET}=`, /line 1 does not start with a variable name .* the line is not shown/],
    [`API_KEY ${SECRET}==`, /line 1 looks like a base64 value pasted without its name/],
    [`# comment\n${SECRET}==`, /line 2 looks like a base64 value pasted without its name/],
    [`API_KEY ${SECRET}`, /line 1 is not of the form KEY=VALUE/]
  ])('refuses %j without showing it', (environment, message) => {
    const problems = allProblems({ ...BASE, environment })
    expect(problems).toMatch(message)
    expect(problems).not.toContain(SECRET)
    expect(problems).not.toContain(SECRET.slice(0, 8))
  })

  it('refuses a variable given twice, and still takes a value that is = inside', () => {
    expect(problemsOf({ ...BASE, environment: 'TEAM=a\nTEAM=b' })).toEqual([
      'environment: TEAM is given twice; keep one line.'
    ])
    expect(load({ ...BASE, environment: 'EQ=a=b' }).managedVariables.EQ).toBe('a=b')
  })
})

describe('loadConfig: test-payload', () => {
  it.each([`{"token":"${SECRET}" oops}`, SECRET, `{"token":"${SECRET}",}`])(
    'does not show %j in its JSON error',
    (payload) => {
      const problems = problemsOf({ ...BASE, 'test-payload': payload })
      expect(problems).toEqual([
        expect.stringMatching(
          /^test-payload is not valid JSON( \(the error is at character \d+\))?; write a JSON document such as \{"test":"data"\} \(the payload is not shown\)\.$/
        )
      ])
      expect(problems.join()).not.toContain(SECRET.slice(0, 6))
    }
  )

  it('says where the error is when the parser says it', () => {
    expect(problemsOf({ ...BASE, 'test-payload': '{"a":1,}' })[0]).toMatch(/at character 8\)/)
  })
})

describe('loadConfig: delivery and HyperDX', () => {
  const DELIVERY: Inputs = {
    ...BASE,
    'verify-delivery': 'warn',
    'clickhouse-url': 'https://clickhouse.example.com:8443'
  }

  it('names clickhouse-url for a malformed %-escape in its password, without showing it', () => {
    const problems = problemsOf({
      ...DELIVERY,
      'clickhouse-url': `https://default:${SECRET}%zz@clickhouse.example.com:8443`
    })
    expect(problems).toEqual([
      expect.stringMatching(
        /^clickhouse-url: the password in the URL has a malformed %-escape .* put the password in clickhouse-password\.$/
      )
    ])
    expect(problems.join()).not.toContain(SECRET)
  })

  it('takes a well-escaped password in clickhouse-url and keeps it, decoded and as written, among the secrets', () => {
    const config = load({ ...DELIVERY, 'clickhouse-url': 'https://default:p%40ss%25w@clickhouse.example.com:8443' })
    expect(config.secretValues).toEqual(expect.arrayContaining(['p%40ss%25w', 'p@ss%w']))
  })

  it('refuses a dotted clickhouse-database and takes DATABASE.TABLE in the table inputs', () => {
    expect(problemsOf({ ...DELIVERY, 'clickhouse-database': 'otel.logs' })).toEqual([
      expect.stringMatching(
        /^clickhouse-database "otel.logs" is not a ClickHouse database name \(letters, digits and _, no dot\)/
      )
    ])
    expect(load({ ...DELIVERY, 'logs-table': 'otel.logs', 'traces-table': 'otel.traces' }).delivery?.logsTable).toBe(
      'otel.logs'
    )
  })

  it.each([
    ['https://hyperdx.example.com/x)[evil](https://evil.example', /would break the summary's Markdown link/],
    ['https://hyperdx.example.com/<img src=x>', /would break/],
    ['https://hyperdx.example.com/a"b', /would break/],
    ["https://hyperdx.example.com/a'b", /would break/],
    ['https://hyperdx.example.com/]', /would break/],
    ['https://hyperdx.example.com/a b', /would break/],
    ['https://hyperdx.example.com/a\\b', /would break/],
    ['javascript:alert(1)', /is not an http\(s\) URL/],
    ['hyperdx.example.com', /is not an http\(s\) URL/],
    ['https://', /is not an http\(s\) URL/],
    [`https://admin:${SECRET}@hyperdx.example.com`, /must not carry credentials/],
    ['https://hyperdx.example.com/?team=a', /without a \?query or #fragment/],
    ['https://hyperdx.example.com/#x', /without a \?query or #fragment/]
  ])('refuses hyperdx-url %j without quoting it', (url, message) => {
    const problems = problemsOf({ ...DELIVERY, 'hyperdx-url': url })
    expect(problems).toEqual([expect.stringMatching(/^hyperdx-url /)])
    expect(problems[0]).toMatch(message)
    expect(problems[0]?.replace('https://hyperdx.example.com', '')).not.toContain(url)
  })

  it('takes a hyperdx-url with a path and percent-escapes', () => {
    const url = 'https://hyperdx.example.com/team%20a/'
    expect(load({ ...DELIVERY, 'hyperdx-url': url }).delivery?.hyperdxUrl).toBe(url)
  })
})
