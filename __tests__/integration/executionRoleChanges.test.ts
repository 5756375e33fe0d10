/**
 * cloudwatch-logs: off end to end: dist/index.js against moto (IAM policies, tags and log streams
 * behave as on AWS there), through the recording proxy so that IAM calls can be counted. Every role is
 * read back and compared in full: attached policies, inline documents, tags.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  DeleteRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand
} from '@aws-sdk/client-iam'
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import {
  createSampleFunction,
  ensureLambdaRole,
  publishMirroredLayer,
  resetEmulator,
  seedSampleFleet
} from '../../scripts/emulator-fixtures.mjs'
import { actionMatches } from '../../src/core/iamPolicy.js'
import { type RecordedCall, startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { snapshotRole } from '../support/iamRoles.js'
import { type ActionRun, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const ACCOUNT = '123456789012'
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' }
const BASIC = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'
const TEAM_LOGGING = `arn:aws:iam::${ACCOUNT}:policy/team-logging`
const group = (region: string, name: string): string =>
  `arn:aws:logs:${region}:${ACCOUNT}:log-group:/aws/lambda/${name}`

let port = 0
let endpoint = ''
let proxy: Awaited<ReturnType<typeof startFaultProxy>>
let iam: IAMClient

/** The sample fleet (orders-api, legacy-job in us-east-1, billing-worker in eu-west-1, all on role lambda-exec) and reports-job on its own role. */
const FLEET = `orders-api\nlegacy-job\narn:aws:lambda:eu-west-1:${ACCOUNT}:function:billing-worker\nreports-job`

