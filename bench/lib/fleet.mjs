// The benchmark's fleet in the emulator: mirrored Rotel layers (and the peer's Datadog layers) in
// moto's account, and N plain functions that can be put back to their bare state between runs.
import { GetFunctionConfigurationCommand, UntagResourceCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda'
import {
  ACCOUNT_ID,
  createSampleFunction,
  ensureLambdaRole,
  lambdaClient,
  publishMirroredLayer
} from '../../scripts/emulator-fixtures.mjs'

export const REGION = 'us-east-1'
export { ACCOUNT_ID }

/** Runs `task` over `items`, `limit` at a time. */
export async function mapLimit(items, limit, task) {
  const results = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index], index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** The variables each function has of its own (kept by the action, restored between runs). */
export function ownVariables(name) {
  return { LOG_LEVEL: 'info', SERVICE_NAME: name }
}

/**
 * Publishes the layers the runs need: the Rotel alpha layers (amd64, arm64) with `rotelVersions`
 * versions each, and Datadog-Extension / Datadog-Extension-ARM with `datadogVersions` each.
 */
export async function publishLayers(endpoint, { rotelVersions, datadogVersions = 2, peer = true }) {
  const layers = [
    ['rotel-extension-amd64-alpha', ['x86_64'], rotelVersions],
    ['rotel-extension-arm64-alpha', ['arm64'], rotelVersions],
    ...(peer
      ? [
          ['Datadog-Extension', ['x86_64'], datadogVersions],
          ['Datadog-Extension-ARM', ['arm64'], datadogVersions]
        ]
      : [])
  ]
  for (const [name, architectures, versions] of layers)
    await publishMirroredLayer(endpoint, { region: REGION, name, versions, architectures })
}

/** Creates `count` functions bench-fn-000…: nodejs20.x, every other one arm64, two variables of their own. */
export async function createFleet(endpoint, count) {
  await ensureLambdaRole(endpoint)
  const names = Array.from({ length: count }, (_, i) => `bench-fn-${String(i).padStart(3, '0')}`)
  await mapLimit(names, 6, (name, i) =>
    createSampleFunction(endpoint, {
      region: REGION,
      name,
      architecture: i % 2 === 0 ? 'x86_64' : 'arm64',
      runtime: 'nodejs20.x',
      variables: ownVariables(name)
    })
  )
  return names
}

/** Puts every function back to its bare state (no layers, its own variables), directly in moto. */
export async function resetFleet(endpoint, names) {
  const client = lambdaClient(endpoint, REGION)
  try {
    await mapLimit(names, 8, (name) =>
      client.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: name,
          Handler: 'index.handler',
          Layers: [],
          Environment: { Variables: ownVariables(name) }
        })
      )
    )
  } finally {
    client.destroy()
  }
}

/** Takes tags off every function (the peer tags what it instruments and skips tagging when the tag is there). */
export async function untagFleet(endpoint, names, tagKeys) {
  const client = lambdaClient(endpoint, REGION)
  try {
    await mapLimit(names, 8, (name) =>
      client.send(new UntagResourceCommand({ Resource: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`, TagKeys: tagKeys }))
    )
  } finally {
    client.destroy()
  }
}

/** How many of `names` carry a layer whose name contains `fragment` (read directly from moto). */
export async function countWithLayer(endpoint, names, fragment) {
  const client = lambdaClient(endpoint, REGION)
  try {
    const has = await mapLimit(names, 8, async (name) => {
      const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
      return (config.Layers ?? []).some((layer) => (layer.Arn ?? '').includes(fragment))
    })
    return has.filter(Boolean).length
  } finally {
    client.destroy()
  }
}
