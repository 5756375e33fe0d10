/**
 * The IAM edge of execution roles: reads a role (tags, attached and inline policies), reads managed
 * policies' documents, asks IAM's policy simulator, and sends the writes the core plans
 * (core/rolePlanning.ts, core/roleUndo.ts, core/secretAccess.ts) in their order. The coordinator
 * (run/roleCoordinator.ts) sees it through core/roleStore.ts.
 *
 * Writes: on apply the record (tags) first, then the policy changes (grant-secret-access's own tag
 * comes after its policy: grantSecretAccess) – a failure in between leaves a record of more than was
 * done, which undo tolerates (every restore step is idempotent). On undo the policy changes first, then
 * the tags. IAM has no conditional writes: within one run every role goes through the coordinator, one
 * task at a time; two runs of the action on the same roles at once should be serialised with the
 * workflow's `concurrency:`.
 */
import {
  AttachRolePolicyCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  UntagRoleCommand
} from '@aws-sdk/client-iam'
import { decodePolicyText, parsePolicyDocument } from '../core/iamPolicy.js'
import {
  isBasicExecutionPolicyArn,
  LOG_WRITE_ACTIONS,
  type LogWriteAction,
  parseLogGroupArn
} from '../core/logPermissions.js'
import { type LogWriteReport, staticLogWriteReport } from '../core/logWriteReport.js'
import { errorName, messageOf } from '../core/errors.js'
import { hasRecord, MAX_ROLE_TAGS, recordOf } from '../core/roleRecord.js'
import { type PlannedChange, planDeny, planDetach, secretPlanAfter } from '../core/rolePlanning.js'
import type { CloudWatchOffOptions, RoleStore, SecretGrantChange, SecretGrantUndo } from '../core/roleStore.js'
import { planUndo } from '../core/roleUndo.js'
import {
  isExactResource,
  missingSecretAccess,
  reportOf,
  type SecretAccessDecision,
  type SecretAccessReport,
  type SecretAccessVerdict,
  type SecretNeed,
  SECRET_POLICY_TAG,
  VIA_SERVICE
} from '../core/secretAccess.js'
import { planSecretGrant, planSecretGrantUndo } from '../core/secretGrant.js'
import {
  type AttachedPolicy,
  type CloudWatchOffChange,
  type InlinePolicy,
  type ManagedDocument,
  policyNameOf,
  roleNameOf,
  type RoleState,
  type UndoResult,
  type WritePlan
} from '../core/roleModel.js'

/** How the edge asks IAM. */
export interface IamRolesOptions {
  /** Ask IAM's policy simulator in logWriteGrants (needs iam:SimulatePrincipalPolicy); default true. */
  readonly simulate?: boolean
}

/** Reads and writes execution roles through one IAM client; managed policy documents are read once per run. */
export class IamRoles implements RoleStore {
  private readonly managedDocuments = new Map<string, Promise<ManagedDocument>>()
  private simulate: boolean

  constructor(
    private readonly iam: IAMClient,
    options: IamRolesOptions = {}
  ) {
    this.simulate = options.simulate ?? true
  }

