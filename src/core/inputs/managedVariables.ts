/** The settings the action writes on every function: otlp-*, resource-attributes, env-file and environment. */
import { ENV } from '../extensionSettings.js'
import { findSecretReferences, type SecretReference } from '../secretReferences.js'
import { isSecretName, secretPartsOf } from '../secretNames.js'
import { ACTION_RESOURCE_ATTRIBUTES } from '../valueDisplay.js'
import { LOG_FORMAT_VARIABLE, MAX_VARIABLES_BYTES, variablesSize } from '../plan.js'
import { ACTION_VARIABLE_PREFIX } from '../variableRecord.js'
import { parseOtlpHeaders } from './otlpHeaders.js'
import { PADDING_ONLY, parseBoolean, parsePairs, PASTED_WITHOUT_NAME, type Problem } from './parsers.js'

const CLOUD_ATTRIBUTES = ACTION_RESOURCE_ATTRIBUTES

/** Variables Lambda sets itself and refuses to take from a function's configuration. */
const RESERVED_VARIABLES = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR'
])

const VARIABLE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/
/** The managed variables and what of them is secret. */
export interface ManagedVariables {
  managedVariables: Record<string, string>
  secretVariableNames: string[]
  secretValues: string[]
  secretReferences: SecretReference[]
}

export function parseManagedVariables(input: (name: string) => string, problem: Problem): ManagedVariables {
  const variables: Record<string, string> = {}
  const secretValues: string[] = []
  const secretVariableNames: string[] = []

  const endpoint = input('otlp-endpoint')
  // A key in the query (?api_key=…) or a password in the URL is a secret even when the URL is refused.
  secretValues.push(...secretPartsOf(endpoint))
  if (endpoint) {
    let url: URL | undefined
    try {
      url = new URL(endpoint)
    } catch {
      url = undefined
    }
    // The endpoint is not quoted: its user-info or query may carry a key.
    if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname)
      problem('otlp-endpoint is not an http(s) URL; write it like https://clickstack.example.com:4317.')
    else if (/\s/.test(endpoint))
      // The URL parser would encode or drop it; the extension would be given the raw text.
      problem(
        'otlp-endpoint holds a space; write the URL without spaces (percent-encode one that belongs in it as %20).'
      )
    else if (url.username || url.password)
      problem('otlp-endpoint must not carry credentials in the URL; put the ingestion key in otlp-headers.')
    else variables[ENV.endpoint] = endpoint
  }

  const protocol = input('otlp-protocol')
  if (protocol) {
    if (protocol === 'grpc' || protocol === 'http') variables[ENV.protocol] = protocol
    else problem(`otlp-protocol "${protocol}" must be grpc or http (or empty for the extension's default, grpc).`)
  }

  const headers = input('otlp-headers')
  if (/^secret:\/\//.test(headers)) {
    // The whole header list lives in a secret: the extension reads it at start-up.
    secretValues.push(headers)
    variables[ENV.headers] = headers
    secretVariableNames.push(ENV.headers)
  } else if (headers) {
    secretValues.push(headers)
    const pairs = parseOtlpHeaders(headers, problem)
    for (const [, headerValue] of pairs) if (headerValue) secretValues.push(headerValue, ...secretPartsOf(headerValue))
    if (pairs.length > 0) {
      variables[ENV.headers] = pairs.map(([k, v]) => `${k}=${v}`).join(',')
      secretVariableNames.push(ENV.headers)
    }
  }

  const attributes = input('resource-attributes')
  const pairs = attributes ? parsePairs(attributes, 'resource-attributes', /^[A-Za-z0-9_.\-/]+$/, problem, false) : []
  for (const [index, [key]] of pairs.entries())
    if (pairs.findIndex(([other]) => other === key) < index)
      problem(`resource-attributes: ${key} is given twice; keep one.`)
  // The extension does not set these, although the guide tells users to look for them in HyperDX.
  if (parseBoolean('cloud-attributes', input('cloud-attributes'), true, problem))
    for (const [key, value] of CLOUD_ATTRIBUTES) if (!pairs.some(([k]) => k === key)) pairs.push([key, value])
  if (pairs.length > 0) variables[ENV.resourceAttributes] = pairs.map(([k, v]) => `${k}=${v}`).join(',')

  const envFile = input('env-file')
  if (envFile) {
    if (envFile.startsWith('/') && !/[\s,]/.test(envFile)) variables[ENV.envFile] = envFile
    else problem(`env-file "${envFile}" must be an absolute path inside the function, like /var/task/rotel.env.`)
  }

  parseEnvironment(input('environment'), variables, secretVariableNames, secretValues, problem)

  const secretReferences: SecretReference[] = []
  for (const [key, value] of Object.entries(variables)) {
    if (!key.startsWith('ROTEL_')) continue
    const found = findSecretReferences(value, inputNameOf(key))
    found.problems.forEach(problem)
    secretReferences.push(...found.references)
  }
  return { managedVariables: variables, secretVariableNames, secretValues, secretReferences }
}

