/**
 * `list`, `destroy` and `whitelist` for --cloud azure. A bastion is whatever carries its tags (bastion:name,
 * managed-by=bastion) across the subscription: the VM, its NIC, NSG and public IP, and — named by the tags
 * bastion:firewall and bastion:public-port — its DNAT collection on the firewall.
 */
import type {NetworkInterface, NetworkSecurityGroup, PublicIPAddress, SecurityRule} from '@azure/arm-network'
import type {VirtualMachine} from '@azure/arm-compute'
import {BastionError, asBastionError, inputError} from '../../errors.js'
import {MANAGED_BY, TAG_MANAGED_BY, TAG_NAME, type BastionInfo, type DestroyResult, type RunContext, type Step, type VendorAccess, type WhitelistChange, type WhitelistRule, type WhitelistView} from '../provider.js'
import {cidrContains, judgeRule, vendorRuleDescription, vendorsOf} from '../whitelist.js'
import {arm, type Arm} from './client.js'
import {dnatWhitelist, retarget, sourcesFromRules, type DnatRule} from './dnat.js'
import {parseId, readDnat, readFirewall, updateDnat, type AzureWaits, type FirewallInfo} from './firewall.js'
import {resourceNames, SSH_PORT, TAG_FIREWALL, TAG_MODE, TAG_PUBLIC_PORT, vendorRuleName, type SourceSpec} from './plan.js'
import {freeRulePriority, nsgWhitelist, prefixesOf, sourceRule} from './resources.js'

type Tagged = {id?: string; name?: string; location?: string; tags?: Record<string, string>}

export interface FoundBastion {
  name: string
  resourceGroup?: string
  location?: string
  mode: 'firewall' | 'public-ip'
  firewall?: {resourceGroup: string; name: string}
  publicPort: number
  vm?: VirtualMachine
  nic?: NetworkInterface
  nsg?: NetworkSecurityGroup
  publicIp?: PublicIPAddress
}

function ours(r: Tagged): string | undefined {
  return r.tags?.[TAG_MANAGED_BY] === MANAGED_BY ? r.tags?.[TAG_NAME] : undefined
}

async function collect<T>(operation: string, it: () => AsyncIterable<T>): Promise<T[]> {
  return arm(operation, async () => {
    const out: T[] = []
    for await (const x of it()) out.push(x)
    return out
  })
}

/** Every bastion in the subscription (or only `name`), by tag. */
export async function findBastions(a: Arm, name?: string): Promise<FoundBastion[]> {
  const [vms, nics, nsgs, pips] = await Promise.all([
    collect('virtualMachines.listAll', () => a.compute.virtualMachines.listAll()),
    collect('networkInterfaces.listAll', () => a.network.networkInterfaces.listAll()),
    collect('networkSecurityGroups.listAll', () => a.network.networkSecurityGroups.listAll()),
    collect('publicIPAddresses.listAll', () => a.network.publicIPAddresses.listAll()),
  ])
  const found = new Map<string, FoundBastion>()
  const add = (r: Tagged, kind: 'vm' | 'nic' | 'nsg' | 'publicIp') => {
    const n = ours(r)
    if (!n || (name !== undefined && n !== name)) return
    const b = found.get(n) ?? {name: n, mode: 'public-ip', publicPort: SSH_PORT}
    ;(b as unknown as Record<string, unknown>)[kind] ??= r
    b.resourceGroup ??= r.id ? parseId(r.id).resourceGroup : undefined
    b.location ??= r.location
    if (r.tags?.[TAG_MODE] === 'firewall') {
      b.mode = 'firewall'
      const fw = r.tags[TAG_FIREWALL]?.split('/')
      if (fw?.length === 2 && fw[0] && fw[1]) b.firewall = {resourceGroup: fw[0], name: fw[1]}
      const port = Number(r.tags[TAG_PUBLIC_PORT])
      if (Number.isInteger(port) && port > 0) b.publicPort = port
    }
    found.set(n, b)
  }
  for (const r of vms) add(r, 'vm')
  for (const r of nics) add(r, 'nic')
  for (const r of nsgs) add(r, 'nsg')
  for (const r of pips) add(r, 'publicIp')
  return [...found.values()].sort((x, y) => x.name.localeCompare(y.name))
}

