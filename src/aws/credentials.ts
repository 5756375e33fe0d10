/** Assume an AWS role with a GitHub OIDC ID token. */

import { AssumeRoleWithWebIdentityCommand, type Credentials, STSClient } from '@aws-sdk/client-sts'
import { type ForkPullRequest, forkTokenMessage } from '../core/forkPullRequest.js'
import { sleep as realSleep, withRetry } from '../core/retry.js'
import { errorName, isTransient, messageOf, NETWORK_ERROR_CODES } from '../core/errors.js'

/** Temporary AWS credentials, as STS hands them out. */
export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  expiration?: Date
}

/** What `assumeRoleWithOidc` needs: the role, how to get an ID token and how to mask secrets, plus seams for tests. */
export interface AssumeRoleWithOidcParams {
  roleArn: string
  sessionName: string
  audience: string
  durationSeconds: number
  stsRegion: string
  getIdToken: (audience: string) => Promise<string>
  mask: (secret: string) => void
  /** The run's environment: the runner's OIDC request URL and token are read from it. */
  env: NodeJS.ProcessEnv
  /** The fork pull request the run is for, if any: there GitHub gives no ID token, and the message says so. */
  forkPullRequest?: ForkPullRequest | undefined
  stsClient?: STSClient | undefined
  sleep?: ((ms: number) => Promise<void>) | undefined
  log?: ((message: string) => void) | undefined
  attempts?: number | undefined
}

const DEFAULT_ATTEMPTS = 5
const BASE_DELAY_MS = 1_000
const MAX_DELAY_MS = 16_000

// STS reports an unreachable identity provider as a 400, yet a later attempt often succeeds.
const RETRYABLE_STS_NAMES = new Set(['IDPCommunicationError', 'IDPCommunicationErrorException'])

const ACCESS_DENIED_NAMES = new Set(['AccessDenied', 'AccessDeniedException'])
const INVALID_TOKEN_NAMES = new Set(['InvalidIdentityToken', 'InvalidIdentityTokenException'])

// The runner's OIDC client folds errors into plain messages; these name a fault a later attempt can cure.
const NETWORK_FAULT_IN_MESSAGE = new RegExp(`\\b(${[...NETWORK_ERROR_CODES, 'socket hang up'].join('|')})\\b`, 'i')

/** A failure to fetch the GitHub OIDC ID token, kept apart from STS errors so that it is classified on its own terms. */
class IdTokenFetchError extends Error {
  override readonly name = 'IdTokenFetchError'
  readonly transient: boolean

  constructor(cause: unknown) {
    super(`could not fetch a GitHub OIDC ID token: ${messageOf(cause)}`, { cause })
    this.transient = isTransientTokenFailure(cause)
  }
}

function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408
}

function isTransientTokenFailure(error: unknown): boolean {
  if (isTransient(error)) return true
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode
  if (typeof statusCode === 'number') return isRetryableStatus(statusCode)
  const message = messageOf(error)
  // @actions/core reports "Error Code : <status>", and "undefined" when no HTTP response came back at all.
  const code = /Error Code\s*:\s*(\d{3}|undefined)/.exec(message)?.[1]
  if (code === 'undefined') return true
  if (code !== undefined) return isRetryableStatus(Number(code))
  return NETWORK_FAULT_IN_MESSAGE.test(message)
}

function isRetryable(error: unknown): boolean {
  if (error instanceof IdTokenFetchError) return error.transient
  return isTransient(error) || RETRYABLE_STS_NAMES.has(errorName(error))
}

function labelOf(error: unknown): string {
  const name = errorName(error)
  const code = (error as { code?: unknown } | null)?.code
  // A bare network fault from the SDK is named "Error"; its code says more.
  return name === 'Error' && typeof code === 'string' ? code : name
}

function hintFor(error: unknown, audience: string): string {
  const name = errorName(error)
  if (ACCESS_DENIED_NAMES.has(name)) {
    return (
      ` The role's trust policy must allow the federated principal token.actions.githubusercontent.com` +
      ` to call sts:AssumeRoleWithWebIdentity for this repository (token.actions.githubusercontent.com:sub)` +
      ` and audience "${audience}" (token.actions.githubusercontent.com:aud).`
    )
  }
  if (INVALID_TOKEN_NAMES.has(name)) {
    return (
      ` The AWS account needs an IAM OIDC identity provider for https://token.actions.githubusercontent.com` +
      ` whose audiences include "${audience}".`
    )
  }
  return ''
}

// Real tokens run to hundreds of characters; scrubbing a short stand-in would shred ordinary words instead.
const MIN_SECRET_LENGTH = 8

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce(
    (out, secret) => (secret.length >= MIN_SECRET_LENGTH ? out.split(secret).join('***') : out),
    text
  )
}

