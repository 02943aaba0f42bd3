/**
 * The published JSON Schemas (docs/schemas/, `bastion schema`): in step with the code, and real --json outputs of every
 * command — results, per-host failures, doctor's hosts, every kind of error — valid against them, checked by an
 * independent validator (ajv).
 */
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {after, afterEach, before, beforeEach, describe, it} from 'node:test'
import {Config} from '@oclif/core'
import {packageRoot} from '../../src/paths.js'
import {publishedSchemas, schemaText, type PublishedSchema} from '../../src/schema/published.js'
import {RESULT_SCHEMAS} from '../../src/schema/schemas.js'
import AddVendorKey from '../../src/commands/add-vendor-key.js'
import Create from '../../src/commands/create.js'
import Destroy from '../../src/commands/destroy.js'
import Doctor from '../../src/commands/doctor.js'
import List from '../../src/commands/list.js'
import ListVendorKeys from '../../src/commands/list-vendor-keys.js'
import RemoveVendorKey from '../../src/commands/remove-vendor-key.js'
import Schema from '../../src/commands/schema.js'
import TunnelAdd from '../../src/commands/tunnel/add.js'
import TunnelList from '../../src/commands/tunnel/list.js'
import TunnelRemove from '../../src/commands/tunnel/remove.js'
import TunnelStatus from '../../src/commands/tunnel/status.js'
import WhitelistAdd from '../../src/commands/whitelist/add.js'
import WhitelistList from '../../src/commands/whitelist/list.js'
import WhitelistRemove from '../../src/commands/whitelist/remove.js'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {commandsDir, runBastion} from '../cloud/cli.js'
import {awsError, COMMANDS, installFake, type FakeSetup} from '../cloud/fake-ec2.js'
import {tempKnownHosts} from '../cloud/helpers.js'
import {runCommand} from '../cloud/in-process.js'
import {ajv, assertError, assertHostError, assertInvalid, assertResult, assertValid, published, validator} from './validate.js'

let config: Config
let schemas: PublishedSchema[]

async function load(): Promise<Config> {
  const pjson = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'))
  pjson.oclif.commands = `./${relative(packageRoot, commandsDir)}`
  return Config.load({root: packageRoot, pjson})
}

before(async () => {
  config = await load()
  schemas = await publishedSchemas(config)
})

describe('published schemas', () => {
  it('docs/schemas/ holds exactly what `npm run schemas` writes: a stale, missing or extra file fails', () => {
    const dir = join(packageRoot, 'docs', 'schemas')
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.json')).sort(), schemas.map((s) => s.file.slice('docs/schemas/'.length)).sort())
    for (const s of schemas) assert.equal(readFileSync(join(packageRoot, s.file), 'utf8'), schemaText(s.schema), `${s.file} is stale: run npm run schemas`)
  })

  it('every bastion command has a schema and declares its own schemaVersion', async () => {
    const ours = config.commands.filter((c) => c.pluginName === 'bastion')
    assert.ok(ours.length >= 11)
    for (const c of ours) {
      assert.ok(RESULT_SCHEMAS[c.id], `no schema for ${c.id}`)
      const loaded = await c.load()
      assert.ok(Object.hasOwn(loaded, 'schemaVersion'), `${c.id} declares no schemaVersion`)
      assert.equal(typeof (loaded as {schemaVersion?: unknown}).schemaVersion, 'number')
    }
    assert.deepEqual(Object.keys(RESULT_SCHEMAS).sort(), ours.map((c) => c.id).sort())
  })

  it('every schema is valid draft-07 and compiles', () => {
    for (const s of schemas) {
      assert.ok(ajv.validateSchema(published(s.name)), `${s.name}: ${ajv.errorsText(ajv.errors)}`)
      validator(s.name)
    }
  })

  it('the schemas are not vacuous: no schemaVersion, a wrong one, an error without exit or an unknown key are rejected', () => {
    const ok = {schemaVersion: 1, ok: true, hosts: []}
    assertValid('list-vendor-keys', ok)
    assertInvalid('list-vendor-keys', {ok: true, hosts: []})
    assertInvalid('list-vendor-keys', {...ok, schemaVersion: 2})
    assertInvalid('list-vendor-keys', {...ok, hosts: [{host: 'a', ok: false, error: {code: 'X', message: 'm', suggestions: []}}]})
    assertInvalid('list-vendor-keys', {...ok, hosts: [{host: 'a', ok: true}]})
    assertInvalid('error', {error: {code: 'X', message: 'm', suggestions: []}})
    assertInvalid('error', {error: {code: 'X', message: 'm', exit: 2, suggestions: [], hint: 'x'}})
    assertValid('error', {error: {code: 'X', message: 'm', exit: 2, suggestions: [], detail: {flag: '--host'}}})
  })

  it('bastion schema <name> prints the published file; --list names every one; an unknown name is a usage error', async () => {
    const r = await runCommand(Schema, ['list-vendor-keys'])
    assert.equal(r.code, 0, r.err)
    assert.equal(r.out, readFileSync(join(packageRoot, 'docs/schemas/list-vendor-keys.schema.json'), 'utf8'))
    const two = await runCommand(Schema, ['whitelist', 'add'])
    assert.equal(two.out, readFileSync(join(packageRoot, 'docs/schemas/whitelist-add.schema.json'), 'utf8'))
    const list = await runCommand(Schema, ['--list', '--json'])
    assertResult('schema', Schema, list.json)
    assert.deepEqual(list.json.schemas.map((s: {name: string}) => s.name), schemas.map((s) => s.name))
    const one = await runCommand(Schema, ['doctor', '--json'])
    assertResult('schema', Schema, one.json)
    assert.deepEqual(one.json.schema, published('doctor'))
    const bad = await runCommand(Schema, ['doctr', '--json'])
    assert.equal(bad.code, 2)
    assertError('schema', bad.json, 'SCHEMA_UNKNOWN')
    assert.match(bad.json.error.suggestions[0], /did you mean: bastion schema doctor/)
  })
})

