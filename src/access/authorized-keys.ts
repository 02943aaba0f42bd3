// Reading authorized_keys lines and rendering bastion's own lines. Pure; follows OpenSSH's reading of the file
// (auth2-pubkey.c check_authkey_line, sshkey_advance_past_options, sshkey_read; auth-options.c sshauthopt_parse).
import {inputError} from '../errors.js'
import {
  KeyBlobError,
  MIN_RSA_BITS,
  OPENSSH_MIN_RSA_BITS,
  canonicalKeyType,
  decodeBase64Strict,
  decodeBlob,
  fingerprintOf,
  isCertificateType,
  isKnownKeyTypeName,
  sanitizeComment,
  type PublicKey,
} from './keys.js'

export interface KeyOption {
  /** Lower-cased option name, e.g. `restrict`, `permitopen`, `from`, `expiry-time`, `command`. */
  name: string
  /** Unquoted value for `name="value"` options (backslash-escaped quotes undone); undefined for flags. */
  value?: string
}

/** bastion's ownership tag, one comment token: `bastion:vendor=<name>,added=<YYYY-MM-DD>`. */
export interface OwnerTag {
  vendor: string
  added?: string
}

export interface AuthorizedKeyLine {
  /** 1-based line number in the file. */
  lineNo: number
  /** The line exactly as in the file, without its line terminator (a trailing \r is kept here). */
  raw: string
  kind: 'key' | 'comment' | 'blank' | 'invalid'
  /** Parsed options (empty when none). Quoted values may contain commas and spaces. */
  options: KeyOption[]
  /** The options field as written ('' when none). */
  optionsText: string
  /** For kind 'key': the parsed key (type, base64, comment, bits, algorithm, fingerprint). */
  key?: PublicKey
  /** The ownership tag when bastion wrote this line. */
  owner?: OwnerTag
  /** Problems seen on this line (CRLF, bad base64, unknown type, unbalanced quote …), each a sentence. */
  problems: string[]
}

/** Error code thrown by parseOptions for option text OpenSSH would reject. */
export const OPTIONS_SYNTAX = 'KEY_OPTIONS_SYNTAX'
/** Error code thrown by renderVendorLine for values that cannot go into a key line. */
export const LINE_VALUE = 'KEY_LINE_VALUE'

/** Options sshd understands (sshauthopt_parse, OpenSSH 9/10): flags (with `no-` forms where allowed) and valued ones. */
const FLAGS = new Set(['restrict', 'cert-authority'])
const NEGATABLE_FLAGS = new Set(['port-forwarding', 'agent-forwarding', 'x11-forwarding', 'touch-required', 'verify-required', 'pty', 'user-rc'])
const VALUED = new Set(['command', 'principals', 'from', 'expiry-time', 'environment', 'permitopen', 'permitlisten', 'tunnel'])
/** Valued options that sshd refuses to see twice on one line. */
const SINGLE = new Set(['command', 'principals', 'from'])

export const OWNER_TAG_PREFIX = 'bastion:'

// ---------------------------------------------------------------------------------------------------------------
// Options

interface OptionScan {
  options: KeyOption[]
  error?: string
}

/** The options grammar of auth-options.c, without judging names: `name` or `name="value"`, comma separated. */
function scanOptions(text: string): OptionScan {
  const options: KeyOption[] = []
  let i = 0
  if (text === '') return {options}
  for (;;) {
    const start = i
    while (i < text.length && !'=, \t"'.includes(text[i]!)) i++
    const name = text.slice(start, i)
    if (name === '') {
      return {options, error: i < text.length && text[i] === '"' ? `a quote where an option name was expected (at character ${i + 1})` : `an empty option name (at character ${i + 1})`}
    }
    if (text[i] === '"') return {options, error: `a quote inside the option name "${name}"`}
    if (text[i] === '=') {
      i++
      if (text[i] !== '"') return {options, error: `the value of option "${name}" is not in double quotes (OpenSSH requires ${name}="…")`}
      i++
      let value = ''
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && text[i + 1] === '"') i++
        value += text[i]
        i++
      }
      if (i >= text.length) return {options, error: `unbalanced quotes: the value of option "${name}" has no closing quote`}
      i++
      options.push({name: name.toLowerCase(), value})
    } else {
      options.push({name: name.toLowerCase()})
    }
    if (i >= text.length) return {options}
    if (text[i] === ' ' || text[i] === '\t') return {options, error: `unexpected whitespace after option "${name}" (options are separated by commas, without spaces)`}
    if (text[i] !== ',') return {options, error: `unexpected "${text[i]}" after option "${name}"`}
    i++
    if (i >= text.length) return {options, error: 'a trailing comma after the last option'}
  }
}

