// The SSH wire format of a public key (RFC 4251 §5) and its base64 text: reading a blob the way OpenSSH's
// sshkey_from_blob() does (sshkey.c, sshbuf-getput-*.c), so a key we accept is a key sshd accepts and its bits are what
// `ssh-keygen -l` prints; strict base64 as b64_pton reads it; building blobs from their fields.
import {sha256Fingerprint} from '../../ssh/fingerprint.js'
import {KeyError, OPENSSH_MAX_RSA_BITS, TYPE_INFO, isCertificateType, type KeyAlgorithm} from './types.js'

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
  const info = TYPE_INFO[type]
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
  // Assigned, not spread: a config file's thousands of keys each pass here (object spread is slow until optimized).
  const decoded: DecodedBlob = {type, bits, algorithm: info.algorithm}
  if (curve) decoded.curve = curve
  if (application !== undefined) decoded.application = application
  return decoded
}

/** SHA256 fingerprint of a raw key blob: `SHA256:` + unpadded base64 of sha256(blob), as `ssh-keygen -lf` prints it. */
export const fingerprintOf: (blob: Buffer) => string = sha256Fingerprint

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