/** reports-role: AWSLambdaBasicExecutionRole, an inline policy granting logs:* and s3:GetObject, and a customer-managed policy granting log writes. */
const APP_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Everything', Effect: 'Allow', Action: ['logs:*', 's3:GetObject'], Resource: '*' },
    { Sid: 'Queue', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:jobs` }
  ]
}

async function seed(): Promise<void> {
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
  await ensureLambdaRole(endpoint, 'reports-role')
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'reports-role',
      PolicyName: 'app',
      PolicyDocument: JSON.stringify(APP_POLICY)
    })
  )
  await iam.send(
    new CreatePolicyCommand({
      PolicyName: 'team-logging',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }]
      })
    })
  )
  await createSampleFunction(endpoint, {
    region: 'us-east-1',
    name: 'reports-job',
    architecture: 'x86_64',
    role: 'reports-role'
  })
}

/** The role as IAM lists it: attached policies, inline documents, tags. */
async function readRole(name: string) {
  const { arn: _arn, path: _path, ...role } = await snapshotRole(iam, name)
  return role
}

async function apply(inputs: Record<string, string>): Promise<ActionRun & { calls: RecordedCall[] }> {
  const first = proxy.calls.length
  const run = await runAction({
    endpoint: proxy.url,
    inputs: {
      functions: FLEET,
      'aws-region': 'us-east-1',
      'layer-account': ACCOUNT,
      'otlp-endpoint': 'https://clickstack.example.com:4317',
      'cloudwatch-check-seconds': '0',
      preflight: 'false',
      'annotate-files': 'false',
      'cloudwatch-logs': 'off',
      ...inputs
    },
    env: { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey }
  })
  return { ...run, calls: proxy.calls.slice(first) }
}

const reportOf = (run: ActionRun) =>
  JSON.parse(run.outputs.report ?? '[]') as Array<{
    function: string
    status: string
    error: string | null
    cloudwatch: string
    executionRole: { role: string; changes: string[] } | null
  }>
const statuses = (run: ActionRun): Record<string, string> =>
  Object.fromEntries(reportOf(run).map((r) => [r.function, r.status]))
const iamCalls = (calls: readonly RecordedCall[], operation: string): RecordedCall[] =>
  calls.filter((call) => call.service === 'iam' && call.operation === operation)

async function layersOf(region: string, name: string): Promise<string[]> {
  const lambda = new LambdaClient({ region, endpoint, credentials })
  try {
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
    return (configuration.Layers ?? []).map((layer) => layer.Arn ?? '')
  } finally {
    lambda.destroy()
  }
}

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  proxy = await startFaultProxy({ target: endpoint })
  iam = new IAMClient({ region: 'us-east-1', endpoint, credentials })
})

afterAll(async () => {
  iam?.destroy()
  await proxy?.close()
  stopEmulator(port)
})

beforeEach(async () => {
  await seed()
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'reports-role', PolicyArn: TEAM_LOGGING }))
})

describe('cloudwatch-logs: off with deny', () => {
  it('puts one deny policy per role on exactly its functions’ log groups, reads and writes each role once, and a second run changes nothing', async () => {
    const before = { shared: await readRole('lambda-exec'), own: await readRole('reports-role') }
    const run = await apply({})
    expect(run.stderr).toBe('')
    expect({ exit: run.exitCode, statuses: statuses(run) }).toEqual({
      exit: 0,
      statuses: {
        'orders-api': 'updated',
        'legacy-job': 'updated',
        'billing-worker': 'updated',
        'reports-job': 'updated'
      }
    })

    const denyOf = (groups: string[]) => ({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RotelClickStackDenyCloudWatchLogs',
          Effect: 'Deny',
          Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: groups.flatMap((arn) => [arn, `${arn}:*`])
        }
      ]
    })
    const shared = await readRole('lambda-exec')
    expect(shared).toEqual({
      attached: before.shared.attached,
      inline: {
        ...before.shared.inline,
        RotelClickStackDenyCloudWatchLogs: denyOf([
          group('eu-west-1', 'billing-worker'),
          group('us-east-1', 'legacy-job'),
          group('us-east-1', 'orders-api')
        ])
      },
      tags: { ...before.shared.tags, 'rotel-clickstack-action:deny-policy': 'RotelClickStackDenyCloudWatchLogs' }
    })
    const own = await readRole('reports-role')
    expect(own.inline).toEqual({
      ...before.own.inline,
      RotelClickStackDenyCloudWatchLogs: denyOf([group('us-east-1', 'reports-job')])
    })
    expect(own.attached).toEqual(before.own.attached)

    // Two roles, four functions: each role read once (GetRole) and its policy written once.
    expect(iamCalls(run.calls, 'GetRole')).toHaveLength(2)
    expect(iamCalls(run.calls, 'PutRolePolicy')).toHaveLength(2)
    expect(reportOf(run).find((r) => r.function === 'legacy-job')?.executionRole?.role).toBe('lambda-exec')
    expect(run.summary).toContain('### Execution roles: CloudWatch Logs switched off')

    const again = await apply({})
    expect({ exit: again.exitCode, changed: again.outputs.changed }).toEqual({ exit: 0, changed: 'false' })
    expect(iamCalls(again.calls, 'PutRolePolicy')).toHaveLength(0)
    expect(iamCalls(again.calls, 'TagRole')).toHaveLength(0)
    expect(await readRole('lambda-exec')).toEqual(shared)
    expect(Object.values(statuses(again))).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged'])
  })

  it('remove restores each role exactly and takes the extension off', async () => {
    const before = { shared: await readRole('lambda-exec'), own: await readRole('reports-role') }
    expect((await apply({})).exitCode).toBe(0)
    const removal = await apply({ mode: 'remove', 'cloudwatch-logs': '' })
    expect(removal.stderr).toBe('')
    expect(removal.exitCode).toBe(0)
    expect(await readRole('lambda-exec')).toEqual(before.shared)
    expect(await readRole('reports-role')).toEqual(before.own)
    expect((await layersOf('us-east-1', 'orders-api')).some((arn) => arn.includes('rotel-extension'))).toBe(false)
    // The roles were restored before the first function was written.
    const firstUpdate = removal.calls.findIndex((call) => call.operation === 'UpdateFunctionConfiguration')
    const lastRoleWrite = removal.calls.map((call) => call.operation).lastIndexOf('DeleteRolePolicy')
    expect(lastRoleWrite).toBeGreaterThan(-1)
    expect(lastRoleWrite).toBeLessThan(firstUpdate)
    expect(removal.summary).toContain('### Execution roles: CloudWatch Logs put back')
  })

  it('plan shows the role changes and writes nothing; check reports a role that lost its deny policy as drift', async () => {
    const before = await readRole('lambda-exec')
    const plan = await apply({ mode: 'plan' })
    expect(plan.exitCode).toBe(0)
    expect(await readRole('lambda-exec')).toEqual(before)
    expect(plan.summary).toMatch(
      /lambda-exec \| orders-api, legacy-job, billing-worker \| would put inline policy RotelClickStackDenyCloudWatchLogs/
    )

    expect((await apply({})).exitCode).toBe(0)
    const inSync = await apply({ mode: 'check' })
    expect({ exit: inSync.exitCode, statuses: Object.values(statuses(inSync)) }).toEqual({
      exit: 0,
      statuses: ['in-sync', 'in-sync', 'in-sync', 'in-sync']
    })
    await iam.send(
      new DeleteRolePolicyCommand({ RoleName: 'lambda-exec', PolicyName: 'RotelClickStackDenyCloudWatchLogs' })
    )
    const drifted = await apply({ mode: 'check' })
    expect(drifted.exitCode).toBe(1)
    expect(statuses(drifted)).toEqual({
      'orders-api': 'drifted',
      'legacy-job': 'drifted',
      'billing-worker': 'drifted',
      'reports-job': 'in-sync'
    })
    expect(drifted.stdout).toMatch(
      /orders-api \(us-east-1\) has drifted: role lambda-exec lost the deny policy RotelClickStackDenyCloudWatchLogs/
    )
  })

  it('fails a function whose log group gets a new stream after its test invocation, and keeps its extension', async () => {
    const logs = new CloudWatchLogsClient({ region: 'us-east-1', endpoint, credentials })
    const pending = apply({ functions: 'orders-api', 'cloudwatch-check-seconds': '20' })
    // moto writes no stream on Invoke: the test makes the new environment's one once the update went through.
    for (let tries = 0; tries < 300; tries++) {
      const layers = await layersOf('us-east-1', 'orders-api')
      if (layers.some((arn) => arn.endsWith('rotel-extension-amd64-alpha:5'))) break
      await new Promise((done) => setTimeout(done, 100))
    }
    const name = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]late`
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/aws/lambda/orders-api', logStreamName: name }))
    logs.destroy()
    const run = await pending
    expect(run.exitCode).toBe(1)
    const [row] = reportOf(run)
    expect(row).toMatchObject({ function: 'orders-api', status: 'failed', cloudwatch: 'on' })
    expect(row?.error).toMatch(/still received its logs after the test invocation .*IAM changes can take a few seconds/)
    expect((await layersOf('us-east-1', 'orders-api')).some((arn) => arn.includes('rotel-extension-amd64-alpha'))).toBe(
      true
    )
    // Its logs reach ClickStack, so its log group stays denied.
    expect(Object.keys((await readRole('lambda-exec')).inline)).toContain('RotelClickStackDenyCloudWatchLogs')
  })

  it('fails the step, keeping the change, when a function cannot be verified to have CloudWatch Logs off', async () => {
    proxy.setRules([{ service: 'logs', operation: 'DescribeLogStreams', fault: '500' }])
    try {
      const run = await apply({ functions: 'orders-api' })
      expect(run.exitCode).toBe(1)
      expect(reportOf(run)).toEqual([
        expect.objectContaining({ status: 'updated', cloudwatch: 'unknown', error: null })
      ])
      expect(run.stdout).toMatch(
        /::warning title=orders-api%3A CloudWatch Logs::orders-api: it has the extension, but whether its logs no longer reach CloudWatch Logs could not be verified \(could not read log group \/aws\/lambda\/orders-api: InternalFailure/
      )
      expect(run.stdout).toMatch(
        /::error::1 of 1 function could not be verified to have CloudWatch Logs off \(orders-api\); orders-api: could not read log group \/aws\/lambda\/orders-api: InternalFailure.*The change was kept, not rolled back/
      )
    } finally {
      proxy.setRules([])
    }
    expect((await layersOf('us-east-1', 'orders-api')).some((arn) => arn.includes('rotel-extension-amd64-alpha'))).toBe(
      true
    )
    expect(Object.keys((await readRole('lambda-exec')).inline)).toContain('RotelClickStackDenyCloudWatchLogs')
  })

  it('gives CloudWatch Logs back to a function that could not be changed, and only to it', async () => {
    // A sixth layer is over Lambda's limit of five: crowded-job fails before any write.
    for (let n = 1; n <= 5; n++)
      await publishMirroredLayer(endpoint, {
        region: 'us-east-1',
        name: `extra-${n}`,
        versions: 1,
        architectures: ['x86_64']
      })
    await createSampleFunction(endpoint, {
      region: 'us-east-1',
      name: 'crowded-job',
      architecture: 'x86_64',
      layers: [1, 2, 3, 4, 5].map((n) => `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:extra-${n}:1`)
    })
    const run = await apply({ functions: 'orders-api\ncrowded-job' })
    expect(statuses(run)).toEqual({ 'orders-api': 'updated', 'crowded-job': 'failed' })
    const deny = (await readRole('lambda-exec')).inline.RotelClickStackDenyCloudWatchLogs as {
      Statement: Array<{ Resource: string[] }>
    }
    expect(deny.Statement[0]?.Resource).toEqual([
      group('us-east-1', 'orders-api'),
      `${group('us-east-1', 'orders-api')}:*`
    ])
    expect(
      reportOf(run)
        .find((r) => r.function === 'crowded-job')
        ?.executionRole?.changes.join('; ')
    ).toMatch(/then took the function's log group out of/)
  })
})

