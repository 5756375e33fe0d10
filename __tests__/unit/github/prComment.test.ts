import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { ACTIONS_BOT, GitHubStandIn } from '../../support/githubStandIn.js'

// @actions/github picks its proxy when first imported, for GITHUB_API_URL or api.github.com, and sends every
// request through it whatever baseUrl is given later: a runner's proxy must not catch the stand-in's traffic.
for (const name of ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY']) delete process.env[name]
const { getOctokit } = await import('@actions/github')
const {
  MAX_COMMENT_LENGTH,
  PLAN_MARKER_PREFIX,
  TRUNCATION_NOTICE,
  commentBody,
  planMarker,
  pullRequestOf,
  upsertPlanComment
} = await import('../../../src/github/prComment.js')
const { isAuthor } = await import('../../../src/github/tokenIdentity.js')

const TOKEN = 'ghs_standInToken0123456789abcdef'
const PR = { owner: 'acme', repo: 'lambdas', number: 42 }
const MARKER = planMarker('deploy.yml / plan')
const PERMISSION_HINT = 'Add `permissions: pull-requests: write` to the job'

const github = new GitHubStandIn()
let apiUrl = ''

beforeAll(async () => {
  apiUrl = await github.start()
})
afterAll(async () => {
  await github.stop()
})
beforeEach(() => github.reset())

// Retries after 1 ms instead of 1 s, and writes unspaced: the pacing itself is tested below with the run's own.
const FAST = { retryUnitMs: 1, spaceWrites: false }
const upsert = (body: string, marker = MARKER) =>
  upsertPlanComment({ token: TOKEN, pullRequest: PR, body, marker, apiUrl, timing: FAST })
const comments = () => github.commentsOf(PR.owner, PR.repo, PR.number)
const isGraphql = (r: { path: string }): boolean => r.path === '/graphql'
// Comment writes only: asking GraphQL who the token is is a POST too.
const writes = () => github.requests.filter((r) => r.method !== 'GET' && !isGraphql(r))
const MALLORY = { login: 'mallory', type: 'User' } as const

describe('pullRequestOf', () => {
  const repo = { owner: 'acme', repo: 'lambdas' }

  it('gives the pull request of pull_request and pull_request_target events', () => {
    expect(pullRequestOf({ eventName: 'pull_request', payload: { pull_request: { number: 7 } }, repo })).toEqual({
      owner: 'acme',
      repo: 'lambdas',
      number: 7
    })
    expect(pullRequestOf({ eventName: 'pull_request_target', payload: { pull_request: { number: 8 } }, repo })).toEqual(
      {
        owner: 'acme',
        repo: 'lambdas',
        number: 8
      }
    )
  })

  it('gives nothing for other events, even with a pull request in the payload, or without one', () => {
    expect(pullRequestOf({ eventName: 'push', payload: { pull_request: { number: 7 } }, repo })).toBeUndefined()
    expect(
      pullRequestOf({ eventName: 'issue_comment', payload: { pull_request: { number: 7 } }, repo })
    ).toBeUndefined()
    expect(pullRequestOf({ eventName: 'pull_request', payload: {}, repo })).toBeUndefined()
  })
})

describe('planMarker', () => {
  it('is a hidden HTML comment that starts with the prefix and names the key', () => {
    expect(planMarker('deploy.yml / plan')).toBe('<!-- rotel-clickstack-action:plan key=deploy.yml / plan -->')
    expect(planMarker('x').startsWith(PLAN_MARKER_PREFIX)).toBe(true)
  })

  it('cannot be ended early by the key', () => {
    const marker = planMarker('evil --> <b>shown</b> --- >x\nline')
    const inner = marker.slice('<!--'.length, -'-->'.length)
    expect(inner).not.toContain('--')
    expect(inner).not.toContain('>')
    expect(marker).not.toContain('\n')
    expect(marker.endsWith(' -->')).toBe(true)
  })

  it('differs between keys', () => {
    expect(planMarker('deploy / plan-eu')).not.toBe(planMarker('deploy / plan-us'))
  })
})

describe('upsertPlanComment against a GitHub stand-in', () => {
  it('creates one comment with the marker on the first run, sending the token', async () => {
    const result = await upsert('## Plan\n\n2 functions to update.')

    expect(result.outcome).toBe('created')
    expect(comments()).toHaveLength(1)
    const [comment] = comments()
    expect(comment?.body).toBe(`${MARKER}\n## Plan\n\n2 functions to update.`)
    expect(result).toEqual({ outcome: 'created', url: comment?.html_url })
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([`POST /repos/acme/lambdas/issues/42/comments`])
    expect(github.requests.length).toBeGreaterThan(0)
    for (const request of github.requests) expect(request.authorization).toBe(`token ${TOKEN}`)
  })

  it('updates that same comment in place on a later run with a new plan', async () => {
    await upsert('## Plan\n\nold')
    const [first] = comments()

    const result = await upsert('## Plan\n\nnew')

    expect(comments()).toHaveLength(1)
    expect(comments()[0]?.id).toBe(first?.id)
    expect(comments()[0]?.body).toBe(`${MARKER}\n## Plan\n\nnew`)
    expect(result).toEqual({ outcome: 'updated', url: first?.html_url })
    expect(writes().at(-1)).toMatchObject({
      method: 'PATCH',
      path: `/repos/acme/lambdas/issues/comments/${first?.id}`
    })
  })

  it('writes nothing when the plan is the same as the comment', async () => {
    await upsert('## Plan\n\nsame')
    await upsert('## Plan\n\nsame')
    const before = github.requests.length

    const result = await upsert('## Plan\n\nsame')

    expect(result.outcome).toBe('unchanged')
    expect(github.requests.slice(before).map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'POST /graphql',
      'GET /repos/acme/lambdas/issues/42/comments'
    ])
    expect(writes().map((r) => r.method)).toEqual(['POST'])
    expect(comments()).toHaveLength(1)
  })

  it("leaves another key's plan comment and people's comments alone", async () => {
    const otherMarker = planMarker('deploy.yml / plan-eu')
    const other = github.addComment(PR.owner, PR.repo, PR.number, `${otherMarker}\nthe eu plan`)
    // Quoting the marker further down, or a key that merely starts like this one, does not make a plan comment.
    const quote = github.addComment(PR.owner, PR.repo, PR.number, `Look at this:\n${MARKER}\n`, {
      login: 'octocat',
      type: 'User'
    })
    const longer = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER.replace(' -->', 'x -->')}\nx`)

    const created = await upsert('the us plan')
    expect(created.outcome).toBe('created')
    expect(comments()).toHaveLength(4)
    expect(other.body).toBe(`${otherMarker}\nthe eu plan`)
    expect(quote.body).toBe(`Look at this:\n${MARKER}\n`)
    expect(longer.body).toBe(`${MARKER.replace(' -->', 'x -->')}\nx`)

    const updated = await upsertPlanComment({
      token: TOKEN,
      pullRequest: PR,
      body: 'the new eu plan',
      marker: otherMarker,
      apiUrl,
      timing: FAST
    })
    expect(updated).toEqual({ outcome: 'updated', url: other.html_url })
    expect(other.body).toBe(`${otherMarker}\nthe new eu plan`)
    expect(comments().find((c) => c.body.startsWith(MARKER))?.body).toBe(`${MARKER}\nthe us plan`)
  })

  it('finds the plan comment on the second page of a pull request with more than 100 comments', async () => {
    for (let i = 0; i < 120; i++)
      github.addComment(PR.owner, PR.repo, PR.number, `comment ${i}`, { login: 'dev', type: 'User' })
    const plan = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nold plan`)
    for (let i = 0; i < 30; i++)
      github.addComment(PR.owner, PR.repo, PR.number, `later ${i}`, { login: 'dev', type: 'User' })

    const result = await upsert('new plan')

    expect(result).toEqual({ outcome: 'updated', url: plan.html_url })
    expect(plan.body).toBe(`${MARKER}\nnew plan`)
    expect(comments()).toHaveLength(151)
    const pages = github.requests.filter((r) => r.method === 'GET').map((r) => new URL(r.path, apiUrl).searchParams)
    expect(pages.map((p) => [p.get('per_page'), p.get('page') ?? '1'])).toEqual([
      ['100', '1'],
      ['100', '2']
    ])
  })

  it('stops paging once the plan comment is found', async () => {
    github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nold plan`)
    for (let i = 0; i < 250; i++)
      github.addComment(PR.owner, PR.repo, PR.number, `comment ${i}`, { login: 'dev', type: 'User' })

    expect((await upsert('new plan')).outcome).toBe('updated')
    expect(github.requests.filter((r) => r.method === 'GET')).toHaveLength(1)
  })

  it('creates the comment after reading every page when none has the marker', async () => {
    for (let i = 0; i < 205; i++)
      github.addComment(PR.owner, PR.repo, PR.number, `comment ${i}`, { login: 'dev', type: 'User' })

    expect((await upsert('plan')).outcome).toBe('created')
    expect(github.requests.filter((r) => r.method === 'GET')).toHaveLength(3)
    expect(comments().filter((c) => c.body.startsWith(MARKER))).toHaveLength(1)
  })

  it('reports a missing permission when GitHub refuses to create the comment with 403', async () => {
    github.failWith({ method: 'POST', status: 403, message: 'Resource not accessible by integration' })

    const result = await upsert('plan')

    expect(result.outcome).toBe('no-permission')
    const message = result.outcome === 'no-permission' ? result.message : ''
    expect(message).toContain('pull request #42')
    expect(message).toContain(PERMISSION_HINT)
    expect(message).toContain('pull_request_target')
    expect(message).not.toContain(TOKEN)
    expect(comments()).toHaveLength(0)
  })

  it('reports a missing permission for 401 and for 404 "Resource not accessible by integration"', async () => {
    github.failWith({ status: 401, message: 'Bad credentials' })
    expect(await upsert('plan')).toMatchObject({
      outcome: 'no-permission',
      message: expect.stringContaining(PERMISSION_HINT)
    })

    github.reset()
    github.failWith({ method: 'GET', status: 404, message: 'Resource not accessible by integration' })
    expect(await upsert('plan')).toMatchObject({
      outcome: 'no-permission',
      message: expect.stringContaining(PERMISSION_HINT)
    })
  })

  it('throws with the status for a plain 404 and for a 403 from the rate limit, which no permission fixes', async () => {
    github.failWith({ method: 'GET', status: 404, message: 'Not Found' })
    await expect(upsert('plan')).rejects.toThrow('Could not write the plan comment on pull request #42: 404 Not Found')

    github.reset()
    github.failWith({
      method: 'POST',
      status: 403,
      message: 'API rate limit exceeded for installation ID 1.',
      headers: { 'x-ratelimit-remaining': '0' }
    })
    const error = await upsert('plan').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(
      /^Could not write the plan comment on pull request #42: 403 API rate limit exceeded/
    )
    expect((error as Error).message).not.toContain(PERMISSION_HINT)
  })

  it('throws with context, and without the token, when GitHub fails with 500', async () => {
    github.failWith({ method: 'PATCH', status: 500, message: `Server Error near ${TOKEN}` })
    github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nold plan`)

    const error = await upsert('new plan').catch((e: unknown) => e)

    expect(error).toBeInstanceOf(Error)
    const message = (error as Error).message
    expect(message).toMatch(/^Could not write the plan comment on pull request #42: 500 Server Error/)
    expect(message).toContain('updating comment')
    expect(message).not.toContain(TOKEN)
  })

  it('cuts a plan too long for one comment, keeping the marker and saying where the rest is', async () => {
    const row = '| orders-api | us-east-1 | x86_64 | ✅ planned | `rotel-extension-amd64-alpha:41` |\n'
    const plan = `## Plan\n\n${row.repeat(2000)}`
    expect(`${MARKER}\n${plan}`.length).toBeGreaterThan(MAX_COMMENT_LENGTH)

    const result = await upsert(plan)

    // The stand-in, like GitHub, answers 422 to a body over 65536 characters: 'created' means it fitted.
    expect(result.outcome).toBe('created')
    const body = comments()[0]?.body ?? ''
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH)
    expect(body.length).toBeGreaterThan(MAX_COMMENT_LENGTH - row.length - TRUNCATION_NOTICE.length - 10)
    expect(body.startsWith(`${MARKER}\n## Plan\n`)).toBe(true)
    expect(body.endsWith(`\n\n${TRUNCATION_NOTICE}`)).toBe(true)
    expect(TRUNCATION_NOTICE).toMatch(/cut.*job summary/)
    // Whole table rows only.
    expect(body.slice(0, -TRUNCATION_NOTICE.length - 2).endsWith('`rotel-extension-amd64-alpha:41` |')).toBe(true)

    // The cut is the same every run, so the next run with the same plan leaves the comment be.
    expect((await upsert(plan)).outcome).toBe('unchanged')
  })
})

