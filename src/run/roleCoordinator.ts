/**
 * One run's work on execution roles: every role read once and written once, however many functions
 * share it. The work on a role is serialised (IAM has no conditional writes) and batched; different
 * roles are worked on concurrently, a few at once. IAM itself is behind RoleStore (aws/iamRoles.ts).
 */
import { parseLogGroupArn } from '../core/logPermissions.js'
import { cloudWatchDrift, type LogWriteReport } from '../core/logWriteReport.js'
import { describeIamError } from '../core/iamErrors.js'
import { messageOf } from '../core/errors.js'
import {
  type CloudWatchOffChange,
  type CloudWatchOffMethod,
  roleNameOf,
  type RoleState,
  type UndoResult
} from '../core/roleModel.js'
import { secretPlanAfter } from '../core/rolePlanning.js'
import type { RoleStore, SecretAccessOutcome, SecretGrantUndo } from '../core/roleStore.js'
import type { SecretNeed } from '../core/secretAccess.js'
import { planSecretGrant, planSecretGrantUndo } from '../core/secretGrant.js'
import { Slots } from '../core/concurrency.js'

/** A function whose execution role a run works on. */
export interface RoleTarget {
  /** The function (its ARN, or any key unique in the run). */
  readonly key: string
  /** Its execution role: name or ARN (`Role` of the function's configuration). */
  readonly role: string
  /** Its log group's ARN (logGroupArnForFunction). */
  readonly logGroupArn: string
}

/** What a task on a role gave, or why it failed in a sentence with the fix. */
export type RoleOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }

/** A role's work in this run: its task chain, its state as last read or written, and the keys not yet applied. */
interface RoleEntry {
  readonly name: string
  chain: Promise<unknown>
  state: RoleState | undefined
  /** Keys planned and not yet applied. */
  readonly pending: Set<string>
}

/**
 * Serialises all work on a role (a promise chain per role name) and batches it: plan every function
 * first, then applyFor per function (concurrent calls for one role share one task). Each
 * role is read once per run (the state after each write is kept, not re-read) and written once for all
 * the functions planned before its task starts. Different roles are worked on concurrently, at most
 * `concurrency` at once (IAM's request rate is low).
 */
export class RoleCoordinator {
  private readonly roles = new Map<string, RoleEntry>()
  private readonly targets = new Map<string, RoleTarget & { readonly roleName: string; readonly group: string }>()
  private readonly applied = new Map<string, Promise<RoleOutcome<CloudWatchOffChange>>>()
  private readonly results = new Map<string, RoleOutcome<CloudWatchOffChange>>()
  private readonly previews = new Map<string, Promise<RoleOutcome<CloudWatchOffChange>>>()
  /** IAM's request rate is low: a few roles at once. */
  private readonly slots: Slots

  constructor(
    private readonly edge: RoleStore,
    options: { readonly concurrency?: number } = {}
  ) {
    this.slots = new Slots(Math.max(1, options.concurrency ?? 4))
  }

  /** Registers a function: its role and log group. Planning a key again with the same role is a no-op. */
  plan(target: RoleTarget): void {
    const roleName = roleNameOf(target.role)
    const group = parseLogGroupArn(target.logGroupArn).arn
    const known = this.targets.get(target.key)
    if (known) {
      if (known.roleName !== roleName || known.group !== group)
        throw new Error(`${target.key} was planned with role ${known.roleName} and ${known.group}`)
      return
    }
    this.targets.set(target.key, { ...target, roleName, group })
    this.entry(roleName).pending.add(target.key)
  }

  /** Runs `task` when every earlier task on this role has finished (whatever their outcome). */
  private exclusive<T>(roleNameOrArn: string, task: () => Promise<T>): Promise<T> {
    const entry = this.entry(roleNameOf(roleNameOrArn))
    const run = entry.chain.then(() => this.slots.run(task))
    entry.chain = run.catch(() => undefined)
    return run
  }

