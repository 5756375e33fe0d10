/** What one function's rollout is given: the run's configuration, clients, limits and what was read or done before it. */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import type { LambdaClient } from '@aws-sdk/client-lambda'
import type { RoleCoordinator, RoleOutcome } from './roleCoordinator.js'
import type { LayerResolver } from '../aws/layerResolver.js'
import type { DeliveryChecker } from '../clickstack/deliveryCheck.js'
import type { ActionConfig } from '../core/config.js'
import type { FunctionState, FunctionTarget } from '../core/model.js'
import type { UndoResult } from '../core/roleModel.js'
import type { InFlight } from './cancellation.js'
import type { Slots } from '../core/concurrency.js'
import type { RolloutGate } from '../core/rolloutGate.js'

/** A function read before the rollout began (to plan the execution roles), or why it could not be. */
export type PreRead = { readonly state: FunctionState } | { readonly error: unknown }

/** Everything a function's rollout needs besides its target. */
export interface RolloutContext {
  readonly config: ActionConfig
  readonly lambdaFor: (region: string) => LambdaClient
  /** The client for test invocations, with a timeout as long as a function may run; lambdaFor's when absent. */
  readonly invokerFor?: (region: string) => LambdaClient
  readonly logsFor: (region: string) => CloudWatchLogsClient
  readonly layers: LayerResolver
  readonly now?: () => number
  readonly sleep?: (ms: number) => Promise<void>
  /** True once the runner cancelled the step: nothing new is written, a write not yet verified is undone. */
  readonly isCancelled?: () => boolean
  /** Functions in flight register here, so that a hard stop can report them. */
  readonly inFlight?: Set<InFlight>
  /** Set when verify-delivery is warn or require. */
  readonly delivery?: DeliveryChecker | undefined
  /** Bounds the functions that read, write and invoke at once (max-concurrency). */
  readonly slots?: Slots
  /**
   * Bounds the functions that wait for their telemetry at once. Waiting holds no `slots` slot: a
   * function that only polls CloudWatch and ClickHouse lets the next function be written meanwhile.
   */
  readonly waitSlots?: Slots
  /** Execution roles, with every function planned on it by its ARN: set with cloudwatch-logs: off, and in remove. */
  readonly roles?: RoleCoordinator
  /** Functions read or listed before the rollout: not read again (their revision still guards the write). */
  readonly preRead?: ReadonlyMap<FunctionTarget, PreRead>
  /** Execution roles (ARN) this run will not write to, being the deploy role itself: why, in one sentence. */
  readonly ownRoleRefusals?: ReadonlyMap<string, string>
  /** remove: the roles' CloudWatch Logs restored before any function is written, by function ARN. */
  readonly restored?: ReadonlyMap<string, RoleOutcome<UndoResult>>
  /** When this run last wrote a policy a function's extension needs (secret access), by role name. */
  readonly roleWrittenAt?: Map<string, number>
  /** Secret access, checked or granted once per role and run: every function of the role reports the same. */
  readonly secretAccessByRole?: Map<string, ReturnType<RoleCoordinator['secretAccessForRole']>>
  /** The canary and failure-tolerance gate every function passes before its first write; none in plan and check. */
  readonly gate?: RolloutGate | undefined
  /** Called with each configuration read from AWS, before anything about it is said: its values become secrets. */
  readonly onRead?: (state: FunctionState) => void
}
