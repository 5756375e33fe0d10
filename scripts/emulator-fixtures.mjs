// Fixtures for the local AWS emulator (moto server, started by scripts/emulator.sh): the tests, CI
// and the demo build their AWS state with these. Types: scripts/emulator-fixtures.d.mts.
//
// As a command:  AWS_ENDPOINT_URL=http://127.0.0.1:5055 node scripts/emulator-fixtures.mjs seed|reset
//
// moto's Lambda keeps two stores, selected by the global `use_docker` switch (POST /moto-api/config).
// The emulator runs with use_docker=false (Invoke without Docker, "simple" store). In that mode
// CreateFunction/UpdateFunctionConfiguration look a function's layers up in the *regular* store while
// GetLayerVersion/ListLayerVersions answer from the *simple* one, so a layer that functions use must be
// published in both (publishMirroredLayer). The switch is global: do not run these fixtures
// concurrently with other Lambda calls against the same emulator.
import { createHash, createHmac } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  CreateFunctionCommand,
  DeleteLayerVersionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishLayerVersionCommand
} from '@aws-sdk/client-lambda'
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand
} from '@aws-sdk/client-cloudwatch-logs'

/** moto's default account: every fixture lives there. */
export const ACCOUNT_ID = '123456789012'
/** Dummy credentials moto accepts (the SDK annotates credential objects: pass a copy, not this). */
export const CREDENTIALS = Object.freeze({ accessKeyId: 'testing', secretAccessKey: 'testing' })
/** Name of the execution role createSampleFunction uses (and creates when missing). */
export const LAMBDA_ROLE_NAME = 'lambda-exec'
/** ARN of that role. */
export const LAMBDA_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/${LAMBDA_ROLE_NAME}`

const BASIC_EXECUTION_POLICY_ARN = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'

/** A Lambda client for the emulator at `endpoint` in `region`, with dummy credentials. */
export function lambdaClient(endpoint, region) {
  return new LambdaClient({ endpoint, region, credentials: { ...CREDENTIALS } })
}

/** A CloudWatch Logs client for the emulator at `endpoint` in `region`, with dummy credentials. */
export function logsClient(endpoint, region) {
  return new CloudWatchLogsClient({ endpoint, region, credentials: { ...CREDENTIALS } })
}

async function motoApi(endpoint, path, body) {
  const res = await fetch(new URL(path, endpoint), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  if (!res.ok) {
    throw new Error(`POST ${path} on the emulator failed: HTTP ${res.status} ${await res.text()}`)
  }
}

/** Switches moto's Lambda between its Docker ("regular") and non-Docker ("simple") store. */
export async function setLambdaUseDocker(endpoint, useDocker) {
  await motoApi(endpoint, '/moto-api/config', { lambda: { use_docker: useDocker } })
}

/** Clears all emulator state (POST /moto-api/reset) and re-asserts Lambda's use_docker=false. */
export async function resetEmulator(endpoint) {
  await motoApi(endpoint, '/moto-api/reset')
  await setLambdaUseDocker(endpoint, false)
}

// ---------------------------------------------------------------------------------------------
// A zip built in code: stored (uncompressed) entries, enough for Lambda's code and layer content.

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(buf) {
  let c = 0xffffffff
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** A valid zip archive holding `files` (path → text), stored without compression. */
export function makeZip(files) {
  const locals = []
  const centrals = []
  let offset = 0
  for (const [name, text] of Object.entries(files)) {
    const nameBuf = Buffer.from(name, 'utf8')
    const data = Buffer.from(text, 'utf8')
    const crc = crc32(data)
    // Fixed date 1980-01-01 00:00: the bytes (and so CodeSha256) stay the same between runs.
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4) // version needed
    local.writeUInt16LE(0x0800, 6) // UTF-8 names
    local.writeUInt16LE(0, 8) // stored
    local.writeUInt16LE(0, 10) // time
    local.writeUInt16LE(0x21, 12) // date
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(nameBuf.length, 26)
    local.writeUInt16LE(0, 28)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(0x031e, 4) // made by: Unix, 3.0
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(0, 10)
    central.writeUInt16LE(0, 12)
    central.writeUInt16LE(0x21, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(data.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(nameBuf.length, 28)
    central.writeUInt32LE((0o100755 << 16) >>> 0, 38) // external attributes: -rwxr-xr-x
    central.writeUInt32LE(offset, 42)
    locals.push(local, nameBuf, data)
    centrals.push(central, nameBuf)
    offset += local.length + nameBuf.length + data.length
  }
  const centralDir = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(centrals.length / 2, 8)
  end.writeUInt16LE(centrals.length / 2, 10)
  end.writeUInt32LE(centralDir.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, centralDir, end])
}

const LAYER_ZIP = makeZip({ 'extensions/rotel': '#!/bin/sh\n# stand-in for the Rotel extension\n' })

function functionZip(runtime) {
  if (runtime?.startsWith('python')) {
    return makeZip({ 'index.py': 'def handler(event, context):\n    return event\n' })
  }
  return makeZip({ 'index.mjs': 'export const handler = async (event) => event\n' })
}

// ---------------------------------------------------------------------------------------------
// Layers

async function publishVersions(client, name, count, architectures, descriptionFor) {
  const arns = {}
  for (let v = 1; v <= count; v++) {
    const out = await client.send(
      new PublishLayerVersionCommand({
        LayerName: name,
        Description: descriptionFor(v),
        Content: { ZipFile: LAYER_ZIP },
        CompatibleArchitectures: architectures,
        LicenseInfo: 'Apache-2.0'
      })
    )
    if (out.Version !== v || !out.LayerVersionArn) {
      throw new Error(
        `layer ${name}: publishing version ${v} gave version ${out.Version}; ` +
          'the layer existed already (call resetEmulator first)'
      )
    }
    arns[v] = out.LayerVersionArn
  }
  return arns
}

async function deleteVersions(client, name, versions) {
  for (const v of versions) {
    await client.send(new DeleteLayerVersionCommand({ LayerName: name, VersionNumber: v }))
  }
}

/**
 * Publishes versions 1..`versions` of a layer into both of moto's Lambda stores (then deletes
 * `deleted` in both), so that functions can use it and GetLayerVersion/ListLayerVersions see it.
 */
export async function publishMirroredLayer(endpoint, options) {
  const { region, name, versions, deleted = [], architectures, descriptionFor = (v) => `Tag=v${v}-alpha` } = options
  if (!Number.isInteger(versions) || versions < 1) throw new Error('versions must be a whole number ≥ 1')
  for (const v of deleted) {
    if (!Number.isInteger(v) || v < 1 || v > versions) throw new Error(`cannot delete version ${v} of 1..${versions}`)
  }
  const client = lambdaClient(endpoint, region)
  let arns
  try {
    // Regular store first: CreateFunction/UpdateFunctionConfiguration check layers there.
    await setLambdaUseDocker(endpoint, true)
    const regular = await publishVersions(client, name, versions, architectures, descriptionFor)
    await deleteVersions(client, name, deleted)
    await setLambdaUseDocker(endpoint, false)
    arns = await publishVersions(client, name, versions, architectures, descriptionFor)
    await deleteVersions(client, name, deleted)
    for (let v = 1; v <= versions; v++) {
      if (regular[v] !== arns[v]) throw new Error(`layer ${name}: the two stores disagree on version ${v}`)
    }
  } finally {
    await setLambdaUseDocker(endpoint, false)
    client.destroy()
  }
  const liveVersions = []
  for (let v = 1; v <= versions; v++) if (!deleted.includes(v)) liveVersions.push(v)
  return {
    name,
    region,
    layerArn: `arn:aws:lambda:${region}:${ACCOUNT_ID}:layer:${name}`,
    arns,
    liveVersions,
    deletedVersions: [...deleted].sort((a, b) => a - b)
  }
}

// ---------------------------------------------------------------------------------------------
// IAM (no IAM client is installed: moto's IAM query API over fetch, signed with SigV4)

const sha256 = (data) => createHash('sha256').update(data).digest('hex')
const hmac = (key, data) => createHmac('sha256', key).update(data).digest()

/** Calls moto's IAM query API: `params` are the form fields (Action=… etc.); returns the XML text. */
export async function iamQuery(endpoint, params) {
  const url = new URL('/', endpoint)
  const body = new URLSearchParams({ Version: '2010-05-08', ...params }).toString()
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '')
  const day = amzDate.slice(0, 8)
  const scope = `${day}/us-east-1/iam/aws4_request`
  const contentType = 'application/x-www-form-urlencoded; charset=utf-8'
  const signedHeaders = 'content-type;host;x-amz-date'
  const canonical = [
    'POST',
    '/',
    '',
    `content-type:${contentType}\nhost:${url.host}\nx-amz-date:${amzDate}\n`,
    signedHeaders,
    sha256(body)
  ].join('\n')
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n')
  let key = hmac(`AWS4${CREDENTIALS.secretAccessKey}`, day)
  for (const part of ['us-east-1', 'iam', 'aws4_request']) key = hmac(key, part)
  const signature = createHmac('sha256', key).update(toSign).digest('hex')
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${CREDENTIALS.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`
    },
    body
  })
  const text = await res.text()
  if (!res.ok) {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${res.status}`
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200)
    const error = new Error(`IAM ${params.Action}: ${code}: ${message}`)
    error.name = code
    throw error
  }
  return text
}

const LAMBDA_TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]
})

/**
 * Creates the execution role (default `lambda-exec`, trusted by Lambda, with
 * AWSLambdaBasicExecutionRole attached) unless it exists; returns its ARN.
 */
export async function ensureLambdaRole(endpoint, roleName = LAMBDA_ROLE_NAME) {
  try {
    await iamQuery(endpoint, { Action: 'GetRole', RoleName: roleName })
  } catch (error) {
    if (error.name !== 'NoSuchEntity') throw error
    await iamQuery(endpoint, {
      Action: 'CreateRole',
      RoleName: roleName,
      AssumeRolePolicyDocument: LAMBDA_TRUST_POLICY
    })
    try {
      await iamQuery(endpoint, {
        Action: 'AttachRolePolicy',
        RoleName: roleName,
        PolicyArn: BASIC_EXECUTION_POLICY_ARN
      })
    } catch (attachError) {
      // Without MOTO_IAM_LOAD_MANAGED_POLICIES=true the managed policy does not exist; the role still works.
      if (attachError.name !== 'NoSuchEntity') throw attachError
    }
  }
  return `arn:aws:iam::${ACCOUNT_ID}:role/${roleName}`
}

// ---------------------------------------------------------------------------------------------
// Functions

/**
 * Creates a function (and its execution role when missing) with a tiny zip, or for
 * packageType 'Image' an image URI moto does not check; returns GetFunctionConfiguration's answer.
 */
export async function createSampleFunction(endpoint, options) {
  const {
    region,
    name,
    architecture,
    runtime = 'nodejs20.x',
    layers,
    variables,
    packageType = 'Zip',
    logGroup,
    role = LAMBDA_ROLE_NAME,
    description,
    imageUri
  } = options
  const roleArn = await ensureLambdaRole(endpoint, role)
  const client = lambdaClient(endpoint, region)
  try {
    const image = packageType === 'Image'
    await client.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: roleArn,
        PackageType: packageType,
        Architectures: [architecture],
        ...(image
          ? { Code: { ImageUri: imageUri ?? `${ACCOUNT_ID}.dkr.ecr.${region}.example/${name}:latest` } }
          : {
              Runtime: runtime,
              Handler: 'index.handler',
              Code: { ZipFile: functionZip(runtime) }
            }),
        ...(layers ? { Layers: layers } : {}),
        ...(variables ? { Environment: { Variables: variables } } : {}),
        ...(logGroup ? { LoggingConfig: { LogFormat: 'Text', LogGroup: logGroup } } : {}),
        ...(description !== undefined ? { Description: description } : {}),
        Timeout: 30,
        MemorySize: 256
      })
    )
    return await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
  } finally {
    client.destroy()
  }
}

// ---------------------------------------------------------------------------------------------
// Log groups

/** Creates a log group (if missing) with one stream holding `messages`, stamped `ageMs` ago. */
export async function createLogStream(endpoint, { region, logGroup, stream, messages, ageMs = 0 }) {
  const client = logsClient(endpoint, region)
  try {
    try {
      await client.send(new CreateLogGroupCommand({ logGroupName: logGroup }))
    } catch (error) {
      if (error.name !== 'ResourceAlreadyExistsException') throw error
    }
    await client.send(new CreateLogStreamCommand({ logGroupName: logGroup, logStreamName: stream }))
    const at = Date.now() - ageMs
    const out = await client.send(
      new PutLogEventsCommand({
        logGroupName: logGroup,
        logStreamName: stream,
        logEvents: messages.map((message, i) => ({ timestamp: at + i, message }))
      })
    )
    // As on AWS, events older than 14 days (or more than 2 hours ahead) are dropped, not refused.
    if (out.rejectedLogEventsInfo) {
      throw new Error(`${logGroup}/${stream}: events rejected: ${JSON.stringify(out.rejectedLogEventsInfo)}`)
    }
  } finally {
    client.destroy()
  }
}

/** `YYYY/MM/DD/[$LATEST]<32 hex>` for `time` (UTC), as Lambda names an execution environment's stream. */
function lambdaStyleStreamName(time, index) {
  const hex = createHash('sha256').update(`busy-${time}-${index}`).digest('hex').slice(0, 32)
  return `${new Date(time).toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${hex}`
}

/**
 * A busy log group: `streams` streams named as Lambda names them, `todayStreams` of them for today's date
 * (UTC) and the rest for earlier days, each with one recent event – the newest `minAgeMs` old, the others
 * one `stepMs` apart. With `minAgeMs` at least the fault proxy's `envelope.logTimestampLagMs`, their
 * lastEventTimestamp is visible, so DescribeLogStreams ordered by LastEventTime puts them all ahead of a
 * stream that an invocation creates now (whose lastEventTimestamp is still hidden). Returns the names,
 * newest event first.
 */
export async function createBusyLogGroup(
  endpoint,
  { region, logGroup, streams, todayStreams = 0, minAgeMs = 0, stepMs = 1000 }
) {
  if (minAgeMs + streams * stepMs > 13 * 24 * 3600 * 1000)
    throw new Error('createBusyLogGroup: the oldest event would be over 13 days old, and CloudWatch drops those')
  const now = Date.now()
  const names = []
  for (let index = 0; index < streams; index++) {
    const daysAgo = index < todayStreams ? 0 : 1 + ((index - todayStreams) % 7)
    const name = lambdaStyleStreamName(now - daysAgo * 24 * 3600 * 1000, index)
    await createLogStream(endpoint, {
      region,
      logGroup,
      stream: name,
      messages: [`busy stream ${index}\n`],
      ageMs: minAgeMs + index * stepMs
    })
    names.push(name)
  }
  return names
}

// ---------------------------------------------------------------------------------------------
// The sample fleet

/** Regions the sample fleet uses. */
export const SAMPLE_REGIONS = Object.freeze(['us-east-1', 'eu-west-1'])

/**
 * Seeds the demo's sample fleet (account 123456789012):
 * - Rotel layers mirrored as if published in this account: `rotel-extension-amd64-alpha`
 *   (CompatibleArchitectures x86_64) and `rotel-extension-arm64-alpha` (arm64) in us-east-1 and
 *   eu-west-1, versions 1..5, descriptions `Tag=vN-alpha`; version 4 of the amd64 layer in
 *   us-east-1 is deleted, to show that the latest-version lookup tolerates gaps.
 * - A user layer `shared-utils`, version 1, us-east-1.
 * - Functions:
 *   - `orders-api` (us-east-1, x86_64, nodejs20.x, LOG_LEVEL=info, DB_HOST=db.internal,
 *     layers [shared-utils:1, rotel-extension-amd64-alpha:2]): has an old Rotel layer and a user layer
 *     whose order must survive.
 *   - `billing-worker` (eu-west-1, arm64, python3.12, QUEUE_URL=…, no layers): never instrumented.
 *   - `legacy-job` (us-east-1, arm64, python3.12, layers [rotel-extension-amd64-alpha:3]): carries the
 *     Rotel layer of the wrong architecture.
 * - Log group `/aws/lambda/orders-api` (us-east-1) with one stream written three days ago.
 * Expects a freshly reset emulator.
 */
export async function seedSampleFleet(endpoint) {
  const layers = []
  for (const region of SAMPLE_REGIONS) {
    for (const [suffix, arch] of [
      ['amd64', 'x86_64'],
      ['arm64', 'arm64']
    ]) {
      layers.push(
        await publishMirroredLayer(endpoint, {
          region,
          name: `rotel-extension-${suffix}-alpha`,
          versions: 5,
          deleted: region === 'us-east-1' && suffix === 'amd64' ? [4] : [],
          architectures: [arch]
        })
      )
    }
  }
  const sharedUtils = await publishMirroredLayer(endpoint, {
    region: 'us-east-1',
    name: 'shared-utils',
    versions: 1,
    architectures: ['x86_64', 'arm64'],
    descriptionFor: () => 'Shared helpers of the orders team'
  })
  layers.push(sharedUtils)
  const layerArn = (region, name, version) => `arn:aws:lambda:${region}:${ACCOUNT_ID}:layer:${name}:${version}`

  const specs = [
    {
      region: 'us-east-1',
      name: 'orders-api',
      architecture: 'x86_64',
      runtime: 'nodejs20.x',
      variables: { LOG_LEVEL: 'info', DB_HOST: 'db.internal' },
      layers: [sharedUtils.arns[1], layerArn('us-east-1', 'rotel-extension-amd64-alpha', 2)]
    },
    {
      region: 'eu-west-1',
      name: 'billing-worker',
      architecture: 'arm64',
      runtime: 'python3.12',
      variables: { QUEUE_URL: `https://queue.internal/${ACCOUNT_ID}/billing-jobs` }
    },
    {
      region: 'us-east-1',
      name: 'legacy-job',
      architecture: 'arm64',
      runtime: 'python3.12',
      layers: [layerArn('us-east-1', 'rotel-extension-amd64-alpha', 3)]
    }
  ]
  const functions = []
  for (const spec of specs) {
    const config = await createSampleFunction(endpoint, spec)
    functions.push({ name: spec.name, region: spec.region, arn: config.FunctionArn })
  }

  await createLogStream(endpoint, {
    region: 'us-east-1',
    logGroup: '/aws/lambda/orders-api',
    stream: '2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    messages: ['START RequestId: 00000000-0000-0000-0000-000000000001 Version: $LATEST\n', 'orders-api: ok\n'],
    ageMs: 3 * 24 * 3600 * 1000
  })
  return { functions, layerAccount: ACCOUNT_ID, layers }
}

