import { describe, expect, it } from '@jest/globals'
import { roleNameOf } from '../../../src/core/roleModel.js'

describe('roleNameOf', () => {
  it.each([
    ['orders-exec', 'orders-exec'],
    ['arn:aws:iam::123456789012:role/orders-exec', 'orders-exec'],
    ['arn:aws:iam::123456789012:role/service-role/team/orders-exec', 'orders-exec'],
    ['arn:aws-cn:iam::123456789012:role/x', 'x']
  ])('%s → %s', (input, name) => {
    expect(roleNameOf(input)).toBe(name)
  })

  it('refuses an ARN that is not a role', () => {
    expect(() => roleNameOf('arn:aws:iam::123456789012:user/me')).toThrow('not an IAM role ARN')
  })
})
