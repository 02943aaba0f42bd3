/**
 * doctor's Azure checks: `gatherAzureFacts` reads what Resource Manager knows about the bastion (by tag), and
 * `azureChecks` — pure functions of those facts — judge them into findings, each failing one with the `az` (or
 * bastion) command that fixes it.
 *
 * Ids: cloud.azure.vm.running, cloud.azure.dnat.target, cloud.azure.dnat.vendor_cidr, cloud.azure.nsg.firewall_subnet,
 * cloud.azure.nsg.vendor_cidr, cloud.azure.whitelist.too_wide, cloud.azure.address.static.
 */
import type {Check, Finding, Fix, Status} from '../../doctor/types.js'
import {asBastionError} from '../../errors.js'
import type {CloudDoctorSubject, WhitelistRule} from '../provider.js'
import {cidrContains, judgeRule, rulesAdmitting} from '../whitelist.js'
import {arm, type Arm} from './client.js'
import {dnatWhitelist, type DnatRule} from './dnat.js'
import {readDnat, readFirewall, type FirewallInfo} from './firewall.js'
import {findBastions} from './manage.js'
import {resourceNames, SSH_PORT} from './plan.js'
import {FIREWALL_RULE_NAME, nsgWhitelist, prefixesOf} from './resources.js'

export interface AzureFacts {
  name: string
  found: boolean
  resourceGroup?: string
  mode: 'firewall' | 'public-ip'
  publicPort: number
  vm?: {name: string; power: string; size?: string}
  privateIp?: string
  nsg?: {name: string; rules: {name: string; access: string; direction: string; prefixes: string[]; ports: string; priority: number}[]}
  publicIp?: {name: string; address?: string; allocation?: string}
  firewall?: FirewallInfo
  firewallRef?: {resourceGroup: string; name: string}
  dnat?: DnatRule[]
  errors: {what: string; message: string}[]
}

export async function gatherAzureFacts(a: Arm, name: string): Promise<AzureFacts> {
  const errors: AzureFacts['errors'] = []
  const [b] = await findBastions(a, name)
  if (!b) return {name, found: false, mode: 'public-ip', publicPort: SSH_PORT, errors}
  const rg = b.resourceGroup ?? ''
  const facts: AzureFacts = {name, found: true, resourceGroup: rg, mode: b.mode, publicPort: b.publicPort, errors}
  if (b.firewall) facts.firewallRef = b.firewall
  if (b.vm?.name) {
    const vmName = b.vm.name
    try {
      const view = await arm('virtualMachines.instanceView', () => a.compute.virtualMachines.instanceView(rg, vmName))
      const power = (view.statuses ?? []).find((s) => s.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length) ?? 'unknown'
      facts.vm = {name: vmName, power, ...(b.vm.hardwareProfile?.vmSize ? {size: b.vm.hardwareProfile.vmSize} : {})}
    } catch (err) {
      errors.push({what: 'VM', message: asBastionError(err).message})
    }
  }
  const privateIp = b.nic?.ipConfigurations?.[0]?.privateIPAddress
  if (privateIp) facts.privateIp = privateIp
  if (b.nsg?.name)
    facts.nsg = {
      name: b.nsg.name,
      rules: (b.nsg.securityRules ?? []).map((r) => ({
        name: r.name ?? '',
        access: r.access ?? '',
        direction: r.direction ?? '',
        prefixes: prefixesOf(r),
        ports: r.destinationPortRange ?? (r.destinationPortRanges ?? []).join(','),
        priority: r.priority ?? 0,
      })),
    }
  if (b.publicIp?.name)
    facts.publicIp = {name: b.publicIp.name, ...(b.publicIp.ipAddress ? {address: b.publicIp.ipAddress} : {}), ...(b.publicIp.publicIPAllocationMethod ? {allocation: b.publicIp.publicIPAllocationMethod} : {})}
  if (b.firewall) {
    try {
      const fw = await readFirewall(a, b.firewall.resourceGroup, b.firewall.name)
      if (fw) {
        facts.firewall = fw
        facts.dnat = (await readDnat(a, fw, resourceNames(name).collection)).mine ?? []
      }
    } catch (err) {
      errors.push({what: 'firewall', message: asBastionError(err).message})
    }
  }
  return facts
}

