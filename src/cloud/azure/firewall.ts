/**
 * Reading and changing bastion's DNAT collection on an Azure Firewall. Neither the firewall nor the policy API offers
 * If-Match on these writes, and Azure runs one update of a firewall (or policy) at a time, for minutes. So every
 * change is: take a lock for the firewall (this machine), GET, wait while `provisioningState` is `Updating`, change
 * only bastion's collection, PUT, wait for the long-running operation, GET again and verify. A 409
 * `AnotherOperationInProgress` or 400 `…UpdateNotAllowed` backs off and starts again from the GET: a stale body is
 * never sent again.
 */
import {closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {AzureFirewall, FirewallPolicyRuleCollectionGroup, PublicIPAddress, Subnet} from '@azure/arm-network'
import {BastionError, Exit, remoteError} from '../../errors.js'
import {arm, armGet, isBusy, type Arm} from './client.js'
import {classicCollection, classicOtherRules, freePriority, policyGroup, policyGroupRules, sameRules, withClassicCollection, type DnatRule} from './dnat.js'

export interface AzureWaits {
  /** Seconds between reads while a firewall is Updating, and between retries after a refusal. */
  pollSec: number
  /** Give up waiting for a busy firewall after this many seconds. */
  busyTimeoutSec: number
}

/** BASTION_AZURE_POLL_SECONDS shortens the waits (emulators and tests); Azure's firewall updates take minutes. */
export function azureWaits(env: NodeJS.ProcessEnv = process.env): AzureWaits {
  const poll = Number(env.BASTION_AZURE_POLL_SECONDS)
  return {pollSec: Number.isFinite(poll) && poll > 0 ? poll : 15, busyTimeoutSec: 1800}
}

export interface FirewallInfo {
  resourceGroup: string
  name: string
  id: string
  /** Managed by a Firewall Policy: its resource group and name. */
  policy?: {resourceGroup: string; name: string; id: string}
  publicIp?: string
  privateIp?: string
  /** AzureFirewallSubnet's address prefix: where the DNAT'd (SNATed) traffic comes from. */
  subnetPrefix?: string
}

export function parseId(id: string): {resourceGroup: string; name: string} {
  const m = /\/resourceGroups\/([^/]+)\/providers\/[^/]+\/[^/]+\/([^/]+)/i.exec(id)
  return {resourceGroup: m?.[1] ?? '', name: m?.[2] ?? ''}
}

function sleep(sec: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new BastionError('INTERRUPTED', 'interrupted', {exit: Exit.FAILED}))
    const t = setTimeout(resolve, sec * 1000)
    signal?.addEventListener('abort', () => {
      clearTimeout(t)
      reject(new BastionError('INTERRUPTED', 'interrupted', {exit: Exit.FAILED}))
    }, {once: true})
  })
}

/** The firewall, its policy, public IP and subnet prefix. Undefined when there is no such firewall. */
export async function readFirewall(a: Arm, resourceGroup: string, name: string): Promise<FirewallInfo | undefined> {
  const fw = await armGet('azureFirewalls.get', () => a.network.azureFirewalls.get(resourceGroup, name))
  if (!fw) return undefined
  const ipc = fw.ipConfigurations?.[0]
  let publicIp: string | undefined
  if (ipc?.publicIPAddress?.id) {
    const ref = parseId(ipc.publicIPAddress.id)
    const pip: PublicIPAddress | undefined = await armGet('publicIPAddresses.get', () => a.network.publicIPAddresses.get(ref.resourceGroup, ref.name))
    publicIp = pip?.ipAddress
  }
  let subnetPrefix: string | undefined
  if (ipc?.subnet?.id) {
    const m = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)/i.exec(ipc.subnet.id)
    if (m) {
      const sn: Subnet | undefined = await armGet('subnets.get', () => a.network.subnets.get(m[1] ?? '', m[2] ?? '', m[3] ?? ''))
      subnetPrefix = sn?.addressPrefix ?? sn?.addressPrefixes?.[0]
    }
  }
  const policyId = fw.firewallPolicy?.id
  return {
    resourceGroup,
    name,
    id: fw.id ?? `${resourceGroup}/${name}`,
    ...(policyId ? {policy: {...parseId(policyId), id: policyId}} : {}),
    ...(publicIp ? {publicIp} : {}),
    ...(ipc?.privateIPAddress ? {privateIp: ipc.privateIPAddress} : {}),
    ...(subnetPrefix ? {subnetPrefix} : {}),
  }
}

