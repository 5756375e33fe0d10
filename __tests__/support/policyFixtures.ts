/** Builders of IAM policy documents for the tests of the policy analyses. */
import type { PolicyDocument, PolicyStatement } from '../../src/core/iamPolicy.js'

export const doc = (...statements: PolicyStatement[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: statements
})
export const allow = (
  action: string | string[],
  resource: string | string[] = '*',
  extra: Partial<PolicyStatement> = {}
): PolicyStatement => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
  ...extra
})
export const deny = (
  action: string | string[],
  resource: string | string[] = '*',
  extra: Partial<PolicyStatement> = {}
): PolicyStatement => ({
  Effect: 'Deny',
  Action: action,
  Resource: resource,
  ...extra
})
