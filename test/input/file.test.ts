import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {after, describe, it} from 'node:test'
import {BastionError} from '../../src/errors.js'
import {readLimited, readStreamLimited} from '../../src/input/file.js'

const dir = mkdtempSync(join(tmpdir(), 'bastion-input-file-'))
after(() => rmSync(dir, {recursive: true, force: true}))

function refused(code: string, label: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof BastionError, String(err))
    assert.equal(err.code, code)
    assert.equal(err.exit, 2)
    assert.match(err.message, label)
    return true
  }
}

function fifo(name: string): string {
  const path = join(dir, name)
  const r = spawnSync('mkfifo', [path])
  assert.equal(r.status, 0, String(r.stderr))
  return path
}

describe('readLimited', () => {
  it('reads a regular file within the cap whole', () => {
    const f = join(dir, 'small')
    writeFileSync(f, 'x'.repeat(1000))
    assert.equal(readLimited(f, {label: 'f', holds: 'a key', maxBytes: 1000, regularOnly: true}).toString(), 'x'.repeat(1000))
  })

  it('refuses a regular file larger than the cap, naming the file and the cap', () => {
    const f = join(dir, 'big')
    writeFileSync(f, 'x'.repeat(1001))
    assert.throws(() => readLimited(f, {label: '--key-file big', holds: 'a key', maxBytes: 1000}), refused('FILE_TOO_LARGE', /--key-file big holds more than 1000 bytes, too much for a key/))
  })

  it('stops an endless device at the cap instead of reading it to the end: /dev/zero is refused as too large', () => {
    const started = Date.now()
    assert.throws(() => readLimited('/dev/zero', {label: 'ssh config /dev/zero', holds: 'an ssh config file', maxBytes: 1024 * 1024}), refused('FILE_TOO_LARGE', /more than 1 MiB/))
    assert.ok(Date.now() - started < 5000)
  })

  it('reads /dev/null as empty when regular files are not required (ssh -F /dev/null)', () => {
    assert.equal(readLimited('/dev/null', {label: 'ssh config /dev/null', holds: 'an ssh config file', maxBytes: 1024}).length, 0)
  })

  it('with regularOnly refuses a character device, a directory and a FIFO without a writer at once, saying which it is', () => {
    const opts = (label: string) => ({label, holds: 'a public key', maxBytes: 1024 * 1024, regularOnly: true})
    assert.throws(() => readLimited('/dev/zero', opts('--key-file /dev/zero')), refused('FILE_TYPE', /--key-file \/dev\/zero is a character device, not a regular file: a public key is read only from a regular file/))
    assert.throws(() => readLimited(dir, opts('--key-file dir')), refused('FILE_TYPE', /is a directory/))
    const started = Date.now()
    assert.throws(() => readLimited(fifo('pipe'), opts('--key-file pipe')), refused('FILE_TYPE', /is a FIFO \(named pipe\)/))
    assert.ok(Date.now() - started < 5000)
  })

  it('throws errors opening the file as they come, for the caller to word', () => {
    assert.throws(() => readLimited(join(dir, 'missing'), {label: 'f', holds: 'a key', maxBytes: 10}), (e: NodeJS.ErrnoException) => e.code === 'ENOENT')
  })
})

describe('readStreamLimited', () => {
  it('reads a stream within the cap whole', async () => {
    const data = await readStreamLimited(Readable.from([Buffer.from('ssh-ed25519 '), 'AAAA']), {label: 'stdin', holds: 'a key', maxBytes: 100})
    assert.equal(data.toString(), 'ssh-ed25519 AAAA')
  })

  it('refuses an endless stream as soon as it passes the cap, and stops reading it', async () => {
    let reads = 0
    const endless = new Readable({
      read() {
        reads++
        this.push(Buffer.alloc(64 * 1024))
      },
    })
    await assert.rejects(readStreamLimited(endless, {label: 'standard input (--key-file -)', holds: 'a key', maxBytes: 1024 * 1024}), refused('FILE_TOO_LARGE', /standard input \(--key-file -\) holds more than 1 MiB/))
    assert.ok(endless.destroyed, 'the stream is destroyed, not drained')
    assert.ok(reads < 64, `read ${reads} chunks of 64 KiB for a 1 MiB cap`)
  })
})
