/** A whole run on the in-memory reporter with mocked AWS clients: what the runner is told, and what AWS is sent. */
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals'
import { readFile } from 'node:fs/promises'
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  type FunctionConfiguration,
  GetLayerVersionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  PreconditionFailedException,
  ResourceNotFoundException,
  UpdateFunctionConfigurationCommand
} from '@aws-sdk/client-lambda'
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import { CODE_LOCATION, readsOf } from '../../support/lambdaReads.js'
import { type AwsClients, createAwsClients } from '../../../src/aws/awsClients.js'
import type { AwsCredentials } from '../../../src/aws/credentials.js'
import type { DeliveryChecker, WaitForDeliveryOptions } from '../../../src/clickstack/deliveryCheck.js'
import type { PreflightOptions } from '../../../src/clickstack/preflight.js'
import { MemoryReporter } from '../../../src/github/memoryReporter.js'
import { run, type RunDeps } from '../../../src/run/main.js'

const lambda = mockClient(LambdaClient)
const logs = mockClient(CloudWatchLogsClient)
afterAll(() => {
  lambda.restore()
  logs.restore()
})

const ACCOUNT = '418653438961'
const LATEST = 42
const layerArn = (version: number): string =>
  `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:rotel-extension-amd64-alpha:${version}`
const FN_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:orders-api'
const KEY = 'secret-ingestion-key-0123'

const configuration = (overrides: Partial<FunctionConfiguration> = {}): FunctionConfiguration => ({
  FunctionName: 'orders-api',
  FunctionArn: FN_ARN,
  Architectures: ['x86_64'],
  PackageType: 'Zip',
  Layers: [{ Arn: layerArn(40) }],
  Environment: { Variables: { LOG_LEVEL: 'info' } },
  RevisionId: 'rev-1',
  LastUpdateStatus: 'Successful',
  State: 'Active',
  ...overrides
})

const INPUTS = {
  mode: 'apply',
  functions: 'orders-api',
  'aws-region': 'us-east-1',
  'otlp-endpoint': 'https://clickstack.example.com:4318',
  'otlp-headers': `Authorization=${KEY}`,
  'cloudwatch-check-seconds': '0',
  'cloud-attributes': 'false'
}

/** A run's deps: the in-memory reporter, AWS clients the mocks answer, and a preflight that takes the record. */
function deps(inputs: Record<string, string>) {
  const reporter = new MemoryReporter(inputs)
  const built: Array<AwsCredentials | undefined> = []
  const preflights: PreflightOptions[] = []
  const given: Partial<RunDeps> = {
    reporter,
    awsClients: (credentials): AwsClients => {
      built.push(credentials)
      return createAwsClients({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMIexample' })
    },
    event: { eventName: 'push', payload: {}, repo: { owner: 'acme', repo: 'lambdas' } },
    sendPreflight: async (options) => {
      preflights.push(options)
      return { ok: true, protocol: 'http' }
    },
    createDeliveryChecker: () => {
      throw new Error('verify-delivery is off in these runs')
    },
    sleep: async () => {},
    exit: () => {
      throw new Error('a hard stop in a run that is not cancelled')
    }
  }
  return { reporter, built, preflights, given }
}

/** The latest version of the current line (rotel-extension-{arch}) in this test's region; 0: not published. */
const currentLine = { latest: 0 }

beforeEach(() => {
  currentLine.latest = 0
  lambda.reset()
  logs.reset()
  lambda
    .on(GetLayerVersionCommand)
    .callsFake(({ VersionNumber, LayerName }: { VersionNumber: number; LayerName: string }) => {
      // The current release line is published only where a test says so (currentLine).
      const latest = LayerName.endsWith('-alpha') ? LATEST : currentLine.latest
      if (VersionNumber > latest)
        throw new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } })
      return {
        LayerVersionArn: `${LayerName}:${VersionNumber}`,
        LayerArn: LayerName,
        Version: VersionNumber,
        Description: LayerName.endsWith('-alpha') ? undefined : `Tag=v0.1.${VersionNumber - 1}`,
        CompatibleArchitectures: ['x86_64']
      }
    })
  readsOf(lambda).resolves(configuration())
  lambda.on(UpdateFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-2' })
  lambda.on(InvokeCommand).resolves({ StatusCode: 200, $metadata: { requestId: 'req-1' } })
  logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [] })
})

