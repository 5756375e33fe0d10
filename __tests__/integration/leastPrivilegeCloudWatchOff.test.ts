/**
 * The deploy role needs only what docs/permissions.md lists (leastPrivilegeSuite.ts says how this is proven):
 * cloudwatch-logs: off and its detach method, in every mode.
 */
import { leastPrivilegeSuite } from './leastPrivilegeSuite.js'

leastPrivilegeSuite('cloudwatch-logs-off')
