/**
 * An Azure bastion in bastion.yml, end to end through the CLI: the bastion is made in the fake Resource Manager by
 * `bastion create --cloud azure --firewall …` (a DNAT collection on the classic firewall), the file lists it under
 * cloud: {provider: azure, …} with a plain ssh.host at a lab host. doctor --config reports the allowlist drift both
 * ways (a vendor CIDR the DNAT rule lacks, a DNAT source the file does not list), apply --dry-run shows the rule diff,
 * apply --prune converges and leaves every other rule of the firewall byte for byte, and doctor --config then finds no
 * drift. The same for a public-IP bastion (its NSG), where a rule someone else wrote is reported and kept.
 */
import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'
import {makeKey} from '../helpers/cli.js'
import {writeDriftConfig} from '../helpers/drift-config.js'
import {CLASSIC_ID, createArgs, RG, startWorld, type World} from '../cloud/azure-world.js'
import {canonical, FakeArm, SUBSCRIPTION} from '../cloud/fake-arm.js'
import {startLab, type LabHost} from '../lab/lab.js'

interface F {
  id: string
  status: string
  title: string
}

type Collection = {name: string; properties: {rules: {name: string; sourceAddresses: string[]}[]}}

describe('bastion.yml with an Azure firewall bastion: allowlist drift through the provider, through the CLI', () => {
  let w: World
  let lab: LabHost
  let dir: string
  let file: string
  let othersBefore: string
  const hevo = makeKey('ed25519', 'hevo@prod')

  const fw = () => w.fake.get(CLASSIC_ID)?.properties
  const mine = (): Collection | undefined => (fw()?.natRuleCollections as Collection[]).find((c) => c.name === 'bastion-jump')
  const sources = () => Object.fromEntries((mine()?.properties.rules ?? []).map((r) => [r.name, r.sourceAddresses]))
  /** Every rule of the firewall that is not bastion-jump's collection, as the fake holds it. */
  const others = () => {
    const p = fw()
    return canonical({
      nat: (p?.natRuleCollections as Collection[]).filter((c) => c.name !== 'bastion-jump'),
      network: p?.networkRuleCollections,
      application: p?.applicationRuleCollections,
    })
  }

  before(async () => {
    w = await startWorld()
    // rules: hevo 52.6.1.1/32 and 52.6.1.2/32, admin 203.0.113.7/32, on the firewall's port 2222
    const made = await w.cli(createArgs(w, ['--firewall', 'fw-classic', '--firewall-resource-group', 'rg-hub']))
    assert.equal(made.code, 0, made.stderr + made.stdout)
    othersBefore = others()
    lab = await startLab({db: 'tcp'})
    ;({dir, file} = writeDriftConfig(lab, hevo.publicPath, [
      'cloud:',
      '  provider: azure',
      `  subscription: ${SUBSCRIPTION}`,
      '  resourceGroup: rg-data',
      '  location: westeurope',
      '  firewall: {name: fw-classic, resourceGroup: rg-hub, publicPort: 2222}',
    ]))
  })
  after(async () => {
    w?.fake.close()
    await lab?.stop()
    rmSync(dir, {recursive: true, force: true})
  })

  it('doctor --config reports the CIDR the DNAT rule lacks and the DNAT source the file does not list, beside the host and Azure checks', async () => {
    const r = await w.cli(['doctor', '--config', file, '--json'])
    assert.equal(r.code, 1, r.stderr + r.stdout)
    assert.deepEqual(r.json.hosts.map((h: {host: string}) => h.host), ['jump', 'jump/hevo', 'azure:jump'])
    const drift = (r.json.hosts[0].findings as F[]).filter((f) => f.id.startsWith('drift.rule.') && f.status !== 'pass').map((f) => `${f.id} ${f.status} ${f.title}`)
    assert.deepEqual(drift.sort(), ['drift.rule.missing fail the allowlist admits hevo from 52.6.1.9/32', 'drift.rule.stale fail rule hevo 52.6.1.2/32 is in the file'])
    assert.equal(r.json.hosts[2].ran, true, JSON.stringify(r.json.hosts[2].error))
    const azure = new Map((r.json.hosts[2].findings as F[]).map((f) => [f.id, f.status]))
    assert.equal(azure.get('cloud.azure.dnat.target'), 'pass')
    assert.equal(azure.get('cloud.azure.dnat.vendor_cidr'), 'fail', 'the file\'s 52.6.1.9/32 is not admitted')
  })

  it('apply --dry-run shows + for the missing source, - for the stale one only with --prune; nothing is written', async () => {
    const before = canonical(fw())
    const puts = w.fake.countOf('PUT', /azureFirewalls\/fw-classic$/)
    const plain = await w.cli(['apply', '--config', file, '--dry-run'])
    assert.equal(plain.code, 0, plain.stderr + plain.stdout)
    assert.match(plain.stdout, /^ {2}allowlist \(firewall fw-classic DNAT bastion-jump\)\n {4}\+ rule hevo 52\.6\.1\.9\/32$/m)
    assert.match(plain.stdout, /rule hevo 52\.6\.1\.2\/32 was written by bastion and is not in the file: kept \(--prune removes it\)/)
    const pruning = await w.cli(['apply', '--config', file, '--dry-run', '--prune', '--json'])
    assert.equal(pruning.code, 0, pruning.stderr + pruning.stdout)
    const rules = pruning.json.bastions[0].changes.filter((c: {target: string}) => c.target === 'allowlist').map((c: {text: string}) => c.text)
    assert.deepEqual(rules, ['+ rule hevo 52.6.1.9/32', '- rule hevo 52.6.1.2/32'])
    assert.equal(canonical(fw()), before)
    assert.equal(w.fake.countOf('PUT', /azureFirewalls\/fw-classic$/), puts)
  })

  it('apply --prune converges the DNAT rule and the host, every other firewall rule byte for byte; doctor --config then finds no drift', async () => {
    const r = await w.cli(['apply', '--config', file, '--prune', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.deepEqual(
      r.json.bastions[0].changes.map((c: {text: string; status: string}) => `${c.text.split('  ')[0]} ${c.status}`.replace(/SHA256:\S+ /, '')),
      ['+ hevo key (ED25519 hevo@prod) done', '+ rule hevo 52.6.1.9/32 done', '- rule hevo 52.6.1.2/32 done'],
    )
    assert.deepEqual(sources(), {'vendor-hevo': ['52.6.1.1/32', '52.6.1.9/32'], admin: ['203.0.113.7/32']})
    assert.equal(others(), othersBefore, 'the firewall\'s other collections are as they were')
    const d = await w.cli(['doctor', '--config', file, '--json'])
    assert.equal(d.code, 0, d.stderr + d.stdout)
    const notPass = (d.json.hosts as {host: string; findings: F[]}[]).flatMap((h) => h.findings.filter((f) => f.status !== 'pass').map((f) => `${h.host} ${f.id} ${f.status}`))
    assert.deepEqual(notPass.filter((x) => x.includes('drift.')), [])
  })
})

describe('bastion.yml with an Azure public-IP bastion: the NSG rules against the file, through the CLI', () => {
  let w: World
  let lab: LabHost
  let dir: string
  let file: string
  const hevo = makeKey('ed25519', 'hevo@prod')
  const nsgId = FakeArm.id(RG, 'Microsoft.Network', 'networkSecurityGroups', 'bastion-jump-nsg')
  type NsgRule = {name: string; properties: Record<string, unknown>}
  const rules = (): NsgRule[] => w.fake.get(nsgId)?.properties.securityRules ?? []
  const office: NsgRule = {
    name: 'office-ssh',
    properties: {description: 'office', protocol: 'Tcp', sourcePortRange: '*', destinationPortRange: '22', sourceAddressPrefix: '198.51.100.0/24', destinationAddressPrefix: '*', access: 'Allow', priority: 900, direction: 'Inbound'},
  }

  before(async () => {
    w = await startWorld()
    const made = await w.cli(createArgs(w, ['--public-ip'])) // NSG: vendor-hevo 52.6.1.1/32, 52.6.1.2/32; admin 203.0.113.7/32
    assert.equal(made.code, 0, made.stderr + made.stdout)
    w.fake.resources.get(nsgId.toLowerCase())?.properties.securityRules.push(structuredClone(office)) // someone's own rule
    lab = await startLab({db: 'tcp'})
    ;({dir, file} = writeDriftConfig(lab, hevo.publicPath, ['cloud: {provider: azure, resourceGroup: rg-data}']))
  })
  after(async () => {
    w?.fake.close()
    await lab?.stop()
    rmSync(dir, {recursive: true, force: true})
  })

  it('doctor --config reports both drifts and the rule bastion did not write; apply --prune rewrites only the vendor\'s NSG rule; doctor then finds no drift to fix', async () => {
    const d1 = await w.cli(['doctor', '--config', file, '--json'])
    assert.equal(d1.code, 1, d1.stderr + d1.stdout)
    const drift = (d1.json.hosts[0].findings as F[]).filter((f) => f.id.startsWith('drift.rule.') && f.status !== 'pass').map((f) => `${f.id} ${f.status} ${f.title}`)
    assert.deepEqual(drift.sort(), [
      'drift.rule.missing fail the allowlist admits hevo from 52.6.1.9/32',
      'drift.rule.stale fail rule hevo 52.6.1.2/32 is in the file',
      'drift.rule.unmanaged warn rule 198.51.100.0/24 in front of the SSH port is managed',
    ])
    const dry = await w.cli(['apply', '--config', file, '--dry-run', '--prune', '--json'])
    assert.equal(dry.code, 0, dry.stderr + dry.stdout)
    assert.deepEqual(dry.json.bastions[0].changes.filter((c: {target: string}) => c.target === 'allowlist').map((c: {text: string}) => c.text), ['+ rule hevo 52.6.1.9/32', '- rule hevo 52.6.1.2/32'])
    const untouchedBefore = canonical(rules().filter((r) => r.name !== 'vendor-hevo'))
    const r = await w.cli(['apply', '--config', file, '--prune', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const hevoRule = rules().find((x) => x.name === 'vendor-hevo')
    assert.deepEqual([hevoRule?.properties.sourceAddressPrefixes ?? hevoRule?.properties.sourceAddressPrefix].flat().sort(), ['52.6.1.1/32', '52.6.1.9/32'])
    assert.equal(canonical(rules().filter((x) => x.name !== 'vendor-hevo')), untouchedBefore, 'the admin rule, the office rule and the deny rules are as they were')
    const d2 = await w.cli(['doctor', '--config', file, '--json'])
    const left = (d2.json.hosts[0].findings as F[]).filter((f) => f.id.startsWith('drift.') && f.status !== 'pass').map((f) => `${f.id} ${f.status}`)
    assert.deepEqual(left, ['drift.rule.unmanaged warn'])
  })
})
