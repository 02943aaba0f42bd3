/**
 * `--config <file>` and `--bastion <name>` on every command that logs in to bastions (add-vendor-key, remove-vendor-key,
 * list-vendor-keys, doctor, apply …): the bastions of the config file instead of the connection flags. One flag set,
 * and one mapping from it to the hosts with the connection options each bastion's `ssh:` section says.
 *
 * Config mode is on when --config or --bastion is given (--bastion alone reads BASTION_CONFIG, else ./bastion.yml).
 * The connection flags that say where and how to log in (--host, --user, --port, --identity, --jump, --known-hosts,
 * --host-key, --ssh-config) are refused beside it: the file says that, and two answers to one question are a mistake.
 * The flags about how long to wait and how many at once (--connect-timeout, --command-timeout, --concurrency,
 * --accept-new) still apply.
 */
import {Flags} from '@oclif/core'
import type {HostItem} from '../base-command.js'
import {knownClouds, cloudFlagNames} from '../cloud/registry.js'
import type {Cloud} from '../cloud/seam.js'
import {openCloud} from '../cloud/seam.js'
import {parseBastionName} from '../cloud/whitelist.js'
import {cloudAddress, cloudOf} from './cloud.js'
import {asBastionError, inputError, type ErrorJson} from '../errors.js'
import {requireHosts, toConnectionOptions, withConnectionEnv, type ConnectionFlagValues} from '../ssh/flags.js'
import {lintConfig} from './lint.js'
import {configPath, loadConfigFile, type LoadedConfig} from './load.js'
import {resolveOrExplain, type ResolvedBastion, type ResolvedCloud} from './resolve.js'

export const configFlags = {
  bastion: Flags.string({
    description: 'A bastion of the config file (a name under bastions:) to work on, instead of --host; repeatable. Default with --config: every bastion. Reads --config, else BASTION_CONFIG, else ./bastion.yml.',
    helpValue: '<name>',
    multiple: true,
  }),
  config: Flags.string({
    description: 'Work on the bastions of this config file (bastion.yml): each bastion\'s ssh: section says how to log in, instead of --host, --user, --identity, --known-hosts … Default file for --bastion: BASTION_CONFIG, else ./bastion.yml.',
    helpValue: '<file>',
  }),
}

export interface ConfigFlagValues {
  config?: string
  bastion?: string[]
}

/** The connection flags that say where and how to log in: the config file says that in config mode. */
export const TARGET_FLAGS = ['host', 'user', 'port', 'identity', 'jump', 'known-hosts', 'host-key', 'ssh-config'] as const

/** --config or --bastion was given. */
export function configMode(flags: ConfigFlagValues): boolean {
  return flags.config !== undefined || (flags.bastion ?? []).length > 0
}

/**
 * Refuse connection flags (and `also`: other flags the file answers, such as --cloud) beside --config/--bastion.
 * `given`: the flags on the command line (src/cloud/seam.ts givenFlags).
 */
export function refuseWithConfig(given: string[], also: string[] = []): void {
  const clash = given.filter((f) => (TARGET_FLAGS as readonly string[]).includes(f) || also.includes(f))
  if (clash.length === 0) return
  const list = [...new Set(clash)].map((f) => `--${f}`).join(', ')
  throw inputError('CONFIG_AND_FLAGS', `${list} and --config/--bastion both say which bastion to work on and how to reach it; give one or the other`, [
    'with --config: choose bastions with --bastion <name>; the file\'s ssh: section says how to log in',
    `without --config: leave out --config and --bastion and give ${list}`,
  ])
}

/**
 * Load the file and judge it as `config validate` does (schema, then src/config/lint.ts): an error refuses the command
 * before anything is touched (exit 2, each issue with its line and column); warnings come back for the command to show.
 */
export async function checkedConfig(file: string): Promise<{loaded: LoadedConfig; warnings: string[]}> {
  const loaded = await loadConfigFile(file)
  const issues = [...loaded.issues, ...lintConfig(loaded)]
  const errors = issues.filter((i) => i.severity === 'error')
  if (errors.length > 0) {
    const shown = errors.slice(0, 10).map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`)
    throw inputError(
      'CONFIG_INVALID',
      `${loaded.file} has ${errors.length} error(s); nothing was done:\n${shown.join('\n')}${errors.length > 10 ? `\n… and ${errors.length - 10} more` : ''}`,
      [`fix them: bastion config validate --config ${loaded.file} lists every one with its line, column and how to fix it`],
      {issues: errors},
    )
  }
  return {loaded, warnings: issues.filter((i) => i.severity === 'warning').map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`)}
}

/** Load the file config mode reads (checkedConfig), and resolve the bastions (and vendors) asked for. */
export async function loadSelected(
  flags: ConfigFlagValues & {vendor?: string | string[]},
  env: NodeJS.ProcessEnv = process.env,
): Promise<{loaded: LoadedConfig; bastions: ResolvedBastion[]; warnings: string[]}> {
  const {loaded, warnings} = await checkedConfig(configPath(flags.config, env))
  const vendors = flags.vendor === undefined ? [] : Array.isArray(flags.vendor) ? flags.vendor : [flags.vendor]
  const bastions = resolveOrExplain(loaded, {bastions: flags.bastion ?? [], vendors})
  if (bastions.length === 0)
    throw inputError('CONFIG_NO_BASTIONS', `${loaded.file} lists no bastions: nothing to work on`, ['add one under bastions: (see examples/bastion.yml)'])
  return {loaded, bastions, warnings}
}

