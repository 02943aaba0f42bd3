// Parsing and judging a vendor's OpenSSH public key. Pure: node:crypto only, no I/O.
// The blob checks follow OpenSSH's sshkey_from_blob()/sshkey_read() (sshkey.c, sshbuf-getput-*.c) so a key we
// accept is a key sshd accepts, and bits/fingerprints are exactly what `ssh-keygen -lf` prints.
import {createPublicKey} from 'node:crypto'
import {sha256Fingerprint} from '../ssh/fingerprint.js'
import {BastionError, inputError} from '../errors.js'

export type KeyAlgorithm = 'ED25519' | 'ECDSA' | 'RSA' | 'DSA' | 'ED25519-SK' | 'ECDSA-SK'

export interface PublicKey {
  /** Wire type, e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  type: string
  /** The key blob in base64, exactly as it appears in authorized_keys (canonical, no whitespace). */
  base64: string
  /** The trailing comment (may be ''), with control characters removed. */
  comment: string
  /** Key size in bits, as `ssh-keygen -l` prints it (256 for ed25519, 2048+ for RSA, 256/384/521 for ECDSA). */
  bits: number
  /** Family label as `ssh-keygen -l` prints in parentheses: ED25519, RSA, ECDSA … */
  algorithm: KeyAlgorithm
  /** `SHA256:<unpadded base64>` exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string
}

export interface ParsedKey {
  key: PublicKey
  /** Repairs made (CRLF stripped, wrapped lines joined …), each a sentence for the user. */
  warnings: string[]
}

/** Key types bastion accepts from a vendor (plain keys; no certificates, no DSA). */
export const ACCEPTED_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const

/** Smallest RSA modulus bastion accepts (NIST SP 800-57 / OpenSSH's own default). */
export const MIN_RSA_BITS = 2048
/** OpenSSH refuses to load RSA keys below this (SSH_RSA_MINIMUM_MODULUS_SIZE) or above 16384 bits. */
export const OPENSSH_MIN_RSA_BITS = 1024
export const OPENSSH_MAX_RSA_BITS = 16384

/** Error codes `parsePublicKey` and `describeBlob` throw (all exit 2). */
export const KeyError = {
  EMPTY: 'KEY_EMPTY',
  NUL: 'KEY_NUL',
  CONTROL_CHAR: 'KEY_CONTROL_CHAR',
  PRIVATE: 'KEY_PRIVATE',
  FORMAT: 'KEY_FORMAT',
  BASE64: 'KEY_BASE64',
  MISSING_BLOB: 'KEY_MISSING_BLOB',
  TRUNCATED: 'KEY_TRUNCATED',
  TRAILING_DATA: 'KEY_TRAILING_DATA',
  BLOB: 'KEY_BLOB',
  TYPE_MISMATCH: 'KEY_TYPE_MISMATCH',
  CURVE_MISMATCH: 'KEY_CURVE_MISMATCH',
  EC_POINT: 'KEY_EC_POINT',
  OPTIONS: 'KEY_OPTIONS',
  LEADING_TEXT: 'KEY_LEADING_TEXT',
  MULTIPLE: 'KEY_MULTIPLE',
  DSA: 'KEY_DSA',
  RSA_TOO_SHORT: 'KEY_RSA_TOO_SHORT',
  CERT: 'KEY_CERT',
  TYPE_UNSUPPORTED: 'KEY_TYPE_UNSUPPORTED',
} as const

const SEND_PUB = 'Ask the vendor for the public key as ONE line: `<type> <base64> [comment]`, e.g. the contents of their `.pub` file or the key shown in their connection settings.'
const GOOD_TYPES = 'ssh-ed25519 (preferred), ecdsa-sha2-nistp256/384/521, or ssh-rsa with at least 2048 bits'

export type {BastionError}

// ---------------------------------------------------------------------------------------------------------------
// Key type names

interface TypeInfo {
  name: string
  algorithm: KeyAlgorithm
  /** ECDSA curve name as in the blob (`nistp256` …). */
  curve?: string
}

const TYPES: Record<string, TypeInfo> = {
  'ssh-ed25519': {name: 'ssh-ed25519', algorithm: 'ED25519'},
  'sk-ssh-ed25519@openssh.com': {name: 'sk-ssh-ed25519@openssh.com', algorithm: 'ED25519-SK'},
  'ssh-rsa': {name: 'ssh-rsa', algorithm: 'RSA'},
  'ssh-dss': {name: 'ssh-dss', algorithm: 'DSA'},
  'ecdsa-sha2-nistp256': {name: 'ecdsa-sha2-nistp256', algorithm: 'ECDSA', curve: 'nistp256'},
  'ecdsa-sha2-nistp384': {name: 'ecdsa-sha2-nistp384', algorithm: 'ECDSA', curve: 'nistp384'},
  'ecdsa-sha2-nistp521': {name: 'ecdsa-sha2-nistp521', algorithm: 'ECDSA', curve: 'nistp521'},
  'sk-ecdsa-sha2-nistp256@openssh.com': {name: 'sk-ecdsa-sha2-nistp256@openssh.com', algorithm: 'ECDSA-SK', curve: 'nistp256'},
}

/**
 * Other names OpenSSH's sshkey_type_from_name() accepts at the start of a key line: signature-algorithm names and
 * (case-insensitively) the short names `ssh-keygen -l` prints. Mapped to the canonical key type.
 */
