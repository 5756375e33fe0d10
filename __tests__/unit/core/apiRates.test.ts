/** Which quota each call counts against, the published figures, and the run's pace line. */
import { describe, expect, it } from '@jest/globals'
import { API_QUOTAS, apiClassOf, DEFAULT_API_RATES, paceLines } from '../../../src/core/apiRates.js'

describe('apiClassOf', () => {
  it('puts every Lambda control-plane call in one class, GetFunction and GetPolicy in their own', () => {
    for (const command of [
      'GetFunctionConfigurationCommand',
      'UpdateFunctionConfigurationCommand',
      'ListFunctionsCommand',
      'GetLayerVersionCommand'
    ])
      expect(apiClassOf('lambda', command)).toEqual({ apiClass: 'lambda', key: 'lambda' })
    expect(apiClassOf('lambda', 'GetFunctionCommand')).toEqual({ apiClass: 'get-function', key: 'get-function' })
    expect(apiClassOf('lambda', 'GetPolicyCommand')).toEqual({ apiClass: 'get-policy', key: 'get-policy' })
  })

  it('leaves invocations unpaced: their quota is concurrency, not a request rate', () => {
    expect(apiClassOf('lambda', 'InvokeCommand')).toBeUndefined()
    expect(apiClassOf('lambda', 'InvokeWithResponseStreamCommand')).toBeUndefined()
  })

  it('paces DescribeLogStreams as its own class, any other Logs call per operation', () => {
    expect(apiClassOf('logs', 'DescribeLogStreamsCommand')).toEqual({
      apiClass: 'describe-log-streams',
      key: 'describe-log-streams'
    })
    expect(apiClassOf('logs', 'FilterLogEventsCommand')).toEqual({
      apiClass: 'other-logs',
      key: 'other-logs:FilterLogEvents'
    })
  })
})

describe('the published figures', () => {
  it("are AWS's defaults, fixed for Lambda and raisable for CloudWatch Logs", () => {
    expect(DEFAULT_API_RATES).toEqual({
      lambda: 15,
      'get-function': 100,
      'get-policy': 15,
      'describe-log-streams': 5,
      'other-logs': 5
    })
    expect(API_QUOTAS.lambda.raisable).toBe(false)
    expect(API_QUOTAS['describe-log-streams'].raisable).toBe(true)
    for (const quota of Object.values(API_QUOTAS)) expect(quota.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//)
  })
})

describe('paceLines', () => {
  it('gives one line per region, its buckets in order, leaving out buckets that sent nothing', () => {
    const lines = paceLines([
      { region: 'us-east-1', key: 'lambda', sent: 612, throttled: 3, gaveUp: 0, waitedMs: 41_230 },
      { region: 'eu-west-1', key: 'lambda', sent: 0, throttled: 0, gaveUp: 0, waitedMs: 0 },
      { region: 'us-east-1', key: 'describe-log-streams', sent: 300, throttled: 0, gaveUp: 1, waitedMs: 59_000 }
    ])
    expect(lines).toEqual([
      'API pace in eu-west-1: no paced calls.',
      'API pace in us-east-1: describe-log-streams 300 sent, 0 throttled, 1 given up, 59.0 s waited; lambda 612 sent, 3 throttled, 41.2 s waited.'
    ])
  })
})
