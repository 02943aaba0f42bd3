/**
 * bastion.yml's schema: the published JSON Schema is what the code emits; an independent validator (ajv) accepts
 * examples/bastion.yml and the good fixtures and rejects the bad ones, as zod does; schema errors name line and column.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {Ajv} from 'ajv'
import {parse} from 'yaml'
import {parseConfig} from '../../src/config/load.js'
import {CONFIG_SCHEMA_FILE, ConfigSchema, jsonSchema} from '../../src/config/schema.js'
import {packageRoot} from '../../src/paths.js'
import {schemaText} from '../../src/schema/published.js'

const FIXTURES = join(packageRoot, 'test/config/fixtures')
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.yml'))
const published = JSON.parse(readFileSync(join(packageRoot, CONFIG_SCHEMA_FILE), 'utf8')) as object
const ajv = new Ajv({allErrors: true})
const validate = ajv.compile(published)

function yamlOf(file: string): unknown {
  return parse(readFileSync(file, 'utf8'))
}

describe('bastion.yml JSON Schema', () => {
  it('the committed docs/schemas/bastion-config.schema.json is exactly what the code emits (npm run schemas)', () => {
    assert.equal(readFileSync(join(packageRoot, CONFIG_SCHEMA_FILE), 'utf8'), schemaText(jsonSchema()))
  })

  it('is a valid draft-07 schema that ajv compiles', () => {
    assert.ok(ajv.validateSchema(published), ajv.errorsText(ajv.errors))
    assert.equal((published as {$schema?: string}).$schema, 'http://json-schema.org/draft-07/schema#')
  })

  it('ajv accepts examples/bastion.yml, whose modeline points at the published schema', () => {
    const file = join(packageRoot, 'examples/bastion.yml')
    assert.ok(validate(yamlOf(file)), ajv.errorsText(validate.errors))
    const modeline = readFileSync(file, 'utf8').split('\n')[0] ?? ''
    assert.equal(modeline, '# yaml-language-server: $schema=../docs/schemas/bastion-config.schema.json')
  })

  it('there are good and bad fixtures to compare', () => {
    assert.ok(fixtures.filter((f) => f.startsWith('good-')).length >= 2)
    assert.ok(fixtures.filter((f) => f.startsWith('bad-')).length >= 5)
  })

  for (const f of fixtures) {
    const good = f.startsWith('good-')
    it(`ajv and zod agree: ${f} is ${good ? 'valid' : 'invalid'}`, () => {
      const data = yamlOf(join(FIXTURES, f))
      assert.equal(validate(data), good, `ajv: ${ajv.errorsText(validate.errors)}`)
      assert.equal(ConfigSchema.safeParse(data).success, good, 'zod')
    })
  }

  it('a plain-host file with an IPv6 CIDR, a key file and a dated expiry is valid', async () => {
    const text = readFileSync(join(FIXTURES, 'good-plain-host.yml'), 'utf8')
    assert.deepEqual((await parseConfig(text, 'good-plain-host.yml', FIXTURES)).issues, [])
  })
})

describe('schema errors name the line and column of the value', () => {
  const cases: [string, string, number, number, RegExp][] = [
    ['bad-version.yml', 'schema.invalid_value', 1, 10, /the version must be 1/],
    ['bad-port.yml', 'schema.too_big', 5, 11, /databases\.warehouse\.port: must be at most 65535/],
    ['bad-empty-keys.yml', 'schema.too_small', 5, 11, /vendors\.hevo\.keys: give at least 1 entry/],
    ['bad-provider.yml', 'schema.invalid_union', 4, 23, /expected provider: aws or azure/],
    ['bad-region.yml', 'schema.invalid_format', 6, 15, /"Ireland": expected an AWS region such as eu-west-1/],
    ['bad-vendor-name.yml', 'schema.invalid_key', 3, 3, /the name "Hevo" is not allowed/],
  ]
  for (const [file, code, line, column, message] of cases) {
    it(`${file}: ${code} at ${line}:${column}`, async () => {
      const issues = (await parseConfig(readFileSync(join(FIXTURES, file), 'utf8'), file, FIXTURES)).issues
      assert.equal(issues.length, 1, JSON.stringify(issues))
      const [i] = issues
      assert.deepEqual([i?.code, i?.line, i?.column, i?.severity], [code, line, column, 'error'])
      assert.match(i?.message ?? '', message)
    })
  }

  it('an unknown key (a typo) is reported at the key, and the key it replaced as missing', async () => {
    const issues = (await parseConfig(readFileSync(join(FIXTURES, 'bad-unknown-key.yml'), 'utf8'), 'bad-unknown-key.yml')).issues
    assert.deepEqual(
      issues.map((i) => [i.code, i.line, i.column]),
      [
        ['schema.invalid_type', 4, 5],
        ['schema.unrecognized_keys', 4, 5],
      ],
    )
    assert.match(issues[0]?.message ?? '', /the required key "cidrs" \(a list\) is missing/)
    assert.match(issues[1]?.message ?? '', /unknown key "cidr"/)
  })

  it('a wrong type quotes the value it got', async () => {
    const [i] = (await parseConfig('version: 1\ndatabases:\n  w: {host: h, port: "x"}\n', 'b.yml')).issues
    assert.deepEqual([i?.code, i?.line, i?.column, i?.endColumn], ['schema.invalid_type', 3, 22, 25])
    assert.match(i?.message ?? '', /expected a number, got the string "x"/)
  })

  it('broken YAML and a repeated key are reported by the parser at their position', async () => {
    const [dup] = (await parseConfig('version: 1\nversion: 1\n', 'd.yml')).issues
    assert.deepEqual([dup?.code, dup?.line, dup?.column], ['yaml', 2, 1])
    const [bad] = (await parseConfig('version: 1\nvendors: [a\n', 'e.yml')).issues
    assert.equal(bad?.code, 'yaml')
    assert.equal(bad?.severity, 'error')
  })
})

describe('two YAML readers, one model', () => {
  it('js-yaml (the fast path) and yaml (positions) read examples/bastion.yml and every fixture to the same data', async () => {
    const {load, CORE_SCHEMA} = await import('js-yaml')
    for (const file of [join(packageRoot, 'examples/bastion.yml'), ...fixtures.map((f) => join(FIXTURES, f))]) {
      const text = readFileSync(file, 'utf8')
      assert.deepEqual(load(text, {schema: CORE_SCHEMA}), parse(text), file)
    }
  })

  it('a file with anchors and aliases is read by yaml alone (alias expansion limited) and still validated', async () => {
    const text = 'version: 1\ndatabases:\n  a: &db {host: h, port: 5432}\n  b: *db\n'
    const loaded = await parseConfig(text, 'a.yml')
    assert.deepEqual(loaded.issues, [])
    assert.deepEqual(loaded.config?.databases.b, {host: 'h', port: 5432})
  })

  it('dates stay strings and `<<` is a plain (unknown) key in both readers', async () => {
    const dated = await parseConfig(`version: 1\nvendors:\n  v:\n    cidrs: [52.6.1.1]\n    keys: [{key: k, expires: 2027-06-30}]\n    databases: [d]\n`, 'd.yml')
    assert.equal(dated.config?.vendors.v?.keys[0] && typeof dated.config.vendors.v.keys[0] === 'object' ? dated.config.vendors.v.keys[0].expires : undefined, '2027-06-30')
    const merged = await parseConfig('version: 1\n<<: {databases: {}}\n', 'm.yml')
    assert.deepEqual(merged.issues.map((i) => [i.code, i.line, i.column]), [['schema.unrecognized_keys', 2, 1]])
  })
})