/** The input a secret reference was written in, for messages. */
export function inputNameOfReference(reference: SecretReference, variables: Readonly<Record<string, string>>): string {
  const key = Object.keys(variables).find(
    (k) => k.startsWith('ROTEL_') && (variables[k] ?? '').includes(reference.text)
  )
  return key ? inputNameOf(key) : 'otlp-headers'
}

/** The input a managed variable comes from, for messages. */
export function inputNameOf(key: string): string {
  const entry = Object.entries(ENV).find(([, variable]) => variable === key)
  return entry ? INPUT_OF[entry[0] as keyof typeof ENV] : `environment (${key})`
}

const INPUT_OF: Record<keyof typeof ENV, string> = {
  endpoint: 'otlp-endpoint',
  protocol: 'otlp-protocol',
  headers: 'otlp-headers',
  resourceAttributes: 'resource-attributes',
  envFile: 'env-file'
}

/** Checked before any function is read: settings too big for any function's environment fail the run now. */
export function checkVariablesSize(
  managedVariables: Readonly<Record<string, string>>,
  jsonLogs: boolean,
  problem: Problem
): void {
  const written = { ...managedVariables, ...(jsonLogs ? { [LOG_FORMAT_VARIABLE]: 'Text' } : {}) }
  const size = variablesSize(written)
  if (size > MAX_VARIABLES_BYTES) {
    const shares = new Map<string, number>()
    for (const [key, value] of Object.entries(written)) {
      const name = key === LOG_FORMAT_VARIABLE ? 'json-logs' : inputNameOf(key).replace(/ \(.*\)$/, '')
      shares.set(name, (shares.get(name) ?? 0) + variablesSize({ [key]: value }) - 2)
    }
    const list = [...shares].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => `${name} ${bytes}`)
    problem(
      `the settings this action writes take ${size} bytes as Lambda counts them (${list.join(', ')}) and Lambda allows ${MAX_VARIABLES_BYTES} for all of a function's environment variables together; shorten them, or move settings into env-file.`
    )
  }
}

/**
 * environment: one KEY=VALUE a line, added to `variables`; a secret-looking name or value goes to the secrets.
 * No line is quoted where it may be a secret pasted without its key.
 */
function parseEnvironment(
  text: string,
  variables: Record<string, string>,
  secretVariableNames: string[],
  secretValues: string[],
  problem: Problem
): void {
  const environmentKeys = new Set<string>()
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim()
    if (!trimmed || trimmed.startsWith('#')) return
    const eq = trimmed.indexOf('=')
    if (eq <= 0) {
      // The line is not shown: it may be a secret pasted without its key.
      problem(`environment: line ${index + 1} is not of the form KEY=VALUE; write one KEY=VALUE a line.`)
      return
    }
    const key = trimmed.slice(0, eq).trim()
    const value = trimmed.slice(eq + 1).trim()
    if (PADDING_ONLY.test(value)) {
      problem(`environment: line ${index + 1} ${PASTED_WITHOUT_NAME}; write one KEY=VALUE a line.`)
    } else if (!VARIABLE_NAME_PATTERN.test(key)) {
      // Not quoted: what comes before "=" may be a secret whose own "=" (base64 padding) was taken for the separator.
      problem(
        `environment: line ${index + 1} does not start with a variable name (a letter, then letters, digits and _) followed by "="; the line is not shown, in case it holds a secret.`
      )
    } else if (RESERVED_VARIABLES.has(key)) {
      problem(`environment: ${key} is reserved by Lambda and cannot be set; remove that line.`)
    } else if (key === LOG_FORMAT_VARIABLE || key.startsWith(ACTION_VARIABLE_PREFIX)) {
      problem(
        `environment: ${key} is a name the action keeps for its records (${ACTION_VARIABLE_PREFIX}…); remove that line.`
      )
    } else if (environmentKeys.has(key)) {
      problem(`environment: ${key} is given twice; keep one line.`)
    } else if (Object.hasOwn(variables, key)) {
      problem(`environment: ${key} is already set by another input of this action; set it in one place only.`)
    } else {
      environmentKeys.add(key)
      variables[key] = value
      if (isSecretName(key)) {
        secretVariableNames.push(key)
        if (value) secretValues.push(value)
      }
      secretValues.push(...secretPartsOf(value))
    }
  })
}
