/** The plan comment as the run posts it: what the reporter is told in each case, and what reaches GitHub. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import type { ActionConfig } from '../../../src/core/config.js'
import { createRedactor } from '../../../src/core/redact.js'
import type { RunResult } from '../../../src/core/summary.js'
import { MemoryReporter } from '../../../src/github/memoryReporter.js'
import { fleetRun } from '../../support/fleet.js'
import { GitHubStandIn, GITHUB_MAX_BODY } from '../../support/githubStandIn.js'

// As in prComment.test.ts: a runner's proxy must not catch the stand-in's traffic.
for (const name of ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY']) delete process.env[name]
const { postPlanComment } = await import('../../../src/github/planComment.js')
const { createGitHubClient, planMarker } = await import('../../../src/github/prComment.js')
// Retries after 1 ms, writes unspaced (prComment.test.ts tests the run's own pacing).
const FAST = { retryUnitMs: 1, spaceWrites: false }

const TOKEN = 'ghs_standInToken0123456789abcdef'
const repo = { owner: 'acme', repo: 'lambdas' }
const PULL_REQUEST = { eventName: 'pull_request', payload: { pull_request: { number: 42 } }, repo }
const RESULT: RunResult = { mode: 'plan', outcomes: [], layers: new Map(), testInvoke: false, notes: [] }
const config = (githubToken: string | undefined) => ({ mode: 'plan', prComment: true, githubToken }) as ActionConfig

const github = new GitHubStandIn()
let apiUrl = ''
beforeAll(async () => {
  apiUrl = await github.start()
})
afterAll(async () => {
  await github.stop()
})
beforeEach(() => github.reset())

const env = () => ({
  GITHUB_API_URL: apiUrl,
  GITHUB_WORKFLOW: 'deploy',
  GITHUB_JOB: 'plan',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/lambdas',
  GITHUB_RUN_ID: '7'
})

async function post({
  token = TOKEN,
  event = PULL_REQUEST,
  secrets = [] as string[]
}: { token?: string; event?: typeof PULL_REQUEST; secrets?: string[] } = {}): Promise<MemoryReporter> {
  const reporter = new MemoryReporter()
  await postPlanComment(config(token || undefined), RESULT, createRedactor(secrets), {
    reporter,
    env: env(),
    event,
    github: (token: string, baseUrl: string) => createGitHubClient(token, baseUrl, FAST)
  })
  return reporter
}
const comments = () => github.commentsOf('acme', 'lambdas', 42)

describe('postPlanComment', () => {
  it('does nothing outside a pull request', async () => {
    const reporter = await post({ event: { ...PULL_REQUEST, eventName: 'push' } })
    expect(reporter.reported).toEqual([])
    expect(github.requests).toEqual([])
  })

  it('warns, and asks nothing of GitHub, without a token', async () => {
    const reporter = await post({ token: '' })
    expect(reporter.reported).toEqual([
      {
        kind: 'warning',
        text: 'No github-token: the plan is not posted on the pull request. Leave github-token at its default (github.token).',
        properties: undefined
      }
    ])
    expect(github.requests).toEqual([])
  })

  it('posts the plan at GITHUB_API_URL under the marker of the workflow and job, and prints where, as outside text', async () => {
    const reporter = await post()
    const [comment] = comments()
    expect(comments()).toHaveLength(1)
    expect(comment?.body.startsWith(planMarker('deploy/plan'))).toBe(true)
    expect(comment?.body).toContain('https://github.com/acme/lambdas/actions/runs/7')
    expect(reporter.reported).toEqual([
      { kind: 'outside', lines: [`Plan comment created on pull request #42: ${comment?.html_url}.`] }
    ])

    // The next run edits the same comment.
    const again = await post()
    expect(comments()).toHaveLength(1)
    expect(again.reported).toEqual([
      { kind: 'outside', lines: [`Plan comment unchanged on pull request #42: ${comment?.html_url}.`] }
    ])
  })

  it('warns, and does not fail the step, when the token may not comment', async () => {
    github.failWith({ method: 'POST', status: 403, message: 'Resource not accessible by integration' })
    const reporter = await post()
    expect(reporter.annotations('warning').map(({ text }) => text)).toEqual([
      expect.stringMatching(
        /^Could not write the plan comment on pull request #42: the token lacks permission\. .*pull-requests: write/
      )
    ])
    expect(reporter.failures).toEqual([])
    expect(comments()).toEqual([])
  })

  it.each([1000, 5000])(
    'posts the plan of %i functions as one comment GitHub accepts, with the count of every status and where the rest is',
    async (size) => {
      const reporter = new MemoryReporter()
      const run = fleetRun('plan', size)
      await postPlanComment(config(TOKEN), run, createRedactor([]), {
        reporter,
        env: env(),
        event: PULL_REQUEST,
        github: (token: string, baseUrl: string) => createGitHubClient(token, baseUrl, FAST)
      })
      // The stand-in, like GitHub, refuses a body over 65,536 characters: one comment means it fitted.
      const [comment] = comments()
      expect(comments()).toHaveLength(1)
      expect(comment?.body.length).toBeLessThanOrEqual(GITHUB_MAX_BODY)
      expect(reporter.annotations('warning')).toEqual([])
      expect(comment?.body).toContain(`${size} functions: `)
      expect(comment?.body).toContain('Every function, with its error and diff, is in the job summary of this run')
      // Fitted by whole blocks, never by the last-resort cut in the middle of the plan.
      expect(comment?.body).not.toContain('The plan was cut here')
    }
  )

  it("warns with GitHub's error, redacted, when the comment cannot be written", async () => {
    github.failWith({ method: 'POST', status: 500, message: 'broken by hunter2-the-secret' })
    const reporter = await post({ secrets: ['hunter2-the-secret'] })
    const warnings = reporter.annotations('warning').map(({ text }) => text)
    expect(warnings).toEqual([expect.stringMatching(/^Could not write the plan comment on pull request #42: 500 /)])
    expect(warnings[0]).toContain('broken by')
    expect(warnings[0]).not.toContain('hunter2-the-secret')
    expect(reporter.failures).toEqual([])
  })
})