const AREA = 'cloud' as const

function finding(id: string, status: Status, title: string, seen: string, extra: {why?: string; fix?: Fix} = {}): Finding {
  return {id, area: AREA, status, title, seen, ...(status === 'pass' ? {} : extra)}
}

function skip(id: string, title: string, why: string): Finding[] {
  return [finding(id, 'skip', title, why)]
}

function fwFlag(f: AzureFacts): string {
  return f.firewallRef ? `-g ${f.firewallRef.resourceGroup} -f ${f.firewallRef.name}` : '-g <rg> -f <firewall>'
}

const vmRunning: Check<AzureFacts> = {
  ids: ['cloud.azure.vm.running'],
  area: AREA,
  run({facts: f}) {
    const id = 'cloud.azure.vm.running'
    const title = `the bastion VM ${resourceNames(f.name).vm} exists and runs`
    if (!f.found || !f.vm) {
      const e = f.errors.find((x) => x.what === 'VM')
      if (e) return skip(id, title, `could not read the VM: ${e.message}`)
      return [finding(id, 'fail', title, `no VM tagged bastion:name=${f.name}`, {why: 'without the VM there is no SSH server for the vendor to tunnel through', fix: {command: `bastion create --cloud azure --name ${f.name} …  # creates only what is missing`}})]
    }
    if (f.vm.power === 'running') return [finding(id, 'pass', title, `${f.vm.name} (${f.vm.size ?? '?'}) is running`)]
    return [finding(id, f.vm.power === 'starting' ? 'warn' : 'fail', title, `${f.vm.name} is ${f.vm.power}`, {why: 'a stopped (or deallocated) VM refuses every tunnel', fix: {command: `az vm start -g ${f.resourceGroup} -n ${f.vm.name}`}})]
  },
}

const dnatTarget: Check<AzureFacts> = {
  ids: ['cloud.azure.dnat.target'],
  area: AREA,
  run({facts: f}) {
    const id = 'cloud.azure.dnat.target'
    const title = `the firewall's DNAT rules lead from its public IP and port ${f.publicPort} to the VM's current private IP, port ${SSH_PORT}`
    if (f.mode !== 'firewall') return skip(id, title, 'public-IP mode: no firewall')
    if (!f.firewall) {
      const e = f.errors.find((x) => x.what === 'firewall')
      return e ? skip(id, title, `could not read the firewall: ${e.message}`) : [finding(id, 'fail', title, `firewall ${f.firewallRef?.resourceGroup}/${f.firewallRef?.name} does not exist`, {why: 'no firewall, no way in for the vendor', fix: {command: `az network firewall list -o table`}})]
    }
    const rules = f.dnat ?? []
    const collection = resourceNames(f.name).collection
    if (rules.length === 0)
      return [finding(id, 'fail', title, `no DNAT collection ${collection} on ${f.firewall.policy ? `policy ${f.firewall.policy.name}` : `firewall ${f.firewall.name}`}`, {why: 'the firewall drops the vendor\'s connection: "Connection timed out"', fix: {command: `bastion create --cloud azure --name ${f.name} --firewall ${f.firewall.name} …  # writes the collection again`}})]
    const wrong = rules.filter((r) => r.destinationAddress !== f.firewall?.publicIp || r.destinationPort !== f.publicPort || r.translatedAddress !== f.privateIp || r.translatedPort !== SSH_PORT)
    if (wrong.length === 0) return [finding(id, 'pass', title, `${rules.length} rule(s): ${f.firewall.publicIp}:${f.publicPort} → ${f.privateIp}:${SSH_PORT}`)]
    const seen = wrong.map((r) => `${r.name}: ${r.destinationAddress}:${r.destinationPort} → ${r.translatedAddress}:${r.translatedPort}`).join('; ')
    const fix = f.firewall.policy
      ? `az network firewall policy rule-collection-group collection rule update -g ${f.firewall.policy.resourceGroup} --policy-name ${f.firewall.policy.name} --rule-collection-group-name ${collection} --collection-name ${collection} --name <rule> --translated-address ${f.privateIp ?? '<VM private IP>'} --translated-port ${SSH_PORT} --destination-addresses ${f.firewall.publicIp} --destination-ports ${f.publicPort}`
      : `az network firewall nat-rule create ${fwFlag(f)} --collection-name ${collection} --name <rule> --protocols TCP --source-addresses <vendor cidrs> --destination-addresses ${f.firewall.publicIp} --destination-ports ${f.publicPort} --translated-address ${f.privateIp ?? '<VM private IP>'} --translated-port ${SSH_PORT}`
    return [finding(id, 'fail', title, `expected ${f.firewall.publicIp}:${f.publicPort} → ${f.privateIp ?? '?'}:${SSH_PORT}; seen ${seen}`, {why: 'a DNAT to an old private IP (a re-created NIC) or another port lands nowhere: "Connection timed out"', fix: {command: fix}})]
  },
}

