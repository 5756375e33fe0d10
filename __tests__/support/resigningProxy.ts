/**
 * A proxy in front of moto for tests that run with IAM enforcement on: it re-signs each request the way
 * moto checks signatures, with the same access key, and records every call and its answer.
 *
 * Why: with enforcement on, moto recomputes the SigV4 signature of each request, but over the
 * URL-*decoded* path. The AWS SDK signs (correctly) the path as sent, where a function or layer ARN
 * is percent-encoded, so every Lambda call that names a function or layer by ARN – UpdateFunctionConfiguration,
 * Invoke, GetLayerVersion as the action makes them – is refused with SignatureDoesNotMatch. The proxy
 * signs again over the canonical path moto computes (each decoded segment encoded once), with the
 * secret key of the same access key. Which actions the key may call is still decided by moto, from the
 * key's IAM policies: the proxy changes the signature, never the identity.
 */
import { createHash, createHmac } from 'node:crypto'
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ProxiedCall {
  readonly method: string
  /** Path and query as sent. */
  readonly path: string
  /** From the credential scope: `lambda`, `logs`, `iam`, `sts`. */
  readonly service: string
  /** The API operation: `GetFunctionConfiguration`, `Invoke`, `DescribeLogStreams`, …; `Unknown` when not recognised. */
  readonly operation: string
  /** The access key that signed it. */
  readonly accessKeyId: string
  readonly status: number
  /** For an error answer: its `<Code>` (XML) or `__type` (JSON), when there is one. */
  readonly errorCode: string | undefined
  /** For an error answer: its message, e.g. moto's "User: … is not authorized to perform: lambda:Invoke". */
  readonly errorMessage: string | undefined
}

export interface ResigningProxy {
  /** http://127.0.0.1:PORT: use it as AWS_ENDPOINT_URL. */
  readonly url: string
  /** Every call so far, oldest first. */
  readonly calls: ProxiedCall[]
  /** The secret key of each access key the proxy may sign for. */
  readonly secrets: Map<string, string>
  close(): Promise<void>
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest()

/** RFC 3986 encoding, as botocore's quote(…, safe='/~') per segment. */
const encodeSegment = (segment: string): string =>
  encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

function canonicalPath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeSegment(decodeURIComponent(segment)))
    .join('/')
}

/** The query as botocore canonicalises a URL's query: raw pairs, sorted. */
function canonicalQuery(query: string): string {
  if (query === '') return ''
  return query
    .split('&')
    .map((pair) => {
      const at = pair.indexOf('=')
      return at < 0 ? ([pair, ''] as const) : ([pair.slice(0, at), pair.slice(at + 1)] as const)
    })
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&')
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name]
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().split(/\s+/).join(' ')
}

