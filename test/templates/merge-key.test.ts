import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {templatesDir} from '../../src/paths.js'

const KT = 'ssh-ed25519'
const B64 = 'AAAAC3NzaC1lZDI1NTE5AAAAIDsNmv6n6VmE4c4Xy2yKjZ0y4l9gU3sYc2Hn1fTq8u2Q'
const OTHER = 'AAAAC3NzaC1lZDI1NTE5AAAAIFf0o2oK1QmZ7u2b7c1L3o6K7lB8yJrCkq3WcQx0p9Aa'
const PREFIX = `restrict,port-forwarding,permitopen="10.0.1.5:5432" ${KT} ${B64} hevo@prod`
const dir = mkdtempSync(join(tmpdir(), 'merge-key-'))
after(() => rmSync(dir, {recursive: true, force: true}))

/** The awks the two host families ship: mawk (Debian/Ubuntu) and gawk (Amazon Linux/RHEL); setup installs both. */
const AWKS = ['mawk', 'gawk'].filter((a) => spawnSync('sh', ['-c', `command -v ${a}`]).status === 0)

/** Run templates/merge-key.awk exactly as vendor-add.sh does, on `input` (undefined: no file yet); every awk must agree. */
function merge(input: string | undefined, prefix = PREFIX, today = '2026-11-24') {
  const results = AWKS.map((awk) => mergeWith(awk, input, prefix, today))
  for (const r of results.slice(1)) assert.deepEqual(r, results[0], `${AWKS.join(' and ')} disagree`)
  return results[0]!
}

function mergeWith(awk: string, input: string | undefined, prefix: string, today: string) {
  const src = join(dir, 'in')
  const out = join(dir, 'out')
  if (input !== undefined) writeFileSync(src, input)
  const r = spawnSync(awk, ['-f', join(templatesDir, 'merge-key.awk'), input === undefined ? '/dev/null' : src], {
    env: {...process.env, OUT: out, KEY_TYPE: KT, KEY_B64: B64, LINE_PREFIX: prefix, VENDOR: 'hevo', TODAY: today},
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, r.stderr)
  const [status, dups] = r.stdout.trim().split(' ')
  return {status, dups: Number(dups), text: readFileSync(out, 'utf8')}
}

const ours = (date = '2026-11-24', prefix = PREFIX) => `${prefix} bastion:vendor=hevo,added=${date}`

describe('templates/merge-key.awk', () => {
  it('runs under both mawk and gawk', () => {
    assert.deepEqual(AWKS, ['mawk', 'gawk'], 'scripts/setup.sh installs gawk beside Debian\'s mawk')
  })

  it('adds the key as the only line to a missing file', () => {
    const r = merge(undefined)
    assert.deepEqual(r, {status: 'added', dups: 0, text: `${ours()}\n`})
  })

  it('keeps foreign lines, comments, blank lines and CRLF lines byte for byte and appends the new key', () => {
    const foreign = [
      '# managed by hand',
      '',
      `from="10.0.0.0/8,192.168.0.0/16",command="echo \\"hi, there\\"" ssh-ed25519 ${OTHER} ops@laptop`,
      `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 someone\r`,
      '   ',
    ].join('\n')
    const r = merge(`${foreign}\n`)
    assert.equal(r.status, 'added')
    assert.equal(r.text, `${foreign}\n${ours()}\n`)
  })

  it('re-running with the same line reports present and changes nothing, keeping the original added date', () => {
    const before = `ssh-ed25519 ${OTHER} a\n${ours('2025-01-02')}\n`
    const r = merge(before)
    assert.equal(r.status, 'present')
    assert.equal(r.text, before)
  })

  it('updates the options of the same key in place and keeps its added date', () => {
    const oldPrefix = `restrict,port-forwarding,permitopen="10.0.9.9:5432" ${KT} ${B64} hevo@prod`
    const r = merge(`# top\n${ours('2025-01-02', oldPrefix)}\nssh-ed25519 ${OTHER} b\n`)
    assert.equal(r.status, 'updated')
    assert.equal(r.text, `# top\n${ours('2025-01-02')}\nssh-ed25519 ${OTHER} b\n`)
  })

  it('takes over an unrestricted line a person added for the same key, in place', () => {
    const r = merge(`ssh-ed25519 ${OTHER} b\n${KT} ${B64} pasted-by-hand\n# end\n`)
    assert.equal(r.status, 'updated')
    assert.equal(r.text, `ssh-ed25519 ${OTHER} b\n${ours()}\n# end\n`)
  })

  it('finds the key behind options whose quoted values hold commas and spaces', () => {
    const r = merge(`command="echo \\"a, b\\"",from="1.2.3.4" ${KT} ${B64} x\n`)
    assert.equal(r.status, 'updated')
    assert.equal(r.text, `${ours()}\n`)
  })

  it('drops later duplicates of the key, which could grant more than bastion\'s line', () => {
    const r = merge(`${ours('2025-05-05')}\nssh-ed25519 ${OTHER} b\n${KT} ${B64} dup1\nno-pty ${KT} ${B64} dup2\r\n`)
    assert.equal(r.status, 'present')
    assert.equal(r.dups, 2)
    assert.equal(r.text, `${ours('2025-05-05')}\nssh-ed25519 ${OTHER} b\n`)
  })

  it('matches a CRLF line carrying the key and rewrites it without the CR', () => {
    const r = merge(`${KT} ${B64}\r\n`)
    assert.equal(r.status, 'updated')
    assert.equal(r.text, `${ours()}\n`)
  })

  it('terminates a last line that had no newline before appending', () => {
    const r = merge(`ssh-ed25519 ${OTHER} b`)
    assert.equal(r.text, `ssh-ed25519 ${OTHER} b\n${ours()}\n`)
  })

  it('does not mistake the key text inside another line\'s comment for the key', () => {
    const r = merge(`ssh-ed25519 ${OTHER} note-about ${B64}\n`)
    assert.equal(r.status, 'added')
    assert.equal(r.text, `ssh-ed25519 ${OTHER} note-about ${B64}\n${ours()}\n`)
  })
})
