/**
 * The hostile-input suite (issue 11, "Done when"): every class of the security review runs through
 * dist/index.js as the runner runs it, against moto behind the fault proxy and the GitHub stand-in, and
 * every channel of every run is scanned (__tests__/support/hostileScan.ts): the log (stdout, stderr),
 * the step summary, the outputs, GITHUB_ENV and GITHUB_STATE files, and the comment bodies sent to GitHub.
 * Three checks hold for every case: no secret in any form (the function's own current values count as
 * secrets, whatever their names); no workflow command that came from outside; no Markdown or HTML that
 * came from outside. Each case adds what its class demands (whose comment is edited, how many layer
 * lookups, how long, what the function holds afterwards).
 *
 * One moto serves the file; every case has its own functions, its own proxy (hence its own call log) and
 * its own pull request, so the cases run side by side in beforeAll and the tests judge their outcomes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createSampleFunction,
  ensureLambdaRole,
  publishMirroredLayer,
  resetEmulator,
  seedSampleFleet
} from '../../scripts/emulator-fixtures.mjs'
import { type FaultProxy, type FaultRule, type RecordedCall, startFaultProxy } from '../../scripts/fault-proxy.mjs'
import { planMarker } from '../../src/github/prComment.js'
import { ClickHouseTestServer } from '../support/clickhouseServer.js'
import { GitHubStandIn } from '../support/githubStandIn.js'
import {
  basicAuthSecret,
  CANARY,
  type Channels,
  commandCanaries,
  commandsRun,
  findCommands,
  findForeignOutputs,
  findMarkup,
  findSecrets,
  markupCanaries,
  type Secret,
  secretParts
} from '../support/hostileScan.js'
import { type ActionRun, freePort, parseOutputFile, runAction, startEmulator, stopEmulator } from './harness.js'

const ACCOUNT = '123456789012'
const INGESTION_KEY = 'ck_live_H0stileSuiteIngestKey'
const GITHUB_TOKEN = 'ghs_H0stileSuiteGitHubToken'
const OWNER = 'hostile-org'
const MARKER = planMarker('lambda/plan')
const DECLARED_OUTPUTS = ['layer-arns', 'changed', 'drift', 'report', 'report-file']
/** Cases run this many at a time: each run of the action is one node process. */
const AT_ONCE = 4
/** A run of the action here takes seconds; one bounded by the issue (a pathological glob) gets this long. */
const BOUNDED_MS = 25_000

type Mode = 'apply' | 'plan' | 'check' | 'remove'

interface Ctx {
  readonly id: string
  readonly fn: string
  readonly repo: string
  readonly pr: number
  readonly workspace: string
  /** The variables the function was created with: its own current values. */
  readonly variables: Record<string, string>
  proxy: FaultProxy
}

interface Step {
  readonly mode: Mode
  readonly inputs?: Record<string, string>
  /** Run as on a pull request (plan posts its comment). */
  readonly pullRequest?: boolean
  readonly rules?: FaultRule[]
  /** Kill the run after this long. */
  readonly deadlineMs?: number
  /** What this step's run must also show, in words; empty when all is well. */
  readonly expect?: (ctx: Ctx, run: StepRun) => string[] | Promise<string[]>
}

interface StepRun {
  readonly step: Step
  readonly label: string
  readonly run: ActionRun
  readonly channels: Channels
  readonly calls: RecordedCall[]
  readonly ms: number
  readonly killed: boolean
  readonly outputs: Record<string, string>
}

interface HostileCase {
  readonly id: string
  readonly name: string
  /** Variables the function has besides DB_PASSWORD and FEATURE_TIER. */
  readonly variables?: Record<string, string>
  readonly role?: string
  readonly architecture?: 'x86_64' | 'arm64'
  /** Before any run of any case: files, layers, comments. */
  readonly setup?: (ctx: Ctx) => void | Promise<void>
  readonly steps: (ctx: Ctx) => Step[]
  readonly secrets?: (ctx: Ctx) => Secret[]
}

interface Outcome {
  readonly runs: StepRun[]
  readonly problems: string[]
}

let port = 0
let endpoint = ''
const github = new GitHubStandIn()
let apiUrl = ''
const clickhouse = new ClickHouseTestServer({ users: { verifier: { password: 'ChPa55-5c-Secret', readonly: 1 } } })
let echoServer: Server | undefined
let echoUrl = ''
const outcomes = new Map<string, Outcome>()
const timings: string[] = []

// ---------------------------------------------------------------------------------------------
// Helpers

const direct = (region = 'us-east-1'): LambdaClient =>
  new LambdaClient({ region, endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } })

async function variablesOf(fn: string): Promise<Record<string, string>> {
  const client = direct()
  try {
    const configuration = await client.send(new GetFunctionConfigurationCommand({ FunctionName: fn }))
    return { ...(configuration.Environment?.Variables ?? {}) }
  } finally {
    client.destroy()
  }
}

const rows = (run: StepRun): Array<{ function: string; status: string; error: string | null }> => {
  try {
    return JSON.parse(run.outputs.report ?? '[]') as Array<{ function: string; status: string; error: string | null }>
  } catch {
    return []
  }
}

const statusOf = (ctx: Ctx, run: StepRun): string =>
  rows(run).find((r) => r.function === ctx.fn)?.status ?? 'no report row'