describe('cloudwatch-logs: off with detach', () => {
  it('detaches the basic policy, narrows logs:* in inline policies keeping the rest, reports the customer-managed policy, and remove restores both roles exactly', async () => {
    const before = { shared: await readRole('lambda-exec'), own: await readRole('reports-role') }
    const run = await apply({ 'cloudwatch-off-method': 'detach' })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)

    const shared = await readRole('lambda-exec')
    expect(shared.attached).toEqual(before.shared.attached.filter((arn) => arn !== BASIC))
    const own = await readRole('reports-role')
    expect(own.attached).toEqual([TEAM_LOGGING])
    const app = own.inline.app as { Statement: Array<{ Sid?: string; Action: string | string[]; Resource: unknown }> }
    const everything = app.Statement.find((statement) => statement.Sid === 'Everything')
    const actions = [everything?.Action ?? []].flat()
    expect(actions).toContain('s3:GetObject')
    // The writes are gone; every other logs action the role had stays (written as narrower patterns).
    for (const write of ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'])
      expect({ write, granted: actions.some((pattern) => actionMatches(pattern, write)) }).toEqual({
        write,
        granted: false
      })
    for (const other of [
      'logs:DescribeLogStreams',
      'logs:GetLogEvents',
      'logs:CreateExportTask',
      'logs:PutRetentionPolicy',
      'logs:FilterLogEvents'
    ])
      expect({ other, granted: actions.some((pattern) => actionMatches(pattern, other)) }).toEqual({
        other,
        granted: true
      })
    expect(app.Statement.find((statement) => statement.Sid === 'Queue')).toEqual(APP_POLICY.Statement[1])
    // The customer-managed policy is reported with its ARN, never edited.
    expect(run.stdout).toMatch(new RegExp(`::warning[^\\n]*${TEAM_LOGGING.replace(/[/]/g, '\\/')}`))

    const removal = await apply({ mode: 'remove', 'cloudwatch-logs': '' })
    expect(removal.exitCode).toBe(0)
    expect(await readRole('lambda-exec')).toEqual(before.shared)
    expect(await readRole('reports-role')).toEqual(before.own)
  })
})

