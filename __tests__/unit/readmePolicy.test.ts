/**
 * README's IAM documents under IAM's evaluation rules, for what moto's enforcement cannot show: Conditions
 * (moto treats every condition of an identity policy as met), Resource on requests that do not name a
 * role, and the trust policies (moto does not check them for AssumeRoleWithWebIdentity). The evaluator
 * (__tests__/support/iamEvaluator.ts) implements the rules README's documents use and throws on anything
 * else. What runs under moto is in __tests__/integration/leastPrivilegeSuite.ts.
 */
import { describe, expect, it } from '@jest/globals'
import { type Decision, evaluate, type Request } from '../support/iamEvaluator.js'
import { listOf, type PolicyDocument, readmeJsonBlock, readmeNeeds, readmePolicy } from '../support/readmePolicy.js'

const ACCOUNT = '123456789012'
const POLICY = readmePolicy()
const NEEDS = readmeNeeds()
const role = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`
const BASIC = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'
const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess'

/** The deploy role, as README's Deny names it. */
const DEPLOY_ROLE = (() => {
  const denied = POLICY.Statement.filter((statement) => statement.Effect === 'Deny').flatMap((statement) =>
    listOf(statement.Resource)
  )
  expect(denied).toHaveLength(1)
  return denied[0] ?? ''
})()
/** An execution role in README's documented scope (`role/lambda-*`), as the sample fleet's. */
const EXECUTION_ROLE = role('lambda-exec')

const decide = (request: Request, policies: readonly PolicyDocument[] = [POLICY]): Decision =>
  evaluate(policies, request)

/** Every IAM action that changes a role, each with the context IAM gives it. */
const ROLE_WRITES: ReadonlyArray<readonly [string, Request['context']]> = [
  ['iam:PutRolePolicy', {}],
  ['iam:DeleteRolePolicy', {}],
  ['iam:TagRole', { 'aws:TagKeys': ['rotel-clickstack-action:deny-policy'] }],
  ['iam:UntagRole', { 'aws:TagKeys': ['rotel-clickstack-action:deny-policy'] }],
  ['iam:AttachRolePolicy', { 'iam:PolicyARN': BASIC }],
  ['iam:DetachRolePolicy', { 'iam:PolicyARN': BASIC }],
  ['iam:UpdateAssumeRolePolicy', {}],
  ['iam:PutRolePermissionsBoundary', { 'iam:PermissionsBoundary': ADMIN }],
  ['iam:DeleteRolePermissionsBoundary', {}],
  ['iam:UpdateRole', {}],
  ['iam:DeleteRole', {}]
]
/** The role writes the action makes, README's IAM write statements name exactly these. */
const ACTIONS_WRITES = [
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy'
]

describe("README's deploy-role policy", () => {
  it.each(ROLE_WRITES)('refuses %s on the deploy role itself, explicitly', (action, context) => {
    expect(decide({ action, resource: DEPLOY_ROLE, context })).toBe('explicitly denied')
  })

  it.each(ACTIONS_WRITES)('allows %s on an execution role in the documented scope', (action) => {
    const context = ROLE_WRITES.find(([name]) => name === action)?.[1]
    expect(decide({ action, resource: EXECUTION_ROLE, context })).toBe('allowed')
  })

  it.each(ROLE_WRITES)('refuses %s on a role outside the documented scope', (action, context) => {
    for (const resource of [
      role('admin-tools'),
      role('service-role/lambda-x'),
      `arn:aws:iam::999999999999:role/lambda-exec`
    ])
      expect({ resource, decision: decide({ action, resource, context }) }).toEqual({
        resource,
        decision: 'implicitly denied'
      })
  })

  it('attaches and detaches AWSLambdaBasicExecutionRole only: AdministratorAccess, or no policy named, is refused', () => {
    for (const action of ['iam:AttachRolePolicy', 'iam:DetachRolePolicy']) {
      expect(decide({ action, resource: EXECUTION_ROLE, context: { 'iam:PolicyARN': ADMIN } })).toBe(
        'implicitly denied'
      )
      expect(
        decide({
          action,
          resource: EXECUTION_ROLE,
          context: { 'iam:PolicyARN': `arn:aws:iam::${ACCOUNT}:policy/anything` }
        })
      ).toBe('implicitly denied')
      expect(decide({ action, resource: EXECUTION_ROLE })).toBe('implicitly denied')
    }
  })

  it('allows no IAM write but the six role writes, on any resource', () => {
    const others = [
      'iam:CreateRole',
      'iam:PassRole',
      'iam:CreatePolicy',
      'iam:CreatePolicyVersion',
      'iam:SetDefaultPolicyVersion',
      'iam:CreateAccessKey',
      'iam:AttachUserPolicy',
      'iam:PutUserPolicy',
      'iam:UpdateAssumeRolePolicy',
      'iam:PutRolePermissionsBoundary',
      'iam:DeleteRolePermissionsBoundary',
      'iam:UpdateRole',
      'iam:DeleteRole',
      'sts:AssumeRole'
    ]
    const resources = [
      EXECUTION_ROLE,
      DEPLOY_ROLE,
      `arn:aws:iam::${ACCOUNT}:policy/x`,
      `arn:aws:iam::${ACCOUNT}:user/x`,
      '*'
    ]
    const allowed = others.flatMap((action) =>
      resources
        .filter((resource) => decide({ action, resource, context: { 'iam:PolicyARN': BASIC } }) === 'allowed')
        .map((r) => `${action} ${r}`)
    )
    expect(allowed).toEqual([])
  })

  it('never names all roles in a statement that writes', () => {
    const wide = POLICY.Statement.filter(
      (statement) =>
        statement.Effect === 'Allow' &&
        listOf(statement.Action).some((action) => ACTIONS_WRITES.includes(action)) &&
        listOf(statement.Resource).some((arn) => arn === '*' || arn.endsWith(':role/*'))
    )
    expect(wide.map((statement) => statement.Sid)).toEqual([])
  })

  it("gives the read role (a pull request's) reads only: every statement of the plan and check rows", () => {
    const rows = [...NEEDS.keys()].filter(
      (row) => /^(plan|check)\b/.test(row) || row.startsWith('patterns in functions')
    )
    expect(rows.length).toBeGreaterThanOrEqual(4)
    const sids = new Set(rows.flatMap((row) => NEEDS.get(row) ?? []))
    const actions = POLICY.Statement.filter((statement) => sids.has(statement.Sid ?? '')).flatMap((statement) =>
      listOf(statement.Action)
    )
    expect(
      actions.filter((action) => !/^(lambda|logs|iam):(Get|List|Describe|SimulatePrincipalPolicy)/.test(action))
    ).toEqual([])
  })
})

describe("README's trust policies", () => {
  const DEPLOY_TRUST = readmeJsonBlock('deploy-role-trust')
  const READ_TRUST = readmeJsonBlock('read-role-trust')
  const GITHUB = { type: 'Federated', id: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` }
  const assume = (sub: string, aud: string | null = 'sts.amazonaws.com'): Request => ({
    action: 'sts:AssumeRoleWithWebIdentity',
    principal: GITHUB,
    context: {
      'token.actions.githubusercontent.com:sub': sub,
      ...(aud === null ? {} : { 'token.actions.githubusercontent.com:aud': aud })
    }
  })
  const subjects = [
    'repo:my-org/my-repo:environment:production',
    'repo:my-org/my-repo:ref:refs/heads/main',
    'repo:my-org/my-repo:ref:refs/heads/feature',
    'repo:my-org/my-repo:pull_request',
    'repo:my-org/my-repo:environment:staging',
    'repo:my-org/my-repo-fork:environment:production',
    'repo:other-org/my-repo:pull_request'
  ]
  const trusted = (policy: PolicyDocument): string[] =>
    subjects.filter((sub) => decide(assume(sub), [policy]) === 'allowed')

  it("lets only the repository's main branch assume the deploy role: no pull request, other branch or environment", () => {
    expect(trusted(DEPLOY_TRUST)).toEqual(['repo:my-org/my-repo:ref:refs/heads/main'])
  })

  it("lets the repository's pull requests and main branch assume the read role", () => {
    expect(trusted(READ_TRUST)).toEqual(['repo:my-org/my-repo:ref:refs/heads/main', 'repo:my-org/my-repo:pull_request'])
  })

  it('refuses another audience, a token without one, or another identity provider', () => {
    for (const policy of [DEPLOY_TRUST, READ_TRUST]) {
      const [sub = ''] = trusted(policy)
      expect(decide(assume(sub, 'api://AzureADTokenExchange'), [policy])).toBe('implicitly denied')
      expect(decide(assume(sub, null), [policy])).toBe('implicitly denied')
      expect(
        decide(
          { ...assume(sub), principal: { type: 'Federated', id: `arn:aws:iam::${ACCOUNT}:oidc-provider/gitlab.com` } },
          [policy]
        )
      ).toBe('implicitly denied')
    }
  })
})

