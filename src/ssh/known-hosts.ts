/**
 * known_hosts files, read the way OpenSSH reads them (hostfile.c / match.c):
 * - one entry per line: `[@marker] hosts keytype base64 [comment]`; blank lines and `#` comments skipped;
 * - `hosts` is a comma-separated pattern list (`*`, `?`, `!negation`, `[host]:port`), matched case-insensitively,
 *   or one hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`;
 * - `@revoked` keys are refused, `@cert-authority` lines only vouch for certificates (ignored for plain keys);
 * - any other key recorded for the host that differs from the presented one means the key changed
 *   (OpenSSH's HOST_CHANGED, whatever the key type).
 */
import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import {appendFileSync, closeSync, existsSync, mkdirSync, openSync, readSync, fstatSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {BastionError, Exit} from '../errors.js'
import {CONFIG_FILE_MAX_BYTES, readLimited} from '../input/file.js'
import {blobKeyType, sha256Fingerprint} from './fingerprint.js'

export type KnownHostMarker = 'revoked' | 'cert-authority'

export interface KnownHostEntry {
  file: string
  /** 1-based line number in `file`. */
  line: number
  marker?: KnownHostMarker
  /** The host field as written (pattern list or hashed name). */
  hosts: string
  hashed: boolean
  /** Key type as written, e.g. `ssh-ed25519`. */
  keyType: string
  keyBase64: string
  blob: Buffer
  fingerprint: string
  comment: string
}

export type HostKeyStatus = 'match' | 'unknown' | 'changed' | 'revoked'

export interface HostKeyCheck {
  status: HostKeyStatus
  /** Fingerprint of the presented key. */
  fingerprint: string
  /** Type read from the presented key blob. */
  keyType: string
  /** The entry that matched (status 'match') or revoked it (status 'revoked'). */
  entry?: KnownHostEntry
  /** For 'changed': the recorded keys that differ from the presented one. */
  previous: KnownHostEntry[]
}

/** Default user known_hosts file, `~/.ssh/known_hosts`. */
export function defaultUserKnownHostsFile(): string {
  return join(homedir(), '.ssh', 'known_hosts')
}

/** System-wide known_hosts files, read only. */
export const GLOBAL_KNOWN_HOSTS_FILES = ['/etc/ssh/ssh_known_hosts']

/** The name OpenSSH records a host under: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase()
  return port === 22 ? h : `[${h}]:${port}`
}

/** OpenSSH's `match_pattern`: `*` any run of characters, `?` exactly one character. */
export function matchPattern(text: string, pattern: string): boolean {
  // Iterative wildcard match with backtracking on the last `*`.
  let t = 0
  let p = 0
  let star = -1
  let mark = 0
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      t++
      p++
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++
      mark = t
    } else if (star !== -1) {
      p = star + 1
      t = ++mark
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++
  return p === pattern.length
}

/**
 * OpenSSH's `match_pattern_list(host, patterns, dolower=1)`: 1 when a positive pattern matches,
 * -1 when a negated (`!`) pattern matches (which vetoes the line), 0 otherwise.
 */
export function matchPatternList(name: string, patterns: string): 1 | 0 | -1 {
  const text = name.toLowerCase()
  let positive = false
  for (const raw of patterns.split(',')) {
    const negated = raw.startsWith('!')
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase()
    if (matchPattern(text, pattern)) {
      if (negated) return -1
      positive = true
    }
  }
  return positive ? 1 : 0
}

/** `|1|salt|hash` for `name` (lower-cased), as `ssh-keygen -H` writes it. A random salt unless one is given. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const mac = createHmac('sha1', salt).update(name.toLowerCase()).digest()
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`
}

/** Does a hashed host field `|1|salt|hash` stand for `name`? undefined when the field is malformed. */
export function matchHashed(name: string, field: string): boolean | undefined {
  const parts = field.split('|')
  // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return undefined
  const salt = Buffer.from(parts[2] ?? '', 'base64')
  const want = Buffer.from(parts[3] ?? '', 'base64')
  if (salt.length !== 20 || want.length !== 20) return undefined
  const got = createHmac('sha1', salt).update(name.toLowerCase()).digest()
  return timingSafeEqual(got, want)
}

/** Does the host field of a known_hosts line (hashed or pattern list) match `name`? */
export function hostFieldMatches(name: string, hosts: string): boolean {
  if (hosts.startsWith('|')) return matchHashed(name, hosts) === true
  return matchPatternList(name, hosts) === 1
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/** Parse every valid entry of a known_hosts text (no host filtering). Invalid lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file = '<known_hosts>'): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    let rest = (lines[i] ?? '').replace(/\r$/, '').replace(/^[ \t]+/, '')
    if (rest === '' || rest.startsWith('#')) continue
    let marker: KnownHostMarker | undefined
    if (rest.startsWith('@')) {
      const m = /^@(cert-authority|revoked)[ \t]+/.exec(rest)
      if (!m) continue // unknown marker: invalid line
      marker = m[1] as KnownHostMarker
      rest = rest.slice(m[0].length)
    }
    const fields = rest.split(/[ \t]+/)
    const [hosts, keyType, keyBase64] = fields
    if (!hosts || !keyType || !keyBase64 || keyType.startsWith('#')) continue
    if (!BASE64.test(keyBase64)) continue
    const blob = Buffer.from(keyBase64, 'base64')
    if (blobKeyType(blob) !== keyType) continue // corrupt, or an RSA1 `bits e n` line
    entries.push({
      file,
      line: i + 1,
      ...(marker ? {marker} : {}),
      hosts,
      hashed: hosts.startsWith('|'),
      keyType,
      keyBase64,
      blob,
      fingerprint: sha256Fingerprint(blob),
      comment: fields.slice(3).join(' '),
    })
  }
  return entries
}

function readIfExists(file: string): string | undefined {
  try {
    return readLimited(file, {
      label: `known_hosts file ${file}`,
      holds: 'a known_hosts file',
      maxBytes: CONFIG_FILE_MAX_BYTES,
      fix: ['Check the --known-hosts path (or UserKnownHostsFile in ssh config): it names a known_hosts text file, e.g. ~/.ssh/known_hosts.'],
    }).toString('utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES') return undefined
    throw error
  }
}

/** Every entry (markers included) whose host field matches `name`, from each file in order. Missing files are skipped. */
export function lookupHostKeys(name: string, files: string[]): KnownHostEntry[] {
  const found: KnownHostEntry[] = []
  for (const file of files) {
    const text = readIfExists(file)
    if (text === undefined) continue
    for (const entry of parseKnownHosts(text, file)) {
      if (hostFieldMatches(name, entry.hosts)) found.push(entry)
    }
  }
  return found
}

/** Plain key types recorded for `name` (no markers), in file order, without duplicates. */
export function knownKeyTypes(name: string, files: string[]): string[] {
  const types: string[] = []
  for (const e of lookupHostKeys(name, files)) {
    if (!e.marker && !types.includes(e.keyType)) types.push(e.keyType)
  }
  return types
}

/** Check a presented host key blob against the known_hosts files, with details for messages. */
export function checkHostKey(name: string, blob: Buffer, files: string[]): HostKeyCheck {
  const entries = lookupHostKeys(name, files)
  const fingerprint = sha256Fingerprint(blob)
  const keyType = blobKeyType(blob) ?? 'unknown'
  const revokedBy = entries.find((e) => e.marker === 'revoked' && e.blob.equals(blob))
  if (revokedBy) return {status: 'revoked', fingerprint, keyType, entry: revokedBy, previous: []}
  const plain = entries.filter((e) => !e.marker)
  const same = plain.find((e) => e.blob.equals(blob))
  if (same) return {status: 'match', fingerprint, keyType, entry: same, previous: []}
  if (plain.length > 0) return {status: 'changed', fingerprint, keyType, previous: plain}
  return {status: 'unknown', fingerprint, keyType, previous: []}
}

/** 'match' | 'unknown' | 'changed' | 'revoked' for a presented host key blob. */
export function verifyHostKey(name: string, presentedKeyBlob: Buffer, files: string[]): HostKeyStatus {
  return checkHostKey(name, presentedKeyBlob, files).status
}

/** The line OpenSSH would append (plain, lower-cased name). */
export function knownHostsLine(name: string, keyType: string, base64: string): string {
  return `${name.toLowerCase()} ${keyType} ${base64}`
}

/**
 * Append `name keyType base64` to `file`. Creates the parent directory (0700) and the file (0600) when missing,
 * and starts on a new line if the file does not end with one.
 */
export function appendKnownHost(file: string, name: string, keyType: string, base64: string): void {
  if (!/^[\x21-\x7e]+$/.test(name) || /[\s,]/.test(name)) {
    throw new BastionError('KNOWN_HOSTS_NAME', `Refusing to record an unusual host name in known_hosts: ${JSON.stringify(name)}`, {exit: Exit.FAILED})
  }
  if (!/^[\x21-\x7e]+$/.test(keyType) || !BASE64.test(base64)) {
    throw new BastionError('KNOWN_HOSTS_KEY', 'Refusing to record a malformed host key in known_hosts.', {exit: Exit.FAILED})
  }
  const path = resolve(file)
  const dir = dirname(path)
  try {
    if (!existsSync(dir)) mkdirSync(dir, {recursive: true, mode: 0o700})
    let prefix = ''
    if (existsSync(path)) {
      const fd = openSync(path, 'r')
      try {
        const size = fstatSync(fd).size
        if (size > 0) {
          const last = Buffer.alloc(1)
          readSync(fd, last, 0, 1, size - 1)
          if (last[0] !== 0x0a) prefix = '\n'
        }
      } finally {
        closeSync(fd)
      }
    }
    appendFileSync(path, `${prefix}${knownHostsLine(name, keyType, base64)}\n`, {mode: 0o600})
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    throw new BastionError('KNOWN_HOSTS_WRITE', `Cannot record the host key in ${path}: ${e.message}`, {
      exit: Exit.FAILED,
      cause: e,
      suggestions: [`Check that ${dir} is writable, or pass --known-hosts <file> pointing to a writable file.`],
    })
  }
}
