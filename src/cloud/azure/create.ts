/**
 * `bastion create --cloud azure` in three phases: observe (read the subnet, the firewall and what exists by name),
 * reconcile (`reconcileCreate`: pure — the ordered actions, the refusals and warnings), execute (create only what is
 * missing, journalled; on a failure or Ctrl-C the journal is undone newest first, and nothing that existed before the
 * run is touched). The host keys are read through Run Command; recording them is src/cloud/host-keys.ts's job.
 */
import type {NetworkInterface, NetworkSecurityGroup, PublicIPAddress, RouteTable, SecurityRule, Subnet, VirtualNetwork} from '@azure/arm-network'
import type {VirtualMachine} from '@azure/arm-compute'
import {readAddFacts, type AddResult} from '../../access/service.js'
import {BastionError, Exit, asBastionError, inputError, internalError, remoteError} from '../../errors.js'
import {parseConsoleOutput, type ConsoleReport} from '../console.js'
import {TAG_NAME, type CreateOutcome, type CreatePreview, type HostKeysRead, type PlannedChange, type RunContext, type Step, type WhitelistRule} from '../provider.js'
import {arm, armGet, type Arm} from './client.js'
import {dnatRules, dnatWhitelist, portTakenBy, sameRules, type DnatRule} from './dnat.js'
import {readDnat, readFirewall, updateDnat, type AzureWaits, type FirewallInfo} from './firewall.js'
import {SSH_PORT, type AzureCreatePlan} from './plan.js'
import {HOST_KEYS_SCRIPT, nicBody, nsgBody, nsgRules, nsgWhitelist, publicIpBody, sameRule, vmBody} from './resources.js'
import {withRollback} from '../rollback.js'

export interface AzureRunOptions extends RunContext {
  waits: AzureWaits
  knownHostKeys?: (host: string) => {type: string; fingerprint: string}[]
}

/** What exists, as create needs to know it. */
export interface AzureObserved {
  location: string
  subnet: {id: string; prefix?: string; routeTableId?: string}
  routes: {prefix: string; nextHopType: string; nextHopIp?: string}[]
  firewall?: FirewallInfo
  dnat?: {mine?: DnatRule[]; others: {collection: string; rule: DnatRule}[]}
  nsg?: NetworkSecurityGroup
  nic?: NetworkInterface
  publicIp?: PublicIPAddress
  vm?: VirtualMachine
  /** The VM sizes the location offers this subscription (read only when the VM is to be made; empty: unknown). */
  sizes?: {name: string; restricted?: string}[]
}

export type AzureAction =
  | {op: 'keep'; step: Step}
  | {op: 'create-nsg'; rules: SecurityRule[]}
  | {op: 'update-nsg'; rules: SecurityRule[]}
  | {op: 'create-public-ip'}
  | {op: 'create-nic'}
  | {op: 'create-vm'}
  | {op: 'write-dnat'}
  | {op: 'read-host-keys'}

export interface AzureDecision {
  actions: AzureAction[]
  warnings: string[]
  changes: PlannedChange[]
}

function tagName(r: {tags?: Record<string, string>} | undefined): string | undefined {
  return r?.tags?.[TAG_NAME]
}

