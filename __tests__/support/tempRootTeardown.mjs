export { teardown as default } from './tempRoot.mjs'
