/** Annotations on the repository's own files: what the reporter is told, and what Lambda is asked, for the layers they pin. */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { GetLayerVersionCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda'
import { mockClient } from 'aws-sdk-client-mock'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LayerResolver } from '../../../src/aws/layerResolver.js'
import { loadConfig, ROTEL_REGIONS } from '../../../src/core/config.js'
import { DEFAULT_LAYER_ACCOUNT } from '../../../src/core/layerVersions.js'
import { MAX_REFERENCE_LOOKUPS } from '../../../src/core/referenceLookups.js'
import { MemoryReporter } from '../../../src/github/memoryReporter.js'
import { annotateWorkspace } from '../../../src/run/workspaceAnnotations.js'

const LATEST = 5
const lambda = mockClient(LambdaClient)

const arn = (region: string, account: string, arch: 'amd64' | 'arm64', version: number, alpha = true): string =>
  `arn:aws:lambda:${region}:${account}:layer:rotel-extension-${arch}${alpha ? '-alpha' : ''}:${version}`
const foreignAccount = (i: number): string => String(100000000000 + i * 7919)
const madeUpRegion = (i: number): string => `zz-nowhere${String.fromCharCode(97 + (i % 26))}-${i % 90}`

const config = (inputs: Record<string, string>) =>
  loadConfig((name) => ({ functions: 'my-fn', 'aws-region': 'us-east-1', ...inputs })[name] ?? '', {})

describe('annotateWorkspace', () => {
  let workspace = ''
  const layers = () =>
    new LayerResolver({ clientFor: (region) => new LambdaClient({ region }), probe: { sleep: async () => {} } })

  beforeEach(async () => {
    lambda.reset()
    lambda
      .on(GetLayerVersionCommand)
      .callsFake(({ VersionNumber, LayerName }: { VersionNumber: number; LayerName: string }) => {
        if (VersionNumber > LATEST)
          throw new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } })
        return { LayerVersionArn: `${LayerName}:${VersionNumber}`, LayerArn: LayerName, Version: VersionNumber }
      })
    workspace = await mkdtemp(join(tmpdir(), 'rotel-annotations-'))
  })
  afterEach(async () => {
    await rm(workspace, { recursive: true, force: true })
  })

  it('does nothing outside a workspace', async () => {
    const reporter = new MemoryReporter()
    expect(await annotateWorkspace(config({}), layers(), {}, reporter)).toEqual([])
    expect(reporter.reported).toEqual([])
    expect(lambda.calls()).toEqual([])
  })

  it('annotates the line that pins a version behind the latest, and says where in the summary', async () => {
    await writeFile(
      join(workspace, 'main.tf'),
      `locals {\n  ok = "${arn('us-east-1', DEFAULT_LAYER_ACCOUNT, 'amd64', LATEST)}"\n  old = "${arn('us-east-1', DEFAULT_LAYER_ACCOUNT, 'amd64', 3)}"\n}\n`
    )
    const reporter = new MemoryReporter()
    const notes = await annotateWorkspace(
      config({ 'annotate-files': '**/*.tf' }),
      layers(),
      { GITHUB_WORKSPACE: workspace },
      reporter
    )
    expect(reporter.reported).toEqual([
      {
        kind: 'warning',
        text: `rotel-extension-amd64-alpha version 3 is behind the latest, version ${LATEST} in us-east-1; bump it to ${LATEST}.`,
        properties: { title: 'Rotel layer behind the latest', file: 'main.tf', startLine: 3, startColumn: 10 }
      }
    ])
    expect(notes).toEqual([
      '1 Rotel layer version is pinned behind the latest in this repository (main.tf:3); see the annotations.'
    ])
    expect(new Set(lambda.commandCalls(GetLayerVersionCommand).map((call) => call.args[0].input.LayerName))).toEqual(
      new Set([`arn:aws:lambda:us-east-1:${DEFAULT_LAYER_ACCOUNT}:layer:rotel-extension-amd64-alpha`])
    )
  })

  it('says in the log only, as outside text, when the latest cannot be looked up', async () => {
    lambda.on(GetLayerVersionCommand).rejects(
      Object.assign(new Error('not allowed ::error::x'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 }
      })
    )
    await writeFile(join(workspace, 'main.tf'), `x = "${arn('us-east-1', DEFAULT_LAYER_ACCOUNT, 'arm64', 3)}"\n`)
    const reporter = new MemoryReporter()
    const notes = await annotateWorkspace(
      config({ 'annotate-files': '**/*.tf' }),
      layers(),
      { GITHUB_WORKSPACE: workspace },
      reporter
    )
    // Not the pull request's fault: no annotation, nothing in the summary.
    expect(notes).toEqual([])
    expect(reporter.reported).toEqual([
      {
        kind: 'outside',
        lines: [
          expect.stringMatching(
            new RegExp(
              `^Could not look up the latest rotel-extension-arm64-alpha in us-east-1 \\(${DEFAULT_LAYER_ACCOUNT}\\): no version of layer .* is visible in us-east-1: .*may not call lambda:GetLayerVersion`
            )
          )
        ]
      }
    ])
  })

  it('says which references were not checked, in the log and the summary', async () => {
    await writeFile(join(workspace, 'main.tf'), `x = "${arn('us-east-1', foreignAccount(1), 'amd64', 3)}"\n`)
    const reporter = new MemoryReporter()
    const notes = await annotateWorkspace(
      config({ 'annotate-files': '**/*.tf' }),
      layers(),
      { GITHUB_WORKSPACE: workspace },
      reporter
    )
    const note =
      '1 Rotel layer reference was not checked against the latest version: 1 name an account other than layer-account.'
    expect(notes).toEqual([note])
    expect(reporter.reported).toEqual([{ kind: 'info', text: note }])
    expect(lambda.calls()).toEqual([])
  })
})

