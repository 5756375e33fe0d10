/** IAM's failures in a sentence each, with the fix: the words a role's outcome gives when a call on it fails. */
import { errorName, messageOf } from './errors.js'

/** An IAM failure in a sentence with the fix. */
export function describeIamError(error: unknown, role: string, feature = 'cloudwatch-logs: off'): string {
  const name = errorName(error)
  if (name === 'RecordTooLargeError' || name === 'InlineQuotaError') return messageOf(error)
  if (name === 'NoSuchEntityException' || name === 'NoSuchEntity')
    return `Execution role ${role} was not found (${messageOf(error)}).`
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'AccessDeniedError') {
    // IAM's message names the action ("… is not authorized to perform: iam:GetRolePolicy on resource: …").
    const action = /not authorized to perform:? (iam:[A-Za-z]+)/.exec(messageOf(error))?.[1]
    const verb = action === undefined ? 'read or change' : /^iam:(Get|List|Simulate)/.test(action) ? 'read' : 'change'
    return (
      `The deploy role may not ${verb} execution role ${role}: ${messageOf(error)}. ` +
      `Grant it the IAM permissions that ${feature} needs (see docs/permissions.md).`
    )
  }
  if (name === 'LimitExceededException' || name === 'LimitExceeded')
    return `IAM refused the change to role ${role}: ${messageOf(error)}.`
  if (name === 'MalformedPolicyDocumentException' || name === 'MalformedPolicyDocument')
    return `IAM refused a policy document for role ${role}: ${messageOf(error)}.`
  return `IAM call for role ${role} failed: ${name}: ${messageOf(error)}`
}
