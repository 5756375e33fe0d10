/**
 * scripts/install-moto.sh's copy route and its lock (scripts/moto-lock.py), and scripts/emulator.sh starting
 * what it recorded: on a made-up moto 9.9.9 with one dependency, in a venv standing for the machine's python,
 * so that nothing is downloaded and the real .emulator is left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

const SCRIPTS = ['install-moto.sh', 'emulator.sh', 'moto-lock.py']
const LOCK = '# root: moto[server]==9.9.9\nfakedep==1.0\nmoto==9.9.9\n'

// The fake moto.server answers emulator.sh's /moto-api/config and, on any GET, tells how it was started.
const SERVER = `import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import fakedep

class Handler(BaseHTTPRequestHandler):
    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        self.answer({"path": sys.path, "noSite": sys.flags.no_site, "fakedep": fakedep.__file__})
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.answer({})
    def log_message(self, *args):
        pass

if __name__ == "__main__":
    ThreadingHTTPServer((sys.argv[sys.argv.index("-H") + 1], int(sys.argv[sys.argv.index("-p") + 1])), Handler).serve_forever()
`

// Each distribution: its files (path -> text) and the extra lines of its METADATA.
const DISTS = {
  'moto-9.9.9': {
    files: { 'moto/__init__.py': '__version__ = "9.9.9"\n', 'moto/server.py': SERVER },
    metadata: 'Provides-Extra: server\nRequires-Dist: fakedep>=1.0; extra == "server"\n'
  },
  'fakedep-1.0': { files: { 'fakedep.py': 'VALUE = 1\n' }, metadata: '' }
}

let root: string
let python: string
let site: string
// Every file the fake distributions' RECORDs list inside site-packages.
const recorded: string[] = []

function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {}
): { status: number; out: string; err: string } {
  const result = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 })
  return { status: result.status ?? -1, out: result.stdout, err: result.stderr }
}

/** A project folder holding the three scripts and LOCK; its .emulator starts empty. */
function project(lock = LOCK): string {
  const dir = mkdtempSync(join(root, 'project-'))
  mkdirSync(join(dir, 'scripts'))
  for (const name of SCRIPTS) copyFileSync(join('scripts', name), join(dir, 'scripts', name))
  writeFileSync(join(dir, 'scripts/moto-requirements.txt'), lock)
  return dir
}

function install(dir: string, env: Record<string, string> = {}): { status: number; out: string; err: string } {
  return run('bash', [join(dir, 'scripts/install-moto.sh')], {
    MOTO_INSTALL_ROUTE: 'copy',
    MOTO_COPY_FROM: python,
    ...env
  })
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !join(entry.parentPath, entry.name).includes('__pycache__'))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort()
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))
      )
    })
  })
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'install-moto-'))
  // --system-site-packages: the venv's python also sees the machine's packaging (or pip's copy of it), as a
  // machine's python with moto installed would; the fake distributions in the venv come first on sys.path.
  const made = run('python3', ['-m', 'venv', '--without-pip', '--system-site-packages', join(root, 'venv')])
  expect(made).toMatchObject({ status: 0 })
  python = join(root, 'venv/bin/python3')
  site = run(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).out.trim()
  for (const [dist, { files: contents, metadata }] of Object.entries(DISTS)) {
    const [name, version] = dist.split('-')
    const info = `${dist}.dist-info`
    const listed = [...Object.keys(contents), `${info}/METADATA`, `${info}/RECORD`]
    for (const [path, text] of Object.entries(contents)) {
      mkdirSync(join(site, path, '..'), { recursive: true })
      writeFileSync(join(site, path), text)
    }
    mkdirSync(join(site, info))
    writeFileSync(
      join(site, info, 'METADATA'),
      `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n${metadata}`
    )
    // A bin/ script outside site-packages, as pip records console scripts: not copied, not needed.
    const record = [...listed, '../../../bin/moto_server'].map((path) => `${path},,`).join('\n')
    writeFileSync(join(site, info, 'RECORD'), `${record}\n`)
    recorded.push(...listed)
  }
  // Lies next to moto's files but no RECORD lists it: the copy must leave it.
  writeFileSync(join(site, 'moto/unlisted.py'), 'raise SystemExit("copied")\n')
  recorded.sort()
})

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

