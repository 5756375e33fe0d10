/** Runs for pull requests from forks, where GitHub withholds the OIDC token and secrets whatever `permissions:` says. */

/** A pull request whose head lives in another repository than the one the workflow runs in. */
export interface ForkPullRequest {
  number: number | undefined
  /** `owner/name` of the fork, when GitHub gave a well-formed one. */
  head: string | undefined
}

interface RepoLike {
  full_name?: unknown
  fork?: unknown
}

// The events that run with the fork's restrictions; pull_request_target runs as the base repository.
const FORK_RESTRICTED_EVENTS = new Set(['pull_request', 'pull_request_review', 'pull_request_review_comment'])

// GitHub's own shape of owner/name; anything else in the payload is not repeated in a message.
const FULL_NAME = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/

/** The fork pull request this run is for, or undefined when the event is not one, or its head is this repository. */
export function forkPullRequestOf(context: {
  eventName: string
  payload: Record<string, unknown>
}): ForkPullRequest | undefined {
  if (!FORK_RESTRICTED_EVENTS.has(context.eventName)) return undefined
  const pullRequest = context.payload['pull_request'] as
    { number?: unknown; head?: { repo?: RepoLike | null }; base?: { repo?: RepoLike | null } } | undefined
  if (typeof pullRequest !== 'object' || pullRequest === null) return undefined
  const head = pullRequest.head?.repo
  const base = pullRequest.base?.repo
  const headName = typeof head?.full_name === 'string' ? head.full_name : undefined
  const baseName = typeof base?.full_name === 'string' ? base.full_name : undefined
  const fork =
    // A deleted fork leaves the head without a repository.
    head === null ||
    (headName !== undefined && baseName !== undefined
      ? headName.toLowerCase() !== baseName.toLowerCase()
      : // Without both names, GitHub's flag; it is also set for a same-repository pull request in a forked repository.
        head?.fork === true)
  if (!fork) return undefined
  return {
    number: typeof pullRequest.number === 'number' ? pullRequest.number : undefined,
    head: headName !== undefined && FULL_NAME.test(headName) ? headName : undefined
  }
}

/** Why a fork pull request's run has no OIDC token, and what to do, in one sentence. */
export function forkTokenMessage(fork: ForkPullRequest, roleArn: string): string {
  const number = fork.number !== undefined ? ` #${fork.number}` : ''
  const which = `pull request${number} from ${fork.head !== undefined ? `the fork ${fork.head}` : 'a fork'}`
  return (
    `This run is for ${which}, and GitHub gives workflows run for a fork's pull request no OIDC token (nor secrets), ` +
    `whatever \`permissions: id-token: write\` says, so role-to-assume (${roleArn}) cannot be assumed: run this step only ` +
    `for pull requests from this repository (\`if: github.event.pull_request.head.repo.full_name == github.repository\`), ` +
    `or plan forks' pull requests from a separate \`pull_request_target\` workflow with a read-only role of its own, ` +
    `knowing that such a workflow holds this repository's token and secrets and must never check out or run the fork's code.`
  )
}
