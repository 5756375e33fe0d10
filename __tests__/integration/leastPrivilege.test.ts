/**
 * The deploy role needs only what docs/permissions.md lists (leastPrivilegeSuite.ts says how this is proven):
 * the modes (apply, plan, check, remove) and README's table against every case.
 */
import { leastPrivilegeSuite } from './leastPrivilegeSuite.js'

leastPrivilegeSuite('modes')
