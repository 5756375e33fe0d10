/** Posts the plan on the pull request the run is for; a comment that cannot be written never fails the step. */
import type { ActionConfig } from '../core/config.js'
import { DEFAULT_API_URL, type GitHubClient, planMarker, pullRequestOf, upsertPlanComment } from './prComment.js'
import type { Redactor } from '../core/redact.js'
import { messageOf } from '../core/errors.js'
import { renderPlanComment, type RunResult } from '../core/summary.js'
import type { Reporter } from './reporter.js'

/** What the plan comment is told of the run: where it reports, its variables, its event, and how to reach GitHub. */
export interface PlanCommentIo {
  reporter: Reporter
  env: NodeJS.ProcessEnv
  /** The workflow run's event (@actions/github's context in a real run). */
  event: Parameters<typeof pullRequestOf>[0]
  /** A client for the token against the API at baseUrl (createGitHubClient in a real run). */
  github: (token: string, baseUrl: string) => GitHubClient
}

/** Writes the plan on the run's pull request, or warns why it could not; never throws. */
export async function postPlanComment(
  config: ActionConfig,
  result: RunResult,
  redact: Redactor,
  { reporter, env, event, github }: PlanCommentIo
): Promise<void> {
  const pullRequest = pullRequestOf(event)
  if (!pullRequest) return
  if (!config.githubToken) {
    reporter.warning(
      'No github-token: the plan is not posted on the pull request. Leave github-token at its default (github.token).'
    )
    return
  }
  // One comment per workflow and job, so that two plan jobs in one workflow keep their own.
  const marker = planMarker(`${env.GITHUB_WORKFLOW ?? ''}/${env.GITHUB_JOB ?? ''}`)
  const runUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined
  try {
    const posted = await upsertPlanComment({
      token: config.githubToken,
      pullRequest,
      body: renderPlanComment(result, redact, runUrl),
      marker,
      // An empty GITHUB_API_URL is as good as none.
      octokit: github(config.githubToken, env.GITHUB_API_URL || DEFAULT_API_URL)
    })
    if (posted.outcome === 'no-permission') reporter.warning(redact(posted.message))
    else {
      if (posted.warning) reporter.warning(redact(posted.warning))
      // The URL is GitHub's answer: printed so that the runner runs no command from it.
      reporter.outside(
        `Plan comment ${posted.outcome} on pull request #${pullRequest.number}${posted.url ? `: ${posted.url}` : ''}.`
      )
    }
  } catch (error) {
    reporter.warning(redact(messageOf(error)))
  }
}
