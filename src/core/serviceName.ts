/** The service.name a function's telemetry carries when its resource attributes set one. Pure. */

/** The extension's resource attributes variable: `key=value` pairs joined by commas (inputs/managedVariables.ts). */
const RESOURCE_ATTRIBUTES = 'ROTEL_OTEL_RESOURCE_ATTRIBUTES'

/**
 * The `service.name` set in ROTEL_OTEL_RESOURCE_ATTRIBUTES, which overrides the extension's own (the
 * function's name); undefined when the variable sets none. The last one wins, as a later key overrides.
 */
export function configuredServiceName(variables: Readonly<Record<string, string>> | undefined): string | undefined {
  let found: string | undefined
  for (const pair of (variables?.[RESOURCE_ATTRIBUTES] ?? '').split(',')) {
    const equals = pair.indexOf('=')
    if (equals > 0 && pair.slice(0, equals).trim() === 'service.name') found = pair.slice(equals + 1).trim()
  }
  return found || undefined
}
