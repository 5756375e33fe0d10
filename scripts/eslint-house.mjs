/**
 * A local ESLint rule: no import cycle in src/, type-only imports included. import-x/no-cycle leaves
 * `import type` out (it costs nothing at run time), but a cycle of types is still a knot in the design:
 * the ten cycles this codebase once had all closed through types living in the wrong module.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import ts from 'typescript'

/** The relative imports of a file (values and types, static and dynamic), resolved to the .ts files they name. */
function importsOf(file) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => join(dirname(file), spec.replace(/\.js$/, '.ts')))
    .filter((target) => target.endsWith('.ts') && existsSync(target))
}

/** The shortest chain of imports from `start` back to `file`, or undefined when there is none. */
function pathBack(start, file) {
  const previous = new Map([[start, undefined]])
  const queue = [start]
  while (queue.length > 0) {
    const current = queue.shift()
    if (current === file) {
      const chain = []
      for (let at = current; at !== undefined; at = previous.get(at)) chain.unshift(at)
      return chain
    }
    for (const next of importsOf(current))
      if (!previous.has(next)) {
        previous.set(next, current)
        queue.push(next)
      }
  }
  return undefined
}

const noTypeCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'No import cycle, type-only imports included' },
    schema: [],
    messages: { cycle: 'Import cycle (types included): {{chain}}' }
  },
  create(context) {
    const file = context.physicalFilename
    const root = context.cwd
    const check = (node) => {
      const spec = node.source?.value
      if (typeof spec !== 'string' || !spec.startsWith('.')) return
      const target = join(dirname(file), spec.replace(/\.js$/, '.ts'))
      if (!existsSync(target)) return
      const chain = pathBack(target, file)
      if (chain)
        context.report({
          node,
          messageId: 'cycle',
          data: { chain: [file, ...chain].map((at) => relative(root, at)).join(' → ') }
        })
    }
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check }
  }
}

export default { meta: { name: 'house' }, rules: { 'no-type-cycle': noTypeCycle } }
