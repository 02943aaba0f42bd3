/**
 * bastion.yml resolved and reconciled, without any host: resolve (connection flags, keys, databases, expiry, the
 * allowlist), the drift between the file and listed facts, the changes apply makes (and what --prune adds), the diff
 * --dry-run prints, the drift findings doctor --config reports, and their GitHub annotations.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {renderVendorLine} from '../../src/access/authorized-keys.js'
import {parsePublicKey} from '../../src/access/keys.js'
import {readListFacts, type ListResult} from '../../src/access/service.js'
import type {WhitelistRule} from '../../src/cloud/provider.js'
import {parseConfig} from '../../src/config/load.js'
import {allowlistDrift, changeLine, hostDrift, planChanges, renderDiff, untouched, untouchedLine, type Drift} from '../../src/config/reconcile.js'
import {admitsEveryone, expiresOf, expiryTimeOf, resolveConfig} from '../../src/config/resolve.js'
import {bastionHosts, refuseWithConfig} from '../../src/config/flags.js'
import {driftCheckIds, driftFindings} from '../../src/doctor/checks/drift.js'
import {renderGithub} from '../../src/doctor/github.js'
import {buildResult, summarize} from '../../src/doctor/report.js'
import {BastionError} from '../../src/errors.js'
import {generateEd25519} from '../../src/ssh/keygen.js'
import type {Style} from '../../src/ui/style.js'

const plainStyle: Style = {ok: (t) => t, bad: (t) => t, warn: (t) => t, dim: (t) => t, bold: (t) => t, code: (t) => t}

const hevo = generateEd25519('hevo@prod').publicKey.trim()
const hevo2 = generateEd25519('hevo-backup').publicKey.trim()
const five = generateEd25519('fivetran').publicKey.trim()
const stray = generateEd25519('by-hand').publicKey.trim()
const fp = (line: string) => parsePublicKey(line).key.fingerprint

async function load(extra = '', dir = mkdtempSync(join(tmpdir(), 'bastion-resolve-'))) {
  const text = `version: 1
databases:
  warehouse: {host: 10.0.1.5, port: 5432}
  orders: {host: orders.internal, port: 3306}
vendors:
  hevo:
    cidrs: [52.6.1.1, 52.6.2.0/24]
    keys:
      - ${hevo}
      - {file: hevo2.pub, expires: 2030-01-31}
    databases: [warehouse]
  fivetran:
    user: ft
    cidrs: [0.0.0.0/0, ::/0]
    allowAnywhere: true
    keys: ['${five}']
    databases: [warehouse, orders]
bastions:
  onprem:
    ssh: {host: jump.example.com, user: ops, port: 2222, identity: ./admin_key, knownHosts: ~/kh, jump: gw.example.com}
    vendors: [hevo, fivetran]
  cloudy:
    cloud: {provider: aws, region: eu-west-1, name: warehouse-jump}
    ssh: {user: ubuntu}
    vendors: [hevo]
${extra}`
  writeFileSync(join(dir, 'hevo2.pub'), `${hevo2}\n`)
  return {loaded: await parseConfig(text, 'bastion.yml', dir), dir}
}

/** The list script's facts for accounts holding these authorized_keys texts. */
function listed(accounts: Record<string, string>): ListResult {
  const lines = Object.entries(accounts).flatMap(([name, text], i) => [
    `@bastion account ${name} ${1001 + i} ${1001 + i} ${name} no /usr/sbin/nologin /home/${name}`,
    `@bastion keyfile ${name} 600 ${1001 + i} ${1001 + i} ${Buffer.from(text).toString('base64')}`,
  ])
  return readListFacts(lines.map((l) => {
    const body = l.slice('@bastion '.length)
    const sp = body.indexOf(' ')
    const rest = body.slice(sp + 1)
    return {key: body.slice(0, sp), rest, args: rest.split(' ')}
  }))
}

function line(key: string, vendor: string, permitOpen: string[], from: string[], expiryTime?: string): string {
  return renderVendorLine({key: parsePublicKey(key).key, vendor, permitOpen, from, ...(expiryTime ? {expiryTime} : {}), added: '2026-11-01'})
}

