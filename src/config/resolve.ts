/**
 * A valid `bastion.yml` resolved into what the commands work with, per bastion: how to connect (the shape of the
 * connection flags, src/ssh/flags.ts), the vendors on it with their parsed keys, source CIDRs, permitted databases and
 * expiry, and, for a cloud bastion, the cloud it lives in and the allowlist it should have. Pure apart from reading the
 * key files the config names (relative to its directory); no network. A cloud bastion without `ssh.host` is reached at
 * the address its cloud reports: src/config/address.ts asks the provider for it.
 */
import {isAbsolute, resolve as resolvePath} from 'node:path'
import {parsePublicKey, type PublicKey} from '../access/keys.js'
import {BastionError, inputError} from '../errors.js'
import {expandTilde, parseCidr, parseHostPort, type HostPort} from '../input/parse.js'
import {normalizeFingerprint} from '../ssh/fingerprint.js'
import type {ConnectionFlagValues} from '../ssh/flags.js'
import {readVendorKey} from './keys.js'
import type {LoadedConfig} from './load.js'
import type {BastionConfig, ConfigCloud} from './schema.js'

export interface ResolvedKey {
  key: PublicKey
  /** Where the file gave it: `vendors.hevo.keys[0]` or the key file's name. */
  source: string
  /** As the file writes it (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]), and as OpenSSH's expiry-time. */
  expires?: string
  expiryTime?: string
}

export interface ResolvedVendor {
  /** The name under `vendors:`. */
  name: string
  /** The Linux user on the bastions (default: the name). */
  user: string
  /** Source CIDRs (single addresses as /32, /128). */
  cidrs: string[]
  /** from= on the key lines: the CIDRs, or nothing when they admit every address (0.0.0.0/0 and ::/0, allowAnywhere). */
  from: string[]
  keys: ResolvedKey[]
  /** The databases, by name, and as permitopen destinations. */
  databases: {name: string; target: HostPort}[]
}

export interface ResolvedCloud {
  /** The --cloud value (`aws`, `azure`). */
  provider: string
  /** The bastion's name in the cloud (its bastion:name tag). */
  name: string
  /** The cloud's own flags, as the cloud commands take them (e.g. region). */
  flags: Record<string, string>
}

export interface ResolvedBastion {
  /** The name under `bastions:`. */
  name: string
  cloud?: ResolvedCloud
  /** The connection flags this bastion stands for; `host` is absent when the cloud must tell the address. */
  connection: ConnectionFlagValues
  vendors: ResolvedVendor[]
  /** The port sshd listens on at the host when it is not the connection's (a firewall DNAT's public port → 22). */
  sshdPort?: number
  /** For a cloud bastion: the allowlist it should have, one entry per vendor (its CIDRs). */
  allowlist?: {vendor: string; cidrs: string[]}[]
}

export interface ResolveOptions {
  /** Only these bastions (--bastion); all when empty. */
  bastions?: string[]
  /** Only these vendors (--vendor), on the bastions that list them; all when empty. */
  vendors?: string[]
}

/** `2027-06-30` → `20270630`, `2027-06-30T18:00` → `202706301800` (OpenSSH expiry-time, read as UTC here). */
export function expiryTimeOf(expires: string): string {
  return expires.replace(/Z$/, '').replace(/[-:T]/g, '')
}

/** `20270630` → `2027-06-30`, `202706301800` → `2027-06-30T18:00` (the file's form of an expiry-time). */
export function expiresOf(expiryTime: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?Z?$/.exec(expiryTime)
  if (!m) return expiryTime
  const [, y, mo, d, h, mi, s] = m
  return `${y}-${mo}-${d}${h ? `T${h}:${mi}${s ? `:${s}` : ''}` : ''}`
}

