/**
 * The hard cases of vendor access: concurrency on one host, a run killed mid-way, many hosts with some failing,
 * and each connection failure with its own message and exit code.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {parseAuthorizedKeys} from '../../src/access/authorized-keys.js'
import {parsePublicKey} from '../../src/access/keys.js'
import {addScript, planAdd} from '../../src/access/service.js'
import {connectionArgs, startLab, type LabHost} from '../lab/lab.js'
import {isolatedHome, makeKey, runCli} from '../helpers/cli.js'

describe('vendor access under pressure', () => {
  let lab: LabHost
  let home: string
  let conn: string[]

  before(async () => {
    lab = await startLab()
    home = isolatedHome()
    conn = connectionArgs(lab)
  })
  after(async () => {
    await lab?.stop()
  })

  it('20 concurrent add-vendor-key processes on one host adding different keys leave all 20 in a well-formed file', async () => {
    const keys = Array.from({length: 20}, (_, i) => makeKey('ed25519', `fivetran-${i}`))
    const runs = await Promise.all(
      keys.map((k) =>
        runCli(['add-vendor-key', ...conn, '--vendor', 'fivetran', '--key-file', k.publicPath, '--db', `${lab.db.host}:${lab.db.port}`, '--json'], {home}),
      ),
    )
    for (const r of runs) assert.equal(r.code, 0, r.stderr + r.stdout)
    const created = runs.filter((r) => r.json.hosts[0].result.user === 'created')
    assert.equal(created.length, 1, 'exactly one run created the user')
    const text = (await lab.exec('cat /home/fivetran/.ssh/authorized_keys')).stdout
    const lines = parseAuthorizedKeys(text)
    assert.equal(lines.length, 20)
    assert.ok(lines.every((l) => l.kind === 'key' && l.problems.length === 0 && l.owner?.vendor === 'fivetran'))
    assert.deepEqual(new Set(lines.map((l) => l.key?.fingerprint)), new Set(keys.map((k) => k.fingerprint)))
    assert.match((await lab.exec('ls -a /home/fivetran/.ssh')).stdout.trim(), /^\.\n\.\.\nauthorized_keys$/)
  })

  it('a run killed at any point leaves the old file or the new one, never a torn one; the next run cleans up', async () => {
    // A large file makes the write window wide enough to land kills inside it.
    const foreign = Array.from({length: 20000}, (_, i) => `ssh-ed25519 ${makeKeyBlob(i)} filler-${i}`).join('\n') + '\n'
    await lab.exec('useradd -m -s /usr/sbin/nologin killme && mkdir -p -m 700 /home/killme/.ssh && cat > /home/killme/.ssh/authorized_keys && chown -R killme:killme /home/killme/.ssh && chmod 600 /home/killme/.ssh/authorized_keys', foreign)
    const key = parsePublicKey(makeKey('ed25519', 'killme').publicText).key
    const plan = planAdd({vendor: 'killme', key, permitOpen: [{host: lab.db.host, port: lab.db.port, text: `${lab.db.host}:${lab.db.port}`}], today: '2026-11-24', adopt: true})
    await lab.exec('cat > /root/add.sh', addScript(plan))
    const newText = `${foreign}${plan.line}\n`
    const t0 = Date.now()
    await lab.exec('sh /root/add.sh >/dev/null')
    const full = Math.max(Date.now() - t0, 20)
    assert.equal((await lab.exec('cat /home/killme/.ssh/authorized_keys')).stdout, newText)
    const reset = () => lab.exec('cat > /home/killme/.ssh/authorized_keys && rm -f /home/killme/.ssh/.authorized_keys.bastion.*', foreign)
    // SIGKILL the script and its children (awk, mv), as a crash or kill -9 would.
    const killTree = 'pkill -KILL -P $pid 2>/dev/null; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null; true'
    let tornWindows = 0
    for (let i = 0; i < 16; i++) {
      await reset()
      if (i % 2 === 0) {
        // Inside the write window: as soon as the temporary file exists, kill.
        await lab.exec(`sh /root/add.sh >/dev/null 2>&1 & pid=$!; until ls /home/killme/.ssh/.authorized_keys.bastion.* >/dev/null 2>&1 || ! kill -0 $pid 2>/dev/null; do :; done; ${killTree}`)
      } else {
        // At points spread over a whole run.
        const delay = ((full * i) / 16 / 1000).toFixed(3)
        await lab.exec(`sh /root/add.sh >/dev/null 2>&1 & pid=$!; sleep ${delay}; ${killTree}`)
      }
      const now = (await lab.exec('cat /home/killme/.ssh/authorized_keys')).stdout
      assert.ok(now === foreign || now === newText, `torn file after kill ${i}: ${now.length} bytes`)
      const leftovers = (await lab.exec('ls -A /home/killme/.ssh/ | grep -c bastion || true')).stdout.trim()
      if (now === foreign && leftovers !== '0') tornWindows++
    }
    assert.ok(tornWindows > 0, 'at least one kill landed mid-write (a partial temporary file was left) and the file was still whole')
    // A normal run afterwards removes the leftover temporary files and writes the new file.
    await lab.exec('touch /home/killme/.ssh/.authorized_keys.bastion.ABC123')
    const r = await lab.exec('sh /root/add.sh')
    assert.match(r.stdout, /@bastion cleaned \/home\/killme\/\.ssh\/\.authorized_keys\.bastion\.ABC123/)
    assert.equal((await lab.exec('cat /home/killme/.ssh/authorized_keys')).stdout, newText)
    assert.equal((await lab.exec('ls -a /home/killme/.ssh | wc -l')).stdout.trim(), '3')
  })

  it('--dry-run prints the plan and the script and touches nothing', async () => {
    const k = makeKey('ed25519', 'dry')
    const r = await runCli(['add-vendor-key', '--host', 'admin@192.0.2.1', '--vendor', 'dryrun', '--key-file', k.publicPath, '--db', '10.0.1.5:5432', '--dry-run', '--json'], {home})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json.dryRun, true)
    assert.match(r.json.script, /^#!\/bin\/sh/)
    assert.match(r.json.script, /VENDOR='dryrun'/)
    assert.match(r.json.line, /^restrict,port-forwarding,permitopen="10\.0\.1\.5:5432",command="\/bin\/false" ssh-ed25519 /)
  })

  it('bad input is refused before anything is sent: a private key pasted by mistake', async () => {
    const k = makeKey('ed25519', 'oops')
    const r = await runCli(['add-vendor-key', ...conn, '--vendor', 'oops', '--key-file', k.privatePath, '--db', `${lab.db.host}:${lab.db.port}`])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /private key/i)
    assert.notEqual((await lab.exec('getent passwd oops')).code, 0)
  })

  it('an unknown host key is refused with its fingerprint and both ways to trust it; --accept-new records it', async () => {
    const fresh = isolatedHome()
    const k = makeKey()
    const args = ['add-vendor-key', '--host', `${lab.adminUser}@${lab.address}`, '--identity', lab.adminKeyPath, '--vendor', 'newhost', '--key-file', k.publicPath, '--db', `${lab.db.host}:${lab.db.port}`]
    const r = await runCli([...args, '--json'], {home: fresh})
    assert.equal(r.code, 3, r.stdout + r.stderr)
    const err = r.json.hosts[0].error
    assert.match(err.message, new RegExp(lab.hostKeyFingerprint.replace(/[+/]/g, '\\$&')))
    assert.ok(err.suggestions.some((s: string) => s.includes('--host-key')))
    assert.ok(err.suggestions.some((s: string) => s.includes('--accept-new')))

    const pinned = await runCli([...args, '--host-key', lab.hostKeyFingerprint, '--json'], {home: fresh})
    assert.equal(pinned.code, 0, pinned.stderr)
    const accepted = await runCli([...args, '--accept-new', '--json'], {home: fresh})
    assert.equal(accepted.code, 0, accepted.stderr)
    const again = await runCli([...args, '--json'], {home: fresh})
    assert.equal(again.code, 0, again.stderr)
  })

  it('a changed host key is always refused, even with --accept-new', async () => {
    const fresh = isolatedHome()
    const other = makeKey('ed25519', 'not-the-host')
    writeFileSync(join(fresh, '.ssh', 'known_hosts'), `${lab.address} ${other.publicText.split(' ').slice(0, 2).join(' ')}\n`)
    const k = makeKey()
    const r = await runCli(
      ['add-vendor-key', '--host', `${lab.adminUser}@${lab.address}`, '--identity', lab.adminKeyPath, '--vendor', 'changed', '--key-file', k.publicPath, '--db', `${lab.db.host}:${lab.db.port}`, '--accept-new'],
      {home: fresh},
    )
    assert.equal(r.code, 3)
    assert.match(r.stdout + r.stderr, /CHANGED/i)
    assert.notEqual((await lab.exec('getent passwd changed')).code, 0)
  })

  it('sudo that wants a password, a refused login and an unreachable port each get their own message and exit code', async () => {
    const k = makeKey()
    const base = ['add-vendor-key', '--known-hosts', lab.knownHostsFile, '--vendor', 'sudotest', '--key-file', k.publicPath, '--db', `${lab.db.host}:${lab.db.port}`]
    const sudo = await runCli([...base, '--host', `${lab.sudoPasswordUser}@${lab.address}`, '--identity', lab.sudoPasswordUserKeyPath, '--json'], {home})
    assert.equal(sudo.code, 5, sudo.stdout + sudo.stderr)
    assert.equal(sudo.json.hosts[0].error.code, 'SUDO_PASSWORD')
    assert.ok(sudo.json.hosts[0].error.suggestions.some((s: string) => /NOPASSWD/.test(s)))

    const wrongKey = makeKey()
    const auth = await runCli([...base, '--host', `${lab.adminUser}@${lab.address}`, '--identity', wrongKey.privatePath, '--json'], {home})
    assert.equal(auth.code, 4, auth.stdout + auth.stderr)

    const closed = await runCli([...base, '--host', `${lab.adminUser}@${lab.address}:2`, '--identity', lab.adminKeyPath, '--json'], {home})
    assert.equal(closed.code, 6, closed.stdout + closed.stderr)
  })

  it('several hosts are worked concurrently; one failing host does not stop the others', async () => {
    const lab2 = await startLab()
    try {
      const k = makeKey('ed25519', 'multi')
      const kh = join(home, 'multi_known_hosts')
      writeFileSync(kh, [...lab.knownHostsLines, ...lab2.knownHostsLines].join('\n') + '\n')
      const r = await runCli(
        [
          'add-vendor-key', '--host', `${lab.adminUser}@${lab.address}`, '--host', `${lab2.adminUser}@${lab2.address}`, '--host', `${lab.adminUser}@${lab.address}:2`,
          '--identity', lab.adminKeyPath, '--identity', lab2.adminKeyPath, '--known-hosts', kh,
          '--vendor', 'multi', '--key-file', k.publicPath, '--db', `${lab.db.host}:${lab.db.port}`, '--json',
        ],
        {home},
      )
      assert.equal(r.code, 6, r.stderr)
      assert.deepEqual(r.json.hosts.map((h: {ok: boolean}) => h.ok), [true, true, false])
      assert.equal(r.json.ok, false)
      assert.equal((await lab2.exec('getent passwd multi')).code, 0)
    } finally {
      await lab2.stop()
    }
  })
})

/** A syntactically valid ed25519 blob, distinct per i (no ssh-keygen call per filler line). */
function makeKeyBlob(i: number): string {
  const type = Buffer.from('ssh-ed25519')
  const pub = Buffer.alloc(32)
  pub.writeUInt32BE(i)
  const b = Buffer.alloc(4 + type.length + 4 + 32)
  b.writeUInt32BE(type.length, 0)
  type.copy(b, 4)
  b.writeUInt32BE(32, 4 + type.length)
  pub.copy(b, 8 + type.length)
  return b.toString('base64')
}
