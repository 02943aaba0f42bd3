/**
 * The checks of `bastion.yml` a schema cannot make, over the parsed model (src/config/load.ts): CIDRs valid and not too
 * wide, keys parse and are strong enough and belong to one vendor once, expiry dates exist and are not past, names
 * refer to what exists, Linux users are valid and one per vendor, plain hosts say where they are, nothing is left
 * unused. Pure: the clock and the reading of key files are passed in; no network. Each problem is a ConfigIssue with a
 * stable code (src/config/rules.ts, docs/config.md) at the line and column of the value it is about.
 */
import {parseVendorName} from '../access/input.js'
import {parsePublicKey} from '../access/keys.js'
import {BastionError} from '../errors.js'
import {checkSourceWidth, parseCidr, parseExpires, parseHostPort, sourceWidth} from '../input/parse.js'
import {closestCommand} from '../input/suggest.js'
import {keyEntry, readVendorKey, type ConfigKeyEntry} from './keys.js'
import type {ConfigIssue, ConfigPath, LoadedConfig} from './load.js'
import {CONFIG_RULES, type ConfigRuleCode} from './rules.js'
import type {ConfigKey} from './schema.js'

/** A key expiring within this many days is warned about (expiry.soon). */
export const EXPIRY_WARN_DAYS = 14

/** How the linter reads a vendor's key (readVendorKey; tests hand in a fake). */
export type KeyReader = (dir: string, vendor: string, raw: string | ConfigKey, index: number) => ConfigKeyEntry

const WEAK_KEY_CODES = new Set(['KEY_DSA', 'KEY_RSA_TOO_SHORT', 'KEY_CERT', 'KEY_TYPE_UNSUPPORTED'])

