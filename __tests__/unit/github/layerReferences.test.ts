import { afterAll, describe, expect, it, jest } from '@jest/globals'
import * as realFs from 'node:fs/promises'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// Running as root (as in many containers) makes chmod useless for "unreadable", so the file system refuses
// by name instead; everything else goes to the real one. `readdir` calls are recorded to see what the walk entered.
const listed: string[] = []
const refused = (path: unknown) => {
  const name = basename(String(path))
  return name === 'locked.yaml' || name === 'locked-dir'
}
const eacces = (path: unknown) =>
  Object.assign(new Error(`EACCES: permission denied, '${String(path)}'`), { code: 'EACCES' })
jest.unstable_mockModule('node:fs/promises', () => ({
  ...realFs,
  open: async (...args: Parameters<typeof realFs.open>) => {
    if (refused(args[0])) throw eacces(args[0])
    return realFs.open(...args)
  },
  readdir: async (path: string, options: { withFileTypes: true }) => {
    listed.push(String(path))
    if (refused(path)) throw eacces(path)
    return realFs.readdir(path, options)
  }
}))

const { DEFAULT_ANNOTATE_FILES, behindLatest, findReferencesInText, scanWorkspace } =
  await import('../../../src/github/layerReferences.js')
type LayerReference = import('../../../src/core/model.js').LayerReference

const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/workspace')
const ROTEL = 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:3'

const scratch: string[] = []
afterAll(async () => {
  for (const directory of scratch) await rm(directory, { recursive: true, force: true })
})

/** A fresh workspace holding these files (paths relative, `/`-separated). */
async function workspace(files: Record<string, string | Buffer>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'rotel-refs-'))
  scratch.push(root)
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, file)), { recursive: true })
    await writeFile(join(root, file), content)
  }
  return root
}

const ref = (overrides: Partial<LayerReference> & Pick<LayerReference, 'file' | 'line' | 'column' | 'text'>) => ({
  region: undefined,
  account: '418653438961',
  name: 'rotel-extension-amd64',
  architecture: 'x86_64',
  version: 3,
  ...overrides
})

// The findings in __tests__/fixtures/workspace with the default patterns, as the fixture files write them.
const FIXTURE_REFERENCES = [
  ref({
    file: 'lib/stack.ts',
    line: 7,
    column: 29,
    text: 'arn:aws:lambda:${this.region}:418653438961:layer:rotel-extension-arm64-alpha:9',
    name: 'rotel-extension-arm64-alpha',
    architecture: 'arm64',
    version: 9
  }),
  ref({
    file: 'main.tf',
    line: 15,
    column: 21,
    text: 'arn:aws:lambda:eu-west-1:418653438961:layer:rotel-extension-amd64:4',
    region: 'eu-west-1',
    version: 4
  }),
  ref({
    file: 'serverless.yml',
    line: 9,
    column: 7,
    text: 'arn:aws:lambda:${self:provider.region}:418653438961:layer:rotel-extension-arm64:5',
    name: 'rotel-extension-arm64',
    architecture: 'arm64',
    version: 5
  }),
  ref({
    file: 'template.yaml',
    line: 13,
    column: 16,
    text: 'arn:aws:lambda:${AWS::Region}:418653438961:layer:rotel-extension-amd64-alpha:3',
    name: 'rotel-extension-amd64-alpha'
  }),
  ref({
    file: 'template.yaml',
    line: 22,
    column: 11,
    text: 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64-alpha:12',
    region: 'us-east-1',
    name: 'rotel-extension-arm64-alpha',
    architecture: 'arm64',
    version: 12
  })
]