/** bastion's rules and every other DNAT rule of the firewall (or its policy). */
export async function readDnat(a: Arm, fw: FirewallInfo, collection: string): Promise<{mine?: DnatRule[]; others: {collection: string; rule: DnatRule}[]}> {
  if (fw.policy) {
    const p = fw.policy
    const groups: FirewallPolicyRuleCollectionGroup[] = []
    await arm('firewallPolicyRuleCollectionGroups.list', async () => {
      for await (const g of a.network.firewallPolicyRuleCollectionGroups.list(p.resourceGroup, p.name)) groups.push(g)
    })
    const mineGroup = groups.find((g) => g.name === collection)
    const others = groups.filter((g) => g.name !== collection).flatMap(policyGroupRules)
    const mine = mineGroup ? policyGroupRules(mineGroup).filter((r) => r.collection === collection).map((r) => r.rule) : undefined
    return {...(mine ? {mine} : {}), others}
  }
  const body = await arm('azureFirewalls.get', () => a.network.azureFirewalls.get(fw.resourceGroup, fw.name))
  const mine = classicCollection(body, collection)
  return {...(mine ? {mine} : {}), others: classicOtherRules(body, collection)}
}

// ------------------------------------------------------------------------------------------------------------- lock

/** A lock file per firewall (policy) on this machine: two bastion runs never interleave their read-modify-write. */
export async function withLock<T>(key: string, waits: AzureWaits, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  const dir = join(process.env.XDG_RUNTIME_DIR || join(homedir(), '.cache'), 'bastion', 'locks')
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const file = join(dir, `azure-${createHash('sha256').update(key.toLowerCase()).digest('hex').slice(0, 32)}.lock`)
  const deadline = Date.now() + waits.busyTimeoutSec * 1000
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = Number(readFileSync(file, 'utf8').trim())
      let alive = false
      try {
        if (Number.isInteger(holder) && holder > 0) alive = process.kill(holder, 0)
      } catch {
        alive = false
      }
      if (!alive) {
        rmSync(file, {force: true})
        continue
      }
      if (Date.now() > deadline) throw remoteError('AZURE_LOCKED', `another bastion run (pid ${holder}) is changing ${key}`, [`wait for it, or remove ${file} if that process is gone`])
      await sleep(Math.min(waits.pollSec, 2), signal)
    }
  }
  try {
    return await work()
  } finally {
    rmSync(file, {force: true})
  }
}

// ------------------------------------------------------------------------------------------------------------ write

export interface DnatChange {
  before?: DnatRule[]
  after?: DnatRule[]
  changed: boolean
}

/**
 * Set bastion's collection to what `decide` makes of the current rules (undefined: remove it), under the lock, with
 * the GET - wait - PUT - verify loop.
 */
