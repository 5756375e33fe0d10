/** One grammar of ARNs: the planner, the layer search and the workspace scan read a layer ARN alike. */
import { describe, expect, it } from '@jest/globals'
import {
  functionArnLocation,
  layerVersionArnShape,
  parseLayerVersionArn,
  roleNameOfArn
} from '../../../src/core/arns.js'
import { isRotelLayer } from '../../../src/core/plan.js'
import { findReferencesInText } from '../../../src/github/layerReferences.js'

const ROTEL = 'arn:aws:lambda:us-east-1:418653438961:layer:rotel-extension-arm64-alpha:12'

describe('layer version ARNs', () => {
  it('are read alike by the layer search, the planner and the workspace scan', () => {
    expect(parseLayerVersionArn(ROTEL)).toEqual({
      region: 'us-east-1',
      account: '418653438961',
      name: 'rotel-extension-arm64-alpha',
      version: 12
    })
    expect(layerVersionArnShape(ROTEL)).toEqual({ name: 'rotel-extension-arm64-alpha', version: 12 })
    expect(isRotelLayer(ROTEL)).toBe(true)
    expect(findReferencesInText(`Layers: [${ROTEL}]`, 'template.yml')).toHaveLength(1)
  })

  it('in every partition: the scan finds a GovCloud or ISO layer as the layer search reads it', () => {
    for (const arn of [
      'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:rotel-extension-amd64:3',
      'arn:aws-iso-b:lambda:us-isob-east-1:123456789012:layer:rotel-extension-amd64:3'
    ]) {
      expect(parseLayerVersionArn(arn)?.version).toBe(3)
      expect(findReferencesInText(arn, 'main.tf').map((reference) => reference.version)).toEqual([3])
    }
  })

  it('refuses, in the full parse, what only has the shape: a region of another partition, version 0', () => {
    const elsewhere = 'arn:aws-cn:lambda:us-east-1:123456789012:layer:rotel-extension-amd64:3'
    expect(layerVersionArnShape(elsewhere)).toEqual({ name: 'rotel-extension-amd64', version: 3 })
    expect(parseLayerVersionArn(elsewhere)).toBeUndefined()
    expect(parseLayerVersionArn(ROTEL.replace(/:12$/, ':0'))).toBeUndefined()
  })
})

describe('function and role ARNs', () => {
  it('locate a function without its qualifier, and name a role by the last part of its path', () => {
    expect(functionArnLocation('arn:aws:lambda:eu-west-1:123456789012:function:orders:live')).toEqual({
      arn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders',
      partition: 'aws',
      region: 'eu-west-1',
      account: '123456789012'
    })
    expect(roleNameOfArn('arn:aws:iam::123456789012:role/service-role/deploy')).toBe('deploy')
    expect(roleNameOfArn('arn:aws:iam::123456789012:user/deploy')).toBeUndefined()
  })
})
