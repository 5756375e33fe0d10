/** Posts the plan on the pull request the run is for; a comment that cannot be written never fails the step. */
import * as core from '@actions/core'
import { context } from '@actions/github'
import type { ActionConfig } from '../core/config.js'
import { planMarker, pullRequestOf, upsertPlanComment } from './prComment.js'
import type { Redactor } from '../core/redact.js'
import { messageOf } from '../core/errors.js'
import { renderPlanComment, type RunResult } from '../core/summary.js'
import { printOutside } from './runnerLog.js'

export async function postPlanComment(
  config: ActionConfig,
  result: RunResult,
  redact: Redactor,
  env: NodeJS.ProcessEnv
): Promise<void> {
  const pullRequest = pullRequestOf(context)
  if (!pullRequest) return
  if (!config.githubToken) {
    core.warning('No github-token: the plan is not posted on the pull request. Leave github-token at its default (github.token).')
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
      marker
    })
    if (posted.outcome === 'no-permission') core.warning(redact(posted.message))
    else {
      if (posted.warning) core.warning(redact(posted.warning))
      // The URL is GitHub's answer: printed so that the runner runs no command from it.
      printOutside(`Plan comment ${posted.outcome} on pull request #${pullRequest.number}${posted.url ? `: ${posted.url}` : ''}.`)
    }
  } catch (error) {
    core.warning(redact(messageOf(error)))
  }
}
