/** Removes secret values from text bound for the summary, outputs, annotations and errors. */

export type Redactor = (text: string) => string

/** A redactor for these secrets; longer secrets first, so that one containing another is removed whole. */
export function createRedactor(secrets: readonly string[]): Redactor {
  const ordered = [...new Set(secrets.filter((secret) => secret.length >= 3))].sort(
    (a, b) => b.length - a.length
  )
  return (text) => ordered.reduce((result, secret) => result.split(secret).join('***'), text)
}

/** The same value with the redactor applied to every string inside it, for JSON that must stay parseable. */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((item: unknown) => redactDeep(item, redact)) as T
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [redact(key), redactDeep(item, redact)])
    ) as T
  return value
}
