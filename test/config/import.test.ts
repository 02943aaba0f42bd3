/**
 * config import's file, from list facts and an allowlist, without a host: bastion-owned lines become vendors
 * (permitopen → databases, from= → cidrs, expiry-time → expires), lines bastion does not own stay out, the YAML has
 * comments and passes the schema, and resolved again it reproduces the lines it was read from.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {renderVendorLine} from '../../src/access/authorized-keys.js'
import {parsePublicKey} from '../../src/access/keys.js'
import {accountLines, databaseName, importConfig} from '../../src/config/import.js'
import {parseConfig} from '../../src/config/load.js'
import {resolveConfig} from '../../src/config/resolve.js'
import {generateEd25519} from '../../src/ssh/keygen.js'

const hevo = generateEd25519('hevo@prod').publicKey.trim()
const five = generateEd25519('fivetran').publicKey.trim()
const hand = generateEd25519('by-hand').publicKey.trim()

function facts(accounts: Record<string, string>) {
  return Object.entries(accounts).flatMap(([name, text]) => [
    {key: 'account', rest: '', args: [name, '1001', '1001', name, 'no', '/usr/sbin/nologin', `/home/${name}`]},
    {key: 'keyfile', rest: '', args: [name, '600', '1001', '1001', Buffer.from(text).toString('base64')]},
  ])
}
const line = (key: string, vendor: string, permitOpen: string[], from: string[], expiryTime?: string) =>
  renderVendorLine({key: parsePublicKey(key).key, vendor, permitOpen, from, ...(expiryTime ? {expiryTime} : {}), added: '2026-11-01'})

describe('config/import', () => {
  it('writes vendors, databases and the bastion with comments; the file passes the schema and resolves to the same grants', async () => {
    const accounts = accountLines(facts({
      hevo: `${line(hevo, 'hevo', ['10.0.1.5:5432'], ['52.6.1.1/32'], '20300131')}\n${hand}\n`,
      fivetran: `${line(five, 'fivetran', ['db.internal:3306', '[fd00::5]:5432'], [])}\n`,
      nokeys: '',
    }))
    const r = importConfig({
      bastion: 'jump',
      ssh: {host: '10.0.0.5', user: 'admin', identity: '/keys/admin'},
      cloud: {provider: 'aws', region: 'eu-west-1', name: 'jump'},
      accounts,
      rules: [
        {role: 'vendor', vendor: 'hevo', cidr: '52.6.1.2/32', protocol: 'tcp', fromPort: 22, toPort: 22, description: 'bastion:vendor=hevo'},
        {role: 'unmanaged', cidr: '0.0.0.0/0', protocol: 'tcp', fromPort: 22, toPort: 22, description: 'x'},
      ],
      from: 'admin@10.0.0.5:22',
      today: '2026-11-30',
    })
    assert.deepEqual(r.vendors, ['fivetran', 'hevo'])
    assert.equal(r.keys, 2)
    assert.equal(r.rules, 1)
    assert.match(r.yaml, /^# Written by bastion config import from admin@10\.0\.0\.5:22 on 2026-11-30\./)
    assert.match(r.yaml, /# 1 key line\(s\) bastion did not write are on the host/)
    assert.match(r.yaml, /cidrs: \[ 52\.6\.1\.1\/32, 52\.6\.1\.2\/32 \]/)
    assert.ok(!r.yaml.includes(parsePublicKey(hand).key.base64), 'a line bastion does not own was imported')
    assert.ok(r.warnings.some((w) => w.startsWith('nokeys:')))
    assert.ok(r.warnings.some((w) => w.startsWith('fivetran: a key without from=')))
    const loaded = await parseConfig(r.yaml, 'imported.yml')
    assert.deepEqual(loaded.issues, [])
    const [b] = resolveConfig(loaded)
    assert.deepEqual(b?.cloud, {provider: 'aws', name: 'jump', flags: {region: 'eu-west-1'}})
    const h = b?.vendors.find((v) => v.name === 'hevo')
    assert.deepEqual(h?.keys.map((k) => [k.key.fingerprint, k.expiryTime]), [[parsePublicKey(hevo).key.fingerprint, '20300131']])
    assert.deepEqual(h?.databases.map((d) => d.target.text), ['10.0.1.5:5432'])
    const f = b?.vendors.find((v) => v.name === 'fivetran')
    assert.deepEqual(f?.from, [])
    assert.deepEqual(f?.databases.map((d) => d.target.text).sort(), ['[fd00::5]:5432', 'db.internal:3306'])
  })

  it('database names are valid config names', () => {
    assert.equal(databaseName('10.0.1.5', 5432), '10.0.1.5-5432')
    assert.equal(databaseName('fd00::5', 5432), 'fd00-5-5432')
  })
})
