// Start-up: wall time from process start to exit, and the CPU time the process used, for a few
// commands measured in interleaved rounds (A B C, A B C, …) so that a change in the machine's load
// falls on all of them alike. bash times each run: $EPOCHREALTIME around the command (bash's own
// start-up is outside the measurement) and `times` for the child's user+system CPU.
import { spawn, spawnSync } from 'node:child_process'
import { summarize } from './stats.mjs'

const SNIPPET = 's=$EPOCHREALTIME; "$@" </dev/null >/dev/null 2>&1; rc=$?; e=$EPOCHREALTIME; echo "T $s $e $rc"; times'

/** Whether bash here has $EPOCHREALTIME (bash 5+); otherwise the wall time is taken in Node, without CPU time. */
export function bashTimerAvailable() {
  const probe = spawnSync('bash', ['-c', 'echo "${EPOCHREALTIME:-none}"'], { encoding: 'utf8' })
  return probe.status === 0 && /^\d+[.,]\d+$/.test(probe.stdout.trim())
}

const seconds = (text) => Number(text.replace(',', '.'))

/** "0m0.231s" → 231 (ms). */
function clockMs(text) {
  const match = /^(\d+)m([\d.,]+)s$/.exec(text)
  return match ? (Number(match[1]) * 60 + seconds(match[2])) * 1000 : NaN
}

function once(command, useBash) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const [file, ...args] = useBash ? ['bash', '-c', SNIPPET, 'bash', ...command.argv] : command.argv
    const child = spawn(file, args, {
      env: command.env,
      cwd: command.cwd,
      stdio: useBash ? ['ignore', 'pipe', 'ignore'] : 'ignore'
    })
    let out = ''
    child.stdout?.on('data', (chunk) => (out += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      const nodeMs = Number(process.hrtime.bigint() - started) / 1e6
      if (!useBash) return resolve({ wallMs: nodeMs, cpuMs: NaN, exitCode: code })
      const timing = /^T (\S+) (\S+) (\d+)$/m.exec(out)
      const lines = out.trim().split('\n')
      const children = (lines[lines.length - 1] ?? '').trim().split(/\s+/)
      if (!timing) return reject(new Error(`could not time ${command.argv.join(' ')}: ${out}`))
      resolve({
        wallMs: (seconds(timing[2]) - seconds(timing[1])) * 1000,
        cpuMs: clockMs(children[0] ?? '') + clockMs(children[1] ?? ''),
        exitCode: Number(timing[3])
      })
    })
  })
}

/**
 * Measures each command `rounds` times (a command with its own `rounds` takes part in that many
 * rounds only), after one unmeasured warm-up run each. Returns per command: wall and CPU statistics
 * and the exit codes seen.
 */
export async function measureStartup(commands, rounds, { onProgress } = {}) {
  const useBash = bashTimerAvailable()
  const samples = new Map(commands.map((c) => [c.id, { wall: [], cpu: [], exitCodes: new Set() }]))
  for (const command of commands) await once(command, useBash)
  for (let round = 0; round < rounds; round++) {
    for (const command of commands) {
      if (round >= (command.rounds ?? rounds)) continue
      const result = await once(command, useBash)
      const sample = samples.get(command.id)
      sample.wall.push(result.wallMs)
      sample.cpu.push(result.cpuMs)
      sample.exitCodes.add(result.exitCode)
    }
    onProgress?.(round + 1, rounds)
  }
  return {
    timer: useBash ? 'bash $EPOCHREALTIME + times' : 'node hrtime (no CPU time)',
    results: Object.fromEntries(
      commands.map((c) => {
        const s = samples.get(c.id)
        return [c.id, { label: c.label, wallMs: summarize(s.wall), cpuMs: summarize(s.cpu), exitCodes: [...s.exitCodes] }]
      })
    )
  }
}
