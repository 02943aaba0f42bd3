/**
 * The bodies of the resources bastion creates (pure), and how their NSG rules read back as whitelist rules.
 */
import type {NetworkInterface, NetworkSecurityGroup, PublicIPAddress, SecurityRule} from '@azure/arm-network'
import type {VirtualMachine} from '@azure/arm-compute'
import type {WhitelistRule} from '../provider.js'
import {ruleOwner} from '../whitelist.js'
import {encodeCustomData, SSH_PORT, type AzureCreatePlan, type SourceSpec} from './plan.js'

export const FIREWALL_RULE_NAME = 'ssh-from-firewall'
export const FIREWALL_RULE_DESCRIPTION = 'bastion:firewall (the DNAT arrives SNATed from AzureFirewallSubnet)'
export const DENY_RULE_NAME = 'deny-other-ssh'
export const DENY_PRIORITY = 4000

function allowSsh(name: string, priority: number, prefixes: string[], description: string): SecurityRule {
  return {
    name,
    description,
    protocol: 'Tcp',
    sourcePortRange: '*',
    destinationPortRange: String(SSH_PORT),
    ...(prefixes.length === 1 ? {sourceAddressPrefix: prefixes[0]} : {sourceAddressPrefixes: prefixes}),
    destinationAddressPrefix: '*',
    access: 'Allow',
    priority,
    direction: 'Inbound',
  }
}

/** The lowest priority from 100 up (steps of 10) that no rule in `rules` has. */
export function freeRulePriority(rules: SecurityRule[]): number {
  const taken = new Set(rules.map((r) => r.priority))
  for (let p = 100; p < DENY_PRIORITY; p += 10) if (!taken.has(p)) return p
  return DENY_PRIORITY - 1
}

/** The NSG's inbound rules: from the firewall's subnet (firewall mode) or from each source (public-IP mode), then a deny. */
export function nsgRules(plan: AzureCreatePlan, firewallSubnet: string | undefined): SecurityRule[] {
  const rules: SecurityRule[] = []
  if (plan.mode.kind === 'firewall') {
    if (firewallSubnet) rules.push(allowSsh(FIREWALL_RULE_NAME, 100, [firewallSubnet], FIREWALL_RULE_DESCRIPTION))
  } else {
    plan.sources.forEach((s, i) => rules.push(allowSsh(s.rule, 100 + i * 10, s.cidrs, s.description)))
  }
  rules.push({
    name: DENY_RULE_NAME,
    description: 'bastion: no other SSH (not even from the virtual network)',
    protocol: 'Tcp',
    sourcePortRange: '*',
    destinationPortRange: String(SSH_PORT),
    sourceAddressPrefix: '*',
    destinationAddressPrefix: '*',
    access: 'Deny',
    priority: DENY_PRIORITY,
    direction: 'Inbound',
  })
  return rules
}

/** A rule for one source (whitelist add of a vendor without one yet). */
export function sourceRule(source: SourceSpec, priority: number): SecurityRule {
  return allowSsh(source.rule, priority, source.cidrs, source.description)
}

export function prefixesOf(r: SecurityRule): string[] {
  return r.sourceAddressPrefixes?.length ? r.sourceAddressPrefixes : r.sourceAddressPrefix ? [r.sourceAddressPrefix] : []
}

/** Same rule as far as bastion writes one. */
export function sameRule(a: SecurityRule, b: SecurityRule): boolean {
  const key = (r: SecurityRule) =>
    JSON.stringify([r.name, r.protocol, r.destinationPortRange, [...prefixesOf(r)].sort(), r.access, r.priority, r.direction, r.description ?? ''])
  return key(a) === key(b)
}

function portsOf(r: SecurityRule): [number, number] | undefined {
  const range = r.destinationPortRange ?? r.destinationPortRanges?.[0] ?? '*'
  if (range === '*') return [0, 65535]
  const m = /^(\d+)(?:-(\d+))?$/.exec(range)
  return m ? [Number(m[1]), Number(m[2] ?? m[1])] : undefined
}

/** The NSG's inbound Allow rules as whitelist rules (one per source prefix). */
export function nsgWhitelist(nsg: NetworkSecurityGroup): WhitelistRule[] {
  return (nsg.securityRules ?? [])
    .filter((r) => r.direction === 'Inbound' && r.access === 'Allow')
    .flatMap((r) => {
      const ports = portsOf(r) ?? [0, 0]
      const protocol = r.protocol === '*' ? 'all' : (r.protocol ?? '').toLowerCase()
      const owner = r.name === FIREWALL_RULE_NAME ? {role: 'admin' as const} : ruleOwner(r.description)
      return prefixesOf(r).map((p) => ({
        id: r.name ?? '',
        ...owner,
        cidr: p === '*' || p === 'Internet' ? '0.0.0.0/0' : p.includes('/') || !/^[\d.:a-f]+$/i.test(p) ? p : `${p}/${p.includes(':') ? 128 : 32}`,
        protocol,
        fromPort: ports[0],
        toPort: ports[1],
        description: r.description ?? '',
      }))
    })
}

export function nsgBody(plan: AzureCreatePlan, location: string, rules: SecurityRule[]): NetworkSecurityGroup {
  return {location, tags: plan.tags, securityRules: rules}
}

export function publicIpBody(plan: AzureCreatePlan, location: string): PublicIPAddress {
  return {location, tags: plan.tags, sku: {name: 'Standard', tier: 'Regional'}, publicIPAllocationMethod: 'Static', publicIPAddressVersion: 'IPv4'}
}

export function nicBody(plan: AzureCreatePlan, location: string, ids: {subnet: string; nsg: string; publicIp?: string}): NetworkInterface {
  return {
    location,
    tags: plan.tags,
    networkSecurityGroup: {id: ids.nsg},
    ipConfigurations: [
      {name: 'ipconfig1', subnet: {id: ids.subnet}, privateIPAllocationMethod: 'Dynamic', primary: true, ...(ids.publicIp ? {publicIPAddress: {id: ids.publicIp}} : {})},
    ],
  }
}

export function vmBody(plan: AzureCreatePlan, location: string, nicId: string): VirtualMachine {
  return {
    location,
    tags: plan.tags,
    hardwareProfile: {vmSize: plan.vm.size},
    storageProfile: {
      imageReference: plan.vm.image,
      osDisk: {name: plan.names.osDisk, createOption: 'FromImage', deleteOption: 'Delete', managedDisk: {storageAccountType: 'StandardSSD_LRS'}},
    },
    osProfile: {
      computerName: plan.names.vm,
      adminUsername: plan.vm.adminUser,
      customData: encodeCustomData(plan.vm.customData).data.toString('base64'),
      linuxConfiguration: {
        disablePasswordAuthentication: true,
        ssh: {publicKeys: [{path: `/home/${plan.vm.adminUser}/.ssh/authorized_keys`, keyData: plan.vm.adminKeyLine}]},
        provisionVMAgent: true,
      },
    },
    networkProfile: {networkInterfaces: [{id: nicId, primary: true, deleteOption: 'Detach'}]},
    diagnosticsProfile: {bootDiagnostics: {enabled: true}},
  } as VirtualMachine
}

/** The script Run Command runs to read the host keys (as the console blocks cloud-init prints) and bastion-init's lines. */
export const HOST_KEYS_SCRIPT = [
  "echo '-----BEGIN SSH HOST KEY KEYS-----'",
  'cat /etc/ssh/ssh_host_*_key.pub',
  "echo '-----END SSH HOST KEY KEYS-----'",
  "grep -h 'bastion-init: ' /var/log/cloud-init-output.log 2>/dev/null || true",
]
