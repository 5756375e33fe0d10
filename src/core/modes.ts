/**
 * What each mode does, as data: what it reads, writes, invokes, reports and fails on. Code asks this
 * table instead of comparing the mode's name; a new mode is a new entry, which the compiler requires
 * to say everything the others say.
 */
import type { FunctionReport, FunctionStatus, Mode } from './model.js'

/** What a finished run's rows are judged on, for its last sentence. */
export interface VerdictInput {
  readonly rows: readonly FunctionReport[]
  /** "of N function(s)". */
  readonly of: string
  readonly names: (rows: FunctionReport[]) => string
  readonly failOnDrift: boolean
  /** With off, a function whose CloudWatch Logs could not be verified off fails the step. */
  readonly cloudwatchLogs: 'keep' | 'off'
}

/** One sentence for the end of the log, and whether the step fails. */
export interface Verdict {
  readonly failure: string | undefined
  readonly message: string
}

/** What one mode does. */
export interface ModePolicy {
  /** Reads the Rotel layer version to put on (remove takes off whichever is there, so it reads none). */
  readonly readsLayer: boolean
  /** What it writes to functions: the extension on, the extension off, or nothing (plan and check). */
  readonly writes: 'extension' | 'removal' | 'nothing'
  /**
   * What it does to execution roles with cloudwatch-logs: off (remove: whatever the action's record
   * says was done): switch their logs off, show that switch, check it, or restore their logs first.
   */
  readonly roles: 'switch-off' | 'preview' | 'check' | 'restore'
  /** Secret access of the roles: checked and, with grant-secret-access, granted; or shown as a plan when granting; or none. */
  readonly secretAccess: 'check-or-grant' | 'preview-grant' | 'none'
  /** After its test invocation, whether it verifies the telemetry (CloudWatch Logs, ClickStack delivery, the endpoint's preflight). */
  readonly verifiesTelemetry: boolean
  /** What it reports: the words and labels of the log, the job summary and the verdict. */
  readonly reports: {
    /** The status of a function this run changes (or would change). */
    readonly changeStatus: FunctionStatus
    /** plan and check: what a function that differs from the plan becomes; writing modes write instead. */
    readonly judgement: 'planned' | 'drifted' | undefined
    /** The start of the run's first log line ("Planning 3 functions"). */
    readonly verb: string
    /** The job summary's heading. */
    readonly title: string
    /** The summary's line when no function changes (or would change), and none failed. */
    readonly quiet: string
    /** A line under the summary's tally saying nothing was written, for modes that write nothing. */
    readonly nothingWritten: string | undefined
    /** The summary's heading over the execution roles. */
    readonly rolesHeading: string
    /** What a function that ends failed could not have done ("3 of 5 functions could not be planned"). */
    readonly failedWhat: string
    /** How a function whose plan has problems is said not to change ("was not changed"). */
    readonly notChanged: string
    /** How a function is said to fail when its role's work failed. */
    readonly roleFailure: (name: string, problem: string) => string
    /** The log line of a function with nothing to change. */
    readonly nothingToChange: string
    /** The log line's verb after the write ("Updated (revision 3)."); none for modes that write nothing. */
    readonly written: string | undefined
    /** Whether the run posts a plan comment on the pull request (with pr-comment). */
    readonly prComment: boolean
    /** Whether the workspace's layer ARNs are checked and annotated (with annotate-files). */
    readonly annotatesFiles: boolean
  }
  /** What fails it, beyond a function that failed or a cancelled run; the run's last sentence otherwise. */
  readonly verdict: (input: VerdictInput) => Verdict
}

const countOf = (rows: readonly FunctionReport[], status: FunctionStatus): number =>
  rows.filter((row) => row.status === status).length

/** Written and test-invoked, but the CloudWatch check could not tell (its detail says why); not one it skipped. */
const cloudWatchUnknown = (row: FunctionReport): boolean =>
  row.status === 'updated' && row.cloudwatch === 'unknown' && row.cloudwatchDetail !== null

/**
 * apply's verdict: a function whose logs could not be verified off fails the step with cloudwatch-logs: off
 * (its extension stays: only the proof is missing); with keep it is said, and the step succeeds.
 */
function applyVerdict({ rows, of, names, cloudwatchLogs }: VerdictInput): Verdict {
  const unknown = rows.filter(cloudWatchUnknown)
  const [first] = unknown
  if (first && cloudwatchLogs === 'off')
    return {
      failure: `${unknown.length} ${of} could not be verified to have CloudWatch Logs off (${names(unknown)}); ${names([first])}: ${first.cloudwatchDetail ?? ''}. The change was kept, not rolled back: the extension is on, only the proof that the logs no longer reach CloudWatch is missing.`,
      message: ''
    }
  const done =
    countOf(rows, 'updated') > 0
      ? 'Every function has the Rotel extension and its settings.'
      : 'Nothing changed: every function already had the Rotel extension and its settings.'
  if (!first) return { failure: undefined, message: done }
  return {
    failure: undefined,
    message: `${done} Whether CloudWatch Logs still receives their logs could not be checked for ${unknown.length} ${of} (${names(unknown)}); see the warnings.`
  }
}