export async function updateDnat(
  a: Arm,
  fw: FirewallInfo,
  collection: string,
  decide: (current: DnatRule[] | undefined) => DnatRule[] | undefined,
  opts: {waits: AzureWaits; signal?: AbortSignal; progress?: (s: string) => void},
): Promise<DnatChange> {
  const key = fw.policy ? fw.policy.id : fw.id
  const what = fw.policy ? `firewall policy ${fw.policy.name}` : `firewall ${fw.name}`
  const progress = opts.progress ?? (() => {})
  return withLock(key, opts.waits, opts.signal, async () => {
    const deadline = Date.now() + opts.waits.busyTimeoutSec * 1000
    for (let attempt = 1; ; attempt++) {
      if (Date.now() > deadline) throw remoteError('AZURE_FIREWALL_BUSY', `${what} stayed busy with other updates for ${opts.waits.busyTimeoutSec} s`, ['try again later: bastion re-reads the firewall and changes only its own collection'])
      // GET, and wait while another update runs
      const state = await provisioningState(a, fw)
      if (state === 'Updating' || state === 'Deleting') {
        progress(`${what} is ${state.toLowerCase()} (another change); waiting`)
        await sleep(opts.waits.pollSec, opts.signal)
        continue
      }
      try {
        const result = fw.policy ? await writePolicy(a, fw, collection, decide) : await writeClassic(a, fw, collection, decide)
        if (!result.changed) return result
        progress(`${what}: DNAT collection ${collection} written; verifying`)
        const check = await readDnat(a, fw, collection)
        if (!sameRules(check.mine, result.after))
          throw remoteError('AZURE_DNAT_VERIFY', `${what}: the DNAT collection ${collection} read back differs from what was written`, ['run the command again: it re-reads and writes only its own collection'])
        return result
      } catch (err) {
        if (!isBusy(err)) throw err
        progress(`${what} refused the change (another update in progress, attempt ${attempt}); re-reading`)
        await sleep(opts.waits.pollSec, opts.signal)
      }
    }
  })
}

async function provisioningState(a: Arm, fw: FirewallInfo): Promise<string | undefined> {
  if (fw.policy) {
    const p = fw.policy
    return (await arm('firewallPolicies.get', () => a.network.firewallPolicies.get(p.resourceGroup, p.name))).provisioningState
  }
  return (await arm('azureFirewalls.get', () => a.network.azureFirewalls.get(fw.resourceGroup, fw.name))).provisioningState
}

async function writeClassic(a: Arm, fw: FirewallInfo, collection: string, decide: (c: DnatRule[] | undefined) => DnatRule[] | undefined): Promise<DnatChange> {
  const body: AzureFirewall = await arm('azureFirewalls.get', () => a.network.azureFirewalls.get(fw.resourceGroup, fw.name))
  if (body.provisioningState === 'Updating') throw Object.assign(new Error('Updating'), {code: 'AnotherOperationInProgress'})
  const before = classicCollection(body, collection)
  const after = decide(before)
  if (sameRules(before, after)) return {...(before ? {before} : {}), ...(after ? {after} : {}), changed: false}
  const next = withClassicCollection(body, collection, after)
  await arm('azureFirewalls.createOrUpdate', () => a.network.azureFirewalls.createOrUpdate(fw.resourceGroup, fw.name, next))
  return {...(before ? {before} : {}), ...(after && after.length > 0 ? {after} : {}), changed: true}
}

async function writePolicy(a: Arm, fw: FirewallInfo, collection: string, decide: (c: DnatRule[] | undefined) => DnatRule[] | undefined): Promise<DnatChange> {
  const p = fw.policy as NonNullable<FirewallInfo['policy']>
  const groups: FirewallPolicyRuleCollectionGroup[] = []
  await arm('firewallPolicyRuleCollectionGroups.list', async () => {
    for await (const g of a.network.firewallPolicyRuleCollectionGroups.list(p.resourceGroup, p.name)) groups.push(g)
  })
  const group = groups.find((g) => g.name === collection)
  const before = group ? policyGroupRules(group).filter((r) => r.collection === collection).map((r) => r.rule) : undefined
  const after = decide(before)
  if (sameRules(before, after)) return {...(before ? {before} : {}), ...(after ? {after} : {}), changed: false}
  if (after === undefined || after.length === 0) {
    await arm('firewallPolicyRuleCollectionGroups.delete', () => a.network.firewallPolicyRuleCollectionGroups.delete(p.resourceGroup, p.name, collection))
    return {...(before ? {before} : {}), changed: true}
  }
  const priority = group?.priority ?? freePriority(groups.map((g) => g.priority ?? 0))
  await arm('firewallPolicyRuleCollectionGroups.createOrUpdate', () =>
    a.network.firewallPolicyRuleCollectionGroups.createOrUpdate(p.resourceGroup, p.name, collection, policyGroup(collection, priority, after)),
  )
  return {...(before ? {before} : {}), after, changed: true}
}
