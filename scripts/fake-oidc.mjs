// A stand-in for GitHub's ID-token endpoint, for tests and the demo (types: scripts/fake-oidc.d.mts).
//
// @actions/core's getIDToken(audience) GETs `${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=<encoded>` with
// `Authorization: Bearer ${ACTIONS_ID_TOKEN_REQUEST_TOKEN}` and reads `value` from the JSON answer. The
// URL this server hands out therefore already carries a query (`?api-version=2.0`, as GitHub's does).
// The token is JWT-shaped (header.payload.signature, base64url) but its signature is random bytes:
// moto's AssumeRoleWithWebIdentity accepts any token; nothing here is verifiable.
//
// As a command: node scripts/fake-oidc.mjs [--port N] [--token T]
//   prints ACTIONS_ID_TOKEN_REQUEST_URL=… and ACTIONS_ID_TOKEN_REQUEST_TOKEN=… lines, serves until
//   interrupted. The request token defaults to $FAKE_OIDC_REQUEST_TOKEN or a random one.
import { randomBytes, randomUUID } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'

const b64url = (value) => Buffer.from(value).toString('base64url')

function makeToken(issuer, audience, claims) {
  const now = Math.floor(Date.now() / 1000)
  const header = { alg: 'RS256', typ: 'JWT', kid: 'fake-oidc' }
  const payload = {
    jti: randomUUID(),
    iss: issuer,
    aud: audience,
    sub: 'repo:example-org/example-repo:ref:refs/heads/main',
    repository: 'example-org/example-repo',
    repository_owner: 'example-org',
    ref: 'refs/heads/main',
    sha: '0000000000000000000000000000000000000000',
    workflow: 'ci',
    event_name: 'push',
    run_id: '1',
    run_attempt: '1',
    actor: 'octocat',
    nbf: now - 5,
    iat: now,
    exp: now + 300,
    ...claims
  }
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${randomBytes(64).toString('base64url')}`
}

/** Starts the fake ID-token endpoint on 127.0.0.1; resolves once it listens. */
export async function startFakeOidc(options) {
  const { requestToken, port = 0, defaultAudience, claims = {} } = options ?? {}
  if (!requestToken) throw new Error('startFakeOidc needs a requestToken')
  const requests = []
  let issuer = ''

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer)
    const authorization = req.headers.authorization ?? ''
    const authorized = authorization === `Bearer ${requestToken}`
    const audience = url.searchParams.get('audience')
    const record = { method: req.method ?? '', path: url.pathname, audience, authorized, token: undefined }
    requests.push(record)
    const answer = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.method !== 'GET') return answer(405, { message: 'method not allowed' })
    if (url.pathname !== '/')
      return answer(404, { message: `not found: ${url.pathname} (use the URL as given, query included)` })
    if (!authorized) return answer(401, { message: 'bad or missing bearer token' })
    // Without an audience, GitHub uses a default one; here it is the server's own URL unless given.
    record.token = makeToken(issuer, audience ?? defaultAudience ?? issuer, claims)
    return answer(200, { count: 1, value: record.token })
  })

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  issuer = `http://127.0.0.1:${address.port}`
  return {
    url: `${issuer}/?api-version=2.0`,
    issuer,
    requestToken,
    requests,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })
  }
}

function isMain() {
  if (!process.argv[1]) return false
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) {
  const args = process.argv.slice(2)
  const flag = (name) => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const requestToken = flag('--token') ?? process.env.FAKE_OIDC_REQUEST_TOKEN ?? randomBytes(16).toString('hex')
  const oidc = await startFakeOidc({ requestToken, port: Number(flag('--port') ?? 0) })
  console.log(`ACTIONS_ID_TOKEN_REQUEST_URL=${oidc.url}`)
  console.log(`ACTIONS_ID_TOKEN_REQUEST_TOKEN=${requestToken}`)
  const stop = () => {
    oidc.close().then(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
