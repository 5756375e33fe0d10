/**
 * A local OTLP receiver on 127.0.0.1 for the endpoint preflight: OTLP/HTTP (HTTP/1.1, JSON or protobuf)
 * and OTLP/gRPC (HTTP/2 without TLS, "h2c", as grpc-go serves it), optionally over TLS with a given
 * certificate. It records what it receives and answers as told: 200 / grpc-status 0, 401 / 16, 403 / 7,
 * 404 / 12, 503 / 14, or a reset connection. Paths it does not serve get 404 (HTTP) and grpc-status 12
 * (gRPC), as the OpenTelemetry Collector does.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import {
  createSecureServer as createH2SecureServer,
  createServer as createH2Server,
  type Http2Server,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Stream
} from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Socket } from 'node:net'

export type ReceiverAnswer = 'ok' | 'unauthorized' | 'forbidden' | 'not-found' | 'unavailable' | 'reset'

export const LOGS_SERVICE_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export'

/** The first log record of an export, as far as the preflight fills it. */
export interface DecodedExport {
  resourceAttributes: Record<string, string>
  scopeName: string
  body: string
  severityNumber: number
  severityText: string
  timeUnixNano: bigint
  logAttributes: Record<string, string>
}

export interface ReceivedExport {
  transport: 'http' | 'grpc'
  path: string
  /** Lower-case names, as received. */
  headers: Record<string, string>
  contentType: string
  body: Buffer
  /** Decoded from OTLP/JSON or protobuf, when it is an ExportLogsServiceRequest. */
  decoded?: DecodedExport
  /** What went wrong decoding it. */
  decodeError?: string
}

export interface ReceiverUrls {
  /** OTLP/HTTP base URL (POST {http}/v1/logs). */
  http: string
  /** OTLP/gRPC URL. */
  grpc: string
}

const GRPC_STATUS: Record<Exclude<ReceiverAnswer, 'reset'>, number> = {
  ok: 0,
  unauthorized: 16,
  forbidden: 7,
  'not-found': 12,
  unavailable: 14
}
const HTTP_STATUS: Record<Exclude<ReceiverAnswer, 'reset'>, number> = {
  ok: 200,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  unavailable: 503
}

export class OtlpReceiver {
  readonly received: ReceivedExport[] = []
  /** How the next requests are answered. */
  answer: ReceiverAnswer = 'ok'
  /** When set, a request without exactly this header value is answered 401 / grpc-status 16. */
  requireHeader: { name: string; value: string } | undefined
  private httpServer: Server | undefined
  private grpcServer: Http2Server | Http2SecureServer | undefined
  private readonly sockets = new Set<Socket>()

  constructor(private readonly tls?: { key: string | Buffer; cert: string | Buffer }) {}

  async start(): Promise<ReceiverUrls> {
    const scheme = this.tls ? 'https' : 'http'
    const httpServer = this.tls
      ? createHttpsServer({ key: this.tls.key, cert: this.tls.cert }, (req, res) => void this.onHttp(req, res))
      : createHttpServer((req, res) => void this.onHttp(req, res))
    const grpcServer = this.tls
      ? createH2SecureServer({ key: this.tls.key, cert: this.tls.cert, allowHTTP1: false })
      : createH2Server()
    grpcServer.on('stream', (stream, headers) => this.onGrpc(stream, headers))
    grpcServer.on('sessionError', () => undefined)
    for (const server of [httpServer, grpcServer]) {
      server.on('connection', (socket: Socket) => {
        this.sockets.add(socket)
        socket.on('close', () => this.sockets.delete(socket))
      })
      server.on('secureConnection', (socket: Socket) => {
        this.sockets.add(socket)
        socket.on('close', () => this.sockets.delete(socket))
      })
      server.on('tlsClientError', () => undefined)
    }
    await Promise.all([
      new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve)),
      new Promise<void>((resolve) => grpcServer.listen(0, '127.0.0.1', resolve))
    ])
    this.httpServer = httpServer
    this.grpcServer = grpcServer
    return {
      http: `${scheme}://127.0.0.1:${(httpServer.address() as AddressInfo).port}`,
      grpc: `${scheme}://127.0.0.1:${(grpcServer.address() as AddressInfo).port}`
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await Promise.all(
      [this.httpServer, this.grpcServer].map(
        (server) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
      )
    )
    this.httpServer = undefined
    this.grpcServer = undefined
  }

  private answerFor(headers: IncomingHttpHeaders): ReceiverAnswer {
    if (this.answer !== 'ok') return this.answer
    const required = this.requireHeader
    if (required && headers[required.name.toLowerCase()] !== required.value) return 'unauthorized'
    return 'ok'
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const contentType = String(req.headers['content-type'] ?? '')
    const record: ReceivedExport = { transport: 'http', path, headers: flatten(req.headers), contentType, body }
    this.received.push(record)
    const answer = this.answerFor(req.headers)
    if (answer === 'reset') {
      req.socket.destroy()
      return
    }
    if (req.method !== 'POST' || !['/v1/logs', '/v1/traces', '/v1/metrics'].includes(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('404 page not found')
      return
    }
    if (path === '/v1/logs') decodeInto(record, () => decodeJsonExport(JSON.parse(body.toString('utf8')) as JsonExport))
    const status = HTTP_STATUS[answer]
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(
      status === 200 ? '{"partialSuccess":{}}' : JSON.stringify({ code: status === 401 ? 16 : 5, message: answer })
    )
  }

  private onGrpc(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('error', () => undefined)
    stream.on('end', () => {
      const body = Buffer.concat(chunks)
      const path = String(headers[':path'] ?? '')
      const record: ReceivedExport = {
        transport: 'grpc',
        path,
        headers: flatten(headers),
        contentType: String(headers['content-type'] ?? ''),
        body
      }
      this.received.push(record)
      const answer = this.answerFor(headers)
      if (answer === 'reset') {
        stream.session?.destroy()
        return
      }
      const status = path === LOGS_SERVICE_PATH || answer !== 'ok' ? GRPC_STATUS[answer] : 12
      if (path === LOGS_SERVICE_PATH)
        decodeInto(record, () => {
          if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5)
            throw new Error(`not one uncompressed gRPC frame (${body.length} bytes)`)
          return decodeProtoExport(body.subarray(5))
        })
      if (status !== 0) {
        // Trailers-only, as gRPC servers answer a call they refuse.
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': String(status),
            'grpc-message': encodeURIComponent(answer)
          },
          { endStream: true }
        )
        return
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true })
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }))
      stream.end(Buffer.alloc(5)) // an empty ExportLogsServiceResponse
    })
  }
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return flat
}