export function notFound(name: string): BastionError {
  return inputError('BASTION_NOT_FOUND', `no bastion named ${name} in this subscription (nothing tagged bastion:name=${name}, managed-by=bastion)`, [
    'bastion list --cloud azure',
    'check --subscription (or AZURE_SUBSCRIPTION_ID)',
  ])
}

async function firewallOf(a: Arm, b: FoundBastion): Promise<FirewallInfo | undefined> {
  return b.firewall ? readFirewall(a, b.firewall.resourceGroup, b.firewall.name) : undefined
}

/** The whitelist rules of a bastion: its DNAT rules (firewall mode) or its NSG's allow rules. */
async function rulesOf(a: Arm, b: FoundBastion, fw: FirewallInfo | undefined): Promise<{rules: WhitelistRule[]; dnat?: DnatRule[]}> {
  if (b.mode === 'firewall') {
    if (!fw) return {rules: []}
    const dnat = (await readDnat(a, fw, resourceNames(b.name).collection)).mine ?? []
    return {rules: dnatWhitelist(dnat), dnat}
  }
  return {rules: b.nsg ? nsgWhitelist(b.nsg).filter((r) => r.fromPort <= SSH_PORT && r.toPort >= SSH_PORT) : []}
}

export async function listBastions(a: Arm): Promise<BastionInfo[]> {
  const out: BastionInfo[] = []
  for (const b of await findBastions(a)) {
    const fw = await firewallOf(a, b)
    const {rules} = await rulesOf(a, b, fw)
    let state = 'missing'
    if (b.vm && b.resourceGroup) {
      const view = await arm('virtualMachines.instanceView', () => a.compute.virtualMachines.instanceView(b.resourceGroup ?? '', b.vm?.name ?? ''))
      state = (view.statuses ?? []).find((s) => s.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length) ?? 'unknown'
    }
    const publicIp = b.mode === 'firewall' ? fw?.publicIp : b.publicIp?.ipAddress
    const privateIp = b.nic?.ipConfigurations?.[0]?.privateIPAddress
    out.push({
      cloud: 'azure',
      name: b.name,
      ...(b.location ? {location: b.location} : {}),
      state,
      ...(b.vm?.id ? {instanceId: b.vm.id} : {}),
      ...(b.vm?.hardwareProfile?.vmSize ? {instanceType: b.vm.hardwareProfile.vmSize} : {}),
      address: {...(publicIp ? {publicIp} : {}), ...(privateIp ? {privateIp} : {}), stable: b.mode === 'firewall' ? true : b.publicIp?.publicIPAllocationMethod === 'Static'},
      sshPort: b.publicPort,
      vendors: vendorsOf(rules),
      adminCidrs: rules.filter((r) => r.role === 'admin' && r.id !== 'ssh-from-firewall').map((r) => r.cidr),
      rules,
      resources: [
        ...(b.vm?.id ? [{kind: 'vm', id: b.vm.id}] : []),
        ...(b.nic?.id ? [{kind: 'network-interface', id: b.nic.id}] : []),
        ...(b.nsg?.id ? [{kind: 'network-security-group', id: b.nsg.id}] : []),
        ...(b.publicIp?.id ? [{kind: 'public-ip', id: b.publicIp.id}] : []),
        ...(b.mode === 'firewall' && fw ? [{kind: 'dnat-collection', id: `${fw.policy ? fw.policy.id : fw.id}#${resourceNames(b.name).collection}`}] : []),
      ],
      ...(b.vm?.timeCreated ? {launchedAt: new Date(b.vm.timeCreated).toISOString()} : {}),
    })
  }
  return out
}