/** Pure: what create must do, given what exists. Refuses what must not be done (exit 2), changing nothing. */
export function reconcileCreate(plan: AzureCreatePlan, o: AzureObserved): AzureDecision {
  const n = plan.names
  const actions: AzureAction[] = []
  const changes: PlannedChange[] = []
  const warnings = [...plan.warnings]
  for (const [kind, r, resName] of [['network security group', o.nsg, n.nsg], ['network interface', o.nic, n.nic], ['public IP', o.publicIp, n.publicIp], ['VM', o.vm, n.vm]] as const) {
    if (r && tagName(r) !== plan.name)
      throw inputError('AZURE_NAME_TAKEN', `a ${kind} named ${resName} exists in ${plan.resourceGroup} but is not tagged bastion:name=${plan.name}: bastion does not take over resources it did not make`, [
        'pick another --name',
        `or remove it: az resource delete -g ${plan.resourceGroup} -n ${resName} --resource-type …`,
      ])
  }
  const fwMode = plan.mode.kind === 'firewall' ? plan.mode : undefined
  if (fwMode) {
    const fw = o.firewall
    if (!fw)
      throw inputError('AZURE_FIREWALL_NOT_FOUND', `no Azure Firewall ${fwMode.name} in resource group ${fwMode.resourceGroup}`, [
        `az network firewall list -o table (then --firewall <name> --firewall-resource-group <its group>)`,
        'or, without a firewall: --public-ip',
      ])
    if (!fw.publicIp) throw inputError('AZURE_FIREWALL_NO_PUBLIC_IP', `firewall ${fwMode.name} has no public IP on its first IP configuration: there is nothing for the vendor to connect to`, ['give the firewall a public IP, or use --public-ip'])
    if (!fw.subnetPrefix) throw remoteError('AZURE_FIREWALL_SUBNET', `could not read the address prefix of firewall ${fwMode.name}'s subnet (AzureFirewallSubnet)`, ['check that the identity may read the firewall\'s virtual network'])
    const taken = portTakenBy(o.dnat?.others ?? [], fw.publicIp, fwMode.publicPort)
    if (taken.length > 0)
      throw inputError('AZURE_PUBLIC_PORT_TAKEN', `port ${fwMode.publicPort} of firewall ${fwMode.name} (${fw.publicIp}) is taken by another DNAT rule: ${taken.join(', ')}`, [
        `--public-port ${fwMode.publicPort + 1} (any port no other DNAT rule uses)`,
      ])
    const defaultRoute = o.routes.find((r) => r.prefix === '0.0.0.0/0')
    if (defaultRoute && !(defaultRoute.nextHopType === 'VirtualAppliance' && defaultRoute.nextHopIp === fw.privateIp))
      warnings.push(`the subnet's route table sends 0.0.0.0/0 to ${defaultRoute.nextHopType}${defaultRoute.nextHopIp ? ` ${defaultRoute.nextHopIp}` : ''}, not to the firewall (${fw.privateIp ?? '?'}); the DNAT'd traffic is SNATed, so SSH works either way (informational)`)
  } else {
    const defaultRoute = o.routes.find((r) => r.prefix === '0.0.0.0/0')
    if (defaultRoute?.nextHopType === 'VirtualAppliance')
      warnings.push(`the subnet's route table sends 0.0.0.0/0 to a virtual appliance (${defaultRoute.nextHopIp ?? '?'}): replies to the vendor would leave through it, not the public IP, and be dropped (asymmetric routing). Give the subnet a route table without that route, or use --firewall`)
  }

  if (!o.vm && o.sizes && o.sizes.length > 0) {
    const offered = o.sizes.find((x) => x.name.toLowerCase() === plan.vm.size.toLowerCase())
    if (!offered || offered.restricted) {
      const alternatives = o.sizes.filter((x) => !x.restricted && /^Standard_B\d/.test(x.name)).map((x) => x.name).slice(0, 5)
      throw inputError(
        'AZURE_SIZE_UNAVAILABLE',
        `VM size ${plan.vm.size} is ${offered ? `restricted in ${o.location} for this subscription (${offered.restricted})` : `not offered in ${o.location}`}`,
        [...(alternatives.length > 0 ? [`--size ${alternatives[0]} (also offered: ${alternatives.slice(1).join(', ') || 'none other'})`] : []), `az vm list-skus -l ${o.location} --resource-type virtualMachines -o table`],
      )
    }
  }
  const wantRules = nsgRules(plan, o.firewall?.subnetPrefix)
  if (!o.nsg) {
    actions.push({op: 'create-nsg', rules: wantRules})
    changes.push({change: 'create', detail: `network security group ${n.nsg}`, items: wantRules.map((r) => `${r.name}: ${r.access} tcp ${r.destinationPortRange} from ${(r.sourceAddressPrefixes ?? [r.sourceAddressPrefix]).join(', ')}`)})
  } else {
    const have = o.nsg.securityRules ?? []
    const missing = wantRules.filter((w) => !have.some((h) => sameRule(h, w)))
    if (missing.length > 0 && plan.mode.kind === 'firewall') {
      actions.push({op: 'update-nsg', rules: [...have.filter((h) => !wantRules.some((w) => w.name === h.name)), ...wantRules]})
      changes.push({change: 'update', detail: `network security group ${n.nsg}`, items: missing.map((r) => `${r.name}: ${r.access} tcp ${r.destinationPortRange}`)})
    } else {
      actions.push({op: 'keep', step: {kind: 'network-security-group', id: o.nsg.id ?? n.nsg, status: 'present', detail: `network security group ${n.nsg}: present`}})
      changes.push({change: 'keep', detail: `network security group ${n.nsg} (its vendor rules change with bastion whitelist)`})
    }
  }
  if (plan.mode.kind === 'public-ip') {
    if (!o.publicIp) {
      actions.push({op: 'create-public-ip'})
      changes.push({change: 'create', detail: `public IP ${n.publicIp} (Standard, static)`})
    } else {
      actions.push({op: 'keep', step: {kind: 'public-ip', id: o.publicIp.id ?? n.publicIp, status: 'present', detail: `public IP ${n.publicIp} (${o.publicIp.ipAddress ?? '?'}): present`}})
      changes.push({change: 'keep', detail: `public IP ${n.publicIp} (${o.publicIp.ipAddress ?? '?'})`})
    }
  }
  if (!o.nic) {
    actions.push({op: 'create-nic'})
    changes.push({change: 'create', detail: `network interface ${n.nic} in ${plan.subnet.vnet}/${plan.subnet.name}`})
  } else {
    actions.push({op: 'keep', step: {kind: 'network-interface', id: o.nic.id ?? n.nic, status: 'present', detail: `network interface ${n.nic}: present`}})
    changes.push({change: 'keep', detail: `network interface ${n.nic}`})
  }
  if (!o.vm) {
    actions.push({op: 'create-vm'})
    changes.push({change: 'create', detail: `VM ${n.vm} (${plan.vm.size}, Ubuntu 24.04 ${plan.vm.arch})`})
  } else {
    actions.push({op: 'keep', step: {kind: 'vm', id: o.vm.id ?? n.vm, status: 'present', detail: `VM ${n.vm}: present`}})
    changes.push({change: 'keep', detail: `VM ${n.vm}`})
  }
  if (fwMode && o.firewall?.publicIp) {
    const privateIp = o.nic?.ipConfigurations?.[0]?.privateIPAddress
    const want = privateIp ? dnatRules(plan.sources, {firewallIp: o.firewall.publicIp, publicPort: fwMode.publicPort, privateIp}) : undefined
    const where = `${o.firewall.policy ? `firewall policy ${o.firewall.policy.name}` : `firewall ${fwMode.name}`}: DNAT collection ${n.collection}`
    if (want && o.dnat?.mine && sameRules(o.dnat.mine, want)) {
      actions.push({op: 'keep', step: {kind: 'dnat-collection', id: n.collection, status: 'present', detail: `${where}: present`}})
      changes.push({change: 'keep', detail: where})
    } else {
      actions.push({op: 'write-dnat'})
      changes.push({
        change: o.dnat?.mine ? 'update' : 'create',
        detail: where,
        items: plan.sources.map((s) => `${s.rule}: tcp from ${s.cidrs.join(', ')} to ${o.firewall?.publicIp}:${fwMode.publicPort} → ${privateIp ?? '<the VM\'s private IP>'}:${SSH_PORT}`),
      })
    }
  }
  actions.push({op: 'read-host-keys'})
  return {actions, warnings, changes}
}

