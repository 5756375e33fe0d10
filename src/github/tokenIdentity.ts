/** Who a GitHub token acts as, so that the action edits only comments it wrote itself. */
import type { getOctokit } from '@actions/github'
import { messageOf } from '../core/errors.js'

type GitHubClient = ReturnType<typeof getOctokit>

/** The token's login, or why it could not be learned. */
export type TokenIdentity = { login: string } | { problem: string }

/**
 * The login of the account the token acts as: `github-actions[bot]` for the Actions token, `NAME[bot]` for a
 * GitHub App's, the user's for a personal token. GraphQL's `viewer` answers all three; REST's /user refuses
 * installation tokens.
 */
export async function tokenIdentity(octokit: GitHubClient, token: string): Promise<TokenIdentity> {
  try {
    const data = await octokit.graphql<{ viewer?: { login?: unknown } | null }>('query { viewer { login } }')
    const login = data?.viewer?.login
    return typeof login === 'string' && login !== '' ? { login } : { problem: 'GitHub named no account' }
  } catch (error) {
    const status = (error as { status?: unknown } | null)?.status
    const message = messageOf(error).replace(/\s+/g, ' ').slice(0, 200)
    // Octokit leaves the token out of its errors; a server that echoes it is covered here.
    const shown = token.length >= 3 ? message.split(token).join('***') : message
    return { problem: `${typeof status === 'number' ? `${status} ` : ''}${shown}` }
  }
}

/** Whether a comment's author, as the REST API gives it, is the account with this login. */
export function isAuthor(user: { login?: string; type?: string } | null | undefined, login: string): boolean {
  if (!user?.login) return false
  if (user.login === login) return true
  // Should GraphQL name an app's bot without the suffix REST gives it; no person's login can hold brackets.
  return user.type === 'Bot' && user.login === `${login}[bot]`
}
