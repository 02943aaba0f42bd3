/**
 * Parsers for the values users give on the command line (and, later, in the config file), shared by every command:
 * host:port, CIDRs and how wide they are, expiry dates, paths. Done once at the edge: after this, nothing re-checks
 * strings. Each refusal says what is wrong, why, and how to fix it (exit 2, nothing is changed).
 */
import {homedir} from 'node:os'
import {join} from 'node:path'
import ipaddr from 'ipaddr.js'
import {inputError} from '../errors.js'

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*\.?$/

function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text)) throw inputError('PORT', `${what}: port "${text}" is not a number`, ['ports are 1-65535, e.g. 5432'])
  const port = Number(text)
  if (port < 1 || port > 65535) throw inputError('PORT', `${what}: port ${port} is out of range`, ['ports are 1-65535, e.g. 5432'])
  return port
}

export interface HostPort {
  host: string
  port: number
  /** As OpenSSH writes it: `host:port`, or `[v6]:port`. */
  text: string
}

/**
 * The values of a list flag: each repeat of the flag, split at commas, blanks dropped. Every list flag takes both
 * forms (`--vendor-ip a --vendor-ip b` and `--vendor-ip a,b`), and each piece is then parsed on its own.
 */
export function listValues(raw: readonly string[]): string[] {
  return raw.flatMap((r) => r.split(',')).map((p) => p.trim()).filter(Boolean)
}

/** `--db`: the destinations of a list flag (listValues), each parsed by parseHostPort, duplicates once. */
export function parseHostPorts(raw: readonly string[], what = '--db'): HostPort[] {
  const out: HostPort[] = []
  for (const piece of listValues(raw)) {
    const hp = parseHostPort(piece, what)
    if (!out.some((o) => o.text === hp.text)) out.push(hp)
  }
  return out
}

/** `--vendor-ip`: the addresses of a list flag (listValues), each parsed by parseCidr as given, duplicates once. */
export function parseCidrs(raw: readonly string[], what = '--vendor-ip'): string[] {
  const out: string[] = []
  for (const piece of listValues(raw)) {
    const cidr = parseCidr(piece, what)
    if (!out.includes(cidr)) out.push(cidr)
  }
  return out
}

/**
 * One `host:port` or `[v6]:port`, e.g. a --db destination the vendor's tunnel may reach. A comma is refused: this is
 * one value (list flags split theirs with parseHostPorts first).
 */
export function parseHostPort(raw: string, what = '--db'): HostPort {
  const text = raw.trim()
  if (text.includes(','))
    throw inputError('HOST_PORT_LIST', `${what} "${raw}" is a comma-separated list; ${what} takes one host:port`, [`${what} ${text.split(',')[0]?.trim() ?? ''}`])
  const v6 = /^\[([^\]]+)\]:(.+)$/.exec(text)
  const example = `${what} 10.0.1.5:5432 (or [fd00::5]:5432 for IPv6)`
  if (v6) {
    const [, addr = '', port = ''] = v6
    if (!ipaddr.IPv6.isValid(addr)) throw inputError('HOST_PORT', `${what} "${raw}": "${addr}" is not an IPv6 address`, [example])
    const host = ipaddr.IPv6.parse(addr).toString()
    const p = parsePort(port, `${what} "${raw}"`)
    return {host, port: p, text: `[${host}]:${p}`}
  }
  const colon = text.lastIndexOf(':')
  if (colon < 0) throw inputError('HOST_PORT', `${what} "${raw}" has no port`, [example])
  const host = text.slice(0, colon)
  const port = text.slice(colon + 1)
  if (host.includes(':'))
    throw inputError('HOST_PORT', `${what} "${raw}": an IPv6 address must be written in brackets`, [`${what} [${host}]:${port}`])
  if (host === '' || !(ipaddr.IPv4.isValidFourPartDecimal(host) || (HOSTNAME.test(host) && !/^[\d.]+$/.test(host))))
    throw inputError('HOST_PORT', `${what} "${raw}": "${host}" is not a host name or IPv4 address`, [example])
  const p = parsePort(port, `${what} "${raw}"`)
  return {host, port: p, text: `${host}:${p}`}
}

/**
 * One CIDR or single address the vendor connects from (a --vendor-ip piece). OpenSSH refuses the whole key when a
 * CIDR in `from=` has host bits set, so such a value is refused here with the network it probably meant. A comma is
 * refused: this is one value (list flags split theirs with parseCidrs first).
 */
