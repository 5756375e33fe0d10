/**
 * Endpoint preflight: before any function is changed, the runner sends one small OTLP log record to
 * otlp-endpoint with otlp-headers, as the extension will, so that a wrong address, port, scheme,
 * certificate, path or ingestion key fails the run at once instead of silently dropping every
 * function's telemetry later.
 *
 * The record is marked: resource `service.name=rotel-clickstack-action`, scope `rotel-clickstack-action`,
 * body "rotel-clickstack-action preflight", log attribute `rotel.preflight=true`.
 *
 * Protocol: an explicit otlp-protocol wins; else port 4318 is OTLP/HTTP, any other gRPC (the extension's default).
 * - OTLP/HTTP: `POST <endpoint>/v1/logs`, `Content-Type: application/json`, OTLP/JSON.
 * - OTLP/gRPC without a gRPC library: one unary HTTP/2 call (node:http2; h2c for http://, TLS with ALPN h2
 *   for https://) to `/opentelemetry.proto.collector.logs.v1.LogsService/Export`, `content-type:
 *   application/grpc`, the ExportLogsServiceRequest encoded by hand as protobuf in a 5-byte
 *   length-prefixed frame; the answer is judged by `grpc-status` (trailers, or headers of a
 *   trailers-only answer).
 *
 * Header values are never part of any message: every message goes through a redactor of them.
 */
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import { createRedactor, type Redactor } from '../core/redact.js'
import { messageOf } from '../core/errors.js'
import { encodePreflightRequest, grpcFrame, preflightJson } from '../core/otlpRecord.js'

export type OtlpProtocol = 'grpc' | 'http'

/** What went wrong, for a caller that wants more than the sentence. */
export type PreflightFailureKind =
  | 'endpoint' // not a usable URL
  | 'connect' // refused, unknown host, unreachable, reset
  | 'tls'
  | 'auth' // 401/403, grpc-status 16/7
  | 'path' // 404/405, redirects, grpc-status 12
  | 'protocol' // the other side does not speak the protocol chosen
  | 'headers' // a header that cannot be sent
  | 'timeout'
  | 'unavailable' // 429/502/503/504, grpc-status 14/8/4
  | 'rejected' // any other refusal

export type PreflightResult =
  { ok: true; protocol: OtlpProtocol } | { ok: false; reason: string; kind: PreflightFailureKind } | { skipped: string }

export interface PreflightOptions {
  /** Input otlp-endpoint, e.g. `https://clickstack.example.com:4317`. */
  readonly endpoint: string
  /** Input otlp-protocol; undefined: chosen by port. */
  readonly protocol: OtlpProtocol | undefined
  /** Input otlp-headers, parsed: name → value. */
  readonly headers: Readonly<Record<string, string>>
  readonly timeoutMs: number
  /** Extra trusted CA certificates (PEM), e.g. for a private CA; the system's stay trusted. */
  readonly ca?: string | Buffer
  /** Clock for the record's timestamp (ms since the epoch). */
  readonly now?: () => number
}

export const GRPC_LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export'

/** Whether a value is resolved by the extension from Secrets Manager or SSM, not by the runner. */
export function isSecretReference(value: string): boolean {
  return value.includes('${arn:') || value.trim().startsWith('secret://')
}

/** The protocol the extension will use: explicit otlp-protocol, else by port (4318 http, else grpc). */
export function preflightProtocol(endpoint: string, protocol: OtlpProtocol | undefined): OtlpProtocol {
  if (protocol) return protocol
  try {
    return new URL(endpoint.trim()).port === '4318' ? 'http' : 'grpc'
  } catch {
    return 'grpc'
  }
}

