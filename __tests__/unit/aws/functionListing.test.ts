import { afterEach, describe, expect, it } from '@jest/globals'
import {
  type FunctionConfiguration,
  LambdaClient,
  ListFunctionsCommand,
  type ListFunctionsCommandInput
} from '@aws-sdk/client-lambda'
import { mockClient } from 'aws-sdk-client-mock'
import { resolvePatterns, selectFunctions } from '../../../src/aws/functionListing.js'
import type { FunctionTarget } from '../../../src/core/model.js'
import { type FunctionPattern, functionPatternToRegExp, parseSelection } from '../../../src/core/functionSelection.js'

const ACCOUNT = '123456789012'
const OTHER_ACCOUNT = '210987654321'

const fn = (
  region: string,
  name: string,
  extra: Partial<FunctionConfiguration> = {},
  account = ACCOUNT
): FunctionConfiguration => ({
  FunctionName: name,
  FunctionArn: `arn:aws:lambda:${region}:${account}:function:${name}`,
  PackageType: 'Zip',
  ...extra
})

const FLEET: Record<string, FunctionConfiguration[]> = {
  'eu-west-1': [
    fn('eu-west-1', 'orders-api'),
    fn('eu-west-1', 'orders-worker'),
    fn('eu-west-1', 'billing-api'),
    fn('eu-west-1', 'orders'),
    fn('eu-west-1', 'orders-image', { PackageType: 'Image' })
  ],
  'us-east-1': [fn('us-east-1', 'orders-api'), fn('us-east-1', 'orders-batch'), fn('us-east-1', 'search-api')]
}

/**
 * One client per region whose ListFunctions serves `functions` in pages of `pageSize`, as Lambda
 * does: the marker of the next page in NextMarker, read back from Marker. Each request's input is
 * copied when it arrives, because the paginator reuses and mutates one input object.
 */
function fakeLambda(fleet: Record<string, FunctionConfiguration[]>, pageSize = 50) {
  const clients = new Map<string, LambdaClient>()
  const requests: Array<{ region: string; input: ListFunctionsCommandInput }> = []
  const mocks: Array<ReturnType<typeof mockClient>> = []
  const lambdaFor = (region: string): LambdaClient => {
    let client = clients.get(region)
    if (client) return client
    client = new LambdaClient({ region, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })
    clients.set(region, client)
    const functions = fleet[region] ?? []
    const mock = mockClient(client)
    mocks.push(mock)
    mock.on(ListFunctionsCommand).callsFake((input: ListFunctionsCommandInput) => {
      requests.push({ region, input: { ...input } })
      const start = input.Marker === undefined ? 0 : Number(input.Marker.replace('page-', ''))
      const end = start + pageSize
      return {
        Functions: functions.slice(start, end),
        ...(end < functions.length ? { NextMarker: `page-${end}` } : {})
      }
    })
    return client
  }
  return { lambdaFor, requests, restore: () => mocks.forEach((mock) => mock.restore()) }
}

let restore: () => void = () => {}
afterEach(() => restore())

function fleetOf(fleet: Record<string, FunctionConfiguration[]>, pageSize = 50) {
  const fake = fakeLambda(fleet, pageSize)
  restore = fake.restore
  return fake
}

const pattern = (given: string, regions: string[], account?: string): FunctionPattern => ({
  given,
  regex: functionPatternToRegExp(given.slice(given.lastIndexOf(':') + 1)),
  regions,
  account
})

const names = (targets: ReadonlyArray<{ region: string; name: string }>): string[] =>
  targets.map((target) => `${target.region}/${target.name}`)