describe('run', () => {
  it('applies the extension to one function: the write, the outputs, the summary and the verdict', async () => {
    const { reporter, built, preflights, given } = deps(INPUTS)
    await run({ GITHUB_STEP_SUMMARY: '/summary' }, given)

    expect(built).toEqual([undefined])
    expect(preflights.map(({ endpoint }) => endpoint)).toEqual(['https://clickstack.example.com:4318'])
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand).map((call) => call.args[0].input)).toEqual([
      {
        FunctionName: FN_ARN,
        Layers: [layerArn(LATEST)],
        Environment: {
          Variables: {
            LOG_LEVEL: 'info',
            ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4318',
            ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: `Authorization=${KEY}`
          }
        },
        RevisionId: 'rev-1'
      }
    ])
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1)

    // The key was masked before anything was printed, and is in nothing printed.
    const firstSaid = reporter.reported.findIndex((entry) => entry.kind !== 'secret')
    expect(reporter.reported.slice(0, firstSaid)).toContainEqual({ kind: 'secret', secret: KEY })
    expect(reporter.annotations('notice').map(({ properties }) => properties?.title)).toEqual([
      'Ingestion key in plain text'
    ])

    const { outputs } = reporter
    expect(Object.keys(outputs).sort()).toEqual(['changed', 'drift', 'layer-arns', 'report', 'report-file'])
    // Written on every run, whatever its size: here the same JSON as the output (the folder is tmpdir()
    // outside a runner).
    expect((await readFile(outputs['report-file'] ?? '', 'utf8')).trimEnd()).toBe(outputs.report)
    expect(outputs.changed).toBe('true')
    expect(outputs.drift).toBe('false')
    expect(JSON.parse(outputs['layer-arns'] ?? '')).toEqual({ 'us-east-1/x86_64': layerArn(LATEST) })
    expect(JSON.parse(outputs.report ?? '')).toEqual([
      expect.objectContaining({ function: 'orders-api', region: 'us-east-1', status: 'updated' })
    ])
    expect(JSON.stringify(reporter.reported.filter((entry) => entry.kind !== 'secret'))).not.toContain(KEY)
    // GetFunction's answer carries a link to the code and the tags beside the configuration: neither is said.
    expect(lambda.commandCalls(GetFunctionCommand)).toHaveLength(1)
    expect(JSON.stringify(reporter.reported)).not.toContain(CODE_LOCATION)
    expect(JSON.stringify(reporter.reported)).not.toContain('secret-tag-value')

    const summaries = reporter.reported.flatMap((entry) => (entry.kind === 'summary' ? [entry.markdown] : []))
    expect(summaries).toHaveLength(1)
    expect(summaries[0]).toContain('orders-api')
    expect(reporter.lines).toContain('Rolling the Rotel extension out to 1 function, 16 at a time.')
    expect(reporter.reported).toContainEqual({
      kind: 'outsideGroup',
      title: 'orders-api (us-east-1): updated',
      lines: expect.any(Array)
    })
    expect(reporter.reported.at(-1)).toEqual({
      kind: 'outside',
      lines: ['Every function has the Rotel extension and its settings.']
    })
    expect(reporter.failures).toEqual([])
    expect(reporter.annotations('error')).toEqual([])
  })

  it('prints the summary to the log where the runner gave no summary file', async () => {
    const { reporter, given } = deps(INPUTS)
    await run({}, given)
    expect(reporter.reported.filter((entry) => entry.kind === 'summary')).toEqual([])
    expect(reporter.reported).toContainEqual({ kind: 'outside', lines: [expect.stringContaining('orders-api')] })
  })

  it('fails the step when the function could not be instrumented, naming it', async () => {
    lambda.on(UpdateFunctionConfigurationCommand).rejects(
      Object.assign(new Error('User is not authorized'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 }
      })
    )
    const { reporter, given } = deps(INPUTS)
    await run({}, given)
    expect(reporter.failures).toEqual([
      '1 of 1 function could not be instrumented (orders-api); see the errors above and the job summary.'
    ])
    expect(reporter.annotations('error').map(({ properties }) => properties?.title)).toEqual(['orders-api: failed'])
    expect(reporter.outputs.changed).toBe('false')
  })

  it('keep: a CloudWatch check that could not read the group is a warning that names the function and why, not a failure', async () => {
    logs.on(DescribeLogStreamsCommand).rejects(
      Object.assign(new Error('not authorized to perform: logs:DescribeLogStreams'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 }
      })
    )
    const { reporter, given } = deps(INPUTS)
    await run({}, given)
    expect(reporter.failures).toEqual([])
    const reason =
      'could not read log group /aws/lambda/orders-api: AccessDeniedException: not authorized to perform: logs:DescribeLogStreams'
    expect(reporter.annotations('warning').map(({ text, properties }) => [properties?.title, text])).toContainEqual([
      'orders-api: CloudWatch Logs',
      `orders-api: whether CloudWatch Logs still receives its logs could not be checked (${reason}).`
    ])
    expect(JSON.parse(reporter.outputs.report ?? '')).toEqual([
      expect.objectContaining({ status: 'updated', cloudwatch: 'unknown', cloudwatchDetail: reason })
    ])
    expect(reporter.reported.at(-1)).toEqual({
      kind: 'outside',
      lines: [
        'Every function has the Rotel extension and its settings. Whether CloudWatch Logs still receives their logs could not be checked for 1 of 1 function (orders-api); see the warnings.'
      ]
    })
  })

  describe('functions a pattern selects', () => {
    const LISTED_SECRET = 'listed-db-password-0123'
    const PATTERN_INPUTS = { ...INPUTS, functions: 'orders-*' }
    const listed = configuration({ Environment: { Variables: { LOG_LEVEL: 'info', DB_PASSWORD: LISTED_SECRET } } })

    beforeEach(() => {
      lambda.on(ListFunctionsCommand).resolves({ Functions: [listed] })
    })

    it('are not read again: the listing gave their configuration, whose values are masked before the function is reported', async () => {
      const { reporter, given } = deps({ ...PATTERN_INPUTS, mode: 'plan' })
      await run({}, given)
      expect(lambda.commandCalls(ListFunctionsCommand)).toHaveLength(1)
      expect(lambda.commandCalls(GetFunctionCommand)).toEqual([])
      expect(JSON.parse(reporter.outputs.report ?? '')).toEqual([
        expect.objectContaining({ function: 'orders-api', status: 'planned' })
      ])
      const masked = reporter.reported.findIndex((entry) => entry.kind === 'secret' && entry.secret === LISTED_SECRET)
      // Before the first word about the functions, as a read's values would be (also when roles are read first).
      const reported = reporter.reported.findIndex(
        (entry) => entry.kind === 'info' && entry.text.startsWith('Planning')
      )
      expect(masked).toBeGreaterThanOrEqual(0)
      expect(masked).toBeLessThan(reported)
      expect(JSON.stringify(reporter.reported.filter((entry) => entry.kind !== 'secret'))).not.toContain(LISTED_SECRET)
    })

    it('are written with the listed revision; a write refused as stale reads the function again and writes on the new revision', async () => {
      const theirs = configuration({
        RevisionId: 'rev-theirs',
        Environment: { Variables: { LOG_LEVEL: 'info', DB_PASSWORD: LISTED_SECRET, THEIR_TOKEN: 'their-token-4567' } }
      })
      readsOf(lambda).resolves(theirs)
      lambda
        .on(UpdateFunctionConfigurationCommand)
        .rejectsOnce(
          new PreconditionFailedException({ message: 'revision mismatch', $metadata: { httpStatusCode: 412 } })
        )
        .resolves({ LastUpdateStatus: 'Successful', RevisionId: 'rev-ours' })
      const { reporter, given } = deps(PATTERN_INPUTS)
      await run({}, given)
      const writes = lambda.commandCalls(UpdateFunctionConfigurationCommand).map((call) => call.args[0].input)
      expect(writes.map((input) => input.RevisionId)).toEqual(['rev-1', 'rev-theirs'])
      expect(writes[1]?.Environment?.Variables).toMatchObject({ THEIR_TOKEN: 'their-token-4567' })
      // The one read: after the refusal, not before the first write.
      const functionCalls = lambda
        .calls()
        .flatMap(({ args: [command] }) =>
          command instanceof ListFunctionsCommand
            ? ['list']
            : command instanceof GetFunctionCommand
              ? ['read']
              : command instanceof UpdateFunctionConfigurationCommand
                ? ['write']
                : []
        )
      expect(functionCalls).toEqual(['list', 'write', 'read', 'write'])
      expect(reporter.reported).toContainEqual({ kind: 'secret', secret: 'their-token-4567' })
      expect(JSON.parse(reporter.outputs.report ?? '')).toEqual([
        expect.objectContaining({ function: 'orders-api', status: 'updated' })
      ])
    })

    it('remove: the execution roles are planned from the listed configurations; no function is read on its own', async () => {
      const ROLE = 'arn:aws:iam::123456789012:role/orders-exec'
      lambda.on(ListFunctionsCommand).resolves({ Functions: [{ ...listed, Role: ROLE }] })
      const iam = mockClient(IAMClient)
      const sts = mockClient(STSClient)
      try {
        iam.on(GetRoleCommand).resolves({
          Role: {
            RoleName: 'orders-exec',
            Arn: ROLE,
            Path: '/',
            RoleId: 'AROAEXAMPLE',
            CreateDate: new Date(),
            Tags: []
          }
        })
        sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::123456789012:user/deployer' })
        const { reporter, given } = deps({ ...PATTERN_INPUTS, mode: 'remove' })
        await run({}, given)
        expect(iam.commandCalls(GetRoleCommand).map((call) => call.args[0].input)).toEqual([
          { RoleName: 'orders-exec' }
        ])
        expect(lambda.commandCalls(GetFunctionCommand)).toEqual([])
        expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)[0]?.args[0].input).toMatchObject({
          Layers: [],
          RevisionId: 'rev-1'
        })
        expect(JSON.parse(reporter.outputs.report ?? '')).toEqual([
          expect.objectContaining({ function: 'orders-api', status: 'removed' })
        ])
      } finally {
        iam.restore()
        sts.restore()
      }
    })
  })

  it('reports every input problem as an error, fails once, and builds no client', async () => {
    const { reporter, built, preflights, given } = deps({ ...INPUTS, mode: 'deploy', 'max-concurrency': 'many' })
    await run({}, given)
    const errors = reporter.annotations('error').map(({ text }) => text)
    expect(errors).toEqual([expect.stringContaining('mode'), expect.stringContaining('max-concurrency')])
    expect(reporter.failures).toHaveLength(1)
    expect(built).toEqual([])
    expect(preflights).toEqual([])
    expect(lambda.calls()).toEqual([])
    expect(reporter.outputs).toEqual({})
  })
})

