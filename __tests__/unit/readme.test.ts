/**
 * README and docs/ are what users read and copy: README stays short (≤ 25 KB) with the core inputs, every
 * input and output of action.yml is documented in docs/ (and only those), and every workflow or step
 * shown parses and uses only what action.yml declares.
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { MODES } from '../../src/core/model.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const read = (path: string): string => readFileSync(join(root, path), 'utf8')
const readme = read('README.md')
const docNames = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md'))
const action = parse(read('action.yml')) as {
  inputs: Record<string, { required?: boolean; default?: string }>
  outputs: Record<string, unknown>
}
const declared = Object.keys(action.inputs)

interface Step {
  uses?: string
  with?: Record<string, unknown>
}
interface Job {
  steps?: Step[]
  permissions?: Record<string, string>
  if?: string
}
interface Workflow {
  on?: unknown
  permissions?: Record<string, string>
  jobs?: Record<string, Job>
}

const yamlBlocksOf = (markdown: string): unknown[] =>
  [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => parse(match[1] ?? '') as unknown)
const workflowsOf = (blocks: unknown[]): Workflow[] =>
  blocks.filter((doc): doc is Workflow => typeof doc === 'object' && doc !== null && 'jobs' in doc)
const isOurs = (step: Step): boolean => step.uses?.startsWith('org/rotel-clickstack-action@') ?? false

/** The action's steps of a block: a workflow's, a job's (`steps:`), or a bare list of steps. */
function stepsOf(block: unknown): Step[] {
  if (Array.isArray(block)) return (block as Step[]).filter(isOurs)
  if (typeof block !== 'object' || block === null) return []
  const jobs = 'jobs' in block ? Object.values((block as Workflow).jobs ?? {}) : [block as Job]
  return jobs.flatMap((job) => (job.steps ?? []).filter(isOurs))
}

const readmeBlocks = yamlBlocksOf(readme)
const readmeWorkflows = workflowsOf(readmeBlocks)
const docBlocks = docNames.flatMap((name) => yamlBlocksOf(read(`docs/${name}`)))
const ourSteps = [...readmeBlocks, ...docBlocks].flatMap(stepsOf)
const modeOf = (step: Step): string => String(step.with?.mode ?? 'apply')

