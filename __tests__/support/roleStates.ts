/** Execution roles as the core sees them, for unit tests: a role state, policy documents, managed policies. */
import type { InlinePolicy, ManagedDocument, RoleState } from '../../src/core/roleModel.js'
import type { PolicyDocument, PolicyStatement } from '../../src/core/iamPolicy.js'
import { basicExecutionPolicyArn, LOG_WRITE_ACTIONS } from '../../src/core/logPermissions.js'

export const ACCOUNT = '123456789012'
export const ORDERS = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/orders-api`
export const BILLING = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/lambda/billing-worker`
export const THREE = [...LOG_WRITE_ACTIONS]
export const BASIC_ARN = basicExecutionPolicyArn()
export const VPC_ARN = 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'
export const XRAY_ARN = 'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess'
export const SHARED_ARN = `arn:aws:iam::${ACCOUNT}:policy/shared-logging`

/** A policy document of these statements. */
export const doc = (...statements: PolicyStatement[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: statements
})
/** An Allow statement. */
export const allow = (action: string | string[], resource: string | string[] = '*'): PolicyStatement => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource
})
/** An inline policy as the edge reads it. */
export const inline = (name: string, document: PolicyDocument): InlinePolicy => ({
  name,
  document,
  text: JSON.stringify(document)
})
/** An attached managed policy. */
export const attached = (arn: string) => ({ arn, name: arn.slice(arn.lastIndexOf('/') + 1) })

/** The role orders-exec, with what the test changes. */
export function role(partial: Partial<RoleState> = {}): RoleState {
  return {
    name: 'orders-exec',
    arn: `arn:aws:iam::${ACCOUNT}:role/service-role/orders-exec`,
    partition: 'aws',
    account: ACCOUNT,
    tags: { team: 'orders' },
    attached: [],
    inline: [],
    ...partial
  }
}

/** Documents of managed policies, by ARN. */
export const MANAGED = new Map<string, ManagedDocument>([
  [VPC_ARN, { document: doc(allow([...THREE, 'ec2:CreateNetworkInterface'])) }],
  [XRAY_ARN, { document: doc(allow(['xray:PutTraceSegments'])) }],
  [
    SHARED_ARN,
    { document: doc(allow(['logs:CreateLogStream', 'logs:PutLogEvents'], 'arn:aws:logs:*:*:log-group:/aws/lambda/*')) }
  ]
])

/** The role with the plan's writes done, compared as IAM would list it (attached policies unordered). */
export const comparable = (state: RoleState) => ({
  ...state,
  attached: [...state.attached].sort((a, b) => a.arn.localeCompare(b.arn)),
  inline: [...state.inline]
    .map((p) => ({ name: p.name, document: p.document }))
    .sort((a, b) => a.name.localeCompare(b.name))
})