function vendorCidrCheck(id: 'cloud.azure.dnat.vendor_cidr' | 'cloud.azure.nsg.vendor_cidr', mode: 'firewall' | 'public-ip'): Check<AzureFacts> {
  return {
    ids: [id],
    area: AREA,
    run({facts: f, input}) {
      const title = mode === 'firewall' ? "the DNAT rules admit each of the vendor's addresses" : "the NSG admits each of the vendor's addresses on SSH"
      if (f.mode !== mode) return skip(id, title, `${f.mode} mode`)
      if (input.vendorIps.length === 0) return skip(id, title, 'no --vendor-ip given')
      const rules = whitelistOf(f)
      const port = mode === 'firewall' ? f.publicPort : SSH_PORT
      const missing = input.vendorIps.filter((c) => rulesAdmitting(rules, c, port).length === 0)
      if (missing.length === 0) return [finding(id, 'pass', title, `${input.vendorIps.join(', ')} admitted`)]
      return [
        finding(id, 'fail', title, `not admitted: ${missing.join(', ')}`, {
          why: 'the vendor\'s "Test connection" times out: its packets are dropped silently',
          fix: {command: `bastion whitelist add --cloud azure --name ${f.name} --vendor ${input.vendor} --vendor-ip ${missing.join(',')}`},
        }),
      ]
    },
  }
}

function whitelistOf(f: AzureFacts): WhitelistRule[] {
  if (f.mode === 'firewall') return dnatWhitelist(f.dnat ?? [])
  const nsg = f.nsg
  if (!nsg) return []
  return nsgWhitelist({
    securityRules: nsg.rules.map((r) => ({name: r.name, access: r.access, direction: r.direction, sourceAddressPrefixes: r.prefixes, destinationPortRange: r.ports, protocol: 'Tcp', priority: r.priority})),
  }).filter((r) => r.id !== FIREWALL_RULE_NAME)
}

const tooWide: Check<AzureFacts> = {
  ids: ['cloud.azure.whitelist.too_wide'],
  area: AREA,
  run({facts: f, input}) {
    const id = 'cloud.azure.whitelist.too_wide'
    const title = 'nothing wider than asked reaches SSH'
    if (!f.found) return skip(id, title, 'no bastion found')
    const port = f.mode === 'firewall' ? f.publicPort : SSH_PORT
    const rules = whitelistOf(f)
    const problems = rules.flatMap((r) => judgeRule(r, {sshPort: port, expected: input.vendorIps}).filter((p) => p.code !== 'unmanaged' && p.code !== 'ports').map((p) => ({r, p})))
    if (problems.length === 0) return [finding(id, 'pass', title, `${rules.length} source(s), none wider than needed`)]
    const fail = problems.some(({p}) => p.severity === 'fail')
    const first = problems[0]?.r
    const fix =
      f.mode === 'firewall'
        ? `bastion whitelist remove --cloud azure --name ${f.name} --vendor ${first?.vendor ?? input.vendor} --vendor-ip ${first?.cidr ?? '<cidr>'}`
        : `az network nsg rule update -g ${f.resourceGroup} --nsg-name ${f.nsg?.name ?? '<nsg>'} -n ${first?.id ?? '<rule>'} --source-address-prefixes <the vendor's addresses>`
    return [finding(id, fail ? 'fail' : 'warn', title, problems.map(({r, p}) => `${r.id ?? ''} ${p.message}`).join('; '), {why: 'more of the internet can knock on sshd than the vendor needs', fix: {command: fix}})]
  },
}