describe('the evaluator', () => {
  // The policies README had before: role/* for every IAM write, no Condition, no Deny, and a trust on
  // `repo:ORG/REPO:*`. The evaluator must find what was wrong with them, or its verdicts on README prove nothing.
  const BEFORE: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'SwitchCloudWatchLogsOff',
        Effect: 'Allow',
        Action: ['iam:PutRolePolicy', 'iam:TagRole'],
        Resource: `arn:aws:iam::${ACCOUNT}:role/*`
      },
      {
        Sid: 'AttachTheBasicExecutionPolicyBack',
        Effect: 'Allow',
        Action: 'iam:AttachRolePolicy',
        Resource: `arn:aws:iam::${ACCOUNT}:role/*`
      }
    ]
  }
  const TRUST_BEFORE: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
          StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:my-org/my-repo:*' }
        }
      }
    ]
  }

  it("finds the escalation in README's earlier policy: the deploy role could grant itself anything", () => {
    expect(decide({ action: 'iam:PutRolePolicy', resource: DEPLOY_ROLE }, [BEFORE])).toBe('allowed')
    expect(
      decide({ action: 'iam:AttachRolePolicy', resource: DEPLOY_ROLE, context: { 'iam:PolicyARN': ADMIN } }, [BEFORE])
    ).toBe('allowed')
    const pr = {
      action: 'sts:AssumeRoleWithWebIdentity',
      principal: { type: 'Federated', id: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` }
    }
    expect(
      decide(
        {
          ...pr,
          context: {
            'token.actions.githubusercontent.com:sub': 'repo:my-org/my-repo:pull_request',
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com'
          }
        },
        [TRUST_BEFORE]
      )
    ).toBe('allowed')
  })

  it('lets an explicit Deny in any policy win over an Allow in another', () => {
    const deny: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 'iam:Put*', Resource: DEPLOY_ROLE }]
    }
    expect(decide({ action: 'iam:PutRolePolicy', resource: DEPLOY_ROLE }, [BEFORE, deny])).toBe('explicitly denied')
    expect(decide({ action: 'iam:TagRole', resource: DEPLOY_ROLE }, [BEFORE, deny])).toBe('allowed')
  })

  it('matches actions without case and resources with it, `*` and `?` as wildcards', () => {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'IAM:getrole', Resource: 'arn:aws:iam::*:role/app-??' }]
    }
    expect(decide({ action: 'iam:GetRole', resource: role('app-01') }, [policy])).toBe('allowed')
    expect(decide({ action: 'iam:GetRole', resource: role('app-001') }, [policy])).toBe('implicitly denied')
    expect(decide({ action: 'iam:GetRole', resource: role('APP-01') }, [policy])).toBe('implicitly denied')
  })

  it('compares ARNs in a condition component by component', () => {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'iam:AttachRolePolicy',
          Resource: '*',
          Condition: { ArnLike: { 'iam:PolicyARN': 'arn:aws:iam::*:policy/service-role/*' } }
        }
      ]
    }
    expect(
      decide({ action: 'iam:AttachRolePolicy', resource: EXECUTION_ROLE, context: { 'iam:PolicyARN': BASIC } }, [
        policy
      ])
    ).toBe('allowed')
    expect(
      decide(
        {
          action: 'iam:AttachRolePolicy',
          resource: EXECUTION_ROLE,
          context: { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' }
        },
        [policy]
      )
    ).toBe('implicitly denied')
    expect(
      decide({ action: 'iam:AttachRolePolicy', resource: EXECUTION_ROLE, context: { 'iam:PolicyARN': 'not-an-arn' } }, [
        policy
      ])
    ).toBe('implicitly denied')
  })

  it('refuses to guess: an element or operator it does not implement throws', () => {
    const statement = { Effect: 'Allow' as const, Action: 'iam:GetRole', Resource: '*' }
    expect(() =>
      decide({ action: 'iam:GetRole', resource: EXECUTION_ROLE }, [
        { Version: '2012-10-17', Statement: [{ ...statement, Condition: { StringNotEquals: { 'aws:x': 'y' } } }] }
      ])
    ).toThrow('condition operator StringNotEquals is not implemented')
    expect(() =>
      decide({ action: 'iam:GetRole', resource: EXECUTION_ROLE }, [
        { Version: '2012-10-17', Statement: [{ ...statement, NotResource: 'x' } as never] }
      ])
    ).toThrow('statement element NotResource is not implemented')
  })
})
