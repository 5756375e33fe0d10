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
import {
  DEFAULT_LAYER_ACCOUNT,
  findLatestVersion,
  lambdaLayerProbe,
  layerArnFor,
  LayerResolver,
  parseLayerVersionArn,
  tagFromDescription,
  type LayerProbe,
  type LayerVersion
} from '../../src/layerVersions.js'

const ARN = 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64-alpha'

const layerVersion = (version: number, layerArn = ARN): LayerVersion => ({
  arn: `${layerArn}:${version}`,
  layerArn,
  version,
  description: `Tag=v${version}-alpha`,
  tag: `v${version}-alpha`,
  compatibleArchitectures: ['arm64']
})

/** A layer with versions 1..top except the missing ones, counting every probe it answers. */
function fakeLayer(top: number, missing: number[] = []) {
  const holes = new Set(missing)
  const calls: number[] = []
  const probe: LayerProbe = async (version) => {
    calls.push(version)
    if (!Number.isInteger(version) || version < 1) throw new Error(`probed impossible version ${version}`)
    return version <= top && !holes.has(version) ? layerVersion(version) : undefined
  }
  return { probe, calls }
}

const bound = (versions: number) => 2 * Math.ceil(Math.log2(versions)) + 2

describe('findLatestVersion', () => {
  // V = 1 cannot meet the bound of 2 while seeing past a missing version: 1 must be probed for its
  // details, and 2 and 3 to tell "no version 2" from "version 2 failed, 3 is the latest".
  it.each([
    { versions: 1, probes: 3, withinBound: false },
    { versions: 10, probes: 8, withinBound: true },
    { versions: 100, probes: 14, withinBound: true },
    { versions: 1000, probes: 20, withinBound: true }
  ])('finds the latest of $versions contiguous versions in $probes probes', async ({ versions, probes, withinBound }) => {
    const layer = fakeLayer(versions)
    const result = await findLatestVersion(layer.probe, {})
    expect(result.latest?.version).toBe(versions)
    expect(result.probes).toBe(probes)
    expect(layer.calls).toHaveLength(probes)
    expect(new Set(layer.calls).size).toBe(layer.calls.length)
    if (withinBound) expect(result.probes).toBeLessThanOrEqual(bound(versions))
    else expect(result.probes).toBe(bound(versions) + 1)
  })

  it('meets the bound for a single version too when told not to look past gaps', async () => {
    const layer = fakeLayer(1)
    const result = await findLatestVersion(layer.probe, { gapWindow: 1 })
    expect(result.latest?.version).toBe(1)
    expect(result.probes).toBeLessThanOrEqual(bound(1))
  })

  // The counts with gaps, stated: a hole on the gallop's path (a power of two, from hint 1) sends the
  // bracket into the hole and costs a second gallop; a deleted latest costs one or two extra probes.
  it.each([
    { versions: 10, missing: [8], latest: 10, probes: 10, note: 'hole at a power of two' },
    { versions: 10, missing: [2], latest: 10, probes: 10, note: 'hole at the first gallop step' },
    { versions: 10, missing: [4], latest: 10, probes: 10, note: 'hole at a power of two' },
    { versions: 10, missing: [10], latest: 9, probes: 9, note: 'deleted latest' },
    { versions: 10, missing: [5, 6], latest: 10, probes: 8, note: 'two-wide hole off the search path' },
    { versions: 100, missing: [64], latest: 100, probes: 24, note: 'hole at a power of two' },
    { versions: 100, missing: [100], latest: 99, probes: 15, note: 'deleted latest' },
    { versions: 100, missing: [32, 64], latest: 100, probes: 32, note: 'two holes at powers of two' },
    { versions: 100, missing: [50, 51], latest: 100, probes: 14, note: 'two-wide hole off the search path' },
    { versions: 1000, missing: [512], latest: 1000, probes: 36, note: 'hole at a power of two' },
    { versions: 1000, missing: [1000], latest: 999, probes: 21, note: 'deleted latest' },
    { versions: 1000, missing: [512, 999], latest: 1000, probes: 36, note: 'hole at 512 and below the latest' },
    { versions: 1000, missing: [256, 512, 1000], latest: 999, probes: 51, note: 'three holes, latest deleted' }
  ])('V=$versions missing $missing ($note): finds $latest in $probes probes', async ({ versions, missing, latest, probes }) => {
    const layer = fakeLayer(versions, missing)
    const result = await findLatestVersion(layer.probe, {})
    expect(result.latest?.version).toBe(latest)
    expect(result.probes).toBe(probes)
    expect(new Set(layer.calls).size).toBe(layer.calls.length)
  })

  it.each([
    { versions: 41, missing: [], hint: 41, latest: 41, maxProbes: 4 },
    { versions: 41, missing: [42], hint: 41, latest: 41, maxProbes: 4 },
    { versions: 1000, missing: [], hint: 1000, latest: 1000, maxProbes: 4 },
    { versions: 41, missing: [], hint: 40, latest: 41, maxProbes: 4 },
    { versions: 41, missing: [41], hint: 41, latest: 40, maxProbes: 4 }
  ])('with hint $hint close to the latest ($latest) takes at most $maxProbes probes', async ({ versions, missing, hint, latest, maxProbes }) => {
    const layer = fakeLayer(versions, missing)
    const result = await findLatestVersion(layer.probe, { hint })
    expect(result.latest?.version).toBe(latest)
    expect(result.probes).toBeLessThanOrEqual(maxProbes)
  })

  it.each([
    { versions: 41, hint: 45, probes: 7 },
    { versions: 41, hint: 100, probes: 16 },
    { versions: 41, hint: 1000, probes: 24 },
    { versions: 5, hint: 41, probes: 13 }
  ])('searches below a hint that is absent: $versions versions, hint $hint, $probes probes', async ({ versions, hint, probes }) => {
    const layer = fakeLayer(versions)
    const result = await findLatestVersion(layer.probe, { hint })
    expect(result.latest?.version).toBe(versions)
    expect(result.probes).toBe(probes)
  })

  it('looks past an absent hint that is a hole with newer versions above it', async () => {
    const layer = fakeLayer(50, [41])
    const result = await findLatestVersion(layer.probe, { hint: 41 })
    expect(result.latest?.version).toBe(50)
  })

  it('sees past a hole as wide as the gap window, and not past a wider one', async () => {
    expect((await findLatestVersion(fakeLayer(11, [9, 10]).probe, {})).latest?.version).toBe(8)
    expect((await findLatestVersion(fakeLayer(11, [9, 10]).probe, { gapWindow: 3 })).latest?.version).toBe(11)
  })

  it.each([1, 41])('returns no version, having probed nothing below 1, when none exists (hint %d)', async (hint) => {
    const layer = fakeLayer(0)
    const result = await findLatestVersion(layer.probe, { hint })
    expect(result.latest).toBeUndefined()
    expect(Math.min(...layer.calls)).toBe(1)
    expect(result.probes).toBe(layer.calls.length)
  })

  it.each([0, -5, Number.NaN, 2.7])('treats an unusable hint (%d) as a starting point of at least 1', async (hint) => {
    const layer = fakeLayer(10)
    const result = await findLatestVersion(layer.probe, { hint })
    expect(result.latest?.version).toBe(10)
    expect(Math.min(...layer.calls)).toBeGreaterThanOrEqual(1)
  })

  it('passes on what a probe throws', async () => {
    const probe: LayerProbe = async (version) => {
      if (version === 4) throw new Error('boom')
      return layerVersion(version)
    }
    await expect(findLatestVersion(probe, {})).rejects.toThrow('boom')
  })
})

