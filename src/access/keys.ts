// A vendor's OpenSSH public key: parsing it as a person supplies it and judging it. Pure: node:crypto only, no I/O.
// The blob checks follow OpenSSH's sshkey_from_blob()/sshkey_read() (sshkey.c, sshbuf-getput-*.c) so a key we
// accept is a key sshd accepts, and bits/fingerprints are exactly what `ssh-keygen -lf` prints.
//
//   keys/types.ts    key types and their names, what bastion accepts, the KEY_* codes
//   keys/wire.ts     the SSH wire format and its base64: decoding and building key blobs
//   keys/formats.ts  text that is not a key line: private keys, PuTTY, RFC 4716, PEM, fingerprints, binary
//   keys/errors.ts   the refusals, each with its message and suggestions
//   keys/parse.ts    parsePublicKey and bastion's key policy
export type {BastionError} from '../errors.js'
export {
  ACCEPTED_KEY_TYPES,
  KeyError,
  MIN_RSA_BITS,
  OPENSSH_MAX_RSA_BITS,
  OPENSSH_MIN_RSA_BITS,
  canonicalKeyType,
  isCertificateType,
  isKnownKeyTypeName,
  looksLikeKeyType,
  type KeyAlgorithm,
  type ParsedKey,
  type PublicKey,
} from './keys/types.js'
export {KeyBlobError, decodeBase64Strict, decodeBlob, fingerprintOf, mpint, sshBlob, type Base64Result, type DecodedBlob} from './keys/wire.js'
export {checkKeyPolicy, describeBlob, formatKeyLikeSshKeygen, parsePublicKey, sanitizeComment} from './keys/parse.js'
