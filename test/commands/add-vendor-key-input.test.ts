/**
 * add-vendor-key through the real CLI: bad input is refused with exit 2 and a message saying what, why and how to fix
 * it, before anything is sent. --host is 127.0.0.1 on a closed port, so even a regression would send nothing anywhere.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {isolatedHome, makeKey, runCli, type TestKey} from '../helpers/cli.js'

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** An endless input must be refused at once; a regression must fail the test, not fill the machine's memory. */
const bounded = {timeoutMs: 20_000, memoryLimitMb: 2048, env: {NODE_OPTIONS: '--max-old-space-size=256'}}

describe('add-vendor-key refuses bad input before connecting', () => {
  let home: string
  let dir: string
  let host: string
  const key: TestKey = makeKey('ed25519', 'hevo@prod')
  const add = (...args: string[]) => ['add-vendor-key', '--host', host, '--vendor', 'hevo', '--db', '10.0.1.5:5432', ...args]

  before(async () => {
    home = isolatedHome()
    dir = mkdtempSync(join(tmpdir(), 'bastion-input-cli-'))
    host = `admin@127.0.0.1:${await closedPort()}`
  })
  after(() => {
    rmSync(home, {recursive: true, force: true})
    rmSync(dir, {recursive: true, force: true})
  })

  it('--key-file /dev/zero is refused within seconds with exit 2: it is a character device, not a key file', async () => {
    const started = Date.now()
    const r = await runCli(add('--key-file', '/dev/zero', '--json'), {home, ...bounded})
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.equal(r.json?.error.code, 'FILE_TYPE', r.stdout)
    assert.match(r.json.error.message, /--key-file \/dev\/zero is a character device, not a regular file/)
    assert.ok(Date.now() - started < 15_000)
  })

  it('a FIFO as --key-file is refused at once with exit 2, even when nothing ever writes to it', async () => {
    const fifo = join(dir, 'hevo.pub')
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0)
    const r = await runCli(add('--key-file', fifo, '--json'), {home, ...bounded})
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.match(r.json?.error.message, /is a FIFO \(named pipe\), not a regular file/, r.stdout)
    assert.ok(r.json.error.suggestions.some((s: string) => s.includes('--key-file -')), 'says how to pipe a key in instead')
  })

  it('--key-file - with more than 1 MiB on standard input is refused with exit 2', async () => {
    const r = await runCli(add('--key-file', '-', '--json'), {home, ...bounded, input: `${key.publicText.trim()} ${'x'.repeat(2 * 1024 * 1024)}\n`})
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.equal(r.json?.error.code, 'FILE_TOO_LARGE', r.stdout)
    assert.match(r.json.error.message, /standard input \(--key-file -\) holds more than 1 MiB/)
  })

  it('--vendor-ip 0.0.0.0/0 is refused with exit 2, pointing at the vendor\'s own addresses and --allow-anywhere', async () => {
    const r = await runCli(add('--key-file', key.publicPath, '--vendor-ip', '0.0.0.0/0', '--json'), {home})
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.equal(r.json?.error.code, 'CIDR_ANYWHERE', r.stdout)
    assert.match(r.json.error.message, /--vendor-ip 0\.0\.0\.0\/0 admits the whole internet/)
    assert.ok(r.json.error.suggestions.some((s: string) => s.includes('--allow-anywhere')))
  })

  it('--vendor-ip 0.0.0.0/1 (half the internet) is refused like 0.0.0.0/0, naming the rule', async () => {
    const r = await runCli(add('--key-file', key.publicPath, '--vendor-ip', '0.0.0.0/1', '--json'), {home})
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.equal(r.json?.error.code, 'CIDR_ANYWHERE', r.stdout)
    assert.match(r.json.error.message, /IPv4 prefix shorter than \/8/)
  })

  it('--vendor-ip 0.0.0.0/0 with --allow-anywhere is accepted, written as from= and warned about in --json and on stderr', async () => {
    const args = add('--key-file', key.publicPath, '--vendor-ip', '0.0.0.0/0', '--allow-anywhere', '--dry-run')
    const j = await runCli([...args, '--json'], {home})
    assert.equal(j.code, 0, j.stderr + j.stdout)
    assert.match(j.json.line, /,from="0\.0\.0\.0\/0",command="\/bin\/false" /)
    assert.match(j.json.warnings.join('\n'), /--vendor-ip 0\.0\.0\.0\/0 admits the whole internet: allowed by --allow-anywhere/)
    const h = await runCli(args, {home})
    assert.equal(h.code, 0, h.stderr + h.stdout)
    assert.match(h.stderr.replace(/\s*\n\s*›?\s*/g, ' '), /Warning: --vendor-ip 0\.0\.0\.0\/0 admits the whole internet/)
  })

  it('--vendor-ip wider than /24 is accepted with a warning in --json warnings and in the human output', async () => {
    const args = add('--key-file', key.publicPath, '--vendor-ip', '52.6.0.0/16', '--dry-run')
    const j = await runCli([...args, '--json'], {home})
    assert.equal(j.code, 0, j.stderr + j.stdout)
    assert.match(j.json.warnings.join('\n'), /--vendor-ip 52\.6\.0\.0\/16 admits 65536 addresses/)
    const h = await runCli(args, {home})
    assert.equal(h.code, 0, h.stderr + h.stdout)
    assert.match(h.stderr.replace(/\s*\n\s*›?\s*/g, ' '), /Warning: --vendor-ip 52\.6\.0\.0\/16 admits 65536 addresses/)
  })

  it('--expires 2027-02-30 is refused with exit 2 instead of becoming 2 March, naming the value and a date that exists', async () => {
    const r = await runCli(add('--key-file', key.publicPath, '--expires', '2027-02-30', '--json'), {home})
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.equal(r.json?.error.code, 'EXPIRES', r.stdout)
    assert.match(r.json.error.message, /--expires "2027-02-30" is not a date: February 2027 has 28 days/)
    assert.ok(r.json.error.suggestions.some((s: string) => s.startsWith('--expires 2027-02-28')), r.stdout)
  })

  it('a bad --jump is refused with exit 2 naming --jump, before any connection is tried', async () => {
    const r = await runCli(add('--key-file', key.publicPath, '--jump', 'ops@jump host'), {home})
    assert.equal(r.code, 2, r.stderr + r.stdout)
    const err = r.stderr.replace(/\s*\n\s*›?\s*/g, ' ')
    assert.match(err, /--jump "ops@jump host" contains whitespace/)
    assert.doesNotMatch(err, /--host "ops@jump host"|connecting to/)
  })

  it('--vendor _x, a valid Linux user name, is accepted and tagged as such (checked with --dry-run)', async () => {
    const r = await runCli(['add-vendor-key', '--host', host, '--vendor', '_x', '--db', '10.0.1.5:5432', '--key-file', key.publicPath, '--dry-run', '--json'], {home})
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.match(r.json.line, / bastion:vendor=_x,added=\d{4}-\d{2}-\d{2}$/)
  })

  it('--key-file - with a key on standard input is still read (checked with --dry-run)', async () => {
    const r = await runCli(add('--key-file', '-', '--dry-run', '--json'), {home, ...bounded, input: key.publicText})
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.equal(r.json.key.fingerprint, key.fingerprint)
  })

  it('BASTION_HOST stands in for --host; with neither, the refusal names both (exit 2)', async () => {
    const fromEnv = await runCli(['add-vendor-key', '--vendor', 'hevo', '--db', '10.0.1.5:5432', '--key-file', key.publicPath, '--dry-run', '--json'], {home, env: {BASTION_HOST: `${host},admin@127.0.0.1:1`}})
    assert.equal(fromEnv.code, 0, fromEnv.stderr)
    assert.deepEqual(fromEnv.json.hosts, [host, 'admin@127.0.0.1:1'])
    const none = await runCli(['add-vendor-key', '--vendor', 'hevo', '--db', '10.0.1.5:5432', '--key-file', key.publicPath, '--json'], {home, env: {BASTION_HOST: ''}})
    assert.equal(none.code, 2, none.stdout + none.stderr)
    assert.equal(none.json.error.code, 'HOST_MISSING')
  })
})