export async function sendPreflight(options: PreflightOptions): Promise<PreflightResult> {
  const endpointText = options.endpoint.trim()
  if (!endpointText) return { skipped: 'otlp-endpoint is not set, so there is no destination to test from the runner' }
  if (isSecretReference(endpointText))
    return { skipped: 'otlp-endpoint is a secret reference that only the function can resolve' }
  if (Object.values(options.headers).some(isSecretReference))
    return { skipped: 'the headers hold secret references that only the function can resolve' }

  let url: URL
  try {
    url = new URL(endpointText)
  } catch {
    return failure(
      'endpoint',
      'otlp-endpoint is not a URL: give it with its scheme and port, e.g. https://clickstack.example.com:4317.'
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return failure(
      'endpoint',
      `otlp-endpoint must start with https:// or http:// (it starts with ${url.protocol}//): e.g. https://clickstack.example.com:4317.`
    )
  const redact = createRedactor([...Object.values(options.headers), decodeURIComponent(url.password), url.password])
  const protocol = preflightProtocol(endpointText, options.protocol)
  const context: Context = {
    url,
    shown: displayEndpoint(url),
    headers: options.headers,
    timeoutMs: options.timeoutMs,
    redact,
    nowNs: BigInt(Math.round((options.now ?? Date.now)())) * 1_000_000n,
    ...(options.ca !== undefined ? { ca: options.ca } : {})
  }
  try {
    const verdict = protocol === 'http' ? await viaHttp(context) : await viaGrpc(context)
    return verdict ?? { ok: true, protocol }
  } catch (error) {
    return describeError(error, context, protocol)
  }
}

interface Context {
  readonly url: URL
  readonly shown: string
  readonly headers: Readonly<Record<string, string>>
  readonly timeoutMs: number
  readonly redact: Redactor
  readonly nowNs: bigint
  readonly ca?: string | Buffer
}

type Failure = { ok: false; reason: string; kind: PreflightFailureKind }

function failure(kind: PreflightFailureKind, reason: string): Failure {
  return { ok: false, kind, reason }
}

/** Scheme, host, port and path: never a user name, password or query. */
function displayEndpoint(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`
}

class PreflightTimeout extends Error {
  constructor() {
    super('timed out')
    this.name = 'PreflightTimeout'
  }
}

// ---------------------------------------------------------------- OTLP/HTTP

async function viaHttp(context: Context): Promise<Failure | undefined> {
  const path = `${context.url.pathname.replace(/\/+$/, '')}/v1/logs`
  const body = Buffer.from(JSON.stringify(preflightJson(context.nowNs)), 'utf8')
  const { status, text } = await postOnce(context, path, body)
  return judgeHttpAnswer(status, text, context, path)
}

interface HttpAnswer {
  status: number
  text: string
}

/** One POST of the record, without an agent, settled once: by the answer, an error or the timeout. */
function postOnce(context: Context, path: string, body: Buffer): Promise<HttpAnswer> {
  const { url } = context
  return new Promise<HttpAnswer>((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http
    let request: http.ClientRequest
    try {
      request = transport.request({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        method: 'POST',
        path,
        agent: false,
        ...(context.ca !== undefined ? { ca: context.ca } : {}),
        headers: {
          ...context.headers,
          'content-type': 'application/json',
          'content-length': String(body.length),
          'user-agent': 'rotel-clickstack-action-preflight'
        }
      })
    } catch (error) {
      reject(error)
      return
    }
    let settled = false
    let timedOut = false
    const settle = (error: unknown, value?: HttpAnswer): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (value) resolve(value)
      else reject(error)
    }
    const timer = setTimeout(() => {
      timedOut = true
      request.destroy(new PreflightTimeout())
    }, context.timeoutMs)
    request.on('error', (error) => settle(error))
    request.on('response', (response) => readAnswer(response, settle, () => timedOut))
    request.end(body)
  })
}

/** Reads the status and the first 4 KiB of the body; a cut-off answer settles as a timeout or a reset. */
function readAnswer(
  response: http.IncomingMessage,
  settle: (error: unknown, value?: HttpAnswer) => void,
  timedOut: () => boolean
): void {
  const chunks: Buffer[] = []
  let size = 0
  response.on('data', (chunk: Buffer) => {
    if (size < 4096) chunks.push(chunk)
    size += chunk.length
  })
  response.on('end', () =>
    settle(undefined, { status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })
  )
  response.on('error', (error) => settle(error))
  // Cut off in the middle of the answer: by our timeout, or by the other side.
  response.on('close', () =>
    settle(
      timedOut() ? new PreflightTimeout() : Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })
    )
  )
}

/** The verdict on an OTLP/HTTP answer: undefined for 2xx, else a failure naming the input to fix. */
function judgeHttpAnswer(status: number, text: string, context: Context, path: string): Failure | undefined {
  const { shown, redact } = context
  if (status >= 200 && status < 300) return undefined
  const said = excerpt(text, redact)
  if (status === 401 || status === 403)
    return failure(
      'auth',
      `The ingestion key in otlp-headers was refused by otlp-endpoint ${shown} (HTTP ${status}): set otlp-headers to Authorization=<your ClickStack ingestion API key>.`
    )
  if (status === 404 || status === 405)
    return failure(
      'path',
      `otlp-endpoint ${shown} answered HTTP ${status} to POST ${path}: wrong path or port; give the OTLP/HTTP base address without /v1/logs (usually port 4318), or use the gRPC port (usually 4317) without otlp-protocol: http.`
    )
  if (status >= 300 && status < 400)
    return failure(
      'path',
      `otlp-endpoint ${shown} answered HTTP ${status} (a redirect) to POST ${path}: set otlp-endpoint to the address it redirects to (often https:// instead of http://).`
    )
  if (status === 415)
    return failure(
      'protocol',
      `otlp-endpoint ${shown} does not take OTLP/HTTP JSON (HTTP 415): check otlp-endpoint's port, and set otlp-protocol to the protocol that port serves.`
    )
  if (status === 429 || status === 502 || status === 503 || status === 504)
    return failure(
      'unavailable',
      `otlp-endpoint ${shown} is not taking data now (HTTP ${status}${said ? `: ${said}` : ''}): check that ClickStack's collector is up and not overloaded, then run again.`
    )
  return failure(
    'rejected',
    `otlp-endpoint ${shown} refused the preflight log record (HTTP ${status}${said ? `: ${said}` : ''}): check that otlp-endpoint is ClickStack's OTLP endpoint.`
  )
}

// ---------------------------------------------------------------- OTLP/gRPC

const GRPC_CODES: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED'
}

/** Headers HTTP/2 forbids (connection-specific) or that the call sets itself. */
const H2_OWN_OR_FORBIDDEN = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'te',
  'content-type',
  'content-length'
])

