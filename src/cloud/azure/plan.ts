/**
 * What `bastion create --cloud azure` makes, as a pure plan: printable (--dry-run without credentials) and
 * unit-testable. Nothing here talks to Azure. Two ways in for the vendor:
 * - firewall mode (--firewall): the VM has no public address; the firewall's DNAT rule collection `bastion-<name>`
 *   admits only the vendor (and --admin-cidr) addresses on --public-port and translates to the VM's private address,
 *   port 22. The DNAT is SNATed, so the VM sees the firewall's addresses: its NSG admits SSH from AzureFirewallSubnet
 *   only, and the allowlist lives in the DNAT rule alone.
 * - public-IP mode (--public-ip): a Standard static public IP on the NIC, an NSG admitting SSH only from the vendor
 *   and --admin-cidr addresses.
 */
import {gzipSync} from 'node:zlib'
import type {PublicKey} from '../../access/keys.js'
import type {AddPlan} from '../../access/service.js'
import {BastionError, Exit} from '../../errors.js'
import type {Style} from '../../ui/style.js'
import {MANAGED_BY, TAG_MANAGED_BY, TAG_NAME, type VendorAccess} from '../provider.js'
import {renderUserData, SSHD_DROPIN_PATH} from '../user-data.js'
import {ADMIN_RULE_DESCRIPTION, vendorRuleDescription} from '../whitelist.js'

export const SSH_PORT = 22
export const ADMIN_USER = 'azureuser'
/** Azure's limit on osProfile.customData, decoded. */
export const CUSTOM_DATA_LIMIT = 65535
/** Tags (besides bastion:name and managed-by) that remember how the vendor gets in: the state is in the tags. */
export const TAG_MODE = 'bastion:mode'
export const TAG_FIREWALL = 'bastion:firewall'
export const TAG_PUBLIC_PORT = 'bastion:public-port'

export type AzureMode = {kind: 'firewall'; name: string; resourceGroup: string; publicPort: number} | {kind: 'public-ip'}

export interface SubnetRef {
  resourceGroup: string
  vnet: string
  name: string
}

/** Validated input of `create --cloud azure`. */
export interface AzureCreateRequest {
  name: string
  resourceGroup: string
  location?: string
  subnet: SubnetRef
  mode: AzureMode
  size: string
  vendor?: VendorAccess
  vendorKey?: AddPlan
  adminCidrs: string[]
  adminKey: {key: PublicKey; source: string}
  database?: string
}

/** One source admitted on SSH: a DNAT rule's source (firewall mode) or an NSG rule's (public-IP mode). */
export interface SourceSpec {
  /** Rule name: `vendor-<vendor>` or `admin`. */
  rule: string
  role: 'vendor' | 'admin'
  vendor?: string
  description: string
  cidrs: string[]
}

export interface AzureCreatePlan {
  name: string
  resourceGroup: string
  location?: string
  subnet: SubnetRef
  mode: AzureMode
  /** The resources' names (all in resourceGroup). */
  names: {vm: string; nic: string; nsg: string; publicIp: string; osDisk: string; collection: string}
  vm: {
    size: string
    arch: 'x64' | 'arm64'
    image: {publisher: string; offer: string; sku: string; version: string}
    adminUser: string
    adminKeyLine: string
    adminKeyFingerprint: string
    customData: string
    customDataBytes: number
    customDataGzip: boolean
  }
  sources: SourceSpec[]
  tags: Record<string, string>
  vendor?: {name: string; cidrs: string[]; keyFingerprint?: string; keyLine?: string}
  /** The vendor's key plan (what the customData's vendor script was rendered from). */
  vendorKey?: AddPlan
  database?: string
  warnings: string[]
}

export function resourceNames(name: string): AzureCreatePlan['names'] {
  const base = `bastion-${name}`
  return {vm: base, nic: `${base}-nic`, nsg: `${base}-nsg`, publicIp: `${base}-ip`, osDisk: `${base}-osdisk`, collection: base}
}

