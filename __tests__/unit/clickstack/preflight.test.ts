/** The endpoint preflight against a local OTLP receiver (HTTP/1.1, and gRPC over h2c and TLS). */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  GRPC_LOGS_EXPORT_PATH,
  preflightProtocol,
  type PreflightOptions,
  type PreflightResult,
  sendPreflight
} from '../../../src/clickstack/preflight.js'
import { encodePreflightRequest } from '../../../src/core/otlpRecord.js'
import { decodeProtoExport, OtlpReceiver, type ReceiverUrls } from '../../support/otlpReceiver.js'

const KEY = 'ck-ingest-7d3f9a1b2c4e5f60'
const WRONG_KEY = 'ck-ingest-wrong-000000000000'
const NOW_MS = 1_700_000_000_123

const receiver = new OtlpReceiver()
let urls: ReceiverUrls
/** Every result, so that the last test can check that no message ever held a header value. */
const results: PreflightResult[] = []

async function preflight(options: Partial<PreflightOptions> & { endpoint: string }): Promise<PreflightResult> {
  const result = await sendPreflight({
    protocol: undefined,
    headers: { Authorization: KEY },
    timeoutMs: 5000,
    now: () => NOW_MS,
    ...options
  })
  results.push(result)
  return result
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

beforeAll(async () => {
  urls = await receiver.start()
  receiver.requireHeader = { name: 'authorization', value: KEY }
})

afterAll(async () => {
  await receiver.stop()
})

function failed(result: PreflightResult): { kind: string; reason: string } {
  if (!('ok' in result) || result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`)
  return { kind: result.kind, reason: result.reason }
}

describe('protocol choice', () => {
  it('takes otlp-protocol when given, else 4318 → http and anything else → grpc', () => {
    expect(preflightProtocol('https://clickstack.example.com:4318', undefined)).toBe('http')
    expect(preflightProtocol('https://clickstack.example.com:4317', undefined)).toBe('grpc')
    expect(preflightProtocol('https://clickstack.example.com', undefined)).toBe('grpc')
    expect(preflightProtocol('https://clickstack.example.com:4317', 'http')).toBe('http')
    expect(preflightProtocol('https://clickstack.example.com:4318', 'grpc')).toBe('grpc')
  })
})

describe('OTLP/HTTP', () => {
  it('200: one marked JSON log record reaches POST /v1/logs with the headers', async () => {
    receiver.answer = 'ok'
    const before = receiver.received.length
    expect(await preflight({ endpoint: `${urls.http}/`, protocol: 'http' })).toEqual({ ok: true, protocol: 'http' })
    const [sent] = receiver.received.slice(before)
    expect(sent).toMatchObject({ transport: 'http', path: '/v1/logs', contentType: 'application/json' })
    expect(sent?.headers.authorization).toBe(KEY)
    expect(sent?.decodeError).toBeUndefined()
    expect(sent?.decoded).toEqual({
      resourceAttributes: { 'service.name': 'rotel-clickstack-action' },
      scopeName: 'rotel-clickstack-action',
      body: 'rotel-clickstack-action preflight',
      severityNumber: 9,
      severityText: 'INFO',
      timeUnixNano: BigInt(NOW_MS) * 1_000_000n,
      logAttributes: { 'rotel.preflight': 'true' }
    })
  })

  it('401: the ingestion key in otlp-headers was refused', async () => {
    receiver.answer = 'ok'
    const result = failed(
      await preflight({ endpoint: urls.http, protocol: 'http', headers: { Authorization: WRONG_KEY } })
    )
    expect(result.kind).toBe('auth')
    expect(result.reason).toMatch(
      /^The ingestion key in otlp-headers was refused by otlp-endpoint http:\/\/127\.0\.0\.1:\d+ \(HTTP 401\)/
    )
  })

  it('403: refused as well', async () => {
    receiver.answer = 'forbidden'
    try {
      expect(failed(await preflight({ endpoint: urls.http, protocol: 'http' }))).toMatchObject({
        kind: 'auth',
        reason: expect.stringContaining('HTTP 403')
      })
    } finally {
      receiver.answer = 'ok'
    }
  })

  it('404: wrong path or port, naming otlp-endpoint', async () => {
    const result = failed(await preflight({ endpoint: `${urls.http}/otlp`, protocol: 'http' }))
    expect(result.kind).toBe('path')
    expect(result.reason).toMatch(
      /^otlp-endpoint http:\/\/127\.0\.0\.1:\d+\/otlp answered HTTP 404 to POST \/otlp\/v1\/logs: wrong path or port/
    )
  })

  it('a reset connection: could not connect', async () => {
    receiver.answer = 'reset'
    try {
      const result = failed(await preflight({ endpoint: urls.http, protocol: 'http' }))
      expect(result.kind).toBe('connect')
      expect(result.reason).toMatch(/^Could not connect to otlp-endpoint .*closed without an answer/)
    } finally {
      receiver.answer = 'ok'
    }
  })

  it('503: not taking data now', async () => {
    receiver.answer = 'unavailable'
    try {
      expect(failed(await preflight({ endpoint: urls.http, protocol: 'http' })).kind).toBe('unavailable')
    } finally {
      receiver.answer = 'ok'
    }
  })
})

describe('OTLP/gRPC over h2c', () => {
  it('grpc-status 0: one length-prefixed protobuf ExportLogsServiceRequest with the headers', async () => {
    const before = receiver.received.length
    expect(await preflight({ endpoint: urls.grpc, protocol: 'grpc' })).toEqual({ ok: true, protocol: 'grpc' })
    const [sent] = receiver.received.slice(before)
    expect(sent).toMatchObject({ transport: 'grpc', path: GRPC_LOGS_EXPORT_PATH, contentType: 'application/grpc' })
    expect(sent?.headers).toMatchObject({ authorization: KEY, te: 'trailers', ':method': 'POST' })
    expect(sent?.decodeError).toBeUndefined()
    expect(sent?.decoded).toMatchObject({
      resourceAttributes: { 'service.name': 'rotel-clickstack-action' },
      body: 'rotel-clickstack-action preflight',
      timeUnixNano: BigInt(NOW_MS) * 1_000_000n,
      logAttributes: { 'rotel.preflight': 'true' }
    })
  })

  it('grpc-status 16 (UNAUTHENTICATED): the ingestion key was refused', async () => {
    const result = failed(await preflight({ endpoint: urls.grpc, headers: { authorization: WRONG_KEY } }))
    expect(result).toEqual({
      kind: 'auth',
      reason: expect.stringMatching(/^The ingestion key in otlp-headers was refused .*grpc-status 16 UNAUTHENTICATED/)
    })
  })

  it('grpc-status 7 (PERMISSION_DENIED): refused as well', async () => {
    receiver.answer = 'forbidden'
    try {
      expect(failed(await preflight({ endpoint: urls.grpc })).reason).toMatch(/grpc-status 7 PERMISSION_DENIED/)
    } finally {
      receiver.answer = 'ok'
    }
  })

  it('grpc-status 12 (UNIMPLEMENTED): wrong path or port', async () => {
    receiver.answer = 'not-found'
    try {
      const result = failed(await preflight({ endpoint: urls.grpc }))
      expect(result.kind).toBe('path')
      expect(result.reason).toMatch(
        /^otlp-endpoint .* does not serve the OTLP gRPC logs service \(grpc-status 12 UNIMPLEMENTED\): wrong path or port/
      )
    } finally {
      receiver.answer = 'ok'
    }
  })

  it('a reset connection: could not connect', async () => {
    receiver.answer = 'reset'
    try {
      const result = failed(await preflight({ endpoint: urls.grpc }))
      expect(result.kind).toBe('connect')
      expect(result.reason).toMatch(
        /^Could not connect to otlp-endpoint .*closed without an answer \(HTTP\/2 stream reset\)/
      )
    } finally {
      receiver.answer = 'ok'
    }
  })

  it('gRPC to an OTLP/HTTP port, and HTTP to a gRPC port, say which protocol to set', async () => {
    const grpcToHttp = failed(await preflight({ endpoint: urls.http, protocol: 'grpc' }))
    expect(grpcToHttp).toEqual({
      kind: 'protocol',
      reason: expect.stringMatching(/^otlp-endpoint .* does not speak OTLP\/gRPC .*otlp-protocol: http/)
    })
    const httpToGrpc = failed(await preflight({ endpoint: urls.grpc, protocol: 'http' }))
    expect(httpToGrpc).toEqual({
      kind: 'protocol',
      reason: expect.stringMatching(/^otlp-endpoint .* does not speak OTLP\/HTTP .*otlp-protocol: grpc/)
    })
  })

  it('the hand-made protobuf is what a protobuf reader reads', () => {
    const decoded = decodeProtoExport(encodePreflightRequest(123456789012345678n))
    expect(decoded).toMatchObject({
      severityNumber: 9,
      severityText: 'INFO',
      timeUnixNano: 123456789012345678n,
      scopeName: 'rotel-clickstack-action'
    })
  })
})

describe('failures before any answer', () => {
  it.each(['http', 'grpc'] as const)(
    'connection refused (%s): could not connect to otlp-endpoint',
    async (protocol) => {
      const port = await closedPort()
      const result = failed(await preflight({ endpoint: `http://127.0.0.1:${port}`, protocol }))
      expect(result).toEqual({
        kind: 'connect',
        reason: `Could not connect to otlp-endpoint http://127.0.0.1:${port} (ECONNREFUSED): check the host name and port, and that the runner may reach it.`
      })
    }
  )

  it.each(['http', 'grpc'] as const)('TLS to a plain port (%s): TLS failed', async (protocol) => {
    const plain = protocol === 'http' ? urls.http : urls.grpc
    const result = failed(await preflight({ endpoint: plain.replace('http://', 'https://'), protocol }))
    expect(result.kind).toBe('tls')
    expect(result.reason).toMatch(/^TLS failed with otlp-endpoint https:\/\/127\.0\.0\.1:\d+ /)
  })

  it('an endpoint that accepts but never answers: a timeout, not a hang', async () => {
    const silent: Server = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const sockets: Array<{ destroy(): void }> = []
    silent.on('connection', (socket) => sockets.push(socket))
    try {
      const port = (silent.address() as AddressInfo).port
      for (const protocol of ['http', 'grpc'] as const) {
        const result = failed(await preflight({ endpoint: `http://127.0.0.1:${port}`, protocol, timeoutMs: 300 }))
        expect({ protocol, kind: result.kind }).toEqual({ protocol, kind: 'timeout' })
      }
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  })

  it('a header that cannot be sent names otlp-headers, not its value', async () => {
    const bad = `${KEY}\r\nX-Injected: 1`
    const result = failed(await preflight({ endpoint: urls.http, protocol: 'http', headers: { Authorization: bad } }))
    expect(result.kind).toBe('headers')
    expect(result.reason).toMatch(/^otlp-headers holds a header that cannot be sent/)
    expect(result.reason).not.toContain(KEY)
  })

  it('an endpoint that is not an http(s) URL', async () => {
    expect(failed(await preflight({ endpoint: 'clickstack.example.com:4317' })).kind).toBe('endpoint')
    expect(failed(await preflight({ endpoint: 'not a url' })).reason).toMatch(/^otlp-endpoint is not a URL/)
  })
})

