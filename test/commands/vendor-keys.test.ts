/**
 * add-vendor-key / list-vendor-keys / remove-vendor-key end to end: the real CLI against a lab host running Debian's sshd.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {parseAuthorizedKeys} from '../../src/access/authorized-keys.js'
import {connectionArgs, startLab, type LabHost} from '../lab/lab.js'
import {isolatedHome, makeKey, runCli, type TestKey} from '../helpers/cli.js'
import {readUntil, vendorLogin} from '../helpers/vendor-client.js'

let lab: LabHost
let home: string
let conn: string[]

async function stat(path: string): Promise<string> {
  const r = await lab.exec(`stat -c '%U:%G %a %F %i' ${path}`)
  return r.stdout.trim()
}

async function authorizedKeys(user: string): Promise<string> {
  const r = await lab.exec(`cat /home/${user}/.ssh/authorized_keys`)
  assert.equal(r.code, 0, r.stderr)
  return r.stdout
}

describe('vendor access on a lab host', () => {
  const hevo: TestKey = makeKey('ed25519', 'hevo@prod')
  const hevo2: TestKey = makeKey('ecdsa', 'hevo-backup')

  before(async () => {
    // UsePAM no: the strict case, where sshd refuses a locked account (useradd leaves "!" in shadow).
    lab = await startLab({usePam: false})
    home = isolatedHome()
    conn = connectionArgs(lab)
  })
  after(async () => {
    await lab?.stop()
  })

  it('first add creates group, user, ~/.ssh 0700 and authorized_keys 0600 owned by the vendor, with a least-privilege line', async () => {
    const r = await runCli(
      ['add-vendor-key', ...conn, '--vendor', 'hevo', '--key-file', hevo.publicPath, '--db', `${lab.db.host}:${lab.db.port}`, '--json'],
      {home},
    )
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const host = r.json.hosts[0]
    assert.equal(host.ok, true)
    assert.equal(host.result.user, 'created')
    assert.equal(host.result.group, 'created')
    assert.equal(host.result.key.status, 'added')
    assert.equal(host.result.key.fingerprint, hevo.fingerprint)
    assert.equal(host.result.shell, '/usr/sbin/nologin')
    assert.equal(host.result.unlocked, true)
    assert.deepEqual(host.result.vendorForm, {sshHost: lab.address, sshPort: lab.port, sshUser: 'hevo'})

    assert.equal(await stat('/home/hevo/.ssh'), `hevo:hevo 700 directory ${(await stat('/home/hevo/.ssh')).split(' ').at(-1)}`)
    assert.match(await stat('/home/hevo/.ssh/authorized_keys'), /^hevo:hevo 600 regular file /)
    const shadow = (await lab.exec('getent shadow hevo | cut -d: -f2')).stdout.trim()
    assert.equal(shadow, '*')
    const gid = (await lab.exec('id -gn hevo')).stdout.trim()
    assert.equal(gid, 'hevo')

    const text = await authorizedKeys('hevo')
    const lines = parseAuthorizedKeys(text).filter((l) => l.kind === 'key')
    assert.equal(lines.length, 1)
    assert.match(
      lines[0]!.raw,
      new RegExp(`^restrict,port-forwarding,permitopen="${lab.db.host}:${lab.db.port}",command="/bin/false" ssh-ed25519 \\S+ hevo@prod bastion:vendor=hevo,added=\\d{4}-\\d{2}-\\d{2}$`),
    )
    assert.equal(lines[0]!.owner?.vendor, 'hevo')
    // stdout holds only the JSON result; progress went to stderr
    assert.doesNotThrow(() => JSON.parse(r.stdout))
  })

  it('the vendor can log in and tunnel to the permitted database, and is refused a shell, other destinations and agent forwarding', async () => {
    const v = await vendorLogin({host: lab.address, port: lab.port, user: 'hevo', privateKeyPath: hevo.privatePath, hostKeyFingerprint: lab.hostKeyFingerprint})
    try {
      const ch = await v.tunnel(lab.db.host, lab.db.port)
      const greeting = await readUntil(ch, (t) => t.includes('\n'))
      assert.match(greeting, /^bastion-lab-db /)
      ch.write('ping through the tunnel\n')
      const echoed = await readUntil(ch, (t) => t.includes('ping through the tunnel'))
      assert.match(echoed, /ping through the tunnel/)
      ch.close()

      // SSH2_OPEN_ADMINISTRATIVELY_PROHIBITED (1): sshd's permitopen refused the destination.
      const prohibited = (e: {reason?: number}) => e.reason === 1
      await assert.rejects(v.tunnel(lab.closedPort.host, lab.closedPort.port), prohibited)
      await assert.rejects(v.tunnel('127.0.0.1', 22), prohibited)
      assert.match(await lab.sshdLog(), /but the request was denied/)

      const shell = await v.exec('id')
      assert.doesNotMatch(shell.output, /uid=/)
      assert.match(shell.output, /not available/i)
      assert.notEqual(shell.code, 0)

      const agent = await v.exec('true', {agentForward: true})
      assert.match(String(agent.error?.message), /agent forwarding/i)
    } finally {
      v.close()
    }
  })

  it('re-running the same add changes nothing: file untouched, key reported present', async () => {
    const before = await stat('/home/hevo/.ssh/authorized_keys')
    const text = await authorizedKeys('hevo')
    const r = await runCli(
      ['add-vendor-key', ...conn, '--vendor', 'hevo', '--key-file', hevo.publicPath, '--db', `${lab.db.host}:${lab.db.port}`, '--json'],
      {home},
    )
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json.hosts[0].result.key.status, 'present')
    assert.equal(r.json.hosts[0].result.user, 'present')
    assert.equal(r.json.hosts[0].result.file, 'unchanged')
    assert.equal(r.json.hosts[0].result.unlocked, false)
    assert.equal(await stat('/home/hevo/.ssh/authorized_keys'), before)
    assert.equal(await authorizedKeys('hevo'), text)
  })

  it('a second key is added beside the first', async () => {
    const r = await runCli(
      ['add-vendor-key', ...conn, '--vendor', 'hevo', '--key-file', hevo2.publicPath, '--db', `${lab.db.host}:${lab.db.port}`, '--json'],
      {home},
    )
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json.hosts[0].result.key.status, 'added')
    const keys = parseAuthorizedKeys(await authorizedKeys('hevo')).filter((l) => l.kind === 'key')
    assert.deepEqual(keys.map((k) => k.key?.fingerprint), [hevo.fingerprint, hevo2.fingerprint])
  })

  it('the same key with other options is updated in place, keeping its position, added date and foreign lines', async () => {
    await lab.exec(`printf '# hand-written note\\nssh-ed25519 ${makeKey().publicText.split(' ')[1]} ops\\n' >> /home/hevo/.ssh/authorized_keys`)
    const old = parseAuthorizedKeys(await authorizedKeys('hevo'))
    const r = await runCli(
      [
        'add-vendor-key', ...conn, '--vendor', 'hevo', '--key-file', hevo.publicPath,
        '--db', `${lab.db.host}:${lab.db.port}`, '--db', `${lab.dbName}:5432`, '--vendor-ip', '10.0.0.0/8', '--expires', '2099-01-31', '--json',
      ],
      {home},
    )
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json.hosts[0].result.key.status, 'updated')
    const now = parseAuthorizedKeys(await authorizedKeys('hevo'))
    assert.equal(now.length, old.length)
    assert.equal(now[0]!.key?.fingerprint, hevo.fingerprint)
    assert.deepEqual(
      now[0]!.options.map((o) => [o.name, o.value]),
      [['restrict', undefined], ['port-forwarding', undefined], ['permitopen', `${lab.db.host}:${lab.db.port}`], ['permitopen', `${lab.dbName}:5432`], ['from', '10.0.0.0/8'], ['expiry-time', '20990131'], ['command', '/bin/false']],
    )
    assert.equal(now[0]!.owner?.added, old[0]!.owner?.added)
    assert.deepEqual(now.slice(1).map((l) => l.raw), old.slice(1).map((l) => l.raw))
  })

  it('list-vendor-keys shows type, bits, fingerprint, options, expiry and ownership', async () => {
    const r = await runCli(['list-vendor-keys', ...conn, '--json'], {home})
    assert.equal(r.code, 0, r.stderr)
    const acct = r.json.hosts[0].result.accounts.find((a: {name: string}) => a.name === 'hevo')
    assert.ok(acct, r.stdout)
    assert.equal(acct.locked, 'no')
    const [k1, k2, k3] = acct.keys
    assert.equal(k1.fingerprint, hevo.fingerprint)
    assert.equal(k1.algorithm, 'ED25519')
    assert.equal(k1.bits, 256)
    assert.equal(k1.owned, true)
    assert.deepEqual(k1.expiry, {value: '20990131', expired: false})
    assert.equal(k2.fingerprint, hevo2.fingerprint)
    assert.equal(k2.algorithm, 'ECDSA')
    assert.equal(k3.owned, false)

    const human = await runCli(['list-vendor-keys', ...conn, '--vendor', 'hevo'], {home})
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, new RegExp(`ED25519 256 ${hevo.fingerprint.replace(/[+/]/g, '\\$&')} hevo@prod \\[bastion\\] expires 2099-01-31`))
    assert.match(human.stdout, /\[not bastion\]/)
  })

  it('remove-vendor-key --fingerprint removes that key only', async () => {
    const r = await runCli(['remove-vendor-key', ...conn, '--vendor', 'hevo', '--fingerprint', hevo2.fingerprint, '--json'], {home})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.json.hosts[0].result.removed, [{fingerprint: hevo2.fingerprint, owned: true}])
    const keys = parseAuthorizedKeys(await authorizedKeys('hevo')).filter((l) => l.kind === 'key')
    assert.deepEqual(keys.map((k) => k.key?.fingerprint).includes(hevo2.fingerprint), false)
    assert.equal(keys.length, 2)
    assert.match(await stat('/home/hevo/.ssh/authorized_keys'), /^hevo:hevo 600 /)
  })

  it('remove-vendor-key reports a fingerprint that is not there and changes nothing', async () => {
    const before = await authorizedKeys('hevo')
    const r = await runCli(['remove-vendor-key', ...conn, '--vendor', 'hevo', '--fingerprint', hevo2.fingerprint, '--json'], {home})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.json.hosts[0].result.notFound, [hevo2.fingerprint])
    assert.equal(await authorizedKeys('hevo'), before)
  })

  it('remove-vendor-key --all removes every line bastion wrote and keeps the others byte for byte', async () => {
    const r = await runCli(['remove-vendor-key', ...conn, '--vendor', 'hevo', '--all', '--json'], {home})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json.hosts[0].result.removed.length, 1)
    const text = await authorizedKeys('hevo')
    assert.doesNotMatch(text, /bastion:vendor=/)
    assert.match(text, /^# hand-written note\nssh-ed25519 \S+ ops\n$/)
  })

  it('--delete-user needs --confirm with the vendor name, and then removes user, home and group', async () => {
    const refused = await runCli(['remove-vendor-key', ...conn, '--vendor', 'hevo', '--delete-user'], {home})
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /--confirm hevo/)
    assert.equal((await lab.exec('getent passwd hevo')).code, 0)

    const r = await runCli(['remove-vendor-key', ...conn, '--vendor', 'hevo', '--delete-user', '--confirm', 'hevo', '--json'], {home})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json.hosts[0].result.user, 'deleted')
    assert.equal(r.json.hosts[0].result.group, 'deleted')
    assert.notEqual((await lab.exec('getent passwd hevo')).code, 0)
    assert.notEqual((await lab.exec('getent group hevo')).code, 0)
    assert.notEqual((await lab.exec('test -e /home/hevo')).code, 0)
  })

  it('a pre-existing user taken over with --adopt gets a root-owned ~/.ssh repaired so sshd can read the key', async () => {
    await lab.exec('useradd -m -s /bin/sh acme && mkdir -p /home/acme/.ssh && chmod 755 /home/acme/.ssh && touch /home/acme/.ssh/authorized_keys && chmod 644 /home/acme/.ssh/authorized_keys && chmod 775 /home/acme')
    const acme = makeKey('rsa', 'acme', 3072)
    const r = await runCli(
      ['add-vendor-key', ...conn, '--vendor', 'acme', '--key-file', acme.publicPath, '--db', `${lab.db.host}:${lab.db.port}`, '--adopt', '--json'],
      {home},
    )
    assert.equal(r.code, 0, r.stderr)
    const res = r.json.hosts[0].result
    assert.equal(res.user, 'present')
    assert.equal(res.shell, '/bin/sh', 'an existing user keeps its shell unless --shell is given')
    assert.equal(res.ownership, 'adopted')
    assert.equal(res.adoptedNow, true)
    const repaired = res.repairs.map((x: {path: string; what: string}) => `${x.path} ${x.what}`)
    assert.ok(repaired.includes('/home/acme/.ssh owner'), repaired.join(','))
    assert.ok(repaired.includes('/home/acme/.ssh mode'), repaired.join(','))
    assert.ok(repaired.includes('/home/acme mode'), repaired.join(','))
    assert.match(await stat('/home/acme/.ssh'), /^acme:acme 700 /)
    assert.match(await stat('/home/acme/.ssh/authorized_keys'), /^acme:acme 600 /)
    assert.match(await stat('/home/acme'), /^acme:acme 755 /)
    const v = await vendorLogin({host: lab.address, port: lab.port, user: 'acme', privateKeyPath: acme.privatePath, hostKeyFingerprint: lab.hostKeyFingerprint})
    const ch = await v.tunnel(lab.db.host, lab.db.port)
    assert.match(await readUntil(ch, (t) => t.includes('\n')), /^bastion-lab-db /)
    v.close()
  })
})
