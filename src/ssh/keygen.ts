// Ed25519 key pairs in OpenSSH's own formats, made in-process (no ssh-keygen spawn): lab hosts and doctor --e2e's
// short-lived probe key.
import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {sha256Fingerprint} from './fingerprint.js'

export interface SshKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` … (unencrypted), as ssh-keygen writes it. */
  privateKey: string
  /** `ssh-ed25519 AAAA… comment` */
  publicKey: string
  /** `SHA256:…` as ssh-keygen -l prints it. */
  fingerprint: string
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data
  const len = Buffer.alloc(4)
  len.writeUInt32BE(body.length)
  return Buffer.concat([len, body])
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

/** The SHA256 fingerprint of a public key blob, as OpenSSH prints it. */
export const fingerprintOfBlob: (blob: Buffer) => string = sha256Fingerprint

/** Fingerprint of a `type base64 [comment]` public key line. */
export function fingerprintOfPublicKey(line: string): string {
  const b64 = line.trim().split(/\s+/)[1]
  if (!b64) throw new Error(`not a public key line: ${line}`)
  return fingerprintOfBlob(Buffer.from(b64, 'base64'))
}

export function generateEd25519(comment = ''): SshKeyPair {
  const pair = generateKeyPairSync('ed25519')
  const jwk = pair.privateKey.export({format: 'jwk'})
  if (!jwk.d || !jwk.x) throw new Error('ed25519 JWK export lacks d/x')
  const seed = Buffer.from(jwk.d, 'base64url')
  const pub = Buffer.from(jwk.x, 'base64url')
  const type = 'ssh-ed25519'
  const pubBlob = Buffer.concat([sshString(type), sshString(pub)])

  const check = randomBytes(4).readUInt32BE()
  let priv = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString(type),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ])
  const pad: number[] = []
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i)
  priv = Buffer.concat([priv, Buffer.from(pad)])

  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(pubBlob),
    sshString(priv),
  ]).toString('base64')
  const lines = body.match(/.{1,70}/g) ?? []
  const privateKey = ['-----BEGIN OPENSSH PRIVATE KEY-----', ...lines, '-----END OPENSSH PRIVATE KEY-----', ''].join('\n')
  const publicKey = `${type} ${pubBlob.toString('base64')}${comment ? ' ' + comment : ''}`
  return {privateKey, publicKey, fingerprint: fingerprintOfBlob(pubBlob)}
}