/** Arm64 sizes carry a `p` among the letters after the vCPU count (Standard_B2pts_v2, Standard_D4pds_v5 …). */
export function archOfSize(size: string): 'x64' | 'arm64' {
  return /^Standard_[A-Z]+\d+[a-z]*p[a-z]*_v\d+$/i.test(size) ? 'arm64' : 'x64'
}

export function vendorRuleName(vendor: string): string {
  return `vendor-${vendor}`
}
export const ADMIN_RULE_NAME = 'admin'

/** The vendor's and the admin's sources, one rule each. */
export function sourcesOf(vendor: VendorAccess | undefined, adminCidrs: string[]): SourceSpec[] {
  const out: SourceSpec[] = []
  if (vendor) out.push({rule: vendorRuleName(vendor.vendor), role: 'vendor', vendor: vendor.vendor, description: vendorRuleDescription(vendor.vendor), cidrs: [...vendor.cidrs]})
  const admin = adminCidrs.filter((c) => !vendor?.cidrs.includes(c))
  if (admin.length > 0) out.push({rule: ADMIN_RULE_NAME, role: 'admin', description: ADMIN_RULE_DESCRIPTION, cidrs: admin})
  return out
}

/** customData as sent (before base64): the script, gzip-compressed when it is over Azure's limit. */
export function encodeCustomData(text: string): {data: Buffer; gzip: boolean} {
  const raw = Buffer.from(text)
  if (raw.length <= CUSTOM_DATA_LIMIT) return {data: raw, gzip: false}
  const data = gzipSync(raw, {level: 9})
  if (data.length > CUSTOM_DATA_LIMIT)
    throw new BastionError('CUSTOM_DATA_TOO_LARGE', `the VM's customData is ${data.length} bytes even gzip-compressed; Azure accepts at most ${CUSTOM_DATA_LIMIT}`, {
      exit: Exit.USAGE,
      suggestions: ['create the bastion without --key-file, then add the key with bastion add-vendor-key'],
    })
  return {data, gzip: true}
}

export function planCreate(req: AzureCreateRequest): AzureCreatePlan {
  const arch = archOfSize(req.size)
  const warnings: string[] = []
  const sources = sourcesOf(req.vendor, req.adminCidrs)
  if (req.adminCidrs.length === 0)
    warnings.push(`no --admin-cidr: nothing admits your own address, so add-vendor-key and doctor cannot reach the host over SSH until you add one`)
  if (req.vendor && !req.vendorKey) warnings.push(`no --key-file: ${req.vendor.vendor}'s user is not set up at boot; add it later with bastion add-vendor-key`)
  const customData = renderUserData({name: req.name, ...(req.vendorKey ? {vendor: req.vendorKey} : {})})
  const wire = encodeCustomData(customData)
  const tags: Record<string, string> = {[TAG_NAME]: req.name, [TAG_MANAGED_BY]: MANAGED_BY, [TAG_MODE]: req.mode.kind}
  if (req.mode.kind === 'firewall') {
    tags[TAG_FIREWALL] = `${req.mode.resourceGroup}/${req.mode.name}`
    tags[TAG_PUBLIC_PORT] = String(req.mode.publicPort)
  }
  return {
    name: req.name,
    resourceGroup: req.resourceGroup,
    ...(req.location ? {location: req.location} : {}),
    subnet: req.subnet,
    mode: req.mode,
    names: resourceNames(req.name),
    vm: {
      size: req.size,
      arch,
      image: {publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: arch === 'arm64' ? 'server-arm64' : 'server', version: 'latest'},
      adminUser: ADMIN_USER,
      adminKeyLine: `${req.adminKey.key.type} ${req.adminKey.key.base64}`,
      adminKeyFingerprint: req.adminKey.key.fingerprint,
      customData,
      customDataBytes: wire.data.length,
      customDataGzip: wire.gzip,
    },
    sources,
    tags,
    ...(req.vendor
      ? {vendor: {name: req.vendor.vendor, cidrs: req.vendor.cidrs, ...(req.vendorKey ? {keyFingerprint: req.vendorKey.key.fingerprint, keyLine: req.vendorKey.line} : {})}}
      : {}),
    ...(req.vendorKey ? {vendorKey: req.vendorKey} : {}),
    ...(req.database ? {database: req.database} : {}),
    warnings,
  }
}

