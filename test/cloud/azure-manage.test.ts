/**
 * The Azure life cycle beyond the first create, through the CLI against the fake Resource Manager: public-IP mode,
 * whitelist add/remove/list (NSG rule and DNAT rule), a change another party makes to the firewall while whitelist
 * add runs (kept), a firewall busy with another update (waited out), throttling (429), rollback at each step of
 * create, list, and doctor's Azure checks.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {assertValid} from '../schema/validate.js'
import {canonical, FakeArm} from './fake-arm.js'
import {CLASSIC_ID, createArgs, FW_IP, RG, startWorld, type World} from './azure-world.js'
import {spawnBastion} from './cli.js'

const vmId = FakeArm.id(RG, 'Microsoft.Compute', 'virtualMachines', 'bastion-jump')
const nicId = FakeArm.id(RG, 'Microsoft.Network', 'networkInterfaces', 'bastion-jump-nic')
const nsgId = FakeArm.id(RG, 'Microsoft.Network', 'networkSecurityGroups', 'bastion-jump-nsg')
const pipId = FakeArm.id(RG, 'Microsoft.Network', 'publicIPAddresses', 'bastion-jump-ip')
const classic = ['--firewall', 'fw-classic', '--firewall-resource-group', 'rg-hub']

type Rule = {name: string; properties: Record<string, unknown>}
const natCollections = (fake: FakeArm): {name: string; properties: {rules: Record<string, unknown>[]}}[] => fake.get(CLASSIC_ID)?.properties.natRuleCollections ?? []
const mine = (fake: FakeArm) => natCollections(fake).find((c) => c.name === 'bastion-jump')

describe('create --cloud azure --public-ip, whitelist, list', () => {
  let w: World
  before(async () => {
    w = await startWorld()
  })
  after(() => w.fake.close())

  it('creates a Standard static public IP on the NIC and an NSG admitting SSH only from the vendor and admin addresses', async () => {
    const r = await w.cli(createArgs(w, ['--public-ip']))
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const pip = w.fake.get(pipId)
    assert.equal(pip?.sku.name, 'Standard')
    assert.equal(pip?.properties.publicIPAllocationMethod, 'Static')
    assert.equal(w.fake.get(nicId)?.properties.ipConfigurations[0].properties.publicIPAddress.id, pipId)
    const rules: Rule[] = w.fake.get(nsgId)?.properties.securityRules
    const allow = rules.filter((x) => x.properties.access === 'Allow').map((x) => [x.name, x.properties.sourceAddressPrefixes ?? [x.properties.sourceAddressPrefix], x.properties.destinationPortRange])
    assert.deepEqual(allow, [['vendor-hevo', ['52.6.1.1/32', '52.6.1.2/32'], '22'], ['admin', ['203.0.113.7/32'], '22']])
    assert.deepEqual(r.json.vendorForm, {sshHost: pip?.properties.ipAddress, sshPort: 22, sshUser: 'hevo', database: '10.0.1.5:5432'})
    assert.equal(r.json.hostKeys.host, pip?.properties.ipAddress)
    assertValid('create', r.json)
    assert.ok(r.json.warnings.some((x: string) => /0\.0\.0\.0\/0 to a virtual appliance \(10\.0\.0\.4\).*asymmetric/.test(x)), r.json.warnings.join('\n'))
  })

  it('whitelist add writes the vendor\'s NSG rule alone; list shows it; remove takes it out again', async () => {
    const add = await w.cli(['whitelist', 'add', '--cloud', 'azure', '--name', 'jump', '--vendor', 'fivetran', '--vendor-ip', '35.234.176.144/29', '--json'])
    assert.equal(add.code, 0, add.stderr + add.stdout)
    assert.deepEqual(add.json.added.map((x: {cidr: string}) => x.cidr), ['35.234.176.144/29'])
    assertValid('whitelist-add', add.json)
    const rule = (w.fake.get(nsgId)?.properties.securityRules as Rule[]).find((x) => x.name === 'vendor-fivetran')
    assert.deepEqual(rule?.properties.sourceAddressPrefix ?? rule?.properties.sourceAddressPrefixes, '35.234.176.144/29')
    assert.equal(w.fake.countOf('PUT', /securityRules\/vendor-fivetran$/), 1)
    assert.equal(w.fake.countOf('PUT', /networkSecurityGroups\/bastion-jump-nsg$/), 1, 'the NSG itself is not written again')
    const list = await w.cli(['whitelist', 'list', '--cloud', 'azure', '--name', 'jump', '--json'])
    assert.equal(list.code, 0, list.stderr)
    assert.deepEqual(list.json.rules.filter((x: {vendor?: string}) => x.vendor).map((x: {vendor: string; cidr: string}) => `${x.vendor} ${x.cidr}`), ['hevo 52.6.1.1/32', 'hevo 52.6.1.2/32', 'fivetran 35.234.176.144/29'])
    assertValid('whitelist-list', list.json)
    const all = await w.cli(['list', '--cloud', 'azure', '--json'])
    assert.equal(all.code, 0, all.stderr)
    assertValid('list', all.json)
    assert.equal(all.json.bastions[0].name, 'jump')
    assert.deepEqual(all.json.bastions[0].vendors.map((v: {vendor: string}) => v.vendor).sort(), ['fivetran', 'hevo'])
    assert.equal(all.json.bastions[0].state, 'running')
    const rm = await w.cli(['whitelist', 'remove', '--cloud', 'azure', '--name', 'jump', '--vendor', 'fivetran', '--all', '--json'])
    assert.equal(rm.code, 0, rm.stderr + rm.stdout)
    assertValid('whitelist-remove', rm.json)
    assert.equal((w.fake.get(nsgId)?.properties.securityRules as Rule[]).some((x) => x.name === 'vendor-fivetran'), false)
  })

  it('destroy --dry-run changes nothing; destroy removes the public IP too', async () => {
    const dry = await w.cli(['destroy', '--cloud', 'azure', '--name', 'jump', '--confirm', 'jump', '--dry-run', '--json'])
    assert.equal(dry.code, 0, dry.stderr + dry.stdout)
    assert.ok(dry.json.steps.every((x: {status: string}) => x.status === 'skipped'))
    assert.ok(w.fake.get(vmId))
    const r = await w.cli(['destroy', '--cloud', 'azure', '--name', 'jump', '--confirm', 'jump', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assertValid('destroy', r.json)
    for (const id of [vmId, nicId, nsgId, pipId]) assert.equal(w.fake.get(id), undefined, id)
  })
})

describe('whitelist on a firewall bastion, with other parties changing the firewall', () => {
  let w: World
  before(async () => {
    w = await startWorld()
    const r = await w.cli(createArgs(w, classic))
    assert.equal(r.code, 0, r.stderr + r.stdout)
  })
  after(() => w.fake.close())

  it('whitelist add while someone else changes another rule: their change is kept, bastion re-reads and writes only its collection', async () => {
    // The moment bastion sends its PUT, another admin's update wins the race: the firewall is Updating (409 for bastion).
    w.fake.beforeNext('PUT', /azureFirewalls\/fw-classic$/, () => {
      const fw = w.fake.resources.get(CLASSIC_ID.toLowerCase())
      fw?.properties.natRuleCollections.find((c: {name: string}) => c.name === 'web-dnat')?.properties.rules.push({
        name: 'ssh-jump-other', sourceAddresses: ['192.0.2.0/28'], destinationAddresses: [FW_IP], destinationPorts: ['2200'], protocols: ['TCP'], translatedAddress: '10.0.2.30', translatedPort: '22',
      })
      w.fake.makeBusy(CLASSIC_ID, 1200)
    })
    const r = await w.cli(['whitelist', 'add', '--cloud', 'azure', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.3/32', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const web = natCollections(w.fake).find((c) => c.name === 'web-dnat')
    assert.deepEqual(web?.properties.rules.map((x) => x.name), ['https', 'ssh-jump-other'], 'the other admin\'s rule is kept')
    const hevo = mine(w.fake)?.properties.rules.find((x) => x.name === 'vendor-hevo')
    assert.deepEqual(hevo?.sourceAddresses, ['52.6.1.1/32', '52.6.1.2/32', '52.6.1.3/32'])
    assert.ok(w.fake.countOf('PUT', /azureFirewalls\/fw-classic$/) >= 2, 'the refused PUT was followed by a fresh one')
  })

  it('a firewall busy with another update is waited out, not written to', async () => {
    w.fake.makeBusy(CLASSIC_ID, 2500)
    const puts = w.fake.countOf('PUT', /azureFirewalls\/fw-classic$/)
    const r = await w.cli(['whitelist', 'remove', '--cloud', 'azure', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.3/32', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.equal(w.fake.countOf('PUT', /azureFirewalls\/fw-classic$/), puts + 1, 'one PUT, after the other update finished')
    assert.deepEqual(mine(w.fake)?.properties.rules.find((x) => x.name === 'vendor-hevo')?.sourceAddresses, ['52.6.1.1/32', '52.6.1.2/32'])
  })

  it('whitelist list flags a source wider than /24 in the DNAT rule', async () => {
    const add = await w.cli(['whitelist', 'add', '--cloud', 'azure', '--name', 'jump', '--vendor', 'wide', '--vendor-ip', '10.20.0.0/16', '--json'])
    assert.equal(add.code, 0, add.stderr + add.stdout)
    const list = await w.cli(['whitelist', 'list', '--cloud', 'azure', '--name', 'jump', '--json'])
    assert.equal(list.code, 0, list.stderr)
    const wide = list.json.rules.find((x: {cidr: string}) => x.cidr === '10.20.0.0/16')
    assert.equal(wide.problems[0].code, 'wide')
    assert.equal(list.json.sshPort, 2222)
  })

  it('throttling (429 with Retry-After) is retried by the SDK', async () => {
    w.fake.throttle = 2
    const r = await w.cli(['list', '--cloud', 'azure', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.equal(r.json.bastions.length, 1)
    assert.equal(w.fake.throttle, 0)
  })

  it("doctor's Azure checks pass, then fail with an az fix when the DNAT no longer leads to the VM's private IP", async () => {
    const args = ['doctor', '--cloud', 'azure', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1/32', '--json']
    const ok = await w.cli(args)
    assert.equal(ok.code, 0, ok.stderr + ok.stdout)
    const byId = (j: {hosts: {findings: {id: string; status: string; fix?: {command: string}}[]}[]}) => new Map(j.hosts[0]?.findings.map((f) => [f.id, f]))
    assertValid('doctor', ok.json)
    const f1 = byId(ok.json)
    for (const id of ['cloud.azure.vm.running', 'cloud.azure.dnat.target', 'cloud.azure.dnat.vendor_cidr', 'cloud.azure.nsg.firewall_subnet']) assert.equal(f1.get(id)?.status, 'pass', id)
    // the NIC was re-created with another address: the DNAT now points nowhere
    const nic = w.fake.resources.get(nicId.toLowerCase())
    assert.ok(nic)
    nic.properties.ipConfigurations[0].properties.privateIPAddress = '10.0.1.99'
    const bad = await w.cli([...args.slice(0, -3), '--vendor-ip', '52.6.9.9/32', '--json'])
    assert.equal(bad.code, 1, bad.stderr + bad.stdout)
    const f2 = byId(bad.json)
    assert.equal(f2.get('cloud.azure.dnat.target')?.status, 'fail')
    assert.match(f2.get('cloud.azure.dnat.target')?.fix?.command ?? '', /^az network firewall nat-rule create .*--translated-address 10\.0\.1\.99/)
    assert.equal(f2.get('cloud.azure.dnat.vendor_cidr')?.status, 'fail')
    assert.match(f2.get('cloud.azure.dnat.vendor_cidr')?.fix?.command ?? '', /bastion whitelist add --cloud azure --name jump --vendor hevo --vendor-ip 52\.6\.9\.9\/32/)
  })
})

describe('create --cloud azure rolls back what it made when a step fails', () => {
  let w: World
  let firewallBefore: string
  before(async () => {
    w = await startWorld()
    firewallBefore = canonical(w.fake.get(CLASSIC_ID)?.properties.natRuleCollections)
  })
  after(() => w.fake.close())

  it('refuses a VM size the location does not offer this subscription, naming sizes it does, before creating anything', async () => {
    const puts = w.fake.requests.filter((x) => x.method === 'PUT').length
    const r = await w.cli(createArgs(w, [...classic, '--size', 'Standard_B2s']))
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.equal(r.json.error.code, 'AZURE_SIZE_UNAVAILABLE')
    assert.match(r.json.error.message, /restricted in westeurope for this subscription \(NotAvailableForSubscription\)/)
    assert.match(r.json.error.suggestions[0], /^--size Standard_B2ats_v2/)
    assert.equal(w.fake.requests.filter((x) => x.method === 'PUT').length, puts)
  })

  it('Ctrl-C while the VM is being made stops waiting and removes what the run made (newest first)', async () => {
    const child = spawnBastion(createArgs(w, classic), w.fake.env(w.home))
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
    // the VM operation runs long; the moment its PUT arrives, the user presses Ctrl-C
    w.fake.beforeNext('PUT', /virtualMachines\/bastion-jump$/, () => {
      w.fake.makeBusy(vmId, 60_000)
      setTimeout(() => child.kill('SIGINT'), 500)
    })
    const usual = w.fake.vmMs
    w.fake.vmMs = 60_000
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    w.fake.vmMs = usual
    assert.notEqual(code, 0, out)
    assert.match(out, /SIGINT: stopping; undoing what this run created/)
    assert.match(out, /INTERRUPTED/)
    const deletes = w.fake.requests.filter((x) => x.method === 'DELETE').map((x) => x.path.split('/').at(-1))
    assert.deepEqual(deletes.slice(-3), ['bastion-jump', 'bastion-jump-nic', 'bastion-jump-nsg'])
    for (const id of [vmId, nicId, nsgId]) assert.equal(w.fake.get(id), undefined, id)
  })

  const steps: {step: string; method: string; match: RegExp; status: number; code: string; async?: boolean; undone: RegExp[]}[] = [
    {step: 'the NSG', method: 'PUT', match: /networkSecurityGroups\/bastion-jump-nsg$/, status: 403, code: 'AuthorizationFailed', undone: []},
    {step: 'the NIC', method: 'PUT', match: /networkInterfaces\/bastion-jump-nic$/, status: 400, code: 'InvalidResourceReference', undone: [/network security group|nsg bastion-jump-nsg/]},
    {step: 'the VM (its operation fails)', method: 'PUT', match: /virtualMachines\/bastion-jump$/, status: 200, code: 'OSProvisioningTimedOut', async: true, undone: [/vm bastion-jump/, /nic bastion-jump-nic/, /nsg bastion-jump-nsg/]},
    {step: 'the DNAT collection', method: 'PUT', match: /azureFirewalls\/fw-classic$/, status: 400, code: 'AzureFirewallInvalidNatRule', undone: [/vm bastion-jump/, /nic/, /nsg/]},
  ]
  for (const s of steps) {
    it(`a failure at ${s.step} leaves nothing behind and the firewall as it was`, async () => {
      w.fake.failNext(s.method, s.match, s.status, s.code, undefined, s.async === true)
      const r = await w.cli(createArgs(w, classic))
      assert.notEqual(r.code, 0, r.stdout)
      assert.match(r.json.error.message, new RegExp(s.code))
      for (const u of s.undone) assert.match(r.json.error.message, u)
      for (const id of [vmId, nicId, nsgId]) assert.equal(w.fake.get(id), undefined, `${id} after a failure at ${s.step}`)
      assert.equal(canonical(w.fake.get(CLASSIC_ID)?.properties.natRuleCollections), firewallBefore)
    })
  }
})
