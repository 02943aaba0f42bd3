/**
 * A build-time oclif manifest, kept without a build step. Without `oclif.manifest.json`, oclif imports every
 * command class (and so ssh2, listr2, chalk …) on every start — even for `--version` and `--help` — to learn
 * their flags. bin/run.js installs this cache: the first run after a build lets oclif compute the manifest as usual
 * and saves it next to the compiled code (`dist/oclif.manifest.json`); later runs hand it to oclif, which then imports
 * only the command being run. The cache is keyed on the newest modification time under the compiled sources (and
 * package.json), so a rebuild — `rm -rf dist` or an incremental tsc — makes it be computed again. Only bin/run.js
 * uses it; an `oclif.manifest.json` at the package root (made by `oclif manifest` when packing) still wins, and
 * BASTION_NO_MANIFEST_CACHE=1 turns it off.
 */
import {existsSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, type Dirent} from 'node:fs'
import {dirname, join, resolve} from 'node:path'

export interface OclifManifest {
  version: string
  commands: Record<string, unknown>
}

interface CachedManifest extends OclifManifest {
  /** What the manifest was computed from; a different stamp means a different build. */
  bastionCache?: {stamp: string}
}

/**
 * The newest mtime (ms) of `dir`, the directories under it and the `.js` files in them; 0 when it does not exist.
 * Walked one directory at a time: readdirSync's `recursive` option costs some 15 ms more at start-up (every command).
 */
export function newestMtime(dir: string): number {
  let newest = 0
  try {
    newest = statSync(dir).mtimeMs
  } catch {
    return newest
  }
  let entries: Dirent[]
  try {
    entries = readdirSync(dir, {withFileTypes: true})
  } catch {
    return newest
  }
  for (const e of entries) {
    let m = 0
    if (e.isDirectory()) m = newestMtime(join(dir, e.name))
    else if (e.name.endsWith('.js'))
      try {
        m = statSync(join(dir, e.name)).mtimeMs
      } catch {
        // removed meanwhile: the next run sees the new state
      }
    if (m > newest) newest = m
  }
  return newest
}

export interface CacheLocation {
  /** Where the cached manifest lives. */
  file: string
  /** The compiled sources the commands import (walked for the stamp). */
  sourceDir: string
}

/** For commands in `<root>/<out>/src/commands`: the cache is `<root>/<out>/oclif.manifest.json`, the stamp covers `<out>/src`. */
export function cacheLocation(root: string, commandsDir: string): CacheLocation {
  const commands = resolve(root, commandsDir)
  const sourceDir = dirname(commands)
  return {file: join(dirname(sourceDir), 'oclif.manifest.json'), sourceDir}
}

export function buildStamp(root: string, loc: CacheLocation, version: string, commandsDir: string): string {
  let pjson = 0
  try {
    pjson = statSync(join(root, 'package.json')).mtimeMs
  } catch {}
  return `${version} ${commandsDir} ${newestMtime(loc.sourceDir)} ${pjson}`
}

export function readCachedManifest(file: string, stamp: string): OclifManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as CachedManifest
    if (m.bastionCache?.stamp !== stamp || typeof m.commands !== 'object' || m.commands === null) return undefined
    return m
  } catch {
    return undefined
  }
}

/** Write atomically (a temporary file, then rename): concurrent first runs each write a whole file. */
export function writeCachedManifest(file: string, manifest: OclifManifest, stamp: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    writeFileSync(tmp, JSON.stringify({...manifest, bastionCache: {stamp}}))
    renameSync(tmp, file)
    return true
  } catch {
    try {
      unlinkSync(tmp)
    } catch {}
    return false
  }
}

/** The parts of oclif's Plugin this relies on (its `_manifest()` is private in the type declarations). */
interface PluginInternals {
  isRoot: boolean
  root: string
  version: string
  hasManifest: boolean
  commandIDs: string[]
  pjson: {oclif?: {commands?: unknown}}
  options?: {ignoreManifest?: boolean}
  _manifest(): Promise<OclifManifest>
}

/**
 * Make oclif's root plugin read its manifest from the cache (and fill the cache when it computes one).
 * `PluginClass` is @oclif/core's Plugin. Does nothing when oclif's internals are not as expected.
 */
export function installManifestCache(PluginClass: unknown): boolean {
  const proto = (PluginClass as {prototype?: Partial<PluginInternals>} | undefined)?.prototype
  const original = proto?._manifest
  if (!proto || typeof original !== 'function') return false
  proto._manifest = async function (this: PluginInternals): Promise<OclifManifest> {
    const commandsDir = this.pjson.oclif?.commands
    if (
      !this.isRoot ||
      this.options?.ignoreManifest ||
      typeof commandsDir !== 'string' ||
      existsSync(join(this.root, 'oclif.manifest.json')) ||
      process.env.BASTION_NO_MANIFEST_CACHE
    ) {
      return original.call(this)
    }
    const loc = cacheLocation(this.root, commandsDir)
    const stamp = buildStamp(this.root, loc, this.version, commandsDir)
    const cached = readCachedManifest(loc.file, stamp)
    if (cached) {
      this.hasManifest = true
      this.commandIDs = Object.keys(cached.commands)
      return cached
    }
    const computed = await original.call(this)
    // Save only a complete manifest: a command that failed to load is left out of it (oclif warns), and must be retried.
    if (Object.keys(computed.commands).length > 0 && Object.keys(computed.commands).length === this.commandIDs.length) {
      writeCachedManifest(loc.file, computed, stamp)
    }
    return computed
  }
  return true
}
