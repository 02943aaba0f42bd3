/**
 * The flags `create` has on every cloud, validated once, at the edge, into a CreateRequest (the cloud's own flags are
 * its module's to parse). Each refusal says what is wrong and how to fix it (exit 2, nothing is created). Reads the
 * key files; talks to no cloud.
 */
import {inputError} from '../errors.js'
import {parseVendorName} from '../access/input.js'
import {parseExpires, parseHostPorts, todayUtc} from '../input/parse.js'
import {parsePublicKey} from '../access/keys.js'
import {readKeyText} from '../access/key-input.js'
import {planAdd} from '../access/service.js'
import {parseBastionName, parseWhitelistCidrs} from './whitelist.js'
import type {CreateRequest} from './provider.js'

export interface CreateFlags {
  name: string
  vendor?: string | undefined
  'vendor-ip'?: string[] | undefined
  'key-file'?: string | undefined
  key?: string | undefined
  db?: string[] | undefined
  expires?: string | undefined
  'admin-cidr'?: string[] | undefined
  'allow-anywhere'?: boolean | undefined
  'public-key-file'?: string | undefined
}

export async function parseCreateRequest(flags: CreateFlags): Promise<{request: CreateRequest<undefined>; warnings: string[]}> {
  const warnings: string[] = []
  const name = parseBastionName(flags.name)
  const allowAnywhere = flags['allow-anywhere'] === true

  const vendorIps = flags['vendor-ip'] ?? []
  let vendor: CreateRequest['vendor']
  if (flags.vendor !== undefined) {
    const v = parseVendorName(flags.vendor)
    if (vendorIps.length === 0)
      throw inputError('VENDOR_IP_MISSING', `give the addresses ${v} connects from: the security group admits only them`, [
        `--vendor-ip 52.6.1.1/32 (repeat it, or comma-separate, for each address in ${v}'s docs)`,
      ])
    const parsed = parseWhitelistCidrs(vendorIps, '--vendor-ip', allowAnywhere)
    warnings.push(...parsed.warnings)
    vendor = {vendor: v, cidrs: parsed.cidrs}
  } else if (vendorIps.length > 0) {
    throw inputError('VENDOR_MISSING', '--vendor-ip needs --vendor: each rule is described with the vendor it is for', ['--vendor hevo --vendor-ip 52.6.1.1/32'])
  }
  const admin = parseWhitelistCidrs(flags['admin-cidr'] ?? [], '--admin-cidr', allowAnywhere)
  warnings.push(...admin.warnings)

  const permitOpen = parseHostPorts(flags.db ?? [])
  const keyFile = flags['key-file']
  const keyText = flags.key
  let vendorKey: CreateRequest['vendorKey']
  if (keyFile !== undefined || keyText !== undefined) {
    if (keyFile !== undefined && keyText !== undefined)
      throw inputError('KEY_TWICE', 'give the vendor key once: --key-file or --key, not both', ['--key-file hevo.pub'])
    if (!vendor) throw inputError('VENDOR_MISSING', '--key-file needs --vendor (the user to create) and --vendor-ip', ['--vendor hevo --vendor-ip 52.6.1.1/32 --key-file hevo.pub'])
    if (permitOpen.length === 0)
      throw inputError('PERMIT_OPEN_MISSING', "the vendor's key needs --db: the database its tunnel may reach (and nothing else)", ['--db 10.0.1.5:5432'])
    const parsed = keyText !== undefined ? parsePublicKey(keyText, '--key') : parsePublicKey(await readKeyText(keyFile as string, '--key-file'), keyFile)
    warnings.push(...parsed.warnings)
    const expiry = flags.expires === undefined ? undefined : parseExpires(flags.expires)
    vendorKey = planAdd({
      vendor: vendor.vendor,
      key: parsed.key,
      permitOpen,
      ...(expiry ? {expiryTime: expiry.expiryTime} : {}),
      today: todayUtc(),
    })
  } else if (flags.expires !== undefined) {
    throw inputError('EXPIRES_WITHOUT_KEY', '--expires applies to the vendor key: give --key-file too', [])
  }

  let adminKey: CreateRequest['adminKey']
  const adminKeyFile = flags['public-key-file']
  if (adminKeyFile !== undefined) {
    const parsed = parsePublicKey(await readKeyText(adminKeyFile, '--public-key-file'), adminKeyFile)
    warnings.push(...parsed.warnings)
    adminKey = {key: parsed.key, source: adminKeyFile}
  }

  const request: CreateRequest<undefined> = {
    name,
    ...(vendor ? {vendor} : {}),
    ...(vendorKey ? {vendorKey} : {}),
    permitOpen,
    adminCidrs: admin.cidrs,
    allowAnywhere,
    ...(adminKey ? {adminKey} : {}),
    options: undefined,
  }
  return {request, warnings}
}
