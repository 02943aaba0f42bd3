/**
 * bastion.yml against real hosts: `apply --config` and `doctor --config` on three lab hosts at once (Debian's sshd),
 * drift in both directions (the file lists what a host lacks; a host holds what the file does not list), --prune, an
 * apply killed with SIGKILL in the middle and run again, and `config import` whose file doctor --config then finds in
 * step with the host.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {after, before, describe, it} from 'node:test'
import {packageRoot} from '../../src/paths.js'
import {connectionArgs, startLab, type LabHost} from '../lab/lab.js'
import {isolatedHome, makeKey, runCli, type TestKey} from '../helpers/cli.js'

interface F {
  id: string
  status: string
  seen: string
}

interface Vendor {
  name: string
  cidrs: string[]
  keys: {key: TestKey; expires?: string}[]
}

describe('bastion.yml on three lab hosts: apply, doctor --config, import', () => {
  const labs: LabHost[] = []
  let home: string
  let dir: string
  let file: string
  const hevo = makeKey('ed25519', 'hevo@prod')
  const fivetran = makeKey('ecdsa', 'fivetran')
  const airbyte = makeKey('ed25519', 'airbyte')
  const census = makeKey('ed25519', 'census')
  const stray = makeKey('ed25519', 'by-hand')
  const extra = makeKey('ed25519', 'stitch-old')

  /** The config file: every lab a bastion (reached with its admin key and known_hosts), these vendors on each. */
  function writeConfig(vendors: Vendor[], on: (lab: LabHost) => string[] = () => vendors.map((v) => v.name)): void {
    const db = labs[0] as LabHost
    // db.lab resolves, on every lab, to that lab's own database
    const lines = ['version: 1', 'databases:', '  warehouse:', `    host: ${db.dbName}`, `    port: ${db.db.port}`, 'vendors:']
    for (const v of vendors) {
      lines.push(`  ${v.name}:`, `    cidrs: [${v.cidrs.join(', ')}]`, '    keys:')
      for (const k of v.keys) {
        lines.push(`      - file: ${k.key.publicPath}`)
        if (k.expires) lines.push(`        expires: ${k.expires}`)
      }
      lines.push('    databases: [warehouse]')
    }
    lines.push('bastions:')
    labs.forEach((lab, i) => {
      lines.push(
        `  lab-${'abc'[i]}:`,
        '    ssh:',
        `      host: ${lab.address}`,
        `      user: ${lab.adminUser}`,
        `      identity: ${lab.adminKeyPath}`,
        `      knownHosts: ${lab.knownHostsFile}`,
        `    vendors: [${on(lab).join(', ')}]`,
      )
    })
    writeFileSync(file, `${lines.join('\n')}\n`)
  }

  const base: Vendor[] = [
    {name: 'hevo', cidrs: ['52.6.1.1/32'], keys: [{key: hevo}]},
    {name: 'fivetran', cidrs: ['35.234.176.144/29'], keys: [{key: fivetran, expires: '2031-06-30'}]},
  ]

  async function doctor(...args: string[]): Promise<{code: number | null; json: any; drift: (F & {host: string})[]}> {
    const r = await runCli(['doctor', '--config', file, ...args, '--json'], {home, timeoutMs: 300_000})
    assert.ok(r.json, `doctor printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
    const drift = (r.json.hosts as {host: string; findings: F[]}[]).flatMap((h) => h.findings.filter((f) => f.id.startsWith('drift.')).map((f) => ({...f, host: h.host})))
    return {code: r.code, json: r.json, drift}
  }
  const problems = (drift: (F & {host: string})[]) => drift.filter((f) => f.status !== 'pass').map((f) => `${f.host} ${f.id} ${f.status}`).sort()

  async function apply(...args: string[]) {
    const r = await runCli(['apply', '--config', file, ...args, '--json'], {home, timeoutMs: 300_000})
    assert.ok(r.json, `apply printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
    return r
  }

  async function keysOf(lab: LabHost, user: string): Promise<string> {
    return (await lab.exec(`cat /home/${user}/.ssh/authorized_keys 2>/dev/null`)).stdout
  }

  before(async () => {
    labs.push(...(await Promise.all([startLab({db: 'tcp'}), startLab({db: 'tcp'}), startLab({db: 'tcp'})])))
    home = isolatedHome()
    dir = mkdtempSync(join(tmpdir(), 'bastion-config-lab-'))
    file = join(dir, 'bastion.yml')
    writeConfig(base)
  })
  after(async () => {
    await Promise.all(labs.map((l) => l.stop()))
    rmSync(dir, {recursive: true, force: true})
  })

  it('before apply, doctor --config reports every vendor missing on every bastion, in one report with exit 1', async () => {
    const d = await doctor()
    assert.equal(d.code, 1)
    assert.deepEqual(d.json.config.bastions, ['lab-a', 'lab-b', 'lab-c'])
    const hosts = d.json.hosts.map((h: {host: string}) => h.host)
    assert.deepEqual(hosts, ['lab-a', 'lab-a/hevo', 'lab-a/fivetran', 'lab-b', 'lab-b/hevo', 'lab-b/fivetran', 'lab-c', 'lab-c/hevo', 'lab-c/fivetran'])
    for (const b of ['lab-a', 'lab-b', 'lab-c'])
      for (const id of ['drift.vendor.missing', 'drift.key.missing'])
        assert.equal(d.drift.filter((f) => f.host === b && f.id === id && f.status === 'fail').length, 2, `${b} ${id}`)
  })

  it('apply --dry-run prints the diff of every bastion and changes nothing', async () => {
    const human = await runCli(['apply', '--config', file, '--dry-run'], {home, timeoutMs: 300_000})
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /^lab-a /m)
    assert.match(human.stdout, new RegExp(`^  \\+ hevo key ${hevo.fingerprint.replace(/[+/]/g, '\\$&')} \\(ED25519 hevo@prod\\)  permitopen ${labs[0]?.dbName.replace('.', '\\.')}:5432  from 52\\.6\\.1\\.1/32  no expiry$`, 'm'))
    assert.match(human.stdout, /^ {2}\+ fivetran key SHA256:\S+ \(ECDSA fivetran\) .*expires 2031-06-30$/m)
    assert.match(human.stdout, /^6 change\(s\) on 3 bastion\(s\)/m)
    const r = await apply('--dry-run')
    assert.equal(r.json.summary.changes, 6)
    assert.ok(r.json.bastions.every((b: {changes: {status: string}[]}) => b.changes.every((c) => c.status === 'planned')))
    for (const lab of labs) assert.equal((await lab.exec('getent passwd hevo')).code, 2, 'the dry run created a user')
  })

  it('apply adds every vendor and key on all three bastions; a second apply has nothing to do; doctor --config finds no drift', async () => {
    const r = await apply()
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.equal(r.json.summary.done, 6)
    for (const lab of labs) {
      assert.match(await keysOf(lab, 'hevo'), new RegExp(`from="52\\.6\\.1\\.1/32",command="/bin/false" ssh-ed25519 \\S+ hevo@prod bastion:vendor=hevo,added=`))
      assert.match(await keysOf(lab, 'fivetran'), /expiry-time="20310630"/)
    }
    const listed = await runCli(['list-vendor-keys', '--config', file, '--bastion', 'lab-b', '--bastion', 'lab-c', '--vendor', 'hevo', '--json'], {home})
    assert.equal(listed.code, 0, listed.stderr)
    assert.deepEqual(listed.json.hosts.map((h: {host: string; result: {accounts: {keys: {fingerprint: string}[]}[]}}) => [h.host, h.result.accounts[0]?.keys[0]?.fingerprint]), [
      ['lab-b', hevo.fingerprint],
      ['lab-c', hevo.fingerprint],
    ])
    const again = await apply()
    assert.equal(again.code, 0)
    assert.equal(again.json.summary.changes, 0)
    const d = await doctor()
    assert.deepEqual(problems(d.drift), [])
    assert.equal(d.drift.filter((f) => f.host === 'lab-b' && f.status === 'pass').length, 6)
  })

  it('drift both ways: an options change, a stale bastion key and a hand-written line are reported; apply fixes the options and keeps the rest; --prune removes only the stale bastion line', async () => {
    const b = labs[1] as LabHost
    // on the host, not in the file: a bastion-owned key for another vendor (stale), and a line bastion did not write (unmanaged)
    const added = await runCli(['add-vendor-key', ...connectionArgs(b), '--vendor', 'stitch', '--key-file', extra.publicPath, '--db', `${b.db.host}:${b.db.port}`, '--json'], {home})
    assert.equal(added.code, 0, added.stderr)
    const handLine = `no-pty ${stray.publicText.trim()}`
    await b.exec(`printf '%s\\n' '${handLine}' >> /home/hevo/.ssh/authorized_keys`)
    // in the file, not on the hosts: fivetran's new expiry
    writeConfig([base[0] as Vendor, {...(base[1] as Vendor), keys: [{key: fivetran, expires: '2032-01-31'}]}])

    const d = await doctor()
    assert.equal(d.code, 1)
    assert.deepEqual(problems(d.drift), [
      'lab-a drift.key.options fail',
      'lab-b drift.key.options fail',
      'lab-b drift.key.stale fail',
      'lab-b drift.key.unmanaged warn',
      'lab-c drift.key.options fail',
    ])
    assert.match(d.drift.find((f) => f.id === 'drift.key.options')?.seen ?? '', /expires 2031-06-30 → 2032-01-31/)

    const human = await runCli(['apply', '--config', file, '--bastion', 'lab-b', '--dry-run'], {home})
    assert.match(human.stdout, /^ {2}~ fivetran key SHA256:\S+ \(ECDSA fivetran\) {2}expires 2031-06-30 → 2032-01-31$/m)
    assert.match(human.stdout, /stitch key SHA256:\S+ is bastion-owned and not in the file: kept \(--prune removes it\)/)
    assert.match(human.stdout, /hevo key SHA256:\S+ is not bastion's line: never touched/)

    const r = await apply()
    assert.equal(r.code, 0, r.stdout)
    assert.equal(r.json.summary.done, 3)
    for (const lab of labs) assert.match(await keysOf(lab, 'fivetran'), /expiry-time="20320131"/)
    assert.match(await keysOf(b, 'stitch'), /stitch-old/)

    const pruned = await apply('--prune')
    assert.equal(pruned.code, 0, pruned.stdout)
    const lb = pruned.json.bastions.find((x: {bastion: string}) => x.bastion === 'lab-b')
    assert.deepEqual(lb.changes.map((c: {op: string; user: string; status: string}) => `${c.op} ${c.user} ${c.status}`), ['- stitch done'])
    assert.doesNotMatch(await keysOf(b, 'stitch'), /stitch-old/)
    assert.ok((await keysOf(b, 'hevo')).includes(`${handLine}\n`), 'the hand-written line was changed')
    const after = await doctor()
    assert.deepEqual(problems(after.drift), ['lab-b drift.key.unmanaged warn'])
    const failed = (after.json.hosts as {host: string; findings: F[]}[]).flatMap((h) => h.findings.filter((f) => f.status === 'fail').map((f) => `${h.host} ${f.id}: ${f.seen}`))
    assert.equal(after.code, 0, failed.join('\n'))
  })

  it('an apply killed with SIGKILL in the middle leaves nothing half-done, and a re-run finishes the job', async () => {
    const c = labs[2] as LabHost
    // census's lock held on lab-c: apply gets there after airbyte's key and waits, deterministically
    const holder = await c.exec(
      'mkdir -p /run/bastion && chmod 700 /run/bastion && setsid flock /run/bastion/vendor-census.lock sleep 3600 >/dev/null 2>&1 </dev/null & echo $!',
    )
    const holderPid = Number(holder.stdout.trim())
    assert.ok(holderPid > 1, holder.stderr)
    try {
      writeConfig([...base, {name: 'airbyte', cidrs: ['34.106.109.131/32'], keys: [{key: airbyte}]}, {name: 'census', cidrs: ['34.216.163.150/32'], keys: [{key: census}]}])
      const env: NodeJS.ProcessEnv = {...process.env, HOME: home, NO_COLOR: '1'}
      delete env.SSH_AUTH_SOCK
      const child = spawn(process.execPath, [join(packageRoot, 'bin/run.js'), 'apply', '--config', file, '--json'], {env, stdio: 'ignore'})
      const exited = new Promise((resolve) => child.on('exit', resolve))
      // wait until lab-c has airbyte's key (apply is then waiting for census's lock there), however long that takes
      const deadline = Date.now() + 240_000
      while (!(await keysOf(c, 'airbyte')).includes('airbyte bastion:vendor=airbyte')) {
        assert.ok(Date.now() < deadline, 'apply never reached lab-c')
        await sleep(200)
      }
      child.kill('SIGKILL')
      await exited
      assert.doesNotMatch(await keysOf(c, 'census'), /census/, 'census was added while its lock was held')
    } finally {
      await c.exec(`kill -- -${holderPid} 2>/dev/null; kill ${holderPid} 2>/dev/null; true`)
    }
    const r = await apply()
    assert.equal(r.code, 0, r.stdout)
    for (const lab of labs) {
      assert.match(await keysOf(lab, 'airbyte'), /airbyte bastion:vendor=airbyte/)
      assert.match(await keysOf(lab, 'census'), /census bastion:vendor=census/)
    }
    // no temporary files left behind in the vendors' ~/.ssh
    const leftovers = await c.exec('ls -a /home/*/.ssh/ | grep -v "^\\.\\{1,2\\}$" | grep -v "^authorized_keys$" | grep -v "^/home" | grep -v "^$" || true')
    assert.equal(leftovers.stdout.trim(), '')
    const d = await doctor()
    assert.deepEqual(problems(d.drift), ['lab-b drift.key.unmanaged warn'])
  })

  it('config import writes the file of what a bastion has; doctor --config with it reports no drift', async () => {
    const a = labs[0] as LabHost
    const out = join(dir, 'imported.yml')
    const r = await runCli(['config', 'import', ...connectionArgs(a), '--output', out], {home})
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const text = readFileSync(out, 'utf8')
    assert.match(text, /^# /m)
    assert.match(text, /hevo:\n\s+cidrs:/)
    const d = await runCli(['doctor', '--config', out, '--json'], {home, timeoutMs: 300_000})
    assert.ok(d.json, d.stdout + d.stderr)
    const drift = (d.json.hosts as {host: string; findings: F[]}[]).flatMap((h) => h.findings.filter((f) => f.id.startsWith('drift.') && f.status !== 'pass').map((f) => `${h.host} ${f.id}`))
    assert.deepEqual(drift, [])
    const applied = await runCli(['apply', '--config', out, '--prune', '--json'], {home})
    assert.equal(applied.json?.summary.changes, 0, applied.stdout)
  })
})