export function parseCidr(raw: string, what = '--vendor-ip'): string {
  return parseSource(raw, what).cidr
}

/** A source address as parseCidr reads it: the canonical text, and its prefix length (32 or 128 for one address). */
export interface ParsedSource {
  /** `network/bits`, or the single address. */
  cidr: string
  bits: number
  v6: boolean
}

/** A decimal octet 0-255 without leading zeros. */
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
/** Four such octets: the only IPv4 form sshd reads (ipaddr.js takes "52.6.1" too). */
const FOUR_PART_DECIMAL = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`)
/**
 * Such an address, with a prefix length 0-32 written without leading zeros, or none: its own canonical text when no
 * host bits are set. A config file lists thousands; ipaddr.js reads the rest (and words the refusals).
 */
const PLAIN_IPV4_CIDR = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}(?:/(3[0-2]|[12]?\\d))?$`)

/**
 * parseCidr, with the prefix length (for sourceWidth's judgement, widthOf). The address is parsed once: a config file
 * of thousands of vendors has thousands of them.
 */
export function parseSource(raw: string, what = '--vendor-ip'): ParsedSource {
  const text = raw.trim()
  if (text.includes(','))
    throw inputError('CIDR_LIST', `${what} "${raw}" is a comma-separated list; ${what} takes one address or CIDR`, [`${what} ${text.split(',')[0]?.trim() ?? ''}`])
  // The common case, without parsing: four decimal octets and a prefix length, written the canonical way.
  const plain = PLAIN_IPV4_CIDR.exec(text)
  if (plain) {
    const bits = plain[5] === undefined ? 32 : Number(plain[5])
    const address = ((Number(plain[1]) << 24) | (Number(plain[2]) << 16) | (Number(plain[3]) << 8) | Number(plain[4])) >>> 0
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
    // Host bits set: the full reading below refuses it with the network meant.
    if (((address & mask) >>> 0) === address) return {cidr: text, bits, v6: false}
  }
  const slash = text.indexOf('/')
  const addrPart = slash === -1 ? text : text.slice(0, slash)
  const v6 = addrPart.includes(':')
  if (!v6 && !FOUR_PART_DECIMAL.test(addrPart))
    throw inputError('CIDR', `${what} "${raw}" is not an IP address or CIDR`, [`${what} 52.6.1.0/24`, `${what} 52.6.1.1`])
  if (slash === -1) {
    // A single IPv4 address was read above (PLAIN_IPV4_CIDR); IPv6 is written the short way (RFC 5952).
    if (!ipaddr.IPv6.isValid(text)) throw inputError('CIDR', `${what} "${raw}" is not an IP address or CIDR`, [`${what} 52.6.1.1/32`])
    return {cidr: ipaddr.IPv6.parse(text).toString(), bits: 128, v6}
  }
  let addr: ipaddr.IPv4 | ipaddr.IPv6
  let bits: number
  try {
    ;[addr, bits] = v6 ? ipaddr.IPv6.parseCIDR(text) : ipaddr.IPv4.parseCIDR(text)
  } catch {
    throw inputError('CIDR', `${what} "${raw}" is not a valid CIDR`, [`${what} 52.6.1.0/24`])
  }
  // The network: the address with the host bits cleared (as ipaddr's networkAddressFromCIDR, without parsing again).
  const mask = (v6 ? ipaddr.IPv6 : ipaddr.IPv4).subnetMaskFromPrefixLength(bits).toByteArray()
  const bytes = addr.toByteArray().map((b, i) => b & mask[i]!)
  const network = ipaddr.fromByteArray(bytes).toString()
  if (network !== addr.toString())
    throw inputError(
      'CIDR_HOST_BITS',
      `${what} "${raw}" has host bits set; sshd rejects such a from= entry and with it the whole key`,
      [`${what} ${network}/${bits}`, `${what} ${addr.toString()}/${v6 ? 128 : 32} for that single address`],
    )
  return {cidr: `${network}/${bits}`, bits, v6}
}

/**
 * How wide a source address range is: one rule for every --vendor-ip (add-vendor-key, doctor, create, whitelist) and
 * create's --admin-cidr (and for judging the rules already in a security group).
 * - `anywhere`: an IPv4 prefix shorter than /8 or an IPv6 prefix shorter than /16 (0.0.0.0/0, ::/0, 0.0.0.0/1 …):
 *   as good as the whole internet; refused unless --allow-anywhere;
 * - `wide`: an IPv4 prefix shorter than /24 (more than 256 addresses) or an IPv6 prefix shorter than /64: accepted
 *   with a warning, since vendors publish single addresses or small ranges (a /29, a /28) for their egress;
 * - `narrow`: anything else.
 */