describe('annotateWorkspace with a pull request full of foreign layer ARNs', () => {
  let workspace = ''
  let reporter = new MemoryReporter()

  beforeEach(async () => {
    lambda.reset()
    lambda
      .on(GetLayerVersionCommand)
      .callsFake(({ VersionNumber, LayerName }: { VersionNumber: number; LayerName: string }) => {
        if (VersionNumber > LATEST)
          throw new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } })
        return { LayerVersionArn: `${LayerName}:${VersionNumber}`, LayerArn: LayerName, Version: VersionNumber }
      })
    workspace = await mkdtemp(join(tmpdir(), 'rotel-lookups-'))
    reporter = new MemoryReporter()
  })
  afterEach(async () => {
    await rm(workspace, { recursive: true, force: true })
  })
  afterAll(() => lambda.restore())

  it('asks GetLayerVersion only of the configured account, for at most the limit of layers, and says so once', async () => {
    const lines = [
      // 300 accounts and made-up regions: these once made 2,408 GetLayerVersion calls.
      ...Array.from(
        { length: 300 },
        (_, i) => `  l${i} = "${arn(madeUpRegion(i), foreignAccount(i), i % 2 ? 'arm64' : 'amd64', 3)}"`
      ),
      // The configured account in made-up regions, and in every published region.
      ...Array.from(
        { length: 100 },
        (_, i) => `  m${i} = "${arn(madeUpRegion(i), DEFAULT_LAYER_ACCOUNT, 'amd64', 3)}"`
      ),
      ...ROTEL_REGIONS.flatMap((region) => [
        `  p = "${arn(region, DEFAULT_LAYER_ACCOUNT, 'amd64', 3)}"`,
        `  q = "${arn(region, DEFAULT_LAYER_ACCOUNT, 'arm64', 3)}"`
      ])
    ]
    await writeFile(join(workspace, 'main.tf'), `locals {\n${lines.join('\n')}\n}\n`)
    const layers = new LayerResolver({ clientFor: (region) => new LambdaClient({ region }) })

    const notes = await annotateWorkspace(
      config({ 'annotate-files': '**/*.tf' }),
      layers,
      { GITHUB_WORKSPACE: workspace },
      reporter
    )

    const calls = lambda.commandCalls(GetLayerVersionCommand).map((call) => call.args[0].input)
    expect(calls.length).toBeGreaterThan(0)
    for (const { LayerName } of calls)
      expect(LayerName).toMatch(new RegExp(`^arn:aws:lambda:[a-z0-9-]+:${DEFAULT_LAYER_ACCOUNT}:layer:`))
    const layersAsked = new Set(calls.map(({ LayerName }) => LayerName))
    expect(layersAsked.size).toBe(MAX_REFERENCE_LOOKUPS)
    for (const name of layersAsked) expect(ROTEL_REGIONS).toContain(name?.split(':')[3])
    // Each latest search is a handful of probes: the whole scan stays within a few dozen calls.
    expect(calls.length).toBeLessThanOrEqual(MAX_REFERENCE_LOOKUPS * 12)

    const overLimit = 2 * ROTEL_REGIONS.length - MAX_REFERENCE_LOOKUPS
    expect(notes).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${MAX_REFERENCE_LOOKUPS} Rotel layer versions are pinned behind the latest in this repository \\(main\\.tf:\\d+(, main\\.tf:\\d+){${MAX_REFERENCE_LOOKUPS - 1}}\\); see the annotations\\.$`
        )
      ),
      `${400 + overLimit} Rotel layer references were not checked against the latest version: 300 name an account other than layer-account, 100 name a region where the Rotel layer is not published, ${overLimit} would need more than the ${MAX_REFERENCE_LOOKUPS} layer lookups a run makes for the repository's files.`
    ])
    const log = reporter.lines.join('\n')
    expect(reporter.annotations('warning')).toHaveLength(MAX_REFERENCE_LOOKUPS)
    expect(log.match(/were not checked/g)).toHaveLength(1)
    expect(log).not.toContain('Could not look up')
  })

  it('lists ten places in the summary and annotates at most 50 lines, however many are behind', async () => {
    const lines = Array.from(
      { length: 400 },
      (_, i) => `  l${i} = "${arn('us-east-1', DEFAULT_LAYER_ACCOUNT, 'amd64', 1 + (i % 4))}"`
    )
    await writeFile(join(workspace, 'main.tf'), `locals {\n${lines.join('\n')}\n}\n`)
    const layers = new LayerResolver({ clientFor: (region) => new LambdaClient({ region }) })

    const notes = await annotateWorkspace(
      config({ 'annotate-files': '**/*.tf' }),
      layers,
      { GITHUB_WORKSPACE: workspace },
      reporter
    )

    expect(new Set(lambda.commandCalls(GetLayerVersionCommand).map((call) => call.args[0].input.LayerName)).size).toBe(
      1
    )
    expect(notes).toHaveLength(1)
    expect(notes[0]).toMatch(
      /^400 Rotel layer versions are pinned behind the latest in this repository \(main\.tf:2, (main\.tf:\d+, ){9}390 more\); see the annotations \(the first 50\)\.$/
    )
    expect(reporter.annotations('warning')).toHaveLength(50)
  })
})