describe("upsertPlanComment: only the comments of the token's own account are ever edited", () => {
  it('leaves a comment someone else posted with the marker alone, and creates and then updates its own', async () => {
    const fake = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\n## Plan\n\n✅ nothing to change`, MALLORY)

    const created = await upsert('the real plan')
    expect(created.outcome).toBe('created')
    expect(created).not.toHaveProperty('warning')
    const ours = comments().find((c) => c.id !== fake.id)
    expect(ours).toMatchObject({ user: ACTIONS_BOT, body: `${MARKER}\nthe real plan` })

    const updated = await upsert('the next plan')
    expect(updated).toEqual({ outcome: 'updated', url: ours?.html_url })
    expect(ours?.body).toBe(`${MARKER}\nthe next plan`)
    expect(fake.body).toBe(`${MARKER}\n## Plan\n\n✅ nothing to change`)
    expect(comments()).toHaveLength(2)
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /repos/acme/lambdas/issues/42/comments',
      `PATCH /repos/acme/lambdas/issues/comments/${ours?.id}`
    ])
  })

  it("leaves another app's bot alone too, and a person named like the token's app", async () => {
    const otherBot = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nfake`, {
      login: 'evil-app[bot]',
      type: 'Bot'
    })
    const namesake = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nfake`, {
      login: 'github-actions',
      type: 'User'
    })

    expect((await upsert('plan')).outcome).toBe('created')
    expect(otherBot.body).toBe(`${MARKER}\nfake`)
    expect(namesake.body).toBe(`${MARKER}\nfake`)
    expect(comments()).toHaveLength(3)
  })

  it('updates the first of two of its own comments and leaves the second', async () => {
    const first = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nplan one`)
    const second = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nplan two`)

    expect(await upsert('plan three')).toEqual({ outcome: 'updated', url: first.html_url })
    expect(first.body).toBe(`${MARKER}\nplan three`)
    expect(second.body).toBe(`${MARKER}\nplan two`)
  })

  it("with a personal token, edits its user's comment and not the Actions bot's", async () => {
    github.setViewer('alice')
    const bots = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nby the bot`)
    const alices = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nby alice`, {
      login: 'alice',
      type: 'User'
    })

    expect(await upsert('new')).toEqual({ outcome: 'updated', url: alices.html_url })
    expect(bots.body).toBe(`${MARKER}\nby the bot`)
  })

  it("never edits when the token's account cannot be learned: writes a new comment and says why, without the token", async () => {
    const earlier = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nold plan`)
    const fake = github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nfake`, MALLORY)
    github.failWith({ path: '/graphql', status: 502, message: `Bad gateway, token ${TOKEN}` })

    const result = await upsert('new plan')

    expect(result.outcome).toBe('created')
    const warning = result.outcome === 'created' ? result.warning : undefined
    expect(warning).toMatch(
      /^Could not learn which account github-token acts as \(502 .*\).* a new comment was written on pull request #42 instead of editing one\.$/
    )
    expect(warning).not.toContain(TOKEN)
    expect(earlier.body).toBe(`${MARKER}\nold plan`)
    expect(fake.body).toBe(`${MARKER}\nfake`)
    expect(comments()).toHaveLength(3)
    expect(github.requests.filter((r) => r.method === 'PATCH' || r.method === 'DELETE')).toEqual([])
  })

  it('treats a GraphQL answer with errors, or with no login, the same way', async () => {
    github.addComment(PR.owner, PR.repo, PR.number, `${MARKER}\nold plan`)
    github.setViewer(undefined)
    const refused = await upsert('plan')
    expect(refused).toMatchObject({
      outcome: 'created',
      warning: expect.stringContaining('Resource not accessible by integration')
    })
    github.setViewer('')
    expect(await upsert('plan')).toMatchObject({
      outcome: 'created',
      warning: expect.stringContaining('GitHub named no account')
    })
    expect(writes().map((r) => r.method)).toEqual(['POST', 'POST'])
  })
})

