import { describe, expect, it } from '@jest/globals'
import { loadConfig } from '../../../src/core/config.js'
import { isSecretName, secretPartsOf } from '../../../src/core/secretNames.js'

describe('isSecretName', () => {
  it.each([
    'DB_PASSWORD',
    'MYSQL_PASSWD',
    'PGPASS',
    'ADMIN_PWD',
    'api_key',
    'ApiKey',
    'GITHUB_TOKEN',
    'CLIENT_SECRET',
    'AUTHORIZATION',
    'AWS_CREDENTIALS',
    'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS',
    'SENTRY_DSN',
    'DATABASE_URL',
    'REDIS_URL',
    'MONGODB_URI',
    'SQLALCHEMY_DATABASE_URI',
    'PG_REPLICA_URL',
    'CONNECTION_STRING',
    'DB_CONN_STR',
    'PRIVATE_KEY_PEM',
    'JWT_SIGNING_ALG',
    'SESSION_COOKIE',
    'SLACK_WEBHOOK_URL',
    'TLS_CERT',
    'PASSWORD_SALT'
  ])('%s is secret', (name) => {
    expect(isSecretName(name)).toBe(true)
  })

  it.each([
    'LOG_LEVEL',
    'NODE_ENV',
    'PORT',
    'TABLE_NAME',
    'API_URL',
    'ROTEL_OTLP_EXPORTER_ENDPOINT',
    'ROTEL_OTLP_EXPORTER_PROTOCOL',
    'ROTEL_OTEL_RESOURCE_ATTRIBUTES',
    'ROTEL_ENV_FILE',
    'AWS_LAMBDA_EXEC_WRAPPER',
    'CLICKSTACK_ACTION_PREVIOUS_LOG_FORMAT'
  ])('%s is not', (name) => {
    expect(isSecretName(name)).toBe(false)
  })
})

describe('secretPartsOf', () => {
  it('finds the password of a URL with user-info, raw, decoded and as user:password', () => {
    expect(secretPartsOf('postgres://app:PASSWORD-1@db.internal:5432/app')).toEqual(['PASSWORD-1', 'app:PASSWORD-1'])
    expect(secretPartsOf('redis://:p%40ss%2Bw@cache:6379')).toEqual(
      expect.arrayContaining(['p%40ss%2Bw', 'p@ss+w', ':p@ss+w'])
    )
  })

  it('takes user-info without a password for a token', () => {
    expect(secretPartsOf('https://ghp_T0ken1234@github.com/org/repo.git')).toEqual(['ghp_T0ken1234'])
    expect(secretPartsOf('https://default@clickhouse.example.com:8443')).toEqual([])
  })

  it('finds query parameters with a secret name, not the others', () => {
    expect(secretPartsOf('https://otel.example.com:4318/v1?api_key=abc123xyz&region=eu&token=t%20k')).toEqual([
      'abc123xyz',
      't%20k',
      't k'
    ])
  })

  it('finds the token of an authorization value, and what a Basic token decodes to', () => {
    expect(secretPartsOf('Bearer eyJhbGciOi.payload.sig')).toEqual(['eyJhbGciOi.payload.sig'])
    const basic = Buffer.from('user:pa55word').toString('base64')
    expect(secretPartsOf(`Basic ${basic}`)).toEqual([basic, 'user:pa55word', 'pa55word'])
  })

  it('finds nothing in a plain value', () => {
    expect(secretPartsOf('https://example.com/path')).toEqual([])
    expect(secretPartsOf('debug')).toEqual([])
  })

  it('takes only a scheme that starts with a letter and runs up to "://", however long the text before it', () => {
    expect(secretPartsOf('x-1+a.b://app:pw-one@host 9://app:pw-two@host')).toEqual(['pw-one', 'app:pw-one'])
    expect(secretPartsOf(`${'0'.repeat(5000)}a${'9'.repeat(5000)}://app:pw-three@host`)).toEqual([
      'pw-three',
      'app:pw-three'
    ])
    expect(secretPartsOf('@://app:pw-four@host ://tokentoken@host')).toEqual([])
  })

  // The scheme was once matched ahead of "://" from every letter: 100 KB without "://" took a minute.
  it('reads a long value without a URL in linear time', () => {
    const value = `Authorization=Hdr-S3cret-Value-42${'k'.repeat(100 * 1024)}`
    const started = performance.now()
    expect(secretPartsOf(value)).toEqual([])
    expect(performance.now() - started).toBeLessThan(500)
  })
})

describe('config masks by the same rule', () => {
  const configWith = (environment: string) =>
    loadConfig((name) => ({ functions: 'fn', 'aws-region': 'us-east-1', environment })[name] ?? '', {})

  it('masks the values of secret-named lines and the secret parts of any line, never the plain ones', () => {
    const config = configWith(
      [
        'MYSQL_PASSWD=mysql-pw',
        'SENTRY_DSN=https://key123@o1.ingest.sentry.io/1',
        'MY_SERVICE=https://u:svc-pw@svc.internal',
        'LOG_LEVEL=debug'
      ].join('\n')
    )
    expect(config.secretValues).toEqual(
      expect.arrayContaining(['mysql-pw', 'https://key123@o1.ingest.sentry.io/1', 'svc-pw', 'u:svc-pw'])
    )
    expect(config.secretValues).not.toContain('debug')
    expect(config.secretValues).not.toContain('https://u:svc-pw@svc.internal')
    expect(config.secretVariableNames).toEqual(['MYSQL_PASSWD', 'SENTRY_DSN'])
  })

  it('masks a key in the query of otlp-endpoint', () => {
    const config = loadConfig(
      (name) =>
        ({
          functions: 'fn',
          'aws-region': 'us-east-1',
          'otlp-endpoint': 'https://otel.example.com:4318?api_key=q-secret-1'
        })[name] ?? '',
      {}
    )
    expect(config.secretValues).toContain('q-secret-1')
  })

  it('refuses credentials in hyperdx-url, naming the input and not the password', () => {
    const load = (): unknown =>
      loadConfig(
        (name) =>
          ({
            functions: 'fn',
            'aws-region': 'us-east-1',
            'clickhouse-url': 'https://ch.example.com:8443',
            'hyperdx-url': 'https://viewer:hdx-pass@hyperdx.example.com'
          })[name] ?? '',
        {}
      )
    expect(load).toThrow(/hyperdx-url must not carry credentials/)
    expect(load).not.toThrow(/hdx-pass/)
  })
})