/** Every mode's policy; `satisfies` makes the compiler check each mode has each entry. */
export const MODE_POLICY = {
  apply: {
    readsLayer: true,
    writes: 'extension',
    roles: 'switch-off',
    secretAccess: 'check-or-grant',
    verifiesTelemetry: true,
    reports: {
      changeStatus: 'updated',
      judgement: undefined,
      verb: 'Rolling the Rotel extension out to',
      title: 'Rotel Lambda Extension for ClickStack',
      quiet: 'Nothing to change: every function already has the target layer and settings.',
      nothingWritten: undefined,
      rolesHeading: 'CloudWatch Logs switched off',
      failedWhat: 'could not be instrumented',
      notChanged: 'was not',
      roleFailure: (name, problem) => `${name} was not changed: ${problem}`,
      nothingToChange: 'Already has the target layer and settings: nothing to change.',
      written: 'Updated',
      prComment: false,
      annotatesFiles: false
    },
    verdict: applyVerdict
  },
  plan: {
    readsLayer: true,
    writes: 'nothing',
    roles: 'preview',
    secretAccess: 'preview-grant',
    verifiesTelemetry: false,
    reports: {
      changeStatus: 'planned',
      judgement: 'planned',
      verb: 'Planning',
      title: 'Rotel Lambda Extension for ClickStack: plan',
      quiet: 'Every function is in sync: apply would change nothing.',
      nothingWritten: 'This is a plan: nothing was written.',
      rolesHeading: 'what apply would change',
      failedWhat: 'could not be planned',
      notChanged: 'could not be',
      roleFailure: (name, problem) => `${name} could not be planned: ${problem}`,
      nothingToChange: 'In sync: it already has the target layer and settings.',
      written: undefined,
      prComment: true,
      annotatesFiles: true
    },
    verdict: ({ rows, of }) => ({
      failure: undefined,
      message:
        countOf(rows, 'planned') > 0
          ? `Apply would change ${countOf(rows, 'planned')} ${of}; nothing was written.`
          : 'Apply would change nothing; nothing was written.'
    })
  },
  check: {
    readsLayer: true,
    writes: 'nothing',
    roles: 'check',
    secretAccess: 'none',
    verifiesTelemetry: false,
    reports: {
      changeStatus: 'drifted',
      judgement: 'drifted',
      verb: 'Checking',
      title: 'Rotel Lambda Extension for ClickStack: drift check',
      quiet: 'Every function is in sync: apply would change nothing.',
      nothingWritten: 'This is a check: nothing was written.',
      rolesHeading: 'CloudWatch Logs switched off',
      failedWhat: 'could not be checked',
      notChanged: 'could not be',
      roleFailure: (name, problem) => `${name} could not be checked: ${problem}`,
      nothingToChange: 'In sync: it already has the target layer and settings.',
      written: undefined,
      prComment: false,
      annotatesFiles: true
    },
    verdict: ({ rows, of, names, failOnDrift }) => {
      const drifted = rows.filter((row) => row.status === 'drifted')
      if (drifted.length > 0 && failOnDrift)
        return {
          failure: `${drifted.length} ${of} drifted from the target (${names(drifted)}); run the action in apply mode to bring them back, or set fail-on-drift: false to only report.`,
          message: ''
        }
      return {
        failure: undefined,
        message:
          drifted.length > 0
            ? `${drifted.length} ${of} drifted (${names(drifted)}); fail-on-drift is false, so the step succeeds.`
            : `All ${rows.length} functions are in sync.`
      }
    }
  },
  remove: {
    readsLayer: false,
    writes: 'removal',
    roles: 'restore',
    secretAccess: 'none',
    verifiesTelemetry: false,
    reports: {
      changeStatus: 'removed',
      judgement: undefined,
      verb: 'Removing the Rotel extension from',
      title: 'Rotel Lambda Extension for ClickStack: removal',
      quiet: 'Nothing to remove: no function has the Rotel layer or its settings.',
      nothingWritten: undefined,
      rolesHeading: 'CloudWatch Logs put back',
      failedWhat: 'could not have the extension removed',
      notChanged: 'was not',
      roleFailure: (name, problem) =>
        `${name} was not changed: CloudWatch Logs could not be switched back on for it first, and without it removing the extension would lose its logs. ${problem}`,
      nothingToChange: 'Has no Rotel layer and none of the settings: nothing to remove.',
      written: 'Removed',
      prComment: false,
      annotatesFiles: false
    },
    verdict: ({ rows, of }) => ({
      failure: undefined,
      message:
        countOf(rows, 'removed') > 0
          ? `Removed the Rotel extension from ${countOf(rows, 'removed')} ${of}.`
          : 'Nothing to remove: no function had the Rotel extension or its settings.'
    })
  }
} as const satisfies Record<Mode, ModePolicy>

/** The policy of a mode. */
export function policyOf(mode: Mode): ModePolicy {
  return MODE_POLICY[mode]
}

/** Whether the mode writes functions (apply, remove); plan and check only read and judge. */
export function writesFunctions(mode: Mode): boolean {
  return MODE_POLICY[mode].writes !== 'nothing'
}
