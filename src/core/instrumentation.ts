/**
 * AWS's OpenTelemetry (ADOT) auto-instrumentation layers: which one a function's runtime takes, its
 * ARN, and the wrapper that turns it on.
 */
import type { Architecture } from './model.js'
import { layerVersionArnShape } from './arns.js'

export type Language = 'nodejs' | 'python' | 'java'
export const INSTRUMENTATION_SETTINGS = ['none', 'auto', 'nodejs', 'python', 'java'] as const
export type InstrumentationSetting = (typeof INSTRUMENTATION_SETTINGS)[number]

export const ADOT_ACCOUNT = '901920570463'

/**
 * The default layer per language, `{arch}` being amd64 or arm64. The version is part of the layer's
 * name, so there is no "latest" to look up: these are the newest versions found in public sources
 * on 2026-11-25 – Node.js 1.30.2 from the ClickStack Lambda guide, Python 1.20.0 and the Java agent
 * 1.32.0 from the AWS Distro for OpenTelemetry Lambda pages. `instrumentation-layer` overrides them.
 */
export const DEFAULT_INSTRUMENTATION_LAYERS: Readonly<Record<Language, string>> = {
  nodejs: `arn:aws:lambda:{region}:${ADOT_ACCOUNT}:layer:aws-otel-nodejs-{arch}-ver-1-30-2:1`,
  python: `arn:aws:lambda:{region}:${ADOT_ACCOUNT}:layer:aws-otel-python-{arch}-ver-1-20-0:3`,
  java: `arn:aws:lambda:{region}:${ADOT_ACCOUNT}:layer:aws-otel-java-agent-{arch}-ver-1-32-0:2`
}

/** What AWS_LAMBDA_EXEC_WRAPPER must say for each language's layer to instrument the handler. */
export const WRAPPERS: Readonly<Record<Language, string>> = {
  nodejs: '/opt/otel-handler',
  python: '/opt/otel-instrument',
  java: '/opt/otel-handler'
}

export const WRAPPER_VARIABLE = 'AWS_LAMBDA_EXEC_WRAPPER'

const ADOT_LAYER_NAME = /^aws-otel-(nodejs|python|java-agent|java-wrapper|collector)-(amd64|arm64)-ver-[0-9-]+$/

/** Whether a layer version ARN is one of ADOT's Lambda layers (any language, arch or version). */
export function isInstrumentationLayer(layerArn: string, extraNames: readonly string[] = []): boolean {
  const name = layerVersionArnShape(layerArn)?.name
  return name !== undefined && (ADOT_LAYER_NAME.test(name) || extraNames.includes(name))
}

/** The language a setting selects for a runtime; undefined when the runtime has no ADOT layer (or the setting is none). */
export function languageFor(setting: InstrumentationSetting, runtime: string | undefined): Language | undefined {
  if (setting === 'none') return undefined
  if (setting !== 'auto') return setting
  if (!runtime) return undefined
  if (runtime.startsWith('nodejs')) return 'nodejs'
  if (runtime.startsWith('python')) return 'python'
  if (runtime.startsWith('java')) return 'java'
  return undefined
}

/** The layer ARN for a language, region and architecture, from the override template or the shipped table. */
export function instrumentationLayerArn(
  language: Language,
  region: string,
  architecture: Architecture,
  template: string | undefined
): string {
  return (template ?? DEFAULT_INSTRUMENTATION_LAYERS[language])
    .replaceAll('{region}', region)
    .replaceAll('{arch}', architecture === 'arm64' ? 'arm64' : 'amd64')
    .replaceAll('{language}', language)
}

/** Whether an instrumentation-layer template yields a layer version ARN once filled in. */
export function isValidInstrumentationTemplate(template: string): boolean {
  return layerVersionArnShape(instrumentationLayerArn('nodejs', 'us-east-1', 'x86_64', template)) !== undefined
}

/** The layer names an instrumentation-layer template gives, for every language and architecture: what counts as ours. */
export function instrumentationLayerNames(region: string, template: string | undefined): string[] {
  if (!template) return []
  const names = (['nodejs', 'python', 'java'] as const).flatMap((language) =>
    (['x86_64', 'arm64'] as const).map(
      (arch) => layerVersionArnShape(instrumentationLayerArn(language, region, arch, template))?.name ?? ''
    )
  )
  return [...new Set(names.filter((name) => name !== ''))]
}
