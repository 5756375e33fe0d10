/** The action's entry point. */
import { run } from './run/main.js'

await run()
