/**
 * parsePublicKey reads a plain key line (`<type> <base64> [comment]`, as ssh-keygen writes it) directly, without the
 * full reading that repairs and diagnoses pasted text. The two must agree: for every line, the result (key, warnings)
 * or the refusal (code, message) is the same as for the same line with a newline after it, which never takes the
 * direct way.
 */
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BastionError} from '../../src/errors.js'
import {parsePublicKey, sshBlob} from '../../src/access/keys.js'

let dir: string
const lines = new Map<string, string>()

function outcome(text: string): unknown {
  try {
    return parsePublicKey(text, 'vendors.v.keys[0]')
  } catch (error) {
    if (!(error instanceof BastionError)) throw error
    return {code: error.code, message: error.message, suggestions: error.suggestions}
  }
}

function keyLine(type: string, bits?: number): string {
  const path = join(dir, `${type}-${bits ?? 0}`)
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'x', '-f', path], {stdio: 'ignore'})
  return readFileSync(`${path}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')
}

describe('parsePublicKey: a plain key line', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-plain-'))
    lines.set('ed25519', keyLine('ed25519'))
    lines.set('ecdsa256', keyLine('ecdsa', 256))
    lines.set('ecdsa384', keyLine('ecdsa', 384))
    lines.set('ecdsa521', keyLine('ecdsa', 521))
    lines.set('rsa2048', keyLine('rsa', 2048))
    lines.set('rsa1024', keyLine('rsa', 1024))
    const sk = sshBlob('sk-ssh-ed25519@openssh.com', Buffer.alloc(32, 7), Buffer.from('ssh:'))
    lines.set('sk-ed25519', `sk-ssh-ed25519@openssh.com ${sk.toString('base64')}`)
    const dss = sshBlob('ssh-dss', Buffer.from([0x7f, 1]), Buffer.from([0x7f, 2]), Buffer.from([0x7f, 3]), Buffer.from([0x7f, 4]))
    lines.set('dss', `ssh-dss ${dss.toString('base64')}`)
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  const comments = [
    '',
    ' vendor@example',
    ' Fivetran key 2026 (ops)',
    ' two  spaces',
    ' trailing ',
    ' -----BEGIN OPENSSH PRIVATE KEY-----',
    ' ---- BEGIN SSH2 PUBLIC KEY ----',
    ' PuTTY-User-Key-File-3: ssh-ed25519',
    ' SSH PRIVATE KEY FILE FORMAT 1.1',
    ' b3BlbnNzaC1rZXktdjEAAAA',
    ' AAAAC3NzaC1lZDI1NTE5',
    ' ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ',
    ' SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
    ' ünïcode',
    '\tx',
  ]

  it('gives the same key and warnings, or the same refusal, as the full reading, for every type and comment', () => {
    let compared = 0
    for (const [name, line] of lines)
      for (const comment of comments) {
        const text = `${line}${comment}`
        assert.deepEqual(outcome(text), outcome(`${text}\n`), `${name} with comment ${JSON.stringify(comment)}`)
        compared++
      }
    assert.equal(compared, lines.size * comments.length)
  })

  it('agrees on damaged lines: type and data that do not match, missing padding, a changed last character, an alias', () => {
    const ed = lines.get('ed25519')!
    const [type, b64] = ed.split(' ') as [string, string]
    const rsaData = lines.get('rsa2048')!.split(' ')[1]!
    const damaged = [
      `ssh-rsa ${b64}`,
      `${type} ${rsaData}`,
      `${type} ${b64.replace(/=+$/, '')}`,
      `${lines.get('ecdsa256')!.replace(/=+$/, '')} c`,
      `${type} ${b64.slice(0, -1)}B`,
      `${type} ${b64.slice(0, -4)}`,
      `rsa-sha2-512 ${rsaData} c`,
      `ED25519 ${b64}`,
      `${type} ${b64}${b64}`,
      `${type} AAAA`,
    ]
    for (const text of damaged) assert.deepEqual(outcome(text), outcome(`${text}\n`), text)
  })

  it('reads a plain line as the key it is, without warnings', () => {
    const parsed = parsePublicKey(`${lines.get('ed25519')!} vendor@example`)
    assert.equal(parsed.key.type, 'ssh-ed25519')
    assert.equal(parsed.key.comment, 'vendor@example')
    assert.equal(parsed.key.base64, lines.get('ed25519')!.split(' ')[1])
    assert.match(parsed.key.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/)
    assert.deepEqual(parsed.warnings, [])
  })
})
