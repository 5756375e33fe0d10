// A stand-in OTLP/HTTP endpoint for the action's preflight (apply sends one log record to
// otlp-endpoint before changing anything): answers every POST 200 `{}` after `latencyMs`, and counts.
import http from 'node:http'

export async function startOtlpStub({ latencyMs = 0 } = {}) {
  const requests = []
  const sockets = new Set()
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      requests.push({ time: Date.now(), method: req.method, path: req.url })
      setTimeout(() => {
        res.writeHead(req.method === 'POST' ? 200 : 405, { 'content-type': 'application/json' })
        res.end('{}')
      }, latencyMs)
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
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    reset: () => (requests.length = 0),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
  }
}