/** The lint issues of a loaded config, in file order (none when the file did not parse or match the schema). */
export function lintConfig(loaded: LoadedConfig, now: Date = new Date(), readKey: KeyReader = readVendorKey): ConfigIssue[] {
  const config = loaded.config
  if (!config) return []
  const issues: ConfigIssue[] = []
  const add = (code: ConfigRuleCode, path: ConfigPath, message: string, opts: {suggestion?: string; which?: 'value' | 'key'; severity?: 'error' | 'warning'} = {}) => {
    const rule = CONFIG_RULES[code]
    const suggestion = opts.suggestion ?? rule.help
    issues.push({severity: opts.severity ?? rule.severity, code, message, path, file: loaded.file, ...loaded.locate(path, opts.which ?? 'value'), suggestion})
  }
  const databaseNames = Object.keys(config.databases)
  const vendorNames = Object.keys(config.vendors)

  // ---------------------------------------------------------------------------------------------------- databases
  for (const [name, db] of Object.entries(config.databases)) {
    try {
      parseHostPort(db.host.includes(':') && !db.host.startsWith('[') ? `[${db.host}]:${db.port}` : `${db.host}:${db.port}`, `databases.${name}`)
    } catch (error) {
      if (!(error instanceof BastionError)) throw error
      add('database.address', ['databases', name, 'host'], error.message, {suggestion: error.suggestions[0]})
    }
  }

  // ------------------------------------------------------------------------------------------------------ vendors
  /** Fingerprint → the first vendor and key that has it (key.shared across vendors, key.duplicate within one). */
  const keyOwner = new Map<string, {vendor: string; index: number}>()
  /** Linux user → the first vendor mapped to it. */
  const userOwner = new Map<string, string>()
  const usedDatabases = new Set<string>()
  for (const [name, vendor] of Object.entries(config.vendors)) {
    const base: ConfigPath = ['vendors', name]

    // The Linux user: valid, not a system account, one vendor each.
    const user = vendor.user ?? name
    const userPath: ConfigPath = vendor.user === undefined ? base : [...base, 'user']
    const userWhich = vendor.user === undefined ? 'key' : 'value'
    let userValid = true
    try {
      parseVendorName(user)
    } catch (error) {
      if (!(error instanceof BastionError)) throw error
      userValid = false
      const reserved = error.code === 'VENDOR_RESERVED'
      add(reserved ? 'user.reserved' : 'user.invalid', userPath, `vendor ${name}: ${error.message.replace(/--vendor/g, 'user:')}`, {
        which: userWhich,
        ...(reserved ? {suggestion: `give the vendor an account of its own: user: ${name === user ? `${name}-vendor` : name}`} : {}),
      })
    }
    const other = userOwner.get(user)
    if (other !== undefined && userValid)
      add('user.shared', userPath, `vendors ${other} and ${name} are both mapped to the Linux user "${user}"`, {
        which: userWhich,
        suggestion: `give ${name} a user of its own (user: ${name}); keys, allowlists and audit logs are per user`,
      })
    else if (other === undefined) userOwner.set(user, name)

    // CIDRs: valid, not the whole internet unless allowed, warned when wide, each once.
    const seenCidrs = new Map<string, number>()
    for (const [i, raw] of vendor.cidrs.entries()) {
      const path: ConfigPath = [...base, 'cidrs', i]
      const what = `vendors.${name}.cidrs[${i}]`
      let cidr: string
      try {
        cidr = parseCidr(raw, what)
      } catch (error) {
        if (!(error instanceof BastionError)) throw error
        add('cidr.invalid', path, error.message, {suggestion: error.suggestions.length > 0 ? `write ${error.suggestions.map((s) => s.replace(`${what} `, '')).join(' or ')}` : undefined})
        continue
      }
      // 52.6.1.1 and 52.6.1.1/32 are the same source.
      const canonical = cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`
      const first = seenCidrs.get(canonical)
      if (first !== undefined) add('cidr.duplicate', path, `${what} ${raw} is listed already (cidrs[${first}])`)
      else seenCidrs.set(canonical, i)
      const width = sourceWidth(cidr)
      if (width?.kind === 'anywhere') {
        if (vendor.allowAnywhere) add('cidr.anywhere-allowed', path, `${what} ${cidr} admits ${width.size}: allowed by allowAnywhere`)
        else {
          let message = `${what} ${cidr} admits ${width.size}`
          try {
            checkSourceWidth(cidr, what, false)
          } catch (error) {
            if (error instanceof BastionError) message = error.message
          }
          add('cidr.anywhere', path, message)
        }
      } else if (width?.kind === 'wide') add('cidr.wide', path, checkSourceWidth(cidr, what, false) ?? `${what} ${cidr} is wide`)
    }

    // Keys: well formed, readable, parse, strong enough, each once, nobody else's; expiry dates.
    for (const [i, raw] of vendor.keys.entries()) {
      const keyPath: ConfigPath = [...base, 'keys', i]
      const entry = keyEntry(raw)
      if (typeof raw !== 'string' && (entry.key === undefined) === (entry.file === undefined)) {
        add('key.form', keyPath, `vendors.${name}.keys[${i}] gives ${entry.key === undefined ? 'neither key nor file' : 'both key and file'}`)
        continue
      }
      const valuePath: ConfigPath = typeof raw === 'string' ? keyPath : [...keyPath, entry.file === undefined ? 'key' : 'file']
      if (entry.expires !== undefined) checkExpiry(entry.expires, [...keyPath, 'expires'], `vendors.${name}.keys[${i}]`, now, add)
      let read: ConfigKeyEntry
      try {
        read = readKey(loaded.dir, name, raw, i)
      } catch (error) {
        if (!(error instanceof BastionError)) throw error
        add('key.unreadable', valuePath, error.message, {suggestion: error.suggestions[0]})
        continue
      }
      let fingerprint: string
      try {
        const parsed = parsePublicKey(read.text, read.source)
        fingerprint = parsed.key.fingerprint
        for (const w of parsed.warnings) add('key.repaired', valuePath, `${read.source}: ${w}`)
      } catch (error) {
        if (!(error instanceof BastionError)) throw error
        const code: ConfigRuleCode = error.code === 'KEY_PRIVATE' ? 'key.private' : WEAK_KEY_CODES.has(error.code) ? 'key.weak' : 'key.invalid'
        add(code, valuePath, oneLine(error.message), {suggestion: error.suggestions[0]})
        continue
      }
      const owner = keyOwner.get(fingerprint)
      if (owner === undefined) keyOwner.set(fingerprint, {vendor: name, index: i})
      else if (owner.vendor === name) add('key.duplicate', valuePath, `vendors.${name}.keys[${i}] is the same key as keys[${owner.index}] (${fingerprint})`)
      else
        add('key.shared', valuePath, `vendors.${name}.keys[${i}] is the key vendor ${owner.vendor} has too (vendors.${owner.vendor}.keys[${owner.index}], ${fingerprint})`, {
          suggestion: `each vendor gets its own key: whoever holds the private key could log in as both ${owner.vendor} and ${name}`,
        })
    }

    // Databases: each exists, each once.
    const seenDbs = new Set<string>()
    for (const [i, db] of vendor.databases.entries()) {
      const path: ConfigPath = [...base, 'databases', i]
      if (seenDbs.has(db)) add('ref.duplicate', path, `vendors.${name}.databases names ${db} twice`)
      seenDbs.add(db)
      if (db in config.databases) usedDatabases.add(db)
      else {
        const closest = closestCommand(db, databaseNames)
        add('ref.database', path, `vendor ${name} may reach database "${db}", which is not under databases:`, {
          suggestion: closest ? `did you mean ${closest}?` : databaseNames.length > 0 ? `the databases are: ${databaseNames.join(', ')}` : 'add it under databases: with its host and port',
        })
      }
    }
  }

  // ----------------------------------------------------------------------------------------------------- bastions
  const usedVendors = new Set<string>()
  for (const [name, bastion] of Object.entries(config.bastions)) {
    const base: ConfigPath = ['bastions', name]
    if (bastion.cloud === undefined && bastion.ssh?.host === undefined)
      add('bastion.no-host', bastion.ssh === undefined ? base : [...base, 'ssh'], `bastion ${name} has no cloud: and no ssh.host: bastion cannot know where it is`, {
        which: bastion.ssh === undefined ? 'key' : 'value',
      })
    if (bastion.vendors.length === 0) add('bastion.no-vendors', [...base, 'vendors'], `bastion ${name} lists no vendors`)
    const seen = new Set<string>()
    for (const [i, vendor] of bastion.vendors.entries()) {
      const path: ConfigPath = [...base, 'vendors', i]
      if (seen.has(vendor)) add('ref.duplicate', path, `bastions.${name}.vendors names ${vendor} twice`)
      seen.add(vendor)
      if (vendor in config.vendors) usedVendors.add(vendor)
      else {
        const closest = closestCommand(vendor, vendorNames)
        add('ref.vendor', path, `bastion ${name} lists vendor "${vendor}", which is not under vendors:`, {
          suggestion: closest ? `did you mean ${closest}?` : vendorNames.length > 0 ? `the vendors are: ${vendorNames.join(', ')}` : 'add it under vendors: with its cidrs, keys and databases',
        })
      }
    }
  }

  // ------------------------------------------------------------------------------------------------------- unused
  for (const name of vendorNames)
    if (!usedVendors.has(name)) add('vendor.unused', ['vendors', name], `vendor ${name} is not listed by any bastion: it has access nowhere`, {which: 'key'})
  for (const name of databaseNames)
    if (!usedDatabases.has(name)) add('database.unused', ['databases', name], `database ${name} is not listed by any vendor`, {which: 'key'})

  return sortIssues(issues)
}

/** An expiry that exists and is not past (expiry.invalid, expiry.past), warned when it is near (expiry.soon). */
function checkExpiry(
  raw: string,
  path: ConfigPath,
  what: string,
  now: Date,
  add: (code: ConfigRuleCode, path: ConfigPath, message: string, opts?: {suggestion?: string}) => void,
): void {
  let at: Date
  try {
    // The epoch as "now": only whether the date exists is judged here; the real now is compared below.
    at = parseExpires(raw, new Date(0)).at
  } catch (error) {
    if (!(error instanceof BastionError)) throw error
    add('expiry.invalid', path, `${what}: ${error.message.replace('--expires ', 'expires ')}`, {
      suggestion: error.suggestions[0]?.replace('--expires ', 'expires: '),
    })
    return
  }
  const left = at.getTime() - now.getTime()
  if (left <= 0) add('expiry.past', path, `${what} expired on ${at.toISOString().replace('.000Z', 'Z')}: the key no longer works`)
  else if (left < EXPIRY_WARN_DAYS * 86_400_000) {
    const days = Math.ceil(left / 86_400_000)
    add('expiry.soon', path, `${what} expires in ${days} day${days === 1 ? '' : 's'} (${at.toISOString().replace('.000Z', 'Z')})`)
  }
}

/** File order: line, then column (stable for issues at the same place). */
export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, i) => ({issue, i}))
    .sort((a, b) => a.issue.line - b.issue.line || a.issue.column - b.issue.column || a.i - b.i)
    .map(({issue}) => issue)
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}