/** Parse an options field (`restrict,permitopen="a:1",from="10.0.0.0/8,192.168.1.1"`). Throws on unbalanced quotes. */
export function parseOptions(text: string): KeyOption[] {
  const scan = scanOptions(text)
  if (scan.error) {
    throw inputError(OPTIONS_SYNTAX, `Invalid authorized_keys options "${text.length > 80 ? text.slice(0, 77) + '...' : text}": ${scan.error}. sshd ignores a line whose options do not parse.`, [
      'Write options as name or name="value", separated by commas without spaces; escape a double quote inside a value as \\".',
    ])
  }
  return scan.options
}

/** What sshd would object to in well-formed options (unknown names, flags with values, repeated clauses). */
export function optionProblems(options: KeyOption[]): string[] {
  const problems: string[] = []
  const seen = new Set<string>()
  for (const o of options) {
    const flagName = o.name.startsWith('no-') && NEGATABLE_FLAGS.has(o.name.slice(3)) ? o.name.slice(3) : o.name
    if (FLAGS.has(o.name) || NEGATABLE_FLAGS.has(flagName)) {
      if (o.value !== undefined) problems.push(`Option "${o.name}" takes no value; sshd ignores this line.`)
    } else if (VALUED.has(o.name)) {
      if (o.value === undefined) problems.push(`Option "${o.name}" needs a value (${o.name}="…"); sshd ignores this line.`)
      if (SINGLE.has(o.name) && seen.has(o.name)) problems.push(`Option "${o.name}" appears more than once; sshd ignores this line.`)
    } else {
      problems.push(`Unknown option "${o.name}"; sshd ignores this line.`)
    }
    seen.add(o.name)
  }
  return problems
}

/** sshkey_advance_past_options: the end of the options field (first space/tab outside quotes), or -1 when a quote is open. */
function endOfOptions(text: string): number {
  let quoted = false
  let i = 0
  for (; i < text.length && (quoted || (text[i] !== ' ' && text[i] !== '\t')); i++) {
    if (text[i] === '\\' && text[i + 1] === '"') i++
    else if (text[i] === '"') quoted = !quoted
  }
  return quoted ? -1 : i
}

// ---------------------------------------------------------------------------------------------------------------
// Keys in lines

type KeyRead =
  | {ok: true; key: PublicKey; problems: string[]; refused: boolean}
  | {ok: false; startsWithType: boolean; reason: string}

