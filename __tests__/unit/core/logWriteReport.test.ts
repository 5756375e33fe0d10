import { describe, expect, it } from '@jest/globals'
import { DENY_POLICY_NAME } from '../../../src/core/logPermissions.js'
import { cloudWatchDrift, explainLogsStillOn, type LogWriteReport } from '../../../src/core/logWriteReport.js'
import { planDeny, planDetach } from '../../../src/core/rolePlanning.js'
import { DENY_TAG } from '../../../src/core/roleRecord.js'
import { ACCOUNT, ORDERS, THREE, BASIC_ARN, attached, role, MANAGED } from '../../support/roleStates.js'

describe('drift and explanations', () => {
  const report = (granted: string[], sources: LogWriteReport['sources'] = []): LogWriteReport => ({
    role: 'orders-exec',
    logGroupArn: ORDERS,
    method: 'static',
    decisions: [],
    granted: granted as LogWriteReport['granted'],
    sources,
    notes: []
  })

  it('is in sync when nothing grants and the record holds', () => {
    const denied = planDeny(role(), [ORDERS]).change.after
    expect(cloudWatchDrift(denied, report([]))).toEqual([])
  })

  it('names the deny policy gone, the policy attached again, and who grants', () => {
    const detached = planDetach(role({ attached: [attached(BASIC_ARN)] }), [ORDERS], MANAGED).change.after
    const drifted = {
      ...detached,
      attached: [attached(BASIC_ARN)],
      tags: { ...detached.tags, [DENY_TAG]: DENY_POLICY_NAME }
    }
    const sources: LogWriteReport['sources'] = [
      {
        kind: 'aws-managed',
        name: 'AWSLambdaBasicExecutionRole',
        arn: BASIC_ARN,
        allows: THREE,
        conditional: [],
        denies: []
      }
    ]
    expect(cloudWatchDrift(drifted, report(THREE, sources))).toEqual([
      `role orders-exec lost the deny policy ${DENY_POLICY_NAME}`,
      'role orders-exec has AWSLambdaBasicExecutionRole attached again',
      `role orders-exec again lets Lambda write ${ORDERS} (logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents via ${BASIC_ARN})`
    ])
    expect(explainLogsStillOn(report(THREE, sources))).toBe(
      `role orders-exec still lets Lambda write ${ORDERS}: aws-managed policy ${BASIC_ARN} (logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents)`
    )
  })

  it('says why a policy counted as granting was not read, so that it is not taken for the one that grants', () => {
    const APP_READ = `arn:aws:iam::${ACCOUNT}:policy/app-read`
    const sources: LogWriteReport['sources'] = [
      {
        kind: 'customer-managed',
        name: 'app-read',
        arn: APP_READ,
        allows: THREE,
        conditional: [],
        denies: [],
        unreadable: 'AccessDenied: not authorized to perform: iam:GetPolicyVersion'
      }
    ]
    const note = `; ${APP_READ} could not be read (AccessDenied: not authorized to perform: iam:GetPolicyVersion), so it is counted as granting – the deploy role needs iam:GetPolicy and iam:GetPolicyVersion on it to tell (see docs/permissions.md)`
    expect(cloudWatchDrift(role(), report(THREE, sources))).toEqual([
      `role orders-exec lets Lambda write ${ORDERS} (logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents via ${APP_READ})${note}`
    ])
    expect(explainLogsStillOn(report(THREE, sources))).toBe(
      `role orders-exec still lets Lambda write ${ORDERS}: customer-managed policy ${APP_READ} (unreadable)${note}`
    )
  })

  it('says that IAM takes time when nothing grants any more', () => {
    expect(explainLogsStillOn(report([]))).toMatch(/no policy of role orders-exec.*take a few seconds/)
  })
})