describe('isAuthor', () => {
  it.each([
    [{ login: 'github-actions[bot]', type: 'Bot' }, 'github-actions[bot]', true],
    // Should GraphQL leave the suffix off, a bot still matches; a person with the bare name does not.
    [{ login: 'my-app[bot]', type: 'Bot' }, 'my-app', true],
    [{ login: 'my-app', type: 'User' }, 'my-app[bot]', false],
    [{ login: 'my-app[bot]', type: 'User' }, 'my-app', false],
    [{ login: 'alice', type: 'User' }, 'alice', true],
    [{ login: 'alice', type: 'User' }, 'Alice2', false],
    [{ login: '', type: 'User' }, '', false],
    [null, 'alice', false]
  ])('%j written by %s: %s', (user, login, expected) => {
    expect(isAuthor(user, login)).toBe(expected)
  })
})

describe('commentBody', () => {
  it('keeps a plan that fits exactly', () => {
    const plan = 'x'.repeat(MAX_COMMENT_LENGTH - MARKER.length - 1)
    expect(commentBody(MARKER, plan)).toBe(`${MARKER}\n${plan}`)
    expect(commentBody(MARKER, `${plan}x`)).not.toBe(`${MARKER}\n${plan}x`)
  })

  it('closes a code fence left open by the cut, so that the notice is not shown as code', () => {
    const body = commentBody(MARKER, `intro\n~~~~diff\n${'+ line\n'.repeat(20000)}~~~~\n`)
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH)
    expect(body.endsWith(`+ line\n~~~~\n\n${TRUNCATION_NOTICE}`)).toBe(true)
  })

  it('never splits a character made of two UTF-16 units when there is no line to cut at', () => {
    const body = commentBody(MARKER, '🚀'.repeat(40000))
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH)
    const kept = body.slice(MARKER.length + 1, -TRUNCATION_NOTICE.length - 2)
    expect(kept.length).toBeGreaterThan(60000)
    expect(kept).toMatch(/^(🚀)+$/u)
  })
})