const ALIASES: Record<string, string> = {
  'rsa-sha2-256': 'ssh-rsa',
  'rsa-sha2-512': 'ssh-rsa',
  'webauthn-sk-ecdsa-sha2-nistp256@openssh.com': 'sk-ecdsa-sha2-nistp256@openssh.com',
}
const SHORT_ALIASES: Record<string, string> = {
  'ed25519': 'ssh-ed25519',
  'ed25519-sk': 'sk-ssh-ed25519@openssh.com',
  'rsa': 'ssh-rsa',
  'dsa': 'ssh-dss',
  'ecdsa-sk': 'sk-ecdsa-sha2-nistp256@openssh.com',
}

/** Other names OpenSSH knows (certificates, XMSS): recognised as key types, never accepted. */
const OTHER_OPENSSH_TYPES = new Set([
  'ssh-xmss@openssh.com',
  'ssh-xmss-cert-v01@openssh.com',
])

export function isCertificateType(name: string): boolean {
  return /-cert-v0[01]@openssh\.com$/.test(name)
}

/**
 * The canonical key type for a type name as OpenSSH reads it at the start of a line (`ssh-ed25519`,
 * `rsa-sha2-512` → `ssh-rsa`, `ED25519` → `ssh-ed25519`); undefined for names OpenSSH does not know as a plain key.
 */
export function canonicalKeyType(name: string): string | undefined {
  if (TYPES[name]) return name
  if (ALIASES[name]) return ALIASES[name]
  return SHORT_ALIASES[name.toLowerCase()]
}

/** True when `token` names a key type OpenSSH knows, including certificates and types bastion refuses. */
export function isKnownKeyTypeName(token: string): boolean {
  return canonicalKeyType(token) !== undefined || isCertificateType(token) || OTHER_OPENSSH_TYPES.has(token)
}

/** Looks like a key type (known or not): `ssh-…`, `ecdsa-…`, `sk-…`, `x509v3-…`, or a known name. */
export function looksLikeKeyType(token: string): boolean {
  return isKnownKeyTypeName(token) || /^(?:ssh|ecdsa|sk|x509v3|pgp|spki|rsa)-[A-Za-z0-9@._+-]+$/.test(token)
}

// ---------------------------------------------------------------------------------------------------------------
// Blob decoding (SSH wire format, RFC 4251 §5)

/** A malformed blob: `code` is one of the KEY_* codes, `message` says what is wrong. */
export class KeyBlobError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'KeyBlobError'
    this.code = code
  }
}

/** OpenSSH's SSHBUF_MAX_BIGNUM: 16384 bits. */
const MAX_BIGNUM_BYTES = 16384 / 8

class Reader {
  pos = 0
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos
  }

  u32(what: string): number {
    if (this.remaining < 4) throw truncated(what)
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }

  string(what: string): Buffer {
    const len = this.u32(what)
    if (len > this.remaining) throw truncated(what)
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }

  /** A string that must not contain NUL (sshbuf_get_cstring). Decoded as latin1 so bytes survive for messages. */
  cstring(what: string): string {
    const b = this.string(what)
    if (b.includes(0)) throw new KeyBlobError(KeyError.BLOB, `the ${what} contains a NUL byte`)
    return b.toString('latin1')
  }

  /** An mpint (sshbuf_get_bignum2): positive, at most 16384 bits; returned without leading zero bytes. */
  mpint(what: string): Buffer {
    let d = this.string(what)
    if (d.length > 0 && (d[0]! & 0x80) !== 0) throw new KeyBlobError(KeyError.BLOB, `the ${what} is negative`)
    if (d.length > MAX_BIGNUM_BYTES + 1 || (d.length === MAX_BIGNUM_BYTES + 1 && d[0] !== 0)) {
      throw new KeyBlobError(KeyError.BLOB, `the ${what} is larger than 16384 bits`)
    }
    let i = 0
    while (i < d.length && d[i] === 0) i++
    d = d.subarray(i)
    return d
  }
}

function truncated(what: string): KeyBlobError {
  return new KeyBlobError(KeyError.TRUNCATED, `the key data ends in the middle of the ${what}`)
}

/** BN_num_bits of a big-endian magnitude without leading zeros. */
function numBits(mag: Buffer): number {
  if (mag.length === 0) return 0
  return (mag.length - 1) * 8 + (32 - Math.clz32(mag[0]!))
}

function toBigInt(b: Buffer): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + b.toString('hex'))
}

function bigBits(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length
}

interface Curve {
  bytes: number
  bits: number
  p: bigint
  b: bigint
  n: bigint
}

