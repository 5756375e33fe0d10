export { setup as default } from './tempRoot.mjs'
