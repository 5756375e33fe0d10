/**
 * The action never edits the role it runs as: a function whose execution role is the deploy role fails
 * with one sentence and the role is read back unchanged – whether the role comes from role-to-assume or
 * from the credentials in the environment, for cloudwatch-logs: off, grant-secret-access: true and the
 * restore of remove. IAM enforcement stays off: the action's own guard is what is tested, not a policy
 * (docs/permissions.md's Deny is proven in leastPrivilegeSuite.ts and readmePolicy.test.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { type FunctionConfiguration, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { IAMClient } from '@aws-sdk/client-iam'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { ACCOUNT_ID, createSampleFunction, resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { startFakeOidc } from '../../scripts/fake-oidc.mjs'
import { snapshotRole } from '../support/iamRoles.js'
import { type ResigningProxy, startResigningProxy } from '../support/resigningProxy.js'
import { type ActionRun, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const DEPLOY_ROLE = 'rotel-deploy'
const DEPLOY_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/${DEPLOY_ROLE}`
const SELF = 'self-deploying'
const REQUEST_TOKEN = 'runtime-request-token-0wnr01e'
const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT_ID}:secret:clickstack-key`
const admin = { accessKeyId: 'testing', secretAccessKey: 'testing' }
const REFUSAL = `Its execution role ${DEPLOY_ROLE} is the role this action runs as, and the action never changes its own role's policies or tags: give the function an execution role of its own (see docs/permissions.md).`

let port = 0
let endpoint = ''
let proxy: ResigningProxy
let oidc: Awaited<ReturnType<typeof startFakeOidc>>
let iam: IAMClient

const BASE: Readonly<Record<string, string>> = {
  functions: `${SELF}\norders-api`,
  'aws-region': 'us-east-1',
  'layer-account': ACCOUNT_ID,
  'otlp-endpoint': 'https://clickstack.example.com:4317',
  'cloudwatch-check-seconds': '0',
  preflight: 'false',
  'annotate-files': 'false'
}

/** Runs the action through the proxy (which counts the calls), as the deploy role by OIDC. */
const runAsAssumedRole = (inputs: Record<string, string>): Promise<ActionRun> =>
  runAction({
    endpoint: proxy.url,
    inputs: { ...BASE, 'role-to-assume': DEPLOY_ROLE_ARN, ...inputs },
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN }
  })

/** Runs the action with a session of the deploy role in the environment, as after configure-aws-credentials. */
async function runWithSessionInEnvironment(inputs: Record<string, string>): Promise<ActionRun> {
  const sts = new STSClient({ region: 'us-east-1', endpoint, credentials: { ...admin } })
  try {
    const { Credentials: session } = await sts.send(
      new AssumeRoleCommand({ RoleArn: DEPLOY_ROLE_ARN, RoleSessionName: 'ci' })
    )
    return await runAction({
      endpoint: proxy.url,
      inputs: { ...BASE, ...inputs },
      env: {
        AWS_ACCESS_KEY_ID: session?.AccessKeyId,
        AWS_SECRET_ACCESS_KEY: session?.SecretAccessKey,
        AWS_SESSION_TOKEN: session?.SessionToken
      }
    })
  } finally {
    sts.destroy()
  }
}

async function readFunction(name: string): Promise<FunctionConfiguration> {
  const lambda = new LambdaClient({ region: 'us-east-1', endpoint, credentials: { ...admin } })
  try {
    return await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
  } finally {
    lambda.destroy()
  }
}

const reportOf = (run: ActionRun): Record<string, { status: string; error: string | null }> =>
  Object.fromEntries(
    (JSON.parse(run.outputs.report ?? '[]') as Array<{ function: string; status: string; error: string | null }>).map(
      (r) => [r.function, { status: r.status, error: r.error }]
    )
  )

const callerIdentityCalls = (): number => proxy.calls.filter((call) => call.operation === 'GetCallerIdentity').length

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  proxy = await startResigningProxy(endpoint)
  oidc = await startFakeOidc({ requestToken: REQUEST_TOKEN })
  iam = new IAMClient({ region: 'us-east-1', endpoint, credentials: { ...admin } })
})

afterAll(async () => {
  iam?.destroy()
  await oidc?.close()
  await proxy?.close()
  stopEmulator(port)
})

