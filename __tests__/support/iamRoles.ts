/**
 * Execution roles in tests: a role served by a mocked IAM client (unit tests), and against moto an IAM
 * client that records its commands and a read of a role done apart from the code under test.
 */
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand
} from '@aws-sdk/client-iam'
import type { AwsClientStub } from 'aws-sdk-client-mock'
import type { PolicyDocument } from '../../src/core/iamPolicy.js'

const isWrite = (command: string): boolean => !/^(Get|List|Simulate)/.test(command)

/** Serves one role (its tags, attached and inline policies) from the mocked IAM client, one page each. */
export function mockRole(
  iam: AwsClientStub<IAMClient>,
  account: string,
  roleName: string,
  options: { inline?: Record<string, PolicyDocument>; attached?: string[]; tags?: Record<string, string> } = {}
): void {
  iam.on(GetRoleCommand, { RoleName: roleName }).resolves({
    Role: {
      RoleName: roleName,
      Arn: `arn:aws:iam::${account}:role/${roleName}`,
      Path: '/',
      RoleId: 'AROA',
      CreateDate: new Date()
    }
  })
  iam.on(ListRoleTagsCommand, { RoleName: roleName }).resolves({
    Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    IsTruncated: false
  })
  iam.on(ListAttachedRolePoliciesCommand, { RoleName: roleName }).resolves({
    AttachedPolicies: (options.attached ?? []).map((arn) => ({
      PolicyArn: arn,
      PolicyName: arn.slice(arn.lastIndexOf('/') + 1)
    })),
    IsTruncated: false
  })
  iam
    .on(ListRolePoliciesCommand, { RoleName: roleName })
    .resolves({ PolicyNames: Object.keys(options.inline ?? {}), IsTruncated: false })
  for (const [name, document] of Object.entries(options.inline ?? {}))
    iam.on(GetRolePolicyCommand, { RoleName: roleName, PolicyName: name }).resolves({
      RoleName: roleName,
      PolicyName: name,
      PolicyDocument: encodeURIComponent(JSON.stringify(document))
    })
}

/** The names of the commands a mocked IAM client received, and of those that write. */
export function mockedCalls(iam: AwsClientStub<IAMClient>): { names: () => string[]; writes: () => string[] } {
  const names = (): string[] =>
    iam.calls().map((call) => (call.args[0] as { constructor: { name: string } }).constructor.name)
  return { names, writes: () => names().filter(isWrite) }
}

/** An IAM client for moto that records every command it sends; `onSend` sees each before it goes. */
export function recordingIamClient(
  endpoint: string,
  onSend?: (command: string, input: Record<string, unknown>) => void
): { client: IAMClient; calls: string[]; writes: () => string[] } {
  const calls: string[] = []
  const client = new IAMClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 2
  })
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName)
      calls.push(command)
      onSend?.(command, args.input as Record<string, unknown>)
      return next(args)
    },
    { step: 'initialize', name: 'recordCalls' }
  )
  return { client, calls, writes: () => calls.filter(isWrite) }
}

/** The role as IAM lists it, read with `admin`, independently of the code under test. */
export async function snapshotRole(admin: IAMClient, roleName: string) {
  const { Role: role } = await admin.send(new GetRoleCommand({ RoleName: roleName }))
  const { Tags: tags = [] } = await admin.send(new ListRoleTagsCommand({ RoleName: roleName }))
  const { AttachedPolicies: attached = [] } = await admin.send(
    new ListAttachedRolePoliciesCommand({ RoleName: roleName })
  )
  const { PolicyNames: names = [] } = await admin.send(new ListRolePoliciesCommand({ RoleName: roleName }))
  const inline: Record<string, PolicyDocument> = {}
  for (const name of [...names].sort()) {
    const { PolicyDocument: text = '' } = await admin.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name })
    )
    inline[name] = JSON.parse(decodeURIComponent(text)) as PolicyDocument
  }
  return {
    arn: role?.Arn,
    path: role?.Path,
    tags: Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? ''])),
    attached: attached.map((p) => p.PolicyArn ?? '').sort(),
    inline
  }
}
