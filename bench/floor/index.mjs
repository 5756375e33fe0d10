// The floor of this stack's start-up: a bundle that only loads @actions/core and the four AWS
// clients the action depends on, then fails on a missing input the way the action does. bench/run.mjs
// builds it with ncc (the action's own build flags) into a temp dir and times it beside dist/index.js.
import * as core from '@actions/core'
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { IAMClient } from '@aws-sdk/client-iam'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { STSClient } from '@aws-sdk/client-sts'

const clients = [LambdaClient, CloudWatchLogsClient, STSClient, IAMClient]
const functions = core.getInput('functions')
if (!functions) core.setFailed(`Input required and not supplied: functions (${clients.length} clients loaded)`)
