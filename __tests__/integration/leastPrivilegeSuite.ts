/**
 * Guarantee 5 of docs/failure-behaviour.md: the deploy role needs only the permissions docs/permissions.md
 * lists, per mode and feature ("README" below: that page, where README held these documents once). It is the
 * single source: the test reads the policy block after
 * `<!-- deploy-role-policy -->` and the table after `<!-- deploy-role-needs -->` (which statements each
 * kind of run needs), gives a role exactly those statements, turns moto's IAM enforcement on and runs
 * dist/index.js with that role's credentials. For each row of CASES it proves that
 * - the run succeeds with the expected status per function, and the functions read back as expected;
 * - no call was refused, not even one whose failure the action would tolerate (the CloudWatch check);
 * - every action the statements grant is one the run calls (README does not grant more than needed),
 *   except what AWS checks on its own (CHECKED_BY_AWS_ITSELF) and statements a case names as needed only on
 *   a path it does not take (Case.uncalled, each with the reason);
 * - the same run with one needed action taken out of the policy fails, naming the function (or the
 *   pattern) and the action: the enforcement is real and the test can fail. Where README says a refusal
 *   only warns (Case.refusalWarns: grant-secret-access's reads), the run succeeds and the warning names
 *   the action.
 * - a statement README calls optional (Case.optional) is one the run also succeeds without, only its
 *   actions refused.
 * The cases run in three files (leastPrivilege*.test.ts, by SuitePart), each with its own moto, side by side.
 * A new mode or feature is one more row of CASES (and a row in README's table). A case can shape the
 * account first (Case.setup, as admin with enforcement off: the execution role's own policies, an earlier
 * run of the action), e.g. so that `remove` finds what an earlier `cloudwatch-logs: off` run did.
 *
 * What moto does and does not do here (found while writing this test; 5.2.1 runs on this project's machines):
 * - moto 5.2.1 checks an IAM request that names a role (RoleName) against that role's ARN, and every
 *   other request against the resource "*", so a statement with a narrower Resource never matches those.
 *   The test keeps the Resource of the statements made only of role-naming IAM actions (ROLE_NAMED_ACTIONS)
 *   and README's Deny on the deploy role, and widens every other Resource to "*": what it proves is the
 *   action list of each row, the role scoping of the IAM statements and the Deny, not the scoping of the
 *   Lambda and Logs statements. moto 5.1.1 checks role requests against "*" too: a probe at start finds
 *   out (motoScopesRoles), and then every Resource is widened and the Deny left out.
 * - It passes no context values to an identity policy's Conditions, so it treats each as met: the test
 *   drops README's Conditions (iam:PolicyARN), which __tests__/unit/readmePolicy.test.ts evaluates.
 *   NotAction and NotResource are not read: the test refuses a README statement that has them.
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
 * - It does not implement IAM's policy simulator: an authorised SimulatePrincipalPolicy is answered HTTP
 *   500 (the SDK retries it, then the action falls back to its static analysis of the role's policies). So
 *   SimulateTheExecutionRoles is proven to be the action called and to be optional, never what AWS's
 *   simulator needs beyond it.
 * - Under enforcement the dummy credentials the fixtures use are refused (InvalidClientTokenId), and
 *   an unsigned AssumeRoleWithWebIdentity (as the action makes it with role-to-assume) is answered
 *   HTTP 500; so the role is assumed with enforcement off, the action gets the role session's
 *   credentials (role-to-assume empty), and fixtures and read-backs run with enforcement off.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { type FunctionConfiguration, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand
} from '@aws-sdk/client-iam'
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { resetEmulator, seedSampleFleet } from '../../scripts/emulator-fixtures.mjs'
import { listOf, type PolicyDocument, readmeNeeds, readmePolicy, type Statement } from '../support/readmePolicy.js'
import { type ProxiedCall, type ResigningProxy, startResigningProxy } from '../support/resigningProxy.js'
import { type ActionRun, freePort, runAction, startEmulator, stopEmulator } from './harness.js'

const ACCOUNT = '123456789012'
const admin = { accessKeyId: 'testing', secretAccessKey: 'testing' }

// ---------------------------------------------------------------------------------------------
// README: the policy and which statements each run needs

const POLICY = readmePolicy()
const NEEDS = readmeNeeds()
const isDeny = (statement: Statement): boolean => statement.Effect === 'Deny'
const DENIES = POLICY.Statement.filter(isDeny)

const actionsOf = (statement: Statement): string[] => listOf(statement.Action)

/** The deploy role, as README's Deny names it: the role the test's runs hold. */
const ROLE_NAME = (() => {
  const names = DENIES.flatMap((statement) => listOf(statement.Resource)).map(
    (arn) => /:role\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1]
  )
  if (names.length !== 1 || !names[0])
    throw new Error(`README's policy must deny writes to exactly one role, the deploy role (found ${names.join(', ')})`)
  return names[0]
})()

/** The statements README's rows need, in README's order, and every Deny (it goes with every row). */
function policyFor(rows: readonly string[]): PolicyDocument {
  const sids = new Set<string>()
  for (const row of rows) {
    const needed = NEEDS.get(row)
    if (!needed)
      throw new Error(`README's permission table has no row "${row}" (rows: ${[...NEEDS.keys()].join(' | ')})`)
    for (const sid of needed) sids.add(sid)
  }
  return {
    Version: POLICY.Version,
    Statement: POLICY.Statement.filter((statement) => isDeny(statement) || sids.has(statement.Sid ?? ''))
  }
}

/** The policy without one action in its Allows (a statement left with none is dropped). */
function without(policy: PolicyDocument, action: string): PolicyDocument {
  if (!policy.Statement.some((statement) => !isDeny(statement) && actionsOf(statement).includes(action)))
    throw new Error(`the policy has no ${action} to take out`)
  return {
    Version: policy.Version,
    Statement: policy.Statement.map((statement) => ({
      ...statement,
      Action: isDeny(statement) ? statement.Action : actionsOf(statement).filter((a) => a !== action)
    })).filter((statement) => statement.Action.length > 0)
  }
}

