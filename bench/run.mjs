#!/usr/bin/env node
// npm run bench [-- --quick] – the action's performance figures, each with its median and spread over
// repeated runs, printed as a table and written to bench/results.json. Not a test: nothing here
// passes or fails, although the table says which of the issue's targets the figures meet.
//
//   1. Start-up of dist/index.js (Node 24) to its validation error, beside `node -e 0`, beside a floor
//      bundle (@actions/core and the four AWS clients, built with ncc into a temp dir) and beside the
//      peer (datadog-ci); bundle sizes.
//   2. API calls of apply, check and remove on N = 1, 10, 100 functions, counted by the fault proxy:
//      the fixed cost per run (credentials, layer lookups) and the cost per function, first run and a
//      second run that changes nothing.
//   3. Layer lookup: GetLayerVersion calls of findLatestVersion (src/core/layerVersions.ts, transpiled into
//      a temp dir) for V = 1, 10, 100, 1000 versions, with and without gaps.
//   4. Fleet rollout: 100 functions against moto with a fixed latency per call, max-concurrency 1, 4,
//      8, 16, for apply (first run and no-change re-run) and check; the same at 16 with 20% of the
//      calls throttled; and at 16 with updates that take time to settle (as on Lambda; moto settles at once).
//   5. Peer: datadog-ci `lambda instrument` on the same 100 functions, same emulator and latency.
//   6. Only when asked (--only=envelope): the fleet under AWS's published envelope (the fault proxy's
//      `envelope`: quotas per API class, updates that settle in 2 s, lagged log stream times), N = 100,
//      300, 1000: apply with the test invocation and the default CloudWatch check, then check; and the
//      apply at 300 with 20% of calls additionally throttled (bench/lib/envelope.mjs).
//
// Options: --quick (one repetition of everything), --reps=N (fleet repetitions; default 3, the peer
// and settling runs 2, the throttled run 1), --only=startup,lookup,calls,fleet,envelope
// (sections; the fleet section includes peer, throttling and settling; without --only all but envelope),
// --envelope-fleet=N,N,… (default 100,300,1000; --quick: 100), --envelope-concurrency=N (default: the
// action's own default of max-concurrency), --no-peer, --latency=MS
// (default 50), --settle-ms=MS (default 1000), --fleet=N (default 100), --out=FILE (default
// bench/results.json; a run of the envelope section alone replaces only its part of an existing file),
// --readme (also replace the tables in bench/README-performance.md), --render=FILE (print the tables of an
// earlier results.json; measures nothing).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import os from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { node24 } from '../scripts/test-tools.mjs'

// The AWS SDK warns this orchestrator (on Node 20) about its Node version; the action runs on Node 24.
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name !== 'NodeVersionSupportWarning') console.error(String(warning))
})

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const BENCH = join(ROOT, 'bench')

const { resetEmulator } = await import('../scripts/emulator-fixtures.mjs')
const { startFaultProxy } = await import('../scripts/fault-proxy.mjs')
const { startFakeOidc } = await import('../scripts/fake-oidc.mjs')
const { summarize, formatMs, formatCount, ratio } = await import('./lib/stats.mjs')
const { countCalls, describeOps, timeline } = await import('./lib/calls.mjs')
const { startOtlpStub } = await import('./lib/otlp-stub.mjs')
const { runAction, runPeer, peerStartupCommand, actionEnv } = await import('./lib/processes.mjs')
const { ACCOUNT_ID, REGION, createFleet, publishLayers, resetFleet, countWithLayer, untagFleet } = await import('./lib/fleet.mjs')
const { sectionEnvelope, renderEnvelope } = await import('./lib/envelope.mjs')
const { DEFAULT_RATES } = await import('../scripts/aws-envelope.mjs')
const { measureStartup } = await import('./lib/startup.mjs')
const { importTypeScript, measureLookups, lookupBound } = await import('./lib/lookup.mjs')

// ---------------------------------------------------------------------------------------------
// Options

const SECTIONS = ['startup', 'lookup', 'calls', 'fleet', 'envelope']
// Sections that run without --only; the envelope section takes many minutes at 1,000 functions.
const DEFAULT_SECTIONS = ['startup', 'lookup', 'calls', 'fleet']

