/**
 * The words every layer of the action shares: modes, architectures, the functions of a run, what is read
 * of them, and the report of what was done. Types and constructors only; no I/O.
 */
import type { LayerVersion } from './layerVersions.js'
import type { InvocationFigures } from './invocationReport.js'

/** A function's instruction set, as Lambda names it. */
export type Architecture = 'x86_64' | 'arm64'

/** What a run may do: write, show a plan, check for drift, or take the extension off. */
export const MODES = ['apply', 'plan', 'check', 'remove'] as const

/** One of MODES, the `mode` input. */
export type Mode = (typeof MODES)[number]

/** A function the user listed, as far as it can be known without asking AWS. */
export interface FunctionTarget {
  /** What the user wrote, for messages. */
  readonly given: string
  readonly name: string
  readonly region: string
  /** Set when the user gave an ARN. */
  readonly account: string | undefined
  readonly partition: string
}

/** A function's LoggingConfig, as read or as written; Lambda's formats are Text (its default) and JSON. */
export interface LoggingConfig {
  readonly format: string
  /** Only valid with JSON: Lambda refuses the levels with Text. */
  readonly applicationLogLevel?: string | undefined
  readonly systemLogLevel?: string | undefined
  /** Undefined for Lambda's default, /aws/lambda/<function name>. */
  readonly logGroup?: string | undefined
}

/** What the planner needs to know of a function, read from GetFunction or listed by ListFunctions. */
export interface FunctionState {
  readonly name: string
  readonly arn: string
  readonly region: string
  readonly architecture: Architecture
  readonly packageType: 'Zip' | 'Image'
  /** Layer version ARNs, in the function's order. */
  readonly layers: readonly string[]
  /** Undefined when the function has no Environment at all, which Lambda treats like an empty map. */
  readonly variables: Readonly<Record<string, string>> | undefined
  readonly revisionId: string | undefined
  readonly logGroup: string
  readonly runtime?: string | undefined
  /** The execution role's ARN. */
  readonly role?: string | undefined
  /** Its LoggingConfig as read; undefined when Lambda returned none (then the format is Text). */
  readonly logging?: LoggingConfig | undefined
  /** MemorySize as read, in MB: what the memory headroom is measured against. */
  readonly memorySizeMb?: number | undefined
}

/** One variable the write adds, changes or removes, as the diff shows it. */
export interface VariableChange {
  readonly name: string
  readonly change: 'added' | 'changed' | 'removed'
  /** Always null: a function's current values are never shown, in any channel. */
  readonly before: null
  /** The new value as displayValue may show it; null when removed or shown by name only. */
  readonly after: string | null
  /** Whether `after` shows the value; false: the variable is shown by name only. */
  readonly shown: boolean
}

/** What a write changes on a function: layers in order, variables by name, the log format. */
export interface PlanDiff {
  readonly layers: { readonly before: readonly string[]; readonly after: readonly string[] }
  readonly variables: readonly VariableChange[]
  /** LoggingConfig.LogFormat (Text or JSON, an AWS enum), present only when the write changes it. */
  readonly logFormat?: { readonly before: string; readonly after: string }
}

/** Whether CloudWatch Logs still receives a function's logs after the run. */
export type CloudWatchStatus = 'off' | 'on' | 'unknown'

/** What a run did, or in plan mode would do, to a function's execution role (CloudWatch Logs, secret access). */
export interface ExecutionRoleReport {
  readonly role: string
  /** In words, one change a line; empty when the role already was as it should be. */
  readonly changes: string[]
}

/** Whether a test invocation's telemetry reached ClickStack, as the delivery check saw it. */
export interface DeliveryReport {
  status: 'delivered' | 'not-delivered' | 'error'
  logRecords: number
  spans: number
  /** From the invocation to the first poll that saw its records: an upper bound. */
  firstArrivalMs: number | null
  withInvocationId: boolean
  /** The HyperDX search for this function and the invocation's time window. */
  link: string | null
  detail: string | null
}

