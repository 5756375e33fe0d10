import { describe, expect, it } from '@jest/globals'
import { ENV } from '../../../src/core/config.js'
import { valuesToHide } from '../../../src/core/functionValues.js'
import { WRAPPERS } from '../../../src/core/instrumentation.js'
import { LOG_FORMAT_VARIABLE } from '../../../src/core/plan.js'
import type { FunctionState } from '../../../src/core/model.js'
import { displayEndpoint, displayValue } from '../../../src/core/valueDisplay.js'

describe('displayValue', () => {
  it('knows the variables by the names config and plan give them', () => {
    expect(displayValue(ENV.endpoint, 'https://a.example.com')).toBe('https://a.example.com')
    expect(displayValue(ENV.protocol, 'grpc')).toBe('grpc')
    expect(displayValue(ENV.envFile, '/var/task/rotel.env')).toBe('/var/task/rotel.env')
    expect(displayValue(ENV.resourceAttributes, 'cloud.provider=aws')).toBe('cloud.provider=aws')
    expect(displayValue(LOG_FORMAT_VARIABLE, 'Text')).toBe('Text')
  })

  it('shows an endpoint without user-info, query, fragment or path segments that are not plain words', () => {
    expect(displayEndpoint('https://user:pw@otel.example.com:4318/v1/traces?api_key=k#f')).toBe(
      'https://otel.example.com:4318/v1/traces'
    )
    expect(displayEndpoint('https://otel.example.com/ingest/AbC123xyz987/v1')).toBe(
      'https://otel.example.com/ingest/…/v1'
    )
    expect(displayEndpoint('http://otel:4317/')).toBe('http://otel:4317')
    expect(displayEndpoint('ftp://otel.example.com')).toBeUndefined()
    expect(displayEndpoint('not a url')).toBeUndefined()
  })

  it('shows the protocol, env file, wrapper and log-format record only when they hold what the action would write', () => {
    expect(displayValue(ENV.protocol, 'http')).toBe('http')
    expect(displayValue(ENV.protocol, 'grpc-with-a-secret')).toBeUndefined()
    expect(displayValue(ENV.envFile, 'relative/rotel.env')).toBeUndefined()
    expect(displayValue(ENV.envFile, '/var/task/a b.env')).toBeUndefined()
    for (const wrapper of Object.values(WRAPPERS))
      expect(displayValue('AWS_LAMBDA_EXEC_WRAPPER', wrapper)).toBe(wrapper)
    expect(displayValue('AWS_LAMBDA_EXEC_WRAPPER', '/opt/users-own-wrapper')).toBeUndefined()
    expect(displayValue(LOG_FORMAT_VARIABLE, 'JSON')).toBe('JSON')
    expect(displayValue(LOG_FORMAT_VARIABLE, 'Text; token=1')).toBeUndefined()
  })

  it("shows resource attribute names, and values only for the action's own cloud attributes", () => {
    expect(
      displayValue(ENV.resourceAttributes, 'service.namespace=tenant-42,cloud.provider=aws,cloud.platform=aws_lambda')
    ).toBe('service.namespace=***,cloud.provider=aws,cloud.platform=aws_lambda')
    expect(displayValue(ENV.resourceAttributes, 'cloud.provider=gcp')).toBe('cloud.provider=***')
    expect(displayValue(ENV.resourceAttributes, 'no pair here')).toBeUndefined()
  })

  it.each(['DATABASE_URL', 'LOG_LEVEL', ENV.headers, 'ROTEL_EXPORTER', 'ROTEL_OTLP_EXPORTER_ENDPOINT_EXTRA'])(
    'shows nothing of %s',
    (name) => {
      expect(displayValue(name, 'grpc')).toBeUndefined()
    }
  )
})

describe('valuesToHide', () => {
  const state = (variables: Record<string, string>): FunctionState => ({
    name: 'orders-production',
    arn: 'arn:aws:lambda:us-east-1:123456789012:function:orders-production',
    region: 'us-east-1',
    architecture: 'x86_64',
    packageType: 'Zip',
    layers: [],
    variables,
    revisionId: undefined,
    logGroup: '/aws/lambda/orders-production'
  })

  it('hides secret-named values from 3 characters and other values from 8', () => {
    expect(
      valuesToHide(
        state({
          DB_PASSWORD: 'pw1',
          API_KEY: 'ab',
          LOG_LEVEL: 'info',
          DEBUG: 'true',
          N: '1',
          STAGE: 'staging',
          OTHER: 'some-long-value'
        })
      ).sort()
    ).toEqual(['pw1', 'some-long-value'])
  })

  it('leaves values the action may show and values inside what is printed anyway', () => {
    expect(
      valuesToHide(
        state({
          ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://otel.example.com:4317',
          ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=aws',
          STAGE: 'production',
          REGION_NAME: 'us-east-1',
          PEER: 'billing-api-prod'
        }),
        ['billing-api-prod']
      )
    ).toEqual([])
  })

  it('hides an endpoint with a key in its query and resource attributes of the user', () => {
    expect(
      valuesToHide(
        state({
          ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://otel.example.com:4317?api_key=zz',
          ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'tenant=acme-corp'
        })
      )
    ).toEqual(['https://otel.example.com:4317?api_key=zz', 'tenant=acme-corp'])
  })
})
