import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import { assumeRoleWithOidc, type AssumeRoleWithOidcParams } from '../../../src/aws/credentials.js'

const ROLE = 'arn:aws:iam::123456789012:role/deployer'
const AUDIENCE = 'sts.amazonaws.com'
const REQUEST_TOKEN = 'runtime-request-token-SECRET'
const OIDC_ENV = {
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.example.invalid/idtoken?api-version=2.0',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN
}
const ISSUED = {
  AccessKeyId: 'ASIAEXAMPLEKEYID0001',
  SecretAccessKey: 'secret-access-key-SECRET',
  SessionToken: 'session-token-SECRET',
  Expiration: new Date('2030-01-01T00:00:00Z')
}

const stsMock = mockClient(STSClient)

const awsError = (
  name: string,
  status: number,
  message = `${name} happened`,
  extra: Record<string, unknown> = {}
): Error => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, ...extra })

// The message @actions/core's getIDToken throws when the token service answers with an HTTP error.
const coreTokenError = (status: number | 'undefined'): Error =>
  new Error(
    `Error message: Failed to get ID Token. \n \n        Error Code : ${status}\n \n        Error Message: boom`
  )

interface Harness {
  params: AssumeRoleWithOidcParams
  tokens: string[]
  masked: string[]
  logs: string[]
  waits: number[]
  events: string[]
  getIdToken: jest.Mock<(audience: string) => Promise<string>>
}

function harness(overrides: Partial<AssumeRoleWithOidcParams> = {}): Harness {
  const h: Harness = {
    tokens: [],
    masked: [],
    logs: [],
    waits: [],
    events: [],
    getIdToken: jest.fn(async (_audience: string) => {
      const token = `eyJ.id-token-${h.tokens.length + 1}.SECRET`
      h.tokens.push(token)
      h.events.push(`token:${token}`)
      return token
    }),
    params: undefined as unknown as AssumeRoleWithOidcParams
  }
  h.params = {
    roleArn: ROLE,
    sessionName: 'rotel-clickstack-action',
    audience: AUDIENCE,
    durationSeconds: 3600,
    stsRegion: 'us-east-1',
    getIdToken: h.getIdToken,
    mask: (secret) => {
      h.masked.push(secret)
      h.events.push(`mask:${secret}`)
    },
    env: OIDC_ENV,
    stsClient: new STSClient({ region: 'us-east-1' }),
    sleep: async (ms) => void h.waits.push(ms),
    log: (message) => void h.logs.push(message),
    attempts: 5,
    ...overrides
  }
  return h
}

const stsCalls = () => stsMock.commandCalls(AssumeRoleWithWebIdentityCommand)

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(Error)
    return error as Error
  }
  throw new Error('expected a rejection')
}

/** Every secret that passed through a run, to be sought in messages and logs. */
const secretsOf = (h: Harness): string[] => [
  ...h.tokens,
  REQUEST_TOKEN,
  ISSUED.AccessKeyId,
  ISSUED.SecretAccessKey,
  ISSUED.SessionToken
]

beforeEach(() => {
  stsMock.reset()
})

describe('assumeRoleWithOidc without the id-token permission', () => {
  it.each(['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'])(
    'explains the permission when %s is missing and calls nothing',
    async (missing) => {
      const env: NodeJS.ProcessEnv = { ...OIDC_ENV }
      delete env[missing]
      const h = harness({ env })
      stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: ISSUED })

      const error = await failureOf(assumeRoleWithOidc(h.params))

      expect(error.message).toContain('permissions: id-token: write')
      expect(error.message).toContain('role-to-assume')
      expect(error.message).toContain(ROLE)
      expect(error.message).not.toContain(REQUEST_TOKEN)
      expect(h.getIdToken).not.toHaveBeenCalled()
      expect(stsCalls()).toHaveLength(0)
    }
  )
})

