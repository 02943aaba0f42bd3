/**
 * `bastion create --config <file> --bastion <name>`: a cloud bastion of the file as the create flags it stands for.
 * The file says the cloud (--cloud), the bastion's cloud name (--name), the cloud's settings (AWS: --region; Azure:
 * --subscription, --location, --resource-group, and --firewall / --firewall-resource-group / --public-port, or
 * --public-ip when it names no firewall) and the vendor set up at creation (--vendor, or the bastion's only vendor):
 * its CIDRs (--vendor-ip), its first key (--key, with its expiry as --expires) and its databases (--db). Flags the file
 * does not hold (--subnet, --public-key-file, --size, --admin-cidr, --dry-run …) still come from the command line; a flag
 * the file already decides is refused beside --config. Reads the file and the key files it names; no network.
 */
import {inputError} from '../errors.js'
import {checkedConfig, type ConfigFlagValues} from './flags.js'
import {configPath} from './load.js'
import {resolveOrExplain, type ResolvedKey} from './resolve.js'

/** The create flags the file decides in config mode: refused beside --config/--bastion. */
export const CREATE_FLAGS_FROM_FILE = [
  'cloud',
  'name',
  'region',
  'subscription',
  'location',
  'resource-group',
  'firewall',
  'firewall-resource-group',
  'public-port',
  'public-ip',
  'vendor-ip',
  'key-file',
  'key',
  'db',
  'expires',
] as const

/** The values config mode gives create, in the shape oclif parses them (merged over the command line's). */
export interface CreateFlagsFromFile {
  cloud: string
  name: string
  vendor?: string
  'vendor-ip'?: string[]
  key?: string
  expires?: string
  db?: string[]
  region?: string
  subscription?: string
  location?: string
  'resource-group'?: string
  firewall?: string
  'firewall-resource-group'?: string
  'public-port'?: number
  'public-ip'?: boolean
}

/** A key as authorized_keys / --key write it. */
function keyText(k: ResolvedKey): string {
  return `${k.key.type} ${k.key.base64}${k.key.comment ? ` ${k.key.comment}` : ''}`
}

/**
 * The create flags one cloud bastion of the config file stands for, and the file's warnings (lint) plus this mapping's.
 * `given`: the flags on the command line (src/cloud/seam.ts givenFlags); `vendor`: --vendor, choosing among the
 * bastion's vendors.
 */
export async function createFlagsFromConfig(
  flags: ConfigFlagValues & {vendor?: string | undefined},
  given: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{flags: CreateFlagsFromFile; warnings: string[]; file: string}> {
  const clash = given.filter((f) => (CREATE_FLAGS_FROM_FILE as readonly string[]).includes(f))
  if (clash.length > 0) {
    const list = [...new Set(clash)].map((f) => `--${f}`).join(', ')
    throw inputError('CONFIG_AND_FLAGS', `${list}: with --config/--bastion the file decides that (the bastion's cloud: section and its vendor); give one or the other`, [
      `with --config: leave out ${list}, and change the file if its value is not what you want`,
      `without --config: leave out --config and --bastion and give --cloud, --name and ${list}`,
    ])
  }
  const {loaded, warnings} = await checkedConfig(configPath(flags.config, env))
  const config = loaded.config
  const chosen = flags.bastion ?? []
  if (chosen.length !== 1)
    throw inputError('CONFIG_ONE_BASTION', `create makes one bastion: give --bastion <name> once (${chosen.length} given)`, [
      `--config ${loaded.file} --bastion <name>${config ? ` (bastions in the file: ${Object.keys(config.bastions).join(', ') || 'none'})` : ''}`,
    ])
  const [b] = resolveOrExplain(loaded, {bastions: chosen})
  const raw = config?.bastions[chosen[0] as string]?.cloud
  if (!b?.cloud || !raw)
    throw inputError('CONFIG_NOT_CLOUD', `bastions.${chosen[0]} in ${loaded.file} has no cloud: section; create makes cloud bastions only (AWS, Azure)`, [
      `to create it, give it a cloud: bastions: {${chosen[0]}: {cloud: {provider: aws, region: eu-west-1}}}`,
      'a plain host you set up yourself: manage it with bastion apply --config … / add-vendor-key --config … --bastion …',
    ])

  const out: CreateFlagsFromFile = {cloud: b.cloud.provider, name: b.cloud.name}
  if (raw.provider === 'aws') out.region = raw.region
  else {
    if (raw.subscription) out.subscription = raw.subscription
    if (raw.location) out.location = raw.location
    out['resource-group'] = raw.resourceGroup
    if (raw.firewall) {
      out.firewall = raw.firewall.name
      if (raw.firewall.resourceGroup) out['firewall-resource-group'] = raw.firewall.resourceGroup
      out['public-port'] = raw.firewall.publicPort
    } else out['public-ip'] = true
  }

  const names = b.vendors.map((v) => v.name)
  let vendorName = flags.vendor
  if (vendorName !== undefined && !names.includes(vendorName))
    throw inputError('CONFIG_VENDOR', `--vendor ${vendorName}: bastions.${b.name} in ${loaded.file} does not list that vendor`, [
      names.length > 0 ? `vendors of ${b.name}: ${names.join(', ')}` : `bastions.${b.name} lists no vendors: add one under its vendors:, or leave out --vendor`,
    ])
  if (vendorName === undefined && names.length > 1)
    throw inputError('CONFIG_VENDOR_CHOICE', `bastions.${b.name} lists ${names.length} vendors (${names.join(', ')}): say which one create sets up with --vendor`, [
      ...names.map((n) => `--vendor ${n}`),
      `the others: bastion apply --config ${loaded.file} --bastion ${b.name} once the bastion runs`,
    ])
  vendorName ??= names[0]
  const vendor = b.vendors.find((v) => v.name === vendorName)
  if (vendor) {
    out.vendor = vendor.name
    out['vendor-ip'] = vendor.cidrs
    if (vendor.databases.length > 0) out.db = vendor.databases.map((d) => d.target.text)
    const [first, ...more] = vendor.keys
    if (first && vendor.user !== vendor.name)
      warnings.push(
        `vendors.${vendor.name}.user is ${vendor.user}: create sets a vendor's key up for the user named after the vendor, so it sets up no key; bastion apply --config ${loaded.file} --bastion ${b.name} adds it once the bastion runs`,
      )
    else if (first) {
      out.key = keyText(first)
      if (first.expires) out.expires = first.expires
      if (more.length > 0)
        warnings.push(`vendors.${vendor.name} has ${vendor.keys.length} keys: create sets up the first (${first.source}); bastion apply --config ${loaded.file} --bastion ${b.name} adds the others`)
    }
  }
  return {flags: out, warnings, file: loaded.file}
}
