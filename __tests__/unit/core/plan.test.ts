import { describe, expect, it } from '@jest/globals'
import {
  type Desired,
  diffOf,
  driftOf,
  isRotelLayer,
  LOG_FORMAT_VARIABLE,
  loggingToRestore,
  planApply,
  planRemove,
  variablesSize
} from '../../../src/core/plan.js'
import type { FunctionState } from '../../../src/core/model.js'
import { PREVIOUS_VARIABLES_VARIABLE } from '../../../src/core/variableRecord.js'

const ROTEL_AMD64_42 = 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64-alpha:42'
const ROTEL_AMD64_40 = 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-amd64-alpha:40'
const ROTEL_ARM64_7 = 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64:7'
const USER_A = 'arn:aws:lambda:us-east-1:123456789012:layer:shared-utils:3'
const USER_B = 'arn:aws:lambda:us-east-1:123456789012:layer:pandas:12'

const state = (overrides: Partial<FunctionState> = {}): FunctionState => ({
  name: 'orders-api',
  arn: 'arn:aws:lambda:us-east-1:123456789012:function:orders-api',
  region: 'us-east-1',
  architecture: 'x86_64',
  packageType: 'Zip',
  layers: [],
  variables: undefined,
  revisionId: 'rev-1',
  logGroup: '/aws/lambda/orders-api',
  ...overrides
})