/** sshkey_read at the start of `text`: type, whitespace, base64 blob, optional comment. */
function readKey(text: string): KeyRead {
  const m = /^([^ \t]+)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/.exec(text)
  const typeTok = /^[^ \t]*/.exec(text)![0]
  const canonical = canonicalKeyType(typeTok)
  const known = canonical !== undefined || isKnownKeyTypeName(typeTok)
  if (!known) return {ok: false, startsWithType: false, reason: `"${typeTok.slice(0, 40)}" is not a key type`}
  if (!m) return {ok: false, startsWithType: true, reason: `the key type "${typeTok}" is not followed by key data`}
  const b64 = m[2]!
  const dec = decodeBase64Strict(b64)
  if (!dec.ok) {
    return {ok: false, startsWithType: true, reason: `${dec.reason}${/characters are missing|not a valid ending/.test(dec.reason) ? ' (a key wrapped over several lines, or cut off?)' : ''}`}
  }
  let decoded
  try {
    decoded = decodeBlob(dec.blob)
  } catch (e) {
    if (!(e instanceof KeyBlobError)) throw e
    const hint = e.code === 'KEY_TRUNCATED' ? ' (a key wrapped over several lines, or cut off?)' : ''
    return {ok: false, startsWithType: true, reason: `${e.message}${hint}`}
  }
  if (isCertificateType(typeTok) || canonical !== decoded.type) {
    return {ok: false, startsWithType: true, reason: `the line says "${typeTok}" but the key data is a ${decoded.type} key`}
  }
  const problems: string[] = []
  if (typeTok !== decoded.type) problems.push(`The key type is written "${typeTok}"; its usual name is "${decoded.type}".`)
  const c = sanitizeComment(m[3] ?? '')
  if (c.dropped) problems.push('The comment contains control characters.')
  let refused = false
  if (decoded.type === 'ssh-dss') {
    problems.push('DSA keys are disabled since OpenSSH 7.0 (and removed in OpenSSH 10): sshd refuses this key unless PubkeyAcceptedAlgorithms re-enables ssh-dss; replace it with an ed25519 key.')
  } else if (decoded.type === 'ssh-rsa' && decoded.bits < OPENSSH_MIN_RSA_BITS) {
    problems.push(`This RSA key has ${decoded.bits} bits; OpenSSH refuses RSA keys shorter than ${OPENSSH_MIN_RSA_BITS} bits, so sshd ignores this line.`)
    refused = true
  } else if (decoded.type === 'ssh-rsa' && decoded.bits < MIN_RSA_BITS) {
    problems.push(`This RSA key has ${decoded.bits} bits, below the ${MIN_RSA_BITS}-bit minimum; replace it with an ed25519 key or RSA of 3072 bits.`)
  }
  return {
    ok: true,
    key: {
      type: decoded.type,
      base64: dec.blob.toString('base64'),
      comment: c.comment,
      bits: decoded.bits,
      algorithm: decoded.algorithm,
      fingerprint: fingerprintOf(dec.blob),
    },
    problems,
    refused,
  }
}

const CRLF_PROBLEM =
  'The line ends with a carriage return (CRLF, a Windows line ending); sshd still reads the key, but the file was edited on Windows: convert it to LF endings (`sed -i "s/\\r$//" authorized_keys`).'

function parseLine(raw: string, lineNo: number): AuthorizedKeyLine {
  const out: AuthorizedKeyLine = {lineNo, raw, kind: 'invalid', options: [], optionsText: '', problems: []}
  let s = raw
  if (s.endsWith('\r')) {
    out.problems.push(CRLF_PROBLEM)
    s = s.slice(0, -1)
  }
  const body = s.replace(/^[ \t]+/, '')
  if (body.trim() === '') {
    out.kind = 'blank'
    return out
  }
  if (body.startsWith('#')) {
    out.kind = 'comment'
    return out
  }
  if (body.includes('\0')) {
    out.problems.push('The line contains a NUL byte; sshd cannot read it.')
    return out
  }

  let read = readKey(body)
  let first: KeyRead | undefined
  if (!read.ok) {
    // No key at the start: OpenSSH skips an options field (quotes honoured), then reads the key.
    first = read
    const end = endOfOptions(body)
    if (end === -1) {
      out.optionsText = body
      out.problems.push('Unbalanced quotes in the options: a value has no closing quote; sshd ignores this line.')
      return out
    }
    out.optionsText = body.slice(0, end)
    read = readKey(body.slice(end).replace(/^[ \t]+/, ''))
  }
  if (!read.ok) {
    if (first && !first.ok && first.startsWithType) {
      out.optionsText = ''
      out.problems.push(`The key is invalid: ${first.reason}; sshd ignores this line.`)
    } else if (read.startsWithType) {
      out.problems.push(`The key is invalid: ${read.reason}; sshd ignores this line.`)
    } else if (/^[A-Za-z0-9+/]{16,}={0,2}$/.test(out.optionsText)) {
      out.optionsText = ''
      out.problems.push('No key type on this line, only base64 data: it looks like the continuation of a key wrapped over several lines (authorized_keys needs each key on one line); sshd ignores it.')
    } else {
      out.problems.push('No key found: the line neither starts with a key type nor with options followed by a key type; sshd ignores it.')
    }
    return out
  }

  out.key = read.key
  out.problems.push(...read.problems)
  const owner = parseOwnerTag(read.key.comment)
  if (owner) out.owner = owner
  let optionsOk = true
  if (out.optionsText !== '') {
    const scan = scanOptions(out.optionsText)
    out.options = scan.options
    if (scan.error) {
      out.problems.push(`The options do not parse: ${scan.error}; sshd ignores this line.`)
      optionsOk = false
    } else {
      const p = optionProblems(scan.options)
      out.problems.push(...p)
      if (p.length > 0) optionsOk = false
    }
  }
  out.kind = optionsOk && !read.refused ? 'key' : 'invalid'
  return out
}

