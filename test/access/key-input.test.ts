import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {after, describe, it} from 'node:test'
import {BastionError} from '../../src/errors.js'
import {readKeyText, readStdin, readVendorKey} from '../../src/access/key-input.js'
import {makeKey} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'bastion-key-input-'))
after(() => rmSync(dir, {recursive: true, force: true}))

function refused(code: string, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof BastionError, String(err))
    assert.equal(err.code, code)
    assert.equal(err.exit, 2)
    if (message) assert.match(err.message, message)
    assert.ok(err.suggestions.length > 0, 'says how to fix it')
    return true
  }
}

describe('access/key-input', () => {
  it('reads a vendor key from a regular --key-file', async () => {
    const k = makeKey('ed25519', 'hevo')
    const parsed = await readVendorKey({'key-file': k.publicPath})
    assert.equal(parsed.key.fingerprint, k.fingerprint)
  })

  it('refuses --key-file /dev/zero as a character device without reading it', async () => {
    const started = Date.now()
    await assert.rejects(readVendorKey({'key-file': '/dev/zero'}), refused('FILE_TYPE', /--key-file \/dev\/zero is a character device, not a regular file/))
    assert.ok(Date.now() - started < 2000)
  })

  it('refuses a FIFO --key-file at once, even when nothing writes to it', async () => {
    const path = join(dir, 'key.fifo')
    assert.equal(spawnSync('mkfifo', [path]).status, 0)
    const started = Date.now()
    await assert.rejects(readVendorKey({'key-file': path}), refused('FILE_TYPE', /is a FIFO/))
    assert.ok(Date.now() - started < 2000)
  })

  it('refuses a --key-file larger than 1 MiB, naming the file and the limit', async () => {
    const path = join(dir, 'huge.pub')
    writeFileSync(path, `${makeKey().publicText.trim()} ${'x'.repeat(1024 * 1024)}\n`)
    await assert.rejects(readVendorKey({'key-file': path}), refused('FILE_TOO_LARGE', /--key-file .*huge\.pub holds more than 1 MiB/))
  })

  it('still says "no such file" for a missing --key-file', async () => {
    await assert.rejects(readVendorKey({'key-file': join(dir, 'nope.pub')}), refused('KEY_FILE', /no such file/))
  })

  it('stops reading an endless standard input past 1 MiB and refuses it', async () => {
    let reads = 0
    const endless = new Readable({
      read() {
        reads++
        this.push(Buffer.alloc(64 * 1024, 0x41))
      },
    })
    await assert.rejects(readStdin('--key-file', endless), refused('FILE_TOO_LARGE', /standard input \(--key-file -\) holds more than 1 MiB/))
    assert.ok(reads < 64, `read ${reads} chunks`)
  })

  it('names the flag the key file was given with (--key-file, --public-key-file)', async () => {
    await assert.rejects(readKeyText('/dev/zero', '--key-file'), refused('FILE_TYPE', /^--key-file \/dev\/zero/))
    await assert.rejects(readKeyText('/dev/zero', '--public-key-file'), refused('FILE_TYPE', /^--public-key-file \/dev\/zero/))
  })
})
