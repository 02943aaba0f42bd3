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
import {checkSourceWidth, expiryDate, parseHostPort, parseSource, widthKind, widthOf, type ParsedSource} from '../input/parse.js'
import {closestCommand} from '../input/suggest.js'
import {keyEntry, readVendorKey, type ConfigKeyEntry} from './keys.js'
import type {ConfigIssue, ConfigPath, LoadedConfig} from './load.js'
import {CONFIG_RULES, type ConfigRuleCode} from './rules.js'
import type {BastionConfig, ConfigKey, ConfigVendor} from './schema.js'

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
  const add: Add = (code, path, message, opts = {}) => {
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
  const seen: Seen = {keyOwner: new Map(), userOwner: new Map(), usedDatabases: new Set()}
  const context: VendorContext = {config, databaseNames, dir: loaded.dir, now, readKey, add, seen}
  for (const name of vendorNames) lintVendor(name, config.vendors[name]!, context)
  const usedDatabases = seen.usedDatabases

  // ----------------------------------------------------------------------------------------------------- bastions
  const usedVendors = new Set<string>()
  for (const [name, bastion] of Object.entries(config.bastions)) {
    const base: ConfigPath = ['bastions', name]
    if (bastion.cloud === undefined && bastion.ssh?.host === undefined)
      add('bastion.no-host', bastion.ssh === undefined ? base : [...base, 'ssh'], `bastion ${name} has no cloud: and no ssh.host: bastion cannot know where it is`, {
        which: bastion.ssh === undefined ? 'key' : 'value',
      })
    if (bastion.vendors.length === 0) add('bastion.no-vendors', [...base, 'vendors'], `bastion ${name} lists no vendors`)
    const listed = bastion.vendors
    for (let i = 0; i < listed.length; i++) {
      const vendor = listed[i]!
      if (listed.indexOf(vendor) < i) add('ref.duplicate', [...base, 'vendors', i], `bastions.${name}.vendors names ${vendor} twice`)
      if (Object.hasOwn(config.vendors, vendor)) usedVendors.add(vendor)
      else {
        const closest = closestCommand(vendor, vendorNames)
        add('ref.vendor', [...base, 'vendors', i], `bastion ${name} lists vendor "${vendor}", which is not under vendors:`, {
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

type Add = (code: ConfigRuleCode, path: ConfigPath, message: string, opts?: {suggestion?: string; which?: 'value' | 'key'; severity?: 'error' | 'warning'}) => void

/** What the vendors' checks remember across vendors. */
interface Seen {
  /** Fingerprint → the first vendor and key that has it (key.shared across vendors, key.duplicate within one). */
  keyOwner: Map<string, {vendor: string; index: number}>
  /** Linux user → the first vendor mapped to it. */
  userOwner: Map<string, string>
  usedDatabases: Set<string>
}

interface VendorContext {
  config: BastionConfig
  databaseNames: string[]
  dir: string
  now: Date
  readKey: KeyReader
  add: Add
  seen: Seen
}

/**
 * One vendor's user, CIDRs, keys and databases. Speed: a file may list thousands of vendors, so the loops are plain
 * indexed ones and the path and name of a value (`['vendors', name, 'cidrs', i]`, `vendors.<name>.cidrs[i]`) are made
 * when there is something to report.
 */
function lintVendor(name: string, vendor: ConfigVendor, {config, databaseNames, dir, now, readKey, add, seen}: VendorContext): void {
  const {keyOwner, userOwner, usedDatabases} = seen

  // The Linux user: valid, not a system account, one vendor each.
  const user = vendor.user ?? name
  const userPath = (): ConfigPath => (vendor.user === undefined ? ['vendors', name] : ['vendors', name, 'user'])
  const userWhich = vendor.user === undefined ? 'key' : 'value'
  let userValid = true
  try {
    parseVendorName(user)
  } catch (error) {
    if (!(error instanceof BastionError)) throw error
    userValid = false
    const reserved = error.code === 'VENDOR_RESERVED'
    add(reserved ? 'user.reserved' : 'user.invalid', userPath(), `vendor ${name}: ${error.message.replace(/--vendor/g, 'user:')}`, {
      which: userWhich,
      ...(reserved ? {suggestion: `give the vendor an account of its own: user: ${name === user ? `${name}-vendor` : name}`} : {}),
    })
  }
  const other = userOwner.get(user)
  if (other !== undefined && userValid)
    add('user.shared', userPath(), `vendors ${other} and ${name} are both mapped to the Linux user "${user}"`, {
      which: userWhich,
      suggestion: `give ${name} a user of its own (user: ${name}); keys, allowlists and audit logs are per user`,
    })
  else if (other === undefined) userOwner.set(user, name)

  // CIDRs: valid, not the whole internet unless allowed, warned when wide, each once.
  const seenCidrs = new Map<string, number>()
  const cidrs = vendor.cidrs
  for (let i = 0; i < cidrs.length; i++) {
    const raw = cidrs[i]!
    const what = `vendors.${name}.cidrs[${i}]`
    let source: ParsedSource
    try {
      source = parseSource(raw, what)
    } catch (error) {
      if (!(error instanceof BastionError)) throw error
      add('cidr.invalid', ['vendors', name, 'cidrs', i], error.message, {
        suggestion: error.suggestions.length > 0 ? `write ${error.suggestions.map((s) => s.replace(`${what} `, '')).join(' or ')}` : undefined,
      })
      continue
    }
    const cidr = source.cidr
    // 52.6.1.1 and 52.6.1.1/32 are the same source.
    const canonical = cidr.includes('/') ? cidr : `${cidr}/${source.bits}`
    const first = seenCidrs.get(canonical)
    if (first !== undefined) add('cidr.duplicate', ['vendors', name, 'cidrs', i], `${what} ${raw} is listed already (cidrs[${first}])`)
    else seenCidrs.set(canonical, i)
    const kind = widthKind(source)
    if (kind === 'narrow') continue
    const width = widthOf(source)
    if (kind === 'wide') add('cidr.wide', ['vendors', name, 'cidrs', i], checkSourceWidth(cidr, what, false) ?? `${what} ${cidr} is wide`)
    else if (vendor.allowAnywhere) add('cidr.anywhere-allowed', ['vendors', name, 'cidrs', i], `${what} ${cidr} admits ${width.size}: allowed by allowAnywhere`)
    else {
      let message = `${what} ${cidr} admits ${width.size}`
      try {
        checkSourceWidth(cidr, what, false)
      } catch (error) {
        if (error instanceof BastionError) message = error.message
      }
      add('cidr.anywhere', ['vendors', name, 'cidrs', i], message)
    }
  }

  // Keys: well formed, readable, parse, strong enough, each once, nobody else's; expiry dates.
  const keys = vendor.keys
  for (let i = 0; i < keys.length; i++) {
    const raw = keys[i]!
    const entry = keyEntry(raw)
    if (typeof raw !== 'string' && (entry.key === undefined) === (entry.file === undefined)) {
      add('key.form', ['vendors', name, 'keys', i], `vendors.${name}.keys[${i}] gives ${entry.key === undefined ? 'neither key nor file' : 'both key and file'}`)
      continue
    }
    /** Where the key itself is: the list item, or its key: or file: value. */
    const field = typeof raw === 'string' ? undefined : entry.file === undefined ? 'key' : 'file'
    if (entry.expires !== undefined) checkExpiry(entry.expires, name, i, now, add)
    let read: ConfigKeyEntry
    try {
      read = readKey(dir, name, raw, i)
    } catch (error) {
      if (!(error instanceof BastionError)) throw error
      add('key.unreadable', keyPath(name, i, field), error.message, {suggestion: error.suggestions[0]})
      continue
    }
    let fingerprint: string
    try {
      const parsed = parsePublicKey(read.text, read.source)
      fingerprint = parsed.key.fingerprint
      for (const w of parsed.warnings) add('key.repaired', keyPath(name, i, field), `${read.source}: ${w}`)
    } catch (error) {
      if (!(error instanceof BastionError)) throw error
      const code: ConfigRuleCode = error.code === 'KEY_PRIVATE' ? 'key.private' : WEAK_KEY_CODES.has(error.code) ? 'key.weak' : 'key.invalid'
      add(code, keyPath(name, i, field), oneLine(error.message), {suggestion: error.suggestions[0]})
      continue
    }
    const owner = keyOwner.get(fingerprint)
    if (owner === undefined) keyOwner.set(fingerprint, {vendor: name, index: i})
    else if (owner.vendor === name)
      add('key.duplicate', keyPath(name, i, field), `vendors.${name}.keys[${i}] is the same key as keys[${owner.index}] (${fingerprint})`)
    else
      add('key.shared', keyPath(name, i, field), `vendors.${name}.keys[${i}] is the key vendor ${owner.vendor} has too (vendors.${owner.vendor}.keys[${owner.index}], ${fingerprint})`, {
        suggestion: `each vendor gets its own key: whoever holds the private key could log in as both ${owner.vendor} and ${name}`,
      })
  }

  // Databases: each exists, each once.
  const dbs = vendor.databases
  for (let i = 0; i < dbs.length; i++) {
    const db = dbs[i]!
    if (dbs.indexOf(db) < i) add('ref.duplicate', ['vendors', name, 'databases', i], `vendors.${name}.databases names ${db} twice`)
    if (Object.hasOwn(config.databases, db)) usedDatabases.add(db)
    else {
      const closest = closestCommand(db, databaseNames)
      add('ref.database', ['vendors', name, 'databases', i], `vendor ${name} may reach database "${db}", which is not under databases:`, {
        suggestion: closest ? `did you mean ${closest}?` : databaseNames.length > 0 ? `the databases are: ${databaseNames.join(', ')}` : 'add it under databases: with its host and port',
      })
    }
  }
}

/** The path of a vendor's key `i`, or of its `key:`/`file:` value (`field`). */
function keyPath(vendor: string, i: number, field?: 'key' | 'file' | 'expires'): ConfigPath {
  return field === undefined ? ['vendors', vendor, 'keys', i] : ['vendors', vendor, 'keys', i, field]
}

/** An expiry that exists and is not past (expiry.invalid, expiry.past), warned when it is near (expiry.soon). */
function checkExpiry(raw: string, vendor: string, index: number, now: Date, add: Add): void {
  const what = () => `vendors.${vendor}.keys[${index}]`
  const path = () => keyPath(vendor, index, 'expires')
  let at: Date
  try {
    at = expiryDate(raw)
  } catch (error) {
    if (!(error instanceof BastionError)) throw error
    add('expiry.invalid', path(), `${what()}: ${error.message.replace('--expires ', 'expires ')}`, {
      suggestion: error.suggestions[0]?.replace('--expires ', 'expires: '),
    })
    return
  }
  const left = at.getTime() - now.getTime()
  if (left <= 0) add('expiry.past', path(), `${what()} expired on ${at.toISOString().replace('.000Z', 'Z')}: the key no longer works`)
  else if (left < EXPIRY_WARN_DAYS * 86_400_000) {
    const days = Math.ceil(left / 86_400_000)
    add('expiry.soon', path(), `${what()} expires in ${days} day${days === 1 ? '' : 's'} (${at.toISOString().replace('.000Z', 'Z')})`)
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
