/**
 * bastion.yml's precompiled check (src/config/schema-check.generated.ts, from scripts/schema-check.ts): it is what the
 * schema generates today, and it reaches zod's verdict — and zod's data, defaults included — on the example, every
 * fixture, the benchmark's file and a set of files each broken in one way.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {CORE_SCHEMA, load} from 'js-yaml'
import {generateConfig} from '../../bench/config-gen.js'
import {SCHEMA_CHECK_FILE, schemaCheckSource, withoutAnnotations} from '../../scripts/schema-check.js'
import checkSchemaShape from '../../src/config/schema-check.generated.js'
import {parseConfig} from '../../src/config/load.js'
import {ConfigSchema} from '../../src/config/schema.js'
import {packageRoot} from '../../src/paths.js'

const check = checkSchemaShape as (data: unknown) => boolean
const FIXTURES = join(packageRoot, 'test/config/fixtures')
const read = (file: string): unknown => load(readFileSync(file, 'utf8'), {schema: CORE_SCHEMA})
const example = () => read(join(packageRoot, 'examples/bastion.yml')) as any

/**
 * The check never accepts what zod refuses, and what it accepts it gives zod's data (defaults filled in). It refuses
 * what zod accepts only where it counts lengths in UTF-16 units (`conservative`): parseConfig then asks zod.
 */
function agree(data: unknown, what: string, conservative = false): boolean {
  const zod = ConfigSchema.safeParse(structuredClone(data))
  const copy = structuredClone(data)
  const verdict = check(copy)
  const zodSays = zod.success ? 'valid' : zod.error.issues.map((i) => i.message).join('; ')
  assert.equal(verdict, conservative ? false : zod.success, `${what}: check says ${verdict}, zod: ${zodSays}`)
  if (conservative) assert.equal(zod.success, true, `${what}: only what zod accepts is left to it this way`)
  if (verdict && zod.success) assert.deepEqual(copy, zod.data, `${what}: the data differs from zod's`)
  return zod.success
}

/** One way to break (or not) the example: a change to its data. */
const CHANGES: [string, (c: any) => void, conservative?: true][] = [
  ['no version', (c) => delete c.version],
  ['version 2', (c) => (c.version = 2)],
  ['version "1"', (c) => (c.version = '1')],
  ['no databases, vendors or bastions (defaults)', (c) => (delete c.databases, delete c.vendors, delete c.bastions)],
  ['an unknown top-level key', (c) => (c.extra = 1)],
  ['$schema', (c) => (c.$schema = 'x.json')],
  ['$schema not a string', (c) => (c.$schema = 1)],
  ['port 0', (c) => (c.databases.warehouse.port = 0)],
  ['port 65536', (c) => (c.databases.warehouse.port = 65536)],
  ['port 1.5', (c) => (c.databases.warehouse.port = 1.5)],
  ['port Infinity', (c) => (c.databases.warehouse.port = Infinity)],
  ['port NaN', (c) => (c.databases.warehouse.port = NaN)],
  ['port "5432"', (c) => (c.databases.warehouse.port = '5432')],
  ['empty host', (c) => (c.databases.warehouse.host = '')],
  ['database without host', (c) => delete c.databases.warehouse.host],
  ['database name with a space', (c) => (c.databases['ware house'] = {host: 'h', port: 1})],
  ['database name of 64 characters', (c) => (c.databases[`d${'x'.repeat(63)}`] = {host: 'h', port: 1})],
  ['database name of 63 characters', (c) => (c.databases[`d${'x'.repeat(62)}`] = {host: 'h', port: 1})],
  ['vendor name with capitals', (c) => (c.vendors.Hevo = c.vendors.hevo)],
  ['vendor name of 33 characters', (c) => (c.vendors[`v${'x'.repeat(32)}`] = c.vendors.hevo)],
  ['vendor user invalid', (c) => (c.vendors.hevo.user = 'Root!')],
  ['vendor user valid', (c) => (c.vendors.hevo.user = 'hevo_data')],
  ['no cidrs', (c) => (c.vendors.hevo.cidrs = [])],
  ['an empty cidr', (c) => c.vendors.hevo.cidrs.push('')],
  ['a cidr that is a number', (c) => c.vendors.hevo.cidrs.push(5)],
  ['allowAnywhere "yes"', (c) => (c.vendors.hevo.allowAnywhere = 'yes')],
  ['allowAnywhere true', (c) => (c.vendors.hevo.allowAnywhere = true)],
  ['no keys', (c) => (c.vendors.hevo.keys = [])],
  ['a key that is null', (c) => c.vendors.hevo.keys.push(null)],
  ['an empty key string', (c) => c.vendors.hevo.keys.push('')],
  ['a key mapping with an unknown key', (c) => c.vendors.hevo.keys.push({key: 'k', owner: 'x'})],
  ['a key mapping that is empty (the linter judges it)', (c) => c.vendors.hevo.keys.push({})],
  ['a key file', (c) => c.vendors.hevo.keys.push({file: 'k.pub'})],
  ['expires as a date without a day', (c) => (c.vendors.fivetran.keys[0].expires = '2027-06')],
  ['expires with a time', (c) => (c.vendors.fivetran.keys[0].expires = '2027-06-30T18:00')],
  ['expires a number', (c) => (c.vendors.fivetran.keys[0].expires = 20270630)],
  ['a database reference with a space', (c) => c.vendors.hevo.databases.push('a b')],
  ['no databases for a vendor', (c) => (c.vendors.hevo.databases = [])],
  ['vendor description', (c) => (c.vendors.hevo.description = 'ETL')],
  ['vendor description a number', (c) => (c.vendors.hevo.description = 5)],
  ['cloud without provider', (c) => delete c.bastions['warehouse-jump'].cloud.provider],
  ['cloud provider gcp', (c) => (c.bastions['warehouse-jump'].cloud.provider = 'gcp')],
  ['aws region Ireland', (c) => (c.bastions['warehouse-jump'].cloud.region = 'Ireland')],
  ['aws with a subscription', (c) => (c.bastions['warehouse-jump'].cloud.subscription = '00000000-0000-0000-0000-000000000000')],
  ['azure subscription not a GUID', (c) => (c.bastions['azure-jump'].cloud.subscription = 'abc')],
  ['azure resource group of 90 characters', (c) => (c.bastions['azure-jump'].cloud.resourceGroup = 'r'.repeat(90))],
  ['azure resource group of 91 characters', (c) => (c.bastions['azure-jump'].cloud.resourceGroup = 'r'.repeat(91))],
  ['azure resource group of 45 emoji (90 UTF-16 units)', (c) => (c.bastions['azure-jump'].cloud.resourceGroup = '🚀'.repeat(45))],
  ['azure resource group of 46 emoji (92 UTF-16 units, 46 characters)', (c) => (c.bastions['azure-jump'].cloud.resourceGroup = '🚀'.repeat(46)), true],
  ['azure resource group of 91 emoji', (c) => (c.bastions['azure-jump'].cloud.resourceGroup = '🚀'.repeat(91))],
  ['azure firewall without publicPort', (c) => delete c.bastions['azure-jump'].cloud.firewall.publicPort],
  ['azure firewall with an unknown key', (c) => (c.bastions['azure-jump'].cloud.firewall.sku = 'Basic')],
  ['ssh port 70000', (c) => (c.bastions['warehouse-jump'].ssh.port = 70000)],
  ['ssh with an unknown key', (c) => (c.bastions['warehouse-jump'].ssh.password = 'x')],
  ['ssh a string', (c) => (c.bastions['warehouse-jump'].ssh = 'admin@host')],
  ['bastion without vendors', (c) => delete c.bastions['warehouse-jump'].vendors],
  ['bastion vendors empty (the linter judges it)', (c) => (c.bastions['warehouse-jump'].vendors = [])],
  ['bastion vendor name invalid', (c) => c.bastions['warehouse-jump'].vendors.push('Not Valid')],
  ['bastions a list', (c) => (c.bastions = [])],
  ['vendors null', (c) => (c.vendors = null)],
]

