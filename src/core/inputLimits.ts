/**
 * What an input's text may hold, checked before anything parses it: a size bound per input, and no
 * control or invisible formatting characters (a line break inside a one-line input would reach a
 * function's environment and the log as it is). The value itself is never quoted: it may be a secret.
 */

/** Lambda's limit on all of a function's environment variables together, keys and values (AWS Lambda quotas). */
const LAMBDA_VARIABLES_BYTES = 4096
const LAMBDA_VARIABLES = "Lambda allows 4 KB for all of a function's environment variables together"

/** The longest each input may be, in characters, and why; inputs not listed take DEFAULT_LIMIT. */
const LIMITS: Readonly<Record<string, readonly [number, string]>> = {
  // Lambda quotas: every one of these ends up in the function's environment variables.
  'otlp-endpoint': [LAMBDA_VARIABLES_BYTES, LAMBDA_VARIABLES],
  'otlp-headers': [LAMBDA_VARIABLES_BYTES, LAMBDA_VARIABLES],
  'resource-attributes': [LAMBDA_VARIABLES_BYTES, LAMBDA_VARIABLES],
  'env-file': [LAMBDA_VARIABLES_BYTES, LAMBDA_VARIABLES],
  environment: [LAMBDA_VARIABLES_BYTES, LAMBDA_VARIABLES],
  // Lambda quotas: a synchronous invocation's request payload is at most 6 MB.
  'test-payload': [6 * 1024 * 1024, 'Lambda takes at most 6 MB in a synchronous invocation'],
  // STS AssumeRoleWithWebIdentity: RoleArn is 20 to 2048 characters.
  'role-to-assume': [2048, 'STS takes a role ARN of at most 2048 characters'],
  // IAM CreateOpenIDConnectProvider: each client ID (the audience) is at most 255 characters.
  audience: [255, 'IAM takes an OIDC audience (client ID) of at most 255 characters'],
  // Lists: a function ARN is at most 140 characters (Lambda's FunctionName), a pattern at most 256;
  // parseSelection bounds the items, this bounds the text.
  functions: [64 * 1024, 'that is over 1000 functions or patterns'],
  exclude: [16 * 1024, 'that is over 200 patterns'],
  'aws-region': [1024, 'AWS has fewer than 50 regions'],
  'annotate-files': [16 * 1024, 'that is over 100 globs'],
  'secret-kms-key-arn': [4096, 'that is over 20 key ARNs'],
  'clickhouse-url': [2048, 'a longer URL is no endpoint'],
  'hyperdx-url': [2048, 'a longer URL is no HyperDX address'],
  'clickhouse-password': [1024, 'a longer value is no password'],
  'github-token': [1024, 'a longer value is no GitHub token']
}
const DEFAULT_LIMIT: readonly [number, string] = [256, 'no valid value of it is longer']

/** Inputs written one item a line; every other input is one line. */
const MULTI_LINE = new Set([
  'functions',
  'exclude',
  'aws-region',
  'otlp-headers',
  'resource-attributes',
  'environment',
  'annotate-files',
  'secret-kms-key-arn',
  'test-payload',
  'aws-api-rates'
])

// C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional overrides and
// isolates (which make text display in another order than it is read).
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** The longest value an input may have, in characters. */
export function inputLimit(name: string): number {
  return (LIMITS[name] ?? DEFAULT_LIMIT)[0]
}

/** Why an input's text is refused before it is read, naming the input and the fix; undefined when it may be read. */
export function inputTextProblem(name: string, value: string): string | undefined {
  const [limit, why] = LIMITS[name] ?? DEFAULT_LIMIT
  if (value.length > limit)
    return `${name} is ${value.length} characters long and may be at most ${limit} (${why}); shorten it.`
  const multiLine = MULTI_LINE.has(name)
  for (const match of value.matchAll(FORBIDDEN)) {
    const c = match[0]
    const at = match.index
    if (multiLine && (c === '\n' || c === '\t' || (c === '\r' && value[at + 1] === '\n'))) continue
    const before = value.slice(0, at)
    const line = before.split('\n').length
    const column = at - before.lastIndexOf('\n')
    const where = multiLine ? `line ${line}, character ${column}` : `character ${column}`
    const what =
      c === '\r' && multiLine
        ? 'a carriage return without a line feed'
        : c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029'
          ? 'a line break'
          : `the invisible character U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}`
    const fix = multiLine
      ? 'remove it (line breaks and tabs are the only control characters this input takes)'
      : 'write it on one line, without control characters'
    return `${name} holds ${what} at ${where}; ${fix}.`
  }
  return undefined
}