const nsgFirewallSubnet: Check<AzureFacts> = {
  ids: ['cloud.azure.nsg.firewall_subnet'],
  area: AREA,
  run({facts: f}) {
    const id = 'cloud.azure.nsg.firewall_subnet'
    const title = "the VM's NSG admits SSH from the firewall's subnet (the DNAT arrives SNATed from there)"
    if (f.mode !== 'firewall') return skip(id, title, 'public-IP mode')
    const prefix = f.firewall?.subnetPrefix
    if (!prefix) return skip(id, title, "the firewall's subnet prefix could not be read")
    if (!f.nsg) return [finding(id, 'fail', title, 'the bastion has no NSG', {why: 'without it the VM admits SSH from the whole virtual network', fix: {command: `bastion create --cloud azure --name ${f.name} …  # creates only what is missing`}})]
    const ok = f.nsg.rules.some((r) => r.direction === 'Inbound' && r.access === 'Allow' && (r.ports === '22' || r.ports === '*') && r.prefixes.some((p) => p === prefix || cidrContains(p, prefix)))
    if (ok) return [finding(id, 'pass', title, `${f.nsg.name} admits ${prefix} on port 22`)]
    return [
      finding(id, 'fail', title, `${f.nsg.name} has no rule admitting ${prefix} on port 22`, {
        why: 'the firewall forwards the vendor, then the NSG drops it: "Connection timed out"',
        fix: {command: `az network nsg rule create -g ${f.resourceGroup} --nsg-name ${f.nsg.name} -n ${FIREWALL_RULE_NAME} --priority 100 --access Allow --protocol Tcp --direction Inbound --source-address-prefixes ${prefix} --destination-port-ranges 22`},
      }),
    ]
  },
}

const addressStatic: Check<AzureFacts> = {
  ids: ['cloud.azure.address.static'],
  area: AREA,
  run({facts: f}) {
    const id = 'cloud.azure.address.static'
    const title = 'the public IP the vendor allowlists is static'
    if (f.mode !== 'public-ip') return skip(id, title, "firewall mode: the vendor connects to the firewall's address")
    if (!f.publicIp) return [finding(id, 'fail', title, 'the bastion has no public IP', {why: 'nothing for the vendor to connect to', fix: {command: `bastion create --cloud azure --name ${f.name} --public-ip …  # creates only what is missing`}})]
    if (f.publicIp.allocation === 'Static') return [finding(id, 'pass', title, `${f.publicIp.name} (${f.publicIp.address ?? '?'}) is static`)]
    return [finding(id, 'warn', title, `${f.publicIp.name} is ${f.publicIp.allocation ?? 'dynamic'}`, {why: 'a dynamic address changes when the VM is deallocated; the vendor must then update its form', fix: {command: `az network public-ip update -g ${f.resourceGroup} -n ${f.publicIp.name} --allocation-method Static`}})]
  },
}

export const azureChecks: Check<AzureFacts>[] = [
  vmRunning,
  dnatTarget,
  vendorCidrCheck('cloud.azure.dnat.vendor_cidr', 'firewall'),
  nsgFirewallSubnet,
  vendorCidrCheck('cloud.azure.nsg.vendor_cidr', 'public-ip'),
  tooWide,
  addressStatic,
]

export async function azureDoctorSubject(a: Arm, name: string): Promise<CloudDoctorSubject<AzureFacts>> {
  try {
    const facts = await gatherAzureFacts(a, name)
    return {ran: true, about: `subscription ${a.subscriptionId}${facts.resourceGroup ? `, resource group ${facts.resourceGroup}` : ''}, ${facts.mode} mode`, facts, checks: azureChecks}
  } catch (err) {
    const e = asBastionError(err)
    return {ran: false, error: {code: e.code, message: e.message, suggestions: e.suggestions}}
  }
}