/** The Authorization header for this request, signed as moto verifies it; undefined when the key is unknown. */
function resign(
  method: string,
  rawPath: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  secrets: ReadonlyMap<string, string>
): { authorization: string; accessKeyId: string; service: string } | undefined {
  const authorization = headerValue(headers, 'authorization')
  const scope = /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization)
  const signed = /SignedHeaders=([^,\s]+)/.exec(authorization)?.[1]
  if (!scope || !signed) return undefined
  const [, accessKeyId = '', day = '', region = '', service = ''] = scope
  const secret = secrets.get(accessKeyId)
  if (secret === undefined) return { authorization, accessKeyId, service }
  const amzDate = headerValue(headers, 'x-amz-date')
  const [path = '/', query = ''] = rawPath.split(/\?(.*)/s)
  const signedHeaders = signed.split(';')
  const payloadHash = headers['x-amz-content-sha256'] ? headerValue(headers, 'x-amz-content-sha256') : sha256(body)
  const canonical = [
    method,
    canonicalPath(path),
    canonicalQuery(query),
    signedHeaders.map((name) => `${name}:${headerValue(headers, name)}\n`).join(''),
    signed,
    payloadHash
  ].join('\n')
  const credentialScope = `${day}/${region}/${service}/aws4_request`
  const toSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256(canonical)].join('\n')
  let key = hmac(`AWS4${secret}`, day)
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part)
  const signature = createHmac('sha256', key).update(toSign).digest('hex')
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${credentialScope}, SignedHeaders=${signed}, Signature=${signature}`,
    accessKeyId,
    service
  }
}

const LAMBDA_OPERATIONS: ReadonlyArray<readonly [string, RegExp, string]> = [
  ['GET', /^\/2015-03-31\/functions\/?(\?|$)/, 'ListFunctions'],
  ['GET', /^\/2015-03-31\/functions\/[^/?]+\/configuration\/?(\?|$)/, 'GetFunctionConfiguration'],
  ['PUT', /^\/2015-03-31\/functions\/[^/?]+\/configuration\/?(\?|$)/, 'UpdateFunctionConfiguration'],
  ['POST', /^\/2015-03-31\/functions\/[^/?]+\/invocations\/?(\?|$)/, 'Invoke'],
  ['GET', /^\/2015-03-31\/functions\/[^/?]+\/?(\?|$)/, 'GetFunction'],
  ['GET', /^\/2018-10-31\/layers\/[^/?]+\/versions\/[^/?]+(\?|$)/, 'GetLayerVersion'],
  ['GET', /^\/2018-10-31\/layers\/[^/?]+\/versions\/?(\?|$)/, 'ListLayerVersions']
]

/** The operation a request calls: X-Amz-Target (JSON protocols), Action (query protocols), else Lambda's REST paths. */
function operationOf(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): string {
  const target = headerValue(headers, 'x-amz-target')
  if (target) return target.replace(/^.*\./, '')
  const action =
    new URLSearchParams(path.split('?')[1] ?? '').get('Action') ??
    new URLSearchParams(body.toString('utf8')).get('Action')
  if (action && /^[A-Za-z]+$/.test(action)) return action
  return LAMBDA_OPERATIONS.find(([m, pattern]) => m === method && pattern.test(path))?.[2] ?? 'Unknown'
}

function errorOf(body: string): { code: string | undefined; message: string | undefined } {
  const xmlCode = /<Code>([^<]*)<\/Code>/.exec(body)?.[1]
  if (xmlCode !== undefined) {
    const message = /<Message>(?:<!\[CDATA\[)?([\s\S]*?)(?:\]\]>)?<\/Message>/.exec(body)?.[1]
    return { code: xmlCode, message }
  }
  try {
    const json = JSON.parse(body) as { __type?: string; message?: string; Message?: string }
    return { code: json.__type?.replace(/^.*#/, ''), message: json.message ?? json.Message }
  } catch {
    return { code: undefined, message: undefined }
  }
}

/** Starts the proxy on 127.0.0.1 (any free port) in front of moto at `target`. */
export async function startResigningProxy(target: string): Promise<ResigningProxy> {
  const upstream = new URL(target)
  const calls: ProxiedCall[] = []
  const secrets = new Map<string, string>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const method = req.method ?? 'GET'
      const rawPath = req.url ?? '/'
      const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host }
      const signing = resign(method, rawPath, headers, body, secrets)
      if (signing) headers.authorization = signing.authorization
      delete headers.connection
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method, path: rawPath, headers },
        (answer) => {
          const answerChunks: Buffer[] = []
          answer.on('data', (chunk: Buffer) => answerChunks.push(chunk))
          answer.on('end', () => {
            const answerBody = Buffer.concat(answerChunks)
            const status = answer.statusCode ?? 502
            const error = status >= 400 ? errorOf(answerBody.toString('utf8')) : { code: undefined, message: undefined }
            calls.push({
              method,
              path: rawPath,
              service: signing?.service ?? 'unknown',
              operation: operationOf(method, rawPath, req.headers, body),
              accessKeyId: signing?.accessKeyId ?? '',
              status,
              errorCode: error.code,
              errorMessage: error.message
            })
            const out = { ...answer.headers, 'content-length': String(answerBody.length) }
            delete out.connection
            delete out['transfer-encoding']
            res.writeHead(status, out)
            res.end(answerBody)
          })
        }
      )
      forward.on('error', (error) => {
        res.writeHead(502, { 'content-type': 'text/plain' })
        res.end(`proxy: ${error.message}`)
      })
      forward.end(body)
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    secrets,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      })
  }
}