export const ANYWHERE_IPV4_PREFIX = 8
export const ANYWHERE_IPV6_PREFIX = 16
export const WIDE_IPV4_PREFIX = 24
export const WIDE_IPV6_PREFIX = 64

export interface SourceWidth {
  kind: 'anywhere' | 'wide' | 'narrow'
  /** In words: `the whole internet`, `2147483648 addresses (1/2 of all IPv4 addresses)`, `65536 addresses`. */
  size: string
}

/** The width of an address or CIDR as parseCidr returns it; undefined for anything else (e.g. a security group id). */
export function sourceWidth(cidr: string): SourceWidth | undefined {
  let addr: ipaddr.IPv4 | ipaddr.IPv6
  let bits: number
  try {
    const v6 = cidr.includes(':')
    ;[addr, bits] = cidr.includes('/')
      ? v6 ? ipaddr.IPv6.parseCIDR(cidr) : ipaddr.IPv4.parseCIDR(cidr)
      : [v6 ? ipaddr.IPv6.parse(cidr) : ipaddr.IPv4.parse(cidr), v6 ? 128 : 32]
  } catch {
    return undefined
  }
  return widthOf({bits, v6: addr.kind() === 'ipv6'})
}

/** The width of a source of `bits` prefix length (sourceWidth, for a source parseSource has parsed already). */
export function widthOf({bits, v6}: {bits: number; v6: boolean}): SourceWidth {
  const kind = widthKind({bits, v6})
  const hostBits = (v6 ? 128 : 32) - bits
  const count = v6 ? `2^${hostBits}` : String(2 ** hostBits)
  if (bits === 0) return {kind, size: 'the whole internet'}
  if (kind === 'anywhere') return {kind, size: `${count} addresses (1/${2 ** bits} of all ${v6 ? 'IPv6' : 'IPv4'} addresses)`}
  return {kind, size: hostBits === 0 ? 'one address' : `${count} addresses`}
}

/** widthOf's kind alone, without the words. */
export function widthKind({bits, v6}: {bits: number; v6: boolean}): SourceWidth['kind'] {
  if (bits < (v6 ? ANYWHERE_IPV6_PREFIX : ANYWHERE_IPV4_PREFIX)) return 'anywhere'
  return bits < (v6 ? WIDE_IPV6_PREFIX : WIDE_IPV4_PREFIX) ? 'wide' : 'narrow'
}

const ANYWHERE_RULE = `an IPv4 prefix shorter than /${ANYWHERE_IPV4_PREFIX} or an IPv6 prefix shorter than /${ANYWHERE_IPV6_PREFIX} is refused like 0.0.0.0/0`

/**
 * Judge a source range given with `what` (e.g. `--vendor-ip`): an `anywhere` one is refused (CIDR_ANYWHERE, exit 2) unless
 * `allowAnywhere`; returns the warning for a wide one, or for an anywhere one that was allowed.
 */
export function checkSourceWidth(cidr: string, what: string, allowAnywhere: boolean): string | undefined {
  const width = sourceWidth(cidr)
  if (!width || width.kind === 'narrow') return undefined
  if (width.kind === 'anywhere') {
    if (allowAnywhere) return `${what} ${cidr} admits ${width.size}: allowed by --allow-anywhere`
    throw inputError(
      'CIDR_ANYWHERE',
      `${what} ${cidr} admits ${width.size}${cidr.endsWith('/0') ? '' : `; ${ANYWHERE_RULE}`}`,
      [
        `use the vendor's published addresses, e.g. ${what} 52.6.1.1/32 (repeat ${what} for each, or comma-separate them)`,
        'if you really mean every address (e.g. a vendor without fixed IPs), add --allow-anywhere',
      ],
    )
  }
  return `${what} ${cidr} admits ${width.size}; vendors publish single addresses or small ranges (flagged: wider than /${WIDE_IPV4_PREFIX} for IPv4, /${WIDE_IPV6_PREFIX} for IPv6)`
}

/** `--public-host`: the address the vendor connects to, `host`, `[v6]`, `host:port` or `[v6]:port`. */
export function parsePublicHost(raw: string): {host: string; port?: number} {
  if (/^[^:[\]]+$/.test(raw) || /^\[.*\]$/.test(raw)) {
    const host = raw.replace(/^\[|\]$/g, '')
    parseHostPort(`${raw.startsWith('[') ? raw : host}:22`, '--public-host')
    return {host}
  }
  const hp = parseHostPort(raw, '--public-host')
  return {host: hp.host, port: hp.port}
}

