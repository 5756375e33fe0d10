/** The secrets, keys and policy builders that the secret-access tests share. */
import { findSecretReferences, type SecretReference } from '../../src/core/secretReferences.js'

export const ACCOUNT = '123456789012'
export const SM_FULL = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack/ingest-AbC123`
export const SM_PARTIAL = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:clickstack-api-key`
export const SM_PARTIAL_GRANT = `${SM_PARTIAL}-??????`
export const SSM = `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/clickstack/api-key`
export const KMS = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`

/** References exactly as config.ts collects them. */
export const refs = (...values: string[]): SecretReference[] =>
  values.flatMap((value) => {
    const found = findSecretReferences(value, 'otlp-headers')
    if (found.problems.length > 0) throw new Error(found.problems.join('; '))
    return found.references
  })

export { allow, deny, doc } from './policyFixtures.js'