describe('assumeRoleWithOidc on a pull request from a fork', () => {
  const FORK = { number: 12, head: 'outsider/lambdas' }

  it('says that GitHub withholds the token from forks, and what to do, instead of asking for a permission', async () => {
    const h = harness({ env: {}, forkPullRequest: FORK })

    const error = await failureOf(assumeRoleWithOidc(h.params))

    expect(error.message).toMatch(
      /^This run is for pull request #12 from the fork outsider\/lambdas, and GitHub gives workflows run for a fork's pull request no OIDC token/
    )
    expect(error.message).toContain(ROLE)
    expect(error.message).toContain('if: github.event.pull_request.head.repo.full_name == github.repository')
    expect(error.message).toMatch(/pull_request_target.*read-only role.*must never check out or run the fork's code\.$/)
    // One sentence, so that the annotation reads whole.
    expect(error.message.match(/\.(\s|$)/g)).toHaveLength(1)
    expect(h.getIdToken).not.toHaveBeenCalled()
    expect(stsCalls()).toHaveLength(0)
  })

  it('assumes the role as usual when the fork run has a token after all (pull_request_target, or a repository that sends one)', async () => {
    const h = harness({ forkPullRequest: FORK })
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: ISSUED })

    await expect(assumeRoleWithOidc(h.params)).resolves.toMatchObject({ accessKeyId: ISSUED.AccessKeyId })
  })
})

