/**
 * Where a cloud command meets its cloud: --cloud checked against the registry (an unknown or unbuilt cloud is a usage
 * error that says what to do), flags of another cloud refused, the cloud's module loaded. Commands reach a cloud only
 * through here; tests put their own cloud behind it with registerCloud (src/cloud/registry.ts).
 */
import type {Interfaces} from '@oclif/core'
import {inputError} from '../errors.js'
import {cloudEntry, cloudFlagNames, cloudsReading} from './registry.js'
import type {CloudModule, CloudProvider, FlagValues} from './provider.js'

export interface Cloud {
  name: string
  /** For people: "AWS". */
  title: string
  module: CloudModule
  /** The command's parsed flags: the module reads its own from them. */
  flags: FlagValues
}

/** The flags given on the command line (not from defaults), from oclif's parse output. */
export function givenFlags(raw: Interfaces.ParserOutput['raw']): string[] {
  return raw.flatMap((t) => (t.type === 'flag' ? [t.flag] : []))
}

/**
 * The cloud --cloud names, for a command of `scope` (create reads more flags than the others). `given`: the flags on
 * the command line; a flag only other clouds read is refused rather than silently ignored.
 */
export async function openCloud(scope: 'manage' | 'create', name: string, flags: FlagValues, given: string[]): Promise<Cloud> {
  const entry = cloudEntry(name)
  const cloudFlags = cloudFlagNames(scope)
  for (const flag of given) {
    if (!cloudFlags.has(flag)) continue
    const readers = cloudsReading(flag, scope)
    if (readers.includes(entry.name)) continue
    throw inputError('CLOUD_FLAG', `--${flag} is a flag of --cloud ${readers.join(' / ')}; --cloud ${entry.name} does not read it`, [`leave out --${flag}`], {
      cloud: entry.name,
      flag,
    })
  }
  return {name: entry.name, title: entry.title, module: await entry.load(), flags}
}

/** A provider for the cloud's account and region (the cloud's SDK is loaded when it first talks to the cloud). */
export function openProvider(cloud: Cloud): Promise<CloudProvider> {
  return cloud.module.open(cloud.flags)
}
