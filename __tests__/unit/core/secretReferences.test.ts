import { describe, expect, it } from '@jest/globals'
import { loadConfig } from '../../../src/core/config.js'
import { findSecretReferences } from '../../../src/core/secretReferences.js'

const SM = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:clickstack-api-key-abc123'
const SSM = 'arn:aws:ssm:eu-west-1:123456789012:parameter/clickstack/api-key'

describe('findSecretReferences', () => {
  it('finds ${arn} references inside a value and secret:// as the whole value', () => {
    expect(findSecretReferences(`Authorization=\${${SM}#key},x-team=\${${SSM}}`, 'otlp-headers')).toEqual({
      references: [
        {
          text: `\${${SM}#key}`,
          arn: SM,
          service: 'secretsmanager',
          region: 'us-east-1',
          account: '123456789012',
          jsonKey: 'key'
        },
        {
          text: `\${${SSM}}`,
          arn: SSM,
          service: 'ssm',
          region: 'eu-west-1',
          account: '123456789012',
          jsonKey: undefined
        }
      ],
      problems: []
    })
    expect(findSecretReferences(`secret://${SM}`, 'otlp-headers').references.map((r) => r.arn)).toEqual([SM])
  })

  it('finds none in a literal value', () => {
    expect(findSecretReferences('Authorization=abc123', 'otlp-headers')).toEqual({ references: [], problems: [] })
  })

  it.each([
    ['${arn:aws:s3:::bucket/key}', /only secretsmanager and ssm/],
    [
      '${arn:aws:secretsmanager:mars:123456789012:secret:x}',
      /names the region "mars", which is not an AWS region name/
    ],
    ['${arn:aws-cn:secretsmanager:us-east-1:123456789012:secret:x}', /us-east-1 is in aws; write arn:aws:/],
    ['${arn:aws-moon:ssm:us-east-1:123456789012:parameter/x}', /partition "aws-moon", which does not exist/],
    ['${arn:aws:secretsmanager:us-east-1:1234:secret:x}', /no 12-digit account/],
    ['${arn:aws:secretsmanager:us-east-1:123456789012:parameter/x}', /secret:NAME/],
    ['${arn:aws:ssm:us-east-1:123456789012:secret:x}', /parameter\/NAME/],
    [`\${${SSM}#field}`, /only Secrets Manager references can/],
    [`\${${SM}#}`, /names no JSON key/],
    ['${not-an-arn}', /is not a reference to a secret/],
    [`Authorization=secret://${SM}`, /must be the whole value/]
  ])('rejects %s', (value, problem) => {
    const { problems } = findSecretReferences(value, 'otlp-headers')
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^otlp-headers: /)
    expect(problems[0]).toMatch(problem)
  })
})

describe('secret references in the configuration', () => {
  const load = (inputs: Record<string, string>) =>
    loadConfig((name) => ({ functions: 'fn', 'aws-region': 'us-east-1', ...inputs })[name] ?? '', {})

  it('collects the references of every ROTEL_ setting, and knows the key is not literal', () => {
    const config = load({
      'otlp-headers': `Authorization=\${${SM}}`,
      environment: `ROTEL_CLICKHOUSE_EXPORTER_PASSWORD=\${${SSM}}`
    })
    expect(config.secretReferences.map((r) => r.arn)).toEqual([SM, SSM])
    expect(config.literalIngestionKey).toBe(false)
  })

  it('takes a whole header list kept in a secret', () => {
    const config = load({ 'otlp-headers': `secret://${SM}` })
    expect(config.managedVariables.ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS).toBe(`secret://${SM}`)
  })

  it('flags a literal ingestion key', () => {
    expect(load({ 'otlp-headers': 'Authorization=plain-key' }).literalIngestionKey).toBe(true)
    expect(load({}).literalIngestionKey).toBe(false)
  })

  it('rejects a malformed reference before anything is written, naming the input', () => {
    expect(() => load({ 'otlp-headers': `Authorization=\${${SSM}#key}` })).toThrow(
      /otlp-headers: .*only Secrets Manager/
    )
    expect(() => load({ environment: 'ROTEL_X=${arn:aws:kms:us-east-1:123456789012:key/x}' })).toThrow(
      /environment \(ROTEL_X\): .*only secretsmanager and ssm/
    )
  })
})