describe('assumeRoleWithOidc', () => {
  it('returns the credentials and masks the ID token before using it and every credential part', async () => {
    const h = harness()
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: ISSUED })

    const credentials = await assumeRoleWithOidc(h.params)

    expect(credentials).toEqual({
      accessKeyId: ISSUED.AccessKeyId,
      secretAccessKey: ISSUED.SecretAccessKey,
      sessionToken: ISSUED.SessionToken,
      expiration: ISSUED.Expiration
    })
    expect(h.getIdToken).toHaveBeenCalledWith(AUDIENCE)
    expect(stsCalls()).toHaveLength(1)
    expect(stsCalls()[0]?.args[0].input).toEqual({
      RoleArn: ROLE,
      RoleSessionName: 'rotel-clickstack-action',
      WebIdentityToken: h.tokens[0],
      DurationSeconds: 3600
    })
    expect(h.masked).toEqual(
      expect.arrayContaining([h.tokens[0], ISSUED.AccessKeyId, ISSUED.SecretAccessKey, ISSUED.SessionToken])
    )
    // The token must be masked straight after it is fetched, before anything can print it.
    expect(h.events.slice(0, 2)).toEqual([`token:${h.tokens[0]}`, `mask:${h.tokens[0]}`])
    expect(h.logs).toEqual([])
    expect(h.waits).toEqual([])
  })

  it('leaves out a session token and expiration STS did not send', async () => {
    const h = harness()
    stsMock
      .on(AssumeRoleWithWebIdentityCommand)
      .resolves({ Credentials: { AccessKeyId: ISSUED.AccessKeyId, SecretAccessKey: ISSUED.SecretAccessKey } as never })

    const credentials = await assumeRoleWithOidc(h.params)

    expect(credentials).toEqual({ accessKeyId: ISSUED.AccessKeyId, secretAccessKey: ISSUED.SecretAccessKey })
    expect(Object.keys(credentials)).toEqual(['accessKeyId', 'secretAccessKey'])
  })

  it.each([
    ['no credentials', {}],
    ['no secret key', { Credentials: { AccessKeyId: ISSUED.AccessKeyId } as never }]
  ])('fails when STS answers with %s', async (_what, answer) => {
    const h = harness()
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves(answer)

    const error = await failureOf(assumeRoleWithOidc(h.params))

    expect(error.message).toBe(`Could not assume role ${ROLE} through GitHub OIDC: STS answered without credentials.`)
  })

  it('retries throttling with a fresh ID token for each attempt and logs the retry', async () => {
    const h = harness()
    stsMock
      .on(AssumeRoleWithWebIdentityCommand)
      .rejectsOnce(awsError('Throttling', 400, 'Rate exceeded'))
      .resolves({ Credentials: ISSUED })

    await expect(assumeRoleWithOidc(h.params)).resolves.toMatchObject({ accessKeyId: ISSUED.AccessKeyId })

    expect(stsCalls()).toHaveLength(2)
    expect(h.getIdToken).toHaveBeenCalledTimes(2)
    const sent = stsCalls().map((call) => call.args[0].input.WebIdentityToken)
    expect(sent).toEqual(h.tokens)
    expect(new Set(sent).size).toBe(2)
    expect(h.masked).toEqual(expect.arrayContaining(h.tokens))
    expect(h.waits).toHaveLength(1)
    expect(h.logs).toEqual([`Assuming ${ROLE} failed (Throttling); retrying in ${h.waits[0]} ms (attempt 2 of 5)`])
  })

  it.each([
    ['a 503', awsError('ServiceUnavailable', 503), 'ServiceUnavailable'],
    [
      'an unreachable identity provider',
      awsError('IDPCommunicationErrorException', 400),
      'IDPCommunicationErrorException'
    ],
    ['a network fault', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'ECONNRESET'],
    ['a request timeout', awsError('TimeoutError', 0, 'request timed out', { code: 'ETIMEDOUT' }), 'TimeoutError']
  ])('retries %s', async (_what, error, label) => {
    const h = harness()
    stsMock.on(AssumeRoleWithWebIdentityCommand).rejectsOnce(error).resolves({ Credentials: ISSUED })

    await expect(assumeRoleWithOidc(h.params)).resolves.toMatchObject({ accessKeyId: ISSUED.AccessKeyId })

    expect(stsCalls()).toHaveLength(2)
    expect(h.logs).toEqual([`Assuming ${ROLE} failed (${label}); retrying in ${h.waits[0]} ms (attempt 2 of 5)`])
  })

  it.each([
    ['a 5xx from the token service', coreTokenError(503)],
    ['no response from the token service', coreTokenError('undefined')],
    ['a socket fault', new Error('socket hang up')]
  ])('retries an ID token fetch that failed with %s', async (_what, failure) => {
    const h = harness()
    const fetchToken = h.params.getIdToken
    let fetches = 0
    h.params.getIdToken = async (audience) => {
      if (++fetches === 1) throw failure
      return fetchToken(audience)
    }
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: ISSUED })

    await expect(assumeRoleWithOidc(h.params)).resolves.toMatchObject({ accessKeyId: ISSUED.AccessKeyId })

    expect(fetches).toBe(2)
    expect(stsCalls()).toHaveLength(1)
    expect(h.logs).toEqual([
      `Assuming ${ROLE} failed (IdTokenFetchError); retrying in ${h.waits[0]} ms (attempt 2 of 5)`
    ])
  })

  it('does not retry an ID token fetch the token service refused', async () => {
    const h = harness({ getIdToken: jest.fn(async () => Promise.reject(coreTokenError(403))) })

    const error = await failureOf(assumeRoleWithOidc(h.params))

    expect(h.params.getIdToken).toHaveBeenCalledTimes(1)
    expect(stsCalls()).toHaveLength(0)
    expect(h.waits).toEqual([])
    expect(error.message).toMatch(
      new RegExp(
        `^Could not assume role ${ROLE} through GitHub OIDC: could not fetch a GitHub OIDC ID token: .*Error Code : 403`
      )
    )
    // One line, even though @actions/core spreads the message over several.
    expect(error.message).not.toMatch(/\n/)
  })

  it('does not retry an empty ID token', async () => {
    const h = harness({ getIdToken: jest.fn(async () => '') })

    const error = await failureOf(assumeRoleWithOidc(h.params))

    expect(h.params.getIdToken).toHaveBeenCalledTimes(1)
    expect(stsCalls()).toHaveLength(0)
    expect(h.masked).toEqual([])
    expect(error.message).toContain('ID token came back empty')
  })

  it.each([
    ['ValidationError', 400],
    ['InvalidParameterValue', 400],
    ['AccessDenied', 403],
    ['InvalidIdentityTokenException', 400],
    ['MalformedPolicyDocumentException', 400],
    ['IDPRejectedClaimException', 403],
    ['ExpiredTokenException', 400]
  ])('fails at once on %s and names the role', async (name, status) => {
    const h = harness()
    stsMock.on(AssumeRoleWithWebIdentityCommand).rejects(awsError(name, status, `${name}: bad request`))

    const error = await failureOf(assumeRoleWithOidc(h.params))

    expect(stsCalls()).toHaveLength(1)
    expect(h.getIdToken).toHaveBeenCalledTimes(1)
    expect(h.waits).toEqual([])
    expect(h.logs).toEqual([])
    expect(error.message.startsWith(`Could not assume role ${ROLE} through GitHub OIDC: ${name}: bad request.`)).toBe(
      true
    )
    expect((error as Error & { cause?: unknown }).cause).toMatchObject({ name })
  })

  it('adds the trust-policy fix to AccessDenied', async () => {
    const h = harness()
    stsMock
      .on(AssumeRoleWithWebIdentityCommand)
      .rejects(awsError('AccessDenied', 403, 'Not authorized to perform sts:AssumeRoleWithWebIdentity'))

    const error = await failureOf(assumeRoleWithOidc(h.params))

    expect(error.message).toMatch(
      new RegExp(
        `^Could not assume role ${ROLE} through GitHub OIDC: Not authorized to perform sts:AssumeRoleWithWebIdentity\\. `
      )
    )
    expect(error.message).toMatch(/trust policy must allow .*token\.actions\.githubusercontent\.com/)
    expect(error.message).toContain('sts:AssumeRoleWithWebIdentity for this repository')
    expect(error.message).toContain(`"${AUDIENCE}"`)
  })

  it('adds the identity-provider fix to InvalidIdentityToken', async () => {
    const h = harness()
    stsMock
      .on(AssumeRoleWithWebIdentityCommand)
      .rejects(awsError('InvalidIdentityTokenException', 400, 'No OpenIDConnect provider found in your account'))

    const error = await failureOf(assumeRoleWithOidc(h.params))

    expect(error.message).toContain('IAM OIDC identity provider for https://token.actions.githubusercontent.com')
    expect(error.message).not.toContain('trust policy')
  })

  it('puts no secret into a thrown message or a log line, even where an error echoes one', async () => {
    const h = harness({ attempts: 3 })
    const fetchToken = h.params.getIdToken
    let fetches = 0
    h.params.getIdToken = async (audience) => {
      if (++fetches === 1) throw new Error(`Error Code : 503 with bearer ${REQUEST_TOKEN}`)
      return fetchToken(audience)
    }
    stsMock.on(AssumeRoleWithWebIdentityCommand).callsFake(async (input: { WebIdentityToken?: string }) => {
      throw awsError('Throttling', 400, `throttled while checking ${input.WebIdentityToken}`)
    })

    const error = await failureOf(assumeRoleWithOidc(h.params))

    expect(h.tokens).toHaveLength(2)
    expect(h.logs).toHaveLength(2)
    expect(error.message).toContain('throttled while checking ***')
    for (const secret of secretsOf(h)) {
      expect(error.message).not.toContain(secret)
      for (const line of h.logs) expect(line).not.toContain(secret)
    }
  })

  it('does not shred messages over a request token too short to be real', async () => {
    const h = harness({ env: { ...OIDC_ENV, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' } })
    stsMock.on(AssumeRoleWithWebIdentityCommand).rejects(awsError('ValidationError', 400, 'the token is bad'))

    const error = await failureOf(assumeRoleWithOidc(h.params))

    expect(error.message).toBe(`Could not assume role ${ROLE} through GitHub OIDC: the token is bad.`)
  })

  it('masks the credentials and logs nothing secret on success after retries', async () => {
    const h = harness()
    stsMock
      .on(AssumeRoleWithWebIdentityCommand)
      .rejectsOnce(awsError('Throttling', 400))
      .rejectsOnce(awsError('InternalFailure', 500))
      .resolves({ Credentials: ISSUED })

    await assumeRoleWithOidc(h.params)

    expect(h.logs).toHaveLength(2)
    for (const secret of secretsOf(h)) for (const line of h.logs) expect(line).not.toContain(secret)
    expect(h.masked).toEqual(
      expect.arrayContaining([...h.tokens, ISSUED.AccessKeyId, ISSUED.SecretAccessKey, ISSUED.SessionToken])
    )
  })

  it('gives up after the last attempt with the last error and its context', async () => {
    const h = harness({ attempts: 3 })
    let call = 0
    stsMock.on(AssumeRoleWithWebIdentityCommand).callsFake(async () => {
      call++
      throw awsError('ServiceUnavailable', 503, `outage number ${call}`)
    })

    const error = await failureOf(assumeRoleWithOidc(h.params))

    expect(stsCalls()).toHaveLength(3)
    expect(h.getIdToken).toHaveBeenCalledTimes(3)
    expect(h.waits).toHaveLength(2)
    expect(h.logs.map((line) => line.replace(/in \d+ ms/, 'in N ms'))).toEqual([
      `Assuming ${ROLE} failed (ServiceUnavailable); retrying in N ms (attempt 2 of 3)`,
      `Assuming ${ROLE} failed (ServiceUnavailable); retrying in N ms (attempt 3 of 3)`
    ])
    expect(error.message).toBe(`Could not assume role ${ROLE} through GitHub OIDC: outage number 3.`)
  })

  it('makes its own single-attempt STS client in the given region when none is injected', async () => {
    const h = harness({ stsClient: undefined, stsRegion: 'eu-west-2' })
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: ISSUED })

    await assumeRoleWithOidc(h.params)

    const client = stsCalls()[0]?.thisValue as STSClient
    expect(client).toBeInstanceOf(STSClient)
    expect(client).not.toBe(harness().params.stsClient)
    await expect(client.config.region()).resolves.toBe('eu-west-2')
    // Our loop is the only retry layer, so that every attempt gets a fresh token.
    await expect(client.config.maxAttempts()).resolves.toBe(1)
  })
})