describe('grant-secret-access', () => {
  const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack-key`
  const secretInputs = (grant: string) => ({
    functions: 'orders-api\nlegacy-job',
    'cloudwatch-logs': 'keep',
    'otlp-headers': `Authorization=\${${SECRET}}`,
    'grant-secret-access': grant
  })

  it('true: one inline policy on the shared role allowing exactly the referenced secret, written once, and a second run writes nothing', async () => {
    const before = await readRole('lambda-exec')
    const run = await apply(secretInputs('true'))
    expect(run.stderr).toBe('')
    expect({ exit: run.exitCode, statuses: statuses(run) }).toEqual({
      exit: 0,
      statuses: { 'orders-api': 'updated', 'legacy-job': 'updated' }
    })
    const after = await readRole('lambda-exec')
    expect(after.attached).toEqual(before.attached)
    expect(after.tags).toEqual({
      ...before.tags,
      'rotel-clickstack-action:secret-policy': 'RotelClickStackReadIngestionSecret'
    })
    const policy = after.inline.RotelClickStackReadIngestionSecret as {
      Statement: Array<{ Effect: string; Action: unknown; Resource: unknown }>
    }
    const grants = policy.Statement.flatMap((statement) =>
      [statement.Action]
        .flat()
        .flatMap((action) =>
          [statement.Resource].flat().map((resource) => `${statement.Effect} ${String(action)} ${String(resource)}`)
        )
    )
    expect(grants.sort()).toEqual([
      `Allow secretsmanager:BatchGetSecretValue *`,
      `Allow secretsmanager:GetSecretValue ${SECRET}-??????`
    ])
    expect(iamCalls(run.calls, 'PutRolePolicy')).toHaveLength(1)
    expect(iamCalls(run.calls, 'GetRole')).toHaveLength(1)
    // Both functions of the role report the one write, whichever of them made it.
    for (const row of reportOf(run))
      expect(row.executionRole?.changes.join(' ')).toMatch(
        /put the reads of secretsmanager:GetSecretValue on \S*clickstack-key-\?{6}, secretsmanager:BatchGetSecretValue on \* into inline policy RotelClickStackReadIngestionSecret/
      )

    const again = await apply(secretInputs('true'))
    expect({ exit: again.exitCode, changed: again.outputs.changed }).toEqual({ exit: 0, changed: 'false' })
    expect(iamCalls(again.calls, 'PutRolePolicy')).toHaveLength(0)
    expect(await readRole('lambda-exec')).toEqual(after)

    // remove takes the extension off and leaves the grant: other functions of the role may need it.
    const removal = await apply({ ...secretInputs('true'), mode: 'remove' })
    expect(removal.exitCode).toBe(0)
    expect(removal.stdout).toMatch(
      /::notice title=Secret access left in place::Execution role lambda-exec keeps inline policy RotelClickStackReadIngestionSecret/
    )
    expect(await readRole('lambda-exec')).toEqual(after)
  })

  it('true, after the reference moves: the role reads the new secret only, kms:Decrypt through the service only; none left, no grant', async () => {
    const before = await readRole('lambda-exec')
    const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1111aaaa-12ab-34cd-56ef-1234567890ab`
    const MOVED_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/2222bbbb-12ab-34cd-56ef-1234567890ab`
    const PARAMETER = `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/clickstack/ingest-key`
    expect((await apply({ ...secretInputs('true'), 'secret-kms-key-arn': KEY })).exitCode).toBe(0)

    const moved = await apply({
      ...secretInputs('true'),
      'otlp-headers': `Authorization=\${${PARAMETER}}`,
      'secret-kms-key-arn': MOVED_KEY
    })
    expect({ exit: moved.exitCode, statuses: statuses(moved) }).toEqual({
      exit: 0,
      statuses: { 'orders-api': 'updated', 'legacy-job': 'updated' }
    })
    const policy = (await readRole('lambda-exec')).inline.RotelClickStackReadIngestionSecret
    const text = JSON.stringify(policy)
    for (const old of [SECRET, KEY, 'secretsmanager:']) expect(text).not.toContain(old)
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RotelClickStackGetParameters', Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [PARAMETER] },
        {
          Sid: 'RotelClickStackKmsDecrypt',
          Effect: 'Allow',
          Action: ['kms:Decrypt'],
          Resource: [MOVED_KEY],
          Condition: { StringEquals: { 'kms:ViaService': ['ssm.us-east-1.amazonaws.com'] } }
        }
      ]
    })
    for (const row of reportOf(moved))
      expect(row.executionRole?.changes.join(' ')).toContain(
        `then dropped from inline policy RotelClickStackReadIngestionSecret`
      )

    // The same inputs again: nothing to write.
    const again = await apply({
      ...secretInputs('true'),
      'otlp-headers': `Authorization=\${${PARAMETER}}`,
      'secret-kms-key-arn': MOVED_KEY
    })
    expect(iamCalls(again.calls, 'PutRolePolicy')).toHaveLength(0)

    // The ingestion key in plain text now: nothing to read, so the grant and its tag go.
    const none = await apply({ ...secretInputs('true'), 'otlp-headers': 'Authorization=plain-key-123' })
    expect(none.exitCode).toBe(0)
    expect(await readRole('lambda-exec')).toEqual(before)
  })

  it('false: warns once, naming the missing action and the secret, and changes no role', async () => {
    const before = await readRole('lambda-exec')
    const run = await apply(secretInputs('false'))
    expect(run.exitCode).toBe(0)
    const warnings = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('::warning') && line.includes('secretsmanager:GetSecretValue'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(`${SECRET}-??????`)
    expect(await readRole('lambda-exec')).toEqual(before)
    expect(iamCalls(run.calls, 'PutRolePolicy')).toHaveLength(0)
  })
})
