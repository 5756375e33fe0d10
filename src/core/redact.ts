/**
 * The one redactor: removes secrets, in every form they take on the way out, from text bound for the
 * log, the summary, the PR comment, outputs, annotations and errors; and AWS's echo of a function's
 * environment from error texts.
 */

export type Redactor = (text: string) => string

/** A redactor that learns more secrets as the run goes on (configured ones first, a function's values once read). */
export interface SecretRedactor extends Redactor {
  /** Adds secrets in every derived form; returns the forms not known before, for the log's masks. */
  add(secrets: readonly string[]): string[]
  /** Adds values in the forms an error text echoes them in (raw, JSON-escaped, URL-encoded); returns the new forms. */
  addEchoed(values: readonly string[]): string[]
}

/**
 * Shorter secrets are not redacted: a one- or two-character string occurs in nearly every word, so
 * redacting it would blot out every message while hiding nothing a guess would not find. Three is
 * the shortest a value can be and still be worth hiding (and what GitHub's own masking tolerates).
 */
export const MIN_SECRET_LENGTH = 3

/**
 * A secret inside a longer base64 text is found by the part of its encoding that does not depend on
 * its neighbours: whole 3-byte groups, 4 characters each. Below two groups (8 characters) a match in
 * unrelated base64 becomes plausible, and a secret that short has its whole encoding redacted anyway.
 */
const MIN_BASE64_CHUNK_BYTES = 6

const MASK = '***'

/** A redactor for these secrets (and any added later), each in every derived form. */
export function createRedactor(secrets: readonly string[] = []): SecretRedactor {
  const known = new Set<string>()
  const forms = new FormIndex()
  const learn = (candidates: readonly string[]): string[] => {
    const fresh = [...new Set(candidates)].filter((form) => form.length >= MIN_SECRET_LENGTH && !known.has(form))
    for (const form of fresh) {
      known.add(form)
      forms.add(form)
    }
    return fresh
  }
  const long = (values: readonly string[]): string[] => values.filter((value) => value.length >= MIN_SECRET_LENGTH)
  const redactor = ((text: string) => redactSpans(stripEnvironmentEcho(text), forms)) as SecretRedactor
  redactor.add = (list) => learn(long(list).flatMap(derivedForms))
  redactor.addEchoed = (list) => learn(long(list).flatMap(echoForms))
  redactor.add(secrets)
  return redactor
}

/** The forms a value takes inside JSON (once and twice escaped) and in a URL or form body. */
export function echoForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1)
  const encoded = encodeURIComponent(secret)
  return unique([secret, json, JSON.stringify(json).slice(1, -1), encoded, encoded.replace(/%20/g, '+')])
}

/**
 * Every form a secret is known to travel in: echoForms, and base64 (standard and URL-safe, with and
 * without padding), whole or as the stable middle when it sits at any byte offset in a longer
 * encoded text (a Basic auth header, a JWT, a JSON document in base64).
 */
export function derivedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  const base64: string[] = []
  const whole = bytes.toString('base64')
  base64.push(whole, whole.replace(/=+$/, ''))
  for (let shift = 0; shift < 3; shift++) {
    const groups = Math.floor((bytes.length - shift) / 3)
    if (groups * 3 < MIN_BASE64_CHUNK_BYTES) continue
    base64.push(bytes.subarray(shift, shift + groups * 3).toString('base64'))
  }
  const urlSafe = base64.map((form) => form.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''))
  return unique([...echoForms(secret), ...base64, ...urlSafe])
}

/**
 * Replaces every occurrence of every form with ***; overlapping or adjacent occurrences (two secrets
 * sharing characters) become one ***, so that no part of either is left between two masks.
 */
function redactSpans(text: string, forms: FormIndex): string {
  const spans = forms.spansIn(text)
  if (spans.length === 0) return text
  let out = ''
  let written = 0
  let [start, end] = spans[0] as [number, number]
  for (const [from, to] of spans) {
    if (from <= end) {
      end = Math.max(end, to)
      continue
    }
    out += `${text.slice(written, start)}${MASK}`
    written = end
    start = from
    end = to
  }
  return `${out}${text.slice(written, start)}${MASK}${text.slice(end)}`
}

/**
 * The forms by their first MIN_SECRET_LENGTH characters, so that a text is read once, whatever the number
 * of forms: a fleet's run learns every function's values, thousands of forms, and redacts every line.
 */
class FormIndex {
  readonly #byPrefix = new Map<string, string[]>()

  add(form: string): void {
    const prefix = form.slice(0, MIN_SECRET_LENGTH)
    const list = this.#byPrefix.get(prefix)
    if (list) list.push(form)
    else this.#byPrefix.set(prefix, [form])
  }

  /** Where each form occurs in the text, in order of their start. */
  spansIn(text: string): Array<[number, number]> {
    const spans: Array<[number, number]> = []
    if (this.#byPrefix.size === 0) return spans
    for (let at = 0; at + MIN_SECRET_LENGTH <= text.length; at++) {
      const candidates = this.#byPrefix.get(text.slice(at, at + MIN_SECRET_LENGTH))
      if (candidates) for (const form of candidates) if (text.startsWith(form, at)) spans.push([at, at + form.length])
    }
    return spans
  }
}

// A map of variable names to string values as AWS and the SDK print it: JSON (possibly escaped once
// more inside another JSON string) or a Python dict, whose first name is in the conventional upper
// case (so that {"test":"data"} in a message stays); and Java's {NAME=value, …}, as in a
// ValidationException's "Value '{…}' at 'environment.variables'". Each value is bounded (Lambda's
// whole map is 4 KB) and ends at its first unescaped quote, so a hostile text costs linear time.
const VALUE = String.raw`\1\2(?:(?!\1\2)(?:(?!\2)[^\\]|\\[\s\S])){0,8192}?\1\2`
const PAIR_AFTER = String.raw`\s*,\s*\1\2[A-Za-z_][A-Za-z0-9_]*\1\2\s*:\s*${VALUE}`
const JSON_MAP = new RegExp(String.raw`\{\s*(\\*)(["'])[A-Z][A-Z0-9_]*\1\2\s*:\s*${VALUE}(?:${PAIR_AFTER})*\s*\}`, 'g')
const JAVA_MAP = /\{[A-Z][A-Z0-9_]*=[^,{}]{0,8192}(?:, ?[A-Za-z_][A-Za-z0-9_]*=[^,{}]{0,8192})*\}/g
// UpdateFunctionConfiguration over the 4 KB limit: "… exceeded the 4KB limit. String measured: {…}".
const MEASURED = 'String measured:'

/**
 * The text without any environment map AWS echoed into it (its names and values); each becomes {…}.
 * Values are redacted besides, once read; this also catches short values and ones never read.
 */
export function stripEnvironmentEcho(text: string): string {
  if (!text.includes('{')) return text
  let out = text
  const measured = out.indexOf(MEASURED)
  const open = measured === -1 ? -1 : out.indexOf('{', measured)
  if (open !== -1 && out.slice(measured + MEASURED.length, open).trim() === '') {
    // Everything to the map's last brace, or to the end when AWS cut the message short.
    const close = out.lastIndexOf('}')
    out = `${out.slice(0, open)}{…}${close > open ? out.slice(close + 1) : ''}`
  }
  return out.replace(JSON_MAP, '{…}').replace(JAVA_MAP, '{…}')
}

/** The same value with the redactor applied to every string inside it, for JSON that must stay parseable. */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((item: unknown) => redactDeep(item, redact)) as T
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [redact(key), redactDeep(item, redact)])) as T
  return value
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)]
}
