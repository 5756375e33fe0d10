/** Finding the Rotel layer versions a run attaches, by probing GetLayerVersion in the layer's account. */
import { GetLayerVersionCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import {
  findLatestVersion,
  layerArnFor,
  type LayerProbe,
  type LayerVersion,
  parseLayerVersionArn,
  tagFromDescription
} from '../core/layerVersions.js'
import { type RetryOptions, withRetry } from '../core/retry.js'
import { errorName, isTransient, messageOf } from '../core/errors.js'

/** How `lambdaLayerProbe` retries; every field has a default. */
export interface LambdaLayerProbeOptions {
  readonly attempts?: number
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
  readonly sleep?: (ms: number) => Promise<void>
  readonly random?: () => number
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void
}

// Cross-account, Lambda will not say whether a version exists: a missing or non-public one is refused.
const ABSENT_ERRORS = new Set(['AccessDeniedException', 'ResourceNotFoundException'])

/**
 * A probe that asks GetLayerVersion, retrying throttling and server faults, and calls refused or missing versions
 * absent. Its retry is the lookup's only one: give it a client that does not retry itself.
 */
export function lambdaLayerProbe(
  client: LambdaClient,
  layerArn: string,
  options: LambdaLayerProbeOptions = {}
): LayerProbe {
  const retry: RetryOptions = {
    attempts: options.attempts ?? 5,
    baseDelayMs: options.baseDelayMs ?? 250,
    maxDelayMs: options.maxDelayMs ?? 5000,
    isRetryable: isTransient,
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {})
  }
  return async (version) => {
    try {
      const response = await withRetry(
        () => client.send(new GetLayerVersionCommand({ LayerName: layerArn, VersionNumber: version })),
        retry
      )
      return {
        arn: response.LayerVersionArn ?? `${layerArn}:${version}`,
        layerArn: response.LayerArn ?? layerArn,
        version: response.Version ?? version,
        description: response.Description,
        tag: tagFromDescription(response.Description),
        compatibleArchitectures: [...(response.CompatibleArchitectures ?? [])]
      }
    } catch (error) {
      if (ABSENT_ERRORS.has(errorName(error))) return undefined
      throw new Error(`GetLayerVersion ${layerArn}:${version} failed: ${errorName(error)}: ${messageOf(error)}`, {
        cause: error
      })
    }
  }
}

/** What to resolve: a layer in a region and account, at a version or the latest one. */
export interface LayerRequest {
  region: string
  account: string
  name: string
  version: 'latest' | number
}

/** Options of `LayerResolver`. */
export interface LayerResolverOptions {
  /** A client that sends each request once (AwsClients.lambdaOnceFor): the probe's retry is the only one. */
  clientFor: (region: string) => LambdaClient
  /** Starting points for the latest search, keyed by unversioned layer ARN (one region) or by layer name (all regions). */
  hints?: Record<string, number>
  probe?: LambdaLayerProbeOptions
  gapWindow?: number
}

/** Resolves layer requests to layer versions, one lookup per distinct request however many callers ask at once. */
export class LayerResolver {
  /** How many lookups (latest searches or single-version gets) have started. */
  lookups = 0
  /** How many GetLayerVersion probes those lookups made, retries not counted. */
  probes = 0

  private readonly cache = new Map<string, Promise<LayerVersion | undefined>>()
  /** The highest version of each layer (unversioned ARN) that the run's functions carry. */
  private readonly carried = new Map<string, number>()

  constructor(private readonly options: LayerResolverOptions) {}

  /**
   * Notes the layer versions functions carry. A version attached to a function was published, so the
   * latest is at or above it: a search for it starts there (a fleet that already carries the latest
   * costs three probes, the version and the gap window above it), unless a hint is higher. The search
   * still finds the latest when that version has been deleted since.
   */
  noteCarried(layerVersionArns: Iterable<string>): void {
    for (const arn of layerVersionArns) {
      const parts = parseLayerVersionArn(arn)
      if (!parts) continue
      const layerArn = arn.slice(0, arn.lastIndexOf(':'))
      this.carried.set(layerArn, Math.max(this.carried.get(layerArn) ?? 0, parts.version))
    }
  }

  /** Whether a request was looked up already (or is being), so that asking again makes no call. */
  has(request: LayerRequest): boolean {
    const { region, account, name, version } = request
    try {
      return this.cache.has(`${layerArnFor(region, account, name)}:${version}`)
    } catch {
      return false
    }
  }

  /** The layer version a request names; throws, saying what to fix, when there is none. */
  async resolve(request: LayerRequest): Promise<LayerVersion> {
    const { region, account, name, version } = request
    if (version !== 'latest' && !(Number.isSafeInteger(version) && version > 0))
      throw new Error(`invalid layer-version ${String(version)}: expected "latest" or a positive whole number`)
    const layerArn = layerArnFor(region, account, name)
    const key = `${layerArn}:${version}`
    let lookup = this.cache.get(key)
    if (!lookup) {
      lookup = this.lookup(region, layerArn, name, version)
      this.cache.set(key, lookup)
      // A transport failure says nothing about the layer, so a later call may try again; an absence stays cached.
      lookup.catch(() => {
        if (this.cache.get(key) === lookup) this.cache.delete(key)
      })
    }
    const result = await lookup
    if (result) return result
    if (version === 'latest')
      throw new Error(
        `no version of layer ${layerArn} is visible in ${region}: the layer is not published there, ` +
          `or the deploy role may not call lambda:GetLayerVersion on it; set layer-account/layer-name to a mirrored copy`
      )
    throw new Error(
      `layer version ${layerArn}:${version} does not exist or is not visible: ` +
        `check layer-version / layer-name / layer-account, or that the layer exists in ${region}`
    )
  }

  private async lookup(
    region: string,
    layerArn: string,
    name: string,
    version: 'latest' | number
  ): Promise<LayerVersion | undefined> {
    this.lookups++
    const base = lambdaLayerProbe(this.options.clientFor(region), layerArn, this.options.probe)
    const probe: LayerProbe = (v) => {
      this.probes++
      return base(v)
    }
    if (version !== 'latest') return probe(version)
    const shipped = this.options.hints?.[layerArn] ?? this.options.hints?.[name]
    const hint = Math.max(shipped ?? 0, this.carried.get(layerArn) ?? 0) || undefined
    const { latest } = await findLatestVersion(probe, {
      ...(hint !== undefined ? { hint } : {}),
      ...(this.options.gapWindow !== undefined ? { gapWindow: this.options.gapWindow } : {})
    })
    return latest
  }
}
