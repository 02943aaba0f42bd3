/**
 * What every command follows, checked over the compiled command classes: -v is left for version/verbose, examples use
 * long flags, and descriptions are not hard-wrapped (oclif wraps them to the terminal, and re-wraps hard breaks
 * mid-phrase).
 */
import assert from 'node:assert/strict'
import {globSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {commandsDir} from '../cloud/cli.js'

interface CommandClass {
  description?: string
  flags?: Record<string, {char?: string}>
  examples?: (string | {command: string})[]
}

const files = globSync('**/*.js', {cwd: commandsDir}).sort()

async function load(file: string): Promise<CommandClass> {
  return ((await import(pathToFileURL(join(commandsDir, file)).href)) as {default: CommandClass}).default
}

describe('command conventions', () => {
  it('no command takes -v: users type it for --version or --verbose (-V is the version)', async () => {
    for (const f of files) {
      const c = await load(f)
      for (const [name, flag] of Object.entries(c.flags ?? {})) assert.notEqual(flag.char, 'v', `${f}: --${name} is -v`)
    }
  })

  it('examples are written with long flags', async () => {
    for (const f of files) {
      const c = await load(f)
      for (const e of c.examples ?? []) {
        const cmd = typeof e === 'string' ? e : e.command
        assert.doesNotMatch(cmd, /\s-[a-zA-Z](\s|$)/, `${f}: ${cmd}`)
      }
    }
  })

  it('descriptions break lines only between paragraphs, before indented lines or list items', async () => {
    for (const f of files) {
      const lines = ((await load(f)).description ?? '').split('\n')
      for (let i = 1; i < lines.length; i++) {
        const [prev, line] = [lines[i - 1] ?? '', lines[i] ?? '']
        if (prev === '' || line === '' || /^\s/.test(prev) || /^\s|^([-*•]|\d+\.)\s/.test(line)) continue
        assert.fail(`${f}: a hard line break inside a paragraph, before "${line.slice(0, 40)}…"`)
      }
    }
  })
})
