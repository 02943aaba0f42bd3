// Text that is not an OpenSSH key line, recognised before the line is read: binary or UTF-16 files, private keys
// pasted by mistake (OpenSSH, PEM, PKCS#8, PuTTY .ppk, SSH.com, SSH-1), other public-key formats bastion converts
// (RFC 4716 "SSH2 PUBLIC KEY" blocks, PEM public keys) and those it cannot use (X.509, PGP, a fingerprint).
import {createPublicKey} from 'node:crypto'
import {SEND_PUB, keyError, privateKeyError, unsupportedTypeError} from './errors.js'
import {KeyError} from './types.js'
import {decodeBase64Strict, mpint, sshBlob} from './wire.js'

/** What gives a private key away, in any of the formats vendors paste. */
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
    throw keyError(KeyError.MISSING_BLOB, source, 'the "---- BEGIN SSH2 PUBLIC KEY ----" block contains no key data.', [SEND_PUB])
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
    throw keyError(KeyError.FORMAT, source, `the PEM public key could not be read (${(err as Error).message}).`, [SEND_PUB])
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

/** Refuse binary data and UTF-16 text (a NUL anywhere): no OpenSSH public key holds one. */
export function refuseBinary(text: string, source: string | undefined): void {
  const nul = text.indexOf('\0')
  if (nul === -1) return
  // UTF-16 text of an ASCII key has a NUL next to almost every character.
  const utf16 = text.length >= 8 && (text.match(/\0/g) ?? []).length >= text.length / 3
  throw keyError(
    KeyError.NUL,
    source,
    `the key contains a NUL byte (at character ${nul + 1}). ${utf16 ? 'The file looks UTF-16 encoded (Windows "Unicode").' : 'This is binary data, not a text public key.'}`,
    [utf16 ? 'Save the key file as UTF-8 or ASCII text and try again.' : SEND_PUB],
  )
}

/**
 * Text (trimmed, LF line ends) in another format than an OpenSSH key line: refused with what it is (a private key, an
 * X.509 certificate, a PGP key, a fingerprint, a cut-off block), or converted to a key blob (RFC 4716, PEM public key)
 * with a warning. Undefined when it is none of these: then it is read as an OpenSSH key line.
 */
export function readOtherFormat(trimmed: string, source: string | undefined, warnings: string[]): {blob: Buffer; comment: string} | undefined {
  for (const m of PRIVATE_MARKERS) {
    if (m.re.test(trimmed)) throw privateKeyError(source, m.what, m.hint)
  }

  // RFC 4716 block, as PuTTYgen, `ssh-keygen -e` and some web consoles show it.
  const rfc = [...trimmed.matchAll(/---- BEGIN SSH2 PUBLIC KEY ----([\s\S]*?)---- END SSH2 PUBLIC KEY ----/g)]
  if (rfc.length > 1) {
    throw keyError(KeyError.MULTIPLE, source, `found ${rfc.length} "---- BEGIN SSH2 PUBLIC KEY ----" blocks; one key was expected.`, [
      'Pass one key at a time (run the command once per key).',
    ], {count: rfc.length})
  }
  if (rfc.length === 1) {
    if (trimmed.replace(rfc[0]![0], '').trim() !== '') warnings.push('Text outside the "---- BEGIN SSH2 PUBLIC KEY ----" block was ignored.')
    const {b64, comment} = parseRfc4716(rfc[0]![1]!, source)
    const dec = decodeBase64Strict(b64)
    if (!dec.ok) throw keyError(KeyError.BASE64, source, `the key data in the SSH2 block is not valid base64: ${dec.reason}.`, [SEND_PUB])
    warnings.push('The key was converted from the RFC 4716 "SSH2 PUBLIC KEY" format (PuTTYgen, ssh-keygen -e) to the OpenSSH one-line format.')
    return {blob: dec.blob, comment}
  }
  if (/---- BEGIN SSH2 PUBLIC KEY ----/.test(trimmed)) {
    throw keyError(KeyError.TRUNCATED, source, 'the "---- BEGIN SSH2 PUBLIC KEY ----" block has no "---- END SSH2 PUBLIC KEY ----" line: it was cut off.', [
      'Copy the whole block, including the END line.',
    ])
  }

  const pem = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(trimmed)
  if (pem) {
    if (pem[1] === 'PUBLIC KEY' || pem[1] === 'RSA PUBLIC KEY') {
      const block = /-----BEGIN (?:RSA )?PUBLIC KEY-----[\s\S]*?-----END (?:RSA )?PUBLIC KEY-----/.exec(trimmed)
      if (!block) throw keyError(KeyError.TRUNCATED, source, `the "-----BEGIN ${pem[1]}-----" block has no END line: it was cut off.`, ['Copy the whole block, including the END line.'])
      if ((trimmed.match(/-----BEGIN /g) ?? []).length > 1) {
        throw keyError(KeyError.MULTIPLE, source, 'found several PEM blocks; one key was expected.', ['Pass one key at a time.'])
      }
      warnings.push(`The key was converted from PEM (-----BEGIN ${pem[1]}-----) to the OpenSSH one-line format.`)
      return {blob: pemToBlob(block[0], source), comment: ''}
    }
    const what = pem[1] === 'CERTIFICATE' ? 'an X.509 certificate' : pem[1]!.includes('PGP') ? 'a PGP key' : `a PEM "${pem[1]}" block`
    throw keyError(KeyError.FORMAT, source, `this is ${what}, not an OpenSSH public key.`, [SEND_PUB])
  }

  if (/^(?:\d+\s+)?(?:SHA256|MD5):[A-Za-z0-9+/:=]+/.test(trimmed)) {
    throw keyError(KeyError.FORMAT, source, 'this is a key fingerprint (as `ssh-keygen -l` prints it), not the key itself; a fingerprint cannot be installed.', [SEND_PUB])
  }
  return undefined
}