const awsError = (name: string, status: number, message = name): LambdaServiceException =>
  new LambdaServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message })

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
    ['ResourceNotFoundException (own account)', new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } })]
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
    const byName = new LayerResolver({ ...options, clientFor: (region) => new LambdaClient({ region }), hints: { [request.name]: 41 } })
    expect((await byName.resolve({ ...request, version: 'latest' })).version).toBe(41)
    expect(byName.probes).toBe(3)
    const byArn = new LayerResolver({ ...options, clientFor: (region) => new LambdaClient({ region }), hints: { [ARN]: 40, [request.name]: 1 } })
    expect((await byArn.resolve({ ...request, version: 'latest' })).version).toBe(41)
    expect(byArn.probes).toBeLessThanOrEqual(4)
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

describe('layer ARNs', () => {
  it.each([
    ['us-east-1', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64'],
    ['cn-north-1', 'arn:aws-cn:lambda:cn-north-1:418653438961:layer:rotel-extension-amd64'],
    ['us-gov-west-1', 'arn:aws-us-gov:lambda:us-gov-west-1:418653438961:layer:rotel-extension-amd64']
  ])('builds the layer ARN in %s with its partition', (region, arn) => {
    expect(layerArnFor(region, DEFAULT_LAYER_ACCOUNT, 'rotel-extension-amd64')).toBe(arn)
    expect(parseLayerVersionArn(`${arn}:12`)).toEqual({
      region,
      account: DEFAULT_LAYER_ACCOUNT,
      name: 'rotel-extension-amd64',
      version: 12
    })
  })

  it.each([
    'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64',
    'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:0',
    'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:01',
    'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:41 ',
    'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:41:1',
    'arn:aws:lambda:us-east-1:41865343896:layer:rotel-extension-amd64:41',
    'arn:aws:lambda:US-EAST-1:418653438961:layer:rotel-extension-amd64:41',
    'arn:aws:lambda:us-east-1:418653438961:function:rotel-extension-amd64:41',
    'arn:aws-iso:lambda:us-iso-east-1:418653438961:layer:rotel-extension-amd64:41',
    'arn:aws-cn:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:41',
    'arn:aws:lambda:cn-north-1:418653438961:layer:rotel-extension-amd64:41',
    'xarn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:41'
  ])('does not take %s for a layer version ARN', (arn) => {
    expect(parseLayerVersionArn(arn)).toBeUndefined()
  })

  it.each([
    ['Tag=v41-alpha', 'v41-alpha'],
    ['Rotel extension, Tag=v0.0.12', 'v0.0.12'],
    ['Tag=v3 built 2025-01-01', 'v3'],
    ['NoTag=v1', undefined],
    ['', undefined],
    [undefined, undefined]
  ])('reads the tag of %j as %j', (description, tag) => {
    expect(tagFromDescription(description)).toBe(tag)
  })
})
