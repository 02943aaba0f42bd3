/**
 * A cloud bastion of the config file meets its cloud here, only through the seam (src/cloud/seam.ts): its address
 * (when the file gives no ssh.host) and its allowlist (the provider's whitelist view). No cloud is named here.
 */
import {openCloud, openProvider, type Cloud} from '../cloud/seam.js'
import type {WhitelistView} from '../cloud/provider.js'
import {inputError, internalError} from '../errors.js'
import type {ResolvedBastion, ResolvedCloud} from './resolve.js'

/** The cloud a bastion of the file lives in. */
export function cloudOf(cloud: ResolvedCloud): Promise<Cloud> {
  return openCloud('manage', cloud.provider, cloud.flags, [])
}

/** Where a cloud bastion without ssh.host is reached: its public address as the cloud reports it (list). */
export async function cloudAddress(cloud: ResolvedCloud): Promise<string> {
  const provider = await openProvider(await cloudOf(cloud))
  const info = (await provider.list()).find((b) => b.name === cloud.name)
  const ip = info?.address.publicIp
  if (!ip)
    throw inputError(
      'CONFIG_NO_ADDRESS',
      info
        ? `the ${cloud.provider} bastion ${cloud.name} has no public address (state: ${info.state}), and the config gives no ssh.host`
        : `no ${cloud.provider} bastion named ${cloud.name} was found (${Object.entries(cloud.flags).map(([k, v]) => `${k} ${v}`).join(', ')})`,
      ['give the address to connect to in the file: ssh: {host: <address>}', `check the bastion exists: bastion list --cloud ${cloud.provider}`],
    )
  return ip
}

/** The rules in front of a cloud bastion's SSH port, as its provider's whitelist view shows them. */
export async function observeAllowlist(bastion: ResolvedBastion): Promise<WhitelistView> {
  if (!bastion.cloud) throw internalError('CONFIG_NOT_CLOUD', `bastions.${bastion.name} is not a cloud bastion`)
  const provider = await openProvider(await cloudOf(bastion.cloud))
  return provider.whitelistList(bastion.cloud.name, (bastion.allowlist ?? []).flatMap((a) => a.cidrs))
}
