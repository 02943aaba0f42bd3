/**
 * bastion.yml's checks beyond the schema (src/config/lint.ts): each rule on a file that breaks it, at the line and
 * column of the value it is about; a clean file has none; every code is documented in docs/config.md.
 */
import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'
import {lintConfig} from '../../src/config/lint.js'
import {parseConfig, type ConfigIssue} from '../../src/config/load.js'
import {CONFIG_RULES} from '../../src/config/rules.js'
import {packageRoot} from '../../src/paths.js'
import {generateEd25519} from '../../src/ssh/keygen.js'

const NOW = new Date('2026-11-30T00:00:00Z')
const K1 = generateEd25519('k1').publicKey
const K2 = generateEd25519('k2').publicKey
const K3 = generateEd25519('k3').publicKey

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-lint-'))
  mkdirSync(join(dir, 'keys'))
  copyFileSync(join(packageRoot, 'test/access/fixtures/keys/old-dsa.pub'), join(dir, 'keys/old-dsa.pub'))
  return dir
}

/** Lint `text` as bastion.yml in `dir`: [code, line, column] of every issue, in file order. */
async function lint(text: string, dir = tempDir()) {
  const loaded = await parseConfig(text, 'bastion.yml', dir)
  assert.deepEqual(loaded.issues, [], 'the file must pass the schema for the linter to run')
  return lintConfig(loaded, NOW)
}

// Line numbers are in the comments: the expected positions below refer to them.
const BAD = `version: 1
databases:
  warehouse:
    host: 10.0.1.5
    port: 5432
  orders:
    host: bad host
    port: 3306
  spare:
    host: 10.0.1.9
    port: 5432
vendors:
  hevo:
    cidrs: [0.0.0.0/0, 52.6.0.0/16, 10.0.0.1/24, 52.6.1.1/32, 52.6.1.1]
    keys:
      - ${K1}
      - key: ${K1}
        expires: 2026-12-05
    databases: [warehose, warehouse]
  fivetran:
    user: hevo
    cidrs: ["::/0"]
    allowAnywhere: true
    keys:
      - ${K1}
      - file: keys/missing.pub
      - file: keys/old-dsa.pub
        expires: 2026-02-30
      - key: ssh-ed25519 AAAAnotakey
        expires: 2025-01-01
    databases: [orders]
  root:
    cidrs: [52.6.1.2]
    keys: [${K2}]
    databases: [warehouse]
  lonely:
    cidrs: [52.6.1.3]
    keys:
      - key: ${K3}
        file: keys/x.pub
    databases: [warehouse]
bastions:
  onprem:
    ssh: {user: ops}
    vendors: [hevo, fivetrn, fivetran, root, hevo]
  nothing:
    vendors: []
`