/**
 * A function's status in the `report` output. apply: updated/unchanged; plan: planned/in-sync; check:
 * drifted/in-sync; remove: removed/unchanged; all: failed, rolled-back, cancelled; apply and remove:
 * skipped (not started, nothing written: the canary failed, or more functions failed than failure-tolerance allows).
 */
export type FunctionStatus =
  | 'updated'
  | 'unchanged'
  | 'planned'
  | 'in-sync'
  | 'drifted'
  | 'removed'
  | 'failed'
  | 'rolled-back'
  | 'cancelled'
  | 'skipped'

/** One row of the `report` output. */
export interface FunctionReport {
  function: string
  arn: string | null
  region: string
  architecture: Architecture | null
  status: FunctionStatus
  layerBefore: string | null
  layerAfter: string | null
  layersBefore: string[]
  layersAfter: string[]
  changedVariables: string[]
  invocation: {
    status: 'ok' | 'failed' | 'skipped'
    statusCode: number | null
    functionError: string | null
    /** The figures of Lambda's REPORT line for the test invocation; null when its tail had none to trust. */
    report?: InvocationFigures | null
    /** Its Max Memory Used came within memory-headroom of the memory size. */
    lowMemory?: boolean
    /** The same function's figures in the report compare-report names; null when it has none. */
    before?: InvocationFigures | null
  }
  cloudwatch: CloudWatchStatus
  /** What the CloudWatch check saw (the new stream, what it looked through, or why it could not tell); null when it did not look. */
  cloudwatchDetail: string | null
  /** What the mode's write changes (or would change): layers in order, variables by name, values only where proven safe. */
  diff: PlanDiff | null
  /** check mode: what differs from the target, in words. */
  drift: string[]
  /** Whether the test invocation's telemetry reached ClickStack; null when not verified. */
  delivery: DeliveryReport | null
  /** cloudwatch-logs: off, and remove: what was (plan: would be) done to the execution role. */
  executionRole: ExecutionRoleReport | null
  error: string | null
}

/** What one function's rollout leaves besides its report row: its log and the layer it used. */
export interface FunctionOutcome {
  readonly report: FunctionReport
  readonly layer: LayerVersion | undefined
  readonly log: readonly string[]
  /** Said as an annotation, beside the error. */
  readonly warnings: readonly string[]
  /** The topic a warning's annotation is titled by (`<function>: <topic>`), by the warning's text. */
  readonly warningTopics?: Readonly<Record<string, string>>
  /** Said as notices: worth knowing, nothing wrong. */
  readonly notices?: readonly string[]
  /** The failed test invocation's log tail (bounded), shown in the summary. */
  readonly logTail?: string
  /** Failed only because CloudWatch Logs still receives its logs: it has the extension, working. */
  readonly cloudwatchStillOn?: boolean
}

/** A report row before anything is known of the function. */
export function emptyReport(target: FunctionTarget): FunctionReport {
  return {
    function: target.name,
    arn: null,
    region: target.region,
    architecture: null,
    status: 'failed',
    layerBefore: null,
    layerAfter: null,
    layersBefore: [],
    layersAfter: [],
    changedVariables: [],
    invocation: {
      status: 'skipped',
      statusCode: null,
      functionError: null,
      report: null,
      lowMemory: false,
      before: null
    },
    cloudwatch: 'unknown',
    cloudwatchDetail: null,
    diff: null,
    drift: [],
    delivery: null,
    executionRole: null,
    error: null
  }
}

/** A Rotel layer version ARN with an explicit version, where it is written. */
export interface LayerReference {
  /** Workspace-relative, with `/` separators. */
  file: string
  /** 1-based. */
  line: number
  /** 1-based, in UTF-16 code units as JavaScript counts them. */
  column: number
  /** The ARN as written, placeholders included. */
  text: string
  /** Undefined when the region is a placeholder (`${AWS::Region}`, `${var.region}`, `{region}`...). */
  region: string | undefined
  /** Undefined when the account is a placeholder. */
  account: string | undefined
  name: string
  architecture: 'x86_64' | 'arm64'
  version: number
}