/** Parse a whole authorized_keys file. Never throws: bad lines come back as kind 'invalid' with problems. */
export function parseAuthorizedKeys(text: string): AuthorizedKeyLine[] {
  const rawLines = text.split('\n')
  if (rawLines.length > 0 && rawLines[rawLines.length - 1] === '') rawLines.pop()
  const lines = rawLines.map((raw, i) => parseLine(raw, i + 1))
  const firstSeen = new Map<string, number>()
  for (const l of lines) {
    if (!l.key || l.kind !== 'key') continue
    const prev = firstSeen.get(l.key.fingerprint)
    if (prev === undefined) firstSeen.set(l.key.fingerprint, l.lineNo)
    else {
      l.problems.push(`The same key is also on line ${prev}; sshd uses the first of these lines whose options allow the login, so the options here may never apply.`)
    }
  }
  return lines
}

// ---------------------------------------------------------------------------------------------------------------
// Ownership tag

export function formatOwnerTag(tag: OwnerTag): string {
  return `${OWNER_TAG_PREFIX}vendor=${tag.vendor}${tag.added ? `,added=${tag.added}` : ''}`
}

/** Find the ownership tag in a comment, if any. */
export function parseOwnerTag(comment: string): OwnerTag | undefined {
  const tokens = comment.split(/\s+/).filter((t) => t !== '')
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!
    if (!tok.startsWith(OWNER_TAG_PREFIX)) continue
    const fields = new Map<string, string>()
    for (const part of tok.slice(OWNER_TAG_PREFIX.length).split(',')) {
      const eq = part.indexOf('=')
      if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1))
    }
    // Also read the early `bastion:vendor=x added=YYYY-MM-DD` spelling (two tokens).
    const next = tokens[i + 1]
    if (!fields.has('added') && next && /^added=\d{4}-\d{2}-\d{2}$/.test(next)) fields.set('added', next.slice(6))
    const vendor = fields.get('vendor')
    if (!vendor) continue
    const added = fields.get('added')
    return {vendor, ...(added ? {added} : {})}
  }
  return undefined
}

/** The comment without any bastion ownership tag, whitespace collapsed. */
export function stripOwnerTag(comment: string): string {
  const tokens = comment.split(/\s+/).filter((t) => t !== '')
  const kept: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!
    if (tok.startsWith(OWNER_TAG_PREFIX)) {
      if (!tok.includes('added=') && /^added=/.test(tokens[i + 1] ?? '')) i++
      continue
    }
    kept.push(tok)
  }
  return kept.join(' ')
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

export interface VendorLineSpec {
  key: PublicKey
  vendor: string
  /** `host:port` or `[v6]:port`, at least one. */
  permitOpen: string[]
  /** CIDRs or addresses for `from=`; omitted when empty. */
  from?: string[]
  /** Expiry as `YYYYMMDD` or `YYYYMMDDHHMM[SS]` (OpenSSH expiry-time); omitted when undefined. */
  expiryTime?: string
  /** Date the line was first added, YYYY-MM-DD. */
  added: string
}