// NIST P-256/384/521 (a = -3): p, b and the group order n, as `openssl ecparam -param_enc explicit -text` prints them.
const CURVES: Record<string, Curve> = {
  nistp256: {
    bytes: 32,
    bits: 256,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  nistp384: {
    bytes: 48,
    bits: 384,
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
  nistp521: {
    bytes: 66,
    bits: 521,
    p: 0x1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffn,
    b: 0x51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    n: 0x1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
}

/** The checks of EC_POINT_oct2point (uncompressed, on the curve) and OpenSSH's sshkey_ec_validate_public. */
function checkEcPoint(point: Buffer, curveName: string): void {
  const c = CURVES[curveName]!
  if (point[0] === 0x02 || point[0] === 0x03) {
    throw new KeyBlobError(KeyError.EC_POINT, 'the ECDSA public point is in compressed form; OpenSSH only reads uncompressed points')
  }
  if (point[0] !== 0x04 || point.length !== 1 + 2 * c.bytes) {
    throw new KeyBlobError(KeyError.EC_POINT, `the ECDSA public point is malformed (${point.length} bytes; ${curveName} needs 0x04 and ${2 * c.bytes} bytes)`)
  }
  const x = toBigInt(point.subarray(1, 1 + c.bytes))
  const y = toBigInt(point.subarray(1 + c.bytes))
  const {p, b, n} = c
  if (x >= p || y >= p) throw new KeyBlobError(KeyError.EC_POINT, `the ECDSA public point is not on the ${curveName} curve`)
  const lhs = (y * y) % p
  const rhs = (((x * x) % p) * x - 3n * x + b) % p
  if (lhs !== ((rhs % p) + p) % p) {
    throw new KeyBlobError(KeyError.EC_POINT, `the ECDSA public point is not on the ${curveName} curve`)
  }
  // The curves have cofactor 1, so n·Q = O holds for every point on them; the remaining OpenSSH range checks:
  const half = Math.floor(bigBits(n) / 2)
  if (bigBits(x) <= half || bigBits(y) <= half || x >= n - 1n || y >= n - 1n) {
    throw new KeyBlobError(KeyError.EC_POINT, `the ECDSA public point fails OpenSSH's validity checks (sshkey_ec_validate_public)`)
  }
}

/** Everything read from a key blob. */
export interface DecodedBlob {
  type: string
  bits: number
  algorithm: KeyAlgorithm
  curve?: string
  /** Security-key application (`ssh:` usually) for -sk keys. */
  application?: string
}

/**
 * Decode a key blob the way OpenSSH's sshkey_from_blob() does; throws KeyBlobError on anything OpenSSH would refuse
 * except key sizes (RSA below 1024 bits is decoded; policy is the caller's job).
 */
export function decodeBlob(blob: Buffer): DecodedBlob {
  const r = new Reader(blob)
  if (blob.length === 0) throw new KeyBlobError(KeyError.TRUNCATED, 'the key data is empty')
  const type = r.cstring('key type name')
  if (isCertificateType(type)) {
    throw new KeyBlobError(KeyError.CERT, `the key data is an OpenSSH certificate (${type})`)
  }
  const info = TYPES[type]
  if (!info) {
    const printable = /^[\x21-\x7e]{1,64}$/.test(type) ? `"${type}"` : 'unreadable'
    throw new KeyBlobError(
      /^[\x21-\x7e]{1,64}$/.test(type) ? KeyError.TYPE_UNSUPPORTED : KeyError.BLOB,
      `the key data names an unknown key type (${printable})`,
    )
  }
  let bits: number
  let curve: string | undefined
  let application: string | undefined
  switch (info.algorithm) {
    case 'ED25519':
    case 'ED25519-SK': {
      const pk = r.string('ed25519 public key')
      if (pk.length !== 32) throw new KeyBlobError(KeyError.BLOB, `the ed25519 public key has ${pk.length} bytes instead of 32`)
      if (info.algorithm === 'ED25519-SK') application = r.cstring('security-key application')
      bits = 256
      break
    }
    case 'ECDSA':
    case 'ECDSA-SK': {
      curve = r.cstring('ECDSA curve name')
      if (curve !== info.curve) {
        throw new KeyBlobError(KeyError.CURVE_MISMATCH, `the key type says ${info.curve} but the key data is for curve "${curve}"`)
      }
      checkEcPoint(r.string('ECDSA public point'), curve)
      if (info.algorithm === 'ECDSA-SK') application = r.cstring('security-key application')
      bits = CURVES[curve]!.bits
      break
    }
    case 'RSA': {
      r.mpint('RSA public exponent')
      const n = r.mpint('RSA modulus')
      bits = numBits(n)
      if (bits > OPENSSH_MAX_RSA_BITS) throw new KeyBlobError(KeyError.BLOB, `the RSA modulus has ${bits} bits; OpenSSH reads at most ${OPENSSH_MAX_RSA_BITS}`)
      break
    }
    case 'DSA': {
      const p = r.mpint('DSA p')
      r.mpint('DSA q')
      r.mpint('DSA g')
      r.mpint('DSA public value')
      bits = numBits(p)
      break
    }
  }
  if (r.remaining !== 0) {
    throw new KeyBlobError(KeyError.TRAILING_DATA, `the key data has ${r.remaining} unexpected byte(s) after the ${type} key`)
  }
  return {type, bits, algorithm: info.algorithm, ...(curve ? {curve} : {}), ...(application !== undefined ? {application} : {})}
}

/** SHA256 fingerprint of a raw key blob: `SHA256:` + unpadded base64 of sha256(blob), as `ssh-keygen -lf` prints it. */
export const fingerprintOf: (blob: Buffer) => string = sha256Fingerprint

/** Type, bits and algorithm read from a raw key blob; throws BastionError on malformed blobs. */
export function describeBlob(blob: Buffer): {type: string; bits: number; algorithm: KeyAlgorithm} {
  try {
    const d = decodeBlob(blob)
    return {type: d.type, bits: d.bits, algorithm: d.algorithm}
  } catch (err) {
    if (err instanceof KeyBlobError) throw blobToBastion(err, '')
    throw err
  }
}

/** `256 SHA256:… comment (ED25519)`: the line `ssh-keygen -lf` prints for this key. */
export function formatKeyLikeSshKeygen(key: PublicKey): string {
  return `${key.bits} ${key.fingerprint} ${key.comment === '' ? 'no comment' : key.comment} (${key.algorithm})`
}

// ---------------------------------------------------------------------------------------------------------------
// Base64

export type Base64Result = {ok: true; blob: Buffer; paddingAdded: boolean} | {ok: false; reason: string}

/**
 * Decode standard base64 as OpenSSH's b64_pton does: only A-Z a-z 0-9 + /, `=` only as final padding, and the
 * unused bits of the last character must be zero. With `allowMissingPadding`, absent `=` padding is restored.
 */
export function decodeBase64Strict(text: string, allowMissingPadding = false): Base64Result {
  if (text === '') return {ok: false, reason: 'the key data is empty'}
  const bad = /[^A-Za-z0-9+/=]/.exec(text)
  if (bad) {
    const ch = bad[0]
    const shown = /[\x21-\x7e]/.test(ch) ? `"${ch}"` : `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
    const hint = ch === '-' || ch === '_' ? ' (URL-safe base64 is not the OpenSSH format)' : ''
    return {ok: false, reason: `the key data contains ${shown} at position ${bad.index + 1}, which is not a base64 character${hint}`}
  }
  const eq = text.indexOf('=')
  if (eq !== -1 && !/^=={0,1}$/.test(text.slice(eq))) return {ok: false, reason: 'the key data has "=" padding in the middle'}
  let padded = text
  let paddingAdded = false
  if (text.length % 4 !== 0) {
    if (eq !== -1 || text.length % 4 === 1 || !allowMissingPadding) {
      return {ok: false, reason: `the key data has ${text.length} base64 characters, not a multiple of 4: characters are missing`}
    }
    padded = text + '='.repeat(4 - (text.length % 4))
    paddingAdded = true
  }
  const blob = Buffer.from(padded, 'base64')
  if (blob.toString('base64') !== padded) return {ok: false, reason: 'the last base64 characters are not a valid ending (corrupted or truncated)'}
  return {ok: true, blob, paddingAdded}
}

// ---------------------------------------------------------------------------------------------------------------
// Comments and control characters

// C0/C1 controls, DEL, line/paragraph separators and bidi overrides (which can make a comment display misleadingly).
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu

/** Keep printable text; tabs become spaces, other control characters are dropped, whitespace runs collapsed. */
export function sanitizeComment(comment: string): {comment: string; dropped: boolean} {
  const withSpaces = comment.replace(/\t/g, ' ')
  const cleaned = withSpaces.replace(UNSAFE_CHARS, '')
  return {comment: cleaned.replace(/\s+/g, ' ').trim(), dropped: cleaned !== withSpaces}
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!
  const names: Record<number, string> = {0: 'NUL', 7: 'BEL', 8: 'backspace', 11: 'vertical tab', 12: 'form feed', 27: 'ESC', 127: 'DEL'}
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}${names[cp] ? ` (${names[cp]})` : ''}`
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

function prefix(source: string | undefined): string {
  return source ? `${source}: ` : ''
}

function fail(code: string, source: string | undefined, message: string, suggestions: string[], detail: Record<string, unknown> = {}): BastionError {
  const text = source ? prefix(source) + message : message.charAt(0).toUpperCase() + message.slice(1)
  return inputError(code, text, suggestions, {...(source ? {source} : {}), ...detail})
}

function blobToBastion(err: KeyBlobError, source: string | undefined, declared?: string): BastionError {
  const copyAgain = 'Copy the key again from the original `.pub` file (one line, nothing cut off), or ask the vendor to send the file itself instead of pasting it.'
  switch (err.code) {
    case KeyError.TRUNCATED:
      return fail(err.code, source, `the key is incomplete (truncated): ${err.message}. It was probably cut off while being copied.`, [copyAgain])
    case KeyError.TRAILING_DATA:
      return fail(err.code, source, `the key is corrupted: ${err.message}. OpenSSH refuses keys with extra data.`, [copyAgain])
    case KeyError.CERT:
      return fail(err.code, source, `${err.message}; bastion installs plain public keys, not certificates.`, [
        'Ask the vendor for the plain public key their certificate was issued for (the `.pub` file without `-cert`).',
      ])
    case KeyError.TYPE_UNSUPPORTED:
      return fail(err.code, source, `${err.message}; bastion accepts ${GOOD_TYPES}.`, [SEND_PUB])
    case KeyError.CURVE_MISMATCH:
    case KeyError.EC_POINT:
      return fail(err.code, source, `the ECDSA key is invalid: ${err.message}. OpenSSH would refuse it.`, [copyAgain])
    default:
      return fail(err.code, source, `the key data is not a valid ${declared ?? 'OpenSSH'} key: ${err.message}.`, [copyAgain])
  }
}

function dsaError(source: string | undefined): BastionError {
  return fail(
    KeyError.DSA,
    source,
    'this is a DSA key (ssh-dss). DSA is limited to 1024 bits and considered weak: OpenSSH 7.0+ disables DSA, and OpenSSH 10 removed it, so sshd would refuse this key.',
    ['Ask the vendor for an ed25519 key (`ssh-keygen -t ed25519`), or ECDSA / RSA with at least 2048 bits.'],
  )
}

function rsaShortError(source: string | undefined, bits: number): BastionError {
  return fail(
    KeyError.RSA_TOO_SHORT,
    source,
    `this RSA key has only ${bits} bits; bastion requires at least ${MIN_RSA_BITS}. Short RSA keys can be factored${bits < OPENSSH_MIN_RSA_BITS ? `, and OpenSSH refuses RSA keys under ${OPENSSH_MIN_RSA_BITS} bits outright` : ''}.`,
    ['Ask the vendor for an ed25519 key (`ssh-keygen -t ed25519`) or an RSA key of 3072 bits (`ssh-keygen -t rsa -b 3072`).'],
    {bits},
  )
}

function certError(source: string | undefined, type: string): BastionError {
  return fail(KeyError.CERT, source, `this is an OpenSSH certificate (${type}), not a plain public key; bastion does not install certificates.`, [
    'Ask the vendor for the plain public key (the `.pub` file without `-cert`); certificates need a TrustedUserCAKeys setup instead.',
  ])
}

function unsupportedTypeError(source: string | undefined, type: string): BastionError {
  return fail(KeyError.TYPE_UNSUPPORTED, source, `key type "${type}" is not supported; bastion accepts ${GOOD_TYPES}.`, [
    'Ask the vendor for an ed25519 key (`ssh-keygen -t ed25519`).',
  ], {type})
}

/** Apply bastion's policy (types, sizes) to a decoded key; throws the refusal. */
export function checkKeyPolicy(d: {type: string; bits: number}, source?: string): void {
  if (d.type === 'ssh-dss') throw dsaError(source)
  if (d.type === 'ssh-rsa' && d.bits < MIN_RSA_BITS) throw rsaShortError(source, d.bits)
  if (!(ACCEPTED_KEY_TYPES as readonly string[]).includes(d.type)) throw unsupportedTypeError(source, d.type)
}

// ---------------------------------------------------------------------------------------------------------------
// Private keys and other formats

const PRIVATE_MARKERS: Array<{re: RegExp; what: string; hint?: string}> = [
  {re: /-----BEGIN OPENSSH PRIVATE KEY-----/, what: 'an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----)'},
  {re: /-----BEGIN (RSA|EC|DSA) PRIVATE KEY-----/, what: 'a PEM private key (-----BEGIN … PRIVATE KEY-----)'},
  {re: /-----BEGIN (ENCRYPTED |ANY )?PRIVATE KEY-----/, what: 'a PKCS#8 private key (-----BEGIN PRIVATE KEY-----)'},
  {
    re: /PuTTY-User-Key-File-\d+:/,
    what: 'a PuTTY private key (.ppk, PuTTY-User-Key-File)',
    hint: 'In PuTTYgen, the vendor loads the key and copies the box "Public key for pasting into OpenSSH authorized_keys file".',
  },
  {re: /---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----/, what: 'an SSH.com private key (---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----)'},
  {re: /SSH PRIVATE KEY FILE FORMAT 1\.1/, what: 'a legacy SSH-1 private key file'},
  {re: /(?:^|\s)b3BlbnNzaC1rZXktdjE/, what: 'the body of an OpenSSH private key (its data starts with "openssh-key-v1")'},
]

function privateKeyError(source: string | undefined, what: string, hint?: string): BastionError {
  return fail(
    KeyError.PRIVATE,
    source,
    `this is a PRIVATE key: ${what}. bastion needs the vendor's PUBLIC key; the private key must never leave the vendor.`,
    [
      ...(hint ? [hint] : []),
      "Ask the vendor for their public key: the `.pub` file (one line starting with ssh-ed25519, ecdsa-sha2-… or ssh-rsa).",
      'If this private key was shared (e-mail, ticket, chat, this machine), treat it as compromised: ask the vendor to rotate it, and delete every copy.',
    ],
  )
}

/** RFC 4716 (`---- BEGIN SSH2 PUBLIC KEY ----`) → blob + comment. */
function parseRfc4716(body: string, source: string | undefined): {b64: string; comment: string} {
  const lines = body.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  let comment = ''
  const data: string[] = []
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!
    const header = /^([\x21-\x39\x3b-\x7e]{1,64}):\s?(.*)$/.exec(line)
    if (header) {
      let value = header[2]!
      while (value.endsWith('\\') && i + 1 < lines.length) value = value.slice(0, -1) + lines[++i]!
      if (header[1]!.toLowerCase() === 'comment') comment = value.replace(/^"(.*)"$/, '$1')
      continue
    }
    line = line.replace(/\s+/g, '')
    data.push(line)
  }
  if (data.length === 0) {
    throw fail(KeyError.MISSING_BLOB, source, 'the "---- BEGIN SSH2 PUBLIC KEY ----" block contains no key data.', [SEND_PUB])
  }
  return {b64: data.join(''), comment}
}

/** A PEM / PKCS#8 SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`, `-----BEGIN RSA PUBLIC KEY-----`) → blob. */
function pemToBlob(pem: string, source: string | undefined): Buffer {
  let jwk: Record<string, string | undefined>
  try {
    const fmt = /BEGIN RSA PUBLIC KEY/.test(pem) ? {type: 'pkcs1' as const} : {type: 'spki' as const}
    jwk = createPublicKey({key: pem, format: 'pem', ...fmt}).export({format: 'jwk'}) as Record<string, string | undefined>
  } catch (err) {
    throw fail(KeyError.FORMAT, source, `the PEM public key could not be read (${(err as Error).message}).`, [SEND_PUB])
  }
  const b = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url')
  if (jwk.kty === 'RSA') return sshBlob('ssh-rsa', mpint(b(jwk.e)), mpint(b(jwk.n)))
  if (jwk.kty === 'EC') {
    const curve = {'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521'}[jwk.crv ?? '']
    if (!curve) throw unsupportedTypeError(source, `EC ${jwk.crv}`)
    return sshBlob(`ecdsa-sha2-${curve}`, Buffer.from(curve), Buffer.concat([Buffer.from([4]), b(jwk.x), b(jwk.y)]))
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return sshBlob('ssh-ed25519', b(jwk.x))
  throw unsupportedTypeError(source, `${jwk.kty ?? 'unknown'}${jwk.crv ? ' ' + jwk.crv : ''}`)
}

/** Build an SSH wire-format blob: the type string followed by already-encoded string fields. */
export function sshBlob(type: string, ...fields: Buffer[]): Buffer {
  const parts: Buffer[] = []
  for (const f of [Buffer.from(type), ...fields]) {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(f.length)
    parts.push(len, f)
  }
  return Buffer.concat(parts)
}

/** Encode a non-negative big-endian magnitude as the body of an mpint (leading 0x00 when the high bit is set). */
export function mpint(mag: Buffer): Buffer {
  let i = 0
  while (i < mag.length && mag[i] === 0) i++
  const m = mag.subarray(i)
  return m.length > 0 && (m[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), m]) : Buffer.from(m)
}

// ---------------------------------------------------------------------------------------------------------------
// parsePublicKey

/** Larger input is not a public key (an RSA-16384 key line is under 3 KB). */
const MAX_INPUT = 64 * 1024

/** Separators between fields: space and tab as OpenSSH, plus no-break and other Unicode spaces pasted from web pages. */
const SEP = /[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+/
const ODD_SPACE = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/
const B64ISH = /^[A-Za-z0-9+/]+={0,2}$/

interface Token {
  text: string
  line: number
}

function tokenize(line: string): string[] {
  return line.split(SEP).filter((t) => t !== '')
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`
}

function keyFrom(blob: Buffer, decoded: DecodedBlob, comment: string): PublicKey {
  return {
    type: decoded.type,
    base64: blob.toString('base64'),
    comment,
    bits: decoded.bits,
    algorithm: decoded.algorithm,
    fingerprint: fingerprintOf(blob),
  }
}

/** Decode + policy for a blob that came from a conversion (RFC 4716, PEM, bare base64). */
function acceptBlob(blob: Buffer, comment: string, source: string | undefined, warnings: string[]): ParsedKey {
  let d: DecodedBlob
  try {
    d = decodeBlob(blob)
  } catch (err) {
    if (err instanceof KeyBlobError) throw blobToBastion(err, source)
    throw err
  }
  checkKeyPolicy(d, source)
  const c = sanitizeComment(comment)
  if (c.dropped) warnings.push('Control characters were removed from the key comment.')
  return {key: keyFrom(blob, d, c.comment), warnings}
}

/**
 * Parse one public key as a user supplies it (file contents or pasted text).
 * Accepts ed25519, ECDSA (nistp256/384/521), RSA >= 2048 (and the -sk variants).
 * Refuses with a BastionError (exit 2, code starting `KEY_`) and a specific message:
 * a private key, bad base64 / blob that does not decode to its declared type, a line with options in front,
 * several keys where one was expected, embedded NUL or stray newlines inside the key, DSA, RSA < 2048,
 * unknown types, empty input. CRLF line endings and a key wrapped over several lines are repaired with a warning.
 */
export function parsePublicKey(text: string, source?: string): ParsedKey {
  const warnings: string[] = []

  if (text.length > MAX_INPUT) {
    throw fail(KeyError.FORMAT, source, `the input has ${text.length} characters; an OpenSSH public key is one line of at most a few thousand.`, [SEND_PUB])
  }
  const nul = text.indexOf('\0')
  if (nul !== -1) {
    // UTF-16 text of an ASCII key has a NUL next to almost every character.
    const utf16 = text.length >= 8 && (text.match(/\0/g) ?? []).length >= text.length / 3
    throw fail(
      KeyError.NUL,
      source,
      `the key contains a NUL byte (at character ${nul + 1}). ${utf16 ? 'The file looks UTF-16 encoded (Windows "Unicode").' : 'This is binary data, not a text public key.'}`,
      [utf16 ? 'Save the key file as UTF-8 or ASCII text and try again.' : SEND_PUB],
    )
  }

  let t = text
  if (t.startsWith('\ufeff')) {
    t = t.slice(1)
    warnings.push('A byte-order mark (BOM) at the start of the key was removed.')
  }
  if (t.includes('\r')) {
    t = t.replace(/\r\n?/g, '\n')
    warnings.push('Windows line endings (CRLF) were converted; authorized_keys needs plain LF lines.')
  }
  const trimmed = t.trim()
  if (trimmed === '') {
    throw fail(KeyError.EMPTY, source, 'the key is empty.', [SEND_PUB])
  }
  if (trimmed !== t.replace(/\n+$/, '')) warnings.push('Leading or trailing whitespace around the key was removed.')

  for (const m of PRIVATE_MARKERS) {
    if (m.re.test(trimmed)) throw privateKeyError(source, m.what, m.hint)
  }

  // RFC 4716 block, as PuTTYgen, `ssh-keygen -e` and some web consoles show it.
  const rfc = [...trimmed.matchAll(/---- BEGIN SSH2 PUBLIC KEY ----([\s\S]*?)---- END SSH2 PUBLIC KEY ----/g)]
  if (rfc.length > 1) {
    throw fail(KeyError.MULTIPLE, source, `found ${rfc.length} "---- BEGIN SSH2 PUBLIC KEY ----" blocks; one key was expected.`, [
      'Pass one key at a time (run the command once per key).',
    ], {count: rfc.length})
  }
  if (rfc.length === 1) {
    if (trimmed.replace(rfc[0]![0], '').trim() !== '') warnings.push('Text outside the "---- BEGIN SSH2 PUBLIC KEY ----" block was ignored.')
    const {b64, comment} = parseRfc4716(rfc[0]![1]!, source)
    const dec = decodeBase64Strict(b64)
    if (!dec.ok) throw fail(KeyError.BASE64, source, `the key data in the SSH2 block is not valid base64: ${dec.reason}.`, [SEND_PUB])
    warnings.push('The key was converted from the RFC 4716 "SSH2 PUBLIC KEY" format (PuTTYgen, ssh-keygen -e) to the OpenSSH one-line format.')
    return acceptBlob(dec.blob, comment, source, warnings)
  }
  if (/---- BEGIN SSH2 PUBLIC KEY ----/.test(trimmed)) {
    throw fail(KeyError.TRUNCATED, source, 'the "---- BEGIN SSH2 PUBLIC KEY ----" block has no "---- END SSH2 PUBLIC KEY ----" line: it was cut off.', [
      'Copy the whole block, including the END line.',
    ])
  }

  const pem = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(trimmed)
  if (pem) {
    if (pem[1] === 'PUBLIC KEY' || pem[1] === 'RSA PUBLIC KEY') {
      const block = /-----BEGIN (?:RSA )?PUBLIC KEY-----[\s\S]*?-----END (?:RSA )?PUBLIC KEY-----/.exec(trimmed)
      if (!block) throw fail(KeyError.TRUNCATED, source, `the "-----BEGIN ${pem[1]}-----" block has no END line: it was cut off.`, ['Copy the whole block, including the END line.'])
      if ((trimmed.match(/-----BEGIN /g) ?? []).length > 1) {
        throw fail(KeyError.MULTIPLE, source, 'found several PEM blocks; one key was expected.', ['Pass one key at a time.'])
      }
      warnings.push(`The key was converted from PEM (-----BEGIN ${pem[1]}-----) to the OpenSSH one-line format.`)
      return acceptBlob(pemToBlob(block[0], source), '', source, warnings)
    }
    const what = pem[1] === 'CERTIFICATE' ? 'an X.509 certificate' : pem[1]!.includes('PGP') ? 'a PGP key' : `a PEM "${pem[1]}" block`
    throw fail(KeyError.FORMAT, source, `this is ${what}, not an OpenSSH public key.`, [SEND_PUB])
  }

  if (/^(?:\d+\s+)?(?:SHA256|MD5):[A-Za-z0-9+/:=]+/.test(trimmed)) {
    throw fail(KeyError.FORMAT, source, 'this is a key fingerprint (as `ssh-keygen -l` prints it), not the key itself; a fingerprint cannot be installed.', [SEND_PUB])
  }

  // One key in OpenSSH format, perhaps wrapped over several lines, perhaps with junk around it.
  const lines: string[][] = []
  let commentLines = 0
  for (const raw of trimmed.split('\n')) {
    const line = raw.trim()
    if (line === '') continue
    if (line.startsWith('#')) {
      commentLines++
      continue
    }
    lines.push(tokenize(line))
  }
  if (commentLines > 0) warnings.push(`${plural(commentLines, 'comment line')} starting with "#" ignored.`)
  if (lines.length === 0) throw fail(KeyError.EMPTY, source, 'the key text contains only comment lines.', [SEND_PUB])
  if (trimmed.split('\n').some((l) => ODD_SPACE.test(l))) warnings.push('Non-standard spaces (e.g. no-break spaces from a web page) were treated as plain spaces.')

  // Control characters inside the type or the key data (the first two fields) are refused; in the comment dropped.
  for (const tok of lines[0]!.slice(0, 2)) {
    const cc = CONTROL.exec(tok)
    if (cc) {
      throw fail(KeyError.CONTROL_CHAR, source, `the key contains the control character ${describeChar(cc[0])} inside "${tok.replace(CONTROL, '?').slice(0, 40)}"; a key is printable text only.`, [
        'Copy the key again from the original `.pub` file, as plain text.',
      ])
    }
  }

  // Where do key types appear? The first token of the first line, or any type followed by base64 that starts like a blob.
  const marks: Array<{line: number; idx: number}> = []
  lines.forEach((toks, li) => {
    toks.forEach((tok, ti) => {
      if (!looksLikeKeyType(tok)) return
      if ((li === 0 && ti === 0) || /^AAAA[A-Za-z0-9+/]{8,}/.test(toks[ti + 1] ?? '')) marks.push({line: li, idx: ti})
    })
  })
  if (marks.length > 1) {
    throw fail(
      KeyError.MULTIPLE,
      source,
      `found ${marks.length} keys (${marks.map((m) => lines[m.line]![m.idx]).join(', ')}); exactly one was expected.`,
      ['Pass one key at a time: split the file and run the command once per key (each vendor key gets its own line).'],
      {count: marks.length},
    )
  }

  if (marks.length === 0) {
    const first = lines[0]![0]!
    if (B64ISH.test(first) && first.startsWith('AAAA')) {
      // Only the base64 blob was pasted: the type is inside it.
      const tokens = allTokens(lines, 0, 0)
      const picked = pickBlob(tokens, 0, source, undefined)
      warnings.push(`The key type was missing; it was read from the key data (${picked.decoded.type}).`)
      blobWarnings(picked, warnings)
      checkKeyPolicy(picked.decoded, source)
      return finish(picked.blob, picked.decoded, tokens.slice(picked.consumed), warnings)
    }
    if (/^[a-z0-9]+(?:-[a-z0-9@.]+)+$/.test(first)) throw unsupportedTypeError(source, first)
    throw fail(
      KeyError.FORMAT,
      source,
      `this does not look like an OpenSSH public key (it starts with "${first.slice(0, 40)}"). The format is one line: \`<type> <base64> [comment]\`, e.g. \`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5… vendor@example\`.`,
      [SEND_PUB],
    )
  }

  const mark = marks[0]!
  if (mark.line > 0) {
    throw fail(KeyError.LEADING_TEXT, source, `there is text before the key ("${lines[0]!.join(' ').slice(0, 60)}"); only the key line is expected.`, [
      'Remove everything except the key line (`<type> <base64> [comment]`).',
    ])
  }
  if (mark.idx > 0) {
    const before = lines[0]!.slice(0, mark.idx).join(' ')
    if (/^[A-Za-z][A-Za-z0-9-]*(?:=|,|$)/.test(before) && (/[=,]/.test(before) || KNOWN_FLAG_OPTIONS.has(before.toLowerCase()))) {
      throw fail(
        KeyError.OPTIONS,
        source,
        `the key has authorized_keys options in front of it (${before.length > 80 ? before.slice(0, 77) + '...' : before}). bastion writes its own least-privilege options (restrict, permitopen, from); options supplied with the key could widen the vendor's access, so they are not accepted.`,
        [`Pass only the key, starting at "${lines[0]![mark.idx]}"; set destinations with --permit-open and source addresses with the vendor's IPs.`],
        {options: before},
      )
    }
    throw fail(
      KeyError.LEADING_TEXT,
      source,
      `there is text before the key type ("${before.slice(0, 60)}")${/^[\w.*?[\]:,-]+$/.test(before) ? '; this looks like a known_hosts line (host names in front of a host key), not a user key' : ''}.`,
      [`Pass only the key, starting at "${lines[0]![mark.idx]}".`],
    )
  }

  const declared = lines[0]![0]!
  if (isCertificateType(declared)) throw certError(source, declared)
  const canonical = canonicalKeyType(declared)
  if (canonical === 'ssh-dss') throw dsaError(source)
  if (!canonical) throw unsupportedTypeError(source, declared)

  const rest = allTokens(lines, 0, 1)
  if (rest.length === 0) {
    throw fail(KeyError.MISSING_BLOB, source, `the line has the key type "${declared}" but no key data after it.`, [SEND_PUB])
  }
  const picked = pickBlob(rest, 0, source, declared)
  const {blob, decoded} = picked
  if (decoded.type !== canonical) {
    throw fail(
      KeyError.TYPE_MISMATCH,
      source,
      `the line says "${declared}" but the key data is a ${decoded.type} key. OpenSSH refuses such a line; it was edited or pieced together from two keys.`,
      ['Copy the key again from the original `.pub` file.'],
      {declared, actual: decoded.type},
    )
  }
  blobWarnings(picked, warnings)
  if (declared !== decoded.type) warnings.push(`The key type name "${declared}" was replaced by its canonical name "${decoded.type}".`)
  checkKeyPolicy(decoded, source)
  return finish(blob, decoded, rest.slice(picked.consumed), warnings)
}

const KNOWN_FLAG_OPTIONS = new Set([
  'restrict', 'cert-authority', 'port-forwarding', 'no-port-forwarding', 'agent-forwarding', 'no-agent-forwarding',
  'x11-forwarding', 'no-x11-forwarding', 'pty', 'no-pty', 'user-rc', 'no-user-rc', 'touch-required', 'no-touch-required',
  'verify-required', 'no-verify-required',
])

function allTokens(lines: string[][], fromLine: number, fromIdx: number): Token[] {
  const out: Token[] = []
  for (let li = fromLine; li < lines.length; li++) {
    const toks = lines[li]!
    for (let ti = li === fromLine ? fromIdx : 0; ti < toks.length; ti++) out.push({text: toks[ti]!, line: li})
  }
  return out
}

function finish(blob: Buffer, decoded: DecodedBlob, commentTokens: Token[], warnings: string[]): ParsedKey {
  const last = commentTokens.length > 0 ? commentTokens[commentTokens.length - 1]!.line : 0
  const firstLine = commentTokens[0]?.line ?? 0
  if (commentTokens.length > 0 && last !== firstLine) {
    warnings.push(`Text on ${plural(last - firstLine + 1, 'line')} after the key data was joined into the comment.`)
  }
  const raw = commentTokens.map((t) => t.text).join(' ')
  const c = sanitizeComment(raw)
  if (c.dropped) warnings.push('Control characters were removed from the key comment.')
  return {key: keyFrom(blob, decoded, c.comment), warnings}
}

interface Picked {
  blob: Buffer
  decoded: DecodedBlob
  /** Tokens used for the key data. */
  consumed: number
  /** Lines the type and key data were spread over (1 = not wrapped). */
  lines: number
  /** Key data was split by spaces on one line. */
  spaces: boolean
  paddingAdded: boolean
}

function blobWarnings(p: Picked, warnings: string[]): void {
  if (p.lines > 1) warnings.push(`The key was wrapped over ${p.lines} lines (as web pages and e-mail do); the lines were joined.`)
  if (p.spaces) warnings.push('Spaces inside the key data were removed.')
  if (p.paddingAdded) warnings.push('The "=" padding missing at the end of the key data was restored.')
}

/**
 * Find the key data among the tokens after the type: the shortest run of base64 tokens (joined without spaces: a
 * wrapped key) that decodes to a complete, valid blob. Throws the most telling error when none does.
 */
function pickBlob(tokens: Token[], typeLine: number, source: string | undefined, declared: string | undefined): Picked {
  let firstError: BastionError | undefined
  let lastError: BastionError | undefined
  let joined = ''
  for (let k = 1; k <= Math.min(tokens.length, 256); k++) {
    const piece = tokens[k - 1]!.text
    if (k > 1 && (!B64ISH.test(piece) || joined.includes('='))) break
    joined += piece
    const dec = decodeBase64Strict(joined, true)
    let err: BastionError
    if (dec.ok) {
      try {
        const decoded = decodeBlob(dec.blob)
        return {
          blob: dec.blob,
          decoded,
          consumed: k,
          lines: tokens[k - 1]!.line - typeLine + 1,
          spaces: tokens.slice(1, k).some((t, i) => t.line === tokens[i]!.line),
          paddingAdded: dec.paddingAdded,
        }
      } catch (e) {
        if (!(e instanceof KeyBlobError)) throw e
        err = blobToBastion(e, source, declared)
      }
    } else {
      err = fail(KeyError.BASE64, source, `the key data is not valid base64: ${dec.reason}.`, [
        'Copy the key again from the original `.pub` file (one line, nothing cut off), or ask the vendor to send the file itself.',
      ])
    }
    firstError ??= err
    lastError = err
    if (k === 1 && !B64ISH.test(piece)) break
  }
  // Prefer the error for the whole wrapped key when the data goes on over several lines; else the first token's.
  const spansLines = tokens.length > 1 && tokens[1]!.line !== tokens[0]!.line && B64ISH.test(tokens[1]!.text)
  throw (spansLines ? lastError : firstError) ?? firstError!
}