function cidrOf(raw: string, what: string): string {
  const cidr = parseCidr(raw, what)
  return cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`
}

/** The CIDRs admit every address: no from= restriction on the key lines. */
export function admitsEveryone(cidrs: string[]): boolean {
  return cidrs.includes('0.0.0.0/0') && cidrs.includes('::/0')
}

function pathIn(dir: string, file: string): string {
  const expanded = expandTilde(file)
  return isAbsolute(expanded) ? expanded : resolvePath(dir, expanded)
}

/** A pinned host key as the file gives it (a fingerprint, or a known_hosts / .pub line) → its SHA256 fingerprint. */
export function hostKeyFingerprint(raw: string, where: string): string {
  const fp = normalizeFingerprint(raw)
  if (fp) return fp
  // `[host] type base64 …` (known_hosts) or `type base64 …` (.pub)
  const words = raw.trim().split(/\s+/)
  const start = words.findIndex((w) => /^(ssh-|ecdsa-|sk-)/.test(w))
  if (start >= 0) {
    try {
      return parsePublicKey(words.slice(start, start + 2).join(' '), where).key.fingerprint
    } catch {
      // fall through to the error below
    }
  }
  throw inputError('CONFIG_HOST_KEY', `${where}: "${raw}" is neither a SHA256 fingerprint nor a host key line`, [
    'write the fingerprint as ssh-keygen -lf prints it: SHA256:… (43 base64 characters)',
  ])
}

/**
 * The flags the cloud's provider is opened with (src/config/cloud.ts, openCloud('manage', …)). AWS: --region. Azure:
 * --subscription (default AZURE_SUBSCRIPTION_ID) and the location (the provider's region hint); nothing else: the
 * Azure provider finds a bastion by its tags across the subscription, and the firewall, its resource group and the
 * public port by the tags create put on the VM (bastion:firewall, bastion:public-port), so the file's resourceGroup
 * and firewall are not flags of list / whitelist (--resource-group is a create flag; the seam would refuse it from the
 * command line of a manage command).
 */
function cloudOf(name: string, cloud: ConfigCloud): ResolvedCloud {
  const cloudName = cloud.name ?? name
  if (cloud.provider === 'aws') return {provider: 'aws', name: cloudName, flags: {region: cloud.region}}
  const flags: Record<string, string> = {}
  if (cloud.subscription) flags.subscription = cloud.subscription
  if (cloud.location) flags.location = cloud.location
  return {provider: cloud.provider, name: cloudName, flags}
}

/** The SSH port a cloud bastion is reached on at the address its cloud reports: an Azure firewall's public port (DNAT), else 22. */
function cloudSshPort(cloud: ConfigCloud): number | undefined {
  return cloud.provider === 'azure' && cloud.firewall ? cloud.firewall.publicPort : undefined
}

/** The vendors of the file, resolved (keys read and parsed); `only`: just these names. */
export function resolveVendors(loaded: LoadedConfig, only?: string[]): Map<string, ResolvedVendor> {
  const config = requireModel(loaded)
  const out = new Map<string, ResolvedVendor>()
  for (const [name, v] of Object.entries(config.vendors)) {
    if (only && only.length > 0 && !only.includes(name)) continue
    const cidrs = [...new Set(v.cidrs.map((c, i) => cidrOf(c, `vendors.${name}.cidrs[${i}]`)))]
    const keys = v.keys.map((raw, i) => {
      const entry = readVendorKey(loaded.dir, name, raw, i)
      const parsed = parsePublicKey(entry.text, entry.source)
      return {
        key: parsed.key,
        source: entry.source,
        ...(entry.expires ? {expires: entry.expires, expiryTime: expiryTimeOf(entry.expires)} : {}),
      }
    })
    const databases = v.databases.map((db) => {
      const d = config.databases[db]
      if (!d)
        throw inputError('CONFIG_REFERENCE', `${loaded.file}: vendors.${name}.databases names "${db}", which is not under databases:`, [
          `add it: databases: {${db}: {host: …, port: …}}`,
          `or remove it from vendors.${name}.databases`,
        ])
      const host = d.host.includes(':') && !d.host.startsWith('[') ? `[${d.host}]` : d.host
      return {name: db, target: parseHostPort(`${host}:${d.port}`, `databases.${db}`)}
    })
    out.set(name, {name, user: v.user ?? name, cidrs, from: admitsEveryone(cidrs) ? [] : cidrs, keys, databases})
  }
  return out
}

function requireModel(loaded: LoadedConfig): BastionConfig {
  const errors = loaded.issues.filter((i) => i.severity === 'error')
  if (!loaded.config || errors.length > 0) {
    const shown = errors.slice(0, 10).map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`)
    throw inputError(
      'CONFIG_INVALID',
      `${loaded.file} has ${errors.length} error(s); nothing was done:\n${shown.join('\n')}${errors.length > 10 ? `\n… and ${errors.length - 10} more` : ''}`,
      ['fix them (bastion config validate lists every one with its line and column), then run the command again'],
      {issues: errors},
    )
  }
  return loaded.config
}