/** The step failed on an input before any network call, with an error that names the input. */
const refusedInput =
  (input: string) =>
  (_ctx: Ctx, run: StepRun): string[] => {
    const problems: string[] = []
    if (run.run.exitCode !== 1) problems.push(`exit code ${run.run.exitCode}, not 1`)
    if (run.calls.length > 0)
      problems.push(
        `${run.calls.length} AWS call(s) before the input was refused: ${run.calls.map((c) => c.operation).join(', ')}`
      )
    const errors = commandsRun(run.run.stdout).filter((line) => line.command === 'error')
    if (!errors.some((line) => line.text.includes(input))) problems.push(`no ::error:: names the input ${input}`)
    return problems
  }

/** The action's own annotations still reach the runner: an error on the function, and the step's failure. */
const ownAnnotations = (ctx: Ctx, run: StepRun): string[] => {
  const errors = commandsRun(run.run.stdout).filter((line) => line.command === 'error')
  const problems: string[] = []
  if (!errors.some((line) => line.text.trimStart().startsWith(`::error title=${ctx.fn}`)))
    problems.push(`the action's own error annotation on ${ctx.fn} is not run by the runner (silenced or never written)`)
  if (!errors.some((line) => line.text.trimStart().startsWith('::error::') && !line.text.includes(CANARY)))
    problems.push("the step's own failure (::error::) is not run by the runner")
  return problems
}

const statusIs =
  (...allowed: string[]) =>
  (ctx: Ctx, run: StepRun): string[] => {
    const status = statusOf(ctx, run)
    return allowed.includes(status) ? [] : [`${ctx.fn} ended ${status}, expected ${allowed.join(' or ')}`]
  }

const all =
  (...checks: Array<(ctx: Ctx, run: StepRun) => string[]>) =>
  (ctx: Ctx, run: StepRun): string[] =>
    checks.flatMap((check) => check(ctx, run))

const summaryHas =
  (text: string, what: string) =>
  (_ctx: Ctx, run: StepRun): string[] =>
    run.channels.summary.includes(text)
      ? []
      : [`the summary has no ${what} (so the planted text never reached it: the case proves nothing)`]

/** The run read the answer of the server that quotes requests (else the case proves nothing). */
const echoRead = (_ctx: Ctx, run: StepRun): string[] =>
  /clickhouse-url/.test(run.run.stdout)
    ? []
    : ['the log does not mention clickhouse-url: the echoing answer was never read']

/** An ARN of the Rotel layer in the test account, as a repository file would pin it. */
const rotelArn = (version: number, region = 'us-east-1', account = ACCOUNT): string =>
  `arn:aws:lambda:${region}:${account}:layer:rotel-extension-amd64-alpha:${version}`

const tfPinning = (version: number): string =>
  `resource "aws_lambda_function" "f" {\n  layers = ["${rotelArn(version)}"]\n}\n`

/** Multi-line text, as a log tail, an error message or an input holds it. */
const lines = (...parts: string[]): string => parts.join('\n')

// ---------------------------------------------------------------------------------------------
// The cases, by class of the issue

