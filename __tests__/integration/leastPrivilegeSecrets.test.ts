/**
 * The deploy role needs only what docs/permissions.md lists (leastPrivilegeSuite.ts says how this is proven):
 * grant-secret-access, and the role writes README's whole policy allows and denies.
 */
import { leastPrivilegeSuite } from './leastPrivilegeSuite.js'

leastPrivilegeSuite('secret-access')