describe('real --json outputs are valid against the published schemas', () => {
  let key: string
  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-schema-'))
    key = join(dir, 'hevo.pub')
    writeFileSync(key, `${generateEd25519('hevo@prod').publicKey}\n`)
  })

  it('add-vendor-key and remove-vendor-key --dry-run', async () => {
    const add = await runCommand(AddVendorKey, ['--host', 'admin@192.0.2.1', '--vendor', 'hevo', '--key-file', key, '--permit-open', '10.0.1.5:5432', '--dry-run', '--json'])
    assert.equal(add.code, 0, add.err)
    assertResult('add-vendor-key', AddVendorKey, add.json)
    const rm = await runCommand(RemoveVendorKey, ['--host', 'admin@192.0.2.1', '--vendor', 'hevo', '--all', '--dry-run', '--json'])
    assert.equal(rm.code, 0, rm.err)
    assertResult('remove-vendor-key', RemoveVendorKey, rm.json)
  })

  it('a host bastion cannot reach or log in to: the per-host error of add, list and remove, and doctor\'s host error, in the one shape', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bastion-schema-home-'))
    const conn = ['--host', 'admin@127.0.0.1:1', '--known-hosts', join(home, 'known_hosts'), '--connect-timeout', '5']
    const runs = [
      ['add-vendor-key', AddVendorKey, ['--vendor', 'hevo', '--key-file', key, '--permit-open', '10.0.1.5:5432']],
      ['list-vendor-keys', ListVendorKeys, []],
      ['remove-vendor-key', RemoveVendorKey, ['--vendor', 'hevo', '--all']],
    ] as const
    for (const [name, cmd, args] of runs) {
      const r = await runCommand(cmd, [...conn, ...args, '--json'])
      assert.notEqual(r.code, 0)
      assertResult(name, cmd, r.json)
      assert.equal(r.json.hosts[0].ok, false)
      assertHostError(r.json.hosts[0].error)
    }
    const d = await runCommand(Doctor, [...conn, '--vendor', 'hevo', '--json'])
    assert.equal(d.code, 2)
    assertResult('doctor', Doctor, d.json)
    assert.equal(d.json.hosts[0].ran, false)
    assertHostError(d.json.hosts[0].error)
  })

  it('tunnel add --dry-run, and the per-host error of tunnel add, list, status and remove on a host bastion cannot reach', async () => {
    const tunnel = ['--name', 'warehouse', '--preset', 'holistics', '--remote-port', '20032', '--db', '10.0.1.5:5432', '--server-host-key-fingerprint', 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU']
    const dry = await runCommand(TunnelAdd, ['--host', 'admin@192.0.2.1', ...tunnel, '--dry-run', '--json'])
    assert.equal(dry.code, 0, dry.err)
    assertResult('tunnel-add', TunnelAdd, dry.json)
    const home = mkdtempSync(join(tmpdir(), 'bastion-schema-home-'))
    const conn = ['--host', 'admin@127.0.0.1:1', '--known-hosts', join(home, 'known_hosts'), '--connect-timeout', '5']
    const runs = [
      ['tunnel-add', TunnelAdd, tunnel],
      ['tunnel-list', TunnelList, []],
      ['tunnel-status', TunnelStatus, ['--name', 'warehouse']],
      ['tunnel-remove', TunnelRemove, ['--name', 'warehouse']],
    ] as const
    for (const [name, cmd, args] of runs) {
      const r = await runCommand(cmd, [...conn, ...args, '--json'])
      assert.notEqual(r.code, 0)
      assertResult(name, cmd, r.json)
      assert.equal(r.json.hosts[0].ok, false)
      assertHostError(r.json.hosts[0].error)
    }
  })

  it('input errors and an oclif flag error are the one error shape, valid under each command\'s schema', async () => {
    const bad = await runCommand(AddVendorKey, ['--host', 'admin@192.0.2.1', '--vendor', 'Not A Name', '--key-file', key, '--permit-open', '10.0.1.5:5432', '--dry-run', '--json'])
    assert.equal(bad.code, 2)
    assertError('add-vendor-key', bad.json)
    assert.equal(bad.json.error.exit, 2)
    const nothing = await runCommand(Doctor, ['--vendor', 'hevo', '--json'])
    assertError('doctor', nothing.json, 'DOCTOR_TARGET')
    const flag = await runCommand(ListVendorKeys, ['--host', 'a', '--no-such-flag', '--json'])
    assertError('list-vendor-keys', flag.json)
    assert.equal(flag.json.error.exit, 2)
    const none = await runCommand(Schema, ['--json'])
    assertError('schema', none.json, 'SCHEMA_NAME')
  })

  it('an unknown command under --json (the command_not_found hook) prints the one error shape, exit 127', async () => {
    const r = await runBastion(['add-vendor-ky', '--json'])
    assert.equal(r.code, 127)
    assertError('error', r.json, 'COMMAND_NOT_FOUND')
    assert.equal(r.json.error.exit, 127)
  })

  describe('cloud commands (in-memory EC2)', () => {
    let s: FakeSetup
    const saved = {id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY}
    beforeEach(() => {
      s = installFake()
      Object.assign(s.fake, {pendingPolls: 0, statusPolls: 0, terminatePolls: 0, sgBusyPolls: 0})
      process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKE'
      process.env.AWS_SECRET_ACCESS_KEY = 'fake'
    })
    afterEach(() => s.restore())
    after(() => {
      for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    })

    it('create (dry run and real), list, whitelist add/list/remove, doctor --cloud and destroy (dry run and real)', async () => {
      const where = ['--cloud', 'aws', '--region', 'eu-west-1']
      const named = [...where, '--name', 'jump']
      const create = [...named, '--subnet', 'subnet-0aaaaaaaaaaaaaaa1', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1', '--vendor-key-file', key,
        '--permit-open', '10.0.1.5:5432', '--admin-cidr', '203.0.113.7', '--known-hosts', tempKnownHosts(), '--json']
      const results: [string, {schemaVersion?: number}, InProcess][] = []
      const step = async (name: string, cmd: unknown, args: string[]) => {
        const r = await runCommand(cmd, args)
        assert.equal(r.code, 0, `${name}: ${r.out}${r.err}`)
        results.push([name, cmd as {schemaVersion?: number}, r])
      }
      await step('create', Create, [...create, '--dry-run'])
      await step('create', Create, create)
      await step('list', List, [...where, '--json'])
      await step('whitelist-add', WhitelistAdd, [...named, '--vendor', 'hevo', '--cidr', '52.6.1.2', '--json'])
      await step('whitelist-list', WhitelistList, [...named, '--cidr', '52.6.1.1', '--json'])
      await step('whitelist-remove', WhitelistRemove, [...named, '--vendor', 'hevo', '--cidr', '52.6.1.2', '--json'])
      const doctor = await runCommand(Doctor, [...named, '--vendor', 'hevo', '--json'])
      results.push(['doctor', Doctor, doctor])
      await step('destroy', Destroy, [...named, '--confirm', 'jump', '--dry-run', '--json'])
      await step('destroy', Destroy, [...named, '--confirm', 'jump', '--json'])
      for (const [name, cmd, r] of results) assertResult(name, cmd, r.json)
      assert.ok(doctor.json.hosts[0].findings.length > 0, 'doctor --cloud checked something')
      assert.equal(results[1]?.[2].json.dryRun, false)
    })

    it('doctor --cloud that can read nothing (no permission): its cloud host error is the one error shape', async () => {
      for (const op of COMMANDS.filter((c) => c.startsWith('Describe'))) s.fake.failNext(op, awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.'), 20)
      const r = await runCommand(Doctor, ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--vendor', 'hevo', '--json'])
      assert.equal(r.code, 2, r.out)
      assertResult('doctor', Doctor, r.json)
      assert.equal(r.json.hosts[0].ran, false)
      assertHostError(r.json.hosts[0].error)
    })

    it('a cloud error (AWS refuses) is the one error shape', async () => {
      s.fake.failNext('RunInstances', Object.assign(new Error('vCPU limit of 0'), {name: 'VcpuLimitExceeded'}))
      const r = await runCommand(Create, ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--subnet', 'subnet-0aaaaaaaaaaaaaaa1', '--admin-cidr', '203.0.113.7', '--json'])
      assert.equal(r.code, 1)
      assertError('create', r.json, 'AWS_QUOTA')
    })
  })
})

type InProcess = Awaited<ReturnType<typeof runCommand>>
