/**
 * OpenSSH's pattern and address matching, as sshd does it (match.c, addrmatch.c, channels.c), so the checks judge
 * AllowUsers/DenyUsers, AllowGroups/DenyGroups, from= and PermitOpen/permitopen exactly as sshd would. Pure.
 */
import ipaddr from 'ipaddr.js'

type Addr = ipaddr.IPv4 | ipaddr.IPv6

/** match_pattern(): `*` any run of characters, `?` one character, everything else literal (case-sensitive). */
export function matchPattern(s: string, pattern: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${re}$`, 's').test(s)
}

/**
 * match_pattern_list(): a comma-separated list of patterns, each optionally negated with `!`.
 * Returns -1 when a negated pattern matches, 1 when a positive one does, 0 when none does.
 */
export function matchPatternList(s: string, list: string, dolower = false): -1 | 0 | 1 {
  let positive = false
  for (let sub of list.split(',')) {
    const negated = sub.startsWith('!')
    if (negated) sub = sub.slice(1)
    if (dolower) sub = sub.toLowerCase()
    if (matchPattern(s, sub)) {
      if (negated) return -1
      positive = true
    }
  }
  return positive ? 1 : 0
}

/** addr_pton with AI_NUMERICHOST: a numeric IPv4 (dotted quad) or IPv6 address. */
export function parseAddr(text: string): Addr | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text)
  if (text.includes(':') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text)
  return undefined
}

/** addr_pton_cidr(): -1 not an address/CIDR, -2 inconsistent (mask too long or host bits set), else the network. */
export function parseCidrLikeSshd(text: string): {addr: Addr; bits: number} | -1 | -2 {
  const slash = text.indexOf('/')
  const addrText = slash === -1 ? text : text.slice(0, slash)
  let bits: number | undefined
  if (slash !== -1) {
    const m = text.slice(slash + 1)
    if (!/^\d+$/.test(m) || Number(m) > 128) return -1
    bits = Number(m)
  }
  const addr = parseAddr(addrText)
  if (!addr) return -1
  const max = addr.kind() === 'ipv4' ? 32 : 128
  bits ??= max
  if (bits > max) return -2
  const bytes = addr.toByteArray()
  for (let i = 0; i < bytes.length * 8; i++) {
    if (i >= bits && (bytes[i >> 3]! >> (7 - (i & 7))) & 1) return -2
  }
  return {addr, bits}
}

/**
 * addr_match_list(): CIDRs and addresses are compared as networks; entries that are not addresses are matched as
 * wildcard patterns against the address text. 1 match, -1 negated match (final), 0 none, -2 invalid entry.
 */
export function addrMatchList(addrText: string, list: string): -2 | -1 | 0 | 1 {
  const addr = parseAddr(addrText)
  if (!addr) return 0
  let ret: -2 | -1 | 0 | 1 = 0
  for (let cp of list.split(',')) {
    const neg = cp.startsWith('!')
    if (neg) cp = cp.slice(1)
    if (cp === '') return -2
    const cidr = parseCidrLikeSshd(cp)
    if (cidr === -2) return -2
    const found = cidr !== -1 ? cidr.addr.kind() === addr.kind() && addr.match(cidr.addr, cidr.bits) : matchPattern(addrText, cp)
    if (found) {
      if (neg) return -1
      ret = 1
    }
  }
  return ret
}

/** match_hostname(): the host name in lower case against a pattern list (patterns lower-cased too). */
export function matchHostname(host: string, list: string): -1 | 0 | 1 {
  return matchPatternList(host.toLowerCase(), list, true)
}

/** match_host_and_ip(): 1 allowed, 0 not (or a negation matched), -1 the list has an invalid address entry. */
export function matchHostAndIp(host: string, ip: string, list: string): -1 | 0 | 1 {
  const mip = addrMatchList(ip, list)
  if (mip === -2) return -1
  if (mip === -1) return 0
  const mhost = matchHostname(host, list)
  if (mhost === -1) return 0
  if (mhost === 0 && mip === 0) return 0
  return 1
}

/** match_user(): `user` or `user@host-list` (the host part may hold CIDRs and negations). */
export function matchUser(user: string, host: string, ip: string, pattern: string): -1 | 0 | 1 {
  const at = pattern.indexOf('@')
  if (at === -1) return matchPattern(user, pattern) ? 1 : 0
  if (!matchPattern(user, pattern.slice(0, at))) return 0
  return matchHostAndIp(host, ip, pattern.slice(at + 1))
}

// ------------------------------------------------------------------------------------------------- permitopen

export interface OpenPermission {
  /** Host as sshd stores it (brackets removed): `*` means any host. */
  host: string
  /** Port, or '*' for any. */
  port: number | '*'
  /** The entry as written. */
  text: string
}

/** One PermitOpen / permitopen entry (`host:port`, `[v6]:port`, `host/port`; `*` for host or port). */
export function parseOpenPermission(text: string): OpenPermission | undefined {
  let host: string
  let rest: string
  if (text.startsWith('[')) {
    const end = text.indexOf(']')
    if (end === -1) return undefined
    host = text.slice(1, end)
    rest = text.slice(end + 1)
    if (!rest.startsWith(':') && !rest.startsWith('/')) return undefined
    rest = rest.slice(1)
  } else {
    const sep = text.search(/[:/]/)
    if (sep <= 0) return undefined
    host = text.slice(0, sep)
    rest = text.slice(sep + 1)
  }
  if (rest === '*') return {host, port: '*', text}
  if (!/^\d{1,5}$/.test(rest) || Number(rest) < 1 || Number(rest) > 65535) return undefined
  return {host, port: Number(rest), text}
}

/** channels.c open_match(): the port must be equal (or `*`), the host string literally equal (or `*`). */
export function openAllows(p: OpenPermission, host: string, port: number): boolean {
  return (p.port === '*' || p.port === port) && (p.host === '*' || p.host === host)
}

// ------------------------------------------------------------------------------------------------ CIDR samples

function toBig(a: Addr): bigint {
  return a.toByteArray().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n)
}

function fromBig(n: bigint, v4: boolean): Addr {
  const len = v4 ? 4 : 16
  const bytes: number[] = []
  for (let i = 0; i < len; i++) bytes.push(Number((n >> BigInt(8 * (len - 1 - i))) & 0xffn))
  return ipaddr.fromByteArray(bytes)
}

/** The network a vendor address or CIDR names, as first/last address (undefined when it is neither). */
export function cidrRange(text: string): {first: Addr; last: Addr; bits: number; v4: boolean} | undefined {
  const slash = text.indexOf('/')
  const addr = parseAddr(slash === -1 ? text : text.slice(0, slash))
  if (!addr) return undefined
  const v4 = addr.kind() === 'ipv4'
  const max = v4 ? 32 : 128
  const bits = slash === -1 ? max : Number(text.slice(slash + 1))
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined
  const hostBits = BigInt(max - bits)
  const base = (toBig(addr) >> hostBits) << hostBits
  return {first: fromBig(base, v4), last: fromBig(base + (1n << hostBits) - 1n, v4), bits, v4}
}

/**
 * Addresses that stand for a vendor range when judging a pattern list: every address of a range up to 256 addresses,
 * else its first, middle and last address plus the edges of every CIDR in `list` that fall inside it.
 */
export function sampleAddresses(cidr: string, list = ''): string[] {
  const r = cidrRange(cidr)
  if (!r) return []
  const first = toBig(r.first)
  const last = toBig(r.last)
  const count = last - first + 1n
  const out = new Set<bigint>()
  if (count <= 256n) {
    for (let n = first; n <= last; n++) out.add(n)
  } else {
    out.add(first).add(last).add(first + count / 2n)
    for (let e of list.split(',')) {
      if (e.startsWith('!')) e = e.slice(1)
      const c = cidrRange(e)
      if (!c || c.v4 !== r.v4) continue
      for (const n of [toBig(c.first), toBig(c.last), toBig(c.first) - 1n, toBig(c.last) + 1n]) if (n >= first && n <= last) out.add(n)
    }
  }
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n) => fromBig(n, r.v4).toString())
}