describe('findReferencesInText', () => {
  it.each([
    // Literal regions, any partition, any account (mirrors).
    ['arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64-alpha:12', 'us-east-1', '418653438961'],
    ['arn:aws-cn:lambda:cn-north-1:123456789012:layer:rotel-extension-amd64-alpha:12', 'cn-north-1', '123456789012'],
    [
      'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:rotel-extension-amd64-alpha:12',
      'us-gov-west-1',
      '123456789012'
    ],
    [
      'arn:aws:lambda:ap-southeast-2:418653438961:layer:rotel-extension-amd64-alpha:12',
      'ap-southeast-2',
      '418653438961'
    ],
    // CloudFormation.
    ['arn:aws:lambda:${AWS::Region}:418653438961:layer:rotel-extension-amd64-alpha:12', undefined, '418653438961'],
    [
      'arn:${AWS::Partition}:lambda:eu-west-1:418653438961:layer:rotel-extension-amd64-alpha:12',
      'eu-west-1',
      '418653438961'
    ],
    [
      'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:layer:rotel-extension-amd64-alpha:12',
      undefined,
      undefined
    ],
    // Serverless Framework.
    [
      'arn:aws:lambda:${self:provider.region}:418653438961:layer:rotel-extension-amd64-alpha:12',
      undefined,
      '418653438961'
    ],
    [
      'arn:aws:lambda:${opt:region, ${self:provider.region}}:418653438961:layer:rotel-extension-amd64-alpha:12',
      undefined,
      '418653438961'
    ],
    [
      "arn:aws:lambda:${opt:region, 'us-east-1'}:418653438961:layer:rotel-extension-amd64-alpha:12",
      undefined,
      '418653438961'
    ],
    // Terraform.
    ['arn:aws:lambda:${var.region}:418653438961:layer:rotel-extension-amd64-alpha:12', undefined, '418653438961'],
    [
      'arn:aws:lambda:${data.aws_region.current.name}:${var.account}:layer:rotel-extension-amd64-alpha:12',
      undefined,
      undefined
    ],
    ['arn:aws:lambda:%s:418653438961:layer:rotel-extension-amd64-alpha:12', undefined, '418653438961'],
    // CDK TypeScript and Python, other templating.
    ['arn:aws:lambda:${this.region}:418653438961:layer:rotel-extension-amd64-alpha:12', undefined, '418653438961'],
    ['arn:aws:lambda:${Aws.REGION}:418653438961:layer:rotel-extension-amd64-alpha:12', undefined, '418653438961'],
    ['arn:aws:lambda:${region}:418653438961:layer:rotel-extension-amd64-alpha:12', undefined, '418653438961'],
    [
      'arn:aws:lambda:${Stack.of(this).region}:418653438961:layer:rotel-extension-amd64-alpha:12',
      undefined,
      '418653438961'
    ],
    ['arn:aws:lambda:{region}:418653438961:layer:rotel-extension-amd64-alpha:12', undefined, '418653438961'],
    ['arn:aws:lambda:{self.region}:{self.account}:layer:rotel-extension-amd64-alpha:12', undefined, undefined],
    ['arn:aws:lambda:{{ region }}:418653438961:layer:rotel-extension-amd64-alpha:12', undefined, '418653438961'],
    [
      'arn:aws:lambda:${{ vars.AWS_REGION }}:418653438961:layer:rotel-extension-amd64-alpha:12',
      undefined,
      '418653438961'
    ],
    ['arn:aws:lambda:<region>:418653438961:layer:rotel-extension-amd64-alpha:12', undefined, '418653438961'],
    ['arn:aws:lambda:$AWS_REGION:418653438961:layer:rotel-extension-amd64-alpha:12', undefined, '418653438961'],
    ['arn:aws:lambda:*:*:layer:rotel-extension-amd64-alpha:12', undefined, undefined]
  ])('finds %s (region %s, account %s)', (arn, region, account) => {
    const line = `  Layers: ["${arn}", "arn:aws:lambda:us-east-1:123456789012:layer:other-layer:3"]`
    expect(findReferencesInText(line, 'x.yaml')).toEqual([
      {
        file: 'x.yaml',
        line: 1,
        column: 13,
        text: arn,
        region,
        account,
        name: 'rotel-extension-amd64-alpha',
        architecture: 'x86_64',
        version: 12
      }
    ])
  })

  it.each([
    ['rotel-extension-amd64', 'x86_64'],
    ['rotel-extension-amd64-alpha', 'x86_64'],
    ['rotel-extension-arm64', 'arm64'],
    ['rotel-extension-arm64-alpha', 'arm64']
  ])('reads the architecture of %s as %s', (name, architecture) => {
    const [found] = findReferencesInText(`arn:aws:lambda:us-east-1:418653438961:layer:${name}:7`, 'x')
    expect(found).toMatchObject({ name, architecture, version: 7 })
  })

  it.each([
    ['no version', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64'],
    [
      'a CloudFormation version',
      'arn:aws:lambda:${AWS::Region}:418653438961:layer:rotel-extension-arm64:${RotelVersion}'
    ],
    [
      'a Terraform version',
      'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64:${var.rotel_layer_version}'
    ],
    ['a Python version', 'arn:aws:lambda:{region}:418653438961:layer:rotel-extension-arm64:{version}'],
    ['a printf version', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64:%d'],
    ['a wildcard version', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64:*'],
    ['a word for a version', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64:latest'],
    ['version 0', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64:0'],
    ['a leading zero', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64:07'],
    [
      'a version beyond safe integers',
      'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64:9999999999999999'
    ],
    ['a version run into a word', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64:3abc'],
    [
      'a version run into a placeholder',
      'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64:3${suffix}'
    ],
    ['another layer', 'arn:aws:lambda:us-east-1:418653438961:layer:other-layer:3'],
    ['another architecture spelling', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-x86_64:3'],
    ['a longer name', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64-alphabet:3'],
    ['another channel', 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64-beta:3'],
    ['a prefixed name', 'arn:aws:lambda:us-east-1:418653438961:layer:my-rotel-extension-amd64:3'],
    ['a function', 'arn:aws:lambda:us-east-1:418653438961:function:rotel-extension-amd64:3'],
    ['another service', 'arn:aws:s3:us-east-1:418653438961:layer:rotel-extension-amd64:3'],
    ['a malformed region', 'arn:aws:lambda:useast1:418653438961:layer:rotel-extension-amd64:3'],
    ['a short account', 'arn:aws:lambda:us-east-1:4186539:layer:rotel-extension-amd64:3'],
    ['an unknown partition', 'arn:azure:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:3'],
    ['a word before arn', 'xarn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64:3']
  ])('finds nothing with %s', (_, text) => {
    expect(findReferencesInText(`layers: ${text}`, 'x')).toEqual([])
  })

  it('finds every reference on a line, with its own column', () => {
    const arm = 'arn:aws:lambda:${this.region}:418653438961:layer:rotel-extension-arm64-alpha:9'
    const amd = 'arn:aws:lambda:eu-west-1:418653438961:layer:rotel-extension-amd64-alpha:8'
    const line = `const layer = arm ? \`${arm}\` : '${amd}'`
    expect(findReferencesInText(line, 'lib/stack.ts')).toEqual([
      ref({
        file: 'lib/stack.ts',
        line: 1,
        column: 22,
        text: arm,
        name: 'rotel-extension-arm64-alpha',
        architecture: 'arm64',
        version: 9
      }),
      ref({
        file: 'lib/stack.ts',
        line: 1,
        column: 105,
        text: amd,
        region: 'eu-west-1',
        name: 'rotel-extension-amd64-alpha',
        version: 8
      })
    ])
    // The columns are where the ARNs are (1-based), not merely what the code computes.
    expect(line.slice(21).startsWith(arm)).toBe(true)
    expect(line.slice(104).startsWith(amd)).toBe(true)
  })

  it('counts lines across \\n and \\r\\n, and keeps a version ending a sentence or a string', () => {
    const text = ['first', `- ${ROTEL}`, '', `see ${ROTEL}.`, `"${ROTEL}",`].join('\r\n') + '\n' + `x ${ROTEL}`
    expect(findReferencesInText(text, 'f').map(({ line, column, text }) => ({ line, column, text }))).toEqual([
      { line: 2, column: 3, text: ROTEL },
      { line: 4, column: 5, text: ROTEL },
      { line: 5, column: 2, text: ROTEL },
      { line: 6, column: 3, text: ROTEL }
    ])
  })

  it('finds nothing in a text without Rotel layers', () => {
    expect(findReferencesInText('arn:aws:lambda:us-east-1:123456789012:layer:other:3\n', 'f')).toEqual([])
    expect(findReferencesInText('', 'f')).toEqual([])
  })
})

describe('DEFAULT_ANNOTATE_FILES', () => {
  it.each([
    ['template.yaml', true],
    ['infra/sam/template.yml', true],
    ['stacks/api.template.json', true],
    ['stacks/api.cfn.yaml', true],
    ['services/billing/serverless.yml', true],
    ['serverless.ts', true],
    ['samconfig.toml', true],
    ['cdk.json', true],
    ['main.tf', true],
    ['modules/lambda/variables.tf', true],
    ['envs/prod.tfvars', true],
    ['generated/main.tf.json', true],
    ['live/prod/terragrunt.hcl', true],
    ['infra/anything.yaml', true],
    ['.github/workflows/deploy.yml', true],
    ['lib/stack.ts', true],
    ['bin/app.mjs', true],
    ['app.py', true],
    ['dist/template.yaml', false],
    ['packages/api/dist/index.js', false],
    ['package-lock.json', false],
    ['README.md', false],
    ['assets/blob.bin', false]
  ])('%s is scanned: %s', async (file, expected) => {
    const root = await workspace({ [file]: `${ROTEL}\n` })
    const result = await scanWorkspace(root, DEFAULT_ANNOTATE_FILES)
    expect(result.references.map((found) => found.file)).toEqual(expected ? [file] : [])
  })
})

describe('scanWorkspace on the fixture workspace', () => {
  it('finds each reference with its file, line, column, region and version, sorted', async () => {
    const result = await scanWorkspace(FIXTURE, DEFAULT_ANNOTATE_FILES)
    expect(result.references).toEqual(FIXTURE_REFERENCES)
    expect(result.filesScanned).toBe(4)
    expect(result.skipped).toEqual([])
  })

  it('has references in node_modules/, dist/ and the binary file, which the scan must not report', async () => {
    // Without these, the tests that they are skipped would pass for nothing.
    for (const file of ['node_modules/pkg/template.yaml', 'dist/template.yaml'])
      expect(findReferencesInText(await readFile(join(FIXTURE, file), 'utf8'), file)).toHaveLength(1)
    const blob = await readFile(join(FIXTURE, 'assets/blob.bin'))
    expect(blob.subarray(0, 8192).includes(0)).toBe(true)
    expect(findReferencesInText(blob.toString('latin1'), 'assets/blob.bin')).toHaveLength(1)
    expect((await scanWorkspace(join(FIXTURE, 'node_modules/pkg'), ['**'])).references).toHaveLength(1)
  })

  it('never enters node_modules, whatever the patterns say', async () => {
    const result = await scanWorkspace(FIXTURE, ['**/template.yaml', 'node_modules/**'])
    expect(result.references.map(({ file, line }) => `${file}:${line}`)).toEqual([
      'dist/template.yaml:3',
      'template.yaml:13',
      'template.yaml:22'
    ])
  })

  it('skips a binary file, saying so', async () => {
    const result = await scanWorkspace(FIXTURE, ['**/*.bin', '**/*.tf'])
    expect(result.skipped).toEqual([{ file: 'assets/blob.bin', reason: 'binary' }])
    expect(result.references.map((found) => found.file)).toEqual(['main.tf'])
    expect(result.filesScanned).toBe(1)
  })

  it('with maxFiles 1, reads the file of the earliest pattern and lists the rest as limit skips', async () => {
    // lib/stack.ts comes first in the walk, but template.yaml matches an earlier pattern.
    const result = await scanWorkspace(FIXTURE, DEFAULT_ANNOTATE_FILES, { maxFiles: 1 })
    expect(result.filesScanned).toBe(1)
    expect(result.references).toEqual(FIXTURE_REFERENCES.filter((found) => found.file === 'template.yaml'))
    expect(result.skipped).toEqual([
      { file: 'lib/stack.ts', reason: 'limit' },
      { file: 'main.tf', reason: 'limit' },
      { file: 'serverless.yml', reason: 'limit' }
    ])
  })

  it('with maxFiles 0, reads nothing', async () => {
    const result = await scanWorkspace(FIXTURE, ['**/*.tf'], { maxFiles: 0 })
    expect(result).toEqual({ references: [], filesScanned: 0, skipped: [{ file: 'main.tf', reason: 'limit' }] })
  })
})

describe('scanWorkspace patterns', () => {
  const files = {
    'a.yaml': `${ROTEL}\n`,
    'dist/template.yaml': `${ROTEL}\n`,
    'dist/keep.yaml': `${ROTEL}\n`,
    'big/deep/x.yaml': `${ROTEL}\n`
  }

  it.each([
    [['**/*.yaml'], ['a.yaml', 'big/deep/x.yaml', 'dist/keep.yaml', 'dist/template.yaml']],
    [
      ['**/*.yaml', '!dist/**'],
      ['a.yaml', 'big/deep/x.yaml']
    ],
    [
      ['**/*.yaml', '!dist/**', 'dist/keep.yaml'],
      ['a.yaml', 'big/deep/x.yaml', 'dist/keep.yaml']
    ],
    [
      ['!dist/**', '**/*.yaml'],
      ['a.yaml', 'big/deep/x.yaml', 'dist/keep.yaml', 'dist/template.yaml']
    ],
    [
      ['**/*.yaml', '!**/x.yaml', ' ', '!'],
      ['a.yaml', 'dist/keep.yaml', 'dist/template.yaml']
    ],
    [['!**/*.yaml'], []],
    [[], []]
  ])('%j selects %j, the last matching pattern deciding', async (patterns, expected) => {
    const root = await workspace(files)
    const result = await scanWorkspace(root, patterns)
    expect(result.references.map((found) => found.file)).toEqual(expected)
  })

  it('does not enter a directory a final `!dir/**` excludes, and does when a later pattern may bring a file back', async () => {
    const root = await workspace(files)
    listed.length = 0
    await scanWorkspace(root, ['**/*.yaml', '!big/**'])
    expect(listed).not.toContain(join(root, 'big'))
    expect(listed).toContain(join(root, 'dist'))
    listed.length = 0
    await scanWorkspace(root, ['**/*.yaml', '!big/**', 'big/deep/x.yaml'])
    expect(listed).toContain(join(root, 'big', 'deep'))
  })
})

describe('scanWorkspace limits and odd files', () => {
  it('skips a file over maxFileBytes and goes on with the next', async () => {
    const root = await workspace({ 'a.yaml': `# ${'x'.repeat(100)}\n${ROTEL}\n`, 'b.yaml': `${ROTEL}\n` })
    const result = await scanWorkspace(root, ['*.yaml'], { maxFileBytes: 100 })
    expect(result.skipped).toEqual([{ file: 'a.yaml', reason: 'too-large' }])
    expect(result.references.map((found) => found.file)).toEqual(['b.yaml'])
    expect(result.filesScanned).toBe(1)
  })

  it('stops at maxTotalBytes, listing every file after as a limit skip, even one that would fit', async () => {
    const line = `${ROTEL}\n`
    const root = await workspace({ 'a.yaml': line, 'b.yaml': line, 'c.yaml': 'x' })
    const result = await scanWorkspace(root, ['*.yaml'], { maxTotalBytes: line.length + 1 })
    expect(result.references.map((found) => found.file)).toEqual(['a.yaml'])
    expect(result.skipped).toEqual([
      { file: 'b.yaml', reason: 'limit' },
      { file: 'c.yaml', reason: 'limit' }
    ])
  })

  it('counts a binary file against maxFiles though it is not searched', async () => {
    const root = await workspace({ 'a.bin': Buffer.from([0x00, 0x01]), 'b.yaml': `${ROTEL}\n` })
    const result = await scanWorkspace(root, ['*.bin', '*.yaml'], { maxFiles: 1 })
    expect(result.filesScanned).toBe(0)
    expect(result.skipped).toEqual([
      { file: 'a.bin', reason: 'binary' },
      { file: 'b.yaml', reason: 'limit' }
    ])
  })

  it('calls a file binary only for a NUL within its first 8 KiB', async () => {
    const late = Buffer.concat([Buffer.from(`${ROTEL}\n${'x'.repeat(9000)}`), Buffer.from([0])])
    const early = Buffer.concat([Buffer.from('x'.repeat(8191)), Buffer.from([0]), Buffer.from(`\n${ROTEL}\n`)])
    const root = await workspace({ 'early.yaml': early, 'late.yaml': late })
    const result = await scanWorkspace(root, ['*.yaml'])
    expect(result.skipped).toEqual([{ file: 'early.yaml', reason: 'binary' }])
    expect(result.references.map((found) => found.file)).toEqual(['late.yaml'])
  })

  it('reports files and directories it cannot read, and goes on', async () => {
    const root = await workspace({
      'locked.yaml': `${ROTEL}\n`,
      'locked-dir/x.yaml': `${ROTEL}\n`,
      'ok.yaml': `${ROTEL}\n`
    })
    const result = await scanWorkspace(root, ['**/*.yaml'])
    expect(result.skipped).toEqual([
      { file: 'locked-dir/', reason: 'unreadable' },
      { file: 'locked.yaml', reason: 'unreadable' }
    ])
    expect(result.references.map((found) => found.file)).toEqual(['ok.yaml'])
  })

  it('rejects a workspace it cannot list at all', async () => {
    const root = await workspace({})
    await expect(scanWorkspace(join(root, 'missing'), ['**'])).rejects.toThrow(/cannot list the workspace .*missing/)
  })

  it('follows no symbolic link, in or out of the root', async () => {
    const outside = await workspace({ 'template.yaml': `${ROTEL}\n`, 'sub/template.yaml': `${ROTEL}\n` })
    const root = await workspace({ 'template.yaml': `${ROTEL}\n` })
    await symlink(join(outside, 'sub'), join(root, 'linked-dir'))
    await symlink(join(outside, 'template.yaml'), join(root, 'linked.yaml'))
    await symlink(join(root, 'template.yaml'), join(root, 'again.yaml'))
    const result = await scanWorkspace(root, ['**/*.yaml'])
    expect(result.references.map((found) => found.file)).toEqual(['template.yaml'])
    expect(result.skipped).toEqual([])
    // The links do lead to references: it is the scan that does not go there.
    expect((await scanWorkspace(outside, ['**/*.yaml'])).references).toHaveLength(2)
  })

  it('counts columns after a byte-order mark from the first real character', async () => {
    const root = await workspace({ 'bom.yaml': `\uFEFF${ROTEL}\n` })
    const result = await scanWorkspace(root, ['*.yaml'])
    expect(result.references).toEqual([ref({ file: 'bom.yaml', line: 1, column: 1, text: ROTEL, region: 'us-east-1' })])
  })
})

describe('behindLatest', () => {
  // The fixture's layers, latest per region and name; a placeholder region means the caller's default.
  const LATEST: Record<string, Record<string, number>> = {
    'us-east-1': {
      'rotel-extension-amd64-alpha': 12,
      'rotel-extension-arm64-alpha': 12,
      'rotel-extension-arm64': 7
    },
    'eu-west-1': { 'rotel-extension-amd64': 6 }
  }
  const latestFor = ({ region, name }: { region: string | undefined; name: string }) =>
    LATEST[region ?? 'us-east-1']?.[name]

  it('picks the fixture references older than the latest, not the one at it', () => {
    const behind = behindLatest(FIXTURE_REFERENCES as LayerReference[], latestFor)
    expect(behind.map(({ ref, latest }) => `${ref.file}:${ref.line} ${ref.version} < ${latest}`)).toEqual([
      'lib/stack.ts:7 9 < 12',
      'main.tf:15 4 < 6',
      'serverless.yml:9 5 < 7',
      'template.yaml:13 3 < 12'
    ])
    expect(behind[0]?.ref).toBe(FIXTURE_REFERENCES[0])
  })

  it.each([
    ['older', 5, 6, true],
    ['equal', 6, 6, false],
    ['newer (a region ahead of the one asked)', 7, 6, false],
    ['unknown latest', 5, undefined, false]
  ])('%s: version %s against latest %s is behind: %s', (_, version, latest, expected) => {
    const found = ref({ file: 'f', line: 1, column: 1, text: 't', version }) as LayerReference
    expect(behindLatest([found], () => latest)).toEqual(expected ? [{ ref: found, latest }] : [])
  })

  it('asks for the latest by the reference region (undefined for placeholders) and name', () => {
    const calls: Array<[string | undefined, string]> = []
    behindLatest(FIXTURE_REFERENCES as LayerReference[], ({ region, name }) => {
      calls.push([region, name])
      return undefined
    })
    expect(calls).toEqual([
      [undefined, 'rotel-extension-arm64-alpha'],
      ['eu-west-1', 'rotel-extension-amd64'],
      [undefined, 'rotel-extension-arm64'],
      [undefined, 'rotel-extension-amd64-alpha'],
      ['us-east-1', 'rotel-extension-arm64-alpha']
    ])
  })
})