const CASES: HostileCase[] = [
  // 0. Nothing hostile: the scanner finds nothing in the action's own output (else every finding is suspect).
  {
    id: '0a',
    name: 'control: a run with nothing hostile in it, in plan, check, apply and remove on a pull request, passes every check',
    steps: () => [
      { mode: 'plan', pullRequest: true, expect: statusIs('planned') },
      { mode: 'check', pullRequest: true, expect: statusIs('drifted') },
      { mode: 'apply', pullRequest: true, expect: statusIs('updated') },
      { mode: 'remove', pullRequest: true, expect: statusIs('removed') }
    ]
  },

  // 1. Plan publishes secrets.
  {
    id: '1a',
    name: 'class 1: environment DATABASE_URL=postgres://app:PASSWORD@… and SENTRY_DSN=…, in plan, check and apply on a pull request',
    steps: () => {
      const inputs = {
        environment: lines(
          'DATABASE_URL=postgres://app:PgPa55-1a-Secret@db.internal:5432/orders',
          'SENTRY_DSN=https://d1a5ecf0ffee1a5e@o42.ingest.sentry.example/77'
        )
      }
      return [
        { mode: 'plan', pullRequest: true, inputs, expect: statusIs('planned') },
        { mode: 'check', pullRequest: true, inputs, expect: statusIs('drifted') },
        { mode: 'apply', pullRequest: true, inputs, expect: statusIs('updated') }
      ]
    },
    secrets: () => [
      { label: 'the password in DATABASE_URL', value: 'PgPa55-1a-Secret' },
      { label: 'the DATABASE_URL value', value: 'postgres://app:PgPa55-1a-Secret@db.internal:5432/orders' },
      { label: 'the key in SENTRY_DSN', value: 'd1a5ecf0ffee1a5e' }
    ]
  },
  {
    id: '1b',
    name: 'class 1: an otlp-endpoint with ?api_key=…, in plan, check and apply on a pull request',
    steps: () => {
      const inputs = { 'otlp-endpoint': 'https://clickstack.example.com:4318/v1?api_key=QueryK3y-1b-Secret' }
      return [
        { mode: 'plan', pullRequest: true, inputs, expect: statusIs('planned') },
        { mode: 'check', pullRequest: true, inputs, expect: statusIs('drifted') },
        { mode: 'apply', pullRequest: true, inputs, expect: statusIs('updated') }
      ]
    },
    secrets: () => [{ label: 'the api_key in otlp-endpoint', value: 'QueryK3y-1b-Secret' }]
  },
  {
    id: '1c',
    name: "class 1: the function's own current values (a secret-named one, a plain one, an old endpoint with ?token=) in plan, check, apply and remove on a pull request",
    variables: {
      ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://old.example.com:4317/?token=OldT0ken-1c-Secret',
      CACHE_HOSTNAME: 'cache-1c.internal.distinct'
    },
    steps: () => [
      { mode: 'plan', pullRequest: true, expect: statusIs('planned') },
      { mode: 'check', pullRequest: true, expect: statusIs('drifted') },
      { mode: 'apply', pullRequest: true, expect: statusIs('updated') },
      { mode: 'remove', pullRequest: true, expect: statusIs('removed') }
    ],
    secrets: () => [
      { label: "the token in the function's old ROTEL_OTLP_EXPORTER_ENDPOINT", value: 'OldT0ken-1c-Secret' },
      { label: "the function's CACHE_HOSTNAME value", value: 'cache-1c.internal.distinct' }
    ]
  },

  // 2. The sticky comment can be hijacked.
  ...(
    [
      ['2a', 'another user', { login: 'mallory', type: 'User' }, false],
      ['2b', 'another user, older than ours', { login: 'mallory', type: 'User' }, true],
      ['2c', 'another bot', { login: 'evil-app[bot]', type: 'Bot' }, false]
    ] as const
  ).map(([id, who, user, oursToo]): HostileCase => ({
    id,
    name: `class 2: a comment by ${who} starting with the plan marker is never edited; ${oursToo ? 'ours is edited' : 'ours is created'}`,
    setup: (ctx) => {
      const heading = '## Rotel Lambda Extension for ClickStack: plan'
      github.addComment(
        OWNER,
        ctx.repo,
        ctx.pr,
        `${MARKER}\n${heading}\n\n✅ Reviewed: nothing to change. ${CANARY}-${id}`,
        { ...user }
      )
      if (oursToo) github.addComment(OWNER, ctx.repo, ctx.pr, `${MARKER}\n${heading}\n\nan earlier plan of ours`)
    },
    steps: () => [
      {
        mode: 'plan',
        pullRequest: true,
        expect: (ctx) => {
          const problems: string[] = []
          const comments = github.commentsOf(OWNER, ctx.repo, ctx.pr)
          const theirs = comments.filter((c) => c.user.login === user.login)
          const ours = comments.filter((c) => c.user.login === 'github-actions[bot]')
          const requests = github.requests.filter((r) => r.path.includes(`/repos/${OWNER}/${ctx.repo}/`))
          for (const comment of theirs) {
            if (!comment.body.includes(`${CANARY}-${id}`))
              problems.push(`${user.login}'s comment ${comment.id} was edited`)
            if (requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/comments/${comment.id}`)))
              problems.push(`a PATCH was sent to ${user.login}'s comment ${comment.id}`)
          }
          if (ours.length !== 1) problems.push(`${ours.length} comments by the action's bot, expected exactly 1`)
          else if (!ours[0]?.body.startsWith(`${MARKER}\n`) || ours[0].body.includes('an earlier plan of ours'))
            problems.push("the bot's comment does not hold this run's plan")
          const posts = requests.filter((r) => r.method === 'POST').length
          if (oursToo && posts > 0) problems.push(`a new comment was created (${posts} POST) although ours existed`)
          if (!oursToo && posts !== 1) problems.push(`${posts} comments created, expected 1`)
          return problems
        }
      }
    ]
  })),

  // 3. Workflow-command injection.
  {
    id: '3a',
    name: "class 3: a test invocation's log tail and error message carrying workflow commands (::error, ::add-mask, ::stop-commands, ##[warning], ::set-output)",
    steps: (ctx) => [
      {
        mode: 'apply',
        rules: [
          {
            fault: 'function-error',
            functionName: ctx.fn,
            errorMessage: lines('Cannot start', `::error::${CANARY}-3a-payload`, `##[error]${CANARY}-3a-payload`),
            logTail: lines(
              'START RequestId: 3a Version: $LATEST',
              ...commandCanaries('3a'),
              ...markupCanaries('3a'),
              `::${CANARY}-3a-stop::`,
              'END RequestId: 3a',
              ''
            )
          }
        ],
        expect: all(statusIs('rolled-back'), ownAnnotations)
      }
    ]
  },
  {
    id: '3b',
    name: 'class 3: an otlp-endpoint with a newline and a command after it is an input error, and the command is not run',
    steps: () => [
      {
        mode: 'apply',
        // The URL parser drops newlines, so without a check the value passes as a URL with a longer path.
        inputs: {
          'otlp-endpoint': lines(
            'https://clickstack.example.com:4318/v1',
            `::error::${CANARY}-3b-injected`,
            `##[warning]${CANARY}-3b`
          )
        },
        expect: refusedInput('otlp-endpoint')
      }
    ]
  },
  {
    id: '3c',
    name: "class 3: a failed update's reason (LastUpdateStatusReason) carrying workflow commands",
    steps: (ctx) => [
      {
        mode: 'apply',
        rules: [
          {
            fault: 'update-failed',
            functionName: ctx.fn,
            nth: 1,
            reason: lines('Extension failed to start.', ...commandCanaries('3c'))
          }
        ],
        expect: all(statusIs('rolled-back'), ownAnnotations)
      }
    ]
  },
  {
    id: '3d',
    name: 'class 3: an AWS error message carrying workflow commands, in check mode',
    steps: (ctx) => [
      {
        mode: 'check',
        rules: [
          {
            operation: 'GetFunction',
            functionName: ctx.fn,
            fault: 'invalid-parameter',
            message: lines('The function configuration could not be read.', ...commandCanaries('3d'))
          }
        ],
        expect: all(statusIs('failed'), ownAnnotations)
      }
    ]
  },

  // 4. Markdown/HTML injection.
  {
    id: '4a',
    name: "class 4: a pull request's file names with a link, an image, <img>, <details>, a heading, @mention and #1",
    setup: (ctx) => {
      const put = (path: string[]): void => {
        mkdirSync(join(ctx.workspace, ...path.slice(0, -1)), { recursive: true })
        writeFileSync(join(ctx.workspace, ...path), tfPinning(2))
      }
      put([`[click ${CANARY}-4a](https:`, 'evil.example)', 'main.tf'])
      put([`![x ${CANARY}-4a](evil.example).tf`])
      put([`<img src=x onerror=alert(${CANARY}-4a)>.tf`])
      put([`<details><summary>${CANARY}-4a.tf`])
      put([`@octocat #1 ${CANARY}-4a.tf`])
      put([`x\n# ✅ reviewed ${CANARY}-4a\n::error::${CANARY}-4a\n.tf`])
    },
    steps: () => [
      {
        mode: 'plan',
        pullRequest: true,
        inputs: { 'annotate-files': '' },
        expect: summaryHas('pinned behind the latest', 'note of the pinned files')
      }
    ]
  },
  {
    id: '4b',
    name: 'class 4: a layer description with a link, an image, <img>, <details>, a heading, @mention and #1',
    setup: async () => {
      const [link, image, img, details, mention, reference, heading] = markupCanaries('4b')
      await publishMirroredLayer(endpoint, {
        region: 'us-east-1',
        name: 'hostile-4b-amd64',
        versions: 2,
        architectures: ['x86_64'],
        descriptionFor: () => `${link} ${image} ${img} ${details} ${mention} ${reference}\n${heading}`
      })
    },
    steps: () => [
      {
        mode: 'plan',
        pullRequest: true,
        inputs: { 'layer-name': 'hostile-4b-{arch}' },
        expect: summaryHas('### Layer', 'layer table')
      }
    ]
  },
  {
    id: '4c',
    name: 'class 4: an execution role named @octocat (IAM allows @), in the plan of cloudwatch-logs: off',
    role: '@octocat',
    steps: () => [
      {
        mode: 'plan',
        pullRequest: true,
        inputs: { 'cloudwatch-logs': 'off' },
        expect: summaryHas('### Execution roles', 'execution-role table')
      }
    ]
  },
  {
    id: '4d',
    name: "class 4: a failed update's reason with a link, an image, <img>, <details>, a heading, @mention and #1",
    steps: (ctx) => [
      {
        mode: 'apply',
        rules: [
          {
            fault: 'update-failed',
            functionName: ctx.fn,
            nth: 1,
            immediate: true,
            reason: lines('Extension failed:', ...markupCanaries('4d'))
          }
        ],
        expect: all(statusIs('rolled-back'), summaryHas('### Errors', 'errors section'))
      }
    ]
  },

  // 5. Redaction misses derived forms.
  {
    id: '5a',
    name: 'class 5: an ingestion key with " and \\ that an AWS error quotes JSON-escaped',
    steps: (ctx) => [
      {
        mode: 'apply',
        inputs: { 'otlp-headers': 'Authorization=Bearer ck_5a"Qu0te\\Back-Secret' },
        rules: [{ fault: 'environment-too-large', functionName: ctx.fn }],
        expect: statusIs('failed', 'rolled-back')
      }
    ],
    secrets: () => [{ label: 'the ingestion key with a quote and a backslash', value: 'ck_5a"Qu0te\\Back-Secret' }]
  },
  {
    id: '5b',
    name: "class 5: ClickHouse credentials, when an answer from clickhouse-url quotes the request's Basic auth",
    steps: () => [
      {
        mode: 'apply',
        inputs: {
          'verify-delivery': 'warn',
          'clickhouse-url': echoUrl,
          'clickhouse-user': 'verifier5b',
          'clickhouse-password': 'ChPa55-5b-Secret'
        },
        expect: echoRead
      }
    ],
    secrets: () => [
      { label: 'clickhouse-password', value: 'ChPa55-5b-Secret' },
      basicAuthSecret('the ClickHouse credentials', 'verifier5b', 'ChPa55-5b-Secret')
    ]
  },
  {
    id: '5c',
    name: 'class 5: hyperdx-url with user:password@ is refused unshown; without it, the summary links of the delivery check carry no credential',
    steps: () => [
      {
        mode: 'apply',
        inputs: {
          'verify-delivery': 'warn',
          'verify-delivery-timeout': '5',
          'clickhouse-url': clickhouse.url,
          'clickhouse-user': 'verifier',
          'clickhouse-password': 'ChPa55-5c-Secret',
          'hyperdx-url': 'https://hdx-admin:HdxPa55-5c-Secret@hyperdx.example.com'
        },
        // A link is shown to every reader of the summary: credentials in it are refused, not hidden.
        expect: refusedInput('hyperdx-url')
      },
      {
        mode: 'apply',
        inputs: {
          'verify-delivery': 'warn',
          'verify-delivery-timeout': '5',
          'clickhouse-url': clickhouse.url,
          'clickhouse-user': 'verifier',
          'clickhouse-password': 'ChPa55-5c-Secret',
          'hyperdx-url': 'https://hyperdx.example.com'
        },
        expect: summaryHas('### Delivery to ClickStack', 'delivery table')
      }
    ],
    secrets: () => [
      { label: 'the password in hyperdx-url', value: 'HdxPa55-5c-Secret' },
      basicAuthSecret('hyperdx-url', 'hdx-admin', 'HdxPa55-5c-Secret'),
      { label: 'clickhouse-password', value: 'ChPa55-5c-Secret' },
      basicAuthSecret('the ClickHouse credentials', 'verifier', 'ChPa55-5c-Secret')
    ]
  },
  {
    id: '5d',
    name: "class 5: an AWS error that echoes the function's environment (Lambda's 4 KB error quotes every variable)",
    steps: (ctx) => [
      {
        mode: 'apply',
        rules: [{ fault: 'environment-too-large', functionName: ctx.fn }],
        expect: (c, run) => {
          const problems = statusIs('failed', 'rolled-back')(c, run)
          if (!run.calls.some((call) => call.fault === 'environment-too-large')) problems.push('the fault never fired')
          return problems
        }
      }
    ]
  },
  {
    id: '5e',
    name: 'class 5: clickhouse-url with user:password@ and ?password=, when its answer quotes the request',
    steps: () => [
      {
        mode: 'apply',
        inputs: {
          'verify-delivery': 'warn',
          'clickhouse-url':
            echoUrl.replace('http://', 'http://verifier5e:ChUrlPa55-5e-Secret@') + '?password=ChQueryPa55-5e-Secret'
        },
        expect: echoRead
      }
    ],
    secrets: () => [
      { label: 'the password in clickhouse-url', value: 'ChUrlPa55-5e-Secret' },
      { label: 'the ?password= of clickhouse-url', value: 'ChQueryPa55-5e-Secret' },
      basicAuthSecret('the clickhouse-url credentials', 'verifier5e', 'ChUrlPa55-5e-Secret')
    ]
  },

  // 6. Unbounded work from pull-request files.
  {
    id: '6a',
    name: 'class 6: a .tf with 300 Rotel ARNs naming 300 accounts and made-up regions: few layer lookups, none outside the layer account',
    setup: (ctx) => {
      const text = Array.from({ length: 300 }, (_, i) => {
        const region = i % 3 === 0 ? 'us-east-1' : `zz-${fakeRegionWord(i)}-${(i % 9) + 1}`
        return `  layer_${i} = "${rotelArn((i % 5) + 1, region, String(200000000000 + i))}"`
      })
      writeFileSync(join(ctx.workspace, 'layers.tf'), `locals {\n${text.join('\n')}\n}\n`)
    },
    steps: () => [
      {
        mode: 'plan',
        pullRequest: true,
        inputs: { 'annotate-files': '' },
        deadlineMs: 90_000,
        expect: (_ctx, run) => {
          const lookups = run.calls.filter((c) => c.layerName !== null || /Layer/.test(c.operation))
          const foreign = lookups.filter((c) => {
            const account = /:(\d{12}):layer:/.exec(decodeURIComponent(c.path))?.[1]
            return (account !== undefined && account !== ACCOUNT) || (c.region ?? '').startsWith('zz-')
          })
          const problems: string[] = []
          if (lookups.length > 40) problems.push(`${lookups.length} layer lookups (at most 40 expected)`)
          if (foreign.length > 0)
            problems.push(
              `${foreign.length} layer lookups outside the layer account ${ACCOUNT} or in made-up regions, ` +
                `e.g. ${foreign[0]?.region} ${decodeURIComponent(foreign[0]?.path ?? '')}`
            )
          return problems
        }
      }
    ]
  },
  {
    id: '6b',
    name: `class 6: annotate-files *a*a*a*a*a*a*a*b against a 200-character file name finishes within ${BOUNDED_MS / 1000} s`,
    setup: (ctx) => {
      writeFileSync(join(ctx.workspace, 'a'.repeat(200)), tfPinning(2))
      writeFileSync(join(ctx.workspace, `${'a'.repeat(60)}.tf`), tfPinning(2))
    },
    steps: () => [
      {
        mode: 'plan',
        pullRequest: true,
        inputs: { 'annotate-files': '**/*a*a*a*a*a*a*a*b\n*a*a*a*a*a*a*a*b' },
        deadlineMs: 60_000,
        expect: withinBound
      }
    ]
  },
  {
    id: '6c',
    name: `class 6: annotate-files with 18 brace groups finishes within ${BOUNDED_MS / 1000} s`,
    setup: (ctx) => {
      writeFileSync(join(ctx.workspace, `${'ab'.repeat(9)}.tf`), tfPinning(2))
    },
    steps: () => [
      {
        mode: 'plan',
        pullRequest: true,
        inputs: { 'annotate-files': `**/${'{a,b}'.repeat(18)}.tf` },
        deadlineMs: 60_000,
        expect: withinBound
      }
    ]
  },

  // 7. Input validation gaps.
  {
    id: '7a',
    name: 'class 7: environment "API_KEY c2st…" without = is refused without echoing the key',
    steps: () => [
      { mode: 'apply', inputs: { environment: 'API_KEY c2stN0Equals-7a-Secret' }, expect: refusedInput('environment') }
    ],
    secrets: () => [{ label: 'the value pasted without =', value: 'c2stN0Equals-7a-Secret' }]
  },
  {
    id: '7b',
    name: 'class 7: a test-payload that is not JSON is refused without echoing the payload',
    // A JSON error quotes the text around the fault: a part of the payload is as bad as all of it.
    steps: () => [
      {
        mode: 'apply',
        inputs: { 'test-payload': '{"token": PayL0ad-7b-Secret}' },
        expect: refusedInput('test-payload')
      }
    ],
    secrets: () => secretParts('the test-payload', 'PayL0ad-7b-Secret')
  },
  {
    id: '7c',
    name: 'class 7: an otlp-endpoint that is not a URL, with ?api_key=…, is refused without echoing the key',
    steps: () => [
      {
        mode: 'apply',
        inputs: { 'otlp-endpoint': 'https://clickstack example.com:4318/?api_key=QueryK3y-7c-Secret' },
        expect: refusedInput('otlp-endpoint')
      }
    ],
    secrets: () => [{ label: 'the api_key in otlp-endpoint', value: 'QueryK3y-7c-Secret' }]
  },
  {
    id: '7d',
    name: 'class 7: a hyperdx-url that is not a URL, with user:password@, is refused without echoing the password',
    steps: () => [
      {
        mode: 'apply',
        inputs: {
          'verify-delivery': 'warn',
          'clickhouse-url': 'http://127.0.0.1:9/',
          'hyperdx-url': 'https://hdx:HdxPa55-7d-Secret@hyperdx example.com/)[x](https://evil.example'
        },
        expect: refusedInput('hyperdx-url')
      }
    ],
    secrets: () => [{ label: 'the password in hyperdx-url', value: 'HdxPa55-7d-Secret' }]
  },

  // 8. A user's variable is lost.
  {
    id: '8a',
    name: "class 8: the function's LOG_LEVEL=info, apply with environment LOG_LEVEL=debug, then remove: LOG_LEVEL=info again",
    variables: { LOG_LEVEL: 'info' },
    steps: () => [
      { mode: 'apply', inputs: { environment: 'LOG_LEVEL=debug' }, expect: userVariable('LOG_LEVEL', 'debug') },
      { mode: 'remove', inputs: { environment: 'LOG_LEVEL=debug' }, expect: restored }
    ]
  },
  {
    id: '8b',
    name: "class 8: the function's own DB_PASSWORD, apply with environment DB_PASSWORD=…, then remove: its own value again, never shown",
    steps: () => [
      {
        mode: 'apply',
        inputs: { environment: 'DB_PASSWORD=NewPass-8b-Secret' },
        expect: userVariable('DB_PASSWORD', 'NewPass-8b-Secret')
      },
      { mode: 'remove', inputs: { environment: 'DB_PASSWORD=NewPass-8b-Secret' }, expect: restored }
    ],
    secrets: () => [{ label: 'the environment input DB_PASSWORD', value: 'NewPass-8b-Secret' }]
  },
  {
    id: '8c',
    name: 'class 8: LOG_LEVEL=info, apply LOG_LEVEL=debug, apply LOG_LEVEL=trace, then remove: LOG_LEVEL=info again',
    variables: { LOG_LEVEL: 'info' },
    steps: () => [
      { mode: 'apply', inputs: { environment: 'LOG_LEVEL=debug' }, expect: userVariable('LOG_LEVEL', 'debug') },
      { mode: 'apply', inputs: { environment: 'LOG_LEVEL=trace' }, expect: userVariable('LOG_LEVEL', 'trace') },
      { mode: 'remove', inputs: { environment: 'LOG_LEVEL=trace' }, expect: restored }
    ]
  }
]

function fakeRegionWord(i: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz'
  return `hostile${letters[i % 26]}${letters[Math.floor(i / 26) % 26]}`
}

function withinBound(_ctx: Ctx, run: StepRun): string[] {
  if (run.killed) return []
  return run.ms <= BOUNDED_MS ? [] : [`took ${(run.ms / 1000).toFixed(1)} s (bound ${BOUNDED_MS / 1000} s)`]
}

/**
 * A variable the user owns and `environment` sets: either refused (an error naming it, nothing written) or
 * written with its previous value recorded; which one, remove's read-back decides.
 */
function userVariable(name: string, value: string) {
  return async (ctx: Ctx, run: StepRun): Promise<string[]> => {
    const now = await variablesOf(ctx.fn)
    if (run.run.exitCode !== 0) {
      const named = commandsRun(run.run.stdout).some((line) => line.command === 'error' && line.text.includes(name))
      const problems = named ? [] : [`apply failed (exit ${run.run.exitCode}) without an error naming ${name}`]
      if (now[name] !== ctx.variables[name]) problems.push(`apply was refused, yet ${name} changed`)
      return problems
    }
    return now[name] === value
      ? []
      : [`after apply ${name} is ${now[name] === undefined ? 'gone' : 'not the value set'}`]
  }
}

/** After remove the function holds exactly its own variables again, each with its own value. */
async function restored(ctx: Ctx, run: StepRun): Promise<string[]> {
  const now = await variablesOf(ctx.fn)
  const problems: string[] = []
  if (run.run.exitCode !== 0) problems.push(`remove exited ${run.run.exitCode}`)
  for (const [name, value] of Object.entries(ctx.variables))
    if (now[name] !== value)
      problems.push(`after remove ${name} is ${now[name] === undefined ? 'gone' : 'not its own value'}`)
  const extra = Object.keys(now).filter((name) => !(name in ctx.variables))
  if (extra.length > 0) problems.push(`after remove the function still has ${extra.join(', ')}`)
  return problems
}

// ---------------------------------------------------------------------------------------------
// Running a case

const ownVariables = (id: string, extra: Record<string, string> = {}): Record<string, string> => ({
  DB_PASSWORD: `FnOwn-DbPass-${id}-Secret`,
  FEATURE_TIER: `FnOwn-Tier-${id}-Distinct`,
  ...extra
})

/** Secrets of every case: the inputs' and the function's own current values, whatever their names. */
const baseSecrets = (ctx: Ctx): Secret[] => [
  { label: 'the ingestion key (otlp-headers)', value: INGESTION_KEY },
  { label: 'github-token', value: GITHUB_TOKEN },
  ...Object.entries(ctx.variables).map(([name, value]) => ({ label: `the function's current ${name} value`, value }))
]

function baseInputs(ctx: Ctx): Record<string, string> {
  return {
    functions: ctx.fn,
    'aws-region': 'us-east-1',
    'layer-account': ACCOUNT,
    'otlp-endpoint': 'https://clickstack.example.com:4317',
    'otlp-headers': `Authorization=${INGESTION_KEY}`,
    'cloudwatch-check-seconds': '0',
    // The endpoint is a placeholder; telemetry.test.ts proves the preflight.
    preflight: 'false',
    'annotate-files': 'false',
    'github-token': GITHUB_TOKEN,
    'fail-on-drift': 'false'
  }
}

async function runStep(ctx: Ctx, step: Step, label: string): Promise<StepRun> {
  const dir = mkdtempSync(join(tmpdir(), `rotel-hostile-${ctx.id}-`))
  const file = (name: string, text = ''): string => {
    writeFileSync(join(dir, name), text)
    return join(dir, name)
  }
  const files = { GITHUB_OUTPUT: file('output'), GITHUB_ENV: file('env'), GITHUB_STATE: file('state') }
  const event = file('event.json', JSON.stringify(step.pullRequest ? { pull_request: { number: ctx.pr } } : {}))
  ctx.proxy.setRules(step.rules ?? [])
  ctx.proxy.reset()
  const path = `/repos/${OWNER}/${ctx.repo}/`
  const before = github.requests.filter((r) => r.path.includes(path)).length
  let killed = false
  let timer: NodeJS.Timeout | undefined
  const started = Date.now()
  const run = await runAction({
    endpoint: ctx.proxy.url,
    inputs: { ...baseInputs(ctx), mode: step.mode, ...step.inputs },
    env: {
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      ...files,
      GITHUB_EVENT_NAME: step.pullRequest ? 'pull_request' : 'push',
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: `${OWNER}/${ctx.repo}`,
      GITHUB_API_URL: apiUrl,
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_RUN_ID: '4242',
      GITHUB_WORKFLOW: 'lambda',
      GITHUB_JOB: 'plan',
      GITHUB_WORKSPACE: ctx.workspace
    },
    onSpawn: (pid) => {
      timer = setTimeout(() => {
        killed = true
        process.kill(pid, 'SIGKILL')
      }, step.deadlineMs ?? 180_000)
    }
  })
  clearTimeout(timer)
  const ms = Date.now() - started
  const sent = github.requests
    .filter((r) => r.path.includes(path))
    .slice(before)
    .filter((r) => r.method === 'POST' || r.method === 'PATCH')
    .map((r) =>
      typeof r.body === 'object' && r.body !== null && 'body' in r.body ? String(r.body.body) : JSON.stringify(r.body)
    )
  const outputsText = readFileSync(files.GITHUB_OUTPUT, 'utf8')
  const channels: Channels = {
    stdout: run.stdout,
    stderr: run.stderr,
    summary: run.summary,
    outputs: outputsText,
    env: readFileSync(files.GITHUB_ENV, 'utf8'),
    state: readFileSync(files.GITHUB_STATE, 'utf8'),
    comments: sent
  }
  return { step, label, run, channels, calls: [...ctx.proxy.calls], ms, killed, outputs: parseOutputFile(outputsText) }
}

const contexts = new Map<string, Ctx>()

async function prepare(spec: HostileCase, index: number): Promise<Ctx> {
  const ctx: Ctx = {
    id: spec.id,
    fn: `hostile-${spec.id}`,
    repo: `repo-${spec.id}`,
    pr: 100 + index,
    workspace: mkdtempSync(join(tmpdir(), `rotel-hostile-ws-${spec.id}-`)),
    variables: ownVariables(spec.id, spec.variables),
    proxy: await startFaultProxy({ target: endpoint })
  }
  await createSampleFunction(endpoint, {
    region: 'us-east-1',
    name: ctx.fn,
    architecture: spec.architecture ?? 'x86_64',
    variables: { ...ctx.variables },
    ...(spec.role ? { role: spec.role } : {})
  })
  await spec.setup?.(ctx)
  return ctx
}

async function runCase(spec: HostileCase, ctx: Ctx): Promise<Outcome> {
  const secrets = [...baseSecrets(ctx), ...(spec.secrets?.(ctx) ?? [])]
  const runs: StepRun[] = []
  const problems: string[] = []
  for (const [i, step] of spec.steps(ctx).entries()) {
    const label = `run ${i + 1} (${step.mode}${step.pullRequest ? ' on a pull request' : ''})`
    const done = await runStep(ctx, step, label)
    runs.push(done)
    const say = (finding: string): void => {
      problems.push(`${label}: ${finding}`)
    }
    if (done.killed) say(`killed after ${(step.deadlineMs ?? 180_000) / 1000} s`)
    findSecrets(done.channels, secrets).forEach(say)
    findCommands(done.channels).forEach(say)
    findMarkup(done.channels).forEach(say)
    findForeignOutputs(done.channels.outputs, DECLARED_OUTPUTS).forEach(say)
    if (step.expect) (await step.expect(ctx, done)).forEach(say)
  }
  return { runs, problems }
}

/** HOSTILE_CASES=1a,3c runs only those cases (the others are skipped), e.g. while fixing one class. */
const ONLY = process.env.HOSTILE_CASES?.split(',').map((id) => id.trim())
const SELECTED = CASES.filter((spec) => !ONLY || ONLY.includes(spec.id))

/** Runs every selected case, AT_ONCE at a time; the tests then judge the outcomes. */
async function runAll(): Promise<void> {
  const started = Date.now()
  // Setups publish layers, which switches moto's Lambda store: none may overlap a run.
  for (const spec of SELECTED) contexts.set(spec.id, await prepare(spec, CASES.indexOf(spec)))
  const prepared = Date.now()
  const queue = [...SELECTED]
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      for (let spec = queue.shift(); spec; spec = queue.shift()) {
        const caseStarted = Date.now()
        outcomes.set(spec.id, await runCase(spec, contexts.get(spec.id) as Ctx))
        timings.push(`  ${spec.id}: ${((Date.now() - caseStarted) / 1000).toFixed(1)} s`)
      }
    })
  )
  timings.unshift(
    `hostile-input suite: ${SELECTED.length} cases, set up in ${((prepared - started) / 1000).toFixed(1)} s, ` +
      `run ${AT_ONCE} at a time in ${((Date.now() - prepared) / 1000).toFixed(1)} s`
  )
}