const desired = (overrides: Partial<Desired> = {}): Desired => ({
  layerArn: ROTEL_AMD64_42,
  layerArchitectures: ['x86_64'],
  architecture: 'auto',
  variables: { ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317' },
  layerNames: ['rotel-extension-amd64-alpha', 'rotel-extension-arm64-alpha'],
  ...overrides
})

describe('planApply: layers', () => {
  it('appends the Rotel layer after the user layers, keeping their order', () => {
    const plan = planApply(state({ layers: [USER_B, USER_A] }), desired())
    expect(plan.layersAfter).toEqual([USER_B, USER_A, ROTEL_AMD64_42])
    expect(plan.rotelLayerBefore).toBeNull()
    expect(plan.changed).toBe(true)
  })

  it('replaces an older Rotel layer in its place, not at the end', () => {
    const plan = planApply(state({ layers: [USER_A, ROTEL_AMD64_40, USER_B] }), desired())
    expect(plan.layersAfter).toEqual([USER_A, ROTEL_AMD64_42, USER_B])
    expect(plan.rotelLayerBefore).toBe(ROTEL_AMD64_40)
  })

  it('replaces a Rotel layer of the other line and the wrong architecture', () => {
    const plan = planApply(state({ layers: [ROTEL_ARM64_7, USER_A] }), desired())
    expect(plan.layersAfter).toEqual([ROTEL_AMD64_42, USER_A])
    expect(plan.rotelLayerBefore).toBe(ROTEL_ARM64_7)
  })

  it('drops a second Rotel layer, since two extensions would both start', () => {
    const plan = planApply(state({ layers: [ROTEL_AMD64_40, USER_A, ROTEL_ARM64_7] }), desired())
    expect(plan.layersAfter).toEqual([ROTEL_AMD64_42, USER_A])
  })

  it('treats a mirrored copy (another account, same name) as the Rotel layer', () => {
    const mirrored = 'arn:aws:lambda:us-east-1:999999999999:layer:rotel-extension-amd64-alpha:3'
    expect(planApply(state({ layers: [mirrored] }), desired()).layersAfter).toEqual([ROTEL_AMD64_42])
  })

  it('recognises a custom layer name given through layer-name', () => {
    const custom = 'arn:aws:lambda:us-east-1:123456789012:layer:my-rotel-amd64:9'
    const plan = planApply(
      state({ layers: [custom, USER_A] }),
      desired({ layerNames: ['my-rotel-amd64', 'my-rotel-arm64'] })
    )
    expect(plan.layersAfter).toEqual([ROTEL_AMD64_42, USER_A])
  })

  it('does not take layers with similar names for Rotel layers', () => {
    for (const arn of [
      'arn:aws:lambda:us-east-1:123456789012:layer:rotel-extension-amd64-alpha-fork:1',
      'arn:aws:lambda:us-east-1:123456789012:layer:my-rotel-extension-amd64:1',
      'arn:aws:lambda:us-east-1:123456789012:layer:rotel-extension-x86:1'
    ])
      expect(isRotelLayer(arn)).toBe(false)
  })

  it('refuses a sixth layer', () => {
    const five = [1, 2, 3, 4, 5].map((n) => `arn:aws:lambda:us-east-1:123456789012:layer:l${n}:1`)
    const plan = planApply(state({ layers: five }), desired())
    expect(plan.problems.join(' ')).toMatch(/6 layers and Lambda allows 5/)
  })

  it('allows five layers when the Rotel layer replaces one of them', () => {
    const four = [1, 2, 3, 4].map((n) => `arn:aws:lambda:us-east-1:123456789012:layer:l${n}:1`)
    const plan = planApply(state({ layers: [...four, ROTEL_AMD64_40] }), desired())
    expect(plan.problems).toEqual([])
    expect(plan.layersAfter).toHaveLength(5)
  })
})

describe('planApply: variables', () => {
  it('keeps every user variable and sets only the action keys', () => {
    const plan = planApply(
      state({ variables: { LOG_LEVEL: 'info', DB_HOST: 'db', ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://old:4317' } }),
      desired({ variables: { ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://new:4317', ROTEL_OTLP_EXPORTER_PROTOCOL: 'grpc' } })
    )
    expect(plan.variablesAfter).toEqual({
      LOG_LEVEL: 'info',
      DB_HOST: 'db',
      ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://new:4317',
      ROTEL_OTLP_EXPORTER_PROTOCOL: 'grpc',
      // The endpoint the function had before the action is the user's: recorded for remove.
      [PREVIOUS_VARIABLES_VARIABLE]: '{"ROTEL_OTLP_EXPORTER_ENDPOINT":"https://old:4317"}'
    })
    expect(plan.changedVariables).toEqual([
      'ROTEL_OTLP_EXPORTER_ENDPOINT',
      'ROTEL_OTLP_EXPORTER_PROTOCOL',
      PREVIOUS_VARIABLES_VARIABLE
    ])
  })

  it('plans no change when the function already has the layer and the settings', () => {
    const current = state({
      layers: [USER_A, ROTEL_AMD64_42],
      variables: { A: '1', ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317' }
    })
    const plan = planApply(current, desired())
    expect(plan.changed).toBe(false)
    expect(plan.changedVariables).toEqual([])
    expect(plan.layersChanged).toBe(false)
  })

  it('is idempotent: planning the planned configuration changes nothing', () => {
    const first = planApply(state({ layers: [ROTEL_ARM64_7, USER_A], variables: { X: 'y' } }), desired())
    const second = planApply(state({ layers: first.layersAfter, variables: first.variablesAfter }), desired())
    expect(second.changed).toBe(false)
  })

  it('refuses variables over 4 KB, measured as Lambda does (JSON)', () => {
    const big = { BIG: 'x'.repeat(4050) }
    expect(variablesSize({ A: 'b' })).toBe(9)
    const plan = planApply(state({ variables: big }), desired())
    expect(plan.problems.join(' ')).toMatch(/would take \d+ bytes and Lambda allows 4096/)
  })

  it('accepts variables of exactly 4096 bytes', () => {
    const endpoint = { ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317' }
    const base = variablesSize({ ...endpoint, PAD: '' })
    const plan = planApply(state({ variables: { PAD: 'p'.repeat(4096 - base) } }), desired())
    expect(variablesSize(plan.variablesAfter)).toBe(4096)
    expect(plan.problems).toEqual([])
  })

  it('refuses to leave a function with no telemetry destination', () => {
    const plan = planApply(state(), desired({ variables: {} }))
    expect(plan.problems.join(' ')).toMatch(/set otlp-endpoint/)
  })

  it('accepts a destination the function already has, or an env file', () => {
    expect(
      planApply(state({ variables: { ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://x:4317' } }), desired({ variables: {} }))
        .problems
    ).toEqual([])
    expect(planApply(state(), desired({ variables: { ROTEL_ENV_FILE: '/var/task/rotel.env' } })).problems).toEqual([])
  })
})

describe('planApply: functions that cannot take the layer', () => {
  it('refuses a container-image function', () => {
    expect(planApply(state({ packageType: 'Image' }), desired()).problems.join(' ')).toMatch(/container-image/)
  })

  it('refuses a layer whose architectures do not include the function', () => {
    const plan = planApply(state({ architecture: 'arm64' }), desired())
    expect(plan.problems.join(' ')).toMatch(/is for x86_64, not arm64/)
  })

  it('refuses a forced architecture that differs from the function', () => {
    const plan = planApply(state(), desired({ architecture: 'arm64', layerArchitectures: [] }))
    expect(plan.problems.join(' ')).toMatch(/architecture input says arm64/)
  })

  it('accepts a layer that declares no architectures', () => {
    expect(planApply(state(), desired({ layerArchitectures: [] })).problems).toEqual([])
  })
})

describe('planRemove', () => {
  const managed = ['ROTEL_OTLP_EXPORTER_ENDPOINT', 'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS', 'EXTRA']
  const names = ['rotel-extension-amd64-alpha', 'rotel-extension-arm64-alpha']

  it('takes off every Rotel layer and the managed keys, keeping the rest in order', () => {
    const plan = planRemove(
      state({
        layers: [USER_A, ROTEL_AMD64_40, USER_B, ROTEL_ARM64_7],
        variables: { A: '1', ROTEL_OTLP_EXPORTER_ENDPOINT: 'x', EXTRA: 'y', ROTEL_OTHER: 'kept' }
      }),
      managed,
      names
    )
    expect(plan.layersAfter).toEqual([USER_A, USER_B])
    expect(plan.variablesAfter).toEqual({ A: '1', ROTEL_OTHER: 'kept' })
    expect(plan.removedVariables).toEqual(['ROTEL_OTLP_EXPORTER_ENDPOINT', 'EXTRA'])
    expect(plan.rotelLayerBefore).toBe(ROTEL_AMD64_40)
    expect(plan.changed).toBe(true)
  })

  it('changes nothing on a function without the extension', () => {
    const plan = planRemove(state({ layers: [USER_A], variables: { A: '1' } }), managed, names)
    expect(plan.changed).toBe(false)
  })
})

describe('diffOf', () => {
  const current = state({
    layers: [ROTEL_AMD64_40],
    variables: {
      ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://old-endpoint.example:4317',
      DB_PASSWORD: 'hunter2-current',
      LOG_LEVEL: 'info-current-value',
      ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: 'Authorization=old-key'
    }
  })

  it("shows only the action's own values, stripped, and none of what the function holds now", () => {
    const plan = planApply(
      current,
      desired({
        variables: {
          ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://new-endpoint.example:4317/v1/traces?api_key=query-secret#frag',
          ROTEL_OTLP_EXPORTER_PROTOCOL: 'http',
          ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: 'Authorization=new-key',
          ROTEL_OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=tenant-4711,cloud.provider=aws',
          ROTEL_ENV_FILE: '/var/task/rotel.env',
          DATABASE_URL: 'postgres://app:s3cr3t-pw@db.internal/app',
          LOG_LEVEL: 'debug-new-value'
        }
      })
    )
    const diff = diffOf(current, plan)
    expect(diff.layers).toEqual({ before: [ROTEL_AMD64_40], after: [ROTEL_AMD64_42] })
    expect(diff.variables).toEqual([
      {
        name: 'ROTEL_OTLP_EXPORTER_ENDPOINT',
        change: 'changed',
        before: null,
        after: 'https://new-endpoint.example:4317/v1/traces',
        shown: true
      },
      { name: 'ROTEL_OTLP_EXPORTER_PROTOCOL', change: 'added', before: null, after: 'http', shown: true },
      { name: 'ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS', change: 'changed', before: null, after: null, shown: false },
      {
        name: 'ROTEL_OTEL_RESOURCE_ATTRIBUTES',
        change: 'added',
        before: null,
        after: 'service.namespace=***,cloud.provider=aws',
        shown: true
      },
      { name: 'ROTEL_ENV_FILE', change: 'added', before: null, after: '/var/task/rotel.env', shown: true },
      { name: 'DATABASE_URL', change: 'added', before: null, after: null, shown: false },
      { name: 'LOG_LEVEL', change: 'changed', before: null, after: null, shown: false },
      // The record of LOG_LEVEL's value from before: the user's value, hidden.
      { name: 'CLICKSTACK_ACTION_PREVIOUS_VARIABLES', change: 'added', before: null, after: null, shown: false }
    ])
    const text = JSON.stringify(diff)
    for (const value of [
      'old-endpoint',
      'hunter2',
      'info-current',
      'old-key',
      'new-key',
      'query-secret',
      'frag',
      'tenant-4711',
      's3cr3t',
      'debug-new'
    ])
      expect(text).not.toContain(value)
  })

  it('names removed variables only', () => {
    const removal = planRemove(current, ['DB_PASSWORD', 'ROTEL_OTLP_EXPORTER_ENDPOINT'], [])
    expect(diffOf(current, removal).variables).toEqual([
      { name: 'DB_PASSWORD', change: 'removed', before: null, after: null, shown: false },
      { name: 'ROTEL_OTLP_EXPORTER_ENDPOINT', change: 'removed', before: null, after: null, shown: false }
    ])
  })

  it("shows the instrumentation wrapper only when it is the action's own", () => {
    const wrapped = planApply(
      state({ layers: [] }),
      desired({
        instrumentation: {
          layerArn: 'arn:aws:lambda:us-east-1:901920570463:layer:aws-otel-nodejs-amd64-ver-1-30-2:1',
          wrapper: '/opt/otel-handler',
          layerNames: []
        }
      })
    )
    expect(diffOf(state({ layers: [] }), wrapped).variables).toContainEqual({
      name: 'AWS_LAMBDA_EXEC_WRAPPER',
      change: 'added',
      before: null,
      after: '/opt/otel-handler',
      shown: true
    })
    const own = planApply(
      state({ layers: [] }),
      desired({ variables: { ...desired().variables, AWS_LAMBDA_EXEC_WRAPPER: '/opt/my-wrapper' } })
    )
    expect(diffOf(state({ layers: [] }), own).variables).toContainEqual({
      name: 'AWS_LAMBDA_EXEC_WRAPPER',
      change: 'added',
      before: null,
      after: null,
      shown: false
    })
  })
})

describe('driftOf', () => {
  const drift = (current: FunctionState, target = ROTEL_AMD64_42): string[] =>
    driftOf(current, planApply(current, desired({ layerArn: target, layerArchitectures: [] })), target)

  it('names each kind of drift', () => {
    expect(drift(state({ layers: [USER_A] }))).toEqual([
      'the Rotel layer is missing',
      'ROTEL_OTLP_EXPORTER_ENDPOINT is missing'
    ])
    expect(
      drift(state({ layers: [ROTEL_AMD64_40], variables: { ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://x:4317' } }))
    ).toEqual(['the Rotel layer is version 40, older than the target 42', 'ROTEL_OTLP_EXPORTER_ENDPOINT differs'])
    expect(
      drift(
        state({
          layers: [ROTEL_AMD64_42],
          variables: { ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317' }
        }),
        ROTEL_AMD64_40
      )
    ).toEqual(['the Rotel layer is version 42, not the target 40'])
    expect(
      drift(
        state({
          architecture: 'arm64',
          layers: [ROTEL_AMD64_42],
          variables: { ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317' }
        }),
        'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64-alpha:42'
      )
    ).toEqual([
      'it has the amd64 Rotel layer (rotel-extension-amd64-alpha:42) but needs rotel-extension-arm64-alpha:42'
    ])
  })

  it('names two Rotel layers when the target is there but a second one is too', () => {
    expect(
      drift(
        state({
          layers: [ROTEL_AMD64_42, ROTEL_ARM64_7],
          variables: { ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317' }
        })
      )
    ).toEqual(['its layers hold more than one Rotel layer'])
  })
})

describe('planApply with auto-instrumentation', () => {
  const ADOT_NODE_OLD = 'arn:aws:lambda:us-east-1:901920570463:layer:aws-otel-nodejs-amd64-ver-1-18-1:4'
  const ADOT_NODE_NEW = 'arn:aws:lambda:us-east-1:901920570463:layer:aws-otel-nodejs-amd64-ver-1-30-2:1'
  const instrumentation = { layerArn: ADOT_NODE_NEW, wrapper: '/opt/otel-handler', layerNames: [] }

  it('adds the layer after the Rotel layer and sets the wrapper', () => {
    const plan = planApply(state({ layers: [USER_A] }), desired({ instrumentation }))
    expect(plan.layersAfter).toEqual([USER_A, ROTEL_AMD64_42, ADOT_NODE_NEW])
    expect(plan.variablesAfter.AWS_LAMBDA_EXEC_WRAPPER).toBe('/opt/otel-handler')
    expect(plan.changedVariables).toContain('AWS_LAMBDA_EXEC_WRAPPER')
  })

  it('replaces an older instrumentation layer in its place', () => {
    const plan = planApply(
      state({ layers: [ADOT_NODE_OLD, USER_A], variables: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/otel-handler' } }),
      desired({ instrumentation })
    )
    expect(plan.layersAfter).toEqual([ADOT_NODE_NEW, USER_A, ROTEL_AMD64_42])
  })

  it('refuses to replace a wrapper set for something else', () => {
    const plan = planApply(
      state({ variables: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/datadog_wrapper' } }),
      desired({ instrumentation })
    )
    expect(plan.problems.join(' ')).toMatch(/already \/opt\/datadog_wrapper, a wrapper for something else/)
  })

  it('counts the instrumentation layer against the 5-layer limit', () => {
    const four = [1, 2, 3, 4].map((n) => `arn:aws:lambda:us-east-1:123456789012:layer:l${n}:1`)
    expect(planApply(state({ layers: four }), desired({ instrumentation })).problems.join(' ')).toMatch(/6 layers/)
  })

  it('remove with instrumentation takes the layer and our wrapper off, and leaves a foreign wrapper', () => {
    const names = ['rotel-extension-amd64-alpha']
    const ours = planRemove(
      state({
        layers: [USER_A, ROTEL_AMD64_42, ADOT_NODE_NEW],
        variables: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/otel-handler', A: '1' }
      }),
      [],
      names,
      []
    )
    expect(ours.layersAfter).toEqual([USER_A])
    expect(ours.variablesAfter).toEqual({ A: '1' })
    const foreign = planRemove(
      state({ layers: [ADOT_NODE_NEW], variables: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/mine' } }),
      [],
      names,
      []
    )
    expect(foreign.variablesAfter).toEqual({ AWS_LAMBDA_EXEC_WRAPPER: '/opt/mine' })
    const without = planRemove(state({ layers: [ADOT_NODE_NEW] }), [], names)
    expect(without.changed).toBe(false)
  })
})

describe('json-logs', () => {
  const GROUP = '/custom/orders'
  const names = ['rotel-extension-amd64-alpha', 'rotel-extension-arm64-alpha']
  const ENDPOINT = { ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317' }
  /** A function the action already instrumented, logging Text to its own group. */
  const instrumented = (overrides: Partial<FunctionState> = {}): FunctionState =>
    state({
      layers: [USER_A, ROTEL_AMD64_42],
      variables: { A: '1', ...ENDPOINT },
      logging: { format: 'Text', logGroup: GROUP },
      ...overrides
    })
  const json = desired({ jsonLogs: true })
  const after = (current: FunctionState, plan: ReturnType<typeof planApply>): FunctionState => ({
    ...current,
    layers: plan.layersAfter,
    variables: plan.variablesAfter,
    logging: plan.loggingAfter ?? current.logging
  })

  it('switches Text to JSON, keeping the log group, and records Text', () => {
    const plan = planApply(instrumented(), json)
    expect(plan.loggingAfter).toEqual({ format: 'JSON', logGroup: GROUP })
    expect(plan.variablesAfter).toEqual({ A: '1', ...ENDPOINT, [LOG_FORMAT_VARIABLE]: 'Text' })
    expect(plan.changedVariables).toEqual([LOG_FORMAT_VARIABLE])
    expect(plan.layersChanged).toBe(false)
    expect(plan.changed).toBe(true)
    expect(plan.problems).toEqual([])
  })

  it('keeps the log levels the function has', () => {
    const current = instrumented({
      logging: { format: 'Text', applicationLogLevel: 'WARN', systemLogLevel: 'DEBUG', logGroup: GROUP }
    })
    expect(planApply(current, json).loggingAfter).toEqual({
      format: 'JSON',
      applicationLogLevel: 'WARN',
      systemLogLevel: 'DEBUG',
      logGroup: GROUP
    })
  })

  it('treats a function without LoggingConfig as Text (Lambda default), and writes no log group for it', () => {
    const plan = planApply(instrumented({ logging: undefined }), json)
    expect(plan.loggingAfter).toEqual({ format: 'JSON' })
    expect(plan.variablesAfter[LOG_FORMAT_VARIABLE]).toBe('Text')
  })

  it('changes nothing and records nothing on a function already on JSON', () => {
    const plan = planApply(
      instrumented({ logging: { format: 'JSON', applicationLogLevel: 'INFO', logGroup: GROUP } }),
      json
    )
    expect(plan.loggingAfter).toBeUndefined()
    expect(plan.changed).toBe(false)
    expect(plan.variablesAfter).not.toHaveProperty(LOG_FORMAT_VARIABLE)
  })

  it('leaves the log format alone when json-logs is false', () => {
    const plan = planApply(instrumented(), desired())
    expect(plan.loggingAfter).toBeUndefined()
    expect(plan.changed).toBe(false)
  })

  it('is idempotent: the planned configuration plans no change', () => {
    const current = instrumented({ layers: [USER_A] })
    const first = planApply(current, json)
    const second = planApply(after(current, first), json)
    expect(second.changed).toBe(false)
    expect(second.loggingAfter).toBeUndefined()
    expect(second.changedVariables).toEqual([])
  })

  it('shows the format in the diff, and nothing about it when it does not change', () => {
    const current = instrumented()
    const diff = diffOf(current, planApply(current, json))
    expect(diff.logFormat).toEqual({ before: 'Text', after: 'JSON' })
    expect(diff.variables).toEqual([
      { name: LOG_FORMAT_VARIABLE, change: 'added', before: null, after: 'Text', shown: true }
    ])
    expect(diffOf(current, planApply(current, desired()))).not.toHaveProperty('logFormat')
  })

  it('names the format as drift, without naming its record', () => {
    const current = instrumented()
    expect(driftOf(current, planApply(current, json), ROTEL_AMD64_42)).toEqual([
      'log format is Text, json-logs wants JSON'
    ])
  })

  it('remove puts Text back with the log group only, and drops the record', () => {
    const current = instrumented({
      variables: { A: '1', ...ENDPOINT, [LOG_FORMAT_VARIABLE]: 'Text' },
      logging: { format: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'WARN', logGroup: GROUP }
    })
    const plan = planRemove(current, Object.keys(ENDPOINT), names)
    expect(plan.loggingAfter).toEqual({ format: 'Text', logGroup: GROUP })
    expect(plan.variablesAfter).toEqual({ A: '1' })
    expect(plan.removedVariables).toEqual([...Object.keys(ENDPOINT), LOG_FORMAT_VARIABLE])
    expect(diffOf(current, plan).logFormat).toEqual({ before: 'JSON', after: 'Text' })
    // Idempotent.
    expect(planRemove(after(current, plan), Object.keys(ENDPOINT), names).changed).toBe(false)
  })

  it('remove leaves JSON that the action did not set, and only drops a record when the format is Text already', () => {
    const ownJson = instrumented({ logging: { format: 'JSON', logGroup: GROUP } })
    expect(planRemove(ownJson, Object.keys(ENDPOINT), names).loggingAfter).toBeUndefined()
    const switchedBack = instrumented({ variables: { A: '1', [LOG_FORMAT_VARIABLE]: 'Text' } })
    const plan = planRemove(switchedBack, [], names)
    expect(plan.loggingAfter).toBeUndefined()
    expect(plan.removedVariables).toEqual([LOG_FORMAT_VARIABLE])
    expect(plan.changed).toBe(true)
  })

  it('loggingToRestore gives Text with its group only, and JSON with its levels', () => {
    expect(
      loggingToRestore(instrumented({ logging: { format: 'Text', applicationLogLevel: 'WARN', logGroup: GROUP } }))
    ).toEqual({
      format: 'Text',
      logGroup: GROUP
    })
    expect(loggingToRestore(instrumented({ logging: undefined }))).toEqual({ format: 'Text' })
    const jsonLogging = { format: 'JSON', applicationLogLevel: 'ERROR', systemLogLevel: 'INFO', logGroup: GROUP }
    expect(loggingToRestore(instrumented({ logging: jsonLogging }))).toEqual(jsonLogging)
  })
})

describe('the record of the variables the action replaced', () => {
  const names = ['rotel-extension-amd64-alpha', 'rotel-extension-arm64-alpha']
  const ENDPOINT = { ROTEL_OTLP_EXPORTER_ENDPOINT: 'https://clickstack.example.com:4317' }
  const wanted = desired({ variables: { ...ENDPOINT, LOG_LEVEL: 'debug', NEW_VAR: 'x' } })
  const managedKeys = ['ROTEL_OTLP_EXPORTER_ENDPOINT', 'LOG_LEVEL', 'NEW_VAR']
  const written = (current: FunctionState, plan: ReturnType<typeof planApply>): FunctionState => ({
    ...current,
    layers: plan.layersAfter,
    variables: plan.variablesAfter
  })
  const original = state({ layers: [USER_A], variables: { LOG_LEVEL: 'info', DB_HOST: 'db' } })

  it("records the user's previous value and the names that were absent, but not the action's own settings", () => {
    const plan = planApply(original, wanted)
    expect(JSON.parse(plan.variablesAfter[PREVIOUS_VARIABLES_VARIABLE] ?? '')).toEqual({
      LOG_LEVEL: 'info',
      NEW_VAR: null
    })
    expect(plan.variablesAfter).toMatchObject({ LOG_LEVEL: 'debug', NEW_VAR: 'x', DB_HOST: 'db', ...ENDPOINT })
    expect(plan.changedVariables).toContain(PREVIOUS_VARIABLES_VARIABLE)
  })

  it('writes nothing the second time, and keeps the value from before the action when the input changes', () => {
    const first = written(original, planApply(original, wanted))
    expect(planApply(first, wanted).changed).toBe(false)
    // A new value in `environment` (or a hand edit the next apply corrects): the record still holds `info`.
    const edited = { ...first, variables: { ...first.variables, LOG_LEVEL: 'warn' } }
    const second = planApply(edited, desired({ variables: { ...ENDPOINT, LOG_LEVEL: 'trace', NEW_VAR: 'x' } }))
    expect(second.changedVariables).toEqual(['LOG_LEVEL'])
    expect(second.variablesAfter[PREVIOUS_VARIABLES_VARIABLE]).toBe(first.variables?.[PREVIOUS_VARIABLES_VARIABLE])
  })

  it('remove puts back the previous value, deletes what was absent, and leaves the rest byte for byte', () => {
    const applied = written(original, planApply(original, wanted))
    const removal = planRemove(applied, managedKeys, names)
    expect(removal.variablesAfter).toEqual(original.variables)
    expect(removal.layersAfter).toEqual(original.layers)
    expect(removal.changedVariables).toEqual(['LOG_LEVEL'])
    expect([...removal.removedVariables].sort()).toEqual(
      ['NEW_VAR', PREVIOUS_VARIABLES_VARIABLE, 'ROTEL_OTLP_EXPORTER_ENDPOINT'].sort()
    )
    // What a remove run's `environment` says does not matter any more: the record does.
    expect(planRemove(applied, [], names).variablesAfter).toEqual(original.variables)
    expect(planRemove(written(applied, removal), managedKeys, names).changed).toBe(false)
  })

  it("keeps a variable the user already had with the action's value, on a function the action never touched", () => {
    const same = state({ variables: { LOG_LEVEL: 'debug' } })
    const applied = written(same, planApply(same, desired({ variables: { ...ENDPOINT, LOG_LEVEL: 'debug' } })))
    expect(planRemove(applied, [...managedKeys], names).variablesAfter).toEqual({ LOG_LEVEL: 'debug' })
  })

  it('takes the settings of a function set up before the record as the earlier run’s, and records only when writing', () => {
    const earlier = state({ layers: [ROTEL_AMD64_42], variables: { ...ENDPOINT, LOG_LEVEL: 'debug', NEW_VAR: 'x' } })
    // Already in sync: no write, so no record (it is never a change by itself).
    expect(planApply(earlier, wanted).changed).toBe(false)
    const upgrade = planApply({ ...earlier, layers: [ROTEL_AMD64_40] }, wanted)
    expect(JSON.parse(upgrade.variablesAfter[PREVIOUS_VARIABLES_VARIABLE] ?? '')).toEqual({
      LOG_LEVEL: null,
      NEW_VAR: null
    })
  })

  it('hides the record and the values it holds or gives back in diffs, and never names it as drift', () => {
    const secretish = state({ layers: [USER_A], variables: { LOG_LEVEL: 'hunter2-value' } })
    const apply = planApply(secretish, wanted)
    const applyDiff = JSON.stringify(diffOf(secretish, apply))
    expect(applyDiff).not.toContain('hunter2-value')
    expect(diffOf(secretish, apply).variables).toContainEqual({
      name: PREVIOUS_VARIABLES_VARIABLE,
      change: 'added',
      before: null,
      after: null,
      shown: false
    })
    expect(driftOf(secretish, apply, ROTEL_AMD64_42).join(' ')).not.toContain(PREVIOUS_VARIABLES_VARIABLE)
    const applied = written(secretish, apply)
    const removal = planRemove(applied, managedKeys, names)
    expect(JSON.stringify(diffOf(applied, removal))).not.toContain('hunter2-value')
  })

  it('refuses a record edited by hand, in apply and in remove, without echoing it', () => {
    for (const broken of [
      '{"LOG_LEVEL":',
      '["LOG_LEVEL"]',
      '{"LOG_LEVEL":5}',
      '{"bad name":"v"}',
      'null',
      'secret-ish-text'
    ]) {
      const current = state({
        layers: [ROTEL_AMD64_42],
        variables: { ...ENDPOINT, LOG_LEVEL: 'debug', [PREVIOUS_VARIABLES_VARIABLE]: broken }
      })
      for (const plan of [planApply(current, wanted), planRemove(current, managedKeys, names)]) {
        expect(plan.problems).toHaveLength(1)
        expect(plan.problems[0]).toContain(PREVIOUS_VARIABLES_VARIABLE)
        expect(plan.problems[0]).not.toContain(broken)
      }
    }
  })

  it('takes a name like an Object.prototype member (constructor) as a name like any other', () => {
    const own = state({ layers: [USER_A], variables: { constructor: 'mine', toString: 'also' } })
    const plan = planApply(own, desired({ variables: { ...ENDPOINT, constructor: 'ours', valueOf: 'x' } }))
    expect(JSON.parse(plan.variablesAfter[PREVIOUS_VARIABLES_VARIABLE] ?? '')).toEqual({
      constructor: 'mine',
      valueOf: null
    })
    const removal = planRemove(written(own, plan), [], names)
    expect(removal.variablesAfter).toEqual(own.variables)
  })

  it('counts the record towards the 4 KB limit', () => {
    const value = 'v'.repeat(2000)
    const big = state({ variables: { LOG_LEVEL: value, PAD: 'p'.repeat(1950) } })
    const plan = planApply(big, desired({ variables: { ...ENDPOINT, LOG_LEVEL: 'debug' } }))
    // Without the record (2 KB more) the variables would fit.
    expect(variablesSize({ ...big.variables, ...ENDPOINT, LOG_LEVEL: 'debug' })).toBeLessThan(4096)
    expect(plan.problems.join(' ')).toMatch(/would take \d+ bytes and Lambda allows 4096/)
  })
})