describe('resolvePatterns', () => {
  it('selects the matching functions across two regions, sorted by region then name', async () => {
    const fake = fleetOf(FLEET)
    const result = await resolvePatterns([pattern('*-api', ['us-east-1', 'eu-west-1'])], [], fake.lambdaFor)
    expect(names(result.targets)).toEqual([
      'eu-west-1/billing-api',
      'eu-west-1/orders-api',
      'us-east-1/orders-api',
      'us-east-1/search-api'
    ])
    expect(result.targets[2]).toEqual({
      given: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders-api`,
      name: 'orders-api',
      region: 'us-east-1',
      account: ACCOUNT,
      partition: 'aws'
    })
    expect(result.warnings).toEqual([])
  })

  it('returns image functions too: the planner reports them', async () => {
    const fake = fleetOf(FLEET)
    const result = await resolvePatterns([pattern('orders-i*', ['eu-west-1'])], [], fake.lambdaFor)
    expect(names(result.targets)).toEqual(['eu-west-1/orders-image'])
  })

  it('takes the partition and account from the function ARN', async () => {
    const fake = fleetOf({
      'cn-north-1': [
        { FunctionName: 'orders-cn', FunctionArn: `arn:aws-cn:lambda:cn-north-1:${OTHER_ACCOUNT}:function:orders-cn` }
      ]
    })
    const result = await resolvePatterns([pattern('orders-*', ['cn-north-1'])], [], fake.lambdaFor)
    expect(result.targets).toEqual([
      {
        given: `arn:aws-cn:lambda:cn-north-1:${OTHER_ACCOUNT}:function:orders-cn`,
        name: 'orders-cn',
        region: 'cn-north-1',
        account: OTHER_ACCOUNT,
        partition: 'aws-cn'
      }
    ])
  })

  it('follows NextMarker over three pages, asking for 50 a page', async () => {
    const many = Array.from({ length: 120 }, (_, i) => fn('eu-west-1', `orders-${String(i).padStart(3, '0')}`))
    const fake = fleetOf({ 'eu-west-1': many }, 50)
    const result = await resolvePatterns([pattern('orders-*', ['eu-west-1'])], [], fake.lambdaFor)
    expect(result.targets).toHaveLength(120)
    expect(result.targets[119]?.name).toBe('orders-119')
    expect(result.listCalls).toBe(3)
    expect(fake.requests.map((request) => request.input)).toEqual([
      { Marker: undefined, MaxItems: 50 },
      { Marker: 'page-50', MaxItems: 50 },
      { Marker: 'page-100', MaxItems: 50 }
    ])
  })

  it('sends the NextMarker back as Marker', async () => {
    const client = new LambdaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })
    const mock = mockClient(client)
    restore = () => mock.restore()
    mock
      .on(ListFunctionsCommand)
      .resolves({ Functions: [fn('eu-west-1', 'orders-1')], NextMarker: 'm2' })
      .on(ListFunctionsCommand, { Marker: 'm2' })
      .resolves({ Functions: [fn('eu-west-1', 'orders-2')], NextMarker: 'm3' })
      .on(ListFunctionsCommand, { Marker: 'm3' })
      .resolves({ Functions: [fn('eu-west-1', 'orders-3')] })
    const result = await resolvePatterns([pattern('orders-*', ['eu-west-1'])], [], () => client)
    expect(result.targets.map((target) => target.name)).toEqual(['orders-1', 'orders-2', 'orders-3'])
    expect(result.listCalls).toBe(3)
  })

  it('stops when the service hands back the marker it was given', async () => {
    const client = new LambdaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })
    const mock = mockClient(client)
    restore = () => mock.restore()
    mock.on(ListFunctionsCommand).resolves({ Functions: [fn('eu-west-1', 'orders-1')], NextMarker: 'same' })
    const result = await resolvePatterns([pattern('orders-*', ['eu-west-1'])], [], () => client)
    expect(result.listCalls).toBe(2)
    expect(result.targets).toHaveLength(1)
  })

  it('lists each region once for several patterns, and dedupes what they share', async () => {
    const fake = fleetOf(FLEET, 2)
    const result = await resolvePatterns(
      [
        pattern('orders-*', ['eu-west-1', 'us-east-1']),
        pattern('*-api', ['eu-west-1', 'us-east-1']),
        pattern('arn:aws:lambda:eu-west-1:123456789012:function:billing-*', ['eu-west-1'], ACCOUNT)
      ],
      [],
      fake.lambdaFor
    )
    // Pages of 2: eu-west-1 has 5 functions (3 requests), us-east-1 has 3 (2 requests).
    expect(
      fake.requests
        .filter((request) => request.input.Marker === undefined)
        .map((request) => request.region)
        .sort()
    ).toEqual(['eu-west-1', 'us-east-1'])
    expect(result.listCalls).toBe(5)
    expect(fake.requests).toHaveLength(5)
    expect(names(result.targets)).toEqual([
      'eu-west-1/billing-api',
      'eu-west-1/orders-api',
      'eu-west-1/orders-image',
      'eu-west-1/orders-worker',
      'us-east-1/orders-api',
      'us-east-1/orders-batch',
      'us-east-1/search-api'
    ])
  })

  it('drops excluded functions by name and by ARN', async () => {
    const fake = fleetOf(FLEET)
    const { excludes, problems } = parseSelection({
      functions: 'orders-*',
      exclude: 'orders-worker\narn:aws:lambda:us-east-1:123456789012:function:orders-b*',
      regions: ['eu-west-1', 'us-east-1']
    })
    expect(problems).toEqual([])
    const result = await resolvePatterns([pattern('orders-*', ['eu-west-1', 'us-east-1'])], excludes, fake.lambdaFor)
    expect(names(result.targets)).toEqual(['eu-west-1/orders-api', 'eu-west-1/orders-image', 'us-east-1/orders-api'])
    expect(result.warnings).toEqual([])
  })

  it('warns, naming the pattern and the regions listed, when a pattern matches nothing', async () => {
    const fake = fleetOf(FLEET)
    const result = await resolvePatterns(
      [pattern('orders-*', ['eu-west-1']), pattern('payments-*', ['eu-west-1', 'us-east-1'])],
      [],
      fake.lambdaFor
    )
    expect(result.warnings).toEqual([
      'functions: the pattern "payments-*" matched no function in eu-west-1, us-east-1.'
    ])
    expect(result.targets.length).toBeGreaterThan(0)
  })

  it('warns when exclude removed everything a pattern matched', async () => {
    const fake = fleetOf(FLEET)
    const result = await resolvePatterns([pattern('*-api', ['us-east-1'])], [/^.*-api$/], fake.lambdaFor)
    expect(result.targets).toEqual([])
    expect(result.warnings).toEqual([
      'functions: the pattern "*-api" matched 2 functions in us-east-1, all removed by exclude.'
    ])
  })

  it('limits an ARN pattern to its region and account', async () => {
    const fake = fleetOf({
      ...FLEET,
      'eu-west-1': [...(FLEET['eu-west-1'] ?? []), fn('eu-west-1', 'orders-shared', {}, OTHER_ACCOUNT)]
    })
    const { patterns, problems } = parseSelection({
      functions: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-*',
      exclude: '',
      regions: ['eu-west-1', 'us-east-1']
    })
    expect(problems).toEqual([])
    const result = await resolvePatterns(patterns, [], fake.lambdaFor)
    expect(names(result.targets)).toEqual(['eu-west-1/orders-api', 'eu-west-1/orders-image', 'eu-west-1/orders-worker'])
    expect(result.targets.every((target) => target.account === ACCOUNT)).toBe(true)
    expect(fake.requests.map((request) => request.region)).toEqual(['eu-west-1'])
  })

  it('names the account in the warning of an ARN pattern that matches nothing', async () => {
    const fake = fleetOf(FLEET)
    const result = await resolvePatterns([pattern('orders-*', ['eu-west-1'], OTHER_ACCOUNT)], [], fake.lambdaFor)
    expect(result.targets).toEqual([])
    expect(result.warnings).toEqual([
      `functions: the pattern "orders-*" matched no function in eu-west-1 (account ${OTHER_ACCOUNT}).`
    ])
  })

  it('throws with the region, the patterns and the permission when ListFunctions fails', async () => {
    const client = new LambdaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })
    const mock = mockClient(client)
    restore = () => mock.restore()
    const denied = Object.assign(new Error('User is not authorized to perform: lambda:ListFunctions'), {
      name: 'AccessDeniedException'
    })
    mock.on(ListFunctionsCommand).rejects(denied)
    const failure = resolvePatterns(
      [pattern('orders-*', ['eu-west-1']), pattern('*-api', ['eu-west-1'])],
      [],
      () => client
    )
    await expect(failure).rejects.toThrow(
      'Could not list the functions in eu-west-1 to resolve orders-*, *-api: AccessDeniedException: User is not authorized to perform: lambda:ListFunctions; the deploy role needs lambda:ListFunctions'
    )
    await expect(failure).rejects.toMatchObject({ cause: denied })
  })

  it('lists nothing for no patterns', async () => {
    const fake = fleetOf(FLEET)
    const result = await resolvePatterns([], [], fake.lambdaFor)
    expect(result).toMatchObject({ targets: [], warnings: [], listCalls: 0 })
    expect(result.listed.size).toBe(0)
    expect(fake.requests).toEqual([])
  })

  it('keeps the configuration each selected function was listed with, as a read gives it, and none of the others', async () => {
    const fake = fleetOf({
      'eu-west-1': [
        fn('eu-west-1', 'orders-api', {
          Architectures: ['arm64'],
          Layers: [{ Arn: 'arn:aws:lambda:eu-west-1:123456789012:layer:shared:3' }],
          Environment: { Variables: { DB_PASSWORD: 'listed-secret' } },
          RevisionId: 'rev-7',
          Role: `arn:aws:iam::${ACCOUNT}:role/lambda-exec`,
          LoggingConfig: { LogFormat: 'JSON', LogGroup: '/custom/orders' }
        }),
        fn('eu-west-1', 'orders-sandbox'),
        fn('eu-west-1', 'billing-api')
      ]
    })
    const result = await resolvePatterns([pattern('orders-*', ['eu-west-1'])], [/-sandbox$/], fake.lambdaFor)
    expect(names(result.targets)).toEqual(['eu-west-1/orders-api'])
    expect([...result.listed.keys()]).toEqual(result.targets)
    expect(result.listed.get(result.targets[0] as FunctionTarget)).toEqual({
      name: 'orders-api',
      arn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:orders-api`,
      region: 'eu-west-1',
      architecture: 'arm64',
      packageType: 'Zip',
      layers: ['arn:aws:lambda:eu-west-1:123456789012:layer:shared:3'],
      variables: { DB_PASSWORD: 'listed-secret' },
      revisionId: 'rev-7',
      logGroup: '/custom/orders',
      runtime: undefined,
      role: `arn:aws:iam::${ACCOUNT}:role/lambda-exec`,
      logging: { format: 'JSON', applicationLogLevel: undefined, systemLogLevel: undefined, logGroup: '/custom/orders' }
    })
  })
})

