/**
 * The checks on the telemetry side of the run, before any function is changed: the OTLP endpoint
 * takes a record with the run's headers, and ClickStack's ClickHouse answers the delivery queries.
 */
import { type ActionConfig, ENV } from '../core/config.js'
import { MODE_POLICY } from '../core/modes.js'
import { headerMap } from '../core/inputs/otlpHeaders.js'
import type { createDeliveryChecker, DeliveryChecker } from '../clickstack/deliveryCheck.js'
import type { OtlpProtocol, sendPreflight } from '../clickstack/preflight.js'
import type { Reporter } from '../github/reporter.js'

/** What the start-up checks use: where they report, and the ClickStack side (the real ones in a run, fakes in a test). */
export interface TelemetryIo {
  readonly reporter: Reporter
  readonly sendPreflight: typeof sendPreflight
  readonly createDeliveryChecker: typeof createDeliveryChecker
}

/** Throws one clear sentence when the endpoint refuses the preflight record; says so when it cannot be tried. */
export async function preflightEndpoint(config: ActionConfig, { reporter, sendPreflight }: TelemetryIo): Promise<void> {
  const endpoint = config.managedVariables[ENV.endpoint]
  if (!config.preflight || !MODE_POLICY[config.mode].verifiesTelemetry || !endpoint) return
  const protocol = config.managedVariables[ENV.protocol] as OtlpProtocol | undefined
  const result = await sendPreflight({
    endpoint,
    protocol,
    headers: headerMap(config.managedVariables[ENV.headers] ?? ''),
    timeoutMs: 10_000
  })
  if ('skipped' in result) reporter.notice(`Preflight skipped: ${result.skipped}.`, { title: 'OTLP endpoint' })
  else if (!result.ok)
    throw new Error(
      `The OTLP endpoint check failed before any function was changed: ${result.reason} (Set preflight: false if only the functions can reach the endpoint.)`
    )
  else
    reporter.info(
      `Preflight: ${endpoint} took a test record over OTLP/${result.protocol === 'http' ? 'HTTP' : 'gRPC'}.`
    )
}

/** The delivery checker for this run, proven able to query before any function is changed; undefined when verification is off. */
export async function openDeliveryChecker(
  config: ActionConfig,
  { reporter, createDeliveryChecker }: TelemetryIo
): Promise<DeliveryChecker | undefined> {
  const settings = config.delivery
  if (!settings || !MODE_POLICY[config.mode].verifiesTelemetry) return undefined
  if (!config.testInvoke) {
    reporter.warning(
      'verify-delivery needs the test invocation: with test-invoke false there is nothing to look for in ClickStack.'
    )
    return undefined
  }
  const checker = createDeliveryChecker({
    url: settings.url,
    database: settings.database,
    logsTable: settings.logsTable,
    tracesTable: settings.tracesTable,
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {})
  })
  const ready = await checker.check()
  if (!ready.ok) {
    await checker.close()
    throw new Error(
      `ClickStack cannot be queried to verify delivery, so no function was changed: ${ready.reason ?? 'no reason given'}`
    )
  }
  return checker
}
