import { afterAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  GetLayerVersionCommand,
  LambdaClient,
  LambdaServiceException,
  ResourceNotFoundException,
  ServiceException,
  TooManyRequestsException
} from '@aws-sdk/client-lambda'
import { mockClient } from 'aws-sdk-client-mock'
import { lambdaLayerProbe, LayerResolver } from '../../../src/aws/layerResolver.js'
import { DEFAULT_LAYER_ACCOUNT, layerArnFor } from '../../../src/core/layerVersions.js'

const ARN = 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64-alpha'

const awsError = (name: string, status: number, message = name): LambdaServiceException =>
  new LambdaServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message
  })

const lambda = mockClient(LambdaClient)
beforeEach(() => {
  lambda.reset()
})
afterAll(() => {
  lambda.restore()
})

describe('lambdaLayerProbe', () => {
  const client = new LambdaClient({ region: 'us-east-1' })
  const waits: number[] = []
  const options = { sleep: async (ms: number) => void waits.push(ms), random: () => 0.5 }

  beforeEach(() => {
    waits.length = 0
  })

  it('asks GetLayerVersion for the unversioned ARN and version, and reads the answer', async () => {
    lambda.on(GetLayerVersionCommand).resolves({
      LayerArn: ARN,
      LayerVersionArn: `${ARN}:41`,
      Version: 41,
      Description: 'Tag=v41-alpha',
      CompatibleArchitectures: ['arm64']
    })
    const found = await lambdaLayerProbe(client, ARN, options)(41)
    expect(found).toEqual({
      arn: `${ARN}:41`,
      layerArn: ARN,
      version: 41,
      description: 'Tag=v41-alpha',
      tag: 'v41-alpha',
      compatibleArchitectures: ['arm64']
    })
    expect(lambda.commandCalls(GetLayerVersionCommand, { LayerName: ARN, VersionNumber: 41 }, true)).toHaveLength(1)
  })

  it.each([
    ['AccessDeniedException (another account, missing or not public)', awsError('AccessDeniedException', 403)],
    [
      'ResourceNotFoundException (own account)',
      new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } })
    ]
  ])('calls %s absent, without retrying', async (_, error) => {
    lambda.on(GetLayerVersionCommand).rejects(error)
    await expect(lambdaLayerProbe(client, ARN, options)(42)).resolves.toBeUndefined()
    expect(lambda.commandCalls(GetLayerVersionCommand)).toHaveLength(1)
  })

  it.each([
    ['throttling', new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } })],
    ['ThrottlingException', awsError('ThrottlingException', 400)],
    ['a 500', new ServiceException({ message: 'internal', $metadata: { httpStatusCode: 500 } })]
  ])('retries %s and then finds the version, waiting through the injected sleep', async (_, error) => {
    lambda
      .on(GetLayerVersionCommand)
      .rejectsOnce(error)
      .resolves({ LayerArn: ARN, LayerVersionArn: `${ARN}:7`, Version: 7, Description: 'Tag=v7' })
    const found = await lambdaLayerProbe(client, ARN, options)(7)
    expect(found?.version).toBe(7)
    expect(found?.tag).toBe('v7')
    expect(lambda.commandCalls(GetLayerVersionCommand)).toHaveLength(2)
    expect(waits).toHaveLength(1)
  })

  it('throws, with the layer and version, when server errors outlast the attempts', async () => {
    lambda.on(GetLayerVersionCommand).rejects(awsError('ServiceException', 503, 'unavailable'))
    await expect(lambdaLayerProbe(client, ARN, { ...options, attempts: 3 })(7)).rejects.toThrow(
      `GetLayerVersion ${ARN}:7 failed: ServiceException: unavailable`
    )
    expect(lambda.commandCalls(GetLayerVersionCommand)).toHaveLength(3)
  })

  it('throws a ValidationException at once, with context and the cause', async () => {
    const error = awsError('ValidationException', 400, 'bad layer name')
    lambda.on(GetLayerVersionCommand).rejects(error)
    const failure = await lambdaLayerProbe(client, ARN, options)(3).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(Error)
    expect((failure as Error).message).toBe(`GetLayerVersion ${ARN}:3 failed: ValidationException: bad layer name`)
    expect((failure as Error).cause).toBe(error)
    expect(lambda.commandCalls(GetLayerVersionCommand)).toHaveLength(1)
    expect(waits).toHaveLength(0)
  })
})

