/**
 * References to Secrets Manager secrets and Parameter Store parameters inside ROTEL_* settings, which
 * the extension resolves at start-up: `${arn:…}` inside a value, or `secret://arn:…` as the whole
 * value. A malformed one would only fail inside the function, where CloudWatch may be off, so the
 * syntax is checked here, before anything is written.
 */
import { arnLocationProblem } from './awsPartitions.js'
import { ARN_PARTS } from './arns.js'

export interface SecretReference {
  /** As written, e.g. `${arn:aws:ssm:us-east-1:123456789012:parameter/key}`. */
  readonly text: string
  /** The ARN without the `#key` suffix: what the execution role needs permission on. */
  readonly arn: string
  readonly service: 'secretsmanager' | 'ssm'
  readonly region: string
  readonly account: string
  /** The JSON key to select from a Secrets Manager secret. */
  readonly jsonKey: string | undefined
}

const SECRET_RESOURCE = /^secret:[A-Za-z0-9/_+=.@-]{1,512}$/
const PARAMETER_RESOURCE = /^parameter\/[A-Za-z0-9/_.-]{1,2048}$/

/** Finds the references in a setting's value; `problems` say, per bad reference, what is wrong and the fix. */
export function findSecretReferences(
  value: string,
  inputName: string
): { references: SecretReference[]; problems: string[] } {
  const references: SecretReference[] = []
  const problems: string[] = []
  const texts: Array<[string, string]> = []
  const whole = /^secret:\/\/(.*)$/s.exec(value.trim())
  if (whole) texts.push([value.trim(), whole[1] ?? ''])
  for (const match of value.matchAll(/\$\{([^}]*)\}/g)) texts.push([match[0], match[1] ?? ''])
  if (!whole && /secret:\/\//.test(value))
    problems.push(`${inputName}: a secret:// reference must be the whole value; use \${arn:…} inside a longer value.`)
  for (const [text, body] of texts) {
    const parsed = parseReference(text, body)
    if (typeof parsed === 'string') problems.push(`${inputName}: ${parsed}`)
    else references.push(parsed)
  }
  return { references, problems }
}

function parseReference(text: string, body: string): SecretReference | string {
  const hash = body.indexOf('#')
  const arn = hash === -1 ? body : body.slice(0, hash)
  const jsonKey = hash === -1 ? undefined : body.slice(hash + 1)
  const match = ARN_PARTS.exec(arn)
  if (!match)
    // Not an ARN: it may be part of a key that happens to hold "${", so it is not shown.
    return `a ${text.startsWith('secret://') ? 'secret:// value' : '${…}'} (not shown) is not a reference to a secret: write \${arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME} or \${arn:aws:ssm:REGION:ACCOUNT:parameter/NAME}.`
  const [, partition = '', service, region = '', account = '', resource = ''] = match
  if (service !== 'secretsmanager' && service !== 'ssm')
    return `${text} names the service "${service ?? ''}"; the extension resolves only secretsmanager and ssm references.`
  const location = arnLocationProblem(partition, region)
  if (location) return `${text} ${location}.`
  if (!/^\d{12}$/.test(account)) return `${text} has no 12-digit account ID.`
  if (service === 'secretsmanager' && !SECRET_RESOURCE.test(resource))
    return `${text} must name a secret as secret:NAME.`
  if (service === 'ssm' && !PARAMETER_RESOURCE.test(resource)) return `${text} must name a parameter as parameter/NAME.`
  if (jsonKey !== undefined) {
    if (service === 'ssm')
      return `${text} selects a JSON key (#${jsonKey}), which only Secrets Manager references can; drop it, or store the value alone.`
    if (jsonKey === '') return `${text} ends with # but names no JSON key.`
  }
  return { text, arn, service, region, account, jsonKey }
}
