/**
 * The envelope's bookkeeping (scripts/aws-envelope.mjs) on its own, with a hand-driven clock: the rates per
 * class and Region, the seeded extra throttling, and DescribeLogStreams / ListFunctions answered as AWS does.
 * The same behaviour through the proxy, with real SDK clients and moto: envelopeProxy.test.ts.
 */
import { describe, expect, it } from '@jest/globals'
import {
  apiClassOf,
  createExtraThrottle,
  createRateLimiter,
  describeStreamsRequest,
  type EnvelopeOptions,
  envelopeSettings,
  laggedStream,
  lambdaStreamName,
  type LogStreamView,
  pageOfFunctions,
  pageOfStreams,
  type StreamsRequest,
  streamQueryKey
} from '../../scripts/aws-envelope.mjs'

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0)

function clocked(overrides: EnvelopeOptions = {}) {
  let now = T0
  const settings = envelopeSettings({ clock: () => now, ...overrides })
  if (!settings) throw new Error('no settings')
  return { settings, advance: (ms: number) => (now += ms) }
}

const lambdaCall = (operation: string, functionName = 'orders-api', region = 'us-east-1') => ({
  service: 'lambda',
  operation,
  region,
  functionName
})

describe('API classes', () => {
  it('puts every Lambda API but Invoke, GetFunction and GetPolicy into one control-plane class', () => {
    for (const operation of [
      'GetFunctionConfiguration',
      'UpdateFunctionConfiguration',
      'ListFunctions',
      'GetLayerVersion'
    ])
      expect(apiClassOf(lambdaCall(operation))).toBe('lambda:control')
    expect(apiClassOf(lambdaCall('GetFunction'))).toBe('lambda:GetFunction')
    expect(apiClassOf(lambdaCall('GetPolicy'))).toBe('lambda:GetPolicy')
    expect(apiClassOf(lambdaCall('Invoke'))).toBe('lambda:Invoke')
    expect(apiClassOf({ service: 'logs', operation: 'DescribeLogStreams' })).toBe('logs:DescribeLogStreams')
  })
})

describe('rates', () => {
  it('admits one second of the control-plane rate in a burst, then answers with the seconds to wait', () => {
    const { settings, advance } = clocked()
    const limiter = createRateLimiter(settings)
    const answers = Array.from({ length: 30 }, () => limiter.take('123456789012', 'us-east-1', 'lambda:control'))
    expect(answers.filter((a) => a === null)).toHaveLength(15)
    expect(answers.slice(15)).toEqual(Array(15).fill(1))
    // The bucket refills at the rate: after 200 ms three more calls go through, not four.
    advance(200)
    const refill = Array.from({ length: 4 }, () => limiter.take('123456789012', 'us-east-1', 'lambda:control'))
    expect(refill).toEqual([null, null, null, 1])
  })

  it('keeps a bucket per class, Region and account', () => {
    const { settings } = clocked()
    const limiter = createRateLimiter(settings)
    for (let i = 0; i < 15; i++) expect(limiter.take('123456789012', 'us-east-1', 'lambda:control')).toBeNull()
    expect(limiter.take('123456789012', 'us-east-1', 'lambda:control')).toBe(1)
    // GetFunction has its own 100/s; another Region and another account their own 15/s.
    for (let i = 0; i < 100; i++) expect(limiter.take('123456789012', 'us-east-1', 'lambda:GetFunction')).toBeNull()
    expect(limiter.take('123456789012', 'us-east-1', 'lambda:GetFunction')).toBe(1)
    expect(limiter.take('123456789012', 'eu-west-1', 'lambda:control')).toBeNull()
    expect(limiter.take('210987654321', 'us-east-1', 'lambda:control')).toBeNull()
    // Invoke is not rate-limited.
    for (let i = 0; i < 500; i++) expect(limiter.take('123456789012', 'us-east-1', 'lambda:Invoke')).toBeNull()
  })

  it('limits DescribeLogStreams to 5 a second, and takes overrides of rate and burst', () => {
    const { settings } = clocked({ rates: { 'logs:DescribeLogStreams': 25 }, burst: { 'lambda:control': 3 } })
    const limiter = createRateLimiter(settings)
    const logs = Array.from({ length: 26 }, () => limiter.take('a', 'us-east-1', 'logs:DescribeLogStreams'))
    expect(logs.filter((a) => a === null)).toHaveLength(25)
    const control = Array.from({ length: 4 }, () => limiter.take('a', 'us-east-1', 'lambda:control'))
    expect(control).toEqual([null, null, null, 1])
    const { settings: defaults } = clocked()
    const strict = createRateLimiter(defaults)
    const five = Array.from({ length: 6 }, () => strict.take('a', 'us-east-1', 'logs:DescribeLogStreams'))
    expect(five).toEqual([null, null, null, null, null, 1])
  })

  it('refuses bad figures, naming the field', () => {
    expect(() => envelopeSettings({ rates: { 'lambda:control': -1 } })).toThrow(/envelope\.rates\["lambda:control"\]/)
    expect(() => envelopeSettings({ extraThrottle: 2 })).toThrow(/envelope\.extraThrottle/)
    expect(() => envelopeSettings({ settleMs: Number.NaN })).toThrow(/envelope\.settleMs/)
    expect(envelopeSettings(undefined)).toBeNull()
    expect(envelopeSettings(true)?.settleMs).toBe(2000)
  })
})