function parseArgs(argv) {
  const options = {
    quick: false,
    reps: undefined,
    only: undefined,
    peer: true,
    latencyMs: 50,
    settleMs: 1000,
    fleet: 100,
    out: join(BENCH, 'results.json'),
    readme: false
  }
  for (const arg of argv) {
    const [flag, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    switch (flag) {
      case '--quick':
        options.quick = true
        break
      case '--reps':
        options.reps = Number(value)
        break
      case '--only':
        options.only = new Set(String(value).split(','))
        // An unknown name would select nothing, and the empty results would still overwrite --out.
        for (const section of options.only)
          if (!SECTIONS.includes(section)) throw new Error(`unknown section "${section}" in --only (sections: ${SECTIONS.join(', ')})`)
        break
      case '--no-peer':
        options.peer = false
        break
      case '--latency':
        options.latencyMs = Number(value)
        break
      case '--settle-ms':
        options.settleMs = Number(value)
        break
      case '--fleet':
        options.fleet = Number(value)
        break
      case '--envelope-concurrency':
        options.envelopeConcurrency = String(value)
        break
      case '--envelope-fleet':
        options.envelopeFleet = String(value).split(',').map(Number)
        if (!options.envelopeFleet.every((n) => Number.isInteger(n) && n >= 1 && n <= 1000))
          throw new Error(`--envelope-fleet takes sizes from 1 to 1000 separated by commas, not "${value}"`)
        break
      case '--out':
        options.out = resolve(String(value))
        break
      case '--readme':
        options.readme = true
        break
      case '--render':
        options.render = resolve(String(value))
        break
      case '--help':
      case '-h':
        {
          const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1)
          console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'))
        }
        process.exit(0)
        break
      default:
        throw new Error(`unknown option ${arg} (see --help)`)
    }
  }
  const fleetReps = options.reps ?? (options.quick ? 1 : 3)
  // Within ~10 minutes on 2 cores: the throttled run alone takes 1–2 minutes (see the README).
  options.plan = {
    fleetReps,
    peerReps: Math.min(fleetReps, options.quick ? 1 : 2),
    throttleReps: 1,
    settleReps: Math.min(fleetReps, options.quick ? 1 : 2),
    callReps: 1,
    startupRounds: options.quick ? 5 : 15,
    peerStartupRounds: options.quick ? 2 : 5,
    concurrencies: [1, 4, 8, 16],
    callSizes: [1, 10, 100].filter((n) => n <= options.fleet).concat(options.fleet > 100 ? [options.fleet] : []),
    rotelVersions: 43
  }
  options.envelopeFleet ??= options.quick ? [100] : [100, 300, 1000]
  const wants = (section) => (options.only ? options.only.has(section) : DEFAULT_SECTIONS.includes(section))
  options.wants = wants
  return options
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const log = (message) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`)

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolvePort(port))
    })
  })
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex')

function dirBytes(dir) {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size
  }
  return total
}

/**
 * The machine's own node (the first on PATH outside this repo's node_modules: `npm run` puts
 * node_modules/.bin, with the `node` dev dependency's Node 24, first), when it is another version
 * than the action's runtime; null otherwise.
 */
function machineNode(runtimeVersion) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || resolve(dir).startsWith(join(ROOT, 'node_modules'))) continue
    const candidate = join(dir, 'node')
    if (!existsSync(candidate)) continue
    const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout?.trim()
    return version && version !== runtimeVersion ? { path: candidate, version } : null
  }
  return null
}

function machine(runtimeNode) {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : ''
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown'
  const nproc = (() => {
    try {
      return Number(execFileSync('nproc', { encoding: 'utf8' }).trim())
    } catch {
      return os.availableParallelism?.() ?? os.cpus().length
    }
  })()
  const motoEnv = join(ROOT, '.emulator/python-env')
  const moto = existsSync(motoEnv) ? (/^MOTO_VERSION=(.*)$/m.exec(readFileSync(motoEnv, 'utf8'))?.[1] ?? 'unknown') : 'unknown'
  const nodeRuntime = spawnSync(runtimeNode, ['--version'], { encoding: 'utf8' }).stdout.trim()
  const other = machineNode(nodeRuntime)
  return {
    nproc,
    cpuModel: model,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    nodeRuntime,
    nodeRuntimePath: runtimeNode.startsWith(ROOT) ? runtimeNode.slice(ROOT.length + 1) : runtimeNode,
    nodeHost: process.version,
    nodeMachine: other?.version ?? null,
    nodeMachinePath: other?.path ?? null,
    moto,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100)
  }
}

function gitInfo() {
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    } catch {
      return null
    }
  }
  const commit = git('rev-parse', '--short', 'HEAD')
  const distDirty = git('status', '--porcelain', '--', 'dist')
  return { commit, distMatchesCommit: distDirty === null ? null : distDirty === '' }
}

/** Runs a command, its output going to our stderr; throws when it fails. */
function runLoud(command, args, options = {}) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], ...options })
    child.stdout?.pipe(process.stderr)
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolveRun() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))))
  })
}

// ---------------------------------------------------------------------------------------------
// Preparation: a snapshot of dist (others may rebuild it meanwhile), the floor bundle, the peer

const PEER_PACKAGES = ['@datadog/datadog-ci@3.22.2', '@datadog/datadog-ci-plugin-lambda@3.22.2']
const PEER_DIR = join(BENCH, '.peer')
const PEER_CLI = join(PEER_DIR, 'node_modules/@datadog/datadog-ci/dist/cli.js')

async function ensurePeer() {
  const installed = (() => {
    try {
      return JSON.parse(readFileSync(join(PEER_DIR, 'node_modules/@datadog/datadog-ci/package.json'), 'utf8')).version
    } catch {
      return null
    }
  })()
  if (installed === '3.22.2' && existsSync(join(PEER_DIR, 'node_modules/@datadog/datadog-ci-plugin-lambda/package.json'))) return
  log(`installing the peer into bench/.peer: ${PEER_PACKAGES.join(' ')} (once; takes a few minutes)`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  await runLoud(npm, ['install', '--prefix', PEER_DIR, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', ...PEER_PACKAGES], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
}

async function buildFloor(temp) {
  const out = join(temp, 'floor')
  log('building the floor bundle with ncc (bench/floor/index.mjs)')
  const started = Date.now()
  await runLoud(join(ROOT, 'node_modules/.bin/ncc'), ['build', join(BENCH, 'floor/index.mjs'), '-o', out, '--target', 'es2022', '-q'], {
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const file = readdirSync(out).find((name) => /^index\.m?js$/.test(name))
  if (!file) throw new Error('ncc produced no index.js for the floor bundle')
  return { script: join(out, file), bytes: statSync(join(out, file)).size, totalBytes: dirBytes(out), buildMs: Date.now() - started }
}

// ---------------------------------------------------------------------------------------------
// The action's inputs

/** The inputs of a run; the OTLP endpoint is a local stub, so that apply's preflight record finds a listener. */
function inputsFor(names, mode, concurrency, otlpUrl, extra = {}) {
  return {
    mode,
    functions: names.join('\n'),
    'aws-region': REGION,
    'layer-account': ACCOUNT_ID,
    'otlp-endpoint': otlpUrl,
    'otlp-protocol': 'http',
    'otlp-headers': 'Authorization=bench-ingestion-key-0123456789',
    'test-invoke': 'false',
    'cloudwatch-check-seconds': '0',
    'annotate-files': 'false',
    'fail-on-drift': 'false',
    'pr-comment': 'false',
    'max-concurrency': String(concurrency),
    ...extra
  }
}

const ENV_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' }

// ---------------------------------------------------------------------------------------------
// Sections

/** Adds the OTLP preflight requests the stub received to a run's fixed calls (not AWS, but a round trip). */
function withOtlp(counts, otlp) {
  const preflight = otlp.requests.length
  if (preflight === 0) return counts
  return {
    ...counts,
    total: counts.total + preflight,
    fixed: counts.fixed + preflight,
    fixedByOp: { ...counts.fixedByOp, 'OTLP preflight': preflight }
  }
}

async function sectionStartup(ctx) {
  const { temp, runtimeNode, dist, floor, plan } = ctx
  const validationEnv = actionEnv({ inputs: {}, parent: temp }).env
  const peerCwd = mkdtempSync(join(temp, 'peer-cwd-'))
  const other = ctx.machine.nodeMachinePath ? { path: ctx.machine.nodeMachinePath, version: ctx.machine.nodeMachine } : null
  const commands = [
    { id: 'node-e0', label: `node -e 0 (${ctx.machine.nodeRuntime})`, argv: [runtimeNode, '-e', '0'], env: validationEnv },
    ...(other ? [{ id: 'node-e0-host', label: `node -e 0 (${other.version})`, argv: [other.path, '-e', '0'], env: validationEnv }] : []),
    { id: 'floor', label: 'floor bundle: @actions/core + 4 AWS clients', argv: [runtimeNode, floor.script], env: validationEnv },
    { id: 'dist', label: 'dist/index.js', argv: [runtimeNode, dist.script], env: validationEnv }
  ]
  if (ctx.options.peer) {
    for (const [id, node, version] of [
      ...(other ? [['peer-host', other.path, other.version]] : []),
      ['peer-runtime', runtimeNode, ctx.machine.nodeRuntime]
    ]) {
      const command = peerStartupCommand({ node, cli: PEER_CLI, cwd: peerCwd })
      commands.push({ id, label: `datadog-ci lambda instrument, no functions (${version})`, ...command, rounds: plan.peerStartupRounds })
    }
  }
  // What each command says when it stops: checked once, so that the figures time the intended error.
  const expected = {
    dist: /::error::.*functions/,
    floor: /::error::.*functions/,
    'peer-host': /No functions specified/,
    'peer-runtime': /No functions specified/
  }
  const checks = {}
  for (const command of commands) {
    const run = spawnSync(command.argv[0], command.argv.slice(1), { env: command.env, cwd: command.cwd, encoding: 'utf8' })
    const text = `${run.stdout}\n${run.stderr}`
    const pattern = expected[command.id]
    checks[command.id] = { exitCode: run.status, says: pattern ? pattern.test(text) : true }
    if (pattern && (!pattern.test(text) || run.status !== 1)) log(`warning: ${command.id} did not stop with the expected error: ${text.trim().slice(-300)}`)
  }
  log(`start-up: ${plan.startupRounds} interleaved rounds of ${commands.length} commands`)
  const measured = await measureStartup(commands, plan.startupRounds, {
    onProgress: (round, total) => round % 5 === 0 && round < total && log(`start-up: round ${round}/${total}`)
  })
  for (const [id, check] of Object.entries(checks)) Object.assign(measured.results[id], { check })
  return measured
}

async function sectionLookup(ctx) {
  const out = mkdtempSync(join(ctx.temp, 'layer-versions-'))
  const module = await importTypeScript(ROOT, 'src/core/layerVersions.ts', out)
  const rows = await measureLookups(module.findLatestVersion, { sizes: [1, 10, 100, 1000], hints: [1, 41] })
  // The fleet's layers: what one lookup of them costs, to compare with the calls a whole run makes. They
  // are mirrored into the emulator's account, where the action starts from version 1 (its hints are
  // the upstream account's numbering).
  const fleetLayer = await measureLookups(module.findLatestVersion, { sizes: [ctx.plan.rotelVersions], hints: [1] })
  return { rows, fleetLayerLookupCalls: fleetLayer[0].byHint[1].calls, findLatestVersion: module.findLatestVersion }
}

/** Item 2: calls per run, through a proxy without latency; credentials through (fake) GitHub OIDC. */
async function sectionCalls(ctx) {
  const { endpoint, names, plan } = ctx
  const proxy = await startFaultProxy({ target: endpoint, latencyMs: 0 })
  const otlp = await startOtlpStub()
  const oidc = await startFakeOidc({ requestToken: 'bench-request-token' })
  const oidcEnv = { ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'bench-request-token' }
  const sequence = [
    ['check', 'first (drifted)'],
    ['apply', 'first'],
    ['apply', 'second (no change)'],
    ['check', 'second (in sync)'],
    ['remove', 'first'],
    ['remove', 'second (no change)']
  ]
  const rows = []
  try {
    for (let rep = 0; rep < plan.callReps; rep++) {
      for (const n of plan.callSizes) {
        const subset = names.slice(0, n)
        await resetFleet(endpoint, subset)
        for (const [mode, run] of sequence) {
          proxy.reset()
          otlp.reset()
          const result = await runAction({
            node: ctx.runtimeNode,
            script: ctx.dist.script,
            endpoint: proxy.url,
            inputs: inputsFor(subset, mode, 8, otlp.url, { 'role-to-assume': `arn:aws:iam::${ACCOUNT_ID}:role/bench-deploy` }),
            env: oidcEnv
          })
          const counts = withOtlp(countCalls(proxy.calls, n), otlp)
          rows.push({ rep, n, mode, run, exitCode: result.exitCode, statuses: result.statuses, wallMs: result.ms, ...counts })
          if (result.exitCode !== 0) log(`warning: ${mode} (${run}) on ${n} exited ${result.exitCode}: ${result.stderr.slice(-300)}`)
        }
        log(`calls: N=${n} done (rep ${rep + 1}/${plan.callReps})`)
      }
    }
  } finally {
    await proxy.close()
    await otlp.close()
    await oidc.close()
  }
  // One row per (mode, run, N), with the spread of the repetitions.
  const grouped = new Map()
  for (const row of rows) {
    const key = `${row.mode}|${row.run}|${row.n}`
    if (!grouped.has(key)) grouped.set(key, [])
    grouped.get(key).push(row)
  }
  return [...grouped.values()].map((group) => {
    const first = group[0]
    return {
      mode: first.mode,
      run: first.run,
      n: first.n,
      reps: group.length,
      exitCodes: [...new Set(group.map((r) => r.exitCode))],
      statuses: first.statuses,
      total: summarize(group.map((r) => r.total)),
      fixed: summarize(group.map((r) => r.fixed)),
      perFunction: summarize(group.map((r) => r.perFunction)),
      maxPerFunction: Math.max(...group.map((r) => r.maxPerFunction)),
      fixedByOp: first.fixedByOp,
      perFunctionByOp: first.perFunctionByOp,
      layerCallsByRegionAndName: first.layerCallsByRegionAndName,
      wallMs: summarize(group.map((r) => r.wallMs))
    }
  })
}

/** Items 4 and 5: the 100-function rollout with latency, ours at each concurrency, the peer, throttling, settling. */
async function sectionFleet(ctx) {
  const { endpoint, names, plan, options } = ctx
  const samples = []
  const otlp = await startOtlpStub({ latencyMs: options.latencyMs })
  const record = (scenario, step, concurrency, result, proxy, extra = {}) => {
    const counts = withOtlp(countCalls(proxy.calls, names.length), otlp)
    const failed = (result.statuses?.failed ?? 0) + (result.statuses?.['rolled-back'] ?? 0)
    const time = timeline(proxy.calls, result, options.latencyMs)
    samples.push({ scenario, step, concurrency, wallMs: result.ms, exitCode: result.exitCode, statuses: result.statuses ?? null, failed, time, ...counts, ...extra })
    if (result.exitCode !== 0)
      log(`warning: ${scenario} ${step} c=${concurrency ?? '-'} exited ${result.exitCode}: ${(result.stderr || result.stdout).trim().slice(-400)}`)
  }
  const action = (proxy, mode, concurrency) =>
    runAction({
      node: ctx.runtimeNode,
      script: ctx.dist.script,
      endpoint: proxy.url,
      inputs: inputsFor(names, mode, concurrency, otlp.url),
      env: ENV_CREDENTIALS
    })

  const latency = await startFaultProxy({ target: endpoint, latencyMs: options.latencyMs })
  // Updates that settle by wall time, from the proxy's envelope with its rates switched off.
  const unlimited = Object.fromEntries(Object.keys(DEFAULT_RATES).map((apiClass) => [apiClass, 0]))
  const settling = await startFaultProxy({
    target: endpoint,
    latencyMs: options.latencyMs,
    envelope: { settleMs: options.settleMs, rates: unlimited }
  })
  const peerCwd = mkdtempSync(join(ctx.temp, 'peer-run-'))
  try {
    for (let rep = 0; rep < plan.fleetReps; rep++) {
      // Ours at each concurrency: a first run on the bare fleet, a re-run that changes nothing, a check.
      for (const concurrency of plan.concurrencies) {
        await resetFleet(endpoint, names)
        for (const [mode, step] of [
          ['apply', 'apply, first run'],
          ['apply', 'apply, no-change re-run'],
          ['check', 'check, in sync']
        ]) {
          latency.reset()
          otlp.reset()
          record('ours', step, concurrency, await action(latency, mode, concurrency), latency)
        }
        log(`fleet: c=${concurrency} done (rep ${rep + 1}/${plan.fleetReps})`)
      }
      // The peer, one first run and one re-run.
      if (options.peer && rep < plan.peerReps) {
        await resetFleet(endpoint, names)
        await untagFleet(endpoint, names, ['dd_sls_ci'])
        for (const step of ['first run', 'no-change re-run']) {
          latency.reset()
          otlp.reset()
          const result = await runPeer({
            node: ctx.runtimeNode,
            cli: PEER_CLI,
            endpoint: latency.url,
            functions: names,
            region: REGION,
            account: ACCOUNT_ID,
            cwd: peerCwd
          })
          record('peer', step, null, result, latency)
        }
        const instrumented = await countWithLayer(endpoint, names, ':layer:Datadog-Extension')
        samples[samples.length - 1].instrumented = instrumented
        if (instrumented !== names.length) log(`warning: the peer left ${names.length - instrumented} functions without its layer`)
        log(`fleet: peer done (rep ${rep + 1}/${plan.fleetReps})`)
      }
      // Throttling: 20% of all calls answered 429 ThrottlingException, seeded per repetition.
      if (rep < plan.throttleReps) {
        const throttled = await startFaultProxy({
          target: endpoint,
          latencyMs: options.latencyMs,
          seed: rep + 1,
          rules: [{ probability: 0.2, fault: 'throttle' }]
        })
        try {
          await resetFleet(endpoint, names)
          for (const [mode, step] of [
            ['apply', 'apply, first run, 20% throttled'],
            ['check', 'check, in sync, 20% throttled']
          ]) {
            throttled.reset()
            otlp.reset()
            record('throttled', step, 16, await action(throttled, mode, 16), throttled)
          }
          const withRotel = await countWithLayer(endpoint, names, ':layer:rotel-extension-')
          samples[samples.length - 2].instrumented = withRotel
        } finally {
          await throttled.close()
        }
        log(`fleet: throttled run done (rep ${rep + 1}/${plan.fleetReps})`)
      }
      // Updates that settle after settleMs (InProgress until then), as on Lambda.
      if (rep < plan.settleReps) {
        await resetFleet(endpoint, names)
        settling.reset()
        otlp.reset()
        record('settling', `apply, first run, updates settle in ${options.settleMs} ms`, 16, await action(settling, 'apply', 16), settling)
        log(`fleet: settling run done (rep ${rep + 1}/${plan.fleetReps})`)
      }
    }
  } finally {
    await latency.close()
    await settling.close()
    await otlp.close()
  }
  // Group by scenario, step and concurrency.
  const grouped = new Map()
  for (const sample of samples) {
    const key = `${sample.scenario}|${sample.step}|${sample.concurrency}`
    if (!grouped.has(key)) grouped.set(key, [])
    grouped.get(key).push(sample)
  }
  return [...grouped.values()].map((group) => {
    const first = group[0]
    const opsSum = {}
    for (const s of group) for (const [op, count] of Object.entries(s.perFunctionByOp)) opsSum[op] = (opsSum[op] ?? 0) + count / group.length
    const fixedSum = {}
    for (const s of group) for (const [op, count] of Object.entries(s.fixedByOp)) fixedSum[op] = (fixedSum[op] ?? 0) + count / group.length
    return {
      scenario: first.scenario,
      step: first.step,
      concurrency: first.concurrency,
      reps: group.length,
      wallMs: summarize(group.map((s) => s.wallMs)),
      exitCodes: [...new Set(group.map((s) => s.exitCode))],
      failed: summarize(group.map((s) => s.failed)),
      statuses: group.map((s) => s.statuses),
      total: summarize(group.map((s) => s.total)),
      fixed: summarize(group.map((s) => s.fixed)),
      perFunction: summarize(group.map((s) => s.perFunction)),
      maxPerFunction: Math.max(...group.map((s) => s.maxPerFunction)),
      perFunctionByOp: opsSum,
      fixedByOp: fixedSum,
      faults: summarize(group.map((s) => s.faults)),
      toFirstCallMs: summarize(group.map((s) => s.time?.toFirstCallMs)),
      callSpanMs: summarize(group.map((s) => s.time?.callSpanMs)),
      afterLastCallMs: summarize(group.map((s) => s.time?.afterLastCallMs)),
      emulatorMsPerCall: summarize(group.map((s) => s.time?.emulatorMsPerCall)),
      instrumented: group.map((s) => s.instrumented).filter((x) => x !== undefined)
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Targets

function evaluateTargets(results) {
  const targets = []
  const add = (id, target, measured, met, note = '') => targets.push({ id, target, measured, met, note })
  const fleet = results.fleet ?? []
  const find = (scenario, step, concurrency) =>
    fleet.find((r) => r.scenario === scenario && r.step.startsWith(step) && (concurrency === undefined || r.concurrency === concurrency))

  if (results.lookup) {
    const over = []
    for (const row of results.lookup.rows)
      for (const [hint, r] of Object.entries(row.byHint)) if (r.calls > row.bound || !r.correct) over.push({ ...row, hint: Number(hint), r })
    const noHintOver = over.filter((o) => o.hint === 1)
    add(
      'lookup-bound',
      'Layer lookup ≤ 2·⌈log2 V⌉+2 GetLayerVersion calls (V = 1…1000, with and without gaps)',
      over.length === 0
        ? 'all within'
        : over.map((o) => `V=${o.versions}${o.gaps ? ` with ${o.gaps} gaps` : ''}, hint ${o.hint}: ${o.r.calls} > ${o.bound}`).join('; '),
      over.length === 0,
      noHintOver.length < over.length ? 'hint 41 is the shipped start for the alpha layer names' : ''
    )
  }
  if (results.calls) {
    const applyRows = results.calls.filter((r) => r.mode === 'apply' || r.mode === 'check')
    const perRun = applyRows.map((r) => ({ n: r.n, layer: r.layerCallsByRegionAndName }))
    const expected = results.lookup?.fleetLayerLookupCalls
    const extra = perRun.flatMap((r) => Object.entries(r.layer).filter(([, calls]) => expected !== undefined && calls !== expected).map(([key, calls]) => `N=${r.n} ${key}: ${calls}`))
    add(
      'one-lookup',
      'One layer lookup per (region, layer name) per run',
      expected === undefined
        ? 'lookup section not run'
        : extra.length === 0
          ? `GetLayerVersion per (region, layer) = ${expected} at every N (one lookup of the mirrored V=43, from version 1, costs ${expected})`
          : `more than one lookup: ${extra.join(', ')}`,
      expected !== undefined && extra.length === 0
    )
    const check = results.calls.find((r) => r.mode === 'check' && r.run.startsWith('second') && r.n === Math.max(...results.calls.map((x) => x.n)))
    if (check)
      add(
        'check-reads',
        'check on in-sync functions: 1 read per function',
        `${formatCount(check.perFunction)} call per function (${describeOps(check.perFunctionByOp)}) at N=${check.n}`,
        check.perFunction.max <= 1
      )
  }
  const c1 = find('ours', 'apply, first run', 1)
  const c16 = find('ours', 'apply, first run', 16)
  const peer1 = find('peer', 'first run')
  const peer2 = find('peer', 'no-change re-run')
  const rerun16 = find('ours', 'apply, no-change re-run', 16)
  const rerun8 = find('ours', 'apply, no-change re-run', 8)
  if (c1 && c16) {
    const speedup = ratio(c1.wallMs, c16.wallMs)
    add('c16-vs-c1', 'apply, 100 functions, 50 ms/call: concurrency 16 ≥ 10× faster than 1', `${speedup.toFixed(2)}× (${formatMs(c16.wallMs, { spread: false })} vs ${formatMs(c1.wallMs, { spread: false })}; spread: ${formatMs(c16.wallMs)} vs ${formatMs(c1.wallMs)})`, speedup >= 10)
  }
  if (c16 && peer1) {
    const speedup = ratio(peer1.wallMs, c16.wallMs)
    add('c16-vs-peer', 'apply at concurrency 16 ≥ 10× faster than the peer', `${speedup.toFixed(2)}× (${formatMs(c16.wallMs, { spread: false })} vs ${formatMs(peer1.wallMs, { spread: false })}; spread: ${formatMs(c16.wallMs)} vs ${formatMs(peer1.wallMs)})`, speedup >= 10)
  }
  if (c16) {
    const settle = find('settling', 'apply, first run', 16)
    add(
      'calls-per-function',
      'apply: ≤ 3 calls per function (read, update, one wait poll)',
      `${formatCount(c16.perFunction)} against moto (${describeOps(c16.perFunctionByOp)}; moto says Successful at once, so no poll)` +
        (settle ? `; ${formatCount(settle.perFunction)} when updates settle in ${results.options.settleMs} ms (${describeOps(settle.perFunctionByOp)})` : ''),
      c16.maxPerFunction <= 3 && (!settle || settle.maxPerFunction <= 3)
    )
  }
  if (rerun16 && peer2) {
    const share = ratio(rerun16.wallMs, peer2.wallMs)
    const share8 = rerun8 ? ratio(rerun8.wallMs, peer2.wallMs) : null
    add(
      'rerun-vs-peer',
      'no-change re-run ≤ 1/5 of the peer\'s re-run time, 1 read per function',
      `c=16: ${formatMs(rerun16.wallMs, { spread: false })} = 1/${(1 / share).toFixed(2)} of ${formatMs(peer2.wallMs, { spread: false })}` +
        (share8 ? `; c=8 (default): 1/${(1 / share8).toFixed(2)}` : '') +
        `; ${formatCount(rerun16.perFunction)} call per function (${describeOps(rerun16.perFunctionByOp)})`,
      share <= 0.2 && rerun16.maxPerFunction <= 1
    )
  }
  if (results.startup) {
    const { dist, floor } = results.startup.results
    const wall = ratio(dist.wallMs, floor.wallMs)
    const cpu = ratio(dist.cpuMs, floor.cpuMs)
    add(
      'startup',
      'start-up within 1.3× of the floor bundle',
      `wall ${wall.toFixed(2)}× (${formatMs(dist.wallMs, { spread: false })} vs ${formatMs(floor.wallMs, { spread: false })})` + (cpu ? `, CPU ${cpu.toFixed(2)}×` : ''),
      wall <= 1.3
    )
  }
  const throttled = find('throttled', 'apply, first run', 16)
  const throttledCheck = find('throttled', 'check', 16)
  if (throttled) {
    const failures = throttled.failed.max + (throttledCheck?.failed.max ?? 0)
    const exits = [...throttled.exitCodes, ...(throttledCheck?.exitCodes ?? [])]
    const instrumented = throttled.instrumented.length ? Math.min(...throttled.instrumented) : null
    add(
      'throttling',
      'throttling (20% of calls) at concurrency 16 handled without failures',
      `${failures} failed functions, exit codes ${[...new Set(exits)].join('/')}, ${formatCount(throttled.faults)} throttled calls per apply run; ${instrumented ?? '?'}/100 instrumented; apply ${formatMs(throttled.wallMs, { spread: false })} vs ${formatMs(c16?.wallMs, { spread: false })} unthrottled`,
      failures === 0 && exits.every((code) => code === 0)
    )
  }
  return targets
}

// ---------------------------------------------------------------------------------------------
// The table

function failedCell(row) {
  const exits = row.exitCodes.filter((code) => code !== 0)
  return `${formatCount(row.failed)}${exits.length ? ` (exit ${row.exitCodes.join('/')})` : ''}`
}

function renderTables(results) {
  const lines = []
  const { machine: m, options } = results
  const push = (...rows) => lines.push(...rows)
  push(
    `Measured ${results.date} on ${m.nproc} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.kernel}; action runtime Node ${m.nodeRuntime.replace(/^v/, '')} (${m.nodeRuntimePath}), bench host Node ${m.nodeHost.replace(/^v/, '')}${m.nodeMachine ? `, machine's node ${m.nodeMachine.replace(/^v/, '')}` : ''}; moto ${m.moto}; dist/index.js ${results.dist.sha256.slice(0, 12)} (commit ${results.git.commit ?? '?'}${results.git.distMatchesCommit === false ? ', dist modified' : ''}).`,
    `Load average (1/5/15 min) at start ${m.loadAverageAtStart.join(' / ')}, at end ${results.loadAverageAtEnd.join(' / ')}: other work shared the ${m.nproc} cores, so read the spread (min–max over n runs) as well as the median. ${options.quick ? 'Quick run (--quick): fewer repetitions.' : ''}`.trim(),
    ''
  )
  if (results.startup) {
    const r = results.startup.results
    push('#### 1. Start-up (process start → exit on a validation error)', '', '| command | wall time | CPU time (user+sys) |', '| --- | --- | --- |')
    for (const id of ['node-e0', 'node-e0-host', 'floor', 'dist', 'peer-host', 'peer-runtime'])
      if (r[id]) push(`| ${r[id].label} | ${formatMs(r[id].wallMs)} | ${formatMs(r[id].cpuMs)} |`)
    const wall = ratio(r.dist.wallMs, r.floor.wallMs)
    const cpu = ratio(r.dist.cpuMs, r.floor.cpuMs)
    push(
      '',
      `dist/index.js ÷ floor: wall ${wall?.toFixed(2)}×, CPU ${cpu?.toFixed(2) ?? '–'}× (target ≤ 1.3×). Above \`node -e 0\`: dist +${(r.dist.wallMs.median - r['node-e0'].wallMs.median).toFixed(0)} ms, floor +${(r.floor.wallMs.median - r['node-e0'].wallMs.median).toFixed(0)} ms.`,
      `Bundle: dist/index.js ${(results.dist.bytes / 1024).toFixed(0)} KiB (dist/ ${(results.dist.totalBytes / 1024).toFixed(0)} KiB with licenses.txt); floor bundle ${(results.floor.bytes / 1024).toFixed(0)} KiB. Timer: ${results.startup.timer}.`,
      ''
    )
  }
  if (results.calls) {
    push(
      '#### 2. API calls per run (fault-proxy call log; credentials through GitHub OIDC → STS)',
      '',
      `Fleet: nodejs20.x functions, every other one arm64 (two layer names), Rotel layers mirrored with ${results.options.plan.rotelVersions} versions; max-concurrency 8, test-invoke false. Fixed = calls naming no function.`,
      '',
      '| mode, run | N | calls | fixed per run | per function |',
      '| --- | ---: | ---: | --- | --- |'
    )
    for (const row of results.calls) {
      const status = Object.entries(row.statuses).map(([s, c]) => `${c} ${s}`).join(', ')
      push(
        `| ${row.mode}, ${row.run} | ${row.n} | ${formatCount(row.total)} | ${formatCount(row.fixed)}: ${describeOps(row.fixedByOp)} | ${formatCount(row.perFunction)}: ${describeOps(row.perFunctionByOp)} ${status ? `(${status})` : ''} |`
      )
    }
    const reps = results.calls[0]?.reps ?? 1
    push('', `Each row: ${reps} repetition${reps === 1 ? '' : 's'}; a range appears where they differed. With env credentials (no role-to-assume) the AssumeRoleWithWebIdentity call is not made.`, '')
  }
  if (results.lookup) {
    push(
      '#### 3. Layer lookup (findLatestVersion, counting fake probe)',
      '',
      'Gaps: about one version in five deleted, never two in a row, and always V−1 (the latest sits above a hole). Hint 1 is the start for any layer name; 41 is the shipped start for `rotel-extension-{amd64,arm64}-alpha`.',
      '',
      '| V | gaps | calls, hint 1 | calls, hint 41 | bound 2·⌈log2 V⌉+2 |',
      '| ---: | ---: | ---: | ---: | ---: |'
    )
    const mark = (r, bound) => `${r.calls}${r.calls > bound ? ' ✗' : ''}${r.correct ? '' : ' (wrong result)'}`
    for (const row of results.lookup.rows) push(`| ${row.versions} | ${row.gaps} | ${mark(row.byHint[1], row.bound)} | ${mark(row.byHint[41], row.bound)} | ${row.bound} |`)
    push('', 'Pure function, deterministic: one run each.', '')
  }
  if (results.fleet) {
    push(
      `#### 4. Fleet rollout: ${options.fleet} functions, ${options.latencyMs} ms added to every call, test-invoke false`,
      '',
      '| run | max-concurrency | wall time | vs concurrency 1 | calls per function | fixed calls | failed |',
      '| --- | ---: | --- | ---: | --- | ---: | ---: |'
    )
    const ours = results.fleet.filter((r) => r.scenario === 'ours')
    const base = (step) => ours.find((r) => r.step === step && r.concurrency === 1)
    for (const step of ['apply, first run', 'apply, no-change re-run', 'check, in sync'])
      for (const row of ours.filter((r) => r.step === step)) {
        const speedup = ratio(base(step)?.wallMs, row.wallMs)
        push(`| ${step} | ${row.concurrency} | ${formatMs(row.wallMs)} | ${speedup ? `${speedup.toFixed(1)}×` : '–'} | ${formatCount(row.perFunction)}: ${describeOps(row.perFunctionByOp)} | ${formatCount(row.fixed)} | ${failedCell(row)} |`)
      }
    for (const row of results.fleet.filter((r) => r.scenario === 'throttled' || r.scenario === 'settling'))
      push(
        `| ${row.step} | ${row.concurrency} | ${formatMs(row.wallMs)} | – | ${formatCount(row.perFunction)}: ${describeOps(row.perFunctionByOp)}${row.faults?.max ? ` (${formatCount(row.faults)} throttled per run, retried)` : ''} | ${formatCount(row.fixed)} | ${failedCell(row)} |`
      )
    push(
      '',
      'Calls per function count every attempt the emulator saw (a throttled call and its retry are two). Fixed calls: GetLayerVersion, and the OTLP preflight of apply (one request to the local stub, which also waits the latency).',
      ''
    )
    push(
      '##### Where the time goes (medians; from the proxy\'s call log)',
      '',
      '| run | max-concurrency | spawn → first AWS call | first call → last answer | last answer → exit | emulator time per call, latency excluded |',
      '| --- | ---: | ---: | ---: | ---: | ---: |'
    )
    const ms = (stats) => (stats ? `${stats.median.toFixed(0)} ms` : '–')
    for (const row of results.fleet)
      if (row.scenario !== 'ours' || row.concurrency === 1 || row.concurrency === 16)
        push(`| ${row.scenario === 'peer' ? `peer, ${row.step}` : row.step} | ${row.concurrency ?? '–'} | ${ms(row.toFirstCallMs)} | ${ms(row.callSpanMs)} | ${ms(row.afterLastCallMs)} | ${ms(row.emulatorMsPerCall)} |`)
    push('')
    const peer = results.fleet.filter((r) => r.scenario === 'peer')
    if (peer.length) {
      push(
        `#### 5. Peer: datadog-ci 3.22.2 \`lambda instrument -e 2\`, same ${options.fleet} functions, emulator and latency (Node ${results.machine.nodeRuntime.replace(/^v/, '')})`,
        '',
        '| run | wall time | calls per function | fixed calls | ours at 16 (8) | peer ÷ ours at 16 |',
        '| --- | --- | --- | ---: | --- | ---: |'
      )
      for (const row of peer) {
        const oursStep = row.step === 'first run' ? 'apply, first run' : 'apply, no-change re-run'
        const o16 = ours.find((r) => r.step === oursStep && r.concurrency === 16)
        const o8 = ours.find((r) => r.step === oursStep && r.concurrency === 8)
        const x = ratio(row.wallMs, o16?.wallMs)
        push(`| ${row.step} | ${formatMs(row.wallMs)} | ${formatCount(row.perFunction)}: ${describeOps(row.perFunctionByOp)} | ${formatCount(row.fixed)} | ${formatMs(o16?.wallMs, { spread: false })} (${formatMs(o8?.wallMs, { spread: false })}) | ${x ? `${x.toFixed(1)}×` : '–'} |`)
      }
      push('')
    }
  }
  if (results.targets?.length) {
    push('#### Targets', '', '| target | measured | met |', '| --- | --- | :---: |')
    for (const t of results.targets) push(`| ${t.target} | ${t.measured}${t.note ? ` (${t.note})` : ''} | ${t.met ? 'yes' : '**no**'} |`)
    push('')
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------
// Main

/** Prints the tables (and with --readme puts them into bench/README-performance.md). */
function publish(results, options, measured = SECTIONS) {
  const table = renderTables(results)
  console.log(table)
  const envelopeTable = results.envelope ? renderEnvelope(results.envelope) : null
  if (envelopeTable) console.log(envelopeTable)
  if (results.durationSeconds !== undefined) console.log(`(bench took ${results.durationSeconds} s)`)
  if (options.readme) {
    const readme = join(BENCH, 'README-performance.md')
    let text = readFileSync(readme, 'utf8')
    const replace = (name, content) => {
      const begin = `<!-- bench:${name}:begin -->`
      const end = `<!-- bench:${name}:end -->`
      if (!text.includes(begin) || !text.includes(end)) throw new Error(`${readme} has no ${begin} … ${end} block`)
      text = `${text.slice(0, text.indexOf(begin) + begin.length)}\n${content}\n${text.slice(text.indexOf(end))}`
      log(`replaced the ${name} block in ${readme}`)
    }
    if (measured.some((section) => DEFAULT_SECTIONS.includes(section))) replace('table', table)
    if (envelopeTable && measured.includes('envelope')) replace('envelope', envelopeTable)
    writeFileSync(readme, text)
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  if (options.render) {
    // The tables of an earlier run, from its results.json: nothing is measured.
    const results = JSON.parse(readFileSync(options.render, 'utf8'))
    results.targets = evaluateTargets(results)
    publish(results, options)
    return
  }
  const plan = options.plan
  const startedAt = Date.now()
  const runtimeNode = node24()
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/index.js is missing: run npm run build first')
  const temp = mkdtempSync(join(os.tmpdir(), 'rotel-bench-'))
  let port
  let emulatorStarted = false
  const stopEmulator = () => {
    if (!emulatorStarted) return
    emulatorStarted = false
    try {
      execFileSync('bash', [join(ROOT, 'scripts/emulator.sh'), 'stop'], { env: { ...process.env, MOTO_PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] })
    } catch (error) {
      log(`could not stop the emulator on port ${port}: ${error.message}`)
    }
  }
  const onSignal = (signal) => {
    log(`${signal}: stopping the emulator and leaving`)
    stopEmulator()
    rmSync(temp, { recursive: true, force: true })
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  try {
    // dist may be rebuilt by others while the bench runs: every run uses this one copy.
    const distDir = join(temp, 'dist')
    cpSync(join(ROOT, 'dist'), distDir, { recursive: true })
    const dist = {
      script: join(distDir, 'index.js'),
      sha256: sha256(join(distDir, 'index.js')),
      bytes: statSync(join(distDir, 'index.js')).size,
      totalBytes: dirBytes(distDir)
    }
    const results = {
      date: new Date().toISOString(),
      machine: machine(runtimeNode),
      git: gitInfo(),
      options: { quick: options.quick, latencyMs: options.latencyMs, settleMs: options.settleMs, fleet: options.fleet, peer: options.peer, plan },
      dist: { sha256: dist.sha256, bytes: dist.bytes, totalBytes: dist.totalBytes }
    }
    log(`machine: ${results.machine.nproc} × ${results.machine.cpuModel}, load ${results.machine.loadAverageAtStart.join(' ')}; runtime ${results.machine.nodeRuntime}`)
    const ctx = { options, plan, temp, runtimeNode, dist, machine: results.machine }

    if (options.peer && (options.wants('startup') || options.wants('fleet'))) await ensurePeer()
    if (options.wants('startup')) {
      ctx.floor = await buildFloor(temp)
      results.floor = { bytes: ctx.floor.bytes, totalBytes: ctx.floor.totalBytes, buildMs: ctx.floor.buildMs }
      results.startup = await sectionStartup(ctx)
      log('start-up done')
    }
    if (options.wants('lookup') || options.wants('calls')) {
      const lookup = await sectionLookup(ctx)
      results.lookup = { rows: lookup.rows, fleetLayerLookupCalls: lookup.fleetLayerLookupCalls }
      log('layer lookup done')
    }
    if (options.wants('calls') || options.wants('fleet') || options.wants('envelope')) {
      port = await freePort()
      execFileSync('bash', [join(ROOT, 'scripts/emulator.sh'), 'start'], { env: { ...process.env, MOTO_PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] })
      emulatorStarted = true
      const endpoint = `http://127.0.0.1:${port}`
      ctx.endpoint = endpoint
      log(`emulator on ${endpoint}: publishing layers and creating ${options.fleet} functions`)
      await resetEmulator(endpoint)
      await publishLayers(endpoint, { rotelVersions: plan.rotelVersions, peer: options.peer })
      const fleetSize = Math.max(options.fleet, ...(options.wants('envelope') ? options.envelopeFleet : []))
      ctx.allNames = await createFleet(endpoint, fleetSize)
      ctx.names = ctx.allNames.slice(0, options.fleet)
      ctx.git = results.git
      if (options.wants('calls')) results.calls = await sectionCalls(ctx)
      if (options.wants('fleet')) results.fleet = await sectionFleet(ctx)
      if (options.wants('envelope')) {
        const otlp = await startOtlpStub({ latencyMs: options.latencyMs })
        try {
          results.envelope = await sectionEnvelope(ctx, { inputsFor, otlp, credentials: ENV_CREDENTIALS, log })
        } finally {
          await otlp.close()
        }
      }
      stopEmulator()
    }
    results.loadAverageAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100)
    results.durationSeconds = Math.round((Date.now() - startedAt) / 1000)
    const measured = SECTIONS.filter((section) => options.wants(section))
    if (measured.length === 1 && measured[0] === 'envelope' && existsSync(options.out)) {
      // The envelope section alone: the other sections of the file stay as they were measured.
      const earlier = JSON.parse(readFileSync(options.out, 'utf8'))
      earlier.envelope = results.envelope
      writeFileSync(options.out, `${JSON.stringify(earlier, null, 2)}\n`)
      log(`wrote the envelope section into ${options.out}`)
      publish({ ...earlier, durationSeconds: results.durationSeconds }, options, measured)
      return
    }
    results.targets = evaluateTargets(results)
    writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`)
    log(`wrote ${options.out}`)
    publish(results, options, measured)
  } finally {
    stopEmulator()
    rmSync(temp, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  process.exitCode = 1
})