/** API operation → IAM action, where their names differ; moto uses the operation's name. */
const IAM_ACTION_OF_OPERATION: Readonly<Record<string, string>> = { 'lambda:Invoke': 'lambda:InvokeFunction' }
const MOTO_ACTION_OF_IAM = Object.fromEntries(Object.entries(IAM_ACTION_OF_OPERATION).map(([op, iam]) => [iam, op]))

/**
 * IAM actions whose requests name the role (RoleName): moto 5.2 checks them against the role's ARN, so a
 * statement of only these keeps its Resource (when the emulator does: motoScopesRoles). moto checks every
 * other request against "*", so any other statement's Resource is widened to "*".
 */
const ROLE_NAMED_ACTIONS = new Set([
  'iam:GetRole',
  'iam:ListRoleTags',
  'iam:ListAttachedRolePolicies',
  'iam:ListRolePolicies',
  'iam:GetRolePolicy',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy'
])
const scopedByMoto = (statement: Statement): boolean =>
  isDeny(statement)
    ? listOf(statement.Resource).every((arn) => arn.includes(':role/'))
    : actionsOf(statement).every((action) => ROLE_NAMED_ACTIONS.has(action))

/**
 * As moto can evaluate it: actions under moto's names; Conditions dropped (moto passes no context values
 * to an identity policy, so it treats every condition as met: dropping says so); Resource kept where moto
 * resolves the role (see ROLE_NAMED_ACTIONS), else widened to "*"; a Deny moto cannot scope is dropped
 * (widened, it would refuse what it does not name).
 */
function forMoto(policy: PolicyDocument): PolicyDocument {
  return {
    Version: policy.Version,
    Statement: policy.Statement.filter(
      (statement) => !isDeny(statement) || (motoScopesRoles && scopedByMoto(statement))
    ).map(({ Condition: _dropped, ...statement }) => ({
      ...statement,
      Action: actionsOf(statement).map((action) => MOTO_ACTION_OF_IAM[action] ?? action),
      Resource: motoScopesRoles && scopedByMoto(statement) ? (statement.Resource ?? '*') : '*'
    }))
  }
}

/** Calls that no policy can refuse, which the run may make beside what README grants. */
const NEEDS_NO_PERMISSION = new Set(['sts:GetCallerIdentity'])

/**
 * Statements whose actions AWS checks itself, never called by the action: Lambda checks
 * lambda:GetLayerVersion on every layer of a function that UpdateFunctionConfiguration sends.
 */
const CHECKED_BY_AWS_ITSELF = new Set(['KeepTheFunctionsOwnLayers'])

/** The IAM actions a policy grants that the action itself calls on the run's path (all but `uncalled`'s). */
function calledActionsOf(policy: PolicyDocument, uncalled: readonly string[] = []): string[] {
  const called = new Set<string>()
  for (const statement of policy.Statement)
    if (
      !isDeny(statement) &&
      !CHECKED_BY_AWS_ITSELF.has(statement.Sid ?? '') &&
      !uncalled.includes(statement.Sid ?? '')
    )
      for (const action of actionsOf(statement)) called.add(action)
  return [...called].sort()
}

/** Every action a policy grants. */
const grantedActionsOf = (policy: PolicyDocument): string[] =>
  [...new Set(policy.Statement.filter((statement) => !isDeny(statement)).flatMap(actionsOf))].sort()

/** The policy without these statements. */
const withoutStatements = (policy: PolicyDocument, sids: readonly string[]): PolicyDocument => ({
  Version: policy.Version,
  Statement: policy.Statement.filter((statement) => !sids.includes(statement.Sid ?? ''))
})

// ---------------------------------------------------------------------------------------------
// The runs

/** The sample fleet (scripts/emulator-fixtures.mjs): name → region. */
const FLEET: Readonly<Record<string, string>> = {
  'orders-api': 'us-east-1',
  'billing-worker': 'eu-west-1',
  'legacy-job': 'us-east-1'
}
const FLEET_INPUT = `orders-api\narn:aws:lambda:eu-west-1:${ACCOUNT}:function:billing-worker\nlegacy-job`
/** The sample fleet's execution role (all three functions use it); AWSLambdaBasicExecutionRole is attached. */
const EXECUTION_ROLE = 'lambda-exec'
const BASIC = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'
const APP_READ = `arn:aws:iam::${ACCOUNT}:policy/app-read`
const logGroup = (name: string): string => `arn:aws:logs:${FLEET[name]}:${ACCOUNT}:log-group:/aws/lambda/${name}`

/** Inputs of every run (the case's inputs win). */
const BASE_INPUTS: Readonly<Record<string, string>> = {
  functions: FLEET_INPUT,
  'aws-region': 'us-east-1',
  'layer-account': ACCOUNT,
  'otlp-endpoint': 'https://clickstack.example.com:4317',
  'cloudwatch-check-seconds': '0',
  // Not AWS: the OTLP preflight, ClickHouse and the PR comment need no IAM permission.
  preflight: 'false',
  'annotate-files': 'false'
}

