/**
 * --config/--bastion instead of connection and cloud flags, without a host: the cloud commands find a cloud bastion of
 * the file (in-memory EC2), mixing them with the flags they replace is refused with a clear error, and a command given
 * neither says what it needs.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {applyCreate} from '../../src/cloud/aws/create.js'
import AddVendorKey from '../../src/commands/add-vendor-key.js'
import Apply from '../../src/commands/apply.js'
import Doctor from '../../src/commands/doctor.js'
import WhitelistList from '../../src/commands/whitelist/list.js'
import {FAST, installFake, type FakeSetup} from '../cloud/fake-ec2.js'
import {plan} from '../cloud/helpers.js'
import {runCommand} from '../cloud/in-process.js'
import {generateEd25519} from '../../src/ssh/keygen.js'

describe('--config and --bastion on the host and cloud commands', () => {
  let s: FakeSetup
  let dir: string
  let file: string
  before(async () => {
    s = installFake()
    await applyCreate(s.client, plan(), FAST)
    dir = mkdtempSync(join(tmpdir(), 'bastion-config-flags-'))
    file = join(dir, 'bastion.yml')
    const key = generateEd25519('hevo@prod').publicKey.trim()
    writeFileSync(
      file,
      `version: 1
databases: {warehouse: {host: 10.0.1.5, port: 5432}}
vendors:
  hevo: {cidrs: [52.6.1.1/32], keys: ['${key}'], databases: [warehouse]}
bastions:
  jump:
    cloud: {provider: aws, region: eu-west-1}
    vendors: [hevo]
  onprem:
    ssh: {host: 192.0.2.10, user: ops}
    vendors: [hevo]
`,
    )
  })
  after(() => {
    s?.restore()
    rmSync(dir, {recursive: true, force: true})
  })

  it('whitelist list --config --bastion reads the cloud bastion the file names (its cloud, region and name)', async () => {
    const r = await runCommand(WhitelistList, ['--config', file, '--bastion', 'jump', '--json'])
    assert.equal(r.code, 0, r.out)
    assert.equal(r.json.name, 'jump')
    assert.ok(r.json.rules.some((x: {cidr: string; vendor?: string}) => x.cidr === '52.6.1.1/32' && x.vendor === 'hevo'))
  })

  it('a plain host of the file, or several bastions, are refused by a cloud command', async () => {
    const plain = await runCommand(WhitelistList, ['--config', file, '--bastion', 'onprem', '--json'])
    assert.equal(plain.code, 2)
    assert.equal(plain.json.error.code, 'CONFIG_NOT_CLOUD')
    const two = await runCommand(WhitelistList, ['--config', file, '--bastion', 'jump', '--bastion', 'onprem', '--json'])
    assert.equal(two.json.error.code, 'CONFIG_ONE_BASTION')
  })

  it('the flags --config replaces are refused beside it, naming them; nothing is touched', async () => {
    const cloud = await runCommand(WhitelistList, ['--config', file, '--bastion', 'jump', '--cloud', 'aws', '--region', 'eu-west-1', '--json'])
    assert.equal(cloud.code, 2)
    assert.equal(cloud.json.error.code, 'CONFIG_AND_FLAGS')
    assert.match(cloud.json.error.message, /--cloud, --region/)
    const host = await runCommand(AddVendorKey, ['--config', file, '--host', 'admin@10.0.0.5', '--vendor', 'hevo', '--key', 'x', '--db', '10.0.1.5:5432', '--json'])
    assert.equal(host.code, 2)
    assert.match(host.json.error.message, /^--host and --config\/--bastion both say which bastion/)
    const doctor = await runCommand(Doctor, ['--config', file, '--vendor-ip', '1.2.3.4', '--json'])
    assert.equal(doctor.json.error.code, 'CONFIG_AND_FLAGS')
    const fix = await runCommand(Doctor, ['--config', file, '--fix', '--json'])
    assert.equal(fix.json.error.code, 'DOCTOR_CONFIG_FIX')
    const apply = await runCommand(Apply, ['--config', file, '--bastion', 'nope', '--json'])
    assert.equal(apply.json.error.code, 'CONFIG_BASTION')
    assert.match(apply.json.error.suggestions[0], /jump, onprem/)
  })

  it('without --cloud or --config a cloud command says what it needs; without --vendor or --config doctor does', async () => {
    const r = await runCommand(WhitelistList, ['--name', 'jump', '--json'])
    assert.equal(r.code, 2)
    assert.equal(r.json.error.code, 'CLOUD_MISSING')
    const d = await runCommand(Doctor, ['--host', 'admin@10.0.0.5', '--json'])
    assert.equal(d.json.error.code, 'DOCTOR_VENDOR')
  })

  it('a config file with schema errors is refused before anything is touched, with its line and column', async () => {
    const bad = join(dir, 'bad.yml')
    writeFileSync(bad, 'version: 1\nbastions:\n  jump: {vendors: [hevo], sshh: {}}\n')
    const r = await runCommand(Apply, ['--config', bad, '--json'])
    assert.equal(r.code, 2)
    assert.equal(r.json.error.code, 'CONFIG_INVALID')
    assert.match(r.json.error.message, /bad\.yml:3:\d+: bastions\.jump: unknown key "sshh"/)
  })

  it('a file the linter finds an error in (0.0.0.0/0 without allowAnywhere) is refused the same way, before anything is touched', async () => {
    const wide = join(dir, 'wide.yml')
    const key = generateEd25519('x').publicKey.trim()
    writeFileSync(wide, `version: 1\ndatabases: {w: {host: 10.0.1.5, port: 5432}}\nvendors:\n  hevo: {cidrs: [0.0.0.0/0], keys: ['${key}'], databases: [w]}\nbastions:\n  onprem: {ssh: {host: 192.0.2.10}, vendors: [hevo]}\n`)
    const r = await runCommand(Doctor, ['--config', wide, '--json'])
    assert.equal(r.code, 2)
    assert.equal(r.json.error.code, 'CONFIG_INVALID')
    assert.match(r.json.error.message, /wide\.yml:4:\d+: /)
    assert.match(r.json.error.suggestions[0], /bastion config validate --config/)
  })
})