/** Read what exists. */
export async function observeCreate(a: Arm, plan: AzureCreatePlan, progress: (s: string) => void = () => {}): Promise<AzureObserved> {
  const rg = plan.resourceGroup
  const n = plan.names
  progress(`reading subnet ${plan.subnet.vnet}/${plan.subnet.name}`)
  const vnet: VirtualNetwork | undefined = await armGet('virtualNetworks.get', () => a.network.virtualNetworks.get(plan.subnet.resourceGroup, plan.subnet.vnet))
  const subnet: Subnet | undefined = vnet ? await armGet('subnets.get', () => a.network.subnets.get(plan.subnet.resourceGroup, plan.subnet.vnet, plan.subnet.name)) : undefined
  if (!vnet || !subnet?.id)
    throw inputError('AZURE_SUBNET_NOT_FOUND', `no subnet ${plan.subnet.name} in virtual network ${plan.subnet.vnet} (resource group ${plan.subnet.resourceGroup})`, [
      `az network vnet subnet list -g ${plan.subnet.resourceGroup} --vnet-name ${plan.subnet.vnet} -o table`,
    ])
  let routes: AzureObserved['routes'] = []
  const routeTableId = subnet.routeTable?.id
  if (routeTableId) {
    const m = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/routeTables\/([^/]+)/i.exec(routeTableId)
    const rt: RouteTable | undefined = m ? await armGet('routeTables.get', () => a.network.routeTables.get(m[1] ?? '', m[2] ?? '')) : undefined
    routes = (rt?.routes ?? []).map((r) => ({prefix: r.addressPrefix ?? '', nextHopType: r.nextHopType ?? '', ...(r.nextHopIpAddress ? {nextHopIp: r.nextHopIpAddress} : {})}))
  }
  let firewall: FirewallInfo | undefined
  let dnat: AzureObserved['dnat']
  if (plan.mode.kind === 'firewall') {
    progress(`reading firewall ${plan.mode.name}`)
    firewall = await readFirewall(a, plan.mode.resourceGroup, plan.mode.name)
    if (firewall) dnat = await readDnat(a, firewall, n.collection)
  }
  progress(`looking for ${n.vm} and its resources in ${rg}`)
  const [nsg, nic, publicIp, vm] = await Promise.all([
    armGet('networkSecurityGroups.get', () => a.network.networkSecurityGroups.get(rg, n.nsg)),
    armGet('networkInterfaces.get', () => a.network.networkInterfaces.get(rg, n.nic)),
    plan.mode.kind === 'public-ip' ? armGet('publicIPAddresses.get', () => a.network.publicIPAddresses.get(rg, n.publicIp)) : Promise.resolve(undefined),
    armGet('virtualMachines.get', () => a.compute.virtualMachines.get(rg, n.vm)),
  ])
  const location = plan.location ?? vnet.location ?? ''
  let sizes: AzureObserved['sizes']
  if (!vm && location) {
    progress(`checking that ${location} offers ${plan.vm.size}`)
    sizes = await arm('resourceSkus.list', async () => {
      const out: {name: string; restricted?: string}[] = []
      for await (const sku of a.compute.resourceSkus.list({filter: `location eq '${location}'`})) {
        if (sku.resourceType !== 'virtualMachines' || !sku.name) continue
        const r = (sku.restrictions ?? []).find((x) => x.type === 'Location')
        out.push({name: sku.name, ...(r ? {restricted: r.reasonCode ?? 'restricted'} : {})})
      }
      return out
    })
  }
  return {
    ...(sizes ? {sizes} : {}),
    location,
    subnet: {id: subnet.id, ...(subnet.addressPrefix ? {prefix: subnet.addressPrefix} : {}), ...(routeTableId ? {routeTableId} : {})},
    routes,
    ...(firewall ? {firewall} : {}),
    ...(dnat ? {dnat} : {}),
    ...(nsg ? {nsg} : {}),
    ...(nic ? {nic} : {}),
    ...(publicIp ? {publicIp} : {}),
    ...(vm ? {vm} : {}),
  }
}