function createStsClient(region: string): STSClient {
  return new STSClient({
    region,
    // Our loop is the one retry layer: each attempt needs a fresh ID token and a log line, which SDK retries give neither.
    maxAttempts: 1,
    // AssumeRoleWithWebIdentity is unsigned; pinning noAuth keeps AWS_AUTH_SCHEME_PREFERENCE=sigv4a from demanding credentials.
    authSchemePreference: ['noAuth'],
    // Without throwOnRequestTimeout the SDK only warns, and a stalled connection would hang the job.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000, throwOnRequestTimeout: true }
  })
}

/** Throws when the runner offers no OIDC ID token, saying what the job lacks (or that a fork's run never gets one). */
function requireIdTokenRequest(env: NodeJS.ProcessEnv, roleArn: string, forkPullRequest?: ForkPullRequest): void {
  if (!env['ACTIONS_ID_TOKEN_REQUEST_URL'] || !env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']) {
    // Telling a fork's run to add the permission would send the user after a setting that changes nothing.
    if (forkPullRequest) throw new Error(forkTokenMessage(forkPullRequest, roleArn))
    throw new Error(
      `To assume role-to-assume (${roleArn}) through GitHub OIDC the job needs \`permissions: id-token: write\`` +
        ` (or leave role-to-assume empty to use the AWS credentials already in the environment).`
    )
  }
}

/** A GitHub OIDC ID token, any failure (an empty token included) wrapped as an `IdTokenFetchError` to classify it apart. */
async function fetchIdToken(getIdToken: (audience: string) => Promise<string>, audience: string): Promise<string> {
  let idToken: string
  try {
    idToken = await getIdToken(audience)
  } catch (error) {
    throw new IdTokenFetchError(error)
  }
  if (!idToken) throw new IdTokenFetchError(new Error('the ID token came back empty'))
  return idToken
}

/** The credentials of an STS answer, each secret masked before it is handed on; throws if STS gave none. */
function maskedCredentials(credentials: Credentials | undefined, mask: (secret: string) => void): AwsCredentials {
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
    throw new Error('STS answered without credentials')
  }
  mask(credentials.AccessKeyId)
  mask(credentials.SecretAccessKey)
  const result: AwsCredentials = {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey
  }
  if (credentials.SessionToken) {
    mask(credentials.SessionToken)
    result.sessionToken = credentials.SessionToken
  }
  if (credentials.Expiration) result.expiration = credentials.Expiration
  return result
}

/** The one-line message for a failed assumption, with a hint at the usual misconfiguration and the secrets scrubbed. */
function failureMessage(error: unknown, roleArn: string, audience: string, secrets: readonly string[]): string {
  // @actions/core spreads its errors over several lines; the annotation reads better as one.
  const reason = messageOf(error).replace(/\s+/g, ' ').trim().replace(/\.+$/, '')
  const message = `Could not assume role ${roleArn} through GitHub OIDC: ${reason}.${hintFor(error, audience)}`
  return redact(message, secrets)
}

/** Assume `roleArn` with a fresh GitHub OIDC ID token per attempt, retrying only what a later attempt can cure, and return masked credentials. */
export async function assumeRoleWithOidc(params: AssumeRoleWithOidcParams): Promise<AwsCredentials> {
  const { roleArn, sessionName, audience, durationSeconds, getIdToken, mask } = params
  const { env } = params
  const log = params.log ?? ((message: string) => console.log(message))
  const attempts = Math.max(1, Math.floor(params.attempts ?? DEFAULT_ATTEMPTS))

  requireIdTokenRequest(env, roleArn, params.forkPullRequest)

  // Whatever could leak into a message is scrubbed from it, even though GitHub masks these in logs too.
  const secrets: string[] = []
  const requestToken = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']
  if (requestToken) secrets.push(requestToken)

  const client = params.stsClient ?? createStsClient(params.stsRegion)
  try {
    const response = await withRetry(
      async () => {
        // A fresh token each time: GitHub's JWT lives minutes, and a slow retry loop can outlast one.
        const idToken = await fetchIdToken(getIdToken, audience)
        secrets.push(idToken)
        mask(idToken)
        return client.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: roleArn,
            RoleSessionName: sessionName,
            WebIdentityToken: idToken,
            DurationSeconds: durationSeconds
          })
        )
      },
      {
        attempts,
        baseDelayMs: BASE_DELAY_MS,
        maxDelayMs: MAX_DELAY_MS,
        isRetryable,
        sleep: params.sleep ?? realSleep,
        onRetry: (error, attempt, delayMs) =>
          log(
            redact(
              `Assuming ${roleArn} failed (${labelOf(error)}); retrying in ${delayMs} ms (attempt ${attempt + 1} of ${attempts})`,
              secrets
            )
          )
      }
    )

    return maskedCredentials(response.Credentials, mask)
  } catch (error) {
    throw new Error(failureMessage(error, roleArn, audience, secrets), { cause: error })
  } finally {
    // Only a client made here is ours to close; its keep-alive sockets would otherwise outlive the step.
    if (!params.stsClient) client.destroy()
  }
}
