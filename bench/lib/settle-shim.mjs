// A shim between the fault proxy and moto that makes configuration updates take time to settle, as
// on Lambda: moto answers every UpdateFunctionConfiguration with LastUpdateStatus Successful at once,
// so the action's wait (waitUntilFunctionUpdated) is never exercised against it. Here the update is
// answered InProgress, and reads of that function (GetFunctionConfiguration, GetFunction) say
// InProgress until `settleMs` after the update; then moto's own answer (Successful) goes through.
import http from 'node:http'

const CONFIGURATION = /^\/\d{4}-\d{2}-\d{2}\/functions\/([^/]+)(\/configuration)?\/?$/

function functionName(id) {
  const decoded = decodeURIComponent(id)
  return /:function:([^:]+)/.exec(decoded)?.[1] ?? decoded.split(':')[0]
}

export async function startSettleShim({ target, settleMs }) {
  const upstream = new URL(target)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const updatedAt = new Map()
  const sockets = new Set()

  const forward = (req, body) =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) }
      delete headers.connection
      const request = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
        (response) => {
          const chunks = []
          response.on('data', (chunk) => chunks.push(chunk))
          response.on('end', () => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks) }))
          response.on('error', reject)
        }
      )
      request.on('error', reject)
      request.end(body)
    })

  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', async () => {
      try {
        const body = Buffer.concat(chunks)
        const answer = await forward(req, body)
        let out = answer.body
        const match = CONFIGURATION.exec(new URL(req.url ?? '/', 'http://shim.invalid').pathname)
        if (match && answer.status >= 200 && answer.status < 300) {
          const name = functionName(match[1])
          const isConfiguration = match[2] !== undefined
          if (req.method === 'PUT' && isConfiguration) updatedAt.set(name, Date.now())
          const since = updatedAt.get(name)
          if (since !== undefined && Date.now() - since < settleMs && (req.method === 'PUT' || req.method === 'GET')) {
            try {
              const json = JSON.parse(out.toString('utf8'))
              const config = isConfiguration ? json : json.Configuration
              if (config) {
                config.LastUpdateStatus = 'InProgress'
                delete config.LastUpdateStatusReason
                delete config.LastUpdateStatusReasonCode
                out = Buffer.from(JSON.stringify(json))
              }
            } catch {
              // not JSON: leave it
            }
          }
        }
        const headers = { ...answer.headers, 'content-length': String(out.length) }
        delete headers['transfer-encoding']
        delete headers.connection
        res.writeHead(answer.status, headers)
        res.end(out)
      } catch (error) {
        res.writeHead(502, { 'content-type': 'text/plain' })
        res.end(`settle shim: ${error instanceof Error ? error.message : String(error)}`)
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}`,
    reset: () => updatedAt.clear(),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
        agent.destroy()
      })
  }
}
