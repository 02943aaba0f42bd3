// Key types as OpenSSH names them, what bastion accepts, and the codes a refused key carries.

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

export interface TypeInfo {
  name: string
  algorithm: KeyAlgorithm
  /** ECDSA curve name as in the blob (`nistp256` …). */
  curve?: string
}

/** The plain key types OpenSSH reads, by wire name. */
export const TYPE_INFO: Record<string, TypeInfo> = {
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
  // Every name is under 64 characters: a longer token (a key's base64, a long comment) is none, without hashing it.
  // Own properties only: `constructor` or `toString` are not key types.
  if (name.length > 64) return undefined
  if (Object.hasOwn(TYPE_INFO, name)) return name
  if (Object.hasOwn(ALIASES, name)) return ALIASES[name]
  const lower = name.toLowerCase()
  return Object.hasOwn(SHORT_ALIASES, lower) ? SHORT_ALIASES[lower] : undefined
}

/** True when `token` names a key type OpenSSH knows, including certificates and types bastion refuses. */
export function isKnownKeyTypeName(token: string): boolean {
  return canonicalKeyType(token) !== undefined || isCertificateType(token) || OTHER_OPENSSH_TYPES.has(token)
}

/** Looks like a key type (known or not): `ssh-…`, `ecdsa-…`, `sk-…`, `x509v3-…`, or a known name. */
export function looksLikeKeyType(token: string): boolean {
  return isKnownKeyTypeName(token) || /^(?:ssh|ecdsa|sk|x509v3|pgp|spki|rsa)-[A-Za-z0-9@._+-]+$/.test(token)
}
