import { describe, expect, it } from '@jest/globals'
import { describeIamError } from '../../../src/core/iamErrors.js'
import { RecordTooLargeError } from '../../../src/core/roleRecord.js'

describe('describeIamError', () => {
  it.each([
    [
      { name: 'AccessDenied', message: 'User: u is not authorized to perform: iam:PutRolePolicy on resource: role r' },
      /may not change execution role r.*docs\/permissions\.md/
    ],
    // A refused read is not called a refused change (plan and check only read).
    [
      { name: 'AccessDenied', message: 'User: u is not authorized to perform: iam:GetRolePolicy on resource: role r' },
      /may not read execution role r: .*iam:GetRolePolicy.*docs\/permissions\.md/
    ],
    [{ name: 'AccessDenied', message: 'not authorized' }, /may not read or change execution role r/],
    [{ name: 'NoSuchEntityException', message: 'missing' }, /Execution role r was not found/],
    [{ name: 'LimitExceededException', message: 'too many' }, /IAM refused the change to role r/],
    [{ name: 'MalformedPolicyDocumentException', message: 'bad' }, /refused a policy document/],
    [new RecordTooLargeError('own words'), /^own words$/],
    [{ name: 'Weird', message: 'x' }, /IAM call for role r failed: Weird: x/]
  ])('describes IAM error %#', (error, expected) => {
    expect(describeIamError(Object.assign(new Error((error as Error).message), error), 'r')).toMatch(expected)
  })
})