describe('config/resolve', () => {
  it('resolves each bastion: connection flags from ssh: (paths relative to the file), vendors with parsed keys, databases and expiry', async () => {
    const {loaded, dir} = await load()
    const [onprem, cloudy] = resolveConfig(loaded)
    assert.deepEqual(onprem?.connection, {host: ['jump.example.com'], user: 'ops', port: 2222, identity: [join(dir, 'admin_key')], jump: 'gw.example.com', 'known-hosts': [join(process.env.HOME ?? '', 'kh')]})
    const h = onprem?.vendors[0]
    assert.equal(h?.user, 'hevo')
    assert.deepEqual(h?.cidrs, ['52.6.1.1/32', '52.6.2.0/24'])
    assert.deepEqual(h?.from, h?.cidrs)
    assert.deepEqual(h?.keys.map((k) => [k.key.fingerprint, k.expiryTime]), [[fp(hevo), undefined], [fp(hevo2), '20300131']])
    assert.deepEqual(h?.databases.map((d) => d.target.text), ['10.0.1.5:5432'])
    const f = onprem?.vendors[1]
    assert.equal(f?.user, 'ft')
    assert.deepEqual(f?.from, [], 'cidrs of 0.0.0.0/0 and ::/0 mean no from= restriction')
    assert.deepEqual(f?.databases.map((d) => d.target.text), ['10.0.1.5:5432', 'orders.internal:3306'])
    assert.equal(onprem?.cloud, undefined)
    assert.deepEqual(cloudy?.cloud, {provider: 'aws', name: 'warehouse-jump', flags: {region: 'eu-west-1'}})
    assert.deepEqual(cloudy?.allowlist, [{vendor: 'hevo', cidrs: ['52.6.1.1/32', '52.6.2.0/24']}])
    assert.equal(cloudy?.connection.host, undefined)
  })

  it('an Azure bastion: opened with --subscription and the location only; without ssh.host it is reached on the firewall\'s public port, sshd on 22', async () => {
    const text = [
      'version: 1',
      'databases: {w: {host: 10.0.1.5, port: 5432}}',
      `vendors: {hevo: {cidrs: [52.6.1.1], keys: ['${hevo}'], databases: [w]}}`,
      'bastions:',
      '  fw: {vendors: [hevo], cloud: {provider: azure, subscription: 11111111-2222-3333-4444-555555555555, resourceGroup: rg-data, location: westeurope, firewall: {name: fw-hub, resourceGroup: rg-hub, publicPort: 2222}}}',
      '  fwhost: {vendors: [hevo], ssh: {host: 10.0.1.4}, cloud: {provider: azure, resourceGroup: rg-data, firewall: {name: fw-hub, publicPort: 2222}}}',
      '  pip: {vendors: [hevo], cloud: {provider: azure, resourceGroup: rg-data, name: jump}}',
      '',
    ].join('\n')
    const [fw, fwhost, pip] = resolveConfig(await parseConfig(text, 'bastion.yml', mkdtempSync(join(tmpdir(), 'bastion-resolve-'))))
    assert.deepEqual(fw?.cloud, {provider: 'azure', name: 'fw', flags: {subscription: '11111111-2222-3333-4444-555555555555', location: 'westeurope'}})
    assert.equal(fw?.connection.port, 2222)
    assert.equal(fw?.sshdPort, 22)
    assert.equal(fwhost?.connection.port, undefined, 'ssh.host given: the file says how to reach it (port 22 unless ssh.port)')
    assert.equal(fwhost?.sshdPort, undefined)
    assert.deepEqual(pip?.cloud, {provider: 'azure', name: 'jump', flags: {}})
    assert.equal(pip?.connection.port, undefined)
  })

  it('--bastion and --vendor narrow the selection; names the file does not have are refused with the names it has', async () => {
    const {loaded} = await load()
    const only = resolveConfig(loaded, {bastions: ['onprem'], vendors: ['fivetran']})
    assert.deepEqual(only.map((b) => [b.name, b.vendors.map((v) => v.name)]), [['onprem', ['fivetran']]])
    assert.throws(() => resolveConfig(loaded, {bastions: ['nope']}), (e: BastionError) => e.code === 'CONFIG_BASTION' && e.exit === 2 && /onprem, cloudy/.test(e.suggestions[0] ?? ''))
    assert.throws(() => resolveConfig(loaded, {vendors: ['stitch']}), (e: BastionError) => e.code === 'CONFIG_VENDOR' && /hevo, fivetran/.test(e.suggestions[0] ?? ''))
  })

  it('a file with schema errors is refused, listing them with line and column; a missing key file names it', async () => {
    const bad = await parseConfig('version: 1\nvendors:\n  hevo: {cidrs: [], keys: [x], databases: [w]}\n', 'bad.yml')
    assert.throws(() => resolveConfig(bad), (e: BastionError) => e.code === 'CONFIG_INVALID' && e.exit === 2 && /bad\.yml:3:\d+: /.test(e.message))
    const dir = mkdtempSync(join(tmpdir(), 'bastion-resolve-'))
    const missing = await parseConfig(`version: 1\ndatabases: {w: {host: db, port: 1}}\nvendors:\n  hevo: {cidrs: [1.2.3.4], keys: [{file: gone.pub}], databases: [w]}\n`, 'f.yml', dir)
    assert.throws(() => resolveConfig(missing), /gone\.pub/)
  })

  it('expiry dates convert both ways between the file and expiry-time', () => {
    assert.equal(expiryTimeOf('2027-06-30'), '20270630')
    assert.equal(expiryTimeOf('2027-06-30T18:05'), '202706301805')
    assert.equal(expiresOf('20270630'), '2027-06-30')
    assert.equal(expiresOf('202706301805'), '2027-06-30T18:05')
    assert.equal(admitsEveryone(['0.0.0.0/0', '::/0']), true)
    assert.equal(admitsEveryone(['0.0.0.0/0']), false)
  })

  it('bastionHosts gives each bastion its own connection options; a cloud bastion without ssh.host asks its cloud', async () => {
    const {loaded} = await load()
    const asked: string[] = []
    const items = await bastionHosts(resolveConfig(loaded), {'connect-timeout': 5}, async (c) => {
      asked.push(c.name)
      return '203.0.113.10'
    })
    assert.deepEqual(asked, ['warehouse-jump'])
    assert.deepEqual(items.map((i) => [i.label, i.host]), [['onprem', 'jump.example.com'], ['cloudy', '203.0.113.10']])
    assert.equal(items[0]?.options?.port, 2222)
    assert.equal(items[0]?.options?.connectTimeoutMs, 5000)
    assert.equal(items[1]?.options?.user, 'ubuntu')
  })

  it('connection flags beside --config are refused, naming them; timeouts and concurrency are not', () => {
    assert.throws(() => refuseWithConfig(['config', 'host', 'identity']), (e: BastionError) => e.code === 'CONFIG_AND_FLAGS' && e.exit === 2 && /--host, --identity/.test(e.message))
    assert.throws(() => refuseWithConfig(['config', 'db'], ['db']), /--db/)
    assert.doesNotThrow(() => refuseWithConfig(['config', 'bastion', 'connect-timeout', 'concurrency']))
  })
})