/**
 * The hosts of the bastions with each one's connection options: the file's `ssh:` section over `base` (the command's
 * timeouts, --accept-new). A cloud bastion without ssh.host is asked of its cloud (`address`, injectable for tests).
 */
export async function bastionHosts(
  bastions: ResolvedBastion[],
  base: ConnectionFlagValues,
  address: (cloud: ResolvedCloud) => Promise<string> = cloudAddress,
): Promise<HostItem[]> {
  const out: HostItem[] = []
  for (const b of bastions) {
    const kept: ConnectionFlagValues = {}
    for (const k of ['accept-new', 'connect-timeout', 'command-timeout'] as const) if (base[k] !== undefined) (kept as Record<string, unknown>)[k] = base[k]
    const flags: ConnectionFlagValues = {...kept, ...b.connection}
    const host = flags.host?.[0] ?? (b.cloud ? await address(b.cloud) : undefined)
    if (!host) throw inputError('CONFIG_HOST', `bastions.${b.name}: no ssh.host and no cloud to ask for the address`, [`bastions: {${b.name}: {ssh: {host: …}}}`])
    out.push({label: b.name, host, options: toConnectionOptions({...flags, host: [host]})})
  }
  return out
}

/**
 * Every bastion's host, all asked at once, in the file's order; a bastion whose address cannot be found (its cloud
 * does not know it, no ssh.host) is reported in `unreachable` instead of failing the others.
 */
export async function reachableBastionHosts(
  bastions: ResolvedBastion[],
  base: ConnectionFlagValues,
): Promise<{items: HostItem[]; unreachable: Map<string, ErrorJson>}> {
  const items: HostItem[] = []
  const unreachable = new Map<string, ErrorJson>()
  await Promise.all(
    bastions.map(async (b) => {
      try {
        items.push(...(await bastionHosts([b], base)))
      } catch (error) {
        unreachable.set(b.name, asBastionError(error).toJSON())
      }
    }),
  )
  items.sort((a, b) => bastions.findIndex((x) => x.name === a.label) - bastions.findIndex((x) => x.name === b.label))
  return {items, unreachable}
}

/**
 * The hosts a host command works on: with --config/--bastion the file's bastions (connection flags refused beside
 * them), otherwise --host (or BASTION_HOST) with the connection flags. `given`: the flags on the command line.
 */
export async function commandHosts(flags: ConnectionFlagValues & ConfigFlagValues, given: string[]): Promise<(string | HostItem)[]> {
  if (!configMode(flags)) return requireHosts(withConnectionEnv(flags))
  refuseWithConfig(given)
  const {bastions} = await loadSelected({...(flags.config === undefined ? {} : {config: flags.config}), bastion: flags.bastion ?? []})
  return bastionHosts(bastions, flags)
}

/**
 * --cloud for list, whitelist and destroy when --config/--bastion may stand in for it: not required by oclif, checked by
 * cloudBastion. (The cloud's own flags and --name come from src/cloud/flags.ts and the command.)
 */
export const optionalCloudFlag = Flags.string({
  description: `The cloud the bastion lives in: ${knownClouds()}. Not with --config/--bastion (the file says it).`,
  helpValue: '<cloud>',
})

export const optionalNameFlag = Flags.string({
  description: 'The bastion\'s name: 1-63 lower-case letters, digits and "-" (its bastion:name tag). Not with --config/--bastion (the file says it).',
  helpValue: '<name>',
})

/**
 * The cloud and bastion name a cloud command works on: --cloud and --name (and the cloud's own flags), or one cloud
 * bastion of the config file (--bastion, with --config or BASTION_CONFIG). `needsName`: the command works on one
 * bastion (whitelist, destroy), not on every bastion of the cloud (list).
 */
export async function cloudBastion(
  flags: ConfigFlagValues & {cloud?: string; name?: string} & Record<string, unknown>,
  given: string[],
  needsName: boolean,
): Promise<{cloud: Cloud; name?: string}> {
  if (!configMode(flags)) {
    if (!flags.cloud)
      throw inputError('CLOUD_MISSING', 'which cloud? give --cloud (or --config with --bastion: a cloud bastion of the config file)', [
        '--cloud aws --name warehouse-jump',
        '--config bastion.yml --bastion warehouse-jump',
      ])
    if (needsName && !flags.name) throw inputError('NAME_MISSING', `--cloud ${flags.cloud} needs --name: the bastion to work on`, ['--name warehouse-jump'])
    return {cloud: await openCloud('manage', flags.cloud, flags, given), ...(flags.name ? {name: parseBastionName(flags.name)} : {})}
  }
  refuseWithConfig(given, ['cloud', 'name', ...cloudFlagNames('manage')])
  const {loaded} = await checkedConfig(configPath(flags.config))
  const chosen = flags.bastion ?? []
  if (chosen.length !== 1)
    throw inputError('CONFIG_ONE_BASTION', `this command works on one cloud bastion: give --bastion <name> once (${chosen.length} given)`, [
      `--config ${loaded.file} --bastion <name>`,
    ])
  const [b] = resolveOrExplain(loaded, {bastions: chosen})
  if (!b?.cloud)
    throw inputError('CONFIG_NOT_CLOUD', `bastions.${chosen[0]} in ${loaded.file} has no cloud: section; this command works on cloud bastions`, [
      'for a plain host, use the host commands: bastion list-vendor-keys --config … --bastion …',
    ])
  return {cloud: await cloudOf(b.cloud), name: b.cloud.name}
}