// ---------------------------------------------------------------------------------------------
// Command line

function isMain() {
  if (!process.argv[1]) return false
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

async function main(argv) {
  const [command] = argv
  const endpoint = process.env.AWS_ENDPOINT_URL ?? `http://127.0.0.1:${process.env.MOTO_PORT ?? '5055'}`
  switch (command) {
    case 'seed': {
      await resetEmulator(endpoint)
      const fleet = await seedSampleFleet(endpoint)
      console.log(`Seeded the sample fleet on ${endpoint} (account ${fleet.layerAccount}):`)
      for (const layer of fleet.layers) {
        const gaps = layer.deletedVersions.length ? ` (deleted: ${layer.deletedVersions.join(', ')})` : ''
        console.log(
          `  layer    ${layer.region.padEnd(10)} ${layer.name} versions ${layer.liveVersions.join(', ')}${gaps}`
        )
      }
      for (const fn of fleet.functions) console.log(`  function ${fn.region.padEnd(10)} ${fn.name}  ${fn.arn}`)
      console.log('  log group  us-east-1  /aws/lambda/orders-api (one stream, 3 days old)')
      return 0
    }
    case 'reset':
      await resetEmulator(endpoint)
      console.log(`Reset the emulator at ${endpoint}`)
      return 0
    default:
      console.error('usage: node scripts/emulator-fixtures.mjs seed|reset   (uses $AWS_ENDPOINT_URL)')
      console.error('  seed   reset the emulator, then create the sample fleet the demo uses')
      console.error('  reset  clear all emulator state')
      return 2
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error) => {
      console.error(`emulator-fixtures: ${error instanceof Error ? error.message : String(error)}`)
      process.exitCode = 1
    }
  )
}