export async function applyDestroy(a: Arm, name: string, opts: RunContext & {dryRun?: boolean; waits: AzureWaits}): Promise<DestroyResult> {
  const progress = opts.progress ?? (() => {})
  const dry = opts.dryRun === true
  progress(`looking for resources tagged bastion:name=${name}`)
  const [b] = await findBastions(a, name)
  const base = {cloud: 'azure', name, dryRun: dry}
  if (!b) return {...base, publicIps: [], steps: [], nothingFound: true}
  const fw = await firewallOf(a, b)
  const publicIps = [b.mode === 'firewall' ? fw?.publicIp : b.publicIp?.ipAddress].filter((x): x is string => Boolean(x))
  const rg = b.resourceGroup ?? ''
  const steps: Step[] = []
  const run = async (s: {kind: string; id: string; what: string}, action: () => Promise<'done' | 'absent'>) => {
    if (opts.signal?.aborted) throw new BastionError('INTERRUPTED', 'interrupted (Ctrl-C)', {exit: 1, suggestions: [`run bastion destroy --cloud azure --name ${name} again`]})
    if (dry) {
      steps.push({kind: s.kind, id: s.id, status: 'skipped', detail: `would ${s.what}`})
      return
    }
    progress(s.what)
    const r = await action()
    const st: Step = {kind: s.kind, id: s.id, status: r === 'done' ? 'deleted' : 'absent', detail: `${s.what}: ${r === 'done' ? 'done' : 'already gone'}`}
    steps.push(st)
    progress(st.detail)
  }
  const del = (operation: string, call: () => PromiseLike<void>) => async (): Promise<'done' | 'absent'> => {
    try {
      await arm(operation, () => Promise.resolve(call()))
      return 'done'
    } catch (err) {
      const e = asBastionError(err)
      if (e.detail?.status === 404) return 'absent'
      throw e
    }
  }
  const collection = resourceNames(name).collection
  try {
    if (b.mode === 'firewall' && fw) {
      await run({kind: 'dnat-collection', id: collection, what: `remove DNAT collection ${collection} from ${fw.policy ? `firewall policy ${fw.policy.name}` : `firewall ${fw.name}`} (nothing else of it)`}, async () => {
        const r = await updateDnat(a, fw, collection, () => undefined, {waits: opts.waits, ...(opts.signal ? {signal: opts.signal} : {}), progress})
        return r.changed ? 'done' : 'absent'
      })
    }
    if (b.vm?.name) {
      const vmName = b.vm.name
      await run({kind: 'vm', id: b.vm.id ?? vmName, what: `delete VM ${vmName} and its OS disk`}, del('virtualMachines.delete', () => a.compute.virtualMachines.delete(rg, vmName)))
    }
    if (b.nic?.name) {
      const n = b.nic.name
      await run({kind: 'network-interface', id: b.nic.id ?? n, what: `delete network interface ${n}`}, del('networkInterfaces.delete', () => a.network.networkInterfaces.delete(rg, n)))
    }
    if (b.publicIp?.name) {
      const n = b.publicIp.name
      await run({kind: 'public-ip', id: b.publicIp.id ?? n, what: `delete public IP ${n} (${b.publicIp.ipAddress ?? '?'})`}, del('publicIPAddresses.delete', () => a.network.publicIPAddresses.delete(rg, n)))
    }
    if (b.nsg?.name) {
      const n = b.nsg.name
      await run({kind: 'network-security-group', id: b.nsg.id ?? n, what: `delete network security group ${n}`}, del('networkSecurityGroups.delete', () => a.network.networkSecurityGroups.delete(rg, n)))
    }
  } catch (err) {
    const e = asBastionError(err)
    const doneSoFar = steps.filter((s) => s.status !== 'skipped').map((s) => s.detail)
    throw new BastionError(e.code, `${e.message}${doneSoFar.length > 0 ? `\ndone before the failure: ${doneSoFar.join('; ')}` : ''}`, {
      exit: e.exit,
      suggestions: [...e.suggestions, `run the same command again: it finds what is left (bastion destroy --cloud azure --name ${name} --confirm ${name})`],
      detail: {...e.detail, steps},
      cause: e,
    })
  }
  return {...base, publicIps, ...(b.location ? {region: b.location} : {}), steps, nothingFound: false}
}