export async function previewCreate(a: Arm, plan: AzureCreatePlan, opts: RunContext = {}): Promise<CreatePreview<AzureCreatePlan>> {
  const d = reconcileCreate(plan, await observeCreate(a, plan, opts.progress))
  return {plan, changes: d.changes, warnings: d.warnings}
}

export interface AzureCreateResult extends CreateOutcome {
  cloud: 'azure'
  resourceGroup: string
  location: string
  mode: 'firewall' | 'public-ip'
  vm: {id: string; size?: string; state: string; createdByThisRun: boolean}
  address: {publicIp?: string; privateIp?: string; publicPort: number; firewall?: string}
  rules: WhitelistRule[]
}

type Created =
  | {kind: 'nsg' | 'public-ip' | 'nic' | 'vm'; name: string}
  | {kind: 'dnat'; before?: DnatRule[]}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BastionError('INTERRUPTED', 'interrupted (Ctrl-C)', {exit: Exit.FAILED, suggestions: ['run create again to finish: it makes only what is missing']})
}

async function deleteResource(a: Arm, rg: string, kind: 'nsg' | 'public-ip' | 'nic' | 'vm', name: string): Promise<void> {
  const gone = (err: unknown) => {
    const e = asBastionError(err)
    if (e.detail?.status === 404 || e.detail?.azureCode === 'ResourceNotFound' || e.detail?.azureCode === 'NotFound') return
    throw e
  }
  switch (kind) {
    case 'vm':
      return arm('virtualMachines.delete', () => a.compute.virtualMachines.delete(rg, name)).catch(gone)
    case 'nic':
      return arm('networkInterfaces.delete', () => a.network.networkInterfaces.delete(rg, name)).catch(gone)
    case 'public-ip':
      return arm('publicIPAddresses.delete', () => a.network.publicIPAddresses.delete(rg, name)).catch(gone)
    case 'nsg':
      return arm('networkSecurityGroups.delete', () => a.network.networkSecurityGroups.delete(rg, name)).catch(gone)
  }
}

