/**
 * The public keys a config file lists: inline (`- ssh-ed25519 AAAA…` or `key:`) or by path (`file:`, relative to the
 * config file's directory, `~` expanded). Read with the same size cap as --key-file. Parsing and judging the key is
 * src/access/keys.ts's parsePublicKey, as for flags.
 */
import {isAbsolute, resolve} from 'node:path'
import {BastionError, inputError} from '../errors.js'
import {expandTilde} from '../input/parse.js'
import {KEY_FILE_MAX_BYTES, readLimited} from '../input/file.js'
import type {ConfigKey, ConfigVendor} from './schema.js'

export interface ConfigKeyEntry {
  /** Index in the vendor's `keys` list. */
  index: number
  /** The key's text (one line, as given or as read from the file). */
  text: string
  /** For messages: `vendors.hevo.keys[0]` or `keys/hevo.pub`. */
  source: string
  /** The key file, when given by path (absolute). */
  file?: string
  expires?: string
}

/** A key entry in its one shape, whichever of the two forms the file used. */
export function keyEntry(raw: string | ConfigKey): ConfigKey {
  return typeof raw === 'string' ? {key: raw} : raw
}

/** The absolute path of a `file:` key (relative to the config file's directory). */
export function keyFilePath(dir: string, file: string): string {
  const expanded = expandTilde(file)
  return isAbsolute(expanded) ? expanded : resolve(dir, expanded)
}

/**
 * The text of each of a vendor's keys. A key with both or neither of `key` and `file`, or an unreadable file, throws a
 * BastionError (exit 2) naming it; src/config/lint.ts turns those into issues at the key's position.
 */
export function readVendorKey(dir: string, vendor: string, raw: string | ConfigKey, index: number): ConfigKeyEntry {
  const entry = keyEntry(raw)
  const source = `vendors.${vendor}.keys[${index}]`
  if (entry.file !== undefined) {
    const file = keyFilePath(dir, entry.file)
    let text: string
    try {
      text = readLimited(file, {label: `${source} file ${entry.file}`, holds: 'a public key (one line of a few KB)', maxBytes: KEY_FILE_MAX_BYTES, regularOnly: true})
        .toString('utf8')
    } catch (error) {
      if (error instanceof BastionError) throw error
      const code = (error as NodeJS.ErrnoException).code
      throw inputError(
        'CONFIG_KEY_FILE',
        `${source}: the key file ${entry.file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (error as Error).message})`}`,
        [code === 'ENOENT' ? `fix the path (relative to the config file: ${file}), or add the vendor's .pub file there` : `check its permissions: ls -l ${file}`],
      )
    }
    return withExpiry({index, text, source: entry.file, file}, entry.expires)
  }
  return withExpiry({index, text: entry.key ?? '', source}, entry.expires)
}

function withExpiry(read: ConfigKeyEntry, expires: string | undefined): ConfigKeyEntry {
  if (expires !== undefined) read.expires = expires
  return read
}

/** Every key of a vendor, in file order. */
export function readVendorKeys(dir: string, name: string, vendor: ConfigVendor): ConfigKeyEntry[] {
  return vendor.keys.map((raw, i) => readVendorKey(dir, name, raw, i))
}