describe('README', () => {
  it('is at most 25 KB', () => {
    expect(Buffer.byteLength(readme, 'utf8')).toBeLessThanOrEqual(25_000)
  })

  it('has the quick start and the three mode workflows, all valid YAML; docs/fleets.md the fleet matrix', () => {
    expect(readmeWorkflows.length).toBeGreaterThanOrEqual(4)
    const modes = readmeWorkflows.flatMap((workflow) => stepsOf(workflow).map(modeOf))
    for (const mode of ['apply', 'check', 'plan']) expect(modes).toContain(mode)
    expect(read('docs/fleets.md')).toMatch(/```yaml\n[\s\S]*strategy:\s*\n\s+fail-fast: false\s*\n\s+max-parallel:/)
  })

  it('keeps the two local commands, npm run demo and npm test', () => {
    const section = readme.split('## Try it locally, and run the tests\n')[1]?.split('\n## ')[0] ?? ''
    expect(section).toMatch(/^npm run demo\b/m)
    expect(section).toMatch(/^npm test\b/m)
  })
})

describe('the workflows and steps of README and docs/', () => {
  it('use only inputs that action.yml declares, always with functions, and only known modes', () => {
    expect(ourSteps.length).toBeGreaterThan(readmeWorkflows.length)
    for (const step of ourSteps) {
      const inputs = Object.keys(step.with ?? {})
      expect(inputs.filter((name) => !declared.includes(name))).toEqual([])
      expect(inputs).toContain('functions')
      expect(MODES).toContain(modeOf(step))
    }
  })

  it('give each workflow the permissions its mode needs', () => {
    for (const workflow of workflowsOf([...readmeBlocks, ...docBlocks]))
      for (const step of stepsOf(workflow)) {
        if (step.with?.['role-to-assume']) expect(workflow.permissions?.['id-token']).toBe('write')
        if (step.with?.mode === 'plan') expect(workflow.permissions?.['pull-requests']).toBe('write')
      }
  })

  it("keep each pull_request plan to the repository's own pull requests, where GitHub gives an OIDC token", () => {
    const prPlans = workflowsOf([...readmeBlocks, ...docBlocks]).filter(
      (workflow) =>
        typeof workflow.on === 'object' &&
        workflow.on !== null &&
        'pull_request' in workflow.on &&
        stepsOf(workflow).some((step) => step.with?.mode === 'plan')
    )
    expect(prPlans.length).toBeGreaterThan(0)
    for (const workflow of prPlans)
      for (const job of Object.values(workflow.jobs ?? {}))
        expect(job.if).toBe('github.event.pull_request.head.repo.full_name == github.repository')
  })
})

/** docs/inputs.md: each `### \`name\`` entry → its `**Default:**` text and its description. */
function inputEntries(): Map<string, { defaultText: string; description: string }> {
  const entries = new Map<string, { defaultText: string; description: string }>()
  for (const entry of read('docs/inputs.md').split(/^### /m).slice(1)) {
    const name = /^`([a-z-]+)`\n/.exec(entry)?.[1]
    const defaultText = /^\*\*Default:\*\* (.+)$/m.exec(entry)?.[1]
    const description =
      entry
        .split(/^\*\*Default:\*\* .+$/m)[1]
        ?.split(/^## /m)[0]
        ?.trim() ?? ''
    if (name === undefined || defaultText === undefined)
      throw new Error(`docs/inputs.md entry without a name or default: ${entry.slice(0, 80)}`)
    entries.set(name, { defaultText, description })
  }
  return entries
}

/** README's core inputs table: input (linked to its entry) → the link's anchor and the default cell. */
function readmeCoreInputs(): Map<string, { anchor: string; defaultText: string }> {
  const section = readme.split('## Inputs\n')[1]?.split('\n## ')[0] ?? ''
  const rows = section.matchAll(/^\| \[`([a-z-]+)`\]\(docs\/inputs\.md#([a-z-]+)\) \| (.+?) \| .+ \|$/gm)
  return new Map([...rows].map((match) => [match[1] ?? '', { anchor: match[2] ?? '', defaultText: match[3] ?? '' }]))
}

describe('the inputs and outputs of action.yml', () => {
  const entries = inputEntries()

  it('are each documented in docs/inputs.md with a default and a description, and no other', () => {
    expect([...entries.keys()].sort()).toEqual([...declared].sort())
    for (const [name, { description }] of entries) expect([name, /\S.*\.$/s.test(description)]).toEqual([name, true])
  })

  it('give the default action.yml declares, or say how an empty default is filled', () => {
    for (const [name, { defaultText }] of entries) {
      const { required, default: value = '' } = action.inputs[name] ?? {}
      if (required) expect([name, defaultText]).toEqual([name, '(required)'])
      else if (value !== '') expect([name, defaultText]).toEqual([name, `\`${value}\``])
      // An empty default is "empty" or words; a lone code span would claim a value action.yml does not give.
      else expect([name, /^`[^`]*`$/.test(defaultText)]).toEqual([name, false])
    }
  })

  it("are in README's core table as in docs/inputs.md, linked to their entries, the others linked below it", () => {
    const core = readmeCoreInputs()
    expect(core.size).toBeGreaterThanOrEqual(15)
    for (const [name, { anchor, defaultText }] of core) {
      expect([name, anchor]).toEqual([name, name])
      expect([name, defaultText]).toEqual([name, entries.get(name)?.defaultText])
    }
    const section = readme.split('## Inputs\n')[1]?.split('\n## ')[0] ?? ''
    const linked = new Set([...section.matchAll(/\[`([a-z-]+)`\]\(docs\/inputs\.md#\1\)/g)].map((match) => match[1]))
    expect(declared.filter((name) => !linked.has(name))).toEqual([])
  })

  it("are each documented in docs/outputs.md, and in README's Outputs table, and no other", () => {
    const outputs = Object.keys(action.outputs).sort()
    const headings = [...read('docs/outputs.md').matchAll(/^## `([a-z-]+)`$/gm)].map((match) => match[1])
    expect(headings.sort()).toEqual(outputs)
    const section = readme.split('## Outputs\n')[1]?.split('\n## ')[0] ?? ''
    expect([...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((match) => match[1]).sort()).toEqual(outputs)
  })
})
