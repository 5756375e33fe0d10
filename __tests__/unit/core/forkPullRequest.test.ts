import { describe, expect, it } from '@jest/globals'
import { forkPullRequestOf, forkTokenMessage } from '../../../src/core/forkPullRequest.js'

const pullRequest = (
  head: unknown,
  base: unknown = { full_name: 'acme/lambdas', fork: false },
  number: unknown = 12
) => ({
  pull_request: { number, head: { repo: head }, base: { repo: base } }
})

describe('forkPullRequestOf', () => {
  it.each(['pull_request', 'pull_request_review', 'pull_request_review_comment'])(
    'finds a fork pull request on %s by its head repository',
    (eventName) => {
      expect(
        forkPullRequestOf({ eventName, payload: pullRequest({ full_name: 'outsider/lambdas', fork: true }) })
      ).toEqual({
        number: 12,
        head: 'outsider/lambdas'
      })
    }
  )

  it('calls a pull request from a branch of the same repository no fork, even in a repository that is itself a fork', () => {
    expect(
      forkPullRequestOf({
        eventName: 'pull_request',
        payload: pullRequest({ full_name: 'acme/lambdas', fork: true }, { full_name: 'acme/lambdas', fork: true })
      })
    ).toBeUndefined()
    // GitHub's names are case-insensitive.
    expect(
      forkPullRequestOf({ eventName: 'pull_request', payload: pullRequest({ full_name: 'Acme/Lambdas' }) })
    ).toBeUndefined()
  })

  it('takes a deleted fork for a fork, and falls back on the fork flag when the names are missing', () => {
    expect(forkPullRequestOf({ eventName: 'pull_request', payload: pullRequest(null) })).toEqual({
      number: 12,
      head: undefined
    })
    expect(forkPullRequestOf({ eventName: 'pull_request', payload: pullRequest({ fork: true }, {}) })).toEqual({
      number: 12,
      head: undefined
    })
    expect(forkPullRequestOf({ eventName: 'pull_request', payload: pullRequest({ fork: false }, {}) })).toBeUndefined()
  })

  it('finds nothing for pull_request_target, which runs as the base repository, nor for other events', () => {
    for (const eventName of ['pull_request_target', 'push', 'workflow_dispatch'])
      expect(forkPullRequestOf({ eventName, payload: pullRequest({ full_name: 'outsider/lambdas' }) })).toBeUndefined()
    expect(forkPullRequestOf({ eventName: 'pull_request', payload: {} })).toBeUndefined()
  })

  it('repeats no head name that is not shaped like owner/name', () => {
    const odd = forkPullRequestOf({
      eventName: 'pull_request',
      payload: pullRequest({ full_name: 'x/y`](https://evil)\n::error::z' }, undefined, '12')
    })
    expect(odd).toEqual({ number: undefined, head: undefined })
    expect(
      forkTokenMessage(odd ?? { number: undefined, head: undefined }, 'arn:aws:iam::123456789012:role/plan')
    ).toMatch(
      /^This run is for pull request from a fork, and GitHub gives .* role-to-assume \(arn:aws:iam::123456789012:role\/plan\) cannot be assumed/
    )
  })
})
