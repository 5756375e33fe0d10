/**
 * otlp-headers, the one source of its parsing: the input as configuration reads it, the variable the
 * action writes (pairs joined by commas, as the extension splits them), and the raw masking before either.
 */
import { parsePairs, type Problem, splitEntries } from './parsers.js'

const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/**
 * Printable ASCII: an HTTP field value is bytes (RFC 9110 keeps non-ASCII only as obsolete text), and a
 * gRPC metadata value of a non-binary key is printable ASCII; the extension sends the headers by both.
 */
const HEADER_VALUE_PATTERN = /^[\x20-\x7e]*$/

/** The header pairs of otlp-headers as written; every problem reported, values never quoted. */
export function parseOtlpHeaders(headers: string, problem: Problem): Array<[string, string]> {
  const pairs = parsePairs(headers, 'otlp-headers', HEADER_NAME_PATTERN, problem, true)
  const seen = new Set<string>()
  for (const [name, headerValue] of pairs) {
    // Header names ignore case: two spellings of one name are one header sent twice, or one lost.
    if (seen.has(name.toLowerCase()))
      problem(`otlp-headers: the header ${name} is given twice (header names ignore case); keep one.`)
    seen.add(name.toLowerCase())
    if (headerValue === '')
      problem(
        `otlp-headers: the header ${name} has an empty value; give its value (if a secret fills it, check that the secret is set for this workflow).`
      )
    else if (!HEADER_VALUE_PATTERN.test(headerValue))
      problem(
        `otlp-headers: the value of ${name} holds a character outside printable ASCII (value not shown); HTTP and gRPC headers take ASCII only: percent- or base64-encode it.`
      )
  }
  return pairs
}

/**
 * The values of otlp-headers as given, before it is validated: masked at once, so that a malformed input
 * cannot print them. Short parts (under 3 characters) would mask common text and hide nothing.
 */
export function rawHeaderValues(raw: string): string[] {
  return splitEntries(raw)
    .map((entry) => entry.slice(entry.indexOf('=') + 1).trim())
    .filter((part) => part.length >= 3)
}

/** The headers of the variable the action wrote, as the extension reads them; a `secret://` list as one entry. */
export function headerMap(value: string): Record<string, string> {
  if (value.startsWith('secret://')) return { secret: value }
  return Object.fromEntries(
    splitEntries(value)
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])
  )
}