// --------------------------------------------------------------------------------------------------------- whitelist

async function bastion(a: Arm, name: string): Promise<{b: FoundBastion; fw?: FirewallInfo; where: string}> {
  const [b] = await findBastions(a, name)
  if (!b) throw notFound(name)
  const fw = await firewallOf(a, b)
  if (b.mode === 'firewall' && !fw) throw inputError('AZURE_FIREWALL_NOT_FOUND', `bastion ${name}'s firewall ${b.firewall?.resourceGroup}/${b.firewall?.name} does not exist (any more)`, [`bastion doctor --cloud azure --name ${name}`])
  if (b.mode === 'public-ip' && !b.nsg) throw inputError('AZURE_NSG_NOT_FOUND', `bastion ${name} has no network security group (any more)`, [`bastion create … --name ${name} --public-ip re-creates what is missing`])
  const where = b.mode === 'firewall' && fw ? `${fw.policy ? `policy ${fw.policy.name}` : `firewall ${fw.name}`} DNAT ${resourceNames(name).collection}` : (b.nsg?.id ?? '')
  return {b, ...(fw ? {fw} : {}), where}
}

export async function whitelistList(a: Arm, name: string, expected: string[]): Promise<WhitelistView> {
  const {b, fw, where} = await bastion(a, name)
  const {rules} = await rulesOf(a, b, fw)
  return {name, securityGroupId: where, sshPort: b.publicPort, rules: rules.map((r) => ({...r, problems: judgeRule(r, {sshPort: b.publicPort, expected})}))}
}

function emptyChange(name: string, vendor: string, where: string, dryRun: boolean): WhitelistChange {
  return {name, vendor, securityGroupId: where, dryRun, added: [], removed: [], unchanged: [], notFound: [], warnings: []}
}

/** The vendor's sources with `add` added and `remove` removed, others untouched. */
function editSources(sources: SourceSpec[], vendor: string, add: string[], remove: string[] | 'all'): SourceSpec[] {
  const out = sources.map((s) => ({...s, cidrs: [...s.cidrs]}))
  let mine = out.find((s) => s.role === 'vendor' && s.vendor === vendor)
  if (!mine && add.length > 0) {
    mine = {rule: vendorRuleName(vendor), role: 'vendor', vendor, description: vendorRuleDescription(vendor), cidrs: []}
    out.push(mine)
  }
  if (mine) {
    mine.cidrs = mine.cidrs.filter((c) => !(remove === 'all' || remove.includes(c)))
    for (const c of add) if (!mine.cidrs.includes(c)) mine.cidrs.push(c)
  }
  return out.filter((s) => s.cidrs.length > 0)
}

