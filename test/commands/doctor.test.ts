/**
 * bastion doctor end to end: break each thing for real on lab hosts (Debian's sshd), assert doctor names it with the
 * right id, and that --fix (where offered) makes it pass.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {connectionArgs, startLab, type LabHost} from '../lab/lab.js'
import {isolatedHome, makeKey, runCli, type TestKey} from '../helpers/cli.js'

interface F {
  id: string
  status: string
  seen: string
}

describe('bastion doctor on lab hosts', () => {
  let lab: LabHost
  let home: string
  let conn: string[]
  let db: string

  before(async () => {
    lab = await startLab({usePam: false})
    home = isolatedHome()
    conn = connectionArgs(lab)
    db = `${lab.db.host}:${lab.db.port}`
  })
  after(async () => {
    await lab?.stop()
  })

  /** A vendor set up the way add-vendor-key sets it up: healthy until a test breaks it. */
  async function vendor(name: string, key: TestKey = makeKey('ed25519', name)): Promise<TestKey> {
    const r = await runCli(['add-vendor-key', ...conn, '--vendor', name, '--key-file', key.publicPath, '--db', db, '--json'], {home})
    assert.equal(r.code, 0, r.stderr)
    return key
  }

  async function doctor(name: string, key: TestKey | undefined, extra: string[] = []): Promise<{code: number | null; findings: F[]; json: any}> {
    const args = ['doctor', ...conn, '--vendor', name, '--db', db, ...(key ? ['--key-file', key.publicPath] : []), ...extra, '--json']
    const r = await runCli(args, {home})
    assert.ok(r.json, `doctor printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
    return {code: r.code, findings: r.json.hosts[0].findings, json: r.json}
  }

  const statusOf = (findings: F[], id: string) => findings.filter((f) => f.id === id).map((f) => f.status)
  function failsWith(findings: F[], id: string, seen?: RegExp) {
    const hit = findings.find((f) => f.id === id && f.status === 'fail')
    assert.ok(hit, `${id} did not fail; failures: ${findings.filter((f) => f.status === 'fail').map((f) => `${f.id}: ${f.seen}`).join(' | ')}`)
    if (seen) assert.match(hit.seen, seen)
  }

  /** Break, see doctor name it; --fix, see it pass and doctor exit 0. */
  async function breakAndFix(name: string, breakIt: string, id: string, seen?: RegExp) {
    const key = await vendor(name)
    await lab.exec(breakIt)
    const broken = await doctor(name, key)
    assert.equal(broken.code, 1)
    failsWith(broken.findings, id, seen)
    const fixed = await doctor(name, key, ['--fix'])
    assert.ok(fixed.json.hosts[0].fixes.some((x: {id: string; applied: boolean}) => x.id === id && x.applied), JSON.stringify(fixed.json.hosts[0].fixes))
    assert.deepEqual(statusOf(fixed.findings, id).filter((s) => s === 'fail'), [], `${id} still fails after --fix`)
    assert.equal(fixed.code, 0, JSON.stringify(fixed.findings.filter((f) => f.status === 'fail')))
  }

  it('a healthy vendor passes every check and the end-to-end tunnel', async () => {
    const key = await vendor('healthy')
    const r = await doctor('healthy', key, ['--e2e', '--vendor-ip', '52.6.1.1/32'])
    assert.equal(r.code, 0, JSON.stringify(r.findings.filter((f) => f.status === 'fail')))
    assert.deepEqual(statusOf(r.findings, 'e2e.login'), ['pass'])
    assert.deepEqual(statusOf(r.findings, 'e2e.tunnel'), ['pass'])
    // the temporary key is gone again
    const ak = (await lab.exec('cat /home/healthy/.ssh/authorized_keys')).stdout
    assert.doesNotMatch(ak, /bastion-doctor-e2e/)
    assert.equal(ak.trim().split('\n').length, 1)
  })

  it('authorized_keys 0666', () => breakAndFix('mode666', 'chmod 666 /home/mode666/.ssh/authorized_keys', 'files.authorized_keys.mode', /0666/))

  it('~/.ssh owned by root', () => breakAndFix('rootssh', 'chown root:root /home/rootssh/.ssh', 'files.authorized_keys.readable'))

  it('a world-writable home directory', () => breakAndFix('wwhome', 'chmod 777 /home/wwhome', 'files.home.mode'))

  it('a locked account with UsePAM no', () => breakAndFix('locked', "usermod -p '!' locked", 'user.locked'))

  it('an expired account', () => breakAndFix('expired', 'chage -E 1 expired', 'user.expired'))

  it('a missing key, added by --fix', async () => {
    const key = await vendor('nokey')
    await lab.exec(': > /home/nokey/.ssh/authorized_keys')
    const broken = await doctor('nokey', key)
    failsWith(broken.findings, 'keys.present')
    const fixed = await doctor('nokey', key, ['--fix'])
    assert.deepEqual(statusOf(fixed.findings, 'keys.present'), ['pass'])
    assert.equal(fixed.code, 0)
  })

  it('the wrong key', async () => {
    await vendor('wrongkey')
    const expected = makeKey('ed25519', 'the-one-the-vendor-uses')
    const r = await doctor('wrongkey', expected)
    failsWith(r.findings, 'keys.present')
  })

  it('a CRLF key line', async () => {
    const key = await vendor('crlf')
    await lab.exec("sed -i 's/$/\\r/' /home/crlf/.ssh/authorized_keys")
    const r = await doctor('crlf', key)
    const line = r.findings.filter((f) => f.id === 'keys.line' && f.status !== 'pass')
    assert.ok(line.length > 0 && /CR|\\r|carriage/i.test(line[0]!.seen), JSON.stringify(line))
  })

  it('AllowTcpForwarding no in a Match User block, seen by the checks and by --e2e', async () => {
    const key = await vendor('nofwd')
    await lab.exec("printf 'Match User nofwd\\n  AllowTcpForwarding no\\n' > /etc/ssh/sshd_config.d/50-nofwd.conf")
    await lab.reloadSshd()
    const r = await doctor('nofwd', key, ['--e2e'])
    failsWith(r.findings, 'sshd.allow_tcp_forwarding')
    failsWith(r.findings, 'e2e.tunnel', /administratively prohibited/)
    assert.deepEqual(statusOf(r.findings, 'e2e.login'), ['pass'])
  })

  it('PermitOpen excluding the database', async () => {
    const key = await vendor('permitopen')
    await lab.exec("printf 'Match User permitopen\\n  PermitOpen 10.9.9.9:5432\\n' > /etc/ssh/sshd_config.d/50-permitopen.conf")
    await lab.reloadSshd()
    failsWith((await doctor('permitopen', key)).findings, 'sshd.permit_open')
  })

  it('an RSA vendor key when sshd no longer accepts RSA signatures', async () => {
    const key = await vendor('rsavendor', makeKey('rsa', 'rsavendor', 3072))
    await lab.exec("printf 'Match User rsavendor\\n  PubkeyAcceptedAlgorithms ssh-ed25519,ecdsa-sha2-nistp256\\n' > /etc/ssh/sshd_config.d/50-rsa.conf")
    await lab.reloadSshd()
    failsWith((await doctor('rsavendor', key)).findings, 'sshd.pubkey_algorithms')
  })

  it('a closed database port, an address that times out and a name that does not resolve', async () => {
    const key = await vendor('netvendor')
    const r = await runCli(
      [
        'doctor', ...conn, '--vendor', 'netvendor', '--key-file', key.publicPath, '--net-timeout', '2',
        '--db', `${lab.closedPort.host}:${lab.closedPort.port}`, '--db', `${lab.timeoutEndpoint.host}:${lab.timeoutEndpoint.port}`,
        '--db', `${lab.unresolvableName}:5432`, '--db', `${lab.dbName}:${lab.db.port}`, '--json',
      ],
      {home},
    )
    assert.equal(r.code, 1)
    const tcp = r.json.hosts[0].findings.filter((f: F) => f.id === 'network.tcp')
    const seen = (target: string) => tcp.find((f: F & {title: string}) => f.title.includes(target))
    assert.match(seen(`${lab.closedPort.host}:${lab.closedPort.port}`).seen, /refused/)
    assert.equal(seen(`${lab.closedPort.host}:${lab.closedPort.port}`).status, 'fail')
    assert.match(seen(`${lab.timeoutEndpoint.host}:${lab.timeoutEndpoint.port}`).seen, /timed out|time/i)
    assert.equal(seen(`${lab.dbName}:${lab.db.port}`).status, 'pass')
    const dns = r.json.hosts[0].findings.filter((f: F) => f.id === 'network.dns' && f.status === 'fail')
    assert.equal(dns.length, 1)
    assert.match(dns[0].seen, new RegExp(lab.unresolvableName.replace(/\./g, '\\.')))
  })

  it('--format junit: one suite per host, one case per check; an unreachable host makes exit 2', async () => {
    const key = await vendor('junit')
    const r = await runCli(['doctor', ...conn, '--host', `${lab.adminUser}@${lab.address}:2`, '--vendor', 'junit', '--key-file', key.publicPath, '--db', db, '--format', 'junit'], {home})
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stdout, /^<\?xml/)
    assert.equal((r.stdout.match(/<testsuite /g) ?? []).length, 2)
    assert.match(r.stdout, /<testcase classname="bastion.doctor.sshd" name="sshd.running: /)
    assert.match(r.stdout, /<error message="[^"]*"/)
  })

  it('--fix --dry-run shows the fixes and changes nothing', async () => {
    const key = await vendor('dryfix')
    await lab.exec('chmod 644 /home/dryfix/.ssh/authorized_keys && chmod 755 /home/dryfix/.ssh')
    const r = await doctor('dryfix', key, ['--fix', '--dry-run'])
    const fixes = r.json.hosts[0].fixes as {id: string; applied: boolean}[]
    assert.ok(fixes.length >= 1 && fixes.every((f) => !f.applied), JSON.stringify(fixes))
    assert.equal((await lab.exec("stat -c %a /home/dryfix/.ssh/authorized_keys /home/dryfix/.ssh")).stdout, '644\n755\n')
  })
})

describe('bastion doctor: AllowUsers without the vendor', () => {
  it('names sshd.allow_users', async () => {
    const lab = await startLab({sshdConfig: 'AllowUsers admin sudopw'})
    try {
      const home = isolatedHome()
      const conn = connectionArgs(lab)
      const key = makeKey('ed25519', 'allowed')
      const add = await runCli(['add-vendor-key', ...conn, '--vendor', 'notallowed', '--key-file', key.publicPath, '--db', `${lab.db.host}:${lab.db.port}`], {home})
      assert.equal(add.code, 0, add.stderr)
      const r = await runCli(['doctor', ...conn, '--vendor', 'notallowed', '--key-file', key.publicPath, '--db', `${lab.db.host}:${lab.db.port}`, '--e2e', '--json'], {home})
      assert.equal(r.code, 1)
      const f = r.json.hosts[0].findings as F[]
      assert.ok(f.some((x) => x.id === 'sshd.allow_users' && x.status === 'fail'), JSON.stringify(f.filter((x) => x.status !== 'pass')))
      assert.ok(f.some((x) => x.id === 'e2e.login' && x.status === 'fail'))
    } finally {
      await lab.stop()
    }
  })
})
