/** docs/config.md documents every rule code config validate can emit, every key of the format, and the exit codes. */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {CONFIG_RULES} from '../../src/config/rules.js'
import {jsonSchema} from '../../src/config/schema.js'
import {packageRoot} from '../../src/paths.js'

const doc = readFileSync(join(packageRoot, 'docs/config.md'), 'utf8')

/** Every property name anywhere in a JSON Schema. */
function propertyNames(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) propertyNames(s, out)
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === 'properties' && v && typeof v === 'object') for (const name of Object.keys(v)) out.add(name)
      propertyNames(v, out)
    }
  }
  return out
}

describe('docs/config.md', () => {
  it('documents every rule code, in a table row of its own', () => {
    const missing = Object.keys(CONFIG_RULES).filter((code) => !new RegExp(`^\\| \`${code.replace(/\./g, '\\.')}\` \\|`, 'm').test(doc))
    assert.deepEqual(missing, [])
  })

  it("documents each rule with the severity the linter gives it", () => {
    for (const [code, rule] of Object.entries(CONFIG_RULES)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`))
      assert.match(row ?? '', new RegExp(`^\\| \`[^\`]+\` \\| ${rule.severity} \\|`), code)
    }
  })

  it('documents every key of the format', () => {
    const missing = [...propertyNames(jsonSchema())].filter((k) => !doc.includes(`\`${k}\``))
    assert.deepEqual(missing, [])
  })

  it('documents the exit codes 0, 1 and 2', () => {
    for (const code of ['0', '1', '2']) assert.match(doc, new RegExp(`^\\| ${code} \\| `, 'm'))
  })
})
