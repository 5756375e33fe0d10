/** README's workflows are what users copy: they must parse, and use only what action.yml declares. */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { MODES } from '../../src/core/model.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { required?: boolean; default?: string }>
  outputs: Record<string, unknown>
}
const declared = Object.keys(action.inputs)

interface Step {
  uses?: string
  with?: Record<string, unknown>
}
interface Workflow {
  on?: unknown
  permissions?: Record<string, string>
  jobs?: Record<string, { steps?: Step[]; permissions?: Record<string, string>; if?: string }>
}

const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '')
const workflows = yamlBlocks.map((text) => parse(text) as Workflow).filter((doc) => doc && doc.jobs)
const ourSteps = workflows.flatMap((workflow) =>
  Object.values(workflow.jobs ?? {}).flatMap((job) =>
    (job.steps ?? [])
      .filter((step) => step.uses?.startsWith('org/rotel-clickstack-action@'))
      .map((step) => ({ workflow, step }))
  )
)

describe('README', () => {
  it('has the quick start and the three mode workflows, and a fleet matrix, all valid YAML', () => {
    expect(workflows.length).toBeGreaterThanOrEqual(5)
    const modes = ourSteps.map(({ step }) => String(step.with?.mode ?? 'apply'))
    for (const mode of ['apply', 'check', 'plan']) expect(modes).toContain(mode)
    expect(yamlBlocks.some((text) => /strategy:\s*\n\s+fail-fast: false\s*\n\s+max-parallel:/.test(text))).toBe(true)
  })

  it('uses only inputs that action.yml declares, always with functions, and only known modes', () => {
    expect(ourSteps.length).toBeGreaterThan(0)
    for (const { step } of ourSteps) {
      const inputs = Object.keys(step.with ?? {})
      expect(inputs.filter((name) => !declared.includes(name))).toEqual([])
      expect(inputs).toContain('functions')
      expect(MODES).toContain(String(step.with?.mode ?? 'apply'))
    }
  })

  it('gives each workflow the permissions its mode needs', () => {
    for (const { workflow, step } of ourSteps) {
      if (step.with?.['role-to-assume']) expect(workflow.permissions?.['id-token']).toBe('write')
      if (step.with?.mode === 'plan') expect(workflow.permissions?.['pull-requests']).toBe('write')
    }
  })

  it("keeps each pull_request plan to the repository's own pull requests, where GitHub gives an OIDC token", () => {
    const prPlans = workflows.filter(
      (workflow) =>
        typeof workflow.on === 'object' &&
        workflow.on !== null &&
        'pull_request' in workflow.on &&
        ourSteps.some((our) => our.workflow === workflow && our.step.with?.mode === 'plan')
    )
    expect(prPlans.length).toBeGreaterThan(0)
    for (const workflow of prPlans)
      for (const job of Object.values(workflow.jobs ?? {}))
        expect(job.if).toBe('github.event.pull_request.head.repo.full_name == github.repository')
  })

  it('documents every input and output of action.yml, and no other', () => {
    const table = (heading: string): string[] => {
      const section = readme.split(`## ${heading}\n`)[1]?.split('\n## ')[0] ?? ''
      return [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((match) => match[1] ?? '')
    }
    expect(table('Inputs').sort()).toEqual([...declared].sort())
    expect(table('Outputs').sort()).toEqual(Object.keys(action.outputs).sort())
  })
})
