/**
 * The checks on the telemetry side of the run, before any function is changed: the OTLP endpoint
 * takes a record with the run's headers, and ClickStack's ClickHouse answers the delivery queries.
 */
import * as core from '@actions/core'
import { type ActionConfig, ENV } from '../core/config.js'
import { headerMap } from '../core/inputs/otlpHeaders.js'
import { createDeliveryChecker, type DeliveryChecker } from '../clickstack/deliveryCheck.js'
import { type OtlpProtocol, sendPreflight } from '../clickstack/preflight.js'

/** Throws one clear sentence when the endpoint refuses the preflight record; says so when it cannot be tried. */
export async function preflightEndpoint(config: ActionConfig): Promise<void> {
  const endpoint = config.managedVariables[ENV.endpoint]
  if (!config.preflight || config.mode !== 'apply' || !endpoint) return
  const protocol = config.managedVariables[ENV.protocol] as OtlpProtocol | undefined
  const result = await sendPreflight({
    endpoint,
    protocol,
    headers: headerMap(config.managedVariables[ENV.headers] ?? ''),
    timeoutMs: 10_000
  })
  if ('skipped' in result) core.notice(`Preflight skipped: ${result.skipped}.`, { title: 'OTLP endpoint' })
  else if (!result.ok)
    throw new Error(`The OTLP endpoint check failed before any function was changed: ${result.reason} (Set preflight: false if only the functions can reach the endpoint.)`)
  else core.info(`Preflight: ${endpoint} took a test record over OTLP/${result.protocol === 'http' ? 'HTTP' : 'gRPC'}.`)
}

/** The delivery checker for this run, proven able to query before any function is changed; undefined when verification is off. */
export async function openDeliveryChecker(config: ActionConfig): Promise<DeliveryChecker | undefined> {
  const settings = config.delivery
  if (!settings || config.mode !== 'apply') return undefined
  if (!config.testInvoke) {
    core.warning('verify-delivery needs the test invocation: with test-invoke false there is nothing to look for in ClickStack.')
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
    throw new Error(`ClickStack cannot be queried to verify delivery, so no function was changed: ${ready.reason ?? 'no reason given'}`)
  }
  return checker
}
