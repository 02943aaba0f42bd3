/**
 * The pure parts of --cloud azure, in process: the flags into a plan, the plan's customData and image, the DNAT merge
 * that leaves every other collection as it was, the reconcile decisions and refusals, and doctor's checks.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import type {AzureFirewall} from '@azure/arm-network'
import {parseCreateRequest} from '../../src/cloud/create-input.js'
import {reconcileCreate, type AzureObserved} from '../../src/cloud/azure/create.js'
import {azureChecks, type AzureFacts} from '../../src/cloud/azure/doctor.js'
import {classicCollection, dnatRules, freePriority, portTakenBy, withClassicCollection} from '../../src/cloud/azure/dnat.js'
import type {AzureFlagValues} from '../../src/cloud/azure/flags.js'
import {parseAzureCreateOptions, parseSubnet, toAzureRequest} from '../../src/cloud/azure/input.js'
import {archOfSize, CUSTOM_DATA_LIMIT, encodeCustomData, planCreate, type AzureCreatePlan} from '../../src/cloud/azure/plan.js'
import {runChecks} from '../../src/doctor/report.js'
import {BastionError} from '../../src/errors.js'
import {packageRoot} from '../../src/paths.js'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'

const dir = mkdtempSync(join(tmpdir(), 'bastion-azure-plan-'))
const adminKey = join(dir, 'admin.pub')
writeFileSync(adminKey, generateEd25519('me@laptop').publicKey)

async function plan(flags: AzureFlagValues & Record<string, unknown> = {}): Promise<AzureCreatePlan> {
  const common = await parseCreateRequest({name: 'jump', vendor: 'hevo', 'vendor-ip': ['52.6.1.1/32'], 'admin-cidr': ['203.0.113.7/32'], 'public-key-file': adminKey})
  const own = parseAzureCreateOptions({'resource-group': 'rg-data', subnet: 'vnet-data/snet-bastion', firewall: 'fw', ...flags}, common.request)
  return planCreate(toAzureRequest({...common.request, options: own.options}))
}

function refusal(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: BastionError) => e.code === code && e.exit === 2, code)
}

describe('--cloud azure flags and plan', () => {
  it('plans Ubuntu 24.04 (server, server-arm64 for arm sizes) with the shared cloud-init script as customData', async () => {
    const p = await plan()
    assert.deepEqual(p.vm.image, {publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest'})
    assert.equal((await plan({size: 'Standard_B2pts_v2'})).vm.image.sku, 'server-arm64')
    assert.equal(archOfSize('Standard_D4pds_v5'), 'arm64')
    assert.equal(archOfSize('Standard_B2ats_v2'), 'x64')
    assert.match(p.vm.customData, /^#!\/bin\/sh\n/)
    assert.ok(p.vm.customDataBytes <= CUSTOM_DATA_LIMIT)
    assert.deepEqual(p.tags, {'bastion:name': 'jump', 'managed-by': 'bastion', 'bastion:mode': 'firewall', 'bastion:firewall': 'rg-data/fw', 'bastion:public-port': '2222'})
    assert.deepEqual(p.sources.map((s) => [s.rule, s.cidrs]), [['vendor-hevo', ['52.6.1.1/32']], ['admin', ['203.0.113.7/32']]])
  })

  it('customData over 65,535 bytes is sent gzip-compressed, and refused when even that is too large', () => {
    const big = `#!/bin/sh\n${'echo padding-line-for-the-test\n'.repeat(3000)}`
    const wire = encodeCustomData(big)
    assert.equal(wire.gzip, true)
    assert.ok(wire.data.length <= CUSTOM_DATA_LIMIT)
    const random = randomBytes(100_000).toString('base64')
    refusal(() => encodeCustomData(random), 'CUSTOM_DATA_TOO_LARGE')
  })

  it('refuses what cannot work, before any call: no mode, both modes, no admin key, another image, a bad subnet', async () => {
    const common = await parseCreateRequest({name: 'jump', 'public-key-file': adminKey})
    const base = {'resource-group': 'rg', subnet: 'v/s'}
    refusal(() => parseAzureCreateOptions(base, common.request), 'AZURE_MODE_MISSING')
    refusal(() => parseAzureCreateOptions({...base, firewall: 'fw', 'public-ip': true}, common.request), 'AZURE_MODE')
    refusal(() => parseAzureCreateOptions({...base, 'public-ip': true, 'public-port': 2222}, common.request), 'AZURE_PUBLIC_PORT')
    refusal(() => parseAzureCreateOptions({...base, firewall: 'fw', image: 'al2023'}, common.request), 'AZURE_IMAGE')
    const noKey = (await parseCreateRequest({name: 'jump'})).request
    refusal(() => parseAzureCreateOptions({...base, firewall: 'fw'}, noKey), 'AZURE_ADMIN_KEY_MISSING')
    refusal(() => parseSubnet('just-a-name', 'rg'), 'AZURE_SUBNET')
    assert.deepEqual(parseSubnet('/subscriptions/x/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/snet', 'rg'), {resourceGroup: 'rg-net', vnet: 'hub', name: 'snet'})
  })
})

describe('DNAT collections', () => {
  const fw: AzureFirewall = {
    natRuleCollections: [{name: 'web', priority: 1000, action: {type: 'Dnat'}, rules: [{name: 'https', sourceAddresses: ['*'], destinationAddresses: ['1.2.3.4'], destinationPorts: ['443'], protocols: ['TCP'], translatedAddress: '10.0.2.10', translatedPort: '443'}]}],
    networkRuleCollections: [{name: 'egress', priority: 300, action: {type: 'Allow'}, rules: []}],
  }
  const rules = dnatRules([{rule: 'vendor-hevo', role: 'vendor', vendor: 'hevo', description: 'bastion:vendor=hevo', cidrs: ['52.6.1.1/32']}], {firewallIp: '1.2.3.4', publicPort: 2222, privateIp: '10.0.1.4'})

  it('adds bastion\'s collection with a free priority, leaving the others as they were, and removes only it', () => {
    const next = withClassicCollection(fw, 'bastion-jump', rules)
    assert.deepEqual(next.natRuleCollections?.[0], fw.natRuleCollections?.[0])
    assert.deepEqual(next.networkRuleCollections, fw.networkRuleCollections)
    const mine = next.natRuleCollections?.[1]
    assert.equal(mine?.priority, 1001)
    assert.deepEqual(mine?.action, {type: 'Dnat'})
    assert.deepEqual(classicCollection(next, 'bastion-jump'), rules)
    assert.deepEqual(withClassicCollection(next, 'bastion-jump', undefined), {...fw, natRuleCollections: fw.natRuleCollections})
    assert.equal(freePriority([1000, 1001, 1003]), 1002)
  })

  it('names the other DNAT rule that takes a public port', () => {
    const others = [{collection: 'web', rule: {...rules[0], name: 'https', destinationPort: 443} as (typeof rules)[0]}]
    assert.deepEqual(portTakenBy(others as never, '1.2.3.4', 443), ['web/https'])
    assert.deepEqual(portTakenBy(others as never, '1.2.3.4', 2222), [])
  })
})

describe('reconcile (pure)', () => {
  const observed = (over: Partial<AzureObserved> = {}): AzureObserved => ({
    location: 'westeurope',
    subnet: {id: '/subscriptions/s/resourceGroups/rg-data/providers/Microsoft.Network/virtualNetworks/vnet-data/subnets/snet-bastion'},
    routes: [],
    firewall: {resourceGroup: 'rg-data', name: 'fw', id: 'fw-id', publicIp: '51.1.1.1', privateIp: '10.0.0.4', subnetPrefix: '10.0.0.0/26'},
    dnat: {others: []},
    ...over,
  })

  it('creates NSG, NIC, VM, then the DNAT; on a fresh subscription', async () => {
    const d = reconcileCreate(await plan(), observed())
    assert.deepEqual(d.actions.map((a) => a.op), ['create-nsg', 'create-nic', 'create-vm', 'write-dnat', 'read-host-keys'])
  })

  it('refuses to take over a resource of that name that bastion did not make, a missing firewall, a taken port', async () => {
    const p = await plan()
    refusal(() => reconcileCreate(p, observed({nsg: {name: 'bastion-jump-nsg', tags: {owner: 'someone'}}})), 'AZURE_NAME_TAKEN')
    refusal(() => reconcileCreate(p, observed({firewall: undefined})), 'AZURE_FIREWALL_NOT_FOUND')
    const taken = {collection: 'ops', rule: {name: 'ssh', description: '', sourceAddresses: ['*'], destinationAddress: '51.1.1.1', destinationPort: 2222, translatedAddress: '10.9.9.9', translatedPort: 22}}
    refusal(() => reconcileCreate(p, observed({dnat: {others: [taken]}})), 'AZURE_PUBLIC_PORT_TAKEN')
  })

  it('public-IP mode warns when the subnet\'s default route goes to a virtual appliance (replies would be dropped)', async () => {
    const p = await plan({firewall: undefined, 'public-ip': true})
    const d = reconcileCreate(p, observed({firewall: undefined, dnat: undefined, routes: [{prefix: '0.0.0.0/0', nextHopType: 'VirtualAppliance', nextHopIp: '10.0.0.4'}]}))
    assert.ok(d.warnings.some((w) => /asymmetric/.test(w)))
    assert.deepEqual(d.actions.map((a) => a.op), ['create-nsg', 'create-public-ip', 'create-nic', 'create-vm', 'read-host-keys'])
  })
})

describe("doctor's Azure checks (pure)", () => {
  const facts = (over: Partial<AzureFacts> = {}): AzureFacts => ({
    name: 'jump',
    found: true,
    resourceGroup: 'rg-data',
    mode: 'firewall',
    publicPort: 2222,
    vm: {name: 'bastion-jump', power: 'running'},
    privateIp: '10.0.1.4',
    nsg: {name: 'bastion-jump-nsg', rules: [{name: 'ssh-from-firewall', access: 'Allow', direction: 'Inbound', prefixes: ['10.0.0.0/26'], ports: '22', priority: 100}]},
    firewall: {resourceGroup: 'rg-hub', name: 'fw', id: 'fw-id', publicIp: '51.1.1.1', subnetPrefix: '10.0.0.0/26'},
    firewallRef: {resourceGroup: 'rg-hub', name: 'fw'},
    dnat: [{name: 'vendor-hevo', description: 'bastion:vendor=hevo', sourceAddresses: ['52.6.1.1/32'], destinationAddress: '51.1.1.1', destinationPort: 2222, translatedAddress: '10.0.1.4', translatedPort: 22}],
    errors: [],
    ...over,
  })
  const run = (f: AzureFacts, vendorIps = ['52.6.1.1/32']) =>
    new Map(runChecks(azureChecks, {input: {vendor: 'hevo', dbs: [], vendorIps, sshPort: 22}, facts: f, now: new Date()}).map((x) => [x.id, x]))

  it('a healthy firewall bastion passes; a deallocated VM, a 0.0.0.0/0 source and an NSG without the firewall subnet fail with az fixes', () => {
    const ok = run(facts())
    for (const id of ['cloud.azure.vm.running', 'cloud.azure.dnat.target', 'cloud.azure.dnat.vendor_cidr', 'cloud.azure.nsg.firewall_subnet', 'cloud.azure.whitelist.too_wide']) assert.equal(ok.get(id)?.status, 'pass', id)
    const bad = run(
      facts({
        vm: {name: 'bastion-jump', power: 'deallocated'},
        nsg: {name: 'bastion-jump-nsg', rules: []},
        dnat: [{name: 'vendor-hevo', description: 'bastion:vendor=hevo', sourceAddresses: ['0.0.0.0/0'], destinationAddress: '51.1.1.1', destinationPort: 2222, translatedAddress: '10.0.1.4', translatedPort: 22}],
      }),
    )
    assert.match(bad.get('cloud.azure.vm.running')?.fix?.command ?? '', /^az vm start -g rg-data -n bastion-jump$/)
    assert.equal(bad.get('cloud.azure.whitelist.too_wide')?.status, 'fail')
    assert.match(bad.get('cloud.azure.nsg.firewall_subnet')?.fix?.command ?? '', /^az network nsg rule create .*--source-address-prefixes 10\.0\.0\.0\/26/)
  })

  it('public-IP mode: the NSG must admit the vendor, the address must be static', () => {
    const f = run(
      facts({mode: 'public-ip', publicPort: 22, firewall: undefined, firewallRef: undefined, dnat: undefined, publicIp: {name: 'bastion-jump-ip', address: '20.1.1.1', allocation: 'Dynamic'}, nsg: {name: 'bastion-jump-nsg', rules: []}}),
    )
    assert.equal(f.get('cloud.azure.nsg.vendor_cidr')?.status, 'fail')
    assert.equal(f.get('cloud.azure.address.static')?.status, 'warn')
    assert.equal(f.get('cloud.azure.dnat.target')?.status, 'skip')
  })

  it('docs/checks.md documents every Azure check id', () => {
    const doc = readFileSync(join(packageRoot, 'docs', 'checks.md'), 'utf8')
    for (const id of azureChecks.flatMap((c) => c.ids)) assert.ok(doc.includes(`| \`${id}\` |`), id)
  })
})