describe('install-moto.sh, the copy route', () => {
  it('copies exactly the files the locked distributions RECORD into .emulator/site, and says where from', () => {
    const dir = project()
    const result = install(dir)
    expect(result.err).not.toMatch(/error/)
    expect(result.status).toBe(0)
    expect(result.out).toContain(
      `moto 9.9.9 (copied into .emulator/site from the machine's ${python}, all 2 locked versions matched)`
    )
    expect(files(join(dir, '.emulator/site'))).toEqual(recorded)
    const env = readFileSync(join(dir, '.emulator/python-env'), 'utf8')
    expect(env).toMatch(/^MOTO_PYTHON_FLAGS=-S$/m)
    expect(env).toMatch(/^MOTO_ROUTE=copy$/m)
  })

  it('starts the emulator isolated: -S, no site-packages on sys.path, the dependency from .emulator/site', async () => {
    const dir = project()
    expect(install(dir).status).toBe(0)
    const env = { MOTO_PORT: String(await freePort()), MOTO_START_TIMEOUT: '20' }
    const started = run('bash', [join(dir, 'scripts/emulator.sh'), 'start'], env)
    try {
      expect(started).toMatchObject({ status: 0 })
      const seen = (await (await fetch(started.out.trim())).json()) as {
        path: string[]
        noSite: number
        fakedep: string
      }
      expect(seen.noSite).toBe(1)
      expect(seen.path.filter((entry) => /site-packages|dist-packages/.test(entry))).toEqual([])
      expect(seen.path).toContain(join(dir, '.emulator/site'))
      expect(seen.fakedep).toBe(join(dir, '.emulator/site/fakedep.py'))
    } finally {
      run('bash', [join(dir, 'scripts/emulator.sh'), 'stop'], env)
    }
  })

  it('reuses the copy while it matches the lock, and refuses it once the lock names another version', () => {
    const dir = project()
    expect(install(dir).status).toBe(0)
    const again = install(dir)
    expect(again.status).toBe(0)
    expect(again.out).toContain('reused, all 2 locked versions still match')
    expect(again.err).not.toContain('copying')

    writeFileSync(join(dir, 'scripts/moto-requirements.txt'), LOCK.replace('fakedep==1.0', 'fakedep==1.1'))
    const changed = install(dir)
    expect(changed.status).not.toBe(0)
    expect(changed.err).toContain(
      `the recorded install (copied into .emulator/site from the machine's ${python}) does not match the lock`
    )
    expect(changed.err).toContain('fakedep: 1.0 here, locked 1.1')
    expect(changed.err).toContain(`copy route: ${python} is not used`)
  })

  it('refuses a python whose moto is not the pinned version, naming it, and installs nothing', () => {
    const dir = project(LOCK.replace(/9\.9\.9/g, '9.9.10'))
    const result = install(dir)
    expect(result.status).not.toBe(0)
    expect(result.err).toContain('moto: 9.9.9 here, locked 9.9.10')
    expect(result.err).toContain('could not make moto 9.9.10 runnable')
    expect(existsSync(join(dir, '.emulator/site'))).toBe(false)
    expect(existsSync(join(dir, '.emulator/python-env'))).toBe(false)
  })

  it('refuses when the closure needs a distribution the lock lacks (the requirement of extra "server")', () => {
    const dir = project(LOCK.replace('fakedep==1.0\n', ''))
    const result = install(dir)
    expect(result.status).not.toBe(0)
    expect(result.err).toContain('fakedep: needed by moto (fakedep>=1.0; extra == "server"), not in the lock')
    expect(existsSync(join(dir, '.emulator/site'))).toBe(false)
  })

  it('refuses the old route name "existing" and names the routes there are', () => {
    const result = install(project(), { MOTO_INSTALL_ROUTE: 'existing' })
    expect(result.status).not.toBe(0)
    expect(result.err).toContain("MOTO_INSTALL_ROUTE=existing is gone: moto runs from .emulator only; 'copy'")
  })
})

describe('scripts/moto-lock.py check --path', () => {
  it('refuses a folder with a locked distribution at another version or one the lock does not name', () => {
    const dir = project()
    expect(install(dir).status).toBe(0)
    const copied = join(dir, '.emulator/site')
    mkdirSync(join(copied, 'extra-2.0.dist-info'))
    writeFileSync(join(copied, 'extra-2.0.dist-info/METADATA'), 'Metadata-Version: 2.1\nName: Extra\nVersion: 2.0\n')
    const lock = join(root, 'other.lock')
    writeFileSync(lock, LOCK.replace('moto==9.9.9', 'moto==9.9.8'))
    const result = run('python3', [join(dir, 'scripts/moto-lock.py'), '--lock', lock, 'check', '--path', copied])
    expect(result.status).toBe(1)
    expect(result.err).toContain('moto: 9.9.9 here, locked 9.9.8')
    expect(result.err).toContain('extra: 2.0 here, not in the lock')
  })
})

describe('scripts/moto-requirements.txt, the project lock', () => {
  it('pins the root moto[server] at the version of its moto line, every line name==version', () => {
    const lines = readFileSync('scripts/moto-requirements.txt', 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
    const root = /^# root: moto\[server\]==(\S+)$/m.exec(readFileSync('scripts/moto-requirements.txt', 'utf8'))?.[1]
    expect(root).toBeDefined()
    expect(lines).toContain(`moto==${root}`)
    expect(lines.filter((line) => !/^[a-z0-9][a-z0-9.-]*==\S+$/.test(line))).toEqual([])
  })
})