/** The plan for people (--dry-run without credentials): every resource, every rule, the customData. */
export function renderPlanHuman(plan: AzureCreatePlan, s: Style, location?: string): string {
  const out: string[] = []
  const n = plan.names
  const tags = Object.entries(plan.tags).map(([k, v]) => `${k}=${v}`).join(', ')
  out.push(s.bold(`Plan for bastion ${plan.name} on Azure${location ? ` (${location})` : ''} — dry run: no Azure call was made`))
  out.push('')
  out.push(`  resource group ${plan.resourceGroup}; tags on every resource: ${tags}`)
  out.push(`  subnet ${plan.subnet.vnet}/${plan.subnet.name} (resource group ${plan.subnet.resourceGroup}); the location is the virtual network's unless --location`)
  const fw = plan.mode.kind === 'firewall' ? plan.mode : undefined
  if (fw) {
    out.push(`  network security group ${n.nsg} on the NIC, inbound: tcp ${SSH_PORT} from the firewall's subnet (AzureFirewallSubnet) only`)
    out.push(`  network interface ${n.nic}: no public IP`)
    out.push(`  firewall ${fw.resourceGroup}/${fw.name}: DNAT rule collection ${n.collection} (its own rule collection group on a Firewall Policy), nothing else of the firewall changes:`)
    if (plan.sources.length === 0) out.push('    (no rule: nothing can reach SSH yet)')
    for (const r of plan.sources) out.push(`    ${r.rule}: tcp from ${r.cidrs.join(', ')} to <firewall public IP>:${fw.publicPort} → <VM private IP>:${SSH_PORT}  "${r.description}"`)
  } else {
    out.push(`  public IP ${n.publicIp}: Standard, static (survives stop/start)`)
    out.push(`  network security group ${n.nsg} on the NIC, inbound:`)
    if (plan.sources.length === 0) out.push('    (no rule: nothing can reach SSH yet)')
    for (const r of plan.sources) out.push(`    ${r.rule}: tcp ${SSH_PORT} from ${r.cidrs.join(', ')}  "${r.description}"`)
    out.push(`  network interface ${n.nic} with the public IP`)
  }
  const img = plan.vm.image
  out.push(`  VM ${n.vm} (${plan.vm.size}, ${plan.vm.arch}), image ${img.publisher}:${img.offer}:${img.sku}:${img.version}`)
  out.push(`    password login disabled; admin ${plan.vm.adminUser} with your key ${plan.vm.adminKeyFingerprint}`)
  out.push(`    OS disk ${n.osDisk}: managed, deleted with the VM`)
  out.push(`    customData: sshd drop-in ${SSHD_DROPIN_PATH}${plan.vendor?.keyLine ? `, vendor user ${plan.vendor.name} with its key` : ''} (below)`)
  out.push('  then: wait until the VM runs; read its SSH host keys through Run Command into known_hosts')
  if (plan.vendor) {
    out.push('')
    out.push(s.bold(`For ${plan.vendor.name}'s "SSH tunnel" form (once created):`))
    out.push(`  SSH host: ${fw ? "<the firewall's public IP>" : '<the public IP>'}`)
    out.push(`  SSH port: ${fw ? fw.publicPort : SSH_PORT}`)
    out.push(`  SSH user: ${plan.vendor.name}`)
    if (plan.database) out.push(`  Database (host:port in the form): ${plan.database}`)
    if (plan.vendor.keyLine) out.push(`  authorized_keys line: ${plan.vendor.keyLine}`)
  }
  for (const w of plan.warnings) out.push(`${s.warn('warning:')} ${w}`)
  out.push('')
  const wire = plan.vm.customDataGzip ? `, sent gzip-compressed as ${plan.vm.customDataBytes} bytes` : ''
  out.push(s.bold(`customData (${Buffer.byteLength(plan.vm.customData)} bytes${wire}; cloud-init runs it once, as root):`))
  out.push(plan.vm.customData)
  return out.join('\n')
}