/**
 * The bastions of the file (all, or those --bastion names), each with its vendors (all, or those --vendor names).
 * A --bastion or --vendor the file does not have is a usage error naming the ones it has.
 */
export function resolveConfig(loaded: LoadedConfig, opts: ResolveOptions = {}): ResolvedBastion[] {
  const config = requireModel(loaded)
  const names = Object.keys(config.bastions)
  for (const b of opts.bastions ?? [])
    if (!names.includes(b))
      throw inputError('CONFIG_BASTION', `--bastion ${b}: ${loaded.file} has no bastion of that name`, [
        names.length > 0 ? `bastions in the file: ${names.join(', ')}` : `the file lists no bastions: add one under bastions:`,
      ])
  const vendorNames = Object.keys(config.vendors)
  for (const v of opts.vendors ?? [])
    if (!vendorNames.includes(v))
      throw inputError('CONFIG_VENDOR', `--vendor ${v}: ${loaded.file} has no vendor of that name`, [
        vendorNames.length > 0 ? `vendors in the file: ${vendorNames.join(', ')}` : 'the file lists no vendors: add one under vendors:',
      ])
  const selected = opts.bastions && opts.bastions.length > 0 ? names.filter((n) => opts.bastions?.includes(n)) : names
  const vendors = resolveVendors(loaded)
  const out: ResolvedBastion[] = []
  for (const name of selected) {
    const b = config.bastions[name]
    if (!b) continue
    const ssh = b.ssh ?? {}
    if (!b.cloud && !ssh.host)
      throw inputError('CONFIG_HOST', `${loaded.file}: bastions.${name} has neither cloud nor ssh.host: there is no way to reach it`, [
        `bastions: {${name}: {ssh: {host: jump.example.com, user: admin}}}`,
      ])
    const connection: ConnectionFlagValues = {}
    if (ssh.host) connection.host = [ssh.host]
    if (ssh.user) connection.user = ssh.user
    if (ssh.port) connection.port = ssh.port
    // no ssh.host: the address is the cloud's (the firewall's public IP in Azure firewall mode), so is the port; the
    // firewall translates it to sshd's port 22 on the VM
    const dnatPort = !ssh.host && !ssh.port && b.cloud ? cloudSshPort(b.cloud) : undefined
    if (dnatPort !== undefined) connection.port = dnatPort
    if (ssh.identity) connection.identity = [pathIn(loaded.dir, ssh.identity)]
    if (ssh.jump) connection.jump = ssh.jump
    if (ssh.knownHosts) connection['known-hosts'] = [pathIn(loaded.dir, ssh.knownHosts)]
    if (ssh.hostKey) connection['host-key'] = [hostKeyFingerprint(ssh.hostKey, `bastions.${name}.ssh.hostKey`)]
    const onIt: ResolvedVendor[] = []
    for (const v of b.vendors) {
      if (opts.vendors && opts.vendors.length > 0 && !opts.vendors.includes(v)) continue
      const rv = vendors.get(v)
      if (!rv)
        throw inputError('CONFIG_REFERENCE', `${loaded.file}: bastions.${name}.vendors names "${v}", which is not under vendors:`, [
          `add the vendor under vendors:, or remove it from bastions.${name}.vendors`,
        ])
      onIt.push(rv)
    }
    const cloud = b.cloud ? cloudOf(name, b.cloud) : undefined
    out.push({
      name,
      ...(cloud ? {cloud, allowlist: onIt.map((v) => ({vendor: v.name, cidrs: v.cidrs}))} : {}),
      connection,
      ...(dnatPort !== undefined ? {sshdPort: 22} : {}),
      vendors: onIt,
    })
  }
  return out
}

/** Resolve, turning a key or reference problem into one usage error (exit 2) that names the file. */
export function resolveOrExplain(loaded: LoadedConfig, opts: ResolveOptions = {}): ResolvedBastion[] {
  try {
    return resolveConfig(loaded, opts)
  } catch (error) {
    if (error instanceof BastionError && !error.message.includes(loaded.file))
      throw new BastionError(error.code, `${loaded.file}: ${error.message}`, {exit: error.exit, suggestions: error.suggestions, detail: error.detail})
    throw error
  }
}