// README's rows for cloudwatch-logs: off, as the test names them (backticks dropped).
const OFF_APPLY = 'apply with cloudwatch-logs: off (in addition to apply)'
const OFF_DETACH = 'cloudwatch-off-method: detach (in addition to the row above)'
const OFF_PLAN = 'plan with cloudwatch-logs: off (in addition to plan)'
const OFF_CHECK = 'check with cloudwatch-logs: off (in addition to check)'
const OFF_REMOVE = 'remove after a cloudwatch-logs: off run (in addition to remove)'
// README's rows for grant-secret-access.
const SECRET_CHECK = 'apply with secret references and grant-secret-access: false (in addition to apply)'
const SECRET_GRANT = 'apply with secret references and grant-secret-access: true (in addition to apply)'
const SECRET_PLAN = 'plan with secret references and grant-secret-access: true (in addition to plan)'
/** A secret referenced without its random suffix, as users write it; the grant is on `NAME-??????`. */
const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack-key`
const SECRET_INPUTS: Readonly<Record<string, string>> = { 'otlp-headers': `Authorization=\${${SECRET}}` }
/** grant-secret-access: true's inline policy for SECRET, exactly. */
const SECRET_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'RotelClickStackGetSecretValue',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [`${SECRET}-??????`]
    },
    {
      Sid: 'RotelClickStackBatchGetSecretValue',
      Effect: 'Allow',
      Action: ['secretsmanager:BatchGetSecretValue'],
      Resource: ['*']
    }
  ]
}

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
  /**
   * The refusal only warns (a read whose answer the run can do without): the negative run succeeds,
   * with `failedStatuses` and a warning annotation matching `failure`, instead of exit code 1.
   */
  readonly refusalWarns?: true
  /**
   * Statements of `needs` this run may leave uncalled: needed only on a path it does not take (a
   * failure path, another method); the comment at each says which.
   */
  readonly uncalled?: readonly string[]
  /** Statements of `needs` README calls optional: the run also succeeds without them, only their actions refused. */
  readonly optional?: readonly string[]
  /**
   * Shapes the account before the run, after the fleet is seeded (as admin, enforcement off); what it
   * returns is Outcome.baseline.
   */
  readonly setup?: () => Promise<RoleSnapshot | undefined>
  /** More to check after the successful run (e.g. what a feature changed outside Lambda). */
  readonly alsoExpect?: (outcome: Outcome) => void | Promise<void>
  /** More to check after the negative run. */
  readonly alsoExpectAfterFailure?: (outcome: Outcome) => void | Promise<void>
}

const CASES: readonly Case[] = [
  {
    title: 'apply',
    needs: ['apply'],
    inputs: {},
    statuses: { 'orders-api': 'updated', 'billing-worker': 'updated', 'legacy-job': 'updated' },
    without: 'lambda:UpdateFunctionConfiguration',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    failure:
      /::error title=orders-api%3A failed::Failed to update orders-api: AccessDeniedException: .*lambda:UpdateFunctionConfiguration/
  },
  {
    title: 'apply with test-invoke: false',
    needs: ['apply with test-invoke: false'],
    inputs: { 'test-invoke': 'false' },
    statuses: { 'orders-api': 'updated', 'billing-worker': 'updated', 'legacy-job': 'updated' },
    without: 'lambda:GetLayerVersion',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    failure:
      /::error title=orders-api%3A failed::Could not find the Rotel layer for us-east-1\/x86_64: .*lambda:GetLayerVersion/
  },
  {
    title: 'plan',
    needs: ['plan, check'],
    inputs: { mode: 'plan' },
    statuses: { 'orders-api': 'planned', 'billing-worker': 'planned', 'legacy-job': 'planned' },
    without: 'lambda:GetFunction',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    failure:
      /::error title=orders-api%3A failed::Not allowed to read orders-api in us-east-1 \(.*\); the deploy role needs lambda:GetFunction on it/
  },
  {
    title: 'check',
    needs: ['plan, check'],
    inputs: { mode: 'check', 'fail-on-drift': 'false' },
    statuses: { 'orders-api': 'drifted', 'billing-worker': 'drifted', 'legacy-job': 'drifted' },
    without: 'lambda:GetLayerVersion',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    failure:
      /::error title=legacy-job%3A failed::Could not find the Rotel layer for us-east-1\/arm64: .*lambda:GetLayerVersion/
  },
  {
    title: 'remove',
    needs: ['remove'],
    inputs: { mode: 'remove' },
    statuses: { 'orders-api': 'removed', 'billing-worker': 'unchanged', 'legacy-job': 'removed' },
    without: 'lambda:InvokeFunction',
    // The write goes through, the test invocation is refused, and the write is undone.
    failedStatuses: { 'orders-api': 'rolled-back', 'billing-worker': 'unchanged', 'legacy-job': 'rolled-back' },
    failure:
      /::error title=orders-api%3A rolled-back::orders-api: the test invocation could not be made: AccessDeniedException: .*lambda:InvokeFunction.* It was rolled back/
  },
  {
    title: 'remove with test-invoke: false',
    needs: ['remove with test-invoke: false'],
    inputs: { mode: 'remove', 'test-invoke': 'false' },
    statuses: { 'orders-api': 'removed', 'billing-worker': 'unchanged', 'legacy-job': 'removed' },
    without: 'lambda:UpdateFunctionConfiguration',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'unchanged', 'legacy-job': 'failed' },
    failure:
      /::error title=legacy-job%3A failed::Failed to update legacy-job: AccessDeniedException: .*lambda:UpdateFunctionConfiguration/
  },
  {
    title: 'plan with patterns over two regions',
    needs: ['plan, check', 'patterns in functions (in addition, in any mode)'],
    inputs: { mode: 'plan', functions: '*-worker\n*-job', 'aws-region': 'us-east-1\neu-west-1' },
    statuses: { 'billing-worker': 'planned', 'legacy-job': 'planned' },
    // The listing gives every selected function's configuration: none is read on its own.
    uncalled: ['ReadTheFunctions'],
    alsoExpect: ({ calls }) =>
      expect(calls.filter((call) => call.service === 'lambda' && /^GetFunction/.test(call.operation))).toEqual([]),
    without: 'lambda:ListFunctions',
    failure:
      /::error::.*Could not list the functions in (us-east-1|eu-west-1) to resolve \*-worker, \*-job: AccessDeniedException: .*lambda:ListFunctions/
  },
  {
    title: 'apply with cloudwatch-logs: off',
    needs: ['apply', OFF_APPLY],
    inputs: { 'cloudwatch-logs': 'off' },
    // billing-worker already has the extension: it is not invoked, so its role's policies say whether
    // its logs still reach CloudWatch (the managed ones read with GetPolicy/GetPolicyVersion, and the
    // simulator asked).
    setup: async () => withExtensionOn('billing-worker', await shapeExecutionRole()),
    statuses: { 'orders-api': 'updated', 'billing-worker': 'unchanged', 'legacy-job': 'updated' },
    // Only when a function does not end with its logs reaching ClickStack (failed, rolled back,
    // cancelled, telemetry missing): its log group leaves the deny policy again.
    uncalled: ['PutCloudWatchLogsBack'],
    alsoExpect: async ({ baseline, roleAfter }) => {
      expect(roleAfter).toEqual({
        attached: baseline?.attached,
        inline: { ...baseline?.inline, RotelClickStackDenyCloudWatchLogs: denyPolicyOf(Object.keys(FLEET)) },
        tags: { ...baseline?.tags, 'rotel-clickstack-action:deny-policy': 'RotelClickStackDenyCloudWatchLogs' }
      })
    },
    without: 'iam:PutRolePolicy',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    // The record (a tag) was written before the refused policy: giving CloudWatch Logs back takes it
    // off again, so no record of a change that was never made is left.
    alsoExpectAfterFailure: ({ roleBefore, roleAfter }) => expect(roleAfter).toEqual(roleBefore),
    failure:
      /::error title=orders-api%3A failed::orders-api was not changed: CloudWatch Logs could not be switched off for it\. .*execution role lambda-exec: .*iam:PutRolePolicy/
  },
  {
    title: 'apply with cloudwatch-logs: off and cloudwatch-off-method: detach',
    needs: ['apply', OFF_APPLY, OFF_DETACH],
    inputs: { 'cloudwatch-logs': 'off', 'cloudwatch-off-method': 'detach' },
    setup: async () => withExtensionOn('billing-worker', await shapeExecutionRole()),
    statuses: { 'orders-api': 'updated', 'billing-worker': 'unchanged', 'legacy-job': 'updated' },
    // Both only give CloudWatch Logs back (re-attach, restore the inline statements, drop the record)
    // when a function does not end with its logs reaching ClickStack. PutCloudWatchLogsBack's
    // iam:DeleteRolePolicy is called here all the same: detach deletes the inline policy `logging`,
    // which held nothing but the log writes (README says so at the statement).
    uncalled: ['PutCloudWatchLogsBack', 'AttachTheBasicExecutionPolicyBack'],
    alsoExpect: async ({ baseline, roleAfter }) => {
      expect(roleAfter.attached).toEqual(baseline?.attached.filter((arn) => arn !== BASIC))
      expect(Object.keys(roleAfter.inline)).toEqual(['app'])
      expect(roleAfter.inline.app).toEqual({
        Version: '2012-10-17',
        Statement: [expect.objectContaining({ Sid: 'Everything', Action: expect.arrayContaining(['s3:GetObject']) })]
      })
      const actions = [(roleAfter.inline.app as PolicyDocument).Statement[0]?.Action ?? []].flat()
      expect(
        actions.filter(
          (action) => action === 'logs:*' || /^logs:(CreateLogGroup|CreateLogStream|PutLogEvents)$/.test(action)
        )
      ).toEqual([])
      // The record: what was detached, and the inline originals (in as many tags as they take).
      expect(
        Object.keys(roleAfter.tags).filter((key) => !/^rotel-clickstack-action:inline-undo-\d\d$/.test(key))
      ).toEqual(['rotel-clickstack-action:detached'])
      expect(roleAfter.tags['rotel-clickstack-action:detached']).toBe(BASIC)
    },
    without: 'iam:DetachRolePolicy',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    alsoExpectAfterFailure: ({ roleBefore, roleAfter }) => expect(roleAfter).toEqual(roleBefore),
    failure:
      /::error title=legacy-job%3A failed::legacy-job was not changed: CloudWatch Logs could not be switched off for it\. .*execution role lambda-exec: .*iam:DetachRolePolicy/
  },
  {
    // With detach, so that plan reads the role's other attached policies (app-read) as apply would;
    // a deny plan reads only the role.
    title: 'plan with cloudwatch-logs: off',
    needs: ['plan, check', OFF_PLAN],
    inputs: { mode: 'plan', 'cloudwatch-logs': 'off', 'cloudwatch-off-method': 'detach' },
    setup: shapeExecutionRole,
    statuses: { 'orders-api': 'planned', 'billing-worker': 'planned', 'legacy-job': 'planned' },
    alsoExpect: async ({ roleBefore, roleAfter, run }) => {
      expect(roleAfter).toEqual(roleBefore)
      expect(run.summary).toMatch(/lambda-exec \|[^\n]*would detach AWSLambdaBasicExecutionRole/)
    },
    without: 'iam:GetRolePolicy',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    failure:
      /::error title=orders-api%3A failed::orders-api could not be planned: .*execution role lambda-exec: .*iam:GetRolePolicy/
  },
  {
    title: 'check with cloudwatch-logs: off',
    needs: ['plan, check', OFF_CHECK],
    inputs: { mode: 'check', 'cloudwatch-logs': 'off', 'cloudwatch-off-method': 'detach' },
    // An earlier apply switched the fleet's CloudWatch Logs off with detach: all in sync, as long as
    // the role's remaining policies (app-read among them) can be read to tell.
    setup: async () => {
      const baseline = await shapeExecutionRole()
      await runAsAdmin({ 'cloudwatch-logs': 'off', 'cloudwatch-off-method': 'detach' })
      return baseline
    },
    statuses: { 'orders-api': 'in-sync', 'billing-worker': 'in-sync', 'legacy-job': 'in-sync' },
    optional: ['SimulateTheExecutionRoles'],
    alsoExpect: async ({ roleBefore, roleAfter }) => {
      expect(roleAfter).toEqual(roleBefore)
    },
    // app-read cannot be read, so it is counted as granting the log writes (never a false in-sync):
    // drift, saying which policy could not be read and why.
    without: 'iam:GetPolicyVersion',
    failedStatuses: { 'orders-api': 'drifted', 'billing-worker': 'drifted', 'legacy-job': 'drifted' },
    failure:
      /::warning title=orders-api%3A drifted::orders-api \(us-east-1\) has drifted: role lambda-exec again lets Lambda write .* via arn:aws:iam::123456789012:policy\/app-read\); arn:aws:iam::123456789012:policy\/app-read could not be read \(AccessDenied: .*iam:GetPolicyVersion.*\), so it is counted as granting/
  },
  {
    title: 'remove after cloudwatch-logs: off',
    needs: ['remove', OFF_REMOVE],
    inputs: { mode: 'remove' },
    // The role was switched off with deny, then with detach (as when a later run changes the method):
    // its record names a deny policy, a detached policy and inline statements, so remove makes every
    // kind of restore.
    setup: async () => {
      const baseline = await shapeExecutionRole()
      await runAsAdmin({ 'cloudwatch-logs': 'off' })
      await runAsAdmin({ 'cloudwatch-logs': 'off', 'cloudwatch-off-method': 'detach' })
      return baseline
    },
    statuses: { 'orders-api': 'removed', 'billing-worker': 'removed', 'legacy-job': 'removed' },
    alsoExpect: async ({ baseline, roleBefore, roleAfter }) => {
      expect(Object.keys(roleBefore.inline)).toContain('RotelClickStackDenyCloudWatchLogs')
      expect(roleBefore.attached).not.toContain(BASIC)
      // Exactly as before the first cloudwatch-logs: off run.
      expect(roleAfter).toEqual(baseline)
    },
    without: 'iam:DeleteRolePolicy',
    // Nothing is taken off while CloudWatch Logs could not be switched back on: no log is lost.
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    // The restores before the refused one went through; the record stays whole, so a later remove
    // with the permission finishes the job.
    alsoExpectAfterFailure: ({ roleBefore, roleAfter }) => {
      expect(roleAfter.tags).toEqual(roleBefore.tags)
      expect(Object.keys(roleAfter.inline)).toContain('RotelClickStackDenyCloudWatchLogs')
    },
    failure:
      /::error title=orders-api%3A failed::orders-api was not changed: CloudWatch Logs could not be switched back on for it first, .*execution role lambda-exec: .*iam:DeleteRolePolicy/
  },
  {
    title: 'apply with secret references and grant-secret-access: false',
    needs: ['apply', SECRET_CHECK],
    inputs: { ...SECRET_INPUTS, 'grant-secret-access': 'false' },
    // Inline and attached policies to read (GetRolePolicy, GetPolicy, GetPolicyVersion); none of them
    // grants the secret.
    setup: shapeExecutionRole,
    statuses: { 'orders-api': 'updated', 'billing-worker': 'updated', 'legacy-job': 'updated' },
    // moto answers the simulator HTTP 500: the role's policies decide, as they do without the permission.
    optional: ['SimulateTheExecutionRoles'],
    alsoExpect: async ({ roleBefore, roleAfter, run }) => {
      expect(roleAfter).toEqual(roleBefore)
      expect(run.stdout).toMatch(
        /::warning[^\n]*Role lambda-exec does not allow secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack-key-\?{6}; secretsmanager:BatchGetSecretValue on \*/
      )
    },
    // With false the check only advises: a role that cannot be read is a warning naming the refused
    // action, and the functions are updated all the same.
    without: 'iam:GetRolePolicy',
    refusalWarns: true,
    failedStatuses: { 'orders-api': 'updated', 'billing-worker': 'updated', 'legacy-job': 'updated' },
    alsoExpectAfterFailure: ({ roleBefore, roleAfter }) => expect(roleAfter).toEqual(roleBefore),
    failure:
      /::warning[^\n]*orders-api: whether its execution role can read the referenced secrets is unknown: .*execution role lambda-exec: .*iam:GetRolePolicy/
  },
  {
    title: 'apply with secret references and grant-secret-access: true',
    needs: ['apply', SECRET_GRANT],
    inputs: { ...SECRET_INPUTS, 'grant-secret-access': 'true' },
    setup: shapeExecutionRole,
    // Only a later run whose functions reference no secret any more deletes the grant (executionRoleChanges.test.ts).
    uncalled: ['DropSecretAccessNoLongerNeeded'],
    statuses: { 'orders-api': 'updated', 'billing-worker': 'updated', 'legacy-job': 'updated' },
    alsoExpect: async ({ baseline, roleAfter, run }) => {
      expect(roleAfter).toEqual({
        attached: baseline?.attached,
        inline: { ...baseline?.inline, RotelClickStackReadIngestionSecret: SECRET_POLICY },
        tags: { ...baseline?.tags, 'rotel-clickstack-action:secret-policy': 'RotelClickStackReadIngestionSecret' }
      })
      expect(run.stdout).toMatch(
        /Waiting \d+ s for the new secret access of its role to apply before the test invocation\./
      )
    },
    without: 'iam:PutRolePolicy',
    failedStatuses: { 'orders-api': 'failed', 'billing-worker': 'failed', 'legacy-job': 'failed' },
    alsoExpectAfterFailure: ({ roleBefore, roleAfter }) => expect(roleAfter).toEqual(roleBefore),
    failure:
      /::error title=orders-api%3A failed::orders-api was not changed: Its execution role could not be given read access to the referenced secrets\. .*execution role lambda-exec: .*iam:PutRolePolicy/
  },
  {
    title: 'plan with secret references and grant-secret-access: true',
    needs: ['plan, check', SECRET_PLAN],
    inputs: { ...SECRET_INPUTS, mode: 'plan', 'grant-secret-access': 'true' },
    setup: shapeExecutionRole,
    statuses: { 'orders-api': 'planned', 'billing-worker': 'planned', 'legacy-job': 'planned' },
    optional: ['SimulateTheExecutionRoles'],
    alsoExpect: async ({ roleBefore, roleAfter, run }) => {
      expect(roleAfter).toEqual(roleBefore)
      expect(run.summary).toMatch(
        /lambda-exec \|[^\n]*would allow secretsmanager:GetSecretValue on \S*clickstack-key-\?{6}, secretsmanager:BatchGetSecretValue on \\\*/
      )
    },
    // What would be allowed cannot be shown, and plan says why; the functions' own plans stand.
    without: 'iam:GetRole',
    refusalWarns: true,
    failedStatuses: { 'orders-api': 'planned', 'billing-worker': 'planned', 'legacy-job': 'planned' },
    failure:
      /::warning[^\n]*orders-api: whether its execution role can read the referenced secrets is unknown: .*execution role lambda-exec: .*iam:GetRole\b/
  }
]

// ---------------------------------------------------------------------------------------------
// The execution role, for cloudwatch-logs: off

/** A role as IAM has it: attached policy ARNs, inline documents, tags. */
interface RoleSnapshot {
  readonly attached: string[]
  readonly inline: Record<string, unknown>
  readonly tags: Record<string, string>
}

/** An IAM client as admin (use with enforcement off). */
function adminIam<T>(use: (iam: IAMClient) => Promise<T>): Promise<T> {
  const iam = new IAMClient({ region: 'us-east-1', endpoint, credentials: { ...admin } })
  return use(iam).finally(() => iam.destroy())
}

function readRole(name = EXECUTION_ROLE): Promise<RoleSnapshot> {
  return adminIam(async (iam) => {
    const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? []
    const inline: Record<string, unknown> = {}
    for (const policy of (await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? []) {
      const { PolicyDocument: text = '{}' } = await iam.send(
        new GetRolePolicyCommand({ RoleName: name, PolicyName: policy })
      )
      inline[policy] = JSON.parse(decodeURIComponent(text))
    }
    const tags = Object.fromEntries(
      ((await iam.send(new ListRoleTagsCommand({ RoleName: name }))).Tags ?? []).map((tag) => [
        tag.Key ?? '',
        tag.Value ?? ''
      ])
    )
    return { attached: attached.map((policy) => policy.PolicyArn ?? '').sort(), inline, tags }
  })
}

/**
 * Gives the fleet's execution role what real ones have beside AWSLambdaBasicExecutionRole: an inline
 * policy `app` granting logs:* among other things, an inline policy `logging` granting only log
 * writes, and a customer-managed policy `app-read` granting no logs action. So every read of the
 * feature is made (GetRolePolicy, GetPolicy, GetPolicyVersion), and detach narrows one inline policy
 * and deletes the other. Returns the role as it is then.
 */
async function shapeExecutionRole(): Promise<RoleSnapshot> {
  const policy = (Statement: unknown[]): string => JSON.stringify({ Version: '2012-10-17', Statement })
  await adminIam(async (iam) => {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: EXECUTION_ROLE,
        PolicyName: 'app',
        PolicyDocument: policy([
          { Sid: 'Everything', Effect: 'Allow', Action: ['logs:*', 's3:GetObject'], Resource: '*' }
        ])
      })
    )
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: EXECUTION_ROLE,
        PolicyName: 'logging',
        PolicyDocument: policy([
          { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }
        ])
      })
    )
    await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'app-read',
        PolicyDocument: policy([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }])
      })
    )
    await iam.send(new AttachRolePolicyCommand({ RoleName: EXECUTION_ROLE, PolicyArn: APP_READ }))
  })
  return readRole()
}

/** Runs the action as admin (enforcement off, straight at the emulator); it must succeed. */
async function runAsAdmin(inputs: Readonly<Record<string, string>>): Promise<void> {
  const run = await runAction({
    endpoint,
    inputs: { ...BASE_INPUTS, ...inputs },
    env: { AWS_ACCESS_KEY_ID: admin.accessKeyId, AWS_SECRET_ACCESS_KEY: admin.secretAccessKey }
  })
  if (run.exitCode !== 0) throw new Error(`setup run ${JSON.stringify(inputs)} failed:\n${run.stdout}\n${run.stderr}`)
}

/** An earlier plain apply of one function, so that the case's run finds it with the extension. */
async function withExtensionOn(name: string, baseline: RoleSnapshot): Promise<RoleSnapshot> {
  await runAsAdmin({ functions: `arn:aws:lambda:${FLEET[name]}:${ACCOUNT}:function:${name}` })
  return baseline
}

/** The action's deny policy on these functions' log groups. */
const denyPolicyOf = (functions: readonly string[]) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'RotelClickStackDenyCloudWatchLogs',
      Effect: 'Deny',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: functions
        .map(logGroup)
        .sort()
        .flatMap((arn) => [arn, `${arn}:*`])
    }
  ]
})

/** README rows no case runs (none yet). */
const ROWS_COVERED_ELSEWHERE = new Set<string>()

// ---------------------------------------------------------------------------------------------
// Emulator, role, enforcement

let port = 0
let endpoint = ''
let proxy: ResigningProxy
/** Set by beforeAll: whether this moto checks requests that name a role against the role's ARN. */
let motoScopesRoles = false

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

/**
 * A fresh sample fleet shaped by `setup`, and a `deploy` role with `policy` (as moto evaluates it), and a
 * session of that role.
 */
async function prepare(
  policy: PolicyDocument,
  setup: Case['setup'],
  options: { readonly raw?: true } = {}
): Promise<Session & { baseline: RoleSnapshot | undefined }> {
  await enforceIam(false)
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
  const baseline = await setup?.()
  const iam = new IAMClient({ region: 'us-east-1', endpoint, credentials: { ...admin } })
  const sts = new STSClient({ region: 'us-east-1', endpoint, credentials: { ...admin } })
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: ROLE_NAME,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/github` },
              Action: 'sts:AssumeRoleWithWebIdentity'
            }
          ]
        })
      })
    )
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: ROLE_NAME,
        PolicyName: 'rotel-deploy',
        PolicyDocument: JSON.stringify(options.raw ? policy : forMoto(policy))
      })
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
      sessionToken: credentials.SessionToken,
      baseline
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
  /** What the case's setup returned. */
  readonly baseline: RoleSnapshot | undefined
  /** The fleet's execution role right before and after the run. */
  readonly roleBefore: RoleSnapshot
  readonly roleAfter: RoleSnapshot
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
async function runAs(policy: PolicyDocument, c: Pick<Case, 'inputs' | 'setup'>): Promise<Outcome> {
  const session = await prepare(policy, c.setup)
  const before = await readFleet()
  const roleBefore = await readRole()
  const first = proxy.calls.length
  let run: ActionRun
  await enforceIam(true)
  try {
    run = await runAction({
      endpoint: proxy.url,
      inputs: { ...BASE_INPUTS, ...c.inputs },
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
  return {
    run,
    calls,
    before,
    after: await readFleet(),
    baseline: session.baseline,
    roleBefore,
    roleAfter: await readRole()
  }
}

const statuses = (run: ActionRun): Record<string, string> =>
  Object.fromEntries(
    (JSON.parse(run.outputs.report ?? '[]') as Array<{ function: string; status: string }>).map((r) => [
      r.function,
      r.status
    ])
  )

const iamActionOf = (call: ProxiedCall): string => {
  const action = `${call.service}:${call.operation}`
  return IAM_ACTION_OF_OPERATION[action] ?? action
}

const refusals = (calls: readonly ProxiedCall[]): string[] =>
  calls
    .filter((call) => call.status === 401 || call.status === 403)
    .map(
      (call) =>
        `${iamActionOf(call)} ${call.method} ${call.path} → ${call.status} ${call.errorCode ?? ''}: ${call.errorMessage ?? ''}`
    )

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
      expect({ name, layers: rotelLayers(after), variables: rotelVariables(after) }).toEqual({
        name,
        layers: [],
        variables: []
      })
      expect(after?.Layers?.length).toBe((before?.Layers?.length ?? 0) - rotelLayers(before).length)
    } else {
      // planned, drifted, in-sync, unchanged, failed, rolled-back, or not selected: as it was.
      expect({ name, ...essentials(after) }).toEqual({ name, ...essentials(before) })
    }
  }
}

