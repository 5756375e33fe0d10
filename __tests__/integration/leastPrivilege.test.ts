/**
 * Guarantee 5 of README's "Failure behaviour": the deploy role needs only the permissions README
 * lists, per mode and feature. README is the single source: the test reads the policy block after
 * `<!-- deploy-role-policy -->` and the table after `<!-- deploy-role-needs -->` (which statements each
 * kind of run needs), gives a role exactly those statements, turns moto's IAM enforcement on and runs
 * dist/index.js with that role's credentials. For each row of CASES it proves that
 * - the run succeeds with the expected status per function, and the functions read back as expected;
 * - no call was refused, not even one whose failure the action would tolerate (the CloudWatch check);
 * - every action the statements grant is one the run calls (README does not grant more than needed),
 *   except what AWS checks on its own (CHECKED_BY_AWS_ITSELF);
 * - the same run with one needed action taken out of the policy fails, naming the function (or the
 *   pattern) and the action: the enforcement is real and the test can fail.
 * A new mode or feature is one more row of CASES (and a row in README's table).
 *
 * What moto 5.1.1 does and does not do here (found while writing this test):
 * - It evaluates only the Action of a statement: every request is checked against the resource "*", so a
 *   statement with a narrower Resource never matches. The test widens every Resource to "*": what it
 *   proves is the action list of each row, not README's resource scoping. Condition, NotAction and
 *   NotResource are not evaluated either; the test refuses a README statement that has them.
 * - It names the action after the API operation: Invoke needs "lambda:Invoke", where IAM's action
 *   is "lambda:InvokeFunction" (README's name). The test translates (IAM_ACTION_OF_OPERATION).
 * - It checks only the operation called: Lambda's own check of lambda:GetLayerVersion on each layer
 *   of the function during UpdateFunctionConfiguration is not made, so KeepTheFunctionsOwnLayers is
 *   neither needed nor refused here.
 * - It recomputes each request's SigV4 signature over the URL-decoded path, so every call naming a
 *   function or layer by ARN fails with SignatureDoesNotMatch: a proxy re-signs each call as moto
 *   expects, with the same key (__tests__/support/resigningProxy.ts). Authorisation stays moto's.
 * - Denials come back as IAM's XML error (AccessDenied, "User: … is not authorized to perform: …")
 *   even for Lambda and CloudWatch Logs, which speak JSON: the SDK throws a parse error with HTTP 403.
 * - Under enforcement the dummy credentials the fixtures use are refused (InvalidClientTokenId), and
 *   an unsigned AssumeRoleWithWebIdentity (as the action makes it with role-to-assume) is answered
 *   HTTP 500; so the role is assumed with enforcement off, the action gets the role session's
 *   credentials (role-to-assume empty), and fixtures and read-backs run with enforcement off.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { type FunctionConfiguration, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam'
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { type ProxiedCall, type ResigningProxy, startResigningProxy } from '../support/resigningProxy.js'
import { type ActionRun, freePort, ROOT, runAction, startEmulator, stopEmulator } from './harness.js'

const ACCOUNT = '123456789012'
const ROLE_NAME = 'deploy'
const admin = { accessKeyId: 'testing', secretAccessKey: 'testing' }

// ---------------------------------------------------------------------------------------------
// README: the policy and which statements each run needs

interface Statement {
  Sid: string
  Effect: 'Allow'
  Action: string | string[]
  Resource: string | string[]
}
interface PolicyDocument {
  Version: string
  Statement: Statement[]
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

function readmePolicy(): PolicyDocument {
  const block = /<!-- deploy-role-policy\b[^>]*-->\s*```json\n([\s\S]*?)```/.exec(README)?.[1]
  if (block === undefined) throw new Error('README has no ```json block right after <!-- deploy-role-policy -->')
  const policy = JSON.parse(block) as PolicyDocument
  for (const statement of policy.Statement) {
    const keys = Object.keys(statement).sort()
    // moto would ignore anything else, and the test would prove less than README says.
    if (keys.join() !== 'Action,Effect,Resource,Sid' || statement.Effect !== 'Allow')
      throw new Error(`README statement ${JSON.stringify(statement)}: moto evaluates only Allow statements with Sid, Action, Resource`)
  }
  return policy
}

/** README's table: the first cell (backticks dropped) → the Sids in the second. */
function readmeNeeds(): Map<string, string[]> {
  const after = README.split('<!-- deploy-role-needs -->')[1]
  if (after === undefined) throw new Error('README has no <!-- deploy-role-needs --> table')
  const rows = after.trimStart().split('\n')
  const needs = new Map<string, string[]>()
  for (const row of rows.slice(2)) {
    if (!row.startsWith('|')) break
    const [what = '', statements = ''] = row.split('|').slice(1, -1).map((cell) => cell.trim())
    needs.set(what.replace(/`/g, ''), [...statements.matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1] ?? ''))
  }
  return needs
}

const POLICY = readmePolicy()
const NEEDS = readmeNeeds()

const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action]

/** The statements README's rows need, in README's order. */
function policyFor(rows: readonly string[]): PolicyDocument {
  const sids = new Set<string>()
  for (const row of rows) {
    const needed = NEEDS.get(row)
    if (!needed) throw new Error(`README's permission table has no row "${row}" (rows: ${[...NEEDS.keys()].join(' | ')})`)
    for (const sid of needed) sids.add(sid)
  }
  return { Version: POLICY.Version, Statement: POLICY.Statement.filter((statement) => sids.has(statement.Sid)) }
}

/** The policy without one action (a statement left with none is dropped). */
function without(policy: PolicyDocument, action: string): PolicyDocument {
  if (!policy.Statement.some((statement) => actionsOf(statement).includes(action)))
    throw new Error(`the policy has no ${action} to take out`)
  return {
    Version: policy.Version,
    Statement: policy.Statement.map((statement) => ({
      ...statement,
      Action: actionsOf(statement).filter((a) => a !== action)
    })).filter((statement) => statement.Action.length > 0)
  }
}

/** API operation → IAM action, where their names differ; moto uses the operation's name. */
const IAM_ACTION_OF_OPERATION: Readonly<Record<string, string>> = { 'lambda:Invoke': 'lambda:InvokeFunction' }
const MOTO_ACTION_OF_IAM = Object.fromEntries(Object.entries(IAM_ACTION_OF_OPERATION).map(([op, iam]) => [iam, op]))

/** As moto can evaluate it: resources widened to "*", actions under moto's names. */
function forMoto(policy: PolicyDocument): PolicyDocument {
  return {
    Version: policy.Version,
    Statement: policy.Statement.map((statement) => ({
      ...statement,
      Action: actionsOf(statement).map((action) => MOTO_ACTION_OF_IAM[action] ?? action),
      Resource: '*'
    }))
  }
}

/**
 * Statements whose actions AWS checks itself, never called by the action: Lambda checks
 * lambda:GetLayerVersion on every layer of a function that UpdateFunctionConfiguration sends.
 */
const CHECKED_BY_AWS_ITSELF = new Set(['KeepTheFunctionsOwnLayers'])

/** The IAM actions a policy grants that the action itself calls. */
function calledActionsOf(policy: PolicyDocument): string[] {
  const called = new Set<string>()
  for (const statement of policy.Statement)
    if (!CHECKED_BY_AWS_ITSELF.has(statement.Sid)) for (const action of actionsOf(statement)) called.add(action)
  return [...called].sort()
}

// ---------------------------------------------------------------------------------------------
// The runs

/** The sample fleet (scripts/emulator-fixtures.mjs): name → region. */
const FLEET: Readonly<Record<string, string>> = {
  'orders-api': 'us-east-1',
  'billing-worker': 'eu-west-1',
  'legacy-job': 'us-east-1'
}
const FLEET_INPUT = `orders-api\narn:aws:lambda:eu-west-1:${ACCOUNT}:function:billing-worker\nlegacy-job`

interface Case {
  readonly title: string
  /** Rows of README's permission table whose statements the role gets. */
  readonly needs: readonly string[]
  readonly inputs: Readonly<Record<string, string>>
  /** function → status in the report. */
  readonly statuses: Readonly<Record<string, string>>
  /** The negative run: the policy without this action (README's IAM name) fails… */
  readonly without: string
  /** …with these statuses (omitted: no function is processed at all)… */
  readonly failedStatuses?: Readonly<Record<string, string>>
  /** …and an error annotation matching this. */
  readonly failure: RegExp
  /** More to check after the successful run (e.g. what a feature changed outside Lambda). */
  readonly alsoExpect?: (outcome: Outcome) => void | Promise<void>
}

const CASES: readonly Case[] = [
  {
    title: 'apply',
    needs: ['apply'],
    inputs: {},
    statuses: { 'orders-api': 'updated', 'billing-worker': 'updated', 'legacy-job': 'updated' },
    without: 'lambda:UpdateFunctionConfiguration',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    failure: /::error title=orders-api%3A failed::Failed to update orders-api: AccessDeniedException: .*lambda:UpdateFunctionConfiguration/
  },
  {
    title: 'apply with test-invoke: false',
    needs: ['apply with test-invoke: false'],
    inputs: { 'test-invoke': 'false' },
    statuses: { 'orders-api': 'updated', 'billing-worker': 'updated', 'legacy-job': 'updated' },
    without: 'lambda:GetLayerVersion',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    failure: /::error title=orders-api%3A failed::Could not find the Rotel layer for us-east-1\/x86_64: .*lambda:GetLayerVersion/
  },
  {
    title: 'plan',
    needs: ['plan, check'],
    inputs: { mode: 'plan' },
    statuses: { 'orders-api': 'planned', 'billing-worker': 'planned', 'legacy-job': 'planned' },
    without: 'lambda:GetFunctionConfiguration',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    failure: /::error title=orders-api%3A failed::Not allowed to read orders-api in us-east-1 \(.*\); the deploy role needs lambda:GetFunctionConfiguration on it/
  },
  {
    title: 'check',
    needs: ['plan, check'],
    inputs: { mode: 'check', 'fail-on-drift': 'false' },
    statuses: { 'orders-api': 'drifted', 'billing-worker': 'drifted', 'legacy-job': 'drifted' },
    without: 'lambda:GetLayerVersion',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    failure: /::error title=legacy-job%3A failed::Could not find the Rotel layer for us-east-1\/arm64: .*lambda:GetLayerVersion/
  },
  {
    title: 'remove',
    needs: ['remove'],
    inputs: { mode: 'remove' },
    statuses: { 'orders-api': 'removed', 'billing-worker': 'unchanged', 'legacy-job': 'removed' },
    without: 'lambda:InvokeFunction',
    // The write goes through, the test invocation is refused, and the write is undone.
    failedStatuses: { 'orders-api': 'rolled-back', 'billing-worker': 'unchanged', 'legacy-job': 'rolled-back' },
    failure: /::error title=orders-api%3A rolled-back::orders-api: the test invocation could not be made: AccessDeniedException: .*lambda:InvokeFunction.* It was rolled back/
  },
  {
    title: 'remove with test-invoke: false',
    needs: ['remove with test-invoke: false'],
    inputs: { mode: 'remove', 'test-invoke': 'false' },
    statuses: { 'orders-api': 'removed', 'billing-worker': 'unchanged', 'legacy-job': 'removed' },
    without: 'lambda:UpdateFunctionConfiguration',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'unchanged', 'legacy-job': 'failed' },
    failure: /::error title=legacy-job%3A failed::Failed to update legacy-job: AccessDeniedException: .*lambda:UpdateFunctionConfiguration/
  },
  {
    title: 'plan with patterns over two regions',
    needs: ['plan, check', 'patterns in functions (in addition, in any mode)'],
    inputs: { mode: 'plan', functions: '*-worker\n*-job', 'aws-region': 'us-east-1\neu-west-1' },
    statuses: { 'billing-worker': 'planned', 'legacy-job': 'planned' },
    without: 'lambda:ListFunctions',
    failure: /::error::.*Could not list the functions in (us-east-1|eu-west-1) to resolve \*-worker, \*-job: AccessDeniedException: .*lambda:ListFunctions/
  }
]

/** README rows no case runs (none yet). */
const ROWS_COVERED_ELSEWHERE = new Set<string>()

// ---------------------------------------------------------------------------------------------
// Emulator, role, enforcement

let port = 0
let endpoint = ''
let proxy: ResigningProxy

/** IAM enforcement of the whole emulator (our own instance): on checks every call from now on. */
async function enforceIam(on: boolean): Promise<void> {
  const res = await fetch(new URL('/moto-api/reset-auth', endpoint), { method: 'POST', body: on ? '0' : 'inf' })
  if (!res.ok) throw new Error(`reset-auth: HTTP ${res.status}`)
}

interface Session {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken: string
}

/** A fresh sample fleet and a `deploy` role with `policy` (as moto evaluates it), and a session of that role. */
async function prepare(policy: PolicyDocument): Promise<Session> {
  await enforceIam(false)
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
  const iam = new IAMClient({ region: 'us-east-1', endpoint, credentials: { ...admin } })
  const sts = new STSClient({ region: 'us-east-1', endpoint, credentials: { ...admin } })
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: ROLE_NAME,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/github` }, Action: 'sts:AssumeRoleWithWebIdentity' }]
        })
      })
    )
    await iam.send(
      new PutRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: 'rotel-deploy', PolicyDocument: JSON.stringify(forMoto(policy)) })
    )
    const { Credentials: credentials } = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`,
        RoleSessionName: 'least-privilege',
        WebIdentityToken: 'token-of-the-fake-oidc'
      })
    )
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken)
      throw new Error('AssumeRoleWithWebIdentity gave no credentials')
    proxy.secrets.set(credentials.AccessKeyId, credentials.SecretAccessKey)
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken
    }
  } finally {
    iam.destroy()
    sts.destroy()
  }
}