describe('extra throttling', () => {
  const pattern = (seed: number, share: number) => {
    const { settings } = clocked({ extraThrottle: share })
    const throttle = createExtraThrottle(settings, seed)
    return Array.from({ length: 200 }, (_, i) =>
      throttle.refuses(lambdaCall('GetFunctionConfiguration', `fn-${i % 20}`), 'lambda:control') ? 'x' : '.'
    ).join('')
  }

  it('throttles about the share asked for, the same calls for the same seed, other calls for another', () => {
    const first = pattern(7, 0.2)
    expect(pattern(7, 0.2)).toBe(first)
    expect(pattern(8, 0.2)).not.toBe(first)
    const share = first.split('').filter((c) => c === 'x').length / first.length
    expect(share).toBeGreaterThan(0.1)
    expect(share).toBeLessThan(0.3)
  })

  it('leaves Invoke, STS and IAM alone', () => {
    const { settings } = clocked({ extraThrottle: 1 })
    const throttle = createExtraThrottle(settings, 1)
    expect(throttle.refuses(lambdaCall('Invoke'), 'lambda:Invoke')).toBe(false)
    expect(throttle.refuses({ service: 'sts', operation: 'GetCallerIdentity' }, 'sts:GetCallerIdentity')).toBe(false)
    expect(throttle.refuses(lambdaCall('GetFunction'), 'lambda:GetFunction')).toBe(true)
  })
})