/**
 * Whether this moto checks a request that names a role against the role's ARN: a role allowed
 * iam:GetRole on exactly one role reads it (5.2.1), or is refused because every request is checked
 * against "*" (5.1.1).
 */
async function probeRoleScoping(): Promise<boolean> {
  const probe: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'iam:GetRole', Resource: `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}` }]
  }
  const session = await prepare(probe, undefined, { raw: true })
  const iam = new IAMClient({ region: 'us-east-1', endpoint: proxy.url, credentials: session, maxAttempts: 1 })
  await enforceIam(true)
  try {
    await iam.send(new GetRoleCommand({ RoleName: ROLE_NAME }))
    return true
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403) return false
    throw error
  } finally {
    await enforceIam(false)
    iam.destroy()
  }
}

/**
 * The suite is run in parts, each its own test file and so its own moto, so that jest runs them side by
 * side: one file of all the cases took about 190 s on one worker while the others had finished.
 */
export type SuitePart = 'modes' | 'cloudwatch-logs-off' | 'secret-access'

const OFF_ROWS = [OFF_APPLY, OFF_DETACH, OFF_PLAN, OFF_CHECK, OFF_REMOVE]
const SECRET_ROWS = [SECRET_CHECK, SECRET_GRANT, SECRET_PLAN]