function decodeInto(record: ReceivedExport, decode: () => DecodedExport): void {
  try {
    record.decoded = decode()
  } catch (error) {
    record.decodeError = error instanceof Error ? error.message : String(error)
  }
}

// ------------------------------------------------------------- OTLP/JSON

interface JsonKeyValue {
  key: string
  value?: { stringValue?: string }
}
interface JsonExport {
  resourceLogs?: Array<{
    resource?: { attributes?: JsonKeyValue[] }
    scopeLogs?: Array<{
      scope?: { name?: string }
      logRecords?: Array<{
        timeUnixNano?: string
        severityNumber?: number
        severityText?: string
        body?: { stringValue?: string }
        attributes?: JsonKeyValue[]
      }>
    }>
  }>
}

const jsonAttributes = (list: JsonKeyValue[] | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, kv.value?.stringValue ?? '']))

function decodeJsonExport(json: JsonExport): DecodedExport {
  const resourceLogs = json.resourceLogs?.[0]
  const scopeLogs = resourceLogs?.scopeLogs?.[0]
  const record = scopeLogs?.logRecords?.[0]
  if (!record) throw new Error('no log record')
  return {
    resourceAttributes: jsonAttributes(resourceLogs?.resource?.attributes),
    scopeName: scopeLogs?.scope?.name ?? '',
    body: record.body?.stringValue ?? '',
    severityNumber: record.severityNumber ?? 0,
    severityText: record.severityText ?? '',
    timeUnixNano: BigInt(record.timeUnixNano ?? '0'),
    logAttributes: jsonAttributes(record.attributes)
  }
}

// ------------------------------------------------------------- protobuf (a generic wire-format reader)

type WireValue = bigint | Buffer

/** Fields of one message: number → values in order (varint/fixed as bigint, length-delimited as bytes). */
function readMessage(bytes: Buffer): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>()
  let offset = 0
  const readVarint = (): bigint => {
    let result = 0n
    let shift = 0n
    for (;;) {
      if (offset >= bytes.length) throw new Error('truncated varint')
      const byte = bytes[offset++] ?? 0
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
    }
  }
  while (offset < bytes.length) {
    const tag = Number(readVarint())
    const field = tag >>> 3
    const wireType = tag & 7
    let value: WireValue
    if (wireType === 0) value = readVarint()
    else if (wireType === 1) {
      value = bytes.readBigUInt64LE(offset)
      offset += 8
    } else if (wireType === 5) {
      value = BigInt(bytes.readUInt32LE(offset))
      offset += 4
    } else if (wireType === 2) {
      const length = Number(readVarint())
      if (offset + length > bytes.length) throw new Error('truncated length-delimited field')
      value = bytes.subarray(offset, offset + length)
      offset += length
    } else throw new Error(`unsupported wire type ${wireType}`)
    fields.set(field, [...(fields.get(field) ?? []), value])
  }
  return fields
}

function bytesOf(fields: Map<number, WireValue[]>, field: number): Buffer[] {
  return (fields.get(field) ?? []).filter((value): value is Buffer => Buffer.isBuffer(value))
}
const first = (fields: Map<number, WireValue[]>, field: number): Buffer => bytesOf(fields, field)[0] ?? Buffer.alloc(0)
const text = (fields: Map<number, WireValue[]>, field: number): string => first(fields, field).toString('utf8')
const number = (fields: Map<number, WireValue[]>, field: number): bigint => {
  const value = fields.get(field)?.[0]
  return typeof value === 'bigint' ? value : 0n
}

function protoAttributes(list: Buffer[]): Record<string, string> {
  return Object.fromEntries(
    list.map((kv) => {
      const fields = readMessage(kv)
      return [text(fields, 1), text(readMessage(first(fields, 2)), 1)]
    })
  )
}

/** ExportLogsServiceRequest → its first log record, per opentelemetry-proto's logs.proto field numbers. */
export function decodeProtoExport(message: Buffer): DecodedExport {
  const request = readMessage(message)
  const resourceLogs = readMessage(first(request, 1))
  const resource = readMessage(first(resourceLogs, 1))
  const scopeLogs = readMessage(first(resourceLogs, 2))
  const scope = readMessage(first(scopeLogs, 1))
  const recordBytes = bytesOf(scopeLogs, 2)[0]
  if (!recordBytes) throw new Error('no log record')
  const record = readMessage(recordBytes)
  return {
    resourceAttributes: protoAttributes(bytesOf(resource, 1)),
    scopeName: text(scope, 1),
    body: text(readMessage(first(record, 5)), 1),
    severityNumber: Number(number(record, 2)),
    severityText: text(record, 3),
    timeUnixNano: number(record, 1),
    logAttributes: protoAttributes(bytesOf(record, 6))
  }
}
