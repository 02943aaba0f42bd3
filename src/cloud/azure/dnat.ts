/**
 * bastion's DNAT rules on an Azure Firewall, pure: the collection `bastion-<name>` as it should be, merged into a
 * classic firewall (natRuleCollections, action `Dnat`, `protocols`) or written as the one collection of bastion's own
 * rule collection group on a Firewall Policy (FirewallPolicyNatRuleCollection, action `DNAT`, `ipProtocols`). Every
 * other collection, group and rule is passed through as it was read. Also: which other DNAT rule already uses a
 * public port, and the rules read back as whitelist rules.
 */
import type {AzureFirewall, AzureFirewallNatRule, AzureFirewallNatRuleCollection, FirewallPolicyRuleCollectionGroup} from '@azure/arm-network'
import type {WhitelistRule} from '../provider.js'
import {ruleOwner} from '../whitelist.js'
import {SSH_PORT, type SourceSpec} from './plan.js'

/** One DNAT rule, the same on both kinds of firewall. */
export interface DnatRule {
  name: string
  description: string
  sourceAddresses: string[]
  destinationAddress: string
  destinationPort: number
  translatedAddress: string
  translatedPort: number
}

export interface DnatTarget {
  firewallIp: string
  publicPort: number
  privateIp: string
}

export function dnatRules(sources: SourceSpec[], t: DnatTarget): DnatRule[] {
  return sources.map((s) => ({
    name: s.rule,
    description: s.description,
    sourceAddresses: [...s.cidrs],
    destinationAddress: t.firewallIp,
    destinationPort: t.publicPort,
    translatedAddress: t.privateIp,
    translatedPort: SSH_PORT,
  }))
}

// ---------------------------------------------------------------------------------------------------------- classic

function toClassicRule(r: DnatRule): AzureFirewallNatRule {
  return {
    name: r.name,
    description: r.description,
    sourceAddresses: r.sourceAddresses,
    destinationAddresses: [r.destinationAddress],
    destinationPorts: [String(r.destinationPort)],
    protocols: ['TCP'],
    translatedAddress: r.translatedAddress,
    translatedPort: String(r.translatedPort),
  }
}

/** The fields a classic firewall's NAT rule and a Firewall Policy's NatRule share (same names, same types). */
type NatRuleFields = Pick<AzureFirewallNatRule, 'name' | 'description' | 'sourceAddresses' | 'destinationAddresses' | 'destinationPorts' | 'translatedAddress' | 'translatedPort'>

/** A classic or a Firewall Policy NAT rule, as bastion reads either. */
function fromNatRule(r: NatRuleFields): DnatRule {
  return {
    name: r.name ?? '',
    description: r.description ?? '',
    sourceAddresses: r.sourceAddresses ?? [],
    destinationAddress: r.destinationAddresses?.[0] ?? '',
    destinationPort: Number(r.destinationPorts?.[0] ?? 0),
    translatedAddress: r.translatedAddress ?? '',
    translatedPort: Number(r.translatedPort ?? 0),
  }
}

/** The lowest priority from 1000 up that no collection in `used` has. */
export function freePriority(used: number[]): number {
  const taken = new Set(used)
  for (let p = 1000; p <= 65000; p++) if (!taken.has(p)) return p
  return 65000
}

/** bastion's collection on a classic firewall, or undefined. */
export function classicCollection(fw: AzureFirewall, collection: string): DnatRule[] | undefined {
  const c = (fw.natRuleCollections ?? []).find((x) => x.name === collection)
  return c ? (c.rules ?? []).map(fromNatRule) : undefined
}

/** The firewall with bastion's collection set to `rules` (undefined: removed); everything else as read. */
export function withClassicCollection(fw: AzureFirewall, collection: string, rules: DnatRule[] | undefined): AzureFirewall {
  const others = (fw.natRuleCollections ?? []).filter((c) => c.name !== collection)
  const current = (fw.natRuleCollections ?? []).find((c) => c.name === collection)
  let next: AzureFirewallNatRuleCollection[]
  if (rules === undefined || rules.length === 0) next = others
  else {
    const priority = current?.priority ?? freePriority(others.map((c) => c.priority ?? 0))
    const mine: AzureFirewallNatRuleCollection = {name: collection, priority, action: {type: 'Dnat'}, rules: rules.map(toClassicRule)}
    const at = (fw.natRuleCollections ?? []).findIndex((c) => c.name === collection)
    next = at < 0 ? [...others, mine] : (fw.natRuleCollections ?? []).map((c) => (c.name === collection ? mine : c))
  }
  return {...fw, natRuleCollections: next}
}