/** The part a case is run in: by the README rows it needs beside its mode's. */
function partOf(c: Pick<Case, 'needs'>): SuitePart {
  if (c.needs.some((row) => OFF_ROWS.includes(row))) return 'cloudwatch-logs-off'
  if (c.needs.some((row) => SECRET_ROWS.includes(row))) return 'secret-access'
  return 'modes'
}

/**
 * Registers one part: its moto, the cases of that part, and with `modes` the check of README's table
 * against all the cases, with `secret-access` the role writes of README's whole policy.
 */
export function leastPrivilegeSuite(part: SuitePart): void {
  beforeAll(async () => {
    port = await freePort()
    endpoint = startEmulator(port)
    proxy = await startResigningProxy(endpoint)
    motoScopesRoles = await probeRoleScoping()
    if (!motoScopesRoles)
      console.warn(
        'This moto checks IAM role calls against "*" (moto 5.1.1 does; 5.2.1 resolves the role): every Resource is widened and README\'s Deny is not run.'
      )
  })

  afterEach(async () => {
    await enforceIam(false)
    proxy.calls.length = 0
  })

  afterAll(async () => {
    await proxy?.close()
    stopEmulator(port)
  })

  if (part === 'modes')
    describe('README', () => {
      it('names in its table only statements of its policy, and uses every Allow in some row (every Deny goes with every row)', () => {
        const sids = POLICY.Statement.map((statement) => statement.Sid ?? '')
        expect(new Set(sids).size).toBe(sids.length)
        const used = new Set([...NEEDS.values()].flat())
        expect([...used].filter((sid) => !sids.includes(sid))).toEqual([])
        expect(
          POLICY.Statement.filter((statement) => !isDeny(statement) && !used.has(statement.Sid ?? '')).map((s) => s.Sid)
        ).toEqual([])
        expect(DENIES.filter((statement) => used.has(statement.Sid ?? '')).map((s) => s.Sid)).toEqual([])
        // Every row of the table is run below.
        expect(
          [...NEEDS.keys()].filter(
            (row) => !CASES.some((c) => c.needs.includes(row)) && !ROWS_COVERED_ELSEWHERE.has(row)
          )
        ).toEqual([])
        // A case's uncalled and optional statements are statements its rows give it.
        for (const c of CASES) {
          const given = policyFor(c.needs).Statement.map((statement) => statement.Sid)
          expect({
            title: c.title,
            strays: [...(c.uncalled ?? []), ...(c.optional ?? [])].filter((sid) => !given.includes(sid))
          }).toEqual({
            title: c.title,
            strays: []
          })
        }
      })
    })

  describe.each(CASES.filter((c) => partOf(c) === part))('$title with exactly the permissions README lists', (c) => {
    it('succeeds, no call is refused, and every action granted is one the run calls', async () => {
      const policy = policyFor(c.needs)
      const outcome = await runAs(policy, c)
      const report = `exit ${outcome.run.exitCode}\n${outcome.run.stdout}\n${outcome.run.stderr}`
      expect({ refused: refusals(outcome.calls) }).toEqual({ refused: [] })
      expect({ statuses: statuses(outcome.run), report }).toEqual({ statuses: c.statuses, report })
      expect(outcome.run.exitCode).toBe(0)
      expect(outcome.run.stdout).not.toMatch(/^::error/m)
      const called = [...new Set(outcome.calls.map(iamActionOf))]
        .filter((action) => !NEEDS_NO_PERMISSION.has(action))
        .sort()
      expect({
        grantedNotCalled: calledActionsOf(policy, c.uncalled).filter((action) => !called.includes(action))
      }).toEqual({
        grantedNotCalled: []
      })
      expect({ calledNotGranted: called.filter((action) => !grantedActionsOf(policy).includes(action)) }).toEqual({
        calledNotGranted: []
      })
      expectFleetAsReported(outcome, c.statuses)
      await c.alsoExpect?.(outcome)
    })

    it(`${c.refusalWarns ? 'warns' : 'fails'} without ${c.without}, naming what was refused`, async () => {
      const outcome = await runAs(without(policyFor(c.needs), c.without), c)
      expect(outcome.run.exitCode).toBe(c.refusalWarns ? 0 : 1)
      if (c.refusalWarns) expect(outcome.run.stdout).not.toMatch(/^::error/m)
      // moto refused the call, and only calls of that action.
      const refused = outcome.calls.filter((call) => call.status === 403)
      expect(refused.length).toBeGreaterThan(0)
      expect([...new Set(refused.map(iamActionOf))]).toEqual([c.without])
      expect(refused[0]?.errorMessage).toMatch(
        `is not authorized to perform: ${MOTO_ACTION_OF_IAM[c.without] ?? c.without}`
      )
      expect(statuses(outcome.run)).toEqual(c.failedStatuses ?? {})
      expect(outcome.run.stdout).toMatch(c.failure)
      expectFleetAsReported(outcome, c.failedStatuses ?? {})
      await c.alsoExpectAfterFailure?.(outcome)
    })

    if (c.optional)
      it(`also succeeds without the optional ${c.optional.join(', ')}, only those refused`, async () => {
        const optional = c.optional ?? []
        const policy = policyFor(c.needs)
        const outcome = await runAs(withoutStatements(policy, optional), c)
        const report = `exit ${outcome.run.exitCode}\n${outcome.run.stdout}\n${outcome.run.stderr}`
        const optionalActions = policy.Statement.filter((statement) => optional.includes(statement.Sid ?? '')).flatMap(
          actionsOf
        )
        const refused = [...new Set(outcome.calls.filter((call) => call.status === 403).map(iamActionOf))]
        expect(refused.length).toBeGreaterThan(0)
        expect(refused.filter((action) => !optionalActions.includes(action))).toEqual([])
        expect({ statuses: statuses(outcome.run), report }).toEqual({ statuses: c.statuses, report })
        expect(outcome.run.exitCode).toBe(0)
        expectFleetAsReported(outcome, c.statuses)
        await c.alsoExpect?.(outcome)
      })
  })

  if (part === 'secret-access')
    describe("README's whole policy under moto's IAM enforcement", () => {
      const BASIC_POLICY = { PolicyArn: BASIC }
      /** Each role write README's statements allow on an execution role, as one call on `role`. */
      const writes = (role: string) =>
        [
          [
            'iam:PutRolePolicy',
            new PutRolePolicyCommand({
              RoleName: role,
              PolicyName: 'probe',
              PolicyDocument: JSON.stringify({
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }]
              })
            })
          ],
          [
            'iam:TagRole',
            new TagRoleCommand({ RoleName: role, Tags: [{ Key: 'rotel-clickstack-action:probe', Value: 'x' }] })
          ],
          ['iam:UntagRole', new UntagRoleCommand({ RoleName: role, TagKeys: ['rotel-clickstack-action:probe'] })],
          ['iam:DeleteRolePolicy', new DeleteRolePolicyCommand({ RoleName: role, PolicyName: 'probe' })],
          ['iam:DetachRolePolicy', new DetachRolePolicyCommand({ RoleName: role, ...BASIC_POLICY })],
          ['iam:AttachRolePolicy', new AttachRolePolicyCommand({ RoleName: role, ...BASIC_POLICY })]
        ] as const

      /** Sends each call as the deploy role (README's policy, all of it), enforcement on; the HTTP status of each. */
      async function asDeployRole(role: string): Promise<Record<string, number>> {
        const session = await prepare(POLICY, async () => {
          await adminIam(async (iam) => {
            await iam.send(
              new CreateRoleCommand({
                RoleName: 'admin-tools',
                AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] })
              })
            )
            await iam.send(
              new AttachRolePolicyCommand({ RoleName: ROLE_NAME === role ? EXECUTION_ROLE : role, ...BASIC_POLICY })
            )
          })
          return undefined
        })
        // The deploy role needs AWSLambdaBasicExecutionRole attached for the detach to have something to act on.
        if (role === ROLE_NAME)
          await adminIam((iam) => iam.send(new AttachRolePolicyCommand({ RoleName: role, ...BASIC_POLICY })))
        const iam = new IAMClient({
          region: 'us-east-1',
          endpoint: proxy.url,
          credentials: { ...session },
          maxAttempts: 1
        })
        const status: Record<string, number> = {}
        await enforceIam(true)
        try {
          for (const [action, command] of writes(role))
            try {
              await iam.send(command as never)
              status[action] = 200
            } catch (error) {
              status[action] = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0
            }
        } finally {
          await enforceIam(false)
          iam.destroy()
        }
        return status
      }

      const every = (code: number) => Object.fromEntries(writes('x').map(([action]) => [action, code]))

      it('lets the deploy role write to an execution role in the documented scope (lambda-exec)', async () => {
        if (!motoScopesRoles) return console.warn('not run: this moto does not scope role calls')
        expect(await asDeployRole(EXECUTION_ROLE)).toEqual(every(200))
      })

      it('refuses every role write to the deploy role itself (the explicit Deny)', async () => {
        if (!motoScopesRoles) return console.warn('not run: this moto does not scope role calls')
        expect(await asDeployRole(ROLE_NAME)).toEqual(every(403))
        const role = await readRole(ROLE_NAME)
        expect(Object.keys(role.inline)).toEqual(['rotel-deploy'])
        expect(role.tags).toEqual({})
      })

      it('refuses every role write to a role outside the documented scope', async () => {
        if (!motoScopesRoles) return console.warn('not run: this moto does not scope role calls')
        expect(await asDeployRole('admin-tools')).toEqual(every(403))
      })
    })
}