describe('DescribeLogStreams under the lag', () => {
  const LAG = 60_000
  const stream = (name: string, eventAgeMs: number | undefined, createdAgoMs = 3_600_000): LogStreamView => ({
    logStreamName: name,
    creationTime: T0 - createdAgoMs,
    ...(eventAgeMs === undefined
      ? {}
      : {
          firstEventTimestamp: T0 - eventAgeMs,
          lastEventTimestamp: T0 - eventAgeMs,
          lastIngestionTime: T0 - eventAgeMs + 5
        })
  })
  const request = (body: Record<string, unknown>): StreamsRequest => {
    const checked = describeStreamsRequest(body)
    if (!checked.request) throw new Error(String(checked.error))
    return checked.request
  }
  const fresh = lambdaStreamName(T0, 'f'.repeat(32))
  const busy = Array.from({ length: 8 }, (_, i) =>
    stream(`2026/11/2${i}/[$LATEST]${String(i).repeat(32)}`, LAG + i * 1000)
  )
  const shownAll = () => [...busy, stream(fresh, 10, 20)].map((s) => laggedStream(s, undefined, T0, LAG).shown)

  it('names streams as Lambda does, with the UTC date', () => {
    expect(fresh).toBe(`2026/12/02/[$LATEST]${'f'.repeat(32)}`)
    expect(lambdaStreamName(Date.UTC(2026, 0, 1, 23, 59), '0'.repeat(32))).toMatch(/^2026\/01\/01\/\[\$LATEST\]0{32}$/)
    expect(lambdaStreamName(T0)).toMatch(/^2026\/12\/02\/\[\$LATEST\][0-9a-f]{32}$/)
  })

  it('shows a new stream with its creationTime but without event times until the lag has passed', () => {
    const young = stream(fresh, 10, 20)
    expect(laggedStream(young, undefined, T0, LAG).shown).toEqual({ logStreamName: fresh, creationTime: T0 - 20 })
    const later = laggedStream(young, undefined, T0 + LAG, LAG)
    expect(later.shown.lastEventTimestamp).toBe(T0 - 10)
    expect(later.remember?.lastEventTimestamp).toBe(T0 - 10)
    // Newer events behind an older, already shown value: the older value stays until the lag has passed.
    const written = { ...young, lastEventTimestamp: T0 + LAG - 5, lastIngestionTime: T0 + LAG }
    expect(laggedStream(written, later.remember, T0 + LAG, LAG).shown.lastEventTimestamp).toBe(T0 - 10)
  })

  it('orders by the shown lastEventTimestamp, so that busy streams hide the new one', () => {
    const page = pageOfStreams(shownAll(), request({ orderBy: 'LastEventTime', descending: true, limit: 5 }), 'g')
    if (page.error) throw new Error(page.error[1])
    expect(page.logStreams.map((s) => s.logStreamName)).toEqual(busy.slice(0, 5).map((s) => s.logStreamName))
    expect(page.nextToken).toBeDefined()
    const rest = pageOfStreams(
      shownAll(),
      request({ orderBy: 'LastEventTime', descending: true, limit: 5, nextToken: page.nextToken }),
      'g'
    )
    if (rest.error) throw new Error(rest.error[1])
    expect(rest.logStreams.map((s) => s.logStreamName)).toEqual([...busy.slice(5).map((s) => s.logStreamName), fresh])
    expect(rest.nextToken).toBeUndefined()
  })

  it("finds the new stream by today's prefix, in name order", () => {
    const page = pageOfStreams(shownAll(), request({ logStreamNamePrefix: '2026/12/02/' }), 'g')
    if (page.error) throw new Error(page.error[1])
    expect(page.logStreams.map((s) => s.logStreamName)).toEqual([fresh])
    const all = pageOfStreams(shownAll(), request({ descending: true, limit: 2 }), 'g')
    if (all.error) throw new Error(all.error[1])
    expect(all.logStreams.map((s) => s.logStreamName)).toEqual([fresh, busy[7]?.logStreamName])
  })

  it('refuses what CloudWatch refuses', () => {
    expect(describeStreamsRequest({ logStreamNamePrefix: '2026/', orderBy: 'LastEventTime' }).error).toEqual([
      'InvalidParameterException',
      'Cannot order by LastEventTime with a logStreamNamePrefix.'
    ])
    expect(describeStreamsRequest({ limit: 51 }).error?.[1]).toMatch(/less than or equal to 50/)
    expect(describeStreamsRequest({ orderBy: 'CreationTime' }).error?.[0]).toBe('InvalidParameterException')
    const first = pageOfStreams(shownAll(), request({ limit: 2 }), streamQueryKey('g', request({ limit: 2 })))
    if (first.error) throw new Error(first.error[1])
    // A token belongs to its query: another group's (or another order's) query refuses it.
    const other = request({ limit: 2, nextToken: first.nextToken })
    expect(pageOfStreams(shownAll(), other, streamQueryKey('h', other)).error?.[0]).toBe('InvalidParameterException')
  })
})

describe('ListFunctions', () => {
  const configs = Array.from({ length: 120 }, (_, i) => ({
    FunctionName: `fn-${i}`,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    Layers: []
  }))

  it('pages by 50 at most, with NextMarker, and leaves out State and LastUpdateStatus', () => {
    const names: string[] = []
    let marker: string | undefined
    let pages = 0
    do {
      const query = new URLSearchParams({ MaxItems: '200', ...(marker ? { Marker: marker } : {}) })
      const page = pageOfFunctions(configs, query, 50)
      if (page.error) throw new Error(page.error[1])
      expect(page.Functions.length).toBeLessThanOrEqual(50)
      for (const config of page.Functions) {
        expect(config).not.toHaveProperty('State')
        expect(config).not.toHaveProperty('LastUpdateStatus')
      }
      names.push(...page.Functions.map((config) => String(config.FunctionName)))
      marker = page.NextMarker
      pages++
    } while (marker)
    expect(pages).toBe(3)
    expect(names).toEqual(configs.map((config) => config.FunctionName))
    expect(pageOfFunctions(configs, new URLSearchParams({ Marker: 'bogus' }), 50).error?.[0]).toBe(
      'InvalidParameterValueException'
    )
  })
})