function valueError(what: string, value: string, why: string, fix: string): never {
  throw inputError(LINE_VALUE, `Cannot write ${what} "${value}" into an authorized_keys line: ${why}.`, [fix], {value})
}

function checkQuotable(what: string, value: string): void {
  if (value.includes('"')) valueError(what, value, 'it contains a double quote, which would end the quoted option value early', 'Remove the double quote.')
  if (/[\u0000-\u001f\u007f]/.test(value)) valueError(what, value, 'it contains a control character or line break', 'Remove the control character.')
}

const PERMIT_OPEN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9*._-]+):(?:\*|\d{1,5})$/

/**
 * The forced command of every vendor line. A tunnel (`ssh -N`, direct-tcpip) opens no session, so it never runs; a
 * session the client does open runs this instead of anything the vendor asks for, whatever the account's shell.
 */
export const VENDOR_FORCED_COMMAND = '/bin/false'

/**
 * Render bastion's least-privilege line:
 * `restrict,port-forwarding,permitopen="h:p"[,permitopen="…"][,from="a,b"][,expiry-time="…"],command="/bin/false" <type> <base64> [<comment> ]bastion:vendor=<v>,added=<d>`
 */
export function renderVendorLine(spec: VendorLineSpec): string {
  const {key, vendor, permitOpen, from, expiryTime, added} = spec
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(vendor)) {
    valueError('vendor name', vendor, 'it must start with a letter, digit or "_" and hold only letters, digits, ".", "_" or "-" (it becomes part of a comment tag)', 'Use a short name such as "hevo" or "fivetran".')
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(added)) valueError('added date', added, 'it must be YYYY-MM-DD', 'Pass the date as YYYY-MM-DD.')
  if (permitOpen.length === 0) {
    throw inputError(LINE_VALUE, 'A vendor key line needs at least one permitopen destination: without one the key would allow no tunnel (or, without restrict, every tunnel).', [
      'Pass the database as --db host:port.',
    ])
  }
  for (const p of permitOpen) {
    checkQuotable('permitopen destination', p)
    const port = /:(\d+)$/.exec(p)?.[1]
    if (!PERMIT_OPEN.test(p) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
      valueError('permitopen destination', p, 'it must be host:port or [IPv6]:port with a port from 1 to 65535 (or *)', 'Write it like db.internal:5432 or [2001:db8::5]:5432.')
    }
  }
  for (const f of from ?? []) {
    checkQuotable('from= address', f)
    if (f === '' || /[\s,]/.test(f)) valueError('from= address', f, 'each entry must be one address, CIDR or pattern without spaces or commas', 'Pass one CIDR per entry, e.g. 52.6.1.1/32.')
  }
  if (expiryTime !== undefined) {
    checkQuotable('expiry-time', expiryTime)
    if (!/^\d{8}(?:\d{4}(?:\d{2})?)?Z?$/.test(expiryTime)) valueError('expiry-time', expiryTime, 'OpenSSH expects YYYYMMDD or YYYYMMDDHHMM[SS], optionally ending in Z (UTC)', 'Write it like 20261231.')
  }
  if (!/^[\x21-\x7e]+$/.test(key.type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(key.base64)) {
    valueError('key', `${key.type} ${key.base64.slice(0, 20)}…`, 'the key type or data is not a clean single token', 'Parse the key with parsePublicKey first.')
  }

  const opts = ['restrict', 'port-forwarding', ...permitOpen.map((p) => `permitopen="${p}"`)]
  if (from && from.length > 0) opts.push(`from="${from.join(',')}"`)
  if (expiryTime !== undefined) opts.push(`expiry-time="${expiryTime}"`)
  opts.push(`command="${VENDOR_FORCED_COMMAND}"`)
  const comment = stripOwnerTag(sanitizeComment(key.comment).comment)
  const tag = formatOwnerTag({vendor, added})
  return `${opts.join(',')} ${key.type} ${key.base64} ${comment === '' ? '' : comment + ' '}${tag}`
}