async function viaGrpc(context: Context): Promise<Failure | undefined> {
  const answer = await callGrpcOnce(context, grpcHeaders(context.headers))
  if (answer.status !== 200) return judgeGrpcHttpStatus(answer.status, context.shown)
  return judgeGrpcStatus(answer, context)
}

interface GrpcAnswer {
  status: number
  grpcStatus: string | undefined
  grpcMessage: string
}

/** otlp-headers as HTTP/2 wants them: lower-case, without the ones it forbids or the call sets itself. */
function grpcHeaders(given: Readonly<Record<string, string>>): http2.OutgoingHttpHeaders {
  const headers: http2.OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(given)) {
    const lower = name.toLowerCase()
    if (!H2_OWN_OR_FORBIDDEN.has(lower)) headers[lower] = value
  }
  return headers
}

/** One unary Export call on its own session, settled once (the session then destroyed): answer, error or timeout. */
function callGrpcOnce(context: Context, headers: http2.OutgoingHttpHeaders): Promise<GrpcAnswer> {
  const { url } = context
  return new Promise<GrpcAnswer>((resolve, reject) => {
    let settled = false
    let session: http2.ClientHttp2Session | undefined
    const finish = (error: unknown, value?: GrpcAnswer) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      session?.destroy()
      if (value) resolve(value)
      else reject(error)
    }
    const timer = setTimeout(() => finish(new PreflightTimeout()), context.timeoutMs)
    try {
      session = http2.connect(url.origin, {
        ...(context.ca !== undefined ? { ca: context.ca } : {}),
        ...(url.protocol === 'https:' ? { ALPNProtocols: ['h2'] } : {})
      })
      session.on('error', (error) => finish(error))
      session.on('goaway', (code) => {
        if (code !== 0) finish(Object.assign(new Error(`HTTP/2 GOAWAY ${code}`), { code: 'ERR_HTTP2_GOAWAY' }))
      })
      const stream = session.request({
        ':method': 'POST',
        ':path': GRPC_LOGS_EXPORT_PATH,
        ...headers,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${Math.min(99_999_999, Math.max(1, Math.ceil(context.timeoutMs)))}m`,
        'user-agent': 'rotel-clickstack-action-preflight'
      })
      readGrpcAnswer(stream, finish)
      stream.end(grpcFrame(encodePreflightRequest(context.nowNs)))
    } catch (error) {
      finish(error)
    }
  })
}

/** Collects :status and grpc-status/grpc-message (headers or trailers) and settles when the stream closes. */
function readGrpcAnswer(stream: http2.ClientHttp2Stream, finish: (error: unknown, value?: GrpcAnswer) => void): void {
  let status = 0
  let grpcStatus: string | undefined
  let grpcMessage = ''
  const take = (fields: http2.IncomingHttpHeaders): void => {
    const value = fields['grpc-status']
    if (value !== undefined) grpcStatus = String(value)
    const message = fields['grpc-message']
    if (message !== undefined) grpcMessage = decodeGrpcMessage(String(message))
  }
  stream.on('response', (fields) => {
    status = Number(fields[':status'] ?? 0)
    take(fields)
  })
  stream.on('trailers', (fields) => take(fields))
  stream.on('data', () => undefined)
  // A stream cancelled because its session failed carries the session's error (ECONNREFUSED, TLS) as cause.
  stream.on('error', (error: Error & { cause?: unknown }) =>
    finish(codeOf(error) === 'ERR_HTTP2_STREAM_CANCEL' && error.cause !== undefined ? error.cause : error)
  )
  stream.on('close', () => {
    if (status === 0 && grpcStatus === undefined)
      finish(
        Object.assign(new Error(`the stream was closed without an answer (RST_STREAM ${stream.rstCode ?? '?'})`), {
          code: NO_ANSWER
        })
      )
    else finish(undefined, { status, grpcStatus, grpcMessage })
  })
}

/** The verdict on a gRPC call answered with an HTTP status other than 200: never a gRPC answer. */
function judgeGrpcHttpStatus(status: number, shown: string): Failure {
  if (status === 401 || status === 403)
    return failure(
      'auth',
      `The ingestion key in otlp-headers was refused by otlp-endpoint ${shown} (HTTP ${status}): set otlp-headers to Authorization=<your ClickStack ingestion API key>.`
    )
  if (status === 404)
    return failure(
      'path',
      `otlp-endpoint ${shown} answered HTTP 404 to the OTLP gRPC logs call: wrong path or port; gRPC is usually port 4317, and for OTLP/HTTP (usually 4318) set otlp-protocol: http.`
    )
  if (status === 502 || status === 503 || status === 504)
    return failure(
      'unavailable',
      `otlp-endpoint ${shown} is not taking data now (HTTP ${status}): check that ClickStack's collector is up, then run again.`
    )
  return failure(
    'protocol',
    `otlp-endpoint ${shown} did not answer the OTLP gRPC logs call as gRPC (HTTP ${status}): check the port; for OTLP/HTTP (usually 4318) set otlp-protocol: http.`
  )
}

/** The verdict on an HTTP 200 answer, by its grpc-status: undefined for 0 (OK), else a failure. */
function judgeGrpcStatus(answer: GrpcAnswer, context: Context): Failure | undefined {
  const { shown, redact } = context
  const said = excerpt(answer.grpcMessage, redact)
  if (answer.grpcStatus === undefined)
    return failure(
      'protocol',
      `otlp-endpoint ${shown} answered without a grpc-status, so it is not a gRPC server: check the port; for OTLP/HTTP (usually 4318) set otlp-protocol: http.`
    )
  const code = Number(answer.grpcStatus)
  if (code === 0) return undefined
  const name = `grpc-status ${code} ${GRPC_CODES[code] ?? ''}`.trim()
  if (code === 16 || code === 7)
    return failure(
      'auth',
      `The ingestion key in otlp-headers was refused by otlp-endpoint ${shown} (${name}): set otlp-headers to Authorization=<your ClickStack ingestion API key>.`
    )
  if (code === 12)
    return failure(
      'path',
      `otlp-endpoint ${shown} does not serve the OTLP gRPC logs service (${name}): wrong path or port; gRPC is usually port 4317, and for OTLP/HTTP (usually 4318) set otlp-protocol: http.`
    )
  if (code === 14 || code === 8 || code === 4)
    return failure(
      'unavailable',
      `otlp-endpoint ${shown} is not taking data now (${name}${said ? `: ${said}` : ''}): check that ClickStack's collector is up and not overloaded, then run again.`
    )
  return failure(
    'rejected',
    `otlp-endpoint ${shown} refused the preflight log record (${name}${said ? `: ${said}` : ''}): check that otlp-endpoint is ClickStack's OTLP endpoint.`
  )
}

/** grpc-message is percent-encoded. */
function decodeGrpcMessage(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

// ---------------------------------------------------------------- errors

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL'
])
/** A gRPC call whose stream or connection closed before any answer. */
const NO_ANSWER = 'ERR_PREFLIGHT_NO_ANSWER'
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_HTTP2_STREAM_CANCEL', NO_ANSWER])

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : ''
}

function isTls(error: unknown): boolean {
  const code = codeOf(error)
  return (
    /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|EPROTO$|HOSTNAME_MISMATCH)/.test(
      code
    ) || /certificate|SSL routines|wrong version number|TLS/i.test(messageOf(error))
  )
}