describe('the API pace', () => {
  it('builds the clients at the rates aws-api-rates gives, and logs what they did, one line per region', async () => {
    const { reporter, given } = deps({ ...INPUTS, 'aws-api-rates': 'describe-log-streams=25' })
    const rates: unknown[] = []
    await run(
      {},
      {
        ...given,
        awsClients: (_credentials, requested) => {
          rates.push(requested)
          const clients = createAwsClients({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMIexample' })
          return {
            ...clients,
            paceFigures: () => [
              { region: 'us-east-1', key: 'lambda', sent: 3, throttled: 1, gaveUp: 0, waitedMs: 2_500 }
            ]
          }
        }
      }
    )
    expect(rates).toEqual([expect.objectContaining({ 'describe-log-streams': 25, lambda: 15 })])
    expect(reporter.reported).toContainEqual({
      kind: 'info',
      text: 'API pace in us-east-1: lambda 3 sent, 1 throttled, 2.5 s waited.'
    })
  })
})

describe('the release line', () => {
  const releaseNotices = (reporter: MemoryReporter) =>
    reporter.annotations('notice').filter(({ properties }) => properties?.title === 'Rotel release line')

  it('says once, with the input to switch, where the current line is published beside the default alpha line', async () => {
    currentLine.latest = 7
    const { reporter, given } = deps(INPUTS)
    await run({}, given)
    expect(releaseNotices(reporter).map(({ text }) => text)).toEqual([
      expect.stringContaining('us-east-1/x86_64: v0.1.6')
    ])
    expect(releaseNotices(reporter)[0]?.text).toContain('set the input layer-name: rotel-extension-{arch}')
    // The run itself stays on the alpha line.
    expect(JSON.parse(reporter.outputs['layer-arns'] ?? '')).toEqual({ 'us-east-1/x86_64': layerArn(LATEST) })
  })

  it.each([
    ['the current line is not published in the region', {}, 0],
    ['the current line was chosen', { 'layer-name': 'rotel-extension-{arch}' }, 7],
    ['the layer comes from a mirror', { 'layer-account': '123456789012' }, 7],
    ['the mode takes the layer off', { mode: 'remove' }, 7]
  ])('says nothing when %s', async (_case, inputs, latest) => {
    currentLine.latest = latest
    const { reporter, given } = deps({ ...INPUTS, ...inputs })
    await run({}, given)
    expect(reporter.failures).toEqual([])
    expect(releaseNotices(reporter)).toEqual([])
  })
})

describe('delivery warnings', () => {
  it('carry their own topic as the annotation title, name the request id, and link what the check searched', async () => {
    const waits: WaitForDeliveryOptions[] = []
    const { reporter, given } = deps({
      ...INPUTS,
      'clickhouse-url': 'https://clickhouse.example.com:8443',
      'verify-delivery': 'warn',
      'hyperdx-url': 'https://hyperdx.example.com',
      'resource-attributes': 'service.name=orders'
    })
    const checker: DeliveryChecker = {
      check: async () => ({ ok: true }),
      close: async () => {},
      waitForDelivery: async (options) => {
        waits.push(options)
        // Only records of an older environment, which name no invocation, arrived.
        return {
          delivered: false,
          logRecords: 0,
          spans: 0,
          firstArrivalMs: null,
          withInvocationId: false,
          unmatched: 2,
          polls: 4
        }
      }
    }
    await run({}, { ...given, createDeliveryChecker: () => checker })
    expect(waits.map(({ functionName, serviceName, requestId }) => ({ functionName, serviceName, requestId }))).toEqual(
      [{ functionName: 'orders-api', serviceName: 'orders', requestId: 'req-1' }]
    )
    const warnings = reporter.annotations('warning').map(({ text, properties }) => [properties?.title, text])
    expect(warnings).toContainEqual([
      'orders-api: ClickStack delivery',
      expect.stringMatching(
        /2 record\(s\) of orders-api arrived since the invocation, but none names its request id req-1/
      )
    ])
    expect(warnings.filter(([title]) => title === 'orders-api: CloudWatch Logs')).toEqual([])
    const [row] = JSON.parse(reporter.outputs.report ?? '') as Array<{ delivery: { status: string; link: string } }>
    expect(row?.delivery.status).toBe('not-delivered')
    expect(new URL(row?.delivery.link ?? '').searchParams.get('where')).toBe(
      '(ServiceName:"orders" OR ResourceAttributes.faas.name:"orders-api") AND ("req-1" OR LogAttributes.faas.invocation_id:"req-1")'
    )
  })
})
