/**
 * Runs the built action (dist/index.js) the way the GitHub runner does: inputs as INPUT_* variables,
 * outputs and summary through files, OIDC through a token endpoint; AWS is a local moto.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createSampleFunction, ensureLambdaRole, publishMirroredLayer } from '../../scripts/emulator-fixtures.mjs'
import { node24 } from '../../scripts/test-tools.mjs'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** Node 24, as `runs.using: node24` runs the action: the test tool (scripts/test-tools.mjs) pinned for it. */
export const NODE_BINARY = node24()

/**
 * Node's on-disk compile cache (nodejs.org/api/module.html#module-compile-cache) for the action runs: the
 * first run compiles the 3.7 MB bundle and keeps the code, every later run of the test run loads it instead
 * of compiling again. Node checks each entry against the file's content, so a rebuilt dist/ is compiled
 * afresh. It lives in the test run's own temporary folder (tempRoot.mjs), removed at its end.
 */
const COMPILE_CACHE = join(tmpdir(), 'node-compile-cache')

export interface ActionRun {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
  readonly outputs: Record<string, string>
  readonly summary: string
}

/** A port nobody listens on now, so that concurrent test runs never share an emulator. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  await new Promise((done) => server.close(done))
  return port
}

/** Starts moto on its own port (the demo's default port stays free) and returns its URL. */
export function startEmulator(port: number): string {
  execFileSync('bash', [join(ROOT, 'scripts/emulator.sh'), 'start'], {
    env: { ...process.env, MOTO_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  return `http://127.0.0.1:${port}`
}

export function stopEmulator(port: number): void {
  execFileSync('bash', [join(ROOT, 'scripts/emulator.sh'), 'stop'], {
    env: { ...process.env, MOTO_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit']
  })
}

/** Parses the GITHUB_OUTPUT file format that @actions/core writes (`name<<delimiter` blocks). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!match) continue
    const [, name, delimiter] = match as unknown as [string, string, string]
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '')
    outputs[name] = value.join('\n')
  }
  return outputs
}

export interface RunOptions {
  readonly endpoint: string
  readonly inputs: Record<string, string>
  readonly env?: Record<string, string | undefined>
  /** Called once the process is running, e.g. to signal it. */
  readonly onSpawn?: (pid: number) => void
}

/** Runs dist/index.js with these inputs and waits for it to exit. */
export async function runAction(options: RunOptions): Promise<ActionRun> {
  const work = mkdtempSync(join(tmpdir(), 'rotel-action-'))
  const outputFile = join(work, 'output')
  const summaryFile = join(work, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const inputEnv = Object.fromEntries(
    Object.entries(options.inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])
  )
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? work,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_ACTIONS: 'true',
    // The report file goes into the run's own folder, not the machine's temporary folder.
    RUNNER_TEMP: work,
    AWS_ENDPOINT_URL: options.endpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_COMPILE_CACHE: COMPILE_CACHE,
    ...inputEnv
  }
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  const child = spawn(NODE_BINARY, [join(ROOT, 'dist/index.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  if (child.pid !== undefined) options.onSpawn?.(child.pid)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exitCode = await new Promise<number>((done) => child.on('close', (code) => done(code ?? -1)))
  return {
    exitCode,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8')
  }
}

/** Every byte the action emitted, except the ::add-mask:: commands that exist to carry secrets. */
export function emitted(run: ActionRun): string {
  const streams = `${run.stdout}\n${run.stderr}`
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')
  return `${streams}\n${run.summary}\n${JSON.stringify(run.outputs)}`
}

/** A function of a test fleet: its name and architecture. */
export interface FleetFunction {
  readonly name: string
  readonly architecture: 'x86_64' | 'arm64'
}

/**
 * A fleet in moto: the Rotel layers of both architectures mirrored into moto's account (`versions` of
 * each), the execution role, and the functions, each with one variable of its own.
 */
export async function createFleet(
  endpoint: string,
  region: string,
  functions: readonly FleetFunction[],
  versions: number
): Promise<void> {
  for (const [suffix, architecture] of [
    ['amd64', 'x86_64'],
    ['arm64', 'arm64']
  ] as const)
    await publishMirroredLayer(endpoint, {
      region,
      name: `rotel-extension-${suffix}-alpha`,
      versions,
      architectures: [architecture]
    })
  await ensureLambdaRole(endpoint)
  // A few at a time: moto is one process on the same cores.
  for (let start = 0; start < functions.length; start += 8)
    await Promise.all(
      functions
        .slice(start, start + 8)
        .map(({ name, architecture }) =>
          createSampleFunction(endpoint, { region, name, architecture, variables: { LOG_LEVEL: 'info' } })
        )
    )
}