function problemsOf(id: string): string[] {
  const outcome = outcomes.get(id)
  if (!outcome) throw new Error(`case ${id} has no outcome: did beforeAll run?`)
  return outcome.problems
}

async function startEcho(): Promise<string> {
  // A server in ClickHouse's place that quotes the request it got, as a misconfigured proxy's error page does.
  echoServer = createServer((req, res) => {
    res.writeHead(401, { 'content-type': 'text/plain' })
    res.end(
      `Unauthorized: authorization=${req.headers.authorization ?? ''} ` +
        `x-clickhouse-key=${String(req.headers['x-clickhouse-key'] ?? '')} url=${req.url ?? ''}`
    )
  })
  await new Promise<void>((done) => echoServer?.listen(0, '127.0.0.1', done))
  return `http://127.0.0.1:${(echoServer.address() as AddressInfo).port}/`
}

beforeAll(async () => {
  port = await freePort()
  endpoint = startEmulator(port)
  await resetEmulator(endpoint)
  await seedSampleFleet(endpoint)
  await ensureLambdaRole(endpoint)
  apiUrl = await github.start()
  echoUrl = await startEcho()
  await clickhouse.start()
  await runAll()
}, 900_000)

afterAll(async () => {
  for (const ctx of contexts.values()) await ctx.proxy.close()
  await github.stop()
  await clickhouse.stop()
  echoServer?.closeAllConnections()
  await new Promise((done) => echoServer?.close(done))
  stopEmulator(port)
  if (timings.length > 0) console.log(timings.join('\n'))
})

for (const group of [0, 1, 2, 3, 4, 5, 6, 7, 8]) {
  describe(group === 0 ? 'control' : `class ${group}`, () => {
    for (const spec of CASES.filter((c) => c.id.startsWith(String(group)))) {
      const test = SELECTED.includes(spec) ? it : it.skip
      test(spec.name, () => {
        expect(problemsOf(spec.id)).toEqual([])
      })
    }
  })
}