interface Outcome {
  readonly run: ActionRun
  /** The calls the action made with the role's credentials. */
  readonly calls: ProxiedCall[]
  /** What each function looked like before and after, read with enforcement off. */
  readonly before: Map<string, FunctionConfiguration>
  readonly after: Map<string, FunctionConfiguration>
}

async function readFleet(): Promise<Map<string, FunctionConfiguration>> {
  const fleet = new Map<string, FunctionConfiguration>()
  for (const [name, region] of Object.entries(FLEET)) {
    const client = new LambdaClient({ region, endpoint, credentials: { ...admin } })
    try {
      fleet.set(name, await client.send(new GetFunctionConfigurationCommand({ FunctionName: name })))
    } finally {
      client.destroy()
    }
  }
  return fleet
}

/** Runs dist/index.js as the role, with enforcement on for exactly the run. */
async function runAs(policy: PolicyDocument, inputs: Readonly<Record<string, string>>): Promise<Outcome> {
  const session = await prepare(policy)
  const before = await readFleet()
  const first = proxy.calls.length
  let run: ActionRun
  await enforceIam(true)
  try {
    run = await runAction({
      endpoint: proxy.url,
      inputs: {
        functions: FLEET_INPUT,
        'aws-region': 'us-east-1',
        'layer-account': ACCOUNT,
        'otlp-endpoint': 'https://clickstack.example.com:4317',
        'cloudwatch-check-seconds': '0',
        // Not AWS: the OTLP preflight, ClickHouse and the PR comment need no IAM permission.
        preflight: 'false',
        'annotate-files': 'false',
        ...inputs
      },
      env: {
        AWS_ACCESS_KEY_ID: session.accessKeyId,
        AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
        AWS_SESSION_TOKEN: session.sessionToken
      }
    })
  } finally {
    await enforceIam(false)
  }
  const calls = proxy.calls.slice(first).filter((call) => call.accessKeyId === session.accessKeyId)
  return { run, calls, before, after: await readFleet() }
}

