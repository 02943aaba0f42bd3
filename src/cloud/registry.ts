/**
 * The clouds bastion knows: `--cloud <name>` → the cloud's module, imported only when a command runs for that cloud
 * (a dynamic import: no other command loads it, and the module loads its SDK only when it talks to the cloud), and
 * the cloud's own flags, merged here into the cloud commands' flags because oclif must know every flag when it parses.
 *
 * Adding a cloud: its folder (src/cloud/<name>/: a CloudModule, its flags) and one entry below. Nothing here imports
 * an SDK.
 */
import {Flags, type Interfaces} from '@oclif/core'
import {inputError, internalError} from '../errors.js'
import {awsCreateFlags, awsFlags} from './aws/flags.js'
import {azureCreateFlags, azureFlags} from './azure/flags.js'
import type {CloudModule} from './provider.js'

export interface CloudEntry {
  /** The value of --cloud. */
  name: string
  /** For people: "AWS". */
  title: string
  /** Flags this cloud reads in every cloud command (and doctor --cloud). */
  flags: Interfaces.FlagInput
  /** Flags this cloud reads in create only. */
  createFlags: Interfaces.FlagInput
  load(): Promise<CloudModule>
}

/** A cloud people ask for that has no provider yet: --cloud <name> says so, and what to use meanwhile. */
interface UnbuiltCloud {
  name: string
  title: string
}

const BUILT_IN: CloudEntry[] = [
  {
    name: 'aws',
    title: 'AWS',
    flags: awsFlags,
    createFlags: awsCreateFlags,
    load: async () => (await import('./aws/provider.js')).awsCloud,
  },
  {
    name: 'azure',
    title: 'Azure',
    flags: azureFlags,
    createFlags: azureCreateFlags,
    load: async () => (await import('./azure/provider.js')).azureCloud,
  },
]

const UNBUILT: UnbuiltCloud[] = [
  {name: 'gcp', title: 'Google Cloud'},
]

const entries = new Map<string, CloudEntry>(BUILT_IN.map((e) => [e.name, e]))

/** One flag per name; a name several clouds read keeps the first's definition, the descriptions joined, the options united. */
function merge(sets: Interfaces.FlagInput[]): Interfaces.FlagInput {
  const out: Interfaces.FlagInput = {}
  for (const set of sets)
    for (const [name, flag] of Object.entries(set)) {
      const first = out[name]
      if (!first) {
        out[name] = flag
        continue
      }
      if (flag === first) continue
      const description = [first.description, flag.description].filter(Boolean).join(' ')
      const options = 'options' in first && Array.isArray(first.options) && 'options' in flag && Array.isArray(flag.options) ? {options: [...new Set([...first.options, ...flag.options])]} : {}
      out[name] = {...first, description, ...options} as typeof first
    }
  return out
}

/** Every built-in cloud's flags for the commands that work on a bastion (list, whitelist, destroy, doctor --cloud). */
export const providerFlags: Interfaces.FlagInput = merge(BUILT_IN.map((e) => e.flags))
/** … and for create. */
export const providerCreateFlags: Interfaces.FlagInput = merge(BUILT_IN.flatMap((e) => [e.flags, e.createFlags]))

/** The clouds, for people: "aws; not built yet: azure, gcp". */
export function knownClouds(): string {
  const unbuilt = UNBUILT.filter((u) => !entries.has(u.name)).map((u) => u.name)
  return `${[...entries.keys()].join(', ')}${unbuilt.length > 0 ? `; not built yet: ${unbuilt.join(', ')}` : ''}`
}

/** --cloud of the cloud commands. Any value parses: the seam says what is wrong with an unknown or unbuilt one. */
export const cloudFlag = Flags.string({
  description: `The cloud the bastion lives in: ${knownClouds()}.`,
  helpValue: '<cloud>',
  required: true,
})

/** The entry for --cloud <name>; an unbuilt or unknown cloud is a usage error (exit 2) that says what to do. */
export function cloudEntry(name: string): CloudEntry {
  const entry = entries.get(name)
  if (entry) return entry
  const builtIn = [...entries.keys()]
  const unbuilt = UNBUILT.find((u) => u.name === name)
  if (unbuilt)
    throw inputError(
      'CLOUD_NOT_BUILT',
      `--cloud ${name}: bastion cannot create or manage bastions on ${unbuilt.title} yet: no ${unbuilt.title} provider is built in (bastion knows ${builtIn.join(', ')})`,
      [
        ...builtIn.map((b) => `--cloud ${b}`),
        `or set up a Linux host on ${unbuilt.title} yourself and manage it over SSH, which needs no cloud provider: bastion add-vendor-key --host <host> …, bastion doctor --host <host> …`,
      ],
      {cloud: name},
    )
  throw inputError('CLOUD_UNKNOWN', `--cloud ${JSON.stringify(name)} is not a cloud bastion knows (${knownClouds()})`, builtIn.map((b) => `--cloud ${b}`), {cloud: name})
}

/** The cloud's name for people ("AWS"); the name itself for one bastion does not know. */
export function cloudTitle(name: string): string {
  return entries.get(name)?.title ?? UNBUILT.find((u) => u.name === name)?.title ?? name
}

/** The clouds whose flags include `flag`, for `scope`. */
export function cloudsReading(flag: string, scope: 'manage' | 'create'): string[] {
  return [...entries.values()].filter((e) => flag in e.flags || (scope === 'create' && flag in e.createFlags)).map((e) => e.name)
}

/** Every flag name some cloud reads, for `scope`. */
export function cloudFlagNames(scope: 'manage' | 'create'): Set<string> {
  return new Set([...entries.values()].flatMap((e) => [...Object.keys(e.flags), ...(scope === 'create' ? Object.keys(e.createFlags) : [])]))
}

/**
 * Add a cloud at run time (tests register their own provider through this). Its flags must be ones the commands
 * already have (a built-in cloud's): oclif fixed the commands' flags when they were loaded. Returns the undo.
 */
export function registerCloud(entry: CloudEntry): () => void {
  if (entries.has(entry.name)) throw internalError('CLOUD_REGISTERED', `a cloud named ${entry.name} is registered already`)
  const unknown = [...Object.keys(entry.flags), ...Object.keys(entry.createFlags)].filter((f) => !(f in providerCreateFlags))
  if (unknown.length > 0)
    throw internalError('CLOUD_FLAGS', `cloud ${entry.name} reads flags no command has (${unknown.join(', ')}): declare them in a built-in entry of src/cloud/registry.ts`)
  entries.set(entry.name, entry)
  return () => {
    entries.delete(entry.name)
  }
}
