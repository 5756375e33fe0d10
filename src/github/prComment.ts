/** The plan as one pull-request comment, written on the first run and edited in place on later runs. */
import { getOctokit } from '@actions/github'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import { isAuthor, tokenIdentity } from './tokenIdentity.js'
import { messageOf } from '../core/errors.js'

/** A pull request, addressed as the REST API's issue endpoints want it. */
export interface PullRequestRef {
  owner: string
  repo: string
  number: number
}

/** The client `getOctokit` builds: REST endpoint methods plus pagination. */
export type GitHubClient = ReturnType<typeof getOctokit>

/** How the client waits: GitHub's own pacing in a run; tests shorten the waits and may leave writes unspaced. */
export interface GitHubClientTiming {
  /** The unit of every wait before a retry, in ms (a Retry-After of 2 waits 2 units). */
  readonly retryUnitMs: number
  /** Whether writes keep the spacing GitHub asks of integrations (one at a time, content creation 3 s apart). */
  readonly spaceWrites: boolean
}

const RUN_TIMING: GitHubClientTiming = { retryUnitMs: 1000, spaceWrites: true }
/** A rate-limit wait longer than this (seconds) fails the comment rather than hold the job. */
const MAX_RATE_LIMIT_WAIT_S = 60

/**
 * The client of a real run: the token, against the REST API at baseUrl. Octokit's retry plugin sends a
 * request that failed with a server error again (3 times, after 1, 4 and 9 units); its throttling plugin
 * waits out a primary or secondary rate limit (Retry-After, or until the reset) twice when the wait is at
 * most a minute, and spaces writes as GitHub's REST API best practices ask (docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api).
 */
export function createGitHubClient(token: string, baseUrl: string, timing = RUN_TIMING): GitHubClient {
  const waitOrGiveUp = (retryAfterS: number, _options: unknown, _octokit: unknown, retryCount: number): boolean =>
    retryCount < 2 && retryAfterS <= MAX_RATE_LIMIT_WAIT_S
  return getOctokit(
    token,
    {
      baseUrl,
      retry: { retryAfterBaseValue: timing.retryUnitMs },
      throttle: {
        enabled: timing.spaceWrites,
        retryAfterBaseValue: timing.retryUnitMs,
        onRateLimit: waitOrGiveUp,
        onSecondaryRateLimit: waitOrGiveUp
      }
    },
    retry,
    throttling
  )
}

/** The pull request this workflow run is for, or undefined when the event is not a pull request's. */
export function pullRequestOf(context: {
  eventName: string
  payload: { pull_request?: { number: number } }
  repo: { owner: string; repo: string }
}): PullRequestRef | undefined {
  if (context.eventName !== 'pull_request' && context.eventName !== 'pull_request_target') return undefined
  const number = context.payload.pull_request?.number
  if (typeof number !== 'number') return undefined
  return { owner: context.repo.owner, repo: context.repo.repo, number }
}

/** GitHub's REST API, where GITHUB_API_URL does not name another (GitHub Enterprise Server). */
export const DEFAULT_API_URL = 'https://api.github.com'

/** The start every plan marker shares, whatever its key. */
export const PLAN_MARKER_PREFIX = '<!-- rotel-clickstack-action:plan'

// Keys come from workflow and job names; a few hundred characters tell any two jobs apart.
const MAX_KEY_LENGTH = 200

/** The hidden HTML comment that identifies the plan comment of one key, e.g. one workflow's job. */
export function planMarker(key: string): string {
  const safe = key
    .replace(/\s+/g, ' ')
    // `--` or `>` would end the HTML comment early and show the rest of the marker in the comment.
    .replace(/-{2,}/g, '-')
    .replace(/>/g, '_')
    .trim()
    .slice(0, MAX_KEY_LENGTH)
  return `${PLAN_MARKER_PREFIX} key=${safe} -->`
}

/** GitHub refuses a comment body longer than this. */
export const MAX_COMMENT_LENGTH = 65536

/** The last line of a plan too long for one comment. */
export const TRUNCATION_NOTICE =
  '**The plan was cut here: it is longer than a pull-request comment may be. The job summary of this run has it all.**'

export type UpsertResult =
  | { outcome: 'created' | 'updated' | 'unchanged'; url: string | undefined; warning?: string }
  | { outcome: 'no-permission'; message: string }

/**
 * Writes the plan comment on the pull request: edits the first one that both opens with the marker and was
 * written by the token's own account, or creates one. Anyone may post a comment opening with the marker; another
 * account's comment is never edited. When the token's account cannot be learned, nothing is edited: a new
 * comment is written, with a warning that says why.
 */