const {loaded: reconcileLoaded} = await load()

describe('config/reconcile', () => {
  const loaded = reconcileLoaded
  const [onprem, cloudy] = resolveConfig(loaded)
  if (!onprem || !cloudy) throw new Error('fixture')

  it('a host in step with the file has no drift and apply plans nothing', () => {
    const facts = listed({
      hevo: `${line(hevo, 'hevo', ['10.0.1.5:5432'], ['52.6.2.0/24', '52.6.1.1/32'])}\n${line(hevo2, 'hevo', ['10.0.1.5:5432'], ['52.6.1.1/32', '52.6.2.0/24'], '20300131')}\n`,
      ft: `${line(five, 'ft', ['orders.internal:3306', '10.0.1.5:5432'], [])}\n`,
    })
    assert.deepEqual(hostDrift(onprem, facts), [])
    assert.deepEqual(planChanges([], {prune: true}), [])
  })

  it('drift both ways: missing vendor and keys, changed options, a stale bastion line, a hand-written line; --prune adds only the stale removal', () => {
    const facts = listed({
      hevo: [
        line(hevo, 'hevo', ['10.0.1.5:5432'], ['52.6.1.1/32']), // from= lost 52.6.2.0/24
        line(stray, 'hevo', ['10.0.1.5:5432'], []).replace(/ bastion:vendor=hevo,added=2026-11-01$/, ''), // not bastion's
        line(generateEd25519('old').publicKey.trim(), 'hevo', ['10.0.1.5:5432'], []), // bastion's, not in the file
      ].join('\n'),
    })
    const drift = hostDrift(onprem, facts)
    assert.deepEqual(drift.map((d) => d.kind).sort(), ['key-missing', 'key-missing', 'key-options', 'key-stale', 'key-unmanaged', 'vendor-missing'])
    const kept = planChanges(drift, {prune: false})
    assert.deepEqual(kept.map((c) => `${c.op} ${c.target === 'host' ? c.user : c.cidr}`), ['~ hevo', '+ hevo', '+ ft'])
    const pruned = planChanges(drift, {prune: true})
    assert.deepEqual(pruned.map((c) => `${c.op} ${c.target === 'host' ? c.user : c.cidr}`), ['~ hevo', '+ hevo', '+ ft', '- hevo'])
    assert.deepEqual(untouched(drift, {prune: true}).map((d) => d.kind), ['key-unmanaged'])
    assert.deepEqual(untouched(drift, {prune: false}).map((d) => d.kind).sort(), ['key-stale', 'key-unmanaged'])
  })

  it('a key the file lists that sits on a line bastion does not own is reported, never planned; nor is a stale key that such a line also holds', () => {
    const hand = line(hevo, 'hevo', ['10.0.1.5:5432'], []).replace(/ bastion:vendor=hevo,added=2026-11-01$/, '')
    const old = generateEd25519('old').publicKey.trim()
    const facts = listed({hevo: `${hand}\n${line(old, 'hevo', ['x:1'], [])}\n${old}\n`})
    const drift = hostDrift(onprem, facts)
    assert.ok(drift.some((d) => d.kind === 'key-not-owned'))
    const stale = drift.find((d) => d.kind === 'key-stale')
    assert.equal(stale?.kind === 'key-stale' && stale.alsoUnowned, true)
    assert.ok(!planChanges(drift, {prune: true}).some((c) => c.op === '-'), 'a line bastion does not own would have gone with it')
  })

  it('allowlist drift: a missing vendor rule, a stale bastion rule (pruned only with --prune), an unmanaged rule (never), admin rules ignored', () => {
    const rule = (over: Partial<WhitelistRule>): WhitelistRule => ({role: 'vendor', cidr: '', protocol: 'tcp', fromPort: 22, toPort: 22, description: '', ...over})
    const rules = [
      rule({vendor: 'hevo', cidr: '52.6.1.1/32', description: 'bastion:vendor=hevo'}),
      rule({vendor: 'stitch', cidr: '1.2.3.4/32', description: 'bastion:vendor=stitch', id: 'sgr-2'}),
      rule({role: 'unmanaged', cidr: '0.0.0.0/0', description: 'ssh', id: 'sgr-3'}),
      rule({role: 'admin', cidr: '198.51.100.7/32', description: 'bastion:admin'}),
    ]
    const drift = allowlistDrift(cloudy, rules)
    assert.deepEqual(drift, [
      {kind: 'rule-missing', vendor: 'hevo', cidr: '52.6.2.0/24'},
      {kind: 'rule-stale', vendor: 'stitch', cidr: '1.2.3.4/32', id: 'sgr-2'},
      {kind: 'rule-unmanaged', cidr: '0.0.0.0/0', description: 'ssh', id: 'sgr-3'},
    ])
    assert.deepEqual(planChanges(drift, {prune: false}).map(changeLine), ['+ rule hevo 52.6.2.0/24'])
    assert.deepEqual(planChanges(drift, {prune: true}).map(changeLine), ['+ rule hevo 52.6.2.0/24', '- rule stitch 1.2.3.4/32'])
  })

  it('the diff: + add, ~ update with what changes, - remove, per host then per rule, and what is left alone', () => {
    const facts = listed({hevo: `${line(hevo, 'hevo', ['10.0.1.5:5432'], ['52.6.1.1/32'], '20290101')}\n`})
    const drift: Drift[] = [...hostDrift(cloudy, facts), {kind: 'rule-missing', vendor: 'hevo', cidr: '52.6.2.0/24'}, {kind: 'rule-stale', vendor: 'x', cidr: '1.1.1.1/32'}]
    const changes = planChanges(drift, {prune: false})
    const text = renderDiff(
      [{bastion: 'cloudy', host: 'ubuntu@203.0.113.10:22', firewall: 'sg-1', changes: changes.map((c) => ({target: c.target, text: changeLine(c)})), untouched: untouched(drift, {prune: false}).map(untouchedLine), errors: []}],
      plainStyle,
    )
    assert.equal(
      text,
      [
        'cloudy  (ubuntu@203.0.113.10:22)',
        `  ~ hevo key ${fp(hevo)} (ED25519 hevo@prod)  from 52.6.1.1/32 → 52.6.1.1/32,52.6.2.0/24; expires 2029-01-01 → (never)`,
        `  + hevo key ${fp(hevo2)} (ED25519 hevo-backup)  permitopen 10.0.1.5:5432  from 52.6.1.1/32,52.6.2.0/24  expires 2030-01-31`,
        '  allowlist (sg-1)',
        '    + rule hevo 52.6.2.0/24',
        '  rule x 1.1.1.1/32 was written by bastion and is not in the file: kept (--prune removes it)',
        '',
        '3 change(s) on 1 bastion(s)',
      ].join('\n'),
    )
  })

  it('drift findings: one per drift entry with a fix, a pass for every id without drift; docs/checks.md documents every id', () => {
    const drift: Drift[] = [{kind: 'vendor-missing', vendor: 'hevo', user: 'hevo'}, {kind: 'rule-unmanaged', cidr: '0.0.0.0/0', description: 'ssh'}]
    const findings = driftFindings(drift, {file: 'bastion.yml', bastion: 'cloudy', host: true, allowlist: true})
    assert.deepEqual(findings.filter((f) => f.status !== 'pass').map((f) => `${f.id} ${f.status} ${f.fix?.command ?? ''}`), [
      'drift.vendor.missing fail bastion apply --config bastion.yml --bastion cloudy',
      'drift.rule.unmanaged warn review it in the cloud console, and remove it or describe it there',
    ])
    assert.equal(findings.filter((f) => f.status === 'pass').length, driftCheckIds.length - 2)
    assert.equal(driftFindings([], {file: 'f', bastion: 'b', host: true, allowlist: false}).length, 6, 'no rule ids without an allowlist')
    const doc = readFileSync(join(process.cwd(), 'docs/checks.md'), 'utf8')
    assert.deepEqual(driftCheckIds.filter((id) => !doc.includes(`\`${id}\``)), [])
  })

  it('github annotations: errors and warnings with the finding id as title and the file position, values escaped', () => {
    const findings = driftFindings([{kind: 'vendor-missing', vendor: 'hevo', user: 'hevo'}], {file: 'bastion.yml', bastion: 'onprem', host: true, allowlist: false})
    const result = buildResult('hevo', [{host: 'onprem', ran: true, ok: false, findings, summary: summarize(findings)}, {host: 'onprem/hevo', ran: false, ok: false, error: {code: 'SSH', message: 'refused', exit: 6, suggestions: []}, findings: [], summary: summarize([])}])
    const out = renderGithub(result, (h) => (h.startsWith('onprem') ? {file: 'bastion.yml', line: 20, col: 3} : undefined)).split('\n')
    assert.deepEqual(out, [
      '::error file=bastion.yml,line=20,col=3,title=drift.vendor.missing::onprem: vendor hevo has an account on the bastion: no user hevo (fix: bastion apply --config bastion.yml --bastion onprem)',
      '::error file=bastion.yml,line=20,col=3,title=bastion doctor%3A onprem/hevo::onprem/hevo: doctor could not run: refused',
      '::notice::bastion doctor: 2 report(s), 1 failed, 0 warnings, 5 passed, 0 skipped, 1 could not be checked',
    ])
  })
})
