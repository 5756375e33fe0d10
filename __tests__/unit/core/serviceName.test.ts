import { describe, expect, it } from '@jest/globals'
import { configuredServiceName } from '../../../src/core/serviceName.js'

describe('configuredServiceName', () => {
  it('reads service.name from the extension resource attributes; the last one wins, as the extension overrides', () => {
    expect(
      configuredServiceName({ ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=orders' })
    ).toBe('orders')
    expect(configuredServiceName({ ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'service.name=a,service.name=b' })).toBe('b')
  })

  it('is undefined when none is set: the extension then uses the function name', () => {
    expect(configuredServiceName(undefined)).toBeUndefined()
    expect(configuredServiceName({ ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=shop' })).toBeUndefined()
    expect(configuredServiceName({ ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'service.name=' })).toBeUndefined()
  })
})
