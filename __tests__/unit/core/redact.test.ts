import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { loadConfig } from '../../../src/core/config.js'
import { createRedactor, derivedForms, redactDeep, stripEnvironmentEcho } from '../../../src/core/redact.js'
import { emptyReport, type FunctionReport } from '../../../src/core/model.js'
import { renderOutputs, renderSummary } from '../../../src/core/summary.js'

const SECRET = 'sk-live-0123456789abcdefXYZ'

/** What is left of a text once every *** is taken out. */
const unmasked = (text: string): string => text.split('***').join('')

describe('createRedactor: the forms a secret travels in', () => {
  const redact = createRedactor([SECRET])

  it('removes the raw secret inside a longer text, every time it occurs', () => {
    expect(redact(`key=${SECRET}; again ${SECRET}.`)).toBe('key=***; again ***.')
  })

  it('removes the JSON-escaped form, once and twice escaped', () => {
    const quoted = 'p"a\\ss\nword'
    const r = createRedactor([quoted])
    const once = JSON.stringify({ password: quoted })
    const twice = JSON.stringify({ body: once })
    expect(r(once)).toBe('{"password":"***"}')
    expect(r(twice)).not.toContain('a\\\\\\\\ss')
    expect(unmasked(r(twice))).toBe(unmasked(JSON.stringify({ body: '{"password":"***"}' })))
  })

  it('removes the URL-encoded form, with %20 and with + for a space', () => {
    const spaced = 'my pass/word&more'
    const r = createRedactor([spaced])
    expect(r(`https://h/?p=${encodeURIComponent(spaced)}&x=1`)).toBe('https://h/?p=***&x=1')
    expect(r(`p=${encodeURIComponent(spaced).replace(/%20/g, '+')}`)).toBe('p=***')
  })

  it('removes the whole base64 form, standard and URL-safe, with and without padding', () => {
    const odd = 'secret??>>value1' // bytes that encode to + and / in standard base64
    const standard = Buffer.from(odd).toString('base64')
    const urlSafe = Buffer.from(odd).toString('base64url')
    expect(standard).toMatch(/[+/]/)
    const r = createRedactor([odd])
    expect(r(`a ${standard} b`)).toBe('a *** b')
    expect(r(`a ${urlSafe} b`)).toBe('a *** b')
    expect(r(`a ${standard.replace(/=+$/, '')} b`)).toBe('a *** b')
  })

  it.each([0, 1, 2, 3, 4, 5])('removes a secret encoded inside a longer base64 text, %i bytes in', (offset) => {
    const prefix = 'x'.repeat(offset)
    const suffix = '-and-then-some-more'
    for (const encode of [(b: Buffer) => b.toString('base64'), (b: Buffer) => b.toString('base64url')]) {
      const encoded = encode(Buffer.from(`${prefix}${SECRET}${suffix}`))
      const out = redact(encoded)
      expect(out).toContain('***')
      // At most the characters that also encode the neighbours survive: 2 on each side of the secret.
      const neighbours = Math.ceil((prefix.length * 4) / 3) + Math.ceil((suffix.length * 4) / 3)
      expect(unmasked(out).length).toBeLessThanOrEqual(neighbours + 4)
    }
  })

  it('removes Basic auth of the ClickHouse credentials as the client sends it', () => {
    const config = loadConfig(
      (name) =>
        ({
          functions: 'fn',
          'aws-region': 'us-east-1',
          'clickhouse-url': 'https://ch.example.com:8443',
          'clickhouse-user': 'reader',
          'clickhouse-password': 'ch-pass'
        })[name] ?? '',
      {}
    )
    const header = `Authorization: Basic ${Buffer.from('reader:ch-pass').toString('base64')}`
    expect(createRedactor(config.secretValues)(header)).toBe('Authorization: Basic ***')
  })

  it('takes the user and password from clickhouse-url, user "default" when none is given', () => {
    const config = loadConfig(
      (name) =>
        ({ functions: 'fn', 'aws-region': 'us-east-1', 'clickhouse-url': 'https://:url%40pass@ch.example.com:8443' })[
          name
        ] ?? '',
      {}
    )
    const r = createRedactor(config.secretValues)
    expect(r(Buffer.from('default:url@pass').toString('base64'))).toBe('***')
    expect(r('url@pass and url%40pass')).toBe('*** and ***')
  })

  it('merges overlapping and adjacent secrets into one mask, so no part of either is left', () => {
    const r = createRedactor(['abcdef', 'defghi', 'ghijkl'])
    expect(r('xx abcdefghijkl yy')).toBe('xx *** yy')
    expect(r('abcdefdefghi')).toBe('***')
    const nested = createRedactor(['token-123', 'my-token-1234'])
    expect(nested('a my-token-1234 b token-123 c')).toBe('a *** b *** c')
  })

  it('leaves strings under three characters alone and hides three and more', () => {
    const r = createRedactor(['ab', 'xyz'])
    expect(r('ab cd xyz')).toBe('ab cd ***')
  })

  it('learns more secrets during the run, returning only forms it did not know', () => {
    const r = createRedactor([SECRET])
    expect(r('db-value-1234')).toBe('db-value-1234')
    const fresh = r.addEchoed(['db-value-1234', SECRET])
    expect(fresh).toContain('db-value-1234')
    expect(fresh).not.toContain(SECRET)
    expect(r('db-value-1234')).toBe('***')
    expect(r.addEchoed(['db-value-1234'])).toEqual([])
  })

  it('gives every derived form of a secret for the log masks, each of them redacted', () => {
    const forms = derivedForms(SECRET)
    expect(forms).toEqual(expect.arrayContaining([SECRET, Buffer.from(SECRET).toString('base64')]))
    for (const form of forms) expect(redact(`<${form}>`)).toBe('<***>')
  })

  it('hides exactly what a plain search for each form would hide, however many forms it knows', () => {
    // The reference: every occurrence of every form, found one form at a time, merged into one *** per run.
    const reference = (text: string, forms: readonly string[]): string => {
      const hidden = new Array<boolean>(text.length).fill(false)
      for (const form of forms)
        for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1))
          hidden.fill(true, at, at + form.length)
      return text.replace(/[\s\S]/g, (c, i: number) => (hidden[i] ? '\u0000' : c)).replace(/\u0000+/g, '***')
    }
    // Few letters, so that forms share prefixes and overlap often.
    const alphabet = fc.constantFrom('a', 'b', '%')
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: alphabet, minLength: 3, maxLength: 6 }), { minLength: 1, maxLength: 12 }),
        fc.string({ unit: alphabet, maxLength: 60 }),
        (secrets, text) => {
          const r = createRedactor()
          const forms = r.addEchoed(secrets)
          expect(r(text)).toBe(reference(text, forms))
        }
      ),
      { numRuns: 300 }
    )
  })

  it('finds each of 20,000 learned values in a long text', () => {
    const values = Array.from({ length: 20_000 }, (_, i) => `value-${i.toString(36)}-of-a-fleet`)
    const r = createRedactor()
    r.addEchoed(values)
    const picked = [0, 7, 12_345, 19_999].map((i) => values[i] as string)
    const text = `${'x'.repeat(50_000)} ${picked.join(' and ')} ${'y'.repeat(50_000)}`
    const out = r(text)
    for (const value of picked) expect(out).not.toContain(value)
    expect(out).toContain(' *** and *** and *** and *** ')
  })

  it('redacts every string of a structure, keys too, keeping it parseable', () => {
    const value = { [SECRET]: [`a ${SECRET}`, 1, null], nested: { s: SECRET } }
    expect(redactDeep(value, redact)).toEqual({ '***': ['a ***', 1, null], nested: { s: '***' } })
  })
})

