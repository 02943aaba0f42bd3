/**
 * `bastion create --cloud azure` as a user runs it: the CLI in a subprocess, the real Azure SDK clients and the real
 * credential chain (a fake `az` answers get-access-token), against the fake Resource Manager over HTTPS.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'
import {sha256Fingerprint} from '../../src/ssh/fingerprint.js'
import {canonical, FakeArm} from './fake-arm.js'
import {CLASSIC_ID, createArgs, FW_IP, FW_POLICY_IP, hostKey, OTHER_GROUP_ID, POLICY_FW_ID, POLICY_ID, RG, startWorld, type World} from './azure-world.js'

const vmId = FakeArm.id(RG, 'Microsoft.Compute', 'virtualMachines', 'bastion-jump')
const nicId = FakeArm.id(RG, 'Microsoft.Network', 'networkInterfaces', 'bastion-jump-nic')
const nsgId = FakeArm.id(RG, 'Microsoft.Network', 'networkSecurityGroups', 'bastion-jump-nsg')
const pipId = FakeArm.id(RG, 'Microsoft.Network', 'publicIPAddresses', 'bastion-jump-ip')
const hostKeyFingerprint = sha256Fingerprint(Buffer.from(hostKey.publicKey.split(' ')[1] ?? '', 'base64'))

/** Everything of the classic firewall but bastion's collection and the provisioning state (keys in a canonical order). */
function classicOthers(fake: FakeArm): string {
  const fw = fake.get(CLASSIC_ID) ?? {}
  const p = fw.properties ?? {}
  return canonical({
    nat: (p.natRuleCollections ?? []).filter((c: {name: string}) => c.name !== 'bastion-jump'),
    net: p.networkRuleCollections,
    app: p.applicationRuleCollections,
    ip: p.ipConfigurations,
    sku: p.sku,
    threatIntelMode: p.threatIntelMode,
  })
}