const statuses = (run: ActionRun): Record<string, string> =>
  Object.fromEntries(
    (JSON.parse(run.outputs.report ?? '[]') as Array<{ function: string; status: string }>).map((r) => [r.function, r.status])
  )

const iamActionOf = (call: ProxiedCall): string => {
  const action = `${call.service}:${call.operation}`
  return IAM_ACTION_OF_OPERATION[action] ?? action
}

const refusals = (calls: readonly ProxiedCall[]): string[] =>
  calls
    .filter((call) => call.status === 401 || call.status === 403)
    .map((call) => `${iamActionOf(call)} ${call.method} ${call.path} → ${call.status} ${call.errorCode ?? ''}: ${call.errorMessage ?? ''}`)

const rotelLayers = (configuration: FunctionConfiguration | undefined): string[] =>
  (configuration?.Layers ?? []).map((layer) => layer.Arn ?? '').filter((arn) => arn.includes(':layer:rotel-extension-'))
const rotelVariables = (configuration: FunctionConfiguration | undefined): string[] =>
  Object.keys(configuration?.Environment?.Variables ?? {}).filter((name) => name.startsWith('ROTEL_'))
const essentials = (configuration: FunctionConfiguration | undefined) => ({
  Layers: configuration?.Layers,
  Environment: configuration?.Environment
})