  /** The change for one planned function's role: one task per role covers every function planned by then. */
  applyFor(key: string, method: CloudWatchOffMethod): Promise<RoleOutcome<CloudWatchOffChange>> {
    const known = this.applied.get(key)
    if (known) return known
    const target = this.targets.get(key)
    if (!target) return Promise.resolve({ ok: false, error: `${key} was not planned` })
    const promise = this.exclusive(target.roleName, async () => {
      const done = this.results.get(key)
      if (done) return done
      const entry = this.entry(target.roleName)
      const keys = [...entry.pending]
      entry.pending.clear()
      const groups = keys.map((k) => this.targets.get(k)?.group).filter((g): g is string => g !== undefined)
      let outcome: RoleOutcome<CloudWatchOffChange>
      try {
        const state = await this.known(entry)
        const change = await this.edge.applyCloudWatchOff(state, { method, logGroups: groups })
        entry.state = change.after
        outcome = { ok: true, value: change }
      } catch (error) {
        // Some writes may have gone through (the record is written first): the state kept is no longer
        // the role's, so the next task (giving CloudWatch Logs back) reads the role again and undoes
        // what its record says, instead of leaving a record of changes that were never made.
        entry.state = undefined
        outcome = { ok: false, error: describeIamError(error, target.roleName) }
      }
      for (const k of keys) this.results.set(k, outcome)
      return this.results.get(key) ?? outcome
    })
    this.applied.set(key, promise)
    return promise
  }

  /**
   * plan mode: what applyFor would write to this function's role, for every function planned on it;
   * one preview per role, writing nothing.
   */
  previewFor(key: string, method: CloudWatchOffMethod): Promise<RoleOutcome<CloudWatchOffChange>> {
    const target = this.targets.get(key)
    if (!target) return Promise.resolve({ ok: false, error: `${key} was not planned` })
    let preview = this.previews.get(target.roleName)
    if (!preview) {
      preview = this.exclusive(target.roleName, async (): Promise<RoleOutcome<CloudWatchOffChange>> => {
        try {
          const entry = this.entry(target.roleName)
          const state = await this.known(entry)
          const groups = [...this.targets.values()].filter((t) => t.roleName === target.roleName).map((t) => t.group)
          const { change } = await this.edge.planCloudWatchOff(state, { method, logGroups: groups })
          return { ok: true, value: change }
        } catch (error) {
          return { ok: false, error: describeIamError(error, target.roleName) }
        }
      })
      this.previews.set(target.roleName, preview)
    }
    return preview
  }

  /**
   * Undoes the record for these functions only: the deny policy loses just their groups (detach and
   * inline edits are role-wide, see planUndo); by role name.
   */
  async undoFor(keys: readonly string[]): Promise<Map<string, RoleOutcome<UndoResult>>> {
    const out = new Map<string, RoleOutcome<UndoResult>>()
    const chosen = keys.map((key) => this.targets.get(key)).filter((t) => t !== undefined)
    const roleNames = [...new Set(chosen.map((t) => t.roleName))]
    await Promise.all(
      roleNames.map(async (roleName) => {
        const entry = this.entry(roleName)
        const groups = chosen.filter((t) => t.roleName === roleName).map((t) => t.group)
        const outcome = await this.exclusive(entry.name, async (): Promise<RoleOutcome<UndoResult>> => {
          try {
            const state = await this.known(entry)
            const result = await this.edge.undoCloudWatchOff(state, { logGroups: groups })
            entry.state = result.after
            return { ok: true, value: result }
          } catch (error) {
            entry.state = undefined // part of the undo may have been written: read the role again if needed
            return { ok: false, error: describeIamError(error, entry.name) }
          }
        })
        out.set(entry.name, outcome)
      })
    )
    return out
  }

  /**
   * check mode, or the reason after a failed CloudWatch check: which policies grant the function's log
   * writes, and drift. Reads the role only if this run has not.
   */
  checkFor(key: string): Promise<RoleOutcome<LogWriteReport & { drift: string[] }>> {
    const target = this.targets.get(key)
    if (!target) return Promise.resolve({ ok: false, error: `${key} was not planned` })
    return this.exclusive(target.roleName, async () => {
      try {
        const entry = this.entry(target.roleName)
        const state = await this.known(entry)
        const report = await this.edge.logWriteGrants(state, target.group)
        return { ok: true, value: { ...report, drift: cloudWatchDrift(state, report) } }
      } catch (error) {
        return { ok: false, error: describeIamError(error, target.roleName) }
      }
    })
  }

