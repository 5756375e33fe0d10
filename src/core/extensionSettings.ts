/** The Rotel extension's settings that the action's own inputs set (otlp-endpoint, otlp-protocol, …), by input. */
export const ENV = {
  endpoint: 'ROTEL_OTLP_EXPORTER_ENDPOINT',
  protocol: 'ROTEL_OTLP_EXPORTER_PROTOCOL',
  headers: 'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS',
  resourceAttributes: 'ROTEL_OTEL_RESOURCE_ATTRIBUTES',
  envFile: 'ROTEL_ENV_FILE'
} as const

/** The names of ENV: `remove` always takes them off (or puts back what the record says they replaced). */
export const EXTENSION_SETTINGS: readonly string[] = Object.values(ENV)
