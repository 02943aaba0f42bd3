import {hash} from 'node:crypto'

/** `SHA256:` + unpadded base64 of sha256(blob), exactly as `ssh-keygen -l` prints it. */
export function sha256Fingerprint(blob: Buffer): string {
  // crypto.hash: the one-shot digest, about twice as fast as createHash() for a key blob (a config file has thousands).
  return `SHA256:${hash('sha256', blob, 'base64').replace(/=+$/, '')}`
}

/** The key type string at the start of an SSH wire-format key blob (`ssh-ed25519`, `ssh-rsa` …), or undefined if malformed. */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined
  const len = blob.readUInt32BE(0)
  if (len === 0 || len > 64 || blob.length < 4 + len) return undefined
  const type = blob.subarray(4, 4 + len).toString('latin1')
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined
}

/** Normalise a user-supplied `SHA256:…` fingerprint (strips base64 padding); undefined when it is not one. */
export function normalizeFingerprint(value: string): string | undefined {
  const m = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(value.trim())
  return m ? `SHA256:${m[1]}` : undefined
}
