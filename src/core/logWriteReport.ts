/**
 * Which of a role's policies let Lambda write a function's log group: the report check mode and a
 * failed CloudWatch check give, built from the policies' documents (the static analysis, which IAM's
 * policy simulator may overrule in the IAM edge), and what it says in words. Pure.
 */
import {
  type AnalyzedSource,
  analyzeLogWrites,
  awsManagedLogWriter,
  decideLogWrites,
  isAwsManagedPolicyArn,
  LOG_WRITE_ACTIONS,
  type LogWriteAction,
  type LogWriteDecision
} from './logPermissions.js'
import { recordOf, hasRecord } from './roleRecord.js'
import { type ManagedDocument, policyNameOf, type RoleState } from './roleModel.js'

/** One of the role's policies, and what it says about the three write actions on the group. */
export interface PolicySourceReport {
  readonly kind: 'inline' | 'aws-managed' | 'customer-managed'
  readonly name: string
  readonly arn?: string
  /** Allowed, unconditionally or under a Condition. */
  readonly allows: readonly LogWriteAction[]
  readonly conditional: readonly LogWriteAction[]
  readonly denies: readonly LogWriteAction[]
  /** Its document could not be read: why. */
  readonly unreadable?: string
}

/** Which of a role's policies let Lambda write one log group, and how that was decided. */
export interface LogWriteReport {
  readonly role: string
  readonly logGroupArn: string
  /** `simulation`: IAM's policy simulator decided `granted`; `static`: the analysis of the documents did. */
  readonly method: 'static' | 'simulation'
  /** The static decision per action, across all the role's policies. */
  readonly decisions: readonly LogWriteDecision[]
  /** Actions the role may use on the group (allowed, conditionally allowed, or undecidable). */
  readonly granted: readonly LogWriteAction[]
  readonly sources: readonly PolicySourceReport[]
  readonly notes: readonly string[]
}

/** The report of the role's documents without the simulator: what each policy allows, and the decision over all of them. */
export function staticLogWriteReport(
  role: RoleState,
  managed: ReadonlyMap<string, ManagedDocument>,
  group: string
): { decisions: LogWriteDecision[]; granted: LogWriteAction[]; sources: PolicySourceReport[]; notes: string[] } {
  const notes: string[] = []
  const sources: PolicySourceReport[] = []
  const analyzed: AnalyzedSource[] = []
  const unreadable = new Set<LogWriteAction>()
  const add = (
    kind: PolicySourceReport['kind'],
    name: string,
    arn: string | undefined,
    source: ManagedDocument
  ): void => {
    if ('error' in source) {
      const known = arn ? awsManagedLogWriter(arn) : undefined
      const mayGrant = kind === 'customer-managed' || known !== undefined
      if (mayGrant) for (const action of LOG_WRITE_ACTIONS) unreadable.add(action)
      sources.push({
        kind,
        name,
        ...(arn ? { arn } : {}),
        allows: mayGrant ? [...LOG_WRITE_ACTIONS] : [],
        conditional: [],
        denies: [],
        unreadable: source.error
      })
      return
    }
    const analysis = analyzeLogWrites(source.document, group)
    analyzed.push({ source: arn ?? name, analysis })
    sources.push({
      kind,
      name,
      ...(arn ? { arn } : {}),
      allows: analysis.filter((a) => a.allows.length > 0).map((a) => a.action),
      conditional: analysis
        .filter((a) => a.allows.length > 0 && a.allows.every((r) => r.conditional))
        .map((a) => a.action),
      denies: analysis.filter((a) => a.denies.length > 0).map((a) => a.action)
    })
  }
  for (const policy of role.inline) add('inline', policy.name, undefined, { document: policy.document })
  for (const policy of role.attached)
    add(
      isAwsManagedPolicyArn(policy.arn) ? 'aws-managed' : 'customer-managed',
      policy.name,
      policy.arn,
      managed.get(policy.arn) ?? { error: 'not read' }
    )
  const decisions = decideLogWrites(analyzed)
  const granted = decisions
    .filter(
      (d) =>
        d.verdict === 'allowed' ||
        d.verdict === 'conditional' ||
        (d.verdict === 'not-allowed' && unreadable.has(d.action))
    )
    .map((d) => d.action)
  if (decisions.some((d) => d.verdict === 'conditional'))
    notes.push('some statements have Conditions, which static analysis does not evaluate: they are counted as granting')
  if (unreadable.size > 0) notes.push('some attached policies could not be read: they are counted as granting')
  return { decisions, granted, sources, notes }
}

/**
 * check: what in the role's state differs from "CloudWatch Logs off" for this group, in words; empty
 * when in sync. `report` is logWriteGrants' answer for the group.
 */
export function cloudWatchDrift(role: RoleState, report: LogWriteReport): string[] {
  const drift: string[] = []
  const record = recordOf(role.tags)
  if (record.denyPolicy && !role.inline.some((policy) => policy.name === record.denyPolicy))
    drift.push(`role ${role.name} lost the deny policy ${record.denyPolicy}`)
  for (const arn of record.detached)
    if (role.attached.some((policy) => policy.arn === arn))
      drift.push(`role ${role.name} has ${policyNameOf(arn)} attached again`)
  if (report.granted.length > 0) {
    const who = report.sources.filter((s) => s.allows.length > 0 || s.unreadable).map((s) => s.arn ?? s.name)
    drift.push(
      `role ${role.name} ${hasRecord(record) ? 'again lets' : 'lets'} Lambda write ${report.logGroupArn} ` +
        `(${report.granted.join(', ')}${who.length > 0 ? ` via ${who.join(', ')}` : ''})${unreadableNote(report)}`
    )
  }
  return drift
}

/**
 * Why policies counted as granting were not read, or '': without it a policy that grants no logs action
 * at all would be named as the one that does, when the deploy role only may not read it.
 */
function unreadableNote(report: LogWriteReport): string {
  const unread = report.sources.filter((source) => source.unreadable && source.allows.length > 0)
  if (unread.length === 0) return ''
  const one = unread.length === 1
  return (
    `; ${unread.map((source) => `${source.arn ?? source.name} could not be read (${source.unreadable ?? ''})`).join('; ')}, ` +
    `so ${one ? 'it is' : 'they are'} counted as granting – the deploy role needs iam:GetPolicy and iam:GetPolicyVersion ` +
    `on ${one ? 'it' : 'them'} to tell (see docs/permissions.md)`
  )
}

/** Why CloudWatch Logs still received logs after the test invocation, for the failure message. */
export function explainLogsStillOn(report: LogWriteReport): string {
  if (report.granted.length > 0) {
    const who = report.sources
      .filter((source) => source.allows.length > 0 || source.unreadable)
      .map(
        (source) =>
          `${source.kind} policy ${source.arn ?? source.name}${source.unreadable ? ' (unreadable)' : ` (${source.allows.join(', ')})`}`
      )
    return `role ${report.role} still lets Lambda write ${report.logGroupArn}: ${who.length > 0 ? who.join('; ') : report.granted.join(', ')}${unreadableNote(report)}`
  }
  return (
    `no policy of role ${report.role} lets Lambda write ${report.logGroupArn} any more; IAM changes can take a few ` +
    'seconds to apply everywhere, so logs written meanwhile still arrive – run the check again later'
  )
}