/** Each function as its status says: the target layer and settings, none of them, or as it was. */
function expectFleetAsReported(outcome: Outcome, expected: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(FLEET)) {
    const before = outcome.before.get(name)
    const after = outcome.after.get(name)
    const status = expected[name]
    if (status === 'updated') {
      const arch = after?.Architectures?.[0] === 'arm64' ? 'arm64' : 'amd64'
      expect({ name, layers: rotelLayers(after) }).toEqual({
        name,
        layers: [`arn:aws:lambda:${FLEET[name]}:${ACCOUNT}:layer:rotel-extension-${arch}-alpha:5`]
      })
      expect(after?.Environment?.Variables?.ROTEL_OTLP_EXPORTER_ENDPOINT).toBe('https://clickstack.example.com:4317')
    } else if (status === 'removed') {
      expect({ name, layers: rotelLayers(after), variables: rotelVariables(after) }).toEqual({ name, layers: [], variables: [] })
      expect(after?.Layers?.length).toBe((before?.Layers?.length ?? 0) - rotelLayers(before).length)
    } else {
      // planned, drifted, in-sync, unchanged, failed, rolled-back, or not selected: as it was.
      expect({ name, ...essentials(after) }).toEqual({ name, ...essentials(before) })
    }
  }
}

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  proxy = await startResigningProxy(endpoint)
})

