/** The start-up checks of the telemetry side: what the reporter is told, and what ClickStack is asked, before any function is changed. */
import { describe, expect, it } from '@jest/globals'
import type { DeliveryChecker, DeliveryCheckerOptions } from '../../../src/clickstack/deliveryCheck.js'
import type { PreflightOptions, PreflightResult } from '../../../src/clickstack/preflight.js'
import { loadConfig } from '../../../src/core/config.js'
import { MemoryReporter } from '../../../src/github/memoryReporter.js'
import { openDeliveryChecker, preflightEndpoint, type TelemetryIo } from '../../../src/run/telemetryEndpoint.js'

const config = (inputs: Record<string, string> = {}) =>
  loadConfig(
    (name) =>
      ({
        functions: 'orders-api',
        'aws-region': 'us-east-1',
        'otlp-endpoint': 'https://clickstack.example.com:4318',
        'otlp-headers': 'Authorization=secret-ingestion-key,x-team=orders',
        ...inputs
      })[name] ?? '',
    {}
  )

/** Fakes of the ClickStack side that remember what they were asked. */
function io(preflight: PreflightResult, ready: { ok: boolean; reason?: string } = { ok: true }) {
  const reporter = new MemoryReporter()
  const sent: PreflightOptions[] = []
  const opened: DeliveryCheckerOptions[] = []
  const closed: DeliveryCheckerOptions[] = []
  const deps: TelemetryIo = {
    reporter,
    sendPreflight: async (options) => {
      sent.push(options)
      return preflight
    },
    createDeliveryChecker: (options) => {
      opened.push(options)
      return {
        check: async () => ready,
        close: async () => void closed.push(options),
        waitForDelivery: async () => {
          throw new Error('not in a start-up check')
        }
      } as DeliveryChecker
    }
  }
  return { reporter, sent, opened, closed, deps }
}

describe('preflightEndpoint', () => {
  it("sends the record to the endpoint with the run's headers, and says it was taken", async () => {
    const { reporter, sent, deps } = io({ ok: true, protocol: 'http' })
    await preflightEndpoint(config(), deps)
    expect(sent).toEqual([
      {
        endpoint: 'https://clickstack.example.com:4318',
        protocol: undefined,
        headers: { Authorization: 'secret-ingestion-key', 'x-team': 'orders' },
        timeoutMs: 10_000
      }
    ])
    expect(reporter.reported).toEqual([
      { kind: 'info', text: 'Preflight: https://clickstack.example.com:4318 took a test record over OTLP/HTTP.' }
    ])
  })

  it('says why when the record could not be tried, in a notice', async () => {
    const { reporter, deps } = io({ skipped: 'the headers hold secret references that only the function can resolve' })
    await preflightEndpoint(config(), deps)
    expect(reporter.reported).toEqual([
      {
        kind: 'notice',
        text: 'Preflight skipped: the headers hold secret references that only the function can resolve.',
        properties: { title: 'OTLP endpoint' }
      }
    ])
  })

  it('stops the run, before any function is changed, when the endpoint refuses the record', async () => {
    const { reporter, deps } = io({ ok: false, reason: 'HTTP 401 Unauthorized', kind: 'auth' } as PreflightResult)
    await expect(preflightEndpoint(config(), deps)).rejects.toThrow(
      'The OTLP endpoint check failed before any function was changed: HTTP 401 Unauthorized (Set preflight: false if only the functions can reach the endpoint.)'
    )
    expect(reporter.reported).toEqual([])
  })

  it('sends nothing when preflight is off, or outside apply', async () => {
    for (const inputs of [{ preflight: 'false' }, { mode: 'plan' }, { mode: 'check' }]) {
      const { reporter, sent, deps } = io({ ok: true, protocol: 'grpc' })
      await preflightEndpoint(config(inputs), deps)
      expect(sent).toEqual([])
      expect(reporter.reported).toEqual([])
    }
  })
})

describe('openDeliveryChecker', () => {
  const clickstack = { 'clickhouse-url': 'https://clickhouse.example.com:8443', 'clickhouse-password': 'pw-0123456789' }

  it('opens the checker once ClickHouse answers its test queries', async () => {
    const { reporter, opened, closed, deps } = io({ ok: true, protocol: 'http' })
    const checker = await openDeliveryChecker(config(clickstack), deps)
    expect(checker).toBeDefined()
    expect(opened).toEqual([
      expect.objectContaining({ url: 'https://clickhouse.example.com:8443', password: 'pw-0123456789' })
    ])
    expect(closed).toEqual([])
    expect(reporter.reported).toEqual([])
  })

  it('closes it and stops the run when ClickHouse cannot be queried', async () => {
    const { closed, deps } = io({ ok: true, protocol: 'http' }, { ok: false, reason: 'Authentication failed' })
    await expect(openDeliveryChecker(config(clickstack), deps)).rejects.toThrow(
      'ClickStack cannot be queried to verify delivery, so no function was changed: Authentication failed'
    )
    expect(closed).toHaveLength(1)
  })

  it('opens none without a test invocation, and says why', async () => {
    const { reporter, opened, deps } = io({ ok: true, protocol: 'http' })
    expect(await openDeliveryChecker(config({ ...clickstack, 'test-invoke': 'false' }), deps)).toBeUndefined()
    expect(opened).toEqual([])
    expect(reporter.annotations('warning').map(({ text }) => text)).toEqual([
      'verify-delivery needs the test invocation: with test-invoke false there is nothing to look for in ClickStack.'
    ])
  })

  it('opens none when delivery is not verified, or outside apply', async () => {
    for (const inputs of [{}, { ...clickstack, 'verify-delivery': 'off' }, { ...clickstack, mode: 'plan' }]) {
      const { reporter, opened, deps } = io({ ok: true, protocol: 'http' })
      expect(await openDeliveryChecker(config(inputs), deps)).toBeUndefined()
      expect(opened).toEqual([])
      expect(reporter.reported).toEqual([])
    }
  })
})
