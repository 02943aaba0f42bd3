// The refusals of a vendor key: each an input error (exit 2) with a message that says what is wrong and suggestions
// that say what to ask the vendor for.
import {inputError, type BastionError} from '../../errors.js'
import {KeyError, MIN_RSA_BITS, OPENSSH_MIN_RSA_BITS} from './types.js'
import {KeyBlobError} from './wire.js'

/** The first suggestion for most refusals: what to ask the vendor for. */
export const SEND_PUB = 'Ask the vendor for the public key as ONE line: `<type> <base64> [comment]`, e.g. the contents of their `.pub` file or the key shown in their connection settings.'
/** The key types bastion accepts, for messages. */
export const GOOD_TYPES = 'ssh-ed25519 (preferred), ecdsa-sha2-nistp256/384/521, or ssh-rsa with at least 2048 bits'

function prefix(source: string | undefined): string {
  return source ? `${source}: ` : ''
}

/** A refused key: `<source>: <message>` (or the message capitalised without a source), exit 2. */
export function keyError(code: string, source: string | undefined, message: string, suggestions: string[], detail: Record<string, unknown> = {}): BastionError {
  const text = source ? prefix(source) + message : message.charAt(0).toUpperCase() + message.slice(1)
  return inputError(code, text, suggestions, {...(source ? {source} : {}), ...detail})
}

/** The refusal for a blob that does not decode, worded for its KEY_* code. */
export function blobToBastion(err: KeyBlobError, source: string | undefined, declared?: string): BastionError {
  const copyAgain = 'Copy the key again from the original `.pub` file (one line, nothing cut off), or ask the vendor to send the file itself instead of pasting it.'
  switch (err.code) {
    case KeyError.TRUNCATED:
      return keyError(err.code, source, `the key is incomplete (truncated): ${err.message}. It was probably cut off while being copied.`, [copyAgain])
    case KeyError.TRAILING_DATA:
      return keyError(err.code, source, `the key is corrupted: ${err.message}. OpenSSH refuses keys with extra data.`, [copyAgain])
    case KeyError.CERT:
      return keyError(err.code, source, `${err.message}; bastion installs plain public keys, not certificates.`, [
        'Ask the vendor for the plain public key their certificate was issued for (the `.pub` file without `-cert`).',
      ])
    case KeyError.TYPE_UNSUPPORTED:
      return keyError(err.code, source, `${err.message}; bastion accepts ${GOOD_TYPES}.`, [SEND_PUB])
    case KeyError.CURVE_MISMATCH:
    case KeyError.EC_POINT:
      return keyError(err.code, source, `the ECDSA key is invalid: ${err.message}. OpenSSH would refuse it.`, [copyAgain])
    default:
      return keyError(err.code, source, `the key data is not a valid ${declared ?? 'OpenSSH'} key: ${err.message}.`, [copyAgain])
  }
}

export function dsaError(source: string | undefined): BastionError {
  return keyError(
    KeyError.DSA,
    source,
    'this is a DSA key (ssh-dss). DSA is limited to 1024 bits and considered weak: OpenSSH 7.0+ disables DSA, and OpenSSH 10 removed it, so sshd would refuse this key.',
    ['Ask the vendor for an ed25519 key (`ssh-keygen -t ed25519`), or ECDSA / RSA with at least 2048 bits.'],
  )
}

export function rsaShortError(source: string | undefined, bits: number): BastionError {
  return keyError(
    KeyError.RSA_TOO_SHORT,
    source,
    `this RSA key has only ${bits} bits; bastion requires at least ${MIN_RSA_BITS}. Short RSA keys can be factored${bits < OPENSSH_MIN_RSA_BITS ? `, and OpenSSH refuses RSA keys under ${OPENSSH_MIN_RSA_BITS} bits outright` : ''}.`,
    ['Ask the vendor for an ed25519 key (`ssh-keygen -t ed25519`) or an RSA key of 3072 bits (`ssh-keygen -t rsa -b 3072`).'],
    {bits},
  )
}

export function certError(source: string | undefined, type: string): BastionError {
  return keyError(KeyError.CERT, source, `this is an OpenSSH certificate (${type}), not a plain public key; bastion does not install certificates.`, [
    'Ask the vendor for the plain public key (the `.pub` file without `-cert`); certificates need a TrustedUserCAKeys setup instead.',
  ])
}

export function unsupportedTypeError(source: string | undefined, type: string): BastionError {
  return keyError(KeyError.TYPE_UNSUPPORTED, source, `key type "${type}" is not supported; bastion accepts ${GOOD_TYPES}.`, [
    'Ask the vendor for an ed25519 key (`ssh-keygen -t ed25519`).',
  ], {type})
}


export function privateKeyError(source: string | undefined, what: string, hint?: string): BastionError {
  return keyError(
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
