/**
 * cloudwatch-logs: off for one run, in the terms of the report: which functions' roles to change or
 * restore, and what was (or would be) done to each role, in words. The IAM work itself is
 * aws/iamRoles.ts; the decisions here are pure.
 */
import { type CloudWatchOffChange, policyNameOf, type UndoResult } from './roleModel.js'
import { parseLogGroupArn } from './logPermissions.js'
import type { FunctionReport } from './model.js'

const groupName = (arn: string): string => parseLogGroupArn(arn).name

/** What applyCloudWatchOff changed (`did`) or would change (`would`), in words. */
export function describeOffChange(change: CloudWatchOffChange, tense: 'did' | 'would'): string[] {
  const verb = (past: string, base: string): string => (tense === 'did' ? past : `would ${base}`)
  const lines: string[] = []
  const deny = change.denyPolicy
  if (deny && deny.added.length > 0) {
    const groups = deny.added.map(groupName).join(', ')
    lines.push(
      deny.before
        ? `${verb('added', 'add')} ${groups} to the log groups inline policy ${deny.name} denies writes to`
        : `${verb('put', 'put')} inline policy ${deny.name}, denying log writes to ${groups}`
    )
  }
  for (const arn of change.detached) lines.push(`${verb('detached', 'detach')} ${policyNameOf(arn)}`)
  for (const edit of change.inlineEdited)
    lines.push(`${verb('took', 'take')} the log writes out of inline policy ${edit.name} (its other permissions stay)`)
  for (const gone of change.inlineDeleted)
    lines.push(`${verb('deleted', 'delete')} inline policy ${gone.name}, which granted nothing but log writes`)
  return lines
}

/** What undoCloudWatchOff changed, in words. */
export function describeUndo(result: UndoResult): string[] {
  const lines: string[] = []
  if (result.denyPolicy)
    lines.push(
      result.denyPolicy.deleted
        ? `deleted inline policy ${result.denyPolicy.name}`
        : `took the function's log group out of ${result.denyPolicy.name}`
    )
  for (const arn of result.reattached) lines.push(`attached ${policyNameOf(arn)} again`)
  for (const restored of result.inlineRestored) lines.push(`restored the log writes in inline policy ${restored.name}`)
  return result.changed ? lines : []
}

/**
 * Whether the function's logs are known to reach ClickStack after the run, so that CloudWatch may stay
 * off for it. Everything else – rolled back, failed before or during the write, cancelled, telemetry
 * not arriving – gets CloudWatch Logs back: logs then cost money, but none are lost.
 */
export function logsReachClickStack(report: FunctionReport, cloudwatchStillOn: boolean): boolean {
  const instrumented = report.status === 'updated' || report.status === 'unchanged' || cloudwatchStillOn
  return instrumented && (report.delivery === null || report.delivery.status === 'delivered')
}