describe('config lint', () => {
  let issues: ConfigIssue[] = []
  before(async () => {
    issues = await lint(BAD)
  })
  const at = (code: string) => issues.filter((i) => i.code === code).map((i) => [i.line, i.column, i.severity])

  it('reports every problem of the bad file at its line and column, in file order, and nothing else', () => {
    assert.deepEqual(
      issues.map((i) => `${i.line}:${i.column} ${i.code}`),
      [
        '7:11 database.address',
        '9:3 database.unused',
        '14:13 cidr.anywhere',
        '14:24 cidr.wide',
        '14:37 cidr.invalid',
        '14:63 cidr.duplicate',
        '17:14 key.duplicate',
        '18:18 expiry.soon',
        '19:17 ref.database',
        '21:11 user.shared',
        '22:13 cidr.anywhere-allowed',
        '25:9 key.shared',
        '26:15 key.unreadable',
        '27:15 key.weak',
        '28:18 expiry.invalid',
        '29:14 key.invalid',
        '30:18 expiry.past',
        '32:3 user.reserved',
        '36:3 vendor.unused',
        '39:9 key.form',
        '44:10 bastion.no-host',
        '45:21 ref.vendor',
        '45:46 ref.duplicate',
        '46:3 bastion.no-host',
        '47:14 bastion.no-vendors',
      ],
    )
  })

  it('0.0.0.0/0 is an error, ::/0 with allowAnywhere a warning, a /16 a warning', () => {
    assert.deepEqual(at('cidr.anywhere'), [[14, 13, 'error']])
    assert.deepEqual(at('cidr.anywhere-allowed'), [[22, 13, 'warning']])
    assert.deepEqual(at('cidr.wide'), [[14, 24, 'warning']])
    const anywhere = issues.find((i) => i.code === 'cidr.anywhere')
    assert.match(anywhere?.message ?? '', /0\.0\.0\.0\/0 admits the whole internet/)
    assert.match(anywhere?.suggestion ?? '', /allowAnywhere/)
  })

  it('a CIDR with host bits set names the network it probably meant', () => {
    const i = issues.find((x) => x.code === 'cidr.invalid')
    assert.match(i?.message ?? '', /host bits set/)
    assert.match(i?.suggestion ?? '', /10\.0\.0\.0\/24/)
  })

  it('the same key for two vendors is an error naming both; twice for one vendor too', () => {
    const shared = issues.find((i) => i.code === 'key.shared')
    assert.match(shared?.message ?? '', /vendors\.fivetran\.keys\[0\] is the key vendor hevo has too \(vendors\.hevo\.keys\[0\]/)
    assert.equal(shared?.severity, 'error')
    assert.match(issues.find((i) => i.code === 'key.duplicate')?.message ?? '', /same key as keys\[0\]/)
  })

  it('a DSA key file is refused as weak, a broken inline key as invalid, a missing file as unreadable', () => {
    assert.match(issues.find((i) => i.code === 'key.weak')?.message ?? '', /DSA/i)
    assert.match(issues.find((i) => i.code === 'key.unreadable')?.message ?? '', /missing\.pub/)
    assert.equal(issues.find((i) => i.code === 'key.invalid')?.severity, 'error')
  })

  it('expiry: past is an error, within 14 days a warning, a day that does not exist an error', () => {
    assert.deepEqual(at('expiry.past'), [[30, 18, 'error']])
    assert.deepEqual(at('expiry.soon'), [[18, 18, 'warning']])
    assert.match(issues.find((i) => i.code === 'expiry.soon')?.message ?? '', /expires in 5 days/)
    assert.match(issues.find((i) => i.code === 'expiry.invalid')?.message ?? '', /February 2026 has 28 days/)
  })

  it('a reference to a database or vendor that does not exist suggests the closest name', () => {
    assert.equal(issues.find((i) => i.code === 'ref.database')?.suggestion, 'did you mean warehouse?')
    assert.equal(issues.find((i) => i.code === 'ref.vendor')?.suggestion, 'did you mean fivetran?')
  })

  it('two vendors on one Linux user, and a system account as a vendor user, are errors', () => {
    assert.match(issues.find((i) => i.code === 'user.shared')?.message ?? '', /hevo and fivetran are both mapped to the Linux user "hevo"/)
    assert.match(issues.find((i) => i.code === 'user.reserved')?.message ?? '', /system or administrator account/)
  })

  it('unused vendors and databases are warnings; so is a bastion without vendors', () => {
    for (const code of ['vendor.unused', 'database.unused', 'bastion.no-vendors', 'ref.duplicate', 'cidr.duplicate'])
      assert.ok(issues.filter((i) => i.code === code).every((i) => i.severity === 'warning'), code)
  })

  it('every issue names the file and a path into the model', () => {
    for (const i of issues) {
      assert.equal(i.file, 'bastion.yml')
      assert.ok(i.path.length >= 2, JSON.stringify(i))
      assert.ok(i.endLine > i.line || (i.endLine === i.line && i.endColumn > i.column), JSON.stringify(i))
    }
  })

  it('examples/bastion.yml has no issue at all', async () => {
    const text = readFileSync(join(packageRoot, 'examples/bastion.yml'), 'utf8')
    const loaded = await parseConfig(text, 'examples/bastion.yml', join(packageRoot, 'examples'))
    assert.deepEqual([...loaded.issues, ...lintConfig(loaded, NOW)], [])
  })

  it('IPv6 CIDRs and database hosts are judged like IPv4 ones; a key file is read relative to the config file', async () => {
    const dir = tempDir()
    const text = `version: 1
databases:
  db6: {host: "fd00::5", port: 5432}
vendors:
  acme:
    cidrs: [2001:db8::/64]
    keys: [{file: keys/old-dsa.pub}]
    databases: [db6]
bastions:
  j: {ssh: {host: j.example}, vendors: [acme]}
`
    assert.deepEqual((await lint(text, dir)).map((i) => i.code), ['key.weak'])
  })

  it('a name that is also a property of every object (constructor, __proto__) is not taken as defined', async () => {
    const text = `version: 1
databases:
  db: {host: 10.0.0.5, port: 5432}
vendors:
  acme:
    cidrs: [52.6.1.1]
    keys: [${K1.trim()}]
    databases: [db, constructor]
bastions:
  j: {ssh: {host: j.example}, vendors: [acme, constructor, __proto__]}
`
    assert.deepEqual(
      (await lint(text)).map((i) => [i.code, i.line, i.column]),
      [
        ['ref.database', 8, 21],
        ['ref.vendor', 10, 47],
        ['ref.vendor', 10, 60],
      ],
    )
  })

  it('no issue is emitted when the file did not match the schema (the schema issues say it all)', async () => {
    const loaded = await parseConfig('version: 2\n', 'x.yml')
    assert.ok(loaded.issues.length > 0)
    assert.deepEqual(lintConfig(loaded, NOW), [])
  })

  it('every code the linter emits here is a known rule', () => {
    for (const i of issues) assert.ok(i.code in CONFIG_RULES, i.code)
    assert.ok(new Set(issues.map((i) => i.code)).size >= 24)
  })
})