function describeError(error: unknown, context: Context, protocol: OtlpProtocol): Failure {
  const { shown, redact } = context
  const code = codeOf(error)
  const message = messageOf(error)
  const detail = redact(code && !message.includes(code) ? `${code}: ${message}` : message).slice(0, 200)
  const other = protocol === 'grpc' ? 'http' : 'grpc'
  const usualPort = protocol === 'grpc' ? 4317 : 4318
  if (error instanceof PreflightTimeout)
    return failure(
      'timeout',
      `otlp-endpoint ${shown} did not answer within ${Math.round(context.timeoutMs / 1000)} s: check the host and port, and that the runner may reach it (firewall, private network).`
    )
  if (code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN' || code.startsWith('ERR_HTTP2_INVALID_'))
    return failure(
      'headers',
      `otlp-headers holds a header that cannot be sent (${redact(messageOf(error)).slice(0, 120)}): give plain name=value pairs, without line breaks.`
    )
  if (CONNECT_CODES.has(code))
    return failure(
      'connect',
      `Could not connect to otlp-endpoint ${shown} (${code}): check the host name and port, and that the runner may reach it.`
    )
  if (isTls(error))
    return failure(
      'tls',
      `TLS failed with otlp-endpoint ${shown} (${detail}): check that the scheme matches the port (https:// for TLS, http:// for plain) and that the certificate is valid for the host name.`
    )
  if (RESET_CODES.has(code) || /socket hang up/i.test(messageOf(error)))
    return failure(
      'connect',
      `Could not connect to otlp-endpoint ${shown}: the connection was closed without an answer (${code === NO_ANSWER ? 'HTTP/2 stream reset' : code || 'socket hang up'}); check the port and scheme (OTLP/${protocol === 'grpc' ? 'gRPC' : 'HTTP'} is usually ${usualPort}) and any proxy or firewall in between.`
    )
  if (code.startsWith('HPE_') || code.startsWith('ERR_HTTP2_'))
    return failure(
      'protocol',
      `otlp-endpoint ${shown} does not speak OTLP/${protocol === 'grpc' ? 'gRPC' : 'HTTP'} (${detail}): check the port, or set otlp-protocol: ${other} if that is what it serves (gRPC usually 4317, HTTP 4318).`
    )
  return failure('connect', `Could not reach otlp-endpoint ${shown} (${detail}): check otlp-endpoint.`)
}

function excerpt(text: string, redact: Redactor): string {
  return redact(text).replace(/\s+/g, ' ').trim().slice(0, 160)
}
