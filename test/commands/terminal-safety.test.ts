/**
 * Hostile bytes from a host never reach the operator's terminal: the real CLI against a lab host whose authorized_keys,
 * and whose sudo, write terminal escape sequences, C1 controls and bidi overrides. Human output shows them escaped;
 * JSON output carries them exactly.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {connectionArgs, startLab, type LabHost} from '../lab/lab.js'
import {isolatedHome, makeKey, runCli, type CliRun} from '../helpers/cli.js'

const CLEAR = '\x1b[2J'
const CLIPBOARD = '\x1b]52;c;aGk=\x07'
const BLINK = '\x1b[5m'
const CSI = '\u009b2J'
const RLO = '\u202e'

/** ESC, BEL, any other C0 control but line feed, DEL, C1 controls, bidi embeddings/overrides/isolates, line separators. */
const DANGEROUS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]/u

function assertInert(r: CliRun) {
  for (const [name, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    const hit = DANGEROUS.exec(text)
    assert.equal(hit, null, `${name} carries U+${hit?.[0].codePointAt(0)!.toString(16).padStart(4, '0')} at ${hit?.index}: ${JSON.stringify(text)}`)
  }
}

describe('terminal safety: hostile text from a lab host', () => {
  let lab: LabHost
  let home: string
  let conn: string[]
  let db: string
  let hostileOptions: {permitopen: string; command: string; from: string; environment: string}

  before(async () => {
    lab = await startLab({usePam: false})
    home = isolatedHome()
    conn = connectionArgs(lab)
    db = `${lab.db.host}:${lab.db.port}`
    hostileOptions = {permitopen: `${db}${CLEAR}`, command: `echo ${CLIPBOARD}`, from: `10.0.0.0/8${CSI}${RLO}`, environment: `X=${BLINK}`}
    const [t1, b1] = makeKey('ed25519', 'one').publicText.split(' ')
    const [t2, b2] = makeKey('ed25519', 'two').publicText.split(' ')
    const o = hostileOptions
    const text = [
      `restrict,port-forwarding,permitopen="${o.permitopen}",command="${o.command}" ${t1} ${b1} blink${BLINK}csi${CSI}rtl${RLO}txt.exe bastion:vendor=evil,added=2026-01-01`,
      `from="${o.from}",environment="${o.environment}" ${t2} ${b2} second${CLEAR}`,
      `${CLIPBOARD}${CSI} not a key ${RLO}`,
      '',
    ].join('\n')
    const r = await lab.exec(
      'useradd -m -s /usr/sbin/nologin evil && mkdir -p -m 700 /home/evil/.ssh && cat > /home/evil/.ssh/authorized_keys && chown -R evil:evil /home/evil/.ssh && chmod 600 /home/evil/.ssh/authorized_keys',
      text,
    )
    assert.equal(r.code, 0, r.stderr)
  })
  after(async () => {
    await lab?.stop()
  })

  it('list-vendor-keys shows hostile option values escaped and writes no control byte to the terminal', async () => {
    const r = await runCli(['list-vendor-keys', ...conn, '--vendor', 'evil'], {home})
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assertInert(r)
    assert.ok(r.stdout.includes(`permitopen="${db}\\x1b[2J"`), r.stdout)
    assert.ok(r.stdout.includes('command="echo \\x1b]52;c;aGk=\\x07"'), r.stdout)
    assert.ok(r.stdout.includes('from="10.0.0.0/8\\x9b2J\\u202e"'), r.stdout)
    assert.ok(r.stdout.includes('environment="X=\\x1b[5m"'), r.stdout)
  })

  it('list-vendor-keys --json returns the hostile option values exactly as they are in the file', async () => {
    const r = await runCli(['list-vendor-keys', ...conn, '--vendor', 'evil', '--json'], {home})
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const keys = r.json.hosts[0].result.accounts[0].keys
    const value = (name: string) => keys.flatMap((k: {options: {name: string; value?: string}[]}) => k.options).find((o: {name: string}) => o.name === name)?.value
    assert.equal(value('permitopen'), hostileOptions.permitopen)
    assert.equal(value('command'), hostileOptions.command)
    assert.equal(value('from'), hostileOptions.from)
    assert.equal(value('environment'), hostileOptions.environment)
  })

  it('doctor (human, --verbose) shows what it saw in the hostile file escaped and writes no control byte to the terminal', async () => {
    const r = await runCli(['doctor', ...conn, '--vendor', 'evil', '--db', db, '--vendor-ip', '52.6.1.1/32', '--verbose'], {home})
    assert.equal(r.code, 1, r.stderr + r.stdout)
    assertInert(r)
    assert.ok(r.stdout.includes(`permitopen="${db}\\x1b[2J"`), r.stdout)
    assert.ok(r.stdout.includes('from="10.0.0.0/8\\x9b2J\\u202e"'), r.stdout)
    assert.ok(r.stdout.includes('command="echo \\x1b]52;c;aGk=\\x07"'), r.stdout)
  })

  it('doctor --json keeps the hostile values exact in what it saw', async () => {
    const r = await runCli(['doctor', ...conn, '--vendor', 'evil', '--db', db, '--vendor-ip', '52.6.1.1/32', '--json'], {home})
    assert.ok(r.json, r.stdout + r.stderr)
    const seen: string = r.json.hosts[0].findings.map((f: {seen: string}) => f.seen).join('\n')
    assert.ok(seen.includes(hostileOptions.permitopen), seen)
  })

  it('doctor --format junit stays well-formed XML: controls XML 1.0 cannot carry are written as visible escapes', async () => {
    const r = await runCli(['doctor', ...conn, '--vendor', 'evil', '--db', db, '--format', 'junit'], {home})
    assert.equal(r.code, 1, r.stderr + r.stdout)
    assert.doesNotMatch(r.stdout, /[\x00-\x08\x0b\x0c\x0e-\x1f]/)
    assert.ok(r.stdout.includes(`permitopen=&quot;${db}\\x1b[2J&quot;`), r.stdout)
    const lint = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())'], {input: r.stdout})
    assert.equal(lint.status, 0, String(lint.stderr))
  })

  it("remote stderr in an error (a host's sudo writing escape sequences) is shown escaped in human output and exact in JSON", async () => {
    const noise = `${CLEAR}${CLIPBOARD}boom${RLO}${CSI}`
    await lab.exec(`cat > /usr/local/bin/sudo && chmod 755 /usr/local/bin/sudo`, `#!/bin/sh\nprintf '%s\\n' '${noise}' >&2\nexit 1\n`)
    try {
      const human = await runCli(['list-vendor-keys', ...conn, '--vendor', 'evil'], {home})
      assert.notEqual(human.code, 0)
      assertInert(human)
      assert.ok((human.stdout + human.stderr).includes('\\x1b[2J\\x1b]52;c;aGk=\\x07boom\\u202e\\x9b2J'), human.stdout + human.stderr)
      const doctor = await runCli(['doctor', ...conn, '--vendor', 'evil', '--db', db], {home})
      assert.equal(doctor.code, 2)
      assertInert(doctor)
      assert.ok(doctor.stdout.includes('\\x1b[2J'), doctor.stdout)
      const json = await runCli(['list-vendor-keys', ...conn, '--vendor', 'evil', '--json'], {home})
      assert.equal(json.json.hosts[0].error.detail.stderr, noise)
    } finally {
      await lab.exec('rm -f /usr/local/bin/sudo')
    }
  })

  it('a vendor key file with escape sequences is refused with an error that shows them escaped', async () => {
    const file = join(home, 'hostile.pub')
    writeFileSync(file, `${CLIPBOARD}${RLO} AAAA\n`)
    const r = await runCli(['add-vendor-key', ...conn, '--vendor', 'evil2', '--key-file', file, '--db', db], {home})
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assertInert(r)
    assert.match(r.stderr, /\\x07/)
  })
})