describe('the precompiled schema check', () => {
  it('is what the schema generates today (npm run schemas writes it)', () => {
    assert.equal(readFileSync(join(packageRoot, SCHEMA_CHECK_FILE), 'utf8'), schemaCheckSource())
  })

  it('leaves out annotations only: a property named description or $schema stays', () => {
    const stripped = withoutAnnotations({description: 'd', $schema: 's', properties: {description: {type: 'string', description: 'x'}, $schema: {type: 'string'}}}) as any
    assert.deepEqual(stripped, {properties: {description: {type: 'string'}, $schema: {type: 'string'}}})
  })

  it('agrees with zod on examples/bastion.yml, every fixture and the benchmark file', () => {
    assert.equal(agree(example(), 'examples/bastion.yml'), true)
    const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.yml'))
    for (const f of fixtures) assert.equal(agree(read(join(FIXTURES, f)), f), f.startsWith('good-'), f)
    assert.equal(agree(load(generateConfig(20, 10), {schema: CORE_SCHEMA}), 'bench file'), true)
  })

  it('agrees with zod on the example broken (or changed) in each of many ways', () => {
    const verdicts = CHANGES.map(([what, change, conservative]) => {
      const data = example()
      change(data)
      return agree(data, what, conservative)
    })
    // Not vacuous: both kinds of verdict occur.
    assert.ok(verdicts.filter(Boolean).length >= 10 && verdicts.filter((v) => !v).length >= 30, JSON.stringify(verdicts))
  })

  it('a file the check refuses is judged by zod: its data when valid, else its issue at the line and column', async () => {
    const astral = await parseConfig(`version: 1\nbastions:\n  j: {cloud: {provider: azure, resourceGroup: ${'🚀'.repeat(46)}}, vendors: []}\n`, 'a.yml')
    assert.deepEqual(astral.issues, [])
    assert.equal(astral.config?.bastions.j?.cloud?.provider, 'azure')
    const loaded = await parseConfig('version: 1\ndatabases:\n  w: {host: h, port: 0}\n', 'b.yml')
    assert.deepEqual(
      loaded.issues.map((i) => [i.code, i.line, i.column]),
      [['schema.too_small', 3, 22]],
    )
    assert.equal(loaded.config, undefined)
  })
})
