import { describe, expect, it } from '@jest/globals'
import { GetRoleCommand, IAMClient, PutRolePolicyCommand, TagRoleCommand } from '@aws-sdk/client-iam'
import { OwnRoleGuard, refuseWritesToOwnRole, roleNameOfIdentity } from '../../../src/aws/ownRole.js'

describe('roleNameOfIdentity', () => {
  it.each([
    ['arn:aws:iam::123456789012:role/deploy', 'deploy'],
    ['arn:aws:iam::123456789012:role/ci/github/deploy', 'deploy'],
    ['arn:aws-cn:iam::123456789012:role/deploy', 'deploy'],
    ['arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions', 'deploy'],
    ['arn:aws:iam::123456789012:user/alice', undefined],
    ['arn:aws:iam::123456789012:root', undefined],
    ['arn:aws:sts::123456789012:federated-user/bob', undefined],
    ['deploy', undefined]
  ])('%s → %s', (arn, name) => {
    expect(roleNameOfIdentity(arn)).toBe(name)
  })
})

describe('OwnRoleGuard', () => {
  const counting = (arn: string | Error) => {
    const asked: number[] = []
    const callerArn = async () => {
      asked.push(1)
      if (arn instanceof Error) throw arn
      return arn
    }
    return { asked, callerArn }
  }

  it('takes the role from role-to-assume without asking STS, whatever the case or path of the execution role', async () => {
    const sts = counting('arn:aws:sts::123456789012:assumed-role/other/x')
    const guard = new OwnRoleGuard({
      roleToAssume: 'arn:aws:iam::123456789012:role/ci/Deploy',
      callerArn: sts.callerArn
    })
    expect(await guard.refusal('arn:aws:iam::123456789012:role/deploy')).toMatch(
      /^Its execution role deploy is the role this action runs as, .*give the function an execution role of its own/
    )
    expect(await guard.refusal('arn:aws:iam::123456789012:role/service-role/DEPLOY')).toMatch(
      /^Its execution role DEPLOY is/
    )
    expect(await guard.refusal('arn:aws:iam::123456789012:role/lambda-exec')).toBeUndefined()
    expect(sts.asked).toEqual([])
  })

  it('asks who it is once, for every role, when the credentials come from the environment', async () => {
    const sts = counting('arn:aws:sts::123456789012:assumed-role/deploy/session')
    const guard = new OwnRoleGuard({ roleToAssume: undefined, callerArn: sts.callerArn })
    const answers = await Promise.all(
      ['lambda-exec', 'arn:aws:iam::123456789012:role/deploy', 'other'].map((role) => guard.refusal(role))
    )
    expect(answers.map((answer) => answer !== undefined)).toEqual([false, true, false])
    expect(sts.asked).toEqual([1])
  })

  it('refuses nothing for a caller that is no role (an IAM user has no role policies to escalate through)', async () => {
    const guard = new OwnRoleGuard({
      roleToAssume: undefined,
      callerArn: counting('arn:aws:iam::123456789012:user/deploy').callerArn
    })
    expect(await guard.refusal('deploy')).toBeUndefined()
  })

  it('refuses every role when it cannot tell who it is', async () => {
    const guard = new OwnRoleGuard({
      roleToAssume: undefined,
      callerArn: counting(new Error('connect ECONNREFUSED')).callerArn
    })
    expect(await guard.refusal('lambda-exec')).toBe(
      'Whether execution role lambda-exec is the role this action runs as could not be told (sts:GetCallerIdentity: connect ECONNREFUSED), so nothing was written to it.'
    )
  })
})

describe('refuseWritesToOwnRole', () => {
  /** An IAM client that sends nothing: each command that reaches the wire is recorded and answered empty. */
  function offlineIam(): { iam: IAMClient; sent: string[] } {
    const sent: string[] = []
    const iam = new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
    iam.middlewareStack.add(
      (_next, context) => async () => {
        sent.push(context.commandName ?? '')
        return { output: { $metadata: {} } as never, response: {} }
      },
      { step: 'build', name: 'offline' }
    )
    return { iam, sent }
  }

  it('lets reads and writes to other roles through, and stops any write to the deploy role before it is sent', async () => {
    const { iam, sent } = offlineIam()
    refuseWritesToOwnRole(
      iam,
      new OwnRoleGuard({ roleToAssume: 'arn:aws:iam::123456789012:role/deploy', callerArn: async () => '' })
    )
    refuseWritesToOwnRole(iam, new OwnRoleGuard({ roleToAssume: undefined, callerArn: async () => '' })) // once per client
    await iam.send(new GetRoleCommand({ RoleName: 'deploy' }))
    await iam.send(new PutRolePolicyCommand({ RoleName: 'lambda-exec', PolicyName: 'p', PolicyDocument: '{}' }))
    await expect(
      iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'p', PolicyDocument: '{}' }))
    ).rejects.toThrow(
      /^Refused to write to execution role deploy: Its execution role deploy is the role this action runs as/
    )
    await expect(iam.send(new TagRoleCommand({ RoleName: 'Deploy', Tags: [] }))).rejects.toMatchObject({
      name: 'OwnRoleRefused'
    })
    expect(sent).toEqual(['GetRoleCommand', 'PutRolePolicyCommand'])
  })
})
