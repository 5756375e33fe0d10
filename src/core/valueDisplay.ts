/**
 * Which values a diff may show: only settings the action owns, and only in a form that cannot hold a
 * secret. Everything else (every variable of the user's, every `environment` line, the headers, and
 * every value a function holds now) is shown by name only.
 */
import { WRAPPER_VARIABLE, WRAPPERS } from './instrumentation.js'

// The same names as config.ts ENV and plan.ts LOG_FORMAT_VARIABLE (a unit test holds them equal):
// importing them would close an import cycle through config.ts.
const ENDPOINT = 'ROTEL_OTLP_EXPORTER_ENDPOINT'
const PROTOCOL = 'ROTEL_OTLP_EXPORTER_PROTOCOL'
const ENV_FILE = 'ROTEL_ENV_FILE'
const RESOURCE_ATTRIBUTES = 'ROTEL_OTEL_RESOURCE_ATTRIBUTES'
const LOG_FORMAT = 'CLICKSTACK_ACTION_PREVIOUS_LOG_FORMAT'

/** The resource attributes the action adds itself (cloud-attributes): their values are the action's. */
export const ACTION_RESOURCE_ATTRIBUTES: ReadonlyArray<readonly [string, string]> = [
  ['cloud.provider', 'aws'],
  ['cloud.platform', 'aws_lambda']
]

/** What stands for a value that is not shown. */
export const HIDDEN_VALUE = '***'

/**
 * The value of a variable as a diff may show it, or undefined when it is shown by name only. Each
 * shown form is checked against what it may be, not trusted for its name: an endpoint loses its
 * user-info, query and fragment (and any path segment that is not a plain word, where tokens hide),
 * the protocol, log-format record and wrapper must be one of the action's own values, the env file an
 * absolute path of plain characters. Resource attributes show their names, and values only for the
 * action's own cloud.* pairs: the rest come from resource-attributes, an input GitHub does not mask,
 * and people put tenant ids and deployment names there, sometimes tokens; the action cannot tell.
 */
export function displayValue(name: string, value: string): string | undefined {
  switch (name) {
    case ENDPOINT:
      return displayEndpoint(value)
    case PROTOCOL:
      return /^(grpc|http|http\/protobuf|http\/json)$/.test(value) ? value : undefined
    case ENV_FILE:
      return /^\/[A-Za-z0-9._/-]{1,255}$/.test(value) ? value : undefined
    case WRAPPER_VARIABLE:
      return Object.values(WRAPPERS).includes(value) ? value : undefined
    case LOG_FORMAT:
      return value === 'Text' || value === 'JSON' ? value : undefined
    case RESOURCE_ATTRIBUTES:
      return displayAttributes(value)
    default:
      return undefined
  }
}

/** Scheme, host, port and the path's plain words; never user-info, query or fragment. */
export function displayEndpoint(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return undefined
  const path = url.pathname
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => (/^(v\d{1,2}|[a-z][a-z-]{0,15})$/.test(segment) ? segment : '…'))
    .join('/')
  return `${url.protocol}//${url.host}${path ? `/${path}` : ''}`
}

function displayAttributes(value: string): string | undefined {
  const items = value.split(',')
  if (items.some((item) => !/^[A-Za-z0-9_.\-/]+=/.test(item))) return undefined
  const pairs = items.map((item) => [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)] as const)
  const own = (key: string, item: string): boolean =>
    ACTION_RESOURCE_ATTRIBUTES.some(([k, v]) => k === key && v === item)
  return pairs.map(([key, item]) => `${key}=${own(key, item) ? item : HIDDEN_VALUE}`).join(',')
}