describe('the client upsertPlanComment builds', () => {
  it('is not built when one is given', async () => {
    const octokit = getOctokit('ghs_otherToken', { baseUrl: apiUrl })
    const result = await upsertPlanComment({ token: TOKEN, pullRequest: PR, body: 'plan', marker: MARKER, octokit })
    expect(result.outcome).toBe('created')
    expect(github.requests.map((r) => r.authorization)).toEqual(Array(3).fill('token ghs_otherToken'))
  })
})

describe("the run's client: GitHub's server errors and rate limits are waited out", () => {
  // The run's own pacing (no timing given): waits of whole seconds, so each case waits one unit at most.
  const upsertAsRun = (body: string) =>
    upsertPlanComment({ token: TOKEN, pullRequest: PR, body, marker: MARKER, apiUrl })
  const posts = () => github.requests.filter((r) => r.method === 'POST' && !isGraphql(r))

  it('sends a comment again after a 502, and writes it once', async () => {
    github.failWith({
      method: 'POST',
      path: `/repos/acme/lambdas/issues/42/comments`,
      status: 502,
      message: 'Bad gateway',
      times: 1
    })
    expect(await upsertAsRun('plan')).toMatchObject({ outcome: 'created' })
    expect(posts()).toHaveLength(2)
    expect(comments().map((c) => c.body)).toEqual([`${MARKER}\nplan`])
  })

  it('waits out a secondary rate limit for its Retry-After, then writes', async () => {
    github.failWith({
      method: 'POST',
      path: `/repos/acme/lambdas/issues/42/comments`,
      status: 403,
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      headers: { 'retry-after': '1' },
      times: 1
    })
    const started = Date.now()
    expect(await upsertAsRun('plan')).toMatchObject({ outcome: 'created' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(posts()).toHaveLength(2)
  })

  it('gives up on a rate limit that would hold the job over a minute, saying so', async () => {
    github.failWith({
      method: 'POST',
      status: 403,
      message: 'API rate limit exceeded for installation ID 1.',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600) }
    })
    await expect(upsertAsRun('plan')).rejects.toThrow(/403 API rate limit exceeded/)
    expect(posts()).toHaveLength(1)
  })
})
