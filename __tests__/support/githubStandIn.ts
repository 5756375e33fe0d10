/**
 * A stand-in for the part of GitHub's API that issue comments use, on 127.0.0.1: the REST comment endpoints and
 * GraphQL's `viewer` (who the token is). Comments live in memory, by several authors; every request is recorded,
 * and answers can be made to fail as GitHub does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StandInComment {
  id: number
  body: string
  user: { login: string; type: 'Bot' | 'User' }
  html_url: string
  issue: string
}

export interface RecordedRequest {
  method: string
  /** Path and query, as sent. */
  path: string
  authorization: string | undefined
  body: unknown
}

export interface Failure {
  status: number
  message: string
  /** Only requests with this method fail; all of them when absent. */
  method?: string
  /** Only requests to this path (no query) fail; all of them when absent. */
  path?: string
  headers?: Record<string, string>
  /** How many matching requests fail; every one when absent. */
  times?: number
}

/** GitHub refuses longer comment bodies with 422; the stand-in does too, so a test sees an over-long body fail. */
export const GITHUB_MAX_BODY = 65536

/** The account the Actions token acts as, as the REST API names a comment's author. */
export const ACTIONS_BOT = { login: 'github-actions[bot]', type: 'Bot' } as const
const BOT = ACTIONS_BOT

export class GitHubStandIn {
  readonly requests: RecordedRequest[] = []
  private readonly comments: StandInComment[] = []
  private failures: Failure[] = []
  private viewer: string | undefined = BOT.login
  private nextId = 1000
  private server: Server | undefined
  private base = ''

  /** Starts listening on a random port of 127.0.0.1 and returns the API base URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(599, { 'content-type': 'text/plain' })
        res.end(String(error))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    this.server = server
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return this.base
  }

  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
  }

  /** Forgets comments, requests and failures between tests. */
  reset(): void {
    this.requests.length = 0
    this.comments.length = 0
    this.failures = []
    this.viewer = BOT.login
  }

  /**
   * The login GraphQL's `viewer` gives the token: github-actions[bot] unless told otherwise; undefined makes it
   * answer with an error, as GitHub does for a token that may not read it.
   */
  setViewer(login: string | undefined): void {
    this.viewer = login
  }

  /** Makes matching requests fail, as a token without the permission or a broken GitHub would. */
  failWith(failure: Failure): void {
    this.failures.push(failure)
  }

  /** Puts a comment on an issue or pull request, as if someone had written it before. */
  addComment(
    owner: string,
    repo: string,
    issue: number,
    body: string,
    user: StandInComment['user'] = BOT
  ): StandInComment {
    const id = this.nextId++
    const comment: StandInComment = {
      id,
      body,
      user,
      html_url: `https://github.example/${owner}/${repo}/pull/${issue}#issuecomment-${id}`,
      issue: `${owner}/${repo}/${issue}`
    }
    this.comments.push(comment)
    return comment
  }

  /** The comments of one issue or pull request, oldest first. */
  commentsOf(owner: string, repo: string, issue: number): StandInComment[] {
    return this.comments.filter((comment) => comment.issue === `${owner}/${repo}/${issue}`)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base)
    const method = req.method ?? 'GET'
    const raw = await readBody(req)
    const body: unknown = raw ? JSON.parse(raw) : undefined
    this.requests.push({ method, path: `${url.pathname}${url.search}`, authorization: req.headers.authorization, body })

    const failure = this.failures.find(
      (f) => (f.method === undefined || f.method === method) && (f.path === undefined || f.path === url.pathname)
    )
    if (failure) {
      if (failure.times !== undefined && --failure.times <= 0)
        this.failures = this.failures.filter((f) => f !== failure)
      const documentation = 'https://docs.github.com/rest'
      return send(res, failure.status, { message: failure.message, documentation_url: documentation }, failure.headers)
    }

    if (url.pathname === '/graphql' && method === 'POST') return this.graphql(res, body)
    const list = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname)
    if (list) {
      const [, owner = '', repo = '', issue = ''] = list
      if (method === 'GET') return this.list(res, url, this.commentsOf(owner, repo, Number(issue)))
      if (method === 'POST') {
        const text = bodyText(body)
        if (text === undefined) return send(res, 422, { message: 'Validation Failed' })
        if (text.length > GITHUB_MAX_BODY)
          return send(res, 422, { message: 'Body is too long (maximum is 65536 characters)' })
        return send(res, 201, this.addComment(owner, repo, Number(issue), text))
      }
    }
    const one = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname)
    if (one && method === 'PATCH') {
      const comment = this.comments.find((c) => c.id === Number(one[3]))
      if (!comment) return send(res, 404, { message: 'Not Found' })
      const text = bodyText(body)
      if (text === undefined) return send(res, 422, { message: 'Validation Failed' })
      if (text.length > GITHUB_MAX_BODY)
        return send(res, 422, { message: 'Body is too long (maximum is 65536 characters)' })
      comment.body = text
      return send(res, 200, comment)
    }
    send(res, 404, { message: 'Not Found' })
  }

  // Only `viewer { login }` is known; GitHub answers a refused query with 200 and an `errors` list.
  private graphql(res: ServerResponse, body: unknown): void {
    const query = typeof body === 'object' && body !== null && 'query' in body ? String(body.query) : ''
    if (!/\bviewer\s*\{\s*login\s*\}/.test(query))
      return send(res, 200, { data: null, errors: [{ message: `The stand-in does not know this query: ${query}` }] })
    if (this.viewer === undefined)
      return send(res, 200, {
        data: null,
        errors: [{ type: 'FORBIDDEN', message: 'Resource not accessible by integration' }]
      })
    send(res, 200, { data: { viewer: { login: this.viewer } } })
  }

  // Pages as GitHub does: per_page up to 100 (30 by default), and a Link header naming the other pages.
  private list(res: ServerResponse, url: URL, comments: StandInComment[]): void {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30) || 30)
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
    const last = Math.max(1, Math.ceil(comments.length / perPage))
    const at = (n: number): string => {
      const target = new URL(url)
      target.searchParams.set('per_page', String(perPage))
      target.searchParams.set('page', String(n))
      return target.href
    }
    const links: string[] = []
    if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`)
    if (page > 1) links.push(`<${at(1)}>; rel="first"`, `<${at(page - 1)}>; rel="prev"`)
    const headers = links.length > 0 ? { link: links.join(', ') } : undefined
    send(res, 200, comments.slice((page - 1) * perPage, page * perPage), headers)
  }
}

function bodyText(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('body' in body)) return undefined
  return typeof body.body === 'string' ? body.body : undefined
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function send(res: ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(data))
}
