/**
 * What counts as secret by its name or its shape: the one rule for what config masks in the log,
 * what the redactor removes, and which of a function's values are hidden at any length.
 */

/**
 * Words that mark a name as holding a secret, matched anywhere in the name, case-insensitively. A
 * false positive only hides a value; a miss prints one. Hence substrings (MONKEY, BYPASS and AUTHOR are
 * hidden too), and the names that by convention hold a URL with credentials in it (DSN,
 * DATABASE_URL, REDIS_URL, MONGODB_URI, CONNECTION_STRING) and webhook URLs, whose path is the token.
 */
const SECRET_WORDS =
  /KEY|SECRET|TOKEN|PASS|PWD|AUTH|CREDENTIAL|HEADERS|COOKIE|SESSION|PRIVATE|SIGNING|SIGNATURE|SALT|CERT|BEARER|JWT|DSN|CONN(ECTION)?_?STR|WEBHOOK/i

/** Names of URLs that usually carry user and password: a database, cache, queue or mail server's. */
const CREDENTIAL_URL_NAME =
  /(^|_)(DB|DATABASE|POSTGRES|POSTGRESQL|PG|MYSQL|MARIADB|MONGO|MONGODB|REDIS|MEMCACHED?|CACHE|AMQP|RABBITMQ|BROKER|KAFKA|NATS|ELASTIC|ELASTICSEARCH|OPENSEARCH|SMTP|MAIL|SQL|SQLALCHEMY|PROXY)(_[A-Z0-9]+)*_(URL|URI)$/i

/** Whether a variable or header name says that its value is secret. */
export function isSecretName(name: string): boolean {
  return SECRET_WORDS.test(name) || CREDENTIAL_URL_NAME.test(name)
}

// A URL's user-info after its scheme (RFC 3986: a letter, then letters, digits, +, . or -). The scheme is
// looked for behind each "://" rather than ahead of it: `[A-Za-z][A-Za-z0-9+.-]*://` tried at every letter
// of a long run without "://" reads the run to its end each time, quadratic time (a header value of
// 100 KB took a minute before any check could refuse it).
const SCHEME_BEHIND = String.raw`:\/\/(?<=[A-Za-z][A-Za-z0-9+.-]*:\/\/)`
const USER_INFO_WITH_PASSWORD = new RegExp(String.raw`${SCHEME_BEHIND}([^\s:@/]*):([^\s@/]+)@`, 'g')
const USER_INFO_ALONE = new RegExp(String.raw`${SCHEME_BEHIND}([^\s:@/]{8,})@`, 'g')

/**
 * The secret parts of a value whatever its name: the password of every URL with user-info in it
 * (`postgres://app:PASSWORD@host`, raw and decoded, and `user:password` as Basic auth sends it), or
 * the user when it comes alone (`https://TOKEN@host`),
 * values of query parameters with a secret name (`?api_key=…`), and the token of an
 * `Authorization`-style value (`Bearer …`, `Basic …`, with what a Basic token decodes to).
 */
export function secretPartsOf(value: string): string[] {
  const parts: string[] = []
  for (const [, user = '', password = ''] of value.matchAll(USER_INFO_WITH_PASSWORD)) {
    parts.push(password, `${user}:${password}`)
    const decoded = safeDecode(password, false)
    if (decoded !== password) parts.push(decoded, `${safeDecode(user, false)}:${decoded}`)
  }
  // User-info without a password is a token standing in for one (https://TOKEN@github.com/…); shorter
  // than 8 it is a user name (default, admin, git), and hiding it would garble every message naming it.
  for (const [, user = ''] of value.matchAll(USER_INFO_ALONE)) parts.push(user, safeDecode(user, false))
  for (const [, name = '', parameter = ''] of value.matchAll(/[?&;]([^=&;#\s]+)=([^&;#\s]+)/g))
    if (isSecretName(safeDecode(name, true))) parts.push(parameter, safeDecode(parameter, true))
  const scheme = /^\s*(Bearer|Basic|Token|ApiKey|Digest|Negotiate)\s+(\S+)\s*$/i.exec(value)
  if (scheme?.[2]) {
    parts.push(scheme[2])
    if (scheme[1]?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(scheme[2], 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      // Only a decoding that gives text of the form user:password: anything else was not base64 of one.
      if (colon >= 0 && /^[\x20-\x7e]+$/.test(decoded)) parts.push(decoded, decoded.slice(colon + 1))
    }
  }
  return [...new Set(parts.filter((part) => part.length > 0))]
}

/** Percent-decoded; `+` is a space only in a query string (form encoding), not in user-info. */
function safeDecode(text: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? text.replace(/\+/g, ' ') : text)
  } catch {
    return text
  }
}