afterEach(async () => {
  await enforceIam(false)
  proxy.calls.length = 0
})

afterAll(async () => {
  await proxy?.close()
  stopEmulator(port)
})

describe('README', () => {
  it('names in its table only statements of its policy, and uses every statement in some row', () => {
    const sids = POLICY.Statement.map((statement) => statement.Sid)
    expect(new Set(sids).size).toBe(sids.length)
    const used = new Set([...NEEDS.values()].flat())
    expect([...used].filter((sid) => !sids.includes(sid))).toEqual([])
    expect(sids.filter((sid) => !used.has(sid))).toEqual([])
    // Every row of the table is run below.
    expect([...NEEDS.keys()].filter((row) => !CASES.some((c) => c.needs.includes(row)) && !ROWS_COVERED_ELSEWHERE.has(row))).toEqual([])
  })
})

describe.each(CASES)('$title with exactly the permissions README lists', (c) => {
  it('succeeds, no call is refused, and every action granted is one the run calls', async () => {
    const policy = policyFor(c.needs)
    const outcome = await runAs(policy, c.inputs)
    const report = `exit ${outcome.run.exitCode}\n${outcome.run.stdout}\n${outcome.run.stderr}`
    expect({ refused: refusals(outcome.calls) }).toEqual({ refused: [] })
    expect({ statuses: statuses(outcome.run), report }).toEqual({ statuses: c.statuses, report })
    expect(outcome.run.exitCode).toBe(0)
    expect(outcome.run.stdout).not.toMatch(/^::error/m)
    expect([...new Set(outcome.calls.map(iamActionOf))].sort()).toEqual(calledActionsOf(policy))
    expectFleetAsReported(outcome, c.statuses)
    await c.alsoExpect?.(outcome)
  })

  it(`fails without ${c.without}, naming what was refused`, async () => {
    const outcome = await runAs(without(policyFor(c.needs), c.without), c.inputs)
    expect(outcome.run.exitCode).toBe(1)
    // moto refused the call, and only calls of that action.
    const refused = outcome.calls.filter((call) => call.status === 403)
    expect(refused.length).toBeGreaterThan(0)
    expect([...new Set(refused.map(iamActionOf))]).toEqual([c.without])
    expect(refused[0]?.errorMessage).toMatch(`is not authorized to perform: ${MOTO_ACTION_OF_IAM[c.without] ?? c.without}`)
    expect(statuses(outcome.run)).toEqual(c.failedStatuses ?? {})
    expect(outcome.run.stdout).toMatch(c.failure)
    expectFleetAsReported(outcome, c.failedStatuses ?? {})
  })
})