describe('LayerResolver', () => {
  const options = { probe: { sleep: async () => {} } }

  /** Versions 1..top of every layer in every region, except where told otherwise, answering a tick later. */
  function publish(tops: Record<string, number>, fallback = 0) {
    lambda.on(GetLayerVersionCommand).callsFake(async (input: { LayerName: string; VersionNumber: number }) => {
      await new Promise((resolve) => setImmediate(resolve))
      const top = tops[input.LayerName] ?? fallback
      if (input.VersionNumber > top) throw awsError('AccessDeniedException', 403)
      return {
        LayerArn: input.LayerName,
        LayerVersionArn: `${input.LayerName}:${input.VersionNumber}`,
        Version: input.VersionNumber,
        Description: `Tag=v${input.VersionNumber}-alpha`,
        CompatibleArchitectures: ['arm64']
      }
    })
  }

  const request = { region: 'us-east-1', account: DEFAULT_LAYER_ACCOUNT, name: 'rotel-extension-arm64-alpha' }

  it('runs one search for many concurrent requests of the same layer, and one per region', async () => {
    publish({}, 41)
    const regions: string[] = []
    const resolver = new LayerResolver({
      ...options,
      clientFor: (region) => {
        regions.push(region)
        return new LambdaClient({ region })
      }
    })
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => resolver.resolve({ ...request, version: 'latest' })),
      resolver.resolve({ ...request, region: 'eu-west-1', version: 'latest' })
    ])
    expect(results.map((r) => r.version)).toEqual([41, 41, 41, 41, 41, 41])
    expect(results[0]).toBe(results[4])
    expect(results[5]?.arn).toBe(`${layerArnFor('eu-west-1', DEFAULT_LAYER_ACCOUNT, request.name)}:41`)
    expect(resolver.lookups).toBe(2)
    expect(regions.sort()).toEqual(['eu-west-1', 'us-east-1'])
    expect(lambda.commandCalls(GetLayerVersionCommand)).toHaveLength(resolver.probes)
    await resolver.resolve({ ...request, version: 'latest' })
    expect(resolver.lookups).toBe(2)
  })

  it('parses the release tag from the description', async () => {
    publish({ [ARN]: 41 })
    const resolver = new LayerResolver({ ...options, clientFor: (region) => new LambdaClient({ region }) })
    const found = await resolver.resolve({ ...request, version: 'latest' })
    expect(found).toMatchObject({ arn: `${ARN}:41`, version: 41, tag: 'v41-alpha', description: 'Tag=v41-alpha' })
  })

  it('starts from a hint, by layer name or by layer ARN', async () => {
    publish({ [ARN]: 41 })
    const byName = new LayerResolver({
      ...options,
      clientFor: (region) => new LambdaClient({ region }),
      hints: { [request.name]: 41 }
    })
    expect((await byName.resolve({ ...request, version: 'latest' })).version).toBe(41)
    expect(byName.probes).toBe(3)
    const byArn = new LayerResolver({
      ...options,
      clientFor: (region) => new LambdaClient({ region }),
      hints: { [ARN]: 40, [request.name]: 1 }
    })
    expect((await byArn.resolve({ ...request, version: 'latest' })).version).toBe(41)
    // 40 and 41 present, 43 absent, 44 (past it) absent, 42 absent.
    expect(byArn.probes).toBe(5)
  })

  it('starts from the highest version the functions carry, above a lower hint, and only for that layer', async () => {
    publish({ [ARN]: 41 })
    const cold = new LayerResolver({ ...options, clientFor: (region) => new LambdaClient({ region }) })
    expect((await cold.resolve({ ...request, version: 'latest' })).version).toBe(41)
    const carried = new LayerResolver({
      ...options,
      clientFor: (region) => new LambdaClient({ region }),
      hints: { [request.name]: 30 }
    })
    carried.noteCarried([
      `${ARN}:40`,
      `${ARN}:41`,
      // Another region's copy, another layer and no layer ARN at all say nothing about this one.
      'arn:aws:lambda:eu-west-1:418653438961:layer:rotel-extension-arm64-alpha:90',
      'arn:aws:lambda:us-east-1:123456789012:layer:shared-utils:95',
      'not-an-arn:99'
    ])
    expect((await carried.resolve({ ...request, version: 'latest' })).version).toBe(41)
    // 41 present, 42 and 43 (its gap window) absent: the search from 1 took many more.
    expect(carried.probes).toBe(3)
    expect(cold.probes).toBeGreaterThan(6)
  })

  it('still finds the latest when the version a function carries was deleted since', async () => {
    publish({ [ARN]: 41 })
    const resolver = new LayerResolver({ ...options, clientFor: (region) => new LambdaClient({ region }) })
    resolver.noteCarried([`${ARN}:60`])
    expect((await resolver.resolve({ ...request, version: 'latest' })).version).toBe(41)
  })

  it('gets an explicit version with a single call', async () => {
    publish({ [ARN]: 41 })
    const resolver = new LayerResolver({ ...options, clientFor: (region) => new LambdaClient({ region }) })
    const found = await resolver.resolve({ ...request, version: 7 })
    expect(found.arn).toBe(`${ARN}:7`)
    expect(lambda.commandCalls(GetLayerVersionCommand)).toHaveLength(1)
    expect(lambda.commandCalls(GetLayerVersionCommand, { LayerName: ARN, VersionNumber: 7 }, true)).toHaveLength(1)
  })

  it('says what to check when an explicit version is absent, and asks only once', async () => {
    publish({}, 41)
    const resolver = new LayerResolver({ ...options, clientFor: (region) => new LambdaClient({ region }) })
    const expected =
      `layer version arn:aws:lambda:eu-west-1:418653438961:layer:rotel-extension-arm64-alpha:99 does not exist or is not visible: ` +
      `check layer-version / layer-name / layer-account, or that the layer exists in eu-west-1`
    await expect(resolver.resolve({ ...request, region: 'eu-west-1', version: 99 })).rejects.toThrow(expected)
    await expect(resolver.resolve({ ...request, region: 'eu-west-1', version: 99 })).rejects.toThrow(expected)
    expect(resolver.lookups).toBe(1)
  })

  it('says the layer is not visible in the region when no version at all is', async () => {
    publish({}, 0)
    const resolver = new LayerResolver({ ...options, clientFor: (region) => new LambdaClient({ region }) })
    await expect(resolver.resolve({ ...request, region: 'ap-east-2', version: 'latest' })).rejects.toThrow(
      'no version of layer arn:aws:lambda:ap-east-2:418653438961:layer:rotel-extension-arm64-alpha is visible in ap-east-2: ' +
        'the layer is not published there, or the deploy role may not call lambda:GetLayerVersion on it; set layer-account/layer-name to a mirrored copy'
    )
  })

  it('does not keep a failed lookup, so that a later request tries again', async () => {
    lambda
      .on(GetLayerVersionCommand)
      .rejectsOnce(awsError('ServiceException', 503, 'unavailable'))
      .rejectsOnce(awsError('ServiceException', 503, 'unavailable'))
      .resolves({ LayerArn: ARN, LayerVersionArn: `${ARN}:7`, Version: 7 })
    const resolver = new LayerResolver({
      probe: { sleep: async () => {}, attempts: 2 },
      clientFor: (region) => new LambdaClient({ region })
    })
    await expect(resolver.resolve({ ...request, version: 7 })).rejects.toThrow('ServiceException: unavailable')
    expect((await resolver.resolve({ ...request, version: 7 })).version).toBe(7)
    expect(resolver.lookups).toBe(2)
  })

  it.each([
    [{ ...request, version: 0 }, 'invalid layer-version 0'],
    [{ ...request, version: 1.5 }, 'invalid layer-version 1.5'],
    [{ ...request, account: '41865343896', version: 1 }, 'invalid layer-account "41865343896"'],
    [{ ...request, name: 'rotel:41', version: 1 }, 'invalid layer-name "rotel:41"'],
    [{ ...request, region: 'US-EAST-1', version: 1 }, 'invalid region "US-EAST-1"']
  ] as const)('refuses %j before asking Lambda', async (bad, message) => {
    const resolver = new LayerResolver({ ...options, clientFor: (region) => new LambdaClient({ region }) })
    await expect(resolver.resolve(bad)).rejects.toThrow(message)
    expect(lambda.commandCalls(GetLayerVersionCommand)).toHaveLength(0)
  })
})
