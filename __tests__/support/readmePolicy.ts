/**
 * The IAM documents of docs/permissions.md (README's Permissions section points there), as the tests read them: the deploy role's policy (after
 * `<!-- deploy-role-policy`), the table of which statements each run needs (after
 * `<!-- deploy-role-needs -->`), and the trust policies (after `<!-- deploy-role-trust` and
 * `<!-- plan-role-trust`). That page is the single source; the tests prove what it says.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export type Values = string | string[]

export interface Statement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Principal?: Record<string, Values>
  Action: Values
  Resource?: Values
  Condition?: Record<string, Record<string, Values>>
}

export interface PolicyDocument {
  Version: string
  Statement: Statement[]
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export const PERMISSIONS_DOC = readFileSync(join(ROOT, 'docs/permissions.md'), 'utf8')

/** The ```json block right after `<!-- MARKER …-->`. */
export function readmeJsonBlock(marker: string): PolicyDocument {
  const block = new RegExp(`<!-- ${marker}\\b[^>]*-->\\s*\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(PERMISSIONS_DOC)?.[1]
  if (block === undefined) throw new Error(`docs/permissions.md has no \`\`\`json block right after <!-- ${marker} -->`)
  return JSON.parse(block) as PolicyDocument
}

/** The deploy role's policy; every statement has a Sid, an Effect, Action and Resource (no Not… forms). */
export function readmePolicy(): PolicyDocument {
  const policy = readmeJsonBlock('deploy-role-policy')
  for (const statement of policy.Statement) {
    const keys = Object.keys(statement)
      .filter((key) => key !== 'Condition')
      .sort()
    if (keys.join() !== 'Action,Effect,Resource,Sid' || (statement.Effect !== 'Allow' && statement.Effect !== 'Deny'))
      throw new Error(
        `docs/permissions.md statement ${JSON.stringify(statement)}: the tests read only Sid, Effect, Action, Resource and Condition`
      )
  }
  return policy
}

/** The table: the first cell (backticks dropped) → the Sids in the second. */
export function readmeNeeds(): Map<string, string[]> {
  const after = PERMISSIONS_DOC.split('<!-- deploy-role-needs -->')[1]
  if (after === undefined) throw new Error('docs/permissions.md has no <!-- deploy-role-needs --> table')
  const rows = after.trimStart().split('\n')
  const needs = new Map<string, string[]>()
  for (const row of rows.slice(2)) {
    if (!row.startsWith('|')) break
    const [what = '', statements = ''] = row
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim())
    needs.set(
      what.replace(/`/g, ''),
      [...statements.matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1] ?? '')
    )
  }
  return needs
}

/** A string or a list, as a list. */
export const listOf = (values: Values | undefined): string[] =>
  values === undefined ? [] : Array.isArray(values) ? values : [values]