beforeEach(async () => {
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
  // The deploy role is also the execution role of one function (AWSLambdaBasicExecutionRole attached).
  await createSampleFunction(endpoint, { region: 'us-east-1', name: SELF, architecture: 'x86_64', role: DEPLOY_ROLE })
  proxy.calls.length = 0
})

describe('a function whose execution role is the deploy role', () => {
  it('fails with cloudwatch-logs: off under role-to-assume, the role untouched; the other function is done', async () => {
    const roleBefore = await snapshotRole(iam, DEPLOY_ROLE)
    const execBefore = await snapshotRole(iam, 'lambda-exec')
    const run = await runAsAssumedRole({ 'cloudwatch-logs': 'off' })
    expect(run.exitCode).toBe(1)
    expect(reportOf(run)).toEqual({
      [SELF]: { status: 'failed', error: `${SELF} was not changed: ${REFUSAL}` },
      'orders-api': { status: 'updated', error: null }
    })
    expect(run.stdout).toContain(
      `::error title=${SELF}%3A failed::${SELF} was not changed: Its execution role ${DEPLOY_ROLE} is the role`
    )
    expect(await snapshotRole(iam, DEPLOY_ROLE)).toEqual(roleBefore)
    expect((await readFunction(SELF)).Layers ?? []).toEqual([])
    // The run did write where it may: the other function's role got the deny policy.
    expect(await snapshotRole(iam, 'lambda-exec')).not.toEqual(execBefore)
    // role-to-assume names the role: no need to ask STS who the action is.
    expect(callerIdentityCalls()).toBe(0)
  })

  it('fails with grant-secret-access: true under credentials from the environment, asking STS once', async () => {
    const roleBefore = await snapshotRole(iam, DEPLOY_ROLE)
    const run = await runWithSessionInEnvironment({
      'otlp-headers': `Authorization=\${${SECRET}}`,
      'grant-secret-access': 'true'
    })
    expect(run.exitCode).toBe(1)
    expect(reportOf(run)[SELF]).toEqual({ status: 'failed', error: `${SELF} was not changed: ${REFUSAL}` })
    expect(reportOf(run)['orders-api']?.status).toBe('updated')
    expect(await snapshotRole(iam, DEPLOY_ROLE)).toEqual(roleBefore)
    expect(callerIdentityCalls()).toBe(1)
  })

  it('fails in plan too, saying what apply would refuse, and writes nothing', async () => {
    const roleBefore = await snapshotRole(iam, DEPLOY_ROLE)
    const run = await runWithSessionInEnvironment({ mode: 'plan', 'cloudwatch-logs': 'off' })
    expect(reportOf(run)[SELF]).toEqual({ status: 'failed', error: `${SELF} could not be planned: ${REFUSAL}` })
    expect(reportOf(run)['orders-api']?.status).toBe('planned')
    expect(await snapshotRole(iam, DEPLOY_ROLE)).toEqual(roleBefore)
  })

  it('keeps its extension in remove when CloudWatch Logs would have to be switched back on through the deploy role', async () => {
    // An earlier run by someone else (an IAM user, not the role) switched the function's CloudWatch Logs off.
    const earlier = await runAction({
      endpoint,
      inputs: { ...BASE, functions: SELF, 'cloudwatch-logs': 'off' },
      env: { AWS_ACCESS_KEY_ID: admin.accessKeyId, AWS_SECRET_ACCESS_KEY: admin.secretAccessKey }
    })
    expect(reportOf(earlier)[SELF]?.status).toBe('updated')
    const roleBefore = await snapshotRole(iam, DEPLOY_ROLE)
    expect(JSON.stringify(roleBefore)).toContain('RotelClickStackDenyCloudWatchLogs')
    const run = await runAsAssumedRole({ mode: 'remove', functions: SELF })
    expect(run.exitCode).toBe(1)
    expect(reportOf(run)[SELF]?.status).toBe('failed')
    expect(reportOf(run)[SELF]?.error).toMatch(
      new RegExp(
        `^${SELF} was not changed: CloudWatch Logs could not be switched back on for it first, .*${REFUSAL.replace(/[.()]/g, '\\$&')}$`
      )
    )
    expect(await snapshotRole(iam, DEPLOY_ROLE)).toEqual(roleBefore)
    expect((await readFunction(SELF)).Layers?.map((layer) => layer.Arn)).toEqual([
      expect.stringContaining(':layer:rotel-extension-amd64-alpha:')
    ])
  })
})