  /**
   * grant-secret-access for a function's role (name or ARN): `check` reports what the role lacks,
   * `grant` also puts the policy. Serialised with every other task on the role (CloudWatch Logs off
   * included): the role is read once per run, and the state after each write is what the next task
   * starts from.
   */
  secretAccessForRole(
    roleNameOrArn: string,
    required: readonly SecretNeed[],
    mode: 'check' | 'grant'
  ): Promise<RoleOutcome<SecretAccessOutcome>> {
    let name: string
    try {
      name = roleNameOf(roleNameOrArn)
    } catch (error) {
      return Promise.resolve({ ok: false, error: messageOf(error) })
    }
    return this.exclusive(name, async (): Promise<RoleOutcome<SecretAccessOutcome>> => {
      try {
        const entry = this.entry(name)
        const state = await this.known(entry)
        if (mode === 'check')
          return { ok: true, value: { mode, report: await this.edge.secretAccessReport(state, required) } }
        const grant = await this.edge.grantSecretAccess(state, required)
        entry.state = grant.after
        return { ok: true, value: { mode, report: grant.report, grant } }
      } catch (error) {
        // A write may have gone through before the failure: read the role again next time.
        if (mode === 'grant') this.entry(name).state = undefined
        return { ok: false, error: describeIamError(error, name, 'grant-secret-access') }
      }
    })
  }

  /**
   * After an apply: cuts the secret grant on this role down to `keep` (what the run's functions on it
   * need now), serialised like the rest, from the state this run already read or wrote.
   */
  undoSecretGrantFor(roleNameOrArn: string, keep: readonly SecretNeed[] = []): Promise<RoleOutcome<SecretGrantUndo>> {
    let name: string
    try {
      name = roleNameOf(roleNameOrArn)
    } catch (error) {
      return Promise.resolve({ ok: false, error: messageOf(error) })
    }
    return this.exclusive(name, async (): Promise<RoleOutcome<SecretGrantUndo>> => {
      try {
        const entry = this.entry(name)
        const state = await this.known(entry)
        const result = await this.edge.undoSecretGrant(state, keep)
        entry.state = result.after
        return { ok: true, value: result }
      } catch (error) {
        // Part of it may have been written: read the role again if needed.
        this.entry(name).state = undefined
        return { ok: false, error: describeIamError(error, name, 'grant-secret-access') }
      }
    })
  }

  /**
   * plan mode: what an apply with these needs would drop from the role's secret grant once its
   * functions are written (undoSecretGrantFor after the grant), writing nothing.
   */
  secretGrantDropPreview(roleNameOrArn: string, keep: readonly SecretNeed[]): Promise<RoleOutcome<readonly string[]>> {
    let name: string
    try {
      name = roleNameOf(roleNameOrArn)
    } catch (error) {
      return Promise.resolve({ ok: false, error: messageOf(error) })
    }
    return this.exclusive(name, async (): Promise<RoleOutcome<readonly string[]>> => {
      try {
        const state = await this.known(this.entry(name))
        const granted = secretPlanAfter(state, planSecretGrant(state, keep).plan)
        return { ok: true, value: planSecretGrantUndo(granted, keep).dropped }
      } catch (error) {
        return { ok: false, error: describeIamError(error, name, 'grant-secret-access') }
      }
    })
  }

  /** The role as this run last read or wrote it; read from IAM the first time. */
  private async known(entry: RoleEntry): Promise<RoleState> {
    entry.state ??= await this.edge.readRole(entry.name)
    return entry.state
  }

  private entry(name: string): RoleEntry {
    let entry = this.roles.get(name)
    if (!entry) this.roles.set(name, (entry = { name, chain: Promise.resolve(), state: undefined, pending: new Set() }))
    return entry
  }
}