/** Every DNAT rule of a classic firewall outside bastion's collection, with its collection's name. */
export function classicOtherRules(fw: AzureFirewall, collection: string): {collection: string; rule: DnatRule}[] {
  return (fw.natRuleCollections ?? []).filter((c) => c.name !== collection).flatMap((c) => (c.rules ?? []).map((r) => ({collection: c.name ?? '', rule: fromNatRule(r)})))
}

// ----------------------------------------------------------------------------------------------------------- policy

interface PolicyNatRule {
  ruleType: 'NatRule'
  name?: string
  description?: string
  ipProtocols?: string[]
  sourceAddresses?: string[]
  destinationAddresses?: string[]
  destinationPorts?: string[]
  translatedAddress?: string
  translatedPort?: string
}

interface PolicyCollection {
  ruleCollectionType: string
  name?: string
  priority?: number
  action?: {type?: string}
  rules?: {ruleType?: string}[]
}

/** bastion's rule collection group: one DNAT collection of the same name. */
export function policyGroup(collection: string, priority: number, rules: DnatRule[]): FirewallPolicyRuleCollectionGroup {
  const natRules: PolicyNatRule[] = rules.map((r) => ({
    ruleType: 'NatRule',
    name: r.name,
    description: r.description,
    ipProtocols: ['TCP'],
    sourceAddresses: r.sourceAddresses,
    destinationAddresses: [r.destinationAddress],
    destinationPorts: [String(r.destinationPort)],
    translatedAddress: r.translatedAddress,
    translatedPort: String(r.translatedPort),
  }))
  return {
    priority,
    ruleCollections: [{ruleCollectionType: 'FirewallPolicyNatRuleCollection', name: collection, priority, action: {type: 'DNAT'}, rules: natRules}],
  } as FirewallPolicyRuleCollectionGroup
}

/** The DNAT rules of a rule collection group (every NAT collection's). */
export function policyGroupRules(group: FirewallPolicyRuleCollectionGroup): {collection: string; rule: DnatRule}[] {
  const collections = (group.ruleCollections ?? []) as PolicyCollection[]
  return collections
    .filter((c) => c.ruleCollectionType === 'FirewallPolicyNatRuleCollection')
    .flatMap((c) => (c.rules ?? []).filter((r) => r.ruleType === 'NatRule').map((r) => ({collection: c.name ?? '', rule: fromNatRule(r as PolicyNatRule)})))
}

// ----------------------------------------------------------------------------------------------------------- shared

/** The other DNAT rules that take `port` on the firewall's address (naming them), for a refusal. */
export function portTakenBy(others: {collection: string; rule: DnatRule}[], firewallIp: string, port: number): string[] {
  return others
    .filter(({rule}) => rule.destinationPort === port && (rule.destinationAddress === firewallIp || rule.destinationAddress === '*' || rule.destinationAddress === ''))
    .map(({collection, rule}) => `${collection}/${rule.name}`)
}

/** Same rules, as far as bastion writes them (order of sources ignored). */
export function sameRules(a: DnatRule[] | undefined, b: DnatRule[] | undefined): boolean {
  const norm = (rs: DnatRule[] | undefined) => JSON.stringify((rs ?? []).map((r) => ({...r, sourceAddresses: [...r.sourceAddresses].sort()})).sort((x, y) => x.name.localeCompare(y.name)))
  return norm(a) === norm(b)
}

/** The DNAT rules as whitelist rules: one per source address. */
export function dnatWhitelist(rules: DnatRule[]): WhitelistRule[] {
  return rules.flatMap((r) => {
    const owner = ruleOwner(r.description)
    return r.sourceAddresses.map((cidr) => ({
      id: r.name,
      ...owner,
      cidr: cidr.includes('/') || cidr === '*' ? (cidr === '*' ? '0.0.0.0/0' : cidr) : `${cidr}/${cidr.includes(':') ? 128 : 32}`,
      protocol: 'tcp',
      fromPort: r.destinationPort,
      toPort: r.destinationPort,
      description: r.description,
    }))
  })
}

/** Rules rebuilt from sources with the target of the rules that exist (whitelist add/remove keep the target). */
export function retarget(sources: SourceSpec[], existing: DnatRule[], fallback: DnatTarget): DnatRule[] {
  const first = existing[0]
  const t: DnatTarget = first ? {firewallIp: first.destinationAddress, publicPort: first.destinationPort, privateIp: first.translatedAddress} : fallback
  return dnatRules(sources, t)
}

/** The sources as bastion wrote them, read back from rules (description → role). */
export function sourcesFromRules(rules: DnatRule[]): SourceSpec[] {
  return rules.map((r) => {
    const owner = ruleOwner(r.description)
    return {
      rule: r.name,
      role: owner.role === 'vendor' ? 'vendor' : 'admin',
      ...(owner.vendor ? {vendor: owner.vendor} : {}),
      description: r.description,
      cidrs: [...r.sourceAddresses],
    }
  })
}