export async function rollback(a: Arm, plan: AzureCreatePlan, fw: FirewallInfo | undefined, journal: Created[], opts: AzureRunOptions): Promise<{undone: string[]; left: string[]}> {
  const undone: string[] = []
  const left: string[] = []
  for (const entry of [...journal].reverse()) {
    const label = entry.kind === 'dnat' ? `DNAT collection ${plan.names.collection}` : `${entry.kind} ${entry.name}`
    try {
      opts.progress?.(`rolling back: ${label}`)
      if (entry.kind === 'dnat') {
        if (fw) await updateDnat(a, fw, plan.names.collection, () => entry.before, {waits: opts.waits, ...(opts.progress ? {progress: opts.progress} : {})})
      } else {
        await deleteResource(a, plan.resourceGroup, entry.kind, entry.name)
      }
      undone.push(label)
    } catch (err) {
      left.push(`${label}: ${asBastionError(err).message}`)
    }
  }
  return {undone, left}
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw internalError('AZURE_CREATE_ORDER', `create reached a step that needs ${what} before it existed`)
  return v
}

export async function applyCreate(a: Arm, plan: AzureCreatePlan, opts: AzureRunOptions): Promise<AzureCreateResult> {
  const observed = await observeCreate(a, plan, opts.progress)
  return executeCreate(a, plan, observed, reconcileCreate(plan, observed), opts)
}

/** Run Command: the host keys and bastion-init's lines, as one console-like text. */
export async function runHostKeyCommand(a: Arm, rg: string, vm: string, signal?: AbortSignal): Promise<ConsoleReport> {
  const out = await arm('virtualMachines.runCommand', () =>
    a.compute.virtualMachines.runCommand(rg, vm, {commandId: 'RunShellScript', script: HOST_KEYS_SCRIPT}, signal ? {abortSignal: signal} : {}),
  )
  const text = (out.value ?? []).map((v) => v.message ?? '').join('\n')
  return parseConsoleOutput(text)
}