  /** The role, its tags, attached policies and inline policies (all pages). */
  async readRole(nameOrArn: string): Promise<RoleState> {
    const name = roleNameOf(nameOrArn)
    const { Role: role } = await this.iam.send(new GetRoleCommand({ RoleName: name }))
    const arn = role?.Arn ?? ''
    const arnMatch = /^arn:([^:]+):iam::(\d{12}):/.exec(arn)
    const tags: Record<string, string> = {}
    let marker: string | undefined
    do {
      const page = await this.iam.send(new ListRoleTagsCommand({ RoleName: name, Marker: marker }))
      for (const tag of page.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? ''
      marker = page.IsTruncated ? page.Marker : undefined
    } while (marker)
    const attached: AttachedPolicy[] = []
    do {
      const page = await this.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, Marker: marker }))
      for (const policy of page.AttachedPolicies ?? [])
        if (policy.PolicyArn)
          attached.push({ arn: policy.PolicyArn, name: policy.PolicyName ?? policyNameOf(policy.PolicyArn) })
      marker = page.IsTruncated ? page.Marker : undefined
    } while (marker)
    const names: string[] = []
    do {
      const page = await this.iam.send(new ListRolePoliciesCommand({ RoleName: name, Marker: marker }))
      names.push(...(page.PolicyNames ?? []))
      marker = page.IsTruncated ? page.Marker : undefined
    } while (marker)
    const inline: InlinePolicy[] = []
    for (const policyName of names) {
      const { PolicyDocument: encoded = '{}' } = await this.iam.send(
        new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName })
      )
      inline.push({ name: policyName, document: parsePolicyDocument(encoded), text: decodePolicyText(encoded) })
    }
    return {
      name: role?.RoleName ?? name,
      arn,
      partition: arnMatch?.[1] ?? 'aws',
      account: arnMatch?.[2] ?? '',
      tags,
      attached,
      inline
    }
  }

  /** A managed policy's default version document (cached per run), or why it could not be read. */
  private managedPolicyDocument(arn: string): Promise<ManagedDocument> {
    let pending = this.managedDocuments.get(arn)
    if (!pending) {
      pending = (async (): Promise<ManagedDocument> => {
        try {
          const { Policy: policy } = await this.iam.send(new GetPolicyCommand({ PolicyArn: arn }))
          const { PolicyVersion: version } = await this.iam.send(
            new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy?.DefaultVersionId ?? 'v1' })
          )
          return { document: parsePolicyDocument(version?.Document ?? '{}') }
        } catch (error) {
          return { error: `${errorName(error)}: ${messageOf(error)}` }
        }
      })()
      this.managedDocuments.set(arn, pending)
    }
    return pending
  }

  private async managedDocumentsOf(role: RoleState): Promise<Map<string, ManagedDocument>> {
    const entries = await Promise.all(
      role.attached.map(async (policy) => [policy.arn, await this.managedPolicyDocument(policy.arn)] as const)
    )
    return new Map(entries)
  }

  /**
   * Switches CloudWatch Logs writes off for these log groups (ARNs) on this role, as read by readRole.
   * Writes nothing when the role already is as it should be.
   */
  async applyCloudWatchOff(role: RoleState, options: CloudWatchOffOptions): Promise<CloudWatchOffChange> {
    const planned = await this.planCloudWatchOff(role, options)
    await this.execute(role.name, planned.plan, 'record-first')
    return planned.change
  }

  /** What applyCloudWatchOff would write (plan mode); reads managed policies, writes nothing. */
  async planCloudWatchOff(role: RoleState, options: CloudWatchOffOptions): Promise<PlannedChange> {
    return options.method === 'deny'
      ? planDeny(role, options.logGroups)
      : planDetach(
          role,
          options.logGroups,
          await this.managedDocumentsOf({
            ...role,
            attached: role.attached.filter((policy) => !isBasicExecutionPolicyArn(policy.arn))
          })
        )
  }

  /**
   * Which of this action's records the role carries (one GetRole: its tags come with it), so that a run
   * can leave roles it never changed alone without reading their policies.
   */
  async recordsOn(nameOrArn: string): Promise<{ cloudwatchOff: boolean; secretPolicy: string | undefined }> {
    const { Role: role } = await this.iam.send(new GetRoleCommand({ RoleName: roleNameOf(nameOrArn) }))
    const tags: Record<string, string> = {}
    for (const tag of role?.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? ''
    const secret = Object.entries(tags).find(([key]) => key.toLowerCase() === SECRET_POLICY_TAG)
    return { cloudwatchOff: hasRecord(recordOf(tags)), secretPolicy: secret?.[1] }
  }

  /** remove mode: undoes what the role's record says (see planUndo), and nothing else. */
  async undoCloudWatchOff(
    role: RoleState,
    options: { readonly logGroups?: readonly string[] } = {}
  ): Promise<UndoResult> {
    const { plan, result } = planUndo(role, options.logGroups)
    await this.execute(role.name, plan, 'record-last')
    return result
  }

  /**
   * check mode: which of the role's policies let Lambda write the log group, each named; IAM's policy
   * simulator decides when it answers (it also weighs permission boundaries), else the static analysis.
   */
  async logWriteGrants(role: RoleState, logGroupArn: string): Promise<LogWriteReport> {
    const group = parseLogGroupArn(logGroupArn).arn
    const {
      decisions,
      sources,
      notes,
      granted: statically
    } = staticLogWriteReport(role, await this.managedDocumentsOf(role), group)
    let granted = statically
    let method: LogWriteReport['method'] = 'static'
    if (this.simulate && role.arn) {
      try {
        const simulated = await this.simulateLogWrites(role.arn, group)
        granted = LOG_WRITE_ACTIONS.filter((action) => simulated.has(action))
        method = 'simulation'
      } catch (error) {
        // Not permitted, or not implemented (emulators): static analysis it is, for the rest of the run.
        this.simulate = false
        notes.push(
          `IAM's policy simulator did not answer (${errorName(error)}): static analysis of the role's attached ` +
            'and inline policies decided; permission boundaries and SCPs are not weighed'
        )
      }
    } else {
      notes.push(
        "static analysis of the role's attached and inline policies; permission boundaries and SCPs are not weighed"
      )
    }
    return { role: role.name, logGroupArn: group, method, decisions, granted, sources, notes }
  }

  private async simulateLogWrites(roleArn: string, group: string): Promise<Set<LogWriteAction>> {
    const allowed = new Set<LogWriteAction>()
    let marker: string | undefined
    do {
      const page = await this.iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: roleArn,
          ActionNames: [...LOG_WRITE_ACTIONS],
          ResourceArns: [group, `${group}:log-stream:2000/01/01/[$LATEST]00000000000000000000000000000000`],
          Marker: marker
        })
      )
      for (const result of page.EvaluationResults ?? []) {
        const action = LOG_WRITE_ACTIONS.find((a) => a.toLowerCase() === (result.EvalActionName ?? '').toLowerCase())
        if (!action) continue
        const perResource = result.ResourceSpecificResults ?? []
        const anyAllowed =
          perResource.length > 0
            ? perResource.some((r) => r.EvalResourceDecision === 'allowed')
            : result.EvalDecision === 'allowed'
        if (anyAllowed) allowed.add(action)
      }
      marker = page.IsTruncated ? page.Marker : undefined
    } while (marker)
    return allowed
  }

  /**
   * grant-secret-access: false – which of the needs the role's policies do not grant, each with the
   * policies looked at. IAM's policy simulator decides the needs with exact resources when it answers
   * (it also weighs permission boundaries); a secret named without its suffix is always decided by
   * static analysis.
   */
  async secretAccessReport(role: RoleState, required: readonly SecretNeed[]): Promise<SecretAccessReport> {
    const report = missingSecretAccess(role, await this.managedDocumentsOf(role), required)
    if (required.length === 0) return report
    if (!this.simulate || !role.arn) return report
    const exact = required.filter(isExactResource)
    if (exact.length === 0) return report
    let simulated: Map<string, SecretAccessVerdict>
    try {
      simulated = await this.simulateSecretAccess(role.arn, exact)
    } catch (error) {
      // Not permitted, or not implemented (emulators): static analysis it is, for the rest of the run.
      this.simulate = false
      return {
        ...report,
        notes: [
          `IAM's policy simulator did not answer (${errorName(error)}): static analysis of the role's policies decided`,
          ...report.notes
        ]
      }
    }
    const decisions: SecretAccessDecision[] = report.decisions.map((decision) => {
      const verdict = simulated.get(`${decision.action} ${decision.resource}`)
      return verdict === undefined ? decision : { ...decision, verdict }
    })
    const notes =
      exact.length < required.length
        ? ['secrets named without their random suffix were decided by static analysis']
        : []
    return reportOf(role, 'simulation', decisions, report.examined, notes)
  }

  private async simulateSecretAccess(
    roleArn: string,
    needs: readonly SecretNeed[]
  ): Promise<Map<string, SecretAccessVerdict>> {
    const verdicts = new Map<string, SecretAccessVerdict>()
    const byAction = new Map<string, string[]>()
    for (const need of needs) byAction.set(need.action, [...(byAction.get(need.action) ?? []), need.resource])
    const verdictOf = (decision: string | undefined): SecretAccessVerdict =>
      decision === 'allowed' ? 'allowed' : decision === 'explicitDeny' ? 'denied' : 'not-allowed'
    // The worst answer over the services a key is decrypted through counts.
    const rank: readonly SecretAccessVerdict[] = ['allowed', 'conditional', 'not-allowed', 'denied']
    const record = (key: string, verdict: SecretAccessVerdict): void => {
      const earlier = verdicts.get(key)
      if (earlier === undefined || rank.indexOf(verdict) > rank.indexOf(earlier)) verdicts.set(key, verdict)
    }
    for (const [action, resources] of byAction) {
      // kms:Decrypt comes through Secrets Manager or Parameter Store: asked as each of them calls it.
      const services = action === 'kms:Decrypt' ? [...new Set(needs.flatMap((need) => need.viaServices ?? []))] : []
      for (const service of services.length > 0 ? services : [undefined]) {
        const ContextEntries =
          service === undefined
            ? undefined
            : [{ ContextKeyName: VIA_SERVICE, ContextKeyType: 'string' as const, ContextKeyValues: [service] }]
        let marker: string | undefined
        do {
          const page = await this.iam.send(
            new SimulatePrincipalPolicyCommand({
              PolicySourceArn: roleArn,
              ActionNames: [action],
              ResourceArns: resources,
              ...(ContextEntries ? { ContextEntries } : {}),
              Marker: marker
            })
          )
          for (const result of page.EvaluationResults ?? []) {
            const perResource = result.ResourceSpecificResults ?? []
            if (perResource.length > 0) {
              for (const r of perResource)
                if (r.EvalResourceName) record(`${action} ${r.EvalResourceName}`, verdictOf(r.EvalResourceDecision))
            } else if (result.EvalResourceName) {
              record(`${action} ${result.EvalResourceName}`, verdictOf(result.EvalDecision))
            }
          }
          marker = page.IsTruncated ? page.Marker : undefined
        } while (marker)
      }
    }
    return verdicts
  }

  /**
   * grant-secret-access: true – puts the inline policy SECRET_POLICY_NAME (merged with what earlier
   * runs put there) and records it in the tag SECRET_POLICY_TAG, policy first: a refused or failed
   * policy write leaves no record of a policy that is not there (remove would name it), and a policy
   * without its tag is merged into and tagged by the next grant. Writes nothing when the policy already
   * holds the needs. The report after is static (IAM takes a moment to apply the change).
   */
  async grantSecretAccess(role: RoleState, required: readonly SecretNeed[]): Promise<SecretGrantChange> {
    const planned = planSecretGrant(role, required)
    const after = secretPlanAfter(role, planned.plan)
    await this.execute(role.name, planned.plan, 'record-last')
    const report = missingSecretAccess(after, await this.managedDocumentsOf(after), required)
    return {
      role: role.name,
      changed: planned.changed,
      policy: planned.policy,
      added: planned.added,
      report,
      warnings: report.warnings,
      after
    }
  }

  /**
   * After an apply: cuts the action's secret-access statements down to `keep` (policy first, then the
   * tag, which goes with the last of them); nothing is written when the grant is exactly that already.
   */
  async undoSecretGrant(role: RoleState, keep: readonly SecretNeed[] = []): Promise<SecretGrantUndo> {
    const planned = planSecretGrantUndo(role, keep)
    const after = secretPlanAfter(role, planned.plan)
    await this.execute(role.name, planned.plan, 'record-last')
    return {
      role: role.name,
      changed: planned.changed,
      ...(planned.policy ? { policy: planned.policy } : {}),
      dropped: planned.dropped,
      tagsRemoved: planned.plan.tags.remove,
      after
    }
  }

  private async execute(roleName: string, plan: WritePlan, order: 'record-first' | 'record-last'): Promise<void> {
    const writeTags = async (): Promise<void> => {
      const set = Object.entries(plan.tags.set).map(([Key, Value]) => ({ Key, Value }))
      for (let i = 0; i < set.length; i += MAX_ROLE_TAGS)
        await this.iam.send(new TagRoleCommand({ RoleName: roleName, Tags: set.slice(i, i + MAX_ROLE_TAGS) }))
      for (let i = 0; i < plan.tags.remove.length; i += MAX_ROLE_TAGS)
        await this.iam.send(
          new UntagRoleCommand({ RoleName: roleName, TagKeys: plan.tags.remove.slice(i, i + MAX_ROLE_TAGS) })
        )
    }
    if (order === 'record-first') await writeTags()
    for (const arn of plan.attach)
      await this.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn }))
    for (const arn of plan.detach) {
      try {
        await this.iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn }))
      } catch (error) {
        if (errorName(error) !== 'NoSuchEntityException' && errorName(error) !== 'NoSuchEntity') throw error
      }
    }
    for (const { name, text } of plan.put)
      await this.iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: name, PolicyDocument: text }))
    for (const name of plan.delete) {
      try {
        await this.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name }))
      } catch (error) {
        if (errorName(error) !== 'NoSuchEntityException' && errorName(error) !== 'NoSuchEntity') throw error
      }
    }
    if (order === 'record-last') await writeTags()
  }
}