export async function whitelistEdit(
  a: Arm,
  name: string,
  vendor: string,
  edit: {add: string[]; remove: string[] | 'all'},
  opts: {dryRun?: boolean; waits: AzureWaits; progress?: (s: string) => void},
): Promise<WhitelistChange> {
  const {b, fw, where} = await bastion(a, name)
  const change = emptyChange(name, vendor, where, opts.dryRun === true)
  const {rules} = await rulesOf(a, b, fw)
  const port = b.publicPort
  const mine = rules.filter((r) => r.role === 'vendor' && r.vendor === vendor)
  const toAdd: string[] = []
  for (const cidr of edit.add) {
    const by = rules.find((r) => r.cidr === cidr || cidrContains(r.cidr, cidr))
    if (by && by.role === 'vendor' && by.vendor === vendor && by.cidr === cidr) change.unchanged.push({cidr, by: `${vendor} (${by.id ?? ''})`})
    else {
      if (by) change.warnings.push(`${cidr} is also admitted by ${by.role === 'vendor' ? `vendor ${by.vendor}` : by.role} (${by.cidr})`)
      toAdd.push(cidr)
    }
  }
  const targets = edit.remove === 'all' ? mine : mine.filter((r) => (edit.remove as string[]).includes(r.cidr))
  if (edit.remove !== 'all') for (const c of edit.remove) if (!mine.some((r) => r.cidr === c)) change.notFound.push(c)
  if (targets.length > 0 && targets.length === mine.length) change.warnings.push(`${vendor} has no SSH rule left: its tunnels stop working (its user and key stay on the host; remove them with bastion remove-vendor-key)`)
  const ruleFor = (cidr: string): WhitelistRule => ({id: vendorRuleName(vendor), role: 'vendor', vendor, cidr, protocol: 'tcp', fromPort: port, toPort: port, description: vendorRuleDescription(vendor)})
  change.added = toAdd.map(ruleFor)
  change.removed = targets
  if ((toAdd.length === 0 && targets.length === 0) || opts.dryRun) return change
  const removeList = edit.remove === 'all' ? 'all' : targets.map((t) => t.cidr)

  if (b.mode === 'firewall' && fw) {
    const collection = resourceNames(name).collection
    await updateDnat(
      a,
      fw,
      collection,
      (current) => {
        // The decision is made again on every attempt, from the rules just read: a change made meanwhile is kept.
        const now = current ?? []
        const fallback = {firewallIp: fw.publicIp ?? '', publicPort: port, privateIp: b.nic?.ipConfigurations?.[0]?.privateIPAddress ?? ''}
        return retarget(editSources(sourcesFromRules(now), vendor, toAdd, removeList), now, fallback)
      },
      {waits: opts.waits, ...(opts.progress ? {progress: opts.progress} : {})},
    )
    return change
  }
  // public-IP mode: the vendor's own NSG rule, written alone (securityRules), other rules untouched
  const nsg = b.nsg as NetworkSecurityGroup
  const rg = b.resourceGroup ?? ''
  const nsgName = nsg.name ?? resourceNames(name).nsg
  const ruleName = vendorRuleName(vendor)
  const current: SecurityRule | undefined = (nsg.securityRules ?? []).find((r) => r.name === ruleName)
  const cidrs = [...(current ? prefixesOf(current) : []).filter((c) => !(removeList === 'all' || removeList.includes(c))), ...toAdd.filter((c) => !(current && prefixesOf(current).includes(c)))]
  if (cidrs.length === 0) {
    if (current) await arm('securityRules.delete', () => a.network.securityRules.delete(rg, nsgName, ruleName))
    return change
  }
  const source: SourceSpec = {rule: ruleName, role: 'vendor', vendor, description: vendorRuleDescription(vendor), cidrs}
  const rule = sourceRule(source, current?.priority ?? freeRulePriority(nsg.securityRules ?? []))
  await arm('securityRules.createOrUpdate', () => a.network.securityRules.createOrUpdate(rg, nsgName, ruleName, rule))
  return change
}

export function whitelistAdd(a: Arm, name: string, access: VendorAccess, opts: {dryRun?: boolean; waits: AzureWaits}): Promise<WhitelistChange> {
  return whitelistEdit(a, name, access.vendor, {add: access.cidrs, remove: []}, opts)
}

export function whitelistRemove(a: Arm, name: string, vendor: string, cidrs: string[] | 'all', opts: {dryRun?: boolean; waits: AzureWaits}): Promise<WhitelistChange> {
  return whitelistEdit(a, name, vendor, {add: [], remove: cidrs}, opts)
}
