// Running the action (a snapshot of dist/index.js) the way the GitHub runner does – inputs as INPUT_*
// variables, outputs and summary through files – and running the peer (datadog-ci), both timed from
// spawn to exit.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Parses the GITHUB_OUTPUT file format that @actions/core writes (`name<<delimiter` blocks). */
export function parseOutputFile(text) {
  const outputs = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!match) continue
    const [, name, delimiter] = match
    const value = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '')
    outputs[name] = value.join('\n')
  }
  return outputs
}

/** Spawns a process, collects its output, and times it from spawn to exit (ms, high resolution). */
export function timedSpawn(command, args, { env, cwd, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now()
    const started = process.hrtime.bigint()
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      resolve({ exitCode: code ?? -1, signal, ms, startedAt, endedAt: Date.now(), stdout, stderr })
    })
  })
}

/** The environment GitHub's runner gives an action, with AWS pointed at `endpoint`; files in a new dir under `parent`. */
export function actionEnv({ endpoint, inputs, extra = {}, parent = tmpdir() }) {
  const work = mkdtempSync(join(parent, 'rotel-bench-run-'))
  const outputFile = join(work, 'output')
  const summaryFile = join(work, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: work,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_ACTIONS: 'true',
    // The report file goes here, and is removed with the run's folder.
    RUNNER_TEMP: work,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(endpoint ? { AWS_ENDPOINT_URL: endpoint } : {}),
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
    ...extra
  }
  return { env, work, outputFile, summaryFile }
}

/** Runs the action bundle with these inputs; returns exit code, wall time, outputs and the report's statuses. */
export async function runAction({ node, script, endpoint, inputs, env: extra = {}, timeoutMs }) {
  const { env, work, outputFile } = actionEnv({ endpoint, inputs, extra })
  try {
    const run = await timedSpawn(node, [script], { env, cwd: work, timeoutMs })
    const outputs = parseOutputFile(readFileSync(outputFile, 'utf8'))
    let report = []
    try {
      report = JSON.parse(outputs.report ?? '[]')
      // A large fleet's report is too big for a job output: the output then says where the file is.
      if (!Array.isArray(report)) report = JSON.parse(readFileSync(outputs['report-file'], 'utf8'))
    } catch {
      report = []
    }
    const statuses = {}
    for (const row of report) statuses[row.status] = (statuses[row.status] ?? 0) + 1
    return { ...run, outputs, report, statuses }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** Runs `datadog-ci lambda instrument` on these functions, as the issue describes. */
export async function runPeer({ node, cli, endpoint, functions, region, account, extensionVersion = '2', cwd, timeoutMs }) {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: cwd,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(endpoint ? { AWS_ENDPOINT_URL: endpoint } : {}),
    DATADOG_API_KEY: '0123456789abcdef0123456789abcdef',
    DATADOG_SITE: 'datadoghq.com',
    DISABLE_PLUGIN_AUTO_INSTALL: '1'
  }
  const args = [
    cli,
    'lambda',
    'instrument',
    ...functions.flatMap((name) => ['-f', name]),
    '-r',
    region,
    '-a',
    account,
    '--no-source-code-integration',
    '--no-upload-git-metadata',
    '-e',
    extensionVersion
  ]
  return timedSpawn(node, args, { env, cwd, timeoutMs })
}

/** The env and arguments of the peer's start-up measurement (no function given: it stops with an error). */
export function peerStartupCommand({ node, cli, cwd }) {
  return {
    argv: [node, cli, 'lambda', 'instrument', '-r', 'us-east-1', '-e', '2'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: cwd,
      DATADOG_API_KEY: '0123456789abcdef0123456789abcdef',
      DATADOG_SITE: 'datadoghq.com',
      DISABLE_PLUGIN_AUTO_INSTALL: '1'
    },
    cwd
  }
}
