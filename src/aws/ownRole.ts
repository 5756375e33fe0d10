/**
 * The role this action runs as (the deploy role), so that it never edits it: a function whose execution
 * role is the deploy role would otherwise let the action write policies onto the very role it holds – with
 * a copy-paste policy on `role/*`, a way for anyone who controls the action's inputs to grant themselves
 * more. The role comes from role-to-assume, or (credentials from the environment) from
 * sts:GetCallerIdentity, asked once and only when a run is about to write to an execution role.
 *
 * IAM writes by role name in the caller's own account, and role names are unique per account whatever
 * their case or path: so "the same role" is the same name, case-insensitively, whichever account the
 * function's role ARN names.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import type { IAMClient } from '@aws-sdk/client-iam'
import { messageOf } from '../core/errors.js'
import { assumedRoleNameOf, roleNameOfArn } from '../core/arns.js'

/** The role name in an IAM role ARN or an STS assumed-role ARN; undefined for users, root and anything else. */
export function roleNameOfIdentity(arn: string): string | undefined {
  return roleNameOfArn(arn) ?? assumedRoleNameOf(arn)
}

/** The role name of an execution role given by name or ARN. */
const nameOf = (nameOrArn: string): string =>
  nameOrArn.startsWith('arn:') ? (roleNameOfIdentity(nameOrArn) ?? nameOrArn) : nameOrArn

/** What decides whether a role is the deploy role: the role-to-assume input, or a way to ask who we are. */
export interface OwnRoleSource {
  readonly roleToAssume: string | undefined
  /** The caller's ARN (sts:GetCallerIdentity); only asked when roleToAssume is empty. */
  readonly callerArn: () => Promise<string>
}

/** Guards writes to execution roles: refusal(role) is the reason the action will not edit that role, if any. */
export class OwnRoleGuard {
  private identity: Promise<{ readonly name: string | undefined } | { readonly error: string }> | undefined

  constructor(private readonly source: OwnRoleSource) {}

  /** One sentence when `role` (name or ARN) is the role this action runs as, or cannot be told apart from it. */
  async refusal(role: string): Promise<string | undefined> {
    const own = await this.own()
    const name = nameOf(role)
    if ('error' in own)
      return `Whether execution role ${name} is the role this action runs as could not be told (sts:GetCallerIdentity: ${own.error}), so nothing was written to it.`
    if (own.name === undefined || own.name.toLowerCase() !== name.toLowerCase()) return undefined
    return `Its execution role ${name} is the role this action runs as, and the action never changes its own role's policies or tags: give the function an execution role of its own (see docs/permissions.md).`
  }

  private own(): Promise<{ readonly name: string | undefined } | { readonly error: string }> {
    this.identity ??= (async () => {
      if (this.source.roleToAssume) return { name: roleNameOfIdentity(this.source.roleToAssume) }
      try {
        return { name: roleNameOfIdentity(await this.source.callerArn()) }
      } catch (error) {
        return { error: messageOf(error) }
      }
    })()
    return this.identity
  }
}

/** The caller's ARN, with the same credentials as this IAM client. */
export function callerArnVia(iam: IAMClient, region: string): () => Promise<string> {
  return async () => {
    // As the run's other clients: retried, and a stalled connection cannot hang the run.
    const sts = new STSClient({
      region,
      credentials: iam.config.credentials,
      maxAttempts: 6,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000, throwOnRequestTimeout: true }
    })
    try {
      const { Arn: arn } = await sts.send(new GetCallerIdentityCommand({}))
      if (!arn) throw new Error('the answer named no identity')
      return arn
    } finally {
      sts.destroy()
    }
  }
}

/** IAM operations that change a role: what the guard refuses on the deploy role, whatever path asks for them. */
const ROLE_WRITES = new Set([
  'PutRolePolicyCommand',
  'DeleteRolePolicyCommand',
  'AttachRolePolicyCommand',
  'DetachRolePolicyCommand',
  'TagRoleCommand',
  'UntagRoleCommand',
  'UpdateAssumeRolePolicyCommand',
  'PutRolePermissionsBoundaryCommand',
  'DeleteRolePermissionsBoundaryCommand',
  'UpdateRoleCommand',
  'UpdateRoleDescriptionCommand',
  'DeleteRoleCommand'
])

const guarded = new WeakSet<IAMClient>()

/**
 * The last line of defence: every role write this client sends is checked against the guard, so no code
 * path that forgets to ask can write to the deploy role. The run's own checks come first, with a clearer
 * message; this one only ever fires on a path that skipped them.
 */
export function refuseWritesToOwnRole(iam: IAMClient, guard: OwnRoleGuard): void {
  if (guarded.has(iam)) return
  guarded.add(iam)
  iam.middlewareStack.add(
    (next, context) => async (args) => {
      const role = (args.input as { RoleName?: unknown }).RoleName
      if (context.commandName && ROLE_WRITES.has(context.commandName) && typeof role === 'string') {
        const refusal = await guard.refusal(role)
        if (refusal)
          throw Object.assign(new Error(`Refused to write to execution role ${role}: ${refusal}`), {
            name: 'OwnRoleRefused'
          })
      }
      return next(args)
    },
    { step: 'initialize', name: 'rotelRefuseWritesToOwnRole' }
  )
}