export async function executeCreate(a: Arm, plan: AzureCreatePlan, o: AzureObserved, decision: AzureDecision, opts: AzureRunOptions): Promise<AzureCreateResult> {
  const rg = plan.resourceGroup
  const n = plan.names
  const journal: Created[] = []
  const steps: Step[] = []
  const warnings = [...decision.warnings]
  const progress = opts.progress ?? (() => {})
  const step = (s: Step) => {
    steps.push(s)
    progress(s.detail)
  }
  const fwMode = plan.mode.kind === 'firewall' ? plan.mode : undefined
  let nsg = o.nsg
  let nic = o.nic
  let pip = o.publicIp
  let vm = o.vm
  let created = false
  let report: ConsoleReport | undefined
  let hostKeys: HostKeysRead = {status: 'skipped', note: 'the VM is not running'}
  const location = o.location
  const host = () => (fwMode ? o.firewall?.publicIp : pip?.ipAddress)
  const hostName = () => {
    const h = host()
    return h && fwMode && fwMode.publicPort !== SSH_PORT ? `[${h}]:${fwMode.publicPort}` : h
  }
  try {
    for (const action of decision.actions) {
      checkAborted(opts.signal)
      switch (action.op) {
        case 'keep':
          step(action.step)
          break
        case 'create-nsg':
        case 'update-nsg': {
          progress(`${action.op === 'create-nsg' ? 'creating' : 'updating'} network security group ${n.nsg}`)
          const body = nsgBody(plan, location, action.rules)
          const made = await arm('networkSecurityGroups.createOrUpdate', () => a.network.networkSecurityGroups.createOrUpdate(rg, n.nsg, body))
          if (action.op === 'create-nsg') journal.push({kind: 'nsg', name: n.nsg})
          nsg = made
          step({kind: 'network-security-group', id: made.id ?? n.nsg, status: action.op === 'create-nsg' ? 'created' : 'updated', detail: `network security group ${n.nsg}: ${action.op === 'create-nsg' ? 'created' : 'updated'}`})
          break
        }
        case 'create-public-ip': {
          progress(`creating public IP ${n.publicIp}`)
          const made = await arm('publicIPAddresses.createOrUpdate', () => a.network.publicIPAddresses.createOrUpdate(rg, n.publicIp, publicIpBody(plan, location)))
          journal.push({kind: 'public-ip', name: n.publicIp})
          pip = made
          step({kind: 'public-ip', id: made.id ?? n.publicIp, status: 'created', detail: `public IP ${n.publicIp} (${made.ipAddress ?? '?'}, static): created`})
          break
        }
        case 'create-nic': {
          progress(`creating network interface ${n.nic}`)
          const body = nicBody(plan, location, {subnet: o.subnet.id, nsg: need(nsg?.id, 'the NSG'), ...(pip?.id ? {publicIp: pip.id} : {})})
          const made = await arm('networkInterfaces.createOrUpdate', () => a.network.networkInterfaces.createOrUpdate(rg, n.nic, body))
          journal.push({kind: 'nic', name: n.nic})
          nic = made
          step({kind: 'network-interface', id: made.id ?? n.nic, status: 'created', detail: `network interface ${n.nic} (${made.ipConfigurations?.[0]?.privateIPAddress ?? '?'}): created`})
          break
        }
        case 'create-vm': {
          progress(`creating VM ${n.vm} (${plan.vm.size}); this takes a minute or two`)
          const body = vmBody(plan, location, need(nic?.id, 'the network interface'))
          journal.push({kind: 'vm', name: n.vm})
          const made = await arm('virtualMachines.createOrUpdate', () => a.compute.virtualMachines.createOrUpdate(rg, n.vm, body, opts.signal ? {abortSignal: opts.signal} : {}))
          vm = made
          created = true
          step({kind: 'vm', id: made.id ?? n.vm, status: 'created', detail: `VM ${n.vm} (${plan.vm.size}, Ubuntu 24.04 ${plan.vm.arch}): created`})
          break
        }
        case 'write-dnat': {
          const fw = need(o.firewall, 'the firewall')
          const privateIp = need(nic?.ipConfigurations?.[0]?.privateIPAddress, "the VM's private IP")
          const want = dnatRules(plan.sources, {firewallIp: need(fw.publicIp, "the firewall's public IP"), publicPort: need(fwMode, 'firewall mode').publicPort, privateIp})
          progress(`writing DNAT collection ${n.collection} on ${fw.policy ? `policy ${fw.policy.name}` : `firewall ${fw.name}`}`)
          const change = await updateDnat(a, fw, n.collection, () => want, {waits: opts.waits, ...(opts.signal ? {signal: opts.signal} : {}), progress})
          if (change.changed) journal.push({kind: 'dnat', ...(change.before ? {before: change.before} : {})})
          step({
            kind: 'dnat-collection',
            id: n.collection,
            status: change.changed ? (change.before ? 'updated' : 'created') : 'present',
            detail: `DNAT ${fw.publicIp}:${fwMode?.publicPort} → ${privateIp}:${SSH_PORT} (collection ${n.collection}${fw.policy ? ` in policy ${fw.policy.name}` : ''}): ${change.changed ? (change.before ? 'updated' : 'created') : 'present'}`,
          })
          break
        }
        case 'read-host-keys': {
          const h = hostName()
          const known = h && opts.knownHostKeys ? opts.knownHostKeys(h) : []
          if (!created && h && known.length > 0) {
            hostKeys = {status: 'known', host: h, keys: known}
            break
          }
          progress(`reading the SSH host keys of ${n.vm} through Run Command`)
          try {
            report = await runHostKeyCommand(a, rg, n.vm, opts.signal)
            hostKeys =
              report.hostKeys.length > 0
                ? {status: 'read', ...(h ? {host: h} : {}), keys: report.hostKeys, ignored: report.mismatched.length}
                : {status: 'unavailable', note: `Run Command on ${n.vm} printed no host key, so known_hosts was NOT updated: az vm run-command invoke -g ${rg} -n ${n.vm} --command-id RunShellScript --scripts 'cat /etc/ssh/ssh_host_*_key.pub'`}
          } catch (err) {
            const e = asBastionError(err)
            if (e.code === 'INTERRUPTED') throw e
            hostKeys = {status: 'unavailable', note: `the SSH host keys of ${n.vm} could not be read through Run Command (${e.message}), so known_hosts was NOT updated`}
          }
          if (hostKeys.status === 'unavailable') warnings.push(hostKeys.note)
          break
        }
      }
    }
  } catch (err) {
    if (journal.length === 0) throw asBastionError(err)
    const undone = await rollback(a, plan, o.firewall, journal, opts)
    throw withRollback(err, 'azure', plan.name, undone)
  }
  if (report?.init.status === 'failed') warnings.push(`the customData reported a failure: ${report.init.lines.filter((l) => l.includes('ERROR')).join(' | ') || report.init.lines.at(-1)}`)
  let vendorSetup: AddResult | undefined
  if (plan.vendorKey && report && report.init.facts.some((f) => f.key === 'done')) {
    try {
      vendorSetup = readAddFacts(plan.vendorKey, report.init.facts)
    } catch {
      // garbled facts: the summary is only informative
    }
  }
  const view = await arm('virtualMachines.instanceView', () => a.compute.virtualMachines.instanceView(rg, n.vm))
  const power = (view.statuses ?? []).find((s) => s.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length) ?? 'unknown'
  const privateIp = nic?.ipConfigurations?.[0]?.privateIPAddress
  let rules: WhitelistRule[]
  if (fwMode && o.firewall) rules = dnatWhitelist((await readDnat(a, o.firewall, n.collection)).mine ?? [])
  else rules = nsg ? nsgWhitelist(nsg) : []
  const ip = host()
  const port = fwMode ? fwMode.publicPort : SSH_PORT
  const madeVm = need(vm, 'the VM')
  return {
    dryRun: false,
    cloud: 'azure',
    name: plan.name,
    region: location,
    resourceGroup: rg,
    location,
    mode: plan.mode.kind,
    vm: {id: madeVm.id ?? n.vm, size: madeVm.hardwareProfile?.vmSize ?? plan.vm.size, state: power, createdByThisRun: created},
    address: {...(ip ? {publicIp: ip} : {}), ...(privateIp ? {privateIp} : {}), publicPort: port, ...(fwMode ? {firewall: `${fwMode.resourceGroup}/${fwMode.name}`} : {})},
    rules,
    steps,
    hostKeys,
    bootstrap: {status: report?.init.status ?? 'absent', lines: report?.init.lines ?? []},
    ...(vendorSetup ? {vendorSetup} : {}),
    ...(plan.vendor && ip ? {vendorForm: {sshHost: ip, sshPort: port, sshUser: plan.vendor.name, ...(plan.database ? {database: plan.database} : {})}} : {}),
    ...(ip ? {admin: {user: plan.vm.adminUser, ssh: `ssh ${port !== SSH_PORT ? `-p ${port} ` : ''}${plan.vm.adminUser}@${ip}`}} : {}),
    warnings,
  }
}