/** `~` and `~/…` → home directory. */
export function expandTilde(path: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/')) return join(homedir(), path.slice(2))
  return path
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']

/**
 * A calendar date and time of day that exist, as UTC; refused (EXPIRES, exit 2) otherwise, naming what does not
 * exist. Date.UTC would quietly roll 2027-02-30 over into March and 25:00 into the next day.
 */
function existingUtc(raw: string, y: number, mo: number, d: number, h: number, mi: number, s: number): Date {
  if (mo >= 1 && mo <= 12 && d >= 1 && d <= 28 && h <= 23 && mi <= 59 && s <= 59) return new Date(Date.UTC(y, mo - 1, d, h, mi, s))
  const date = `${y}-${String(mo).padStart(2, '0')}`
  if (mo < 1 || mo > 12)
    throw inputError('EXPIRES', `--expires "${raw}" is not a date: there is no month ${mo}`, [`months go from 01 to 12: --expires ${y}-MM-DD`, '--expires 90d'])
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  if (d < 1 || d > days)
    throw inputError('EXPIRES', `--expires "${raw}" is not a date: ${MONTHS[mo - 1]} ${y} has ${days} days`, [
      `--expires ${date}-${days} (the last day of ${MONTHS[mo - 1]})`,
      '--expires 90d',
    ])
  if (h > 23 || mi > 59 || s > 59)
    throw inputError('EXPIRES', `--expires "${raw}" is not a time of day: hours go from 00 to 23, minutes and seconds from 00 to 59`, [
      `--expires ${date}-${String(d).padStart(2, '0')} (the start of that day, UTC)`,
      'or a time that exists, HH:MM from 00:00 to 23:59 (UTC)',
    ])
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s))
}

/** A date and time of day as --expires and a config file's `expires:` write them (UTC). */
const STAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?Z?)?$/

function stampDate(raw: string, stamp: RegExpExecArray): Date {
  const n = (i: number) => Number(stamp[i] ?? 0)
  return existingUtc(raw, n(1), n(2), n(3), n(4), n(5), n(6))
}

/**
 * The date of a YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] expiry (UTC), past or not: refused (EXPIRES, exit 2) when it is
 * not one or does not exist. For a config file's `expires:` (whether it is past is the caller's judgement).
 */
export function expiryDate(raw: string): Date {
  const stamp = STAMP.exec(raw.trim())
  if (!stamp) throw inputError('EXPIRES', `--expires "${raw}" is not a date`, ['--expires 2027-03-31', '--expires 2027-03-31T18:00'])
  return stampDate(raw, stamp)
}

/** `--expires`: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC), or a duration like 90d / 12h. Returns OpenSSH `expiry-time`. */
export function parseExpires(raw: string, now: Date = new Date()): {expiryTime: string; at: Date} {
  const text = raw.trim()
  let at: Date | undefined
  const dur = /^(\d+)\s*(d|h|w)$/i.exec(text)
  const stamp = dur ? null : STAMP.exec(text)
  let withTime = true
  if (dur) {
    const n = Number(dur[1])
    const unit = (dur[2] ?? 'd').toLowerCase()
    const ms = unit === 'h' ? 3_600_000 : unit === 'w' ? 7 * 86_400_000 : 86_400_000
    at = new Date(now.getTime() + n * ms)
  } else if (stamp) {
    at = stampDate(raw, stamp)
    withTime = stamp[4] !== undefined
  }
  if (!at || Number.isNaN(at.getTime()))
    throw inputError('EXPIRES', `--expires "${raw}" is not a date`, ['--expires 2027-03-31', '--expires 2027-03-31T18:00', '--expires 90d'])
  if (at.getTime() <= now.getTime())
    throw inputError('EXPIRES_PAST', `--expires "${raw}" is not in the future (now is ${now.toISOString()})`, [
      'give a later date, e.g. --expires 90d',
    ])
  if (at.getUTCFullYear() > 9999)
    throw inputError('EXPIRES', `--expires "${raw}" ends after the year 9999, which sshd's expiry-time cannot hold`, ['--expires 90d', '--expires 2027-03-31'])
  const p = (n: number) => String(n).padStart(2, '0')
  const date = `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}`
  const expiryTime = withTime ? `${date}${p(at.getUTCHours())}${p(at.getUTCMinutes())}` : date
  return {expiryTime, at}
}

export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10)
}