export async function upsertPlanComment(params: {
  token: string
  pullRequest: PullRequestRef
  body: string
  marker: string
  apiUrl?: string
  octokit?: GitHubClient
  /** How the client built here waits (tests); a run's own pacing when absent. */
  timing?: GitHubClientTiming
}): Promise<UpsertResult> {
  const { token, pullRequest, marker } = params
  const { owner, repo, number } = pullRequest
  const octokit = params.octokit ?? createGitHubClient(token, params.apiUrl || DEFAULT_API_URL, params.timing)
  const body = commentBody(marker, params.body)

  let step = 'learning which account the token acts as'
  try {
    const identity = await tokenIdentity(octokit, token)
    if ('problem' in identity) {
      step = 'creating the comment'
      const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body })
      return {
        outcome: 'created',
        url: data.html_url,
        warning:
          `Could not learn which account github-token acts as (${identity.problem}), so the plan comment of an ` +
          `earlier run could not be told from a copy someone else posted: a new comment was written on pull request #${number} instead of editing one.`
      }
    }
    const { login } = identity
    step = 'listing the comments'
    // Stops at the first page holding our comment: a long-lived pull request can have thousands of comments.
    const found = await octokit.paginate(
      octokit.rest.issues.listComments,
      { owner, repo, issue_number: number, per_page: 100 },
      (response, done) => {
        const match = response.data.find((comment) => hasMarker(comment.body, marker) && isAuthor(comment.user, login))
        if (match) done()
        return match ? [match] : []
      }
    )
    const existing = found[0]
    if (existing) {
      if (existing.body === body) return { outcome: 'unchanged', url: existing.html_url }
      step = `updating comment ${existing.id}`
      const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body })
      return { outcome: 'updated', url: data.html_url }
    }
    step = 'creating the comment'
    const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body })
    return { outcome: 'created', url: data.html_url }
  } catch (error) {
    const status = statusOf(error)
    const detail = hide(messageOf(error), token)
    if (status !== undefined && lacksPermission(status, detail, error))
      return {
        outcome: 'no-permission',
        message:
          `Could not write the plan comment on pull request #${number}: the token lacks permission. ` +
          'Add `permissions: pull-requests: write` to the job (and for pull requests from forks, the token is ' +
          'read-only: see pull_request_target).'
      }
    throw new Error(
      `Could not write the plan comment on pull request #${number}: ${status !== undefined ? `${status} ` : ''}${detail} (${step})`,
      { cause: error }
    )
  }
}

/** The comment text: the marker on its own first line, then the plan, cut to fit GitHub's limit. */
export function commentBody(marker: string, plan: string): string {
  const whole = `${marker}\n${plan}`
  if (whole.length <= MAX_COMMENT_LENGTH) return whole
  // String length counts UTF-16 units, never fewer than GitHub's characters, so this errs on the short side.
  let room = MAX_COMMENT_LENGTH - marker.length - 1 - TRUNCATION_NOTICE.length - 2
  for (;;) {
    const cut = cutPlan(plan, Math.max(0, room))
    const text = `${marker}\n${cut}\n\n${TRUNCATION_NOTICE}`
    // Closing a code fence costs a few characters more; rare enough to pay for with a second cut.
    if (text.length <= MAX_COMMENT_LENGTH || room <= 0) return text
    room -= text.length - MAX_COMMENT_LENGTH
  }
}

function cutPlan(plan: string, room: number): string {
  let kept = plan.slice(0, room)
  // A whole line reads better than half a table row; without any newline the hard cut stays.
  const lastNewline = kept.lastIndexOf('\n')
  if (lastNewline > 0) kept = kept.slice(0, lastNewline)
  // Half a surrogate pair would turn into a replacement character.
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1)
  // Inside an open code fence the notice would render as code.
  let openFence: string | undefined
  for (const line of kept.split('\n')) {
    const fence = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence === undefined) continue
    if (openFence === undefined) openFence = fence
    else if (fence[0] === openFence[0] && fence.length >= openFence.length) openFence = undefined
  }
  return openFence === undefined ? kept : `${kept}\n${openFence}`
}

// The marker has to open the comment: a reply quoting it, or another key whose text merely contains it, is not it.
function hasMarker(body: string | null | undefined, marker: string): boolean {
  if (!body?.startsWith(marker)) return false
  const next = body.charAt(marker.length)
  return next === '' || next === '\n' || next === '\r'
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined
  return typeof error.status === 'number' && error.status > 0 ? error.status : undefined
}

function lacksPermission(status: number, detail: string, error: unknown): boolean {
  if (status === 401) return true
  if (status === 404) return /Resource not accessible by integration/i.test(detail)
  // GitHub answers a spent rate limit with 403 too; telling the user to add a permission would mislead.
  if (status === 403) return !/rate limit/i.test(detail) && headerOf(error, 'x-ratelimit-remaining') !== '0'
  return false
}

function headerOf(error: unknown, name: string): string | undefined {
  if (typeof error !== 'object' || error === null || !('response' in error)) return undefined
  const response = error.response
  if (typeof response !== 'object' || response === null || !('headers' in response)) return undefined
  const headers = response.headers as Record<string, unknown> | null | undefined
  const value = headers?.[name]
  return value === undefined || value === null ? undefined : String(value)
}

// Octokit already redacts the Authorization header in its errors; this covers a server that echoes the token.
function hide(text: string, token: string): string {
  return token.length >= 3 ? text.split(token).join('***') : text
}