describe('secret references', () => {
  it.each([
    [
      'Secrets Manager inside a value',
      { Authorization: '${arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack-key}' }
    ],
    ['SSM inside a value', { Authorization: 'Bearer ${arn:aws:ssm:us-east-1:123456789012:parameter/clickstack-key}' }],
    [
      'secret:// as the whole value',
      { Authorization: 'secret://arn:aws:secretsmanager:us-east-1:123456789012:secret:key#api' }
    ]
  ])('%s: skipped with a notice, nothing sent', async (_name, headers) => {
    const before = receiver.received.length
    expect(await preflight({ endpoint: urls.http, protocol: 'http', headers })).toEqual({
      skipped: 'the headers hold secret references that only the function can resolve'
    })
    expect(receiver.received.length).toBe(before)
  })

  it('an endpoint that is a secret reference is skipped too', async () => {
    expect(
      await preflight({ endpoint: 'secret://arn:aws:secretsmanager:us-east-1:123456789012:secret:endpoint' })
    ).toEqual({
      skipped: 'otlp-endpoint is a secret reference that only the function can resolve'
    })
  })
})

// A certificate for 127.0.0.1 that nothing trusts, unless told: needs the openssl command.
const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0
;(openssl ? describe : describe.skip)('over TLS', () => {
  const secure = (() => {
    const dir = mkdtempSync(join(tmpdir(), 'rotel-preflight-tls-'))
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem')
      ],
      { encoding: 'utf8' }
    )
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`)
    const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
    rmSync(dir, { recursive: true, force: true })
    return tls
  })()
  const tlsReceiver = new OtlpReceiver(secure)
  let tlsUrls: ReceiverUrls

  beforeAll(async () => {
    tlsUrls = await tlsReceiver.start()
  })
  afterAll(async () => {
    await tlsReceiver.stop()
  })

  it.each(['http', 'grpc'] as const)('an untrusted certificate (%s): TLS failed', async (protocol) => {
    const result = failed(await preflight({ endpoint: protocol === 'http' ? tlsUrls.http : tlsUrls.grpc, protocol }))
    expect(result.kind).toBe('tls')
    expect(result.reason).toMatch(/self-signed certificate|DEPTH_ZERO_SELF_SIGNED_CERT/)
  })

  it.each(['http', 'grpc'] as const)('a trusted certificate (%s): ok', async (protocol) => {
    const before = tlsReceiver.received.length
    expect(
      await preflight({ endpoint: protocol === 'http' ? tlsUrls.http : tlsUrls.grpc, protocol, ca: secure.cert })
    ).toEqual({ ok: true, protocol })
    expect(tlsReceiver.received.slice(before).map((received) => received.decoded?.body)).toEqual([
      'rotel-clickstack-action preflight'
    ])
  })
})

describe('messages', () => {
  it('never hold a header value', () => {
    expect(results.length).toBeGreaterThan(15)
    for (const result of results) {
      const text = JSON.stringify(result)
      expect(text).not.toContain(KEY)
      expect(text).not.toContain(WRONG_KEY)
    }
  })
})