describe('selectFunctions', () => {
  const named = (name: string, region: string, account?: string): FunctionTarget => ({
    given: account ? `arn:aws:lambda:${region}:${account}:function:${name}` : name,
    name,
    region,
    account,
    partition: 'aws'
  })

  it('reads nothing and lists nothing for functions named outright without patterns', async () => {
    const fake = fleetOf(FLEET)
    const target = named('orders-api', 'us-east-1')
    const selection = await selectFunctions({ functions: [target], patterns: [], excludes: [] }, fake.lambdaFor)
    expect(selection.targets).toEqual([target])
    expect(selection.listed.size).toBe(0)
    expect(fake.requests).toEqual([])
  })

  it('gives every function a listing holds its listed configuration, named ones too; one in another account or an unlisted region is read on its own', async () => {
    const fake = fleetOf(FLEET)
    const inListing = named('search-api', 'us-east-1')
    const byArn = named('orders-batch', 'us-east-1', ACCOUNT)
    const otherAccount = named('orders-api', 'us-east-1', OTHER_ACCOUNT)
    const unlisted = named('billing-api', 'eu-west-1')
    const selection = await selectFunctions(
      {
        functions: [inListing, byArn, otherAccount, unlisted],
        patterns: [pattern('orders-*', ['us-east-1'])],
        excludes: []
      },
      fake.lambdaFor
    )
    // The pattern's orders-api is the named one's region and name: counted once, as the named one, which
    // is in another account, so the listing's configuration is not its own.
    expect(names(selection.targets)).toEqual([
      'us-east-1/search-api',
      'us-east-1/orders-batch',
      'us-east-1/orders-api',
      'eu-west-1/billing-api'
    ])
    expect(selection.listed.get(inListing)?.arn).toBe(`arn:aws:lambda:us-east-1:${ACCOUNT}:function:search-api`)
    expect(selection.listed.get(byArn)?.arn).toBe(`arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders-batch`)
    expect(selection.listed.has(otherAccount)).toBe(false)
    expect(selection.listed.has(unlisted)).toBe(false)
    expect([...selection.listed.keys()].length).toBe(selection.targets.length - 2)
  })
})
