import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {generateKeyPairSync} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BastionError} from '../../src/errors.js'
import {
  decodeBlob,
  describeBlob,
  fingerprintOf,
  formatKeyLikeSshKeygen,
  mpint,
  parsePublicKey,
  sshBlob,
  type ParsedKey,
} from '../../src/access/keys.js'

let dir: string

function keygen(args: string[]): string {
  return execFileSync('ssh-keygen', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
}

/** Generate a key pair with the real ssh-keygen; returns the path of the private key (public is `${path}.pub`). */
function gen(name: string, type: string, bits?: number, comment = `${name}@vendor`): string {
  const path = join(dir, name)
  keygen(['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', comment, '-f', path])
  return path
}

/** What `ssh-keygen -lf` prints for a file (first line), or undefined when it refuses the file. */
function keygenL(path: string): string | undefined {
  const r = spawnSync('ssh-keygen', ['-lf', path], {encoding: 'utf8'})
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : undefined
}

function writeTmp(name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

/** Assert that parsing throws a BastionError with this code, exit 2, a message and at least one suggestion. */
function refuses(text: string, code: string, messagePart?: RegExp): BastionError {
  let caught: unknown
  try {
    parsePublicKey(text, 'vendor.pub')
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof BastionError, `expected a BastionError ${code}, got ${String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  assert.equal(caught.exit, 2)
  assert.match(caught.message, /^vendor\.pub: /)
  assert.ok(caught.suggestions.length > 0, 'a refusal says how to fix it')
  if (messagePart) assert.match(caught.message, messagePart)
  return caught
}

function fields(pubPath: string): {type: string; b64: string; comment: string} {
  const [type, b64, ...rest] = readFileSync(pubPath, 'utf8').trim().split(/\s+/)
  return {type: type!, b64: b64!, comment: rest.join(' ')}
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

let ed: string // an ed25519 key made by ssh-keygen
let rsa3072: string
let ec256: string

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bastion-keys-'))
  ed = gen('ed', 'ed25519')
  rsa3072 = gen('rsa3072', 'rsa', 3072)
  ec256 = gen('ec256', 'ecdsa', 256)
})
after(() => rmSync(dir, {recursive: true, force: true}))

describe('parsePublicKey accepts real ssh-keygen keys and reports them exactly as ssh-keygen -l', () => {
  const cases: Array<[string, string, number | undefined]> = [
    ['ed25519', 'ed25519', undefined],
    ['ecdsa-256', 'ecdsa', 256],
    ['ecdsa-384', 'ecdsa', 384],
    ['ecdsa-521', 'ecdsa', 521],
    ['rsa-2048', 'rsa', 2048],
    ['rsa-3072', 'rsa', 3072],
    ['rsa-4096', 'rsa', 4096],
  ]
  for (const [name, type, bits] of cases) {
    it(`${name}: bits, fingerprint, algorithm and comment equal ssh-keygen -lf; base64 kept verbatim; no warnings`, () => {
      const path = gen(name, type, bits, `${name} key@vendor`)
      const {key, warnings} = parsePublicKey(readFileSync(`${path}.pub`, 'utf8'), `${name}.pub`)
      assert.equal(formatKeyLikeSshKeygen(key), keygenL(`${path}.pub`))
      const f = fields(`${path}.pub`)
      assert.equal(key.type, f.type)
      assert.equal(key.base64, f.b64)
      assert.equal(key.comment, `${name} key@vendor`)
      assert.deepEqual(warnings, [])
    })
  }

  it('a key without a comment has comment "" (ssh-keygen prints "no comment")', () => {
    const path = gen('nocomment', 'ed25519', undefined, '')
    const {key} = parsePublicKey(readFileSync(`${path}.pub`, 'utf8'))
    assert.equal(key.comment, '')
    assert.equal(formatKeyLikeSshKeygen(key), keygenL(`${path}.pub`))
  })

  it('security-key types (sk-ssh-ed25519, sk-ecdsa-sha2-nistp256) are accepted as ED25519-SK / ECDSA-SK like ssh-keygen -l', () => {
    const edPub = generateKeyPairSync('ed25519').publicKey.export({format: 'jwk'})
    const edBlob = sshBlob('sk-ssh-ed25519@openssh.com', Buffer.from(edPub.x!, 'base64url'), Buffer.from('ssh:'))
    const ecPub = generateKeyPairSync('ec', {namedCurve: 'P-256'}).publicKey.export({format: 'jwk'})
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(ecPub.x!, 'base64url'), Buffer.from(ecPub.y!, 'base64url')])
    const ecBlob = sshBlob('sk-ecdsa-sha2-nistp256@openssh.com', Buffer.from('nistp256'), point, Buffer.from('ssh:'))
    for (const [type, blob, alg] of [['sk-ssh-ed25519@openssh.com', edBlob, 'ED25519-SK'], ['sk-ecdsa-sha2-nistp256@openssh.com', ecBlob, 'ECDSA-SK']] as const) {
      const text = `${type} ${blob.toString('base64')} yubikey@vendor\n`
      const {key} = parsePublicKey(text)
      assert.equal(key.algorithm, alg)
      assert.equal(key.bits, 256)
      assert.equal(formatKeyLikeSshKeygen(key), keygenL(writeTmp(`${alg}.pub`, text)))
    }
  })
})

describe('fingerprintOf and describeBlob', () => {
  it('fingerprintOf(blob) is SHA256: + unpadded base64, identical to ssh-keygen -lf', () => {
    const f = fields(`${rsa3072}.pub`)
    const fp = fingerprintOf(Buffer.from(f.b64, 'base64'))
    assert.match(fp, /^SHA256:[A-Za-z0-9+/]{43}$/)
    assert.equal(fp, keygenL(`${rsa3072}.pub`)!.split(' ')[1])
  })

  it('describeBlob reads type, bits and algorithm, and throws a BastionError on garbage', () => {
    assert.deepEqual(describeBlob(Buffer.from(fields(`${ec256}.pub`).b64, 'base64')), {type: 'ecdsa-sha2-nistp256', bits: 256, algorithm: 'ECDSA'})
    assert.throws(() => describeBlob(Buffer.from('garbage')), (e: unknown) => e instanceof BastionError && e.code.startsWith('KEY_') && e.exit === 2)
  })
})

describe('parsePublicKey refuses what must not be installed, saying what, why and how to fix', () => {
  it('RSA 1024 (made by ssh-keygen -b 1024) is refused: KEY_RSA_TOO_SHORT', () => {
    const path = gen('rsa1024', 'rsa', 1024)
    const err = refuses(readFileSync(`${path}.pub`, 'utf8'), 'KEY_RSA_TOO_SHORT', /1024 bits.*2048/)
    assert.equal(err.detail?.bits, 1024)
  })

  it('RSA bits are counted as OpenSSH does (BN_num_bits of n): a 2047-bit modulus is 2047, and refused', () => {
    const path = gen('rsa2047', 'rsa', 2047)
    assert.match(keygenL(`${path}.pub`)!, /^2047 /)
    const err = refuses(readFileSync(`${path}.pub`, 'utf8'), 'KEY_RSA_TOO_SHORT')
    assert.equal(err.detail?.bits, 2047)
  })

  it('DSA (ssh-dss) is refused: KEY_DSA, because OpenSSH 7.0+ disables DSA', () => {
    let text: string
    try {
      text = readFileSync(`${gen('dsa', 'dsa')}.pub`, 'utf8')
    } catch {
      // ssh-keygen without DSA support (OpenSSH >= 9.8): craft a DSA blob instead.
      const n = (len: number): Buffer => mpint(Buffer.alloc(len, 0x5a))
      text = `ssh-dss ${sshBlob('ssh-dss', n(128), n(20), n(128), n(128)).toString('base64')} old\n`
    }
    refuses(text, 'KEY_DSA', /OpenSSH 7\.0/)
  })

  it('an OpenSSH private key is refused: KEY_PRIVATE, and the advice says it never leaves the vendor and to rotate it', () => {
    const err = refuses(readFileSync(ed, 'utf8'), 'KEY_PRIVATE', /PRIVATE key/)
    assert.ok(err.suggestions.some((s) => /rotate/.test(s)))
    assert.ok(err.suggestions.some((s) => /\.pub/.test(s)))
  })

  it('PEM, PKCS#8 and PuTTY private keys are refused: KEY_PRIVATE', () => {
    const pemPath = join(dir, 'pem')
    keygen(['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', pemPath])
    refuses(readFileSync(pemPath, 'utf8'), 'KEY_PRIVATE', /PEM private key/)
    const pkcs8 = generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({format: 'pem', type: 'pkcs8'}).toString()
    refuses(pkcs8, 'KEY_PRIVATE', /PKCS#8/)
    const sec1 = generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({format: 'pem', type: 'sec1'}).toString()
    refuses(sec1, 'KEY_PRIVATE')
    const putty = 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key-20240101\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIBkg0FkToQ+/z144BrMEtr97I7Kycgi5LMKZgyIs\n4fw3\nPrivate-Lines: 1\nAAAAIHZhbHVl\nPrivate-MAC: 00\n'
    const err = refuses(putty, 'KEY_PRIVATE', /PuTTY/)
    assert.ok(err.suggestions.some((s) => /PuTTYgen/.test(s)))
  })

  it('options in front of the key are refused: KEY_OPTIONS (bastion writes its own)', () => {
    const {type, b64} = fields(`${ed}.pub`)
    const rsa = fields(`${rsa3072}.pub`)
    refuses(`restrict,command="x" ${type} ${b64} v@x`, 'KEY_OPTIONS', /options in front/)
    refuses(`from="10.0.0.0/8,192.168.0.0/16" ${rsa.type} ${rsa.b64}`, 'KEY_OPTIONS')
    refuses(`command="echo hi there" ${type} ${b64}`, 'KEY_OPTIONS')
    refuses(`no-pty ${type} ${b64}`, 'KEY_OPTIONS')
  })

  it('several keys where one was expected are refused: KEY_MULTIPLE (on separate lines or one line)', () => {
    const a = readFileSync(`${ed}.pub`, 'utf8').trim()
    const b = readFileSync(`${ec256}.pub`, 'utf8').trim()
    const err = refuses(`${a}\n${b}\n`, 'KEY_MULTIPLE', /2 keys/)
    assert.equal(err.detail?.count, 2)
    refuses(`${a} ${b}`, 'KEY_MULTIPLE')
  })

  it('an embedded NUL is refused: KEY_NUL; a UTF-16 file is recognised as such', () => {
    const a = readFileSync(`${ed}.pub`, 'utf8')
    refuses(a.replace(' ', ' \0'), 'KEY_NUL', /NUL/)
    const utf16 = Buffer.from('\ufeff' + a, 'utf16le').toString('latin1')
    refuses(utf16, 'KEY_NUL', /UTF-16/)
  })

  it('a control character inside the key data is refused: KEY_CONTROL_CHAR; in the comment it is dropped with a warning', () => {
    const {type, b64} = fields(`${ed}.pub`)
    refuses(`${type} ${b64.slice(0, 20)}\x07${b64.slice(20)} c`, 'KEY_CONTROL_CHAR', /U\+0007/)
    const {key, warnings} = parsePublicKey(`${type} ${b64} evil\x1b[31mred\x07 comment`)
    assert.equal(key.comment, 'evil[31mred comment')
    assert.ok(warnings.some((w) => /Control characters/.test(w)))
  })

  it('bad base64 is refused: KEY_BASE64 (and URL-safe base64 is named as such)', () => {
    const {type, b64} = fields(`${ed}.pub`)
    refuses(`${type} ${b64.slice(0, 30)}!${b64.slice(31)}`, 'KEY_BASE64', /"!"/)
    refuses(`${type} ${b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/^(.{20})./, '$1-')}`, 'KEY_BASE64', /URL-safe/)
  })

  it('a truncated blob is refused: KEY_TRUNCATED, and ssh-keygen refuses it too', () => {
    const {type, b64} = fields(`${rsa3072}.pub`)
    const text = `${type} ${b64.slice(0, 200)} cut`
    refuses(text, 'KEY_TRUNCATED', /incomplete/)
    assert.equal(keygenL(writeTmp('cut.pub', text)), undefined)
  })

  it('a blob whose inner type differs from the declared one is refused: KEY_TYPE_MISMATCH, as ssh-keygen does', () => {
    const e = fields(`${ed}.pub`)
    const text = `ssh-rsa ${e.b64} mixed`
    refuses(text, 'KEY_TYPE_MISMATCH', /says "ssh-rsa" but the key data is a ssh-ed25519 key/)
    assert.equal(keygenL(writeTmp('mixed.pub', text)), undefined)
    const ec = fields(`${ec256}.pub`)
    refuses(`ecdsa-sha2-nistp384 ${ec.b64}`, 'KEY_TYPE_MISMATCH')
  })

  it('an ECDSA blob naming another curve inside, or with a point off the curve, is refused like ssh-keygen does', () => {
    const blob = Buffer.from(fields(`${ec256}.pub`).b64, 'base64')
    const r = decodeBlob(blob)
    assert.equal(r.curve, 'nistp256')
    // type(4+19) curve(4+8) point(4+65): swap the curve name for nistp384 (same length)
    const wrongCurve = Buffer.from(blob)
    wrongCurve.write('nistp384', 4 + 19 + 4, 'latin1')
    const t1 = `ecdsa-sha2-nistp256 ${wrongCurve.toString('base64')}`
    refuses(t1, 'KEY_CURVE_MISMATCH')
    assert.equal(keygenL(writeTmp('curve.pub', t1)), undefined)
    const offCurve = Buffer.from(blob)
    offCurve[offCurve.length - 1] = offCurve[offCurve.length - 1]! ^ 1
    const t2 = `ecdsa-sha2-nistp256 ${offCurve.toString('base64')}`
    refuses(t2, 'KEY_EC_POINT', /not on the nistp256 curve/)
    assert.equal(keygenL(writeTmp('offcurve.pub', t2)), undefined)
  })

  it('trailing bytes after the key are refused: KEY_TRAILING_DATA, as ssh-keygen does', () => {
    const blob = Buffer.concat([Buffer.from(fields(`${ed}.pub`).b64, 'base64'), u32(0)])
    const text = `ssh-ed25519 ${blob.toString('base64')}`
    refuses(text, 'KEY_TRAILING_DATA')
    assert.equal(keygenL(writeTmp('trailing.pub', text)), undefined)
  })

  it('an OpenSSH certificate is refused as unsupported: KEY_CERT', () => {
    const ca = gen('ca', 'ed25519')
    keygen(['-q', '-s', ca, '-I', 'vendor', '-n', 'hevo', `${ed}.pub`])
    refuses(readFileSync(`${ed}-cert.pub`, 'utf8'), 'KEY_CERT', /certificate/)
  })

  it('unknown key types are refused: KEY_TYPE_UNSUPPORTED', () => {
    const blob = sshBlob('ssh-foo', Buffer.from('x'))
    refuses(`ssh-foo ${blob.toString('base64')}`, 'KEY_TYPE_UNSUPPORTED', /ssh-foo/)
    refuses(`ssh-xmss@openssh.com ${blob.toString('base64')}`, 'KEY_TYPE_UNSUPPORTED')
  })

  it('empty input is refused: KEY_EMPTY', () => {
    refuses('', 'KEY_EMPTY')
    refuses(' \n\t\r\n', 'KEY_EMPTY')
  })

  it('a fingerprint, a known_hosts line or prose instead of a key are refused with a specific message', () => {
    refuses(keygenL(`${ed}.pub`)!, 'KEY_FORMAT', /fingerprint/)
    const {type, b64} = fields(`${ed}.pub`)
    refuses(`bastion.example.com,10.0.0.1 ${type} ${b64}`, 'KEY_LEADING_TEXT', /known_hosts/)
    refuses('please find our key attached', 'KEY_FORMAT', /does not look like an OpenSSH public key/)
    refuses(`Here is the key:\n${type} ${b64}`, 'KEY_LEADING_TEXT')
    refuses('ssh-ed25519', 'KEY_MISSING_BLOB')
  })
})

describe('parsePublicKey repairs common copy-paste damage, with a warning for each repair', () => {
  function sameKey(r: ParsedKey, pub: string): void {
    const f = fields(pub)
    assert.equal(r.key.base64, f.b64)
    assert.equal(r.key.fingerprint, keygenL(pub)!.split(' ')[1])
  }

  it('CRLF line endings are converted', () => {
    const r = parsePublicKey(readFileSync(`${ed}.pub`, 'utf8').replace(/\n/g, '\r\n'))
    sameKey(r, `${ed}.pub`)
    assert.equal(r.key.comment, 'ed@vendor')
    assert.ok(r.warnings.some((w) => /CRLF/.test(w)))
  })

  it('leading and trailing whitespace is removed', () => {
    const r = parsePublicKey(`\n   ${readFileSync(`${ed}.pub`, 'utf8').trim()}   \n\n`)
    sameKey(r, `${ed}.pub`)
    assert.ok(r.warnings.some((w) => /whitespace/.test(w)))
  })

  it('a key wrapped over several lines (type on the first line, base64 continued) is joined', () => {
    const {type, b64} = fields(`${rsa3072}.pub`)
    const wrapped = `${type} ${b64.slice(0, 60)}\n${b64.slice(60, 130)}\n${b64.slice(130, 200)}\n${b64.slice(200)} rsa3072@vendor\n`
    const r = parsePublicKey(wrapped)
    sameKey(r, `${rsa3072}.pub`)
    assert.equal(r.key.comment, 'rsa3072@vendor')
    assert.ok(r.warnings.some((w) => /wrapped over 4 lines/.test(w)))
  })

  it('a wrapped key with the type alone on the first line and the comment on its own last line is joined', () => {
    const {type, b64} = fields(`${rsa3072}.pub`)
    const r = parsePublicKey(`${type}\n${b64.slice(0, 300)}\n${b64.slice(300)}\nrsa3072@vendor`)
    sameKey(r, `${rsa3072}.pub`)
    assert.equal(r.key.comment, 'rsa3072@vendor')
  })

  it('an RFC 4716 "---- BEGIN SSH2 PUBLIC KEY ----" block (ssh-keygen -e, PuTTYgen) is converted', () => {
    for (const path of [ed, rsa3072, ec256]) {
      const rfc = keygen(['-e', '-f', `${path}.pub`])
      assert.match(rfc, /BEGIN SSH2 PUBLIC KEY/)
      const r = parsePublicKey(rfc)
      sameKey(r, `${path}.pub`)
      assert.match(r.key.comment, /converted by/)
      assert.ok(r.warnings.some((w) => /RFC 4716/.test(w)))
    }
    const putty = `---- BEGIN SSH2 PUBLIC KEY ----\r\nComment: "rsa-key-20240101"\r\n${keygen(['-e', '-f', `${rsa3072}.pub`]).split('\n').slice(2, -2).join('\r\n')}\r\n---- END SSH2 PUBLIC KEY ----\r\n`
    const r = parsePublicKey(putty)
    sameKey(r, `${rsa3072}.pub`)
    assert.equal(r.key.comment, 'rsa-key-20240101')
  })

  it('a PEM public key (ssh-keygen -e -m PKCS8) is converted', () => {
    for (const path of [rsa3072, ec256]) {
      const r = parsePublicKey(keygen(['-e', '-m', 'PKCS8', '-f', `${path}.pub`]))
      sameKey(r, `${path}.pub`)
      assert.ok(r.warnings.some((w) => /PEM/.test(w)))
    }
  })

  it('a bare base64 blob without the type gets its type from the blob', () => {
    const {b64} = fields(`${ed}.pub`)
    const r = parsePublicKey(b64)
    sameKey(r, `${ed}.pub`)
    assert.equal(r.key.type, 'ssh-ed25519')
    assert.ok(r.warnings.some((w) => /type was missing/.test(w)))
  })

  it('no-break spaces and tabs between fields are accepted; a comment with several words is kept', () => {
    const {type, b64} = fields(`${ed}.pub`)
    const r = parsePublicKey(`${type}\u00a0${b64}\tHevo   production key`)
    sameKey(r, `${ed}.pub`)
    assert.equal(r.key.comment, 'Hevo production key')
  })
})

describe('key type names', () => {
  it('are own names only: constructor, toString or __proto__ are no key type; long tokens are none either', async () => {
    const {canonicalKeyType, looksLikeKeyType} = await import('../../src/access/keys.js')
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.equal(canonicalKeyType(name), undefined, name)
      assert.equal(looksLikeKeyType(name), false, name)
    }
    assert.equal(canonicalKeyType('ED25519'), 'ssh-ed25519')
    assert.equal(canonicalKeyType('rsa-sha2-512'), 'ssh-rsa')
    assert.equal(canonicalKeyType('webauthn-sk-ecdsa-sha2-nistp256@openssh.com'), 'sk-ecdsa-sha2-nistp256@openssh.com')
    assert.equal(canonicalKeyType('A'.repeat(68)), undefined)
  })
})