describe("stripEnvironmentEcho: AWS's echo of a function's environment", () => {
  const measured =
    'InvalidParameterValueException: Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {"DB_PASSWORD":"pw1","LOG_LEVEL":"info","ROTEL_OTLP_EXPORTER_ENDPOINT":"https://x:4317"}'

  it('drops the map after "String measured:", short values included', () => {
    const out = stripEnvironmentEcho(measured)
    expect(out).toBe(measured.replace(/\{.*\}$/, '{…}'))
    expect(out).not.toContain('pw1')
  })

  it('drops a JSON map of variables inside other text, escaped or not, and a Java-style map', () => {
    expect(stripEnvironmentEcho('Variables: {"A_B":"v1", "C":"v\\"2"} were refused')).toBe(
      'Variables: {…} were refused'
    )
    const escaped = JSON.stringify({ message: 'env {"SECRET_X":"s1","Y":"s2"}' })
    expect(stripEnvironmentEcho(escaped)).toBe(JSON.stringify({ message: 'env {…}' }))
    expect(stripEnvironmentEcho('Environment {DB_PASSWORD=pw1, MODE=fast} invalid')).toBe('Environment {…} invalid')
  })

  it('leaves braces that are not a map of variables', () => {
    const text =
      'layer-name rotel-extension-{arch}-alpha; reference ${arn:aws:secretsmanager:us-east-1:1:secret:k}; {"count": 3}'
    expect(stripEnvironmentEcho(text)).toBe(text)
  })

  it('takes linear time on an unterminated hostile map', () => {
    const started = performance.now()
    for (const hostile of [
      `${'{"A":"'.repeat(20_000)}x`,
      `${'{\\"A\\":\\"x'.repeat(20_000)}`,
      `${'{A=x, B'.repeat(20_000)}`,
      `String measured: ${'{'.repeat(50_000)} String measured: {`
    ])
      expect(stripEnvironmentEcho(hostile).length).toBeLessThanOrEqual(hostile.length)
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('is applied by the redactor, so an echo never reaches the summary, the report output or an annotation', () => {
    const redact = createRedactor(['ingest-key-0001'])
    redact.addEchoed(['db-password-from-aws'])
    const report: FunctionReport = {
      ...emptyReport({
        given: 'orders-api',
        name: 'orders-api',
        region: 'us-east-1',
        account: undefined,
        partition: 'aws'
      }),
      architecture: 'x86_64',
      status: 'failed',
      error: `Failed to update orders-api: ${measured.replace('pw1', 'db-password-from-aws')} (db-password-from-aws)`
    }
    const result = {
      mode: 'apply' as const,
      outcomes: [{ report, layer: undefined, log: [], warnings: [] }],
      layers: new Map(),
      testInvoke: true
    }
    for (const text of [
      renderSummary(result, redact),
      renderOutputs(result, redact).report,
      redact(report.error ?? '')
    ]) {
      expect(text).not.toContain('db-password-from-aws')
      expect(text).not.toContain('LOG_LEVEL')
      expect(text).toContain('String measured: {…}')
    }
  })
})