describe('create --cloud azure behind a classic Azure Firewall', () => {
  let w: World
  let othersBefore: string
  before(async () => {
    w = await startWorld()
    othersBefore = classicOthers(w.fake)
  })
  after(() => w.fake.close())

  it('--dry-run with credentials reads what exists and shows what create would make, writing nothing', async () => {
    const r = await w.cli(createArgs(w, ['--firewall', 'fw-classic', '--firewall-resource-group', 'rg-hub', '--dry-run']))
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.deepEqual(r.json.changes.map((c: {change: string; detail: string}) => `${c.change} ${c.detail}`), [
      'create network security group bastion-jump-nsg',
      'create network interface bastion-jump-nic in vnet-data/snet-bastion',
      'create VM bastion-jump (Standard_B2ats_v2, Ubuntu 24.04 x64)',
      'create firewall fw-classic: DNAT collection bastion-jump',
    ])
    assert.equal(w.fake.requests.filter((x) => x.method !== 'GET').length, 0)
  })

  it('creates NSG, NIC (no public IP), VM and a DNAT collection admitting only the vendor and admin addresses, and records the host keys', async () => {
    const r = await w.cli(createArgs(w, ['--firewall', 'fw-classic', '--firewall-resource-group', 'rg-hub', '--public-port', '2222']))
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const j = r.json
    assert.deepEqual(j.vendorForm, {sshHost: FW_IP, sshPort: 2222, sshUser: 'hevo', database: '10.0.1.5:5432'})
    assert.deepEqual(j.steps.map((s: {kind: string; status: string}) => `${s.kind}:${s.status}`), ['network-security-group:created', 'network-interface:created', 'vm:created', 'dnat-collection:created'])
    // the token came from the Azure CLI credential, for the endpoint's own scope
    assert.match(readFileSync(w.fake.azLog, 'utf8'), new RegExp(`^account get-access-token --output json --resource ${w.fake.url.replace(/[.]/g, '\\.')}$`, 'm'))
    const nic = w.fake.get(nicId)
    assert.equal(nic?.properties.ipConfigurations[0].properties.publicIPAddress, undefined)
    assert.equal(w.fake.get(pipId), undefined)
    const vm = w.fake.get(vmId)
    assert.equal(vm?.properties.osProfile.linuxConfiguration.disablePasswordAuthentication, true)
    assert.equal(vm?.properties.storageProfile.osDisk.deleteOption, 'Delete')
    assert.deepEqual(vm?.properties.storageProfile.imageReference, {publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest'})
    assert.equal(vm?.properties.osProfile.linuxConfiguration.ssh.publicKeys[0].path, '/home/azureuser/.ssh/authorized_keys')
    const customData = Buffer.from(vm?.properties.osProfile.customData, 'base64').toString('utf8')
    assert.match(customData, /^#!\/bin\/sh\n/)
    assert.match(customData, /sshd_config\.d|10-bastion\.conf/)
    assert.equal(vm?.tags['bastion:name'], 'jump')
    assert.equal(vm?.tags['managed-by'], 'bastion')
    const nsg = w.fake.get(nsgId)
    const allow = nsg?.properties.securityRules.filter((x: {properties: {access: string}}) => x.properties.access === 'Allow')
    assert.deepEqual(allow.map((x: {properties: {sourceAddressPrefix: string; destinationPortRange: string}}) => [x.properties.sourceAddressPrefix, x.properties.destinationPortRange]), [['10.0.0.0/26', '22']])
    const fw = w.fake.get(CLASSIC_ID)
    const mine = fw?.properties.natRuleCollections.find((c: {name: string}) => c.name === 'bastion-jump')
    assert.equal(mine.properties.action.type, 'Dnat')
    const privateIp = nic?.properties.ipConfigurations[0].properties.privateIPAddress
    assert.deepEqual(
      mine.properties.rules.map((x: Record<string, unknown>) => [x.name, x.sourceAddresses, x.destinationAddresses, x.destinationPorts, x.protocols, x.translatedAddress, x.translatedPort]),
      [
        ['vendor-hevo', ['52.6.1.1/32', '52.6.1.2/32'], [FW_IP], ['2222'], ['TCP'], privateIp, '22'],
        ['admin', ['203.0.113.7/32'], [FW_IP], ['2222'], ['TCP'], privateIp, '22'],
      ],
    )
    assert.equal(classicOthers(w.fake), othersBefore, 'every other rule of the firewall stays as it was')
    assert.equal(j.hostKeys.status, 'recorded')
    assert.equal(j.hostKeys.host, `[${FW_IP}]:2222`)
    assert.deepEqual(j.hostKeys.keys, [{type: 'ssh-ed25519', fingerprint: hostKeyFingerprint}])
    assert.match(readFileSync(w.knownHosts, 'utf8'), new RegExp(`^\\[${FW_IP.replace(/\./g, '\\.')}\\]:2222 ssh-ed25519 `, 'm'))
    assert.equal(j.bootstrap.status, 'done')
    assert.ok(!j.warnings.some((x: string) => /0\.0\.0\.0\/0/.test(x)), 'a default route to the firewall is what firewall mode expects')
  })

  it('a re-run changes nothing: every resource is present, no PUT is sent, the host keys are known', async () => {
    const puts = w.fake.requests.filter((x) => x.method === 'PUT').length
    const r = await w.cli(createArgs(w, ['--firewall', 'fw-classic', '--firewall-resource-group', 'rg-hub', '--public-port', '2222']))
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.deepEqual(r.json.steps.map((s: {status: string}) => s.status), ['present', 'present', 'present', 'present'])
    assert.equal(w.fake.requests.filter((x) => x.method === 'PUT').length, puts)
    assert.equal(r.json.hostKeys.status, 'present')
  })

  it('destroy removes the VM, NIC, NSG and only bastion\'s DNAT collection: every other rule stays byte for byte', async () => {
    const r = await w.cli(['destroy', '--cloud', 'azure', '--name', 'jump', '--confirm', 'jump', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.deepEqual(r.json.steps.map((s: {kind: string; status: string}) => `${s.kind}:${s.status}`), ['dnat-collection:deleted', 'vm:deleted', 'network-interface:deleted', 'network-security-group:deleted'])
    for (const id of [vmId, nicId, nsgId]) assert.equal(w.fake.get(id), undefined, id)
    assert.equal(w.fake.get(CLASSIC_ID)?.properties.natRuleCollections.some((c: {name: string}) => c.name === 'bastion-jump'), false)
    assert.equal(classicOthers(w.fake), othersBefore)
    const list = await w.cli(['list', '--cloud', 'azure', '--json'])
    assert.equal(list.code, 0, list.stderr)
    assert.deepEqual(list.json.bastions, [])
  })
})

describe('create --cloud azure behind a Firewall-Policy firewall', () => {
  let w: World
  let groupBefore: string
  before(async () => {
    w = await startWorld()
    groupBefore = canonical(w.fake.get(OTHER_GROUP_ID)?.properties.ruleCollections)
  })
  after(() => w.fake.close())

  it('refuses a public port another DNAT rule of the policy uses, naming it, and creates nothing', async () => {
    const r = await w.cli(createArgs(w, ['--firewall', 'fw-policy', '--firewall-resource-group', 'rg-hub', '--public-port', '8443']))
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.equal(r.json.error.code, 'AZURE_PUBLIC_PORT_TAKEN')
    assert.match(r.json.error.message, /app-dnat\/admin-portal/)
    assert.equal(w.fake.requests.filter((x) => x.method === 'PUT').length, 0)
  })

  it('writes its own rule collection group (FirewallPolicyNatRuleCollection, DNAT, ipProtocols) and never PUTs the firewall', async () => {
    const r = await w.cli(createArgs(w, ['--firewall', 'fw-policy', '--firewall-resource-group', 'rg-hub']))
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.deepEqual(r.json.vendorForm, {sshHost: FW_POLICY_IP, sshPort: 2222, sshUser: 'hevo', database: '10.0.1.5:5432'})
    const group = w.fake.get(`${POLICY_ID}/ruleCollectionGroups/bastion-jump`)
    const c = group?.properties.ruleCollections[0]
    assert.equal(c.ruleCollectionType, 'FirewallPolicyNatRuleCollection')
    assert.equal(c.action.type, 'DNAT')
    assert.deepEqual(c.rules[0].ipProtocols, ['TCP'])
    assert.deepEqual(c.rules[0].sourceAddresses, ['52.6.1.1/32', '52.6.1.2/32'])
    assert.deepEqual(c.rules[0].destinationPorts, ['2222'])
    assert.notEqual(group?.properties.priority, 100, 'a priority no other group has')
    assert.equal(w.fake.countOf('PUT', /azureFirewalls/i), 0)
    assert.equal(canonical(w.fake.get(OTHER_GROUP_ID)?.properties.ruleCollections), groupBefore)
    assert.ok(w.fake.get(POLICY_FW_ID))
  })

  it('destroy deletes only its rule collection group', async () => {
    const r = await w.cli(['destroy', '--cloud', 'azure', '--name', 'jump', '--confirm', 'jump', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.equal(w.fake.get(`${POLICY_ID}/ruleCollectionGroups/bastion-jump`), undefined)
    assert.equal(canonical(w.fake.get(OTHER_GROUP_ID)?.properties.ruleCollections), groupBefore)
  })
})
