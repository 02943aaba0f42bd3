/**
 * The doctor probe for real: templates/doctor-probe.sh over SSH (`sudo -n sh -s`) on a lab host running Debian's sshd,
 * with each fact broken for real (lab.exec) and read back through readProbeFacts.
 * Every output is also held to the probe's vocabulary: each line a declared key, fitting its fields.
 * PROBE_FIXTURES_OUT=<dir> also saves the raw probe outputs (the unit tests' fixtures come from there).
 */
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {BastionError, Exit} from '../../src/errors.js'
import {gatherHostFacts, probeScript, readProbeFacts, type ProbeOptions} from '../../src/doctor/probe.js'
import {probeOutputProblems} from '../../src/doctor/probe/records.js'
import type {DoctorInput, HostFacts, TcpProbe} from '../../src/doctor/types.js'
import {connect} from '../../src/ssh/connection.js'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {quoteShell} from '../../src/ssh/quote.js'
import {runRemoteScript} from '../../src/remote/run.js'
import type {SshSession} from '../../src/ssh/types.js'
import type {HostPort} from '../../src/input/parse.js'
import type {ScriptRunner} from '../../src/remote/run.js'
import {startLab, type LabHost} from '../lab/lab.js'

let lab: LabHost
let session: SshSession
let tmp: string
let lastStdout = ''
const realHome = process.env.HOME
const VENDOR = 'hevo'
const vendorKey = generateEd25519('hevo@prod')
const NET_TIMEOUT_S = 2

const hp = (host: string, port: number): HostPort => ({host, port, text: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`})
const run: ScriptRunner = async (script) => {
  const r = await runRemoteScript(session, script)
  lastStdout = r.stdout
  assertDeclared(r.stdout)
  return r
}

/** Every line of a real probe output is declared in the probe's vocabulary and fits its fields. */
function assertDeclared(stdout: string): void {
  assert.deepEqual(probeOutputProblems(stdout), [], 'the probe printed a line its vocabulary does not declare')
}

function input(extra: Partial<DoctorInput> = {}): DoctorInput {
  return {vendor: VENDOR, dbs: [], vendorIps: [], sshPort: lab.port, ...extra}
}

function probe(extra: Partial<DoctorInput> = {}, options: ProbeOptions = {}): Promise<HostFacts> {
  return gatherHostFacts(run, input(extra), {host: lab.name, netTimeoutSeconds: NET_TIMEOUT_S, ...options})
}

function saveFixture(name: string): void {
  const dir = process.env.PROBE_FIXTURES_OUT
  if (!dir) return
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, name), lastStdout)
}

/** Run a command as root in the lab; it must succeed. */
async function sh(command: string): Promise<string> {
  const r = await lab.exec(command)
  assert.equal(r.code, 0, `${command}\n${r.stderr}${r.stdout}`)
  return r.stdout
}

/** A fresh vendor account as add-vendor-key leaves it: home, ~/.ssh 0700, authorized_keys 0600, password field '*'. */
async function makeVendor(): Promise<void> {
  await sh(`userdel -r ${VENDOR} >/dev/null 2>&1; groupdel ${VENDOR} >/dev/null 2>&1
    groupadd ${VENDOR} && useradd -m -g ${VENDOR} -s /usr/sbin/nologin ${VENDOR} && usermod -p '*' ${VENDOR} &&
    chmod 750 /home/${VENDOR} &&
    install -d -m 700 -o ${VENDOR} -g ${VENDOR} /home/${VENDOR}/.ssh &&
    printf '%s\\n' ${quoteShell(`restrict,port-forwarding ${vendorKey.publicKey}`)} >/home/${VENDOR}/.ssh/authorized_keys &&
    chown ${VENDOR}:${VENDOR} /home/${VENDOR}/.ssh/authorized_keys && chmod 600 /home/${VENDOR}/.ssh/authorized_keys`)
}

/** Write an sshd drop-in (or remove it with text null) and reload sshd. */
async function dropIn(name: string, text: string | null): Promise<void> {
  const path = `/etc/ssh/sshd_config.d/${name}`
  if (text === null) await sh(`rm -f ${path}`)
  else await sh(`printf '%s' ${quoteShell(text)} >${path}`)
  await lab.reloadSshd()
}

async function uid(name: string): Promise<number> {
  return Number((await sh(`id -u ${name}`)).trim())
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bastion-probe-lab-'))
  process.env.HOME = tmp
  lab = await startLab()
  session = await connect(`${lab.adminUser}@${lab.address}:${lab.port}`, {
    identityFiles: [lab.adminKeyPath], knownHostsFiles: [lab.knownHostsFile], agentSocket: '', connectTimeoutMs: 10_000,
  })
}, {timeout: 60_000})

after(async () => {
  session?.close()
  await lab?.stop()
  process.env.HOME = realHome
  rmSync(tmp, {recursive: true, force: true})
}, {timeout: 30_000})

function byTarget(facts: HostFacts): Record<string, TcpProbe> {
  return Object.fromEntries(facts.network.map((n) => [n.target, n]))
}

describe('doctor probe on a lab host', () => {
  const allTargets = () => [
    hp(lab.db.host, lab.db.port),
    hp(lab.closedPort.host, lab.closedPort.port),
    hp(lab.timeoutEndpoint.host, lab.timeoutEndpoint.port),
    hp(lab.noRouteEndpoint.host, lab.noRouteEndpoint.port),
    hp(lab.unresolvableName, 5432),
    hp(lab.dbName, 5432),
  ]

  function assertNetwork(facts: HostFacts, tool: string): void {
    assert.equal(facts.network.length, 6)
    assert.deepEqual(facts.network.map((n) => n.target), allTargets().map((t) => t.text), 'in the order asked')
    const n = byTarget(facts)
    const at = (e: {host: string; port: number}) => n[`${e.host}:${e.port}`]!
    assert.equal(at(lab.db).result, 'open', JSON.stringify(at(lab.db)))
    assert.deepEqual(at(lab.db).addresses, [lab.db.host])
    assert.equal(at(lab.closedPort).result, 'refused', JSON.stringify(at(lab.closedPort)))
    assert.equal(at(lab.timeoutEndpoint).result, 'timeout', JSON.stringify(at(lab.timeoutEndpoint)))
    assert.ok((at(lab.timeoutEndpoint).ms ?? 0) >= NET_TIMEOUT_S * 1000 - 100, `the attempt waited the timeout: ${at(lab.timeoutEndpoint).ms} ms`)
    assert.ok((at(lab.timeoutEndpoint).ms ?? 0) < NET_TIMEOUT_S * 1000 + 1500, `and not much longer: ${at(lab.timeoutEndpoint).ms} ms`)
    assert.equal(at(lab.noRouteEndpoint).result, 'noroute', JSON.stringify(at(lab.noRouteEndpoint)))
    const dns = n[`${lab.unresolvableName}:5432`]!
    assert.equal(dns.result, 'dns', JSON.stringify(dns))
    assert.deepEqual(dns.addresses, [])
    const named = n[`${lab.dbName}:5432`]!
    assert.equal(named.result, 'open', JSON.stringify(named))
    assert.deepEqual(named.addresses, [lab.db.host], 'the name resolved on the bastion to the db address')
    for (const t of [lab.db, lab.closedPort, lab.timeoutEndpoint, lab.noRouteEndpoint]) {
      assert.equal(at(t).tool, tool, JSON.stringify(at(t)))
      assert.equal(typeof at(t).ms, 'number')
    }
    assert.equal(dns.tool, 'getent')
  }

  test('healthy vendor: account, key file and its StrictModes chain, sshd, effective settings, and every network outcome (nc)', async () => {
    await makeVendor()
    const vuid = await uid(VENDOR)
    const t0 = performance.now()
    const facts = await probe({dbs: allTargets(), vendorIps: ['52.6.1.0/24']})
    const ms = Math.round(performance.now() - t0)
    saveFixture('debian12-healthy.out')

    assert.equal(facts.probeVersion, 1)
    assert.ok(Math.abs(facts.now.getTime() - Date.now()) < 60_000, `bastion clock ${facts.now.toISOString()}`)
    assert.equal(facts.os.id, 'debian')
    assert.equal(facts.os.versionId, '12')
    assert.match(facts.os.prettyName, /Debian GNU\/Linux 12/)
    assert.equal(facts.hostname, lab.name)

    // sshd
    assert.equal(facts.sshd.binary, '/usr/sbin/sshd')
    assert.match(facts.sshd.version ?? '', /^OpenSSH_9\.2p1 Debian/)
    assert.equal(facts.sshd.versionNumber, 9.2)
    assert.equal(facts.sshd.running, true)
    const listener = Number((await sh('cat /run/sshd.pid')).trim())
    assert.deepEqual(facts.sshd.pids, [listener], 'the listening sshd only, not the per-connection ones')
    assert.deepEqual(facts.sshd.listening, [{address: lab.address, port: 22, process: 'sshd'}])
    assert.equal(facts.sshd.configOk, true)
    assert.equal(facts.sshd.effective.length, 1)
    const eff = facts.sshd.effective[0]!
    assert.equal(eff.spec, `user=${VENDOR},addr=52.6.1.1,host=52.6.1.1,laddr=${lab.address},lport=22`)
    assert.equal(eff.cidr, '52.6.1.0/24')
    assert.equal(eff.error, undefined)
    assert.deepEqual(eff.settings.pubkeyauthentication, ['yes'])
    assert.deepEqual(eff.settings.allowtcpforwarding, ['yes'])
    assert.deepEqual(eff.settings.authorizedkeysfile, ['.ssh/authorized_keys .ssh/authorized_keys2'])
    assert.deepEqual(eff.settings.usepam, ['yes'])
    assert.ok((eff.settings.hostkey?.length ?? 0) >= 1)

    // user
    assert.equal(facts.user.name, VENDOR)
    assert.equal(facts.user.exists, true)
    assert.equal(facts.user.uid, vuid)
    assert.equal(facts.user.group, VENDOR)
    assert.deepEqual(facts.user.groups, [VENDOR])
    assert.equal(facts.user.home, `/home/${VENDOR}`)
    assert.equal(facts.user.shell, '/usr/sbin/nologin')
    assert.equal(facts.user.shellExecutable, true)
    assert.equal(facts.user.shellListed, false, 'Debian does not list nologin in /etc/shells')
    assert.equal(facts.user.password, 'star')
    assert.equal(facts.user.expireDay, undefined)
    assert.deepEqual(facts.user.homeStat, {path: `/home/${VENDOR}`, exists: true, type: 'dir', uid: vuid, gid: facts.user.gid, mode: '750', size: facts.user.homeStat?.size})
    assert.equal(facts.user.homeReal, `/home/${VENDOR}`)
    assert.deepEqual(facts.user.homeShared, [])
    assert.deepEqual(facts.homePaths?.map((l) => [l.path, l.type, l.uid]), [
      [`/home/${VENDOR}`, 'dir', vuid], [`/home/${VENDOR}/.ssh`, 'dir', vuid], [`/home/${VENDOR}/.ssh/authorized_keys`, 'file', vuid],
    ])
    assert.equal(facts.homePaths?.[2]?.links, 1)

    // files: both default AuthorizedKeysFile entries, the second one missing
    assert.deepEqual(facts.authorizedKeys.map((a) => a.path), [`/home/${VENDOR}/.ssh/authorized_keys`, `/home/${VENDOR}/.ssh/authorized_keys2`])
    const ak = facts.authorizedKeys[0]!
    assert.deepEqual(ak.stat, {
      path: `/home/${VENDOR}/.ssh/authorized_keys`, exists: true, type: 'file', uid: vuid, gid: facts.user.gid, mode: '600', size: ak.stat.size,
    })
    assert.deepEqual(ak.chain.map((c) => [c.path, c.mode, c.uid]), [
      [`/home/${VENDOR}/.ssh`, '700', vuid], [`/home/${VENDOR}`, '750', vuid], ['/home', '755', 0], ['/', '755', 0],
    ])
    assert.equal(ak.content, `restrict,port-forwarding ${vendorKey.publicKey}\n`)
    assert.equal(ak.readableByUser, true)
    const ak2 = facts.authorizedKeys[1]!
    assert.deepEqual(ak2.stat, {path: `/home/${VENDOR}/.ssh/authorized_keys2`, exists: false})
    assert.equal(ak2.content, undefined)
    assert.equal(ak2.chain.length, 4)

    // network
    assertNetwork(facts, 'nc-openbsd')
    assert.deepEqual(facts.tools, {nc: true, ncFlavor: 'openbsd', bash: true, timeout: true, getent: true, ss: true, setpriv: true})
    assert.ok(ms < NET_TIMEOUT_S * 1000 + 3000, `one round trip, network attempts in parallel: ${ms} ms`)
  })

  test('without nc the probe falls back to bash /dev/tcp under timeout and tells the same outcomes apart', async () => {
    const facts = await probe({dbs: allTargets()}, {noNc: true})
    saveFixture('debian12-no-nc.out')
    assertNetwork(facts, 'bash')
    assert.equal(facts.tools.nc, false)
    assert.deepEqual(facts.notes, ['nc ignored: PROBE_NO_NC=1'])
    assert.equal(facts.sshd.effective[0]?.placeholder, true, 'no vendor address given: the placeholder stands in')
    assert.match(facts.sshd.effective[0]?.spec ?? '', /addr=192\.0\.2\.1,/)
  })

  // How fast the probe is, is measured by bench/ (npm run bench); here it is only reported, never asserted.
  test('probe time on a lab host (no deliberate timeouts) is reported; the probe output parses every time', async (t) => {
    const script = probeScript(input({dbs: [hp(lab.db.host, lab.db.port), hp(lab.closedPort.host, lab.closedPort.port), hp(lab.unresolvableName, 5432)], vendorIps: ['52.6.1.0/24']}))
    const inLab: number[] = []
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now()
      const r = await lab.exec('sh -s', script)
      inLab.push(performance.now() - t0)
      assert.equal(r.code, 0, r.stderr)
      assertDeclared(r.stdout)
      readProbeFacts(r.stdout)
    }
    const overSsh: number[] = []
    const bare: number[] = []
    for (let i = 0; i < 5; i++) {
      let t0 = performance.now()
      await runRemoteScript(session, script)
      overSsh.push(performance.now() - t0)
      t0 = performance.now()
      await runRemoteScript(session, 'true')
      bare.push(performance.now() - t0)
    }
    const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)
    t.diagnostic(`probe in the lab (nsenter + sh -s): median ${median(inLab)} ms, min ${Math.round(Math.min(...inLab))} ms`)
    t.diagnostic(`over the open SSH connection: probe ${median(overSsh)} ms vs an empty sudo -n sh -s ${median(bare)} ms`)
  })

  test('an absent vendor user: exists false, no key files, sshd -T still answered for the name', async () => {
    const facts = await probe({vendor: 'nosuchvendor'})
    assert.equal(facts.user.exists, false)
    assert.equal(facts.user.name, 'nosuchvendor')
    assert.deepEqual(facts.user.groups, [])
    assert.deepEqual(facts.authorizedKeys, [])
    const eff = facts.sshd.effective[0]!
    assert.match(eff.spec, /^user=nosuchvendor,/)
    // OpenSSH 9.2 answers for unknown users; older versions fail, and then error holds sshd's message
    assert.ok(eff.error === undefined ? eff.settings.pubkeyauthentication !== undefined : eff.error.length > 0)
  })

  test('sshd -T reflects a Match User block (AllowTcpForwarding no) and a Match Address block for the vendor CIDR only', async () => {
    await makeVendor()
    await dropIn('50-doctor-match.conf', [
      `Match User ${VENDOR}`,
      '  AllowTcpForwarding no',
      'Match Address 52.6.1.0/24',
      '  PermitOpen 10.9.9.9:5432',
      '',
    ].join('\n'))
    try {
      const facts = await probe({vendorIps: ['52.6.1.0/24', '198.51.100.7']})
      assert.equal(facts.sshd.configOk, true)
      const [inside, outside] = facts.sshd.effective
      assert.deepEqual(inside?.settings.allowtcpforwarding, ['no'])
      assert.deepEqual(inside?.settings.permitopen, ['10.9.9.9:5432'])
      assert.equal(outside?.cidr, '198.51.100.7')
      assert.match(outside?.spec ?? '', /addr=198\.51\.100\.7,/)
      assert.deepEqual(outside?.settings.allowtcpforwarding, ['no'])
      assert.deepEqual(outside?.settings.permitopen, ['any'])
      const other = await probe({vendor: lab.adminUser, vendorIps: ['198.51.100.7']})
      assert.deepEqual(other.sshd.effective[0]?.settings.allowtcpforwarding, ['yes'], 'the block is for the vendor only')
    } finally {
      await dropIn('50-doctor-match.conf', null)
    }
  })

  test('a broken sshd config: configOk false with sshd -t\'s message', async () => {
    // sshd keeps running with its old config; only the file on disk is broken
    await sh(`printf 'NoSuchKeyword yes\\n' >/etc/ssh/sshd_config.d/60-broken.conf`)
    try {
      const facts = await probe()
      assert.equal(facts.sshd.configOk, false)
      assert.match(facts.sshd.configError ?? '', /NoSuchKeyword|Bad configuration option/i)
      assert.equal(facts.sshd.running, true)
      assert.ok(facts.sshd.effective[0]?.error, 'sshd -T fails too, with its message')
      assert.equal(facts.sshd.globalSettings, undefined, 'sshd -T without -C fails as well')
      assert.equal(facts.authorizedKeysFileDefaulted, true)
      assert.deepEqual(facts.authorizedKeys.map((a) => a.path), [`/home/${VENDOR}/.ssh/authorized_keys`, `/home/${VENDOR}/.ssh/authorized_keys2`])
    } finally {
      await sh('rm -f /etc/ssh/sshd_config.d/60-broken.conf')
    }
  })

  test('a custom AuthorizedKeysFile (%u, absolute, relative) is expanded and each file gets its own chain', async () => {
    await makeVendor()
    await sh(`install -d -m 755 /etc/ssh/authorized_keys && printf '%s\\n' ${quoteShell(vendorKey.publicKey)} >/etc/ssh/authorized_keys/${VENDOR} && chmod 644 /etc/ssh/authorized_keys/${VENDOR}`)
    await dropIn('40-akf.conf', 'AuthorizedKeysFile /etc/ssh/authorized_keys/%u .ssh/keys_%u %h/.ssh/authorized_keys\n')
    try {
      const facts = await probe()
      assert.deepEqual(facts.sshd.effective[0]?.settings.authorizedkeysfile, ['/etc/ssh/authorized_keys/%u .ssh/keys_%u %h/.ssh/authorized_keys'])
      assert.deepEqual(facts.authorizedKeys.map((a) => a.path), [
        `/etc/ssh/authorized_keys/${VENDOR}`, `/home/${VENDOR}/.ssh/keys_${VENDOR}`, `/home/${VENDOR}/.ssh/authorized_keys`,
      ])
      const [root, missing, home] = facts.authorizedKeys
      assert.deepEqual(root?.stat, {path: `/etc/ssh/authorized_keys/${VENDOR}`, exists: true, type: 'file', uid: 0, gid: 0, mode: '644', size: root?.stat.size})
      assert.deepEqual(root?.chain.map((c) => c.path), ['/etc/ssh/authorized_keys', '/etc/ssh', '/etc', '/'])
      assert.equal(root?.content, `${vendorKey.publicKey}\n`)
      assert.equal(root?.readableByUser, true)
      assert.equal(missing?.stat.exists, false)
      assert.equal(home?.stat.mode, '600')
    } finally {
      await dropIn('40-akf.conf', null)
      await sh('rm -rf /etc/ssh/authorized_keys')
    }
  })

  test('modes and owners along the chain: root-owned ~/.ssh, world-writable home, 0666 authorized_keys; the user cannot read it', async () => {
    await makeVendor()
    await sh(`chown root:root /home/${VENDOR}/.ssh && chmod 777 /home/${VENDOR} && chmod 666 /home/${VENDOR}/.ssh/authorized_keys`)
    const vuid = await uid(VENDOR)
    const facts = await probe()
    const ak = facts.authorizedKeys[0]!
    assert.equal(ak.stat.mode, '666')
    assert.equal(ak.stat.uid, vuid)
    assert.deepEqual(ak.chain.slice(0, 2).map((c) => [c.path, c.uid, c.gid, c.mode, c.type]), [
      [`/home/${VENDOR}/.ssh`, 0, 0, '700', 'dir'],
      [`/home/${VENDOR}`, vuid, facts.user.gid, '777', 'dir'],
    ])
    assert.equal(ak.readableByUser, false, 'a root-owned 0700 ~/.ssh keeps the user (and so sshd) out')
    assert.equal(facts.user.homeStat?.mode, '777')
  })

  test('a symlinked authorized_keys: type symlink, target resolved, the chain walks the target\'s directories', async () => {
    await makeVendor()
    const vuid = await uid(VENDOR)
    await sh(`install -d -m 755 /srv/keys && mv /home/${VENDOR}/.ssh/authorized_keys /srv/keys/${VENDOR} &&
      ln -s /srv/keys/${VENDOR} /home/${VENDOR}/.ssh/authorized_keys && ln -s /srv/keys/none /home/${VENDOR}/.ssh/authorized_keys2`)
    try {
      const facts = await probe()
      const [ak, dangling] = facts.authorizedKeys
      assert.deepEqual(ak?.stat, {
        path: `/home/${VENDOR}/.ssh/authorized_keys`, exists: true, type: 'symlink', targetType: 'file', symlinkTo: `/srv/keys/${VENDOR}`,
        uid: vuid, gid: facts.user.gid, mode: '600', size: ak?.stat.size,
      })
      assert.equal(ak?.realPath, `/srv/keys/${VENDOR}`)
      assert.deepEqual(ak?.chain.map((c) => c.path), ['/srv/keys', '/srv', '/'])
      assert.match(ak?.content ?? '', /^restrict,port-forwarding ssh-ed25519 /)
      assert.deepEqual(dangling?.stat, {path: `/home/${VENDOR}/.ssh/authorized_keys2`, exists: true, type: 'symlink', symlinkTo: '/srv/keys/none'})
    } finally {
      await sh('rm -rf /srv/keys')
    }
  })

  test('the paths under the home as lstat sees them: a symlinked ~/.ssh or home with its target, a hard link\'s count, a home shared with root', async () => {
    await makeVendor()
    const vuid = await uid(VENDOR)
    const home = `/home/${VENDOR}`
    const shape = (f: HostFacts) => f.homePaths?.map((l) => [l.path, l.type, l.uid, l.type === 'dir' ? '-' : l.links, l.linkText ?? '-', l.target ?? '-'])
    try {
      let facts = await probe()
      assert.equal(facts.user.homeReal, home)
      assert.deepEqual(facts.user.homeShared, [])
      assert.deepEqual(shape(facts), [
        [home, 'dir', vuid, '-', '-', '-'], [`${home}/.ssh`, 'dir', vuid, '-', '-', '-'], [`${home}/.ssh/authorized_keys`, 'file', vuid, 1, '-', '-'],
      ], 'authorized_keys2 does not exist: left out')

      await sh(`ln ${home}/.ssh/authorized_keys /home/keys-elsewhere`)
      facts = await probe()
      assert.deepEqual(shape(facts)?.[2], [`${home}/.ssh/authorized_keys`, 'file', vuid, 2, '-', '-'])
      await sh('rm /home/keys-elsewhere')

      await sh(`install -d -m 700 /root/.ssh && mv ${home}/.ssh ${home}/.ssh.real && ln -s ../../root/.ssh ${home}/.ssh`)
      facts = await probe()
      assert.deepEqual(shape(facts)?.[1], [`${home}/.ssh`, 'symlink', 0, 1, '../../root/.ssh', '/root/.ssh'])
      await sh(`rm ${home}/.ssh && mv ${home}/.ssh.real ${home}/.ssh`)

      await sh(`mv ${home} ${home}.real && ln -s /root ${home}`)
      facts = await probe()
      assert.equal(facts.user.homeReal, '/root')
      assert.deepEqual(shape(facts)?.[0], [home, 'symlink', 0, 1, '/root', '/root'])
      assert.deepEqual(shape(facts)?.[1], [`${home}/.ssh`, 'dir', 0, '-', '-', '-'], 'below a symlinked home, lstat already sees /root')
      await sh(`rm ${home} && mv ${home}.real ${home}`)

      await sh(`usermod -d /root ${VENDOR}`)
      facts = await probe()
      assert.deepEqual(facts.user.homeShared, [{name: 'root', home: '/root'}])
    } finally {
      await sh(`[ ! -L ${home} ] || rm ${home}; [ ! -d ${home}.real ] || mv ${home}.real ${home}
        [ ! -L ${home}/.ssh ] || rm ${home}/.ssh; [ ! -d ${home}/.ssh.real ] || mv ${home}/.ssh.real ${home}/.ssh
        rm -f /home/keys-elsewhere; rm -rf /root/.ssh; usermod -d ${home} ${VENDOR}`)
    }
  })

  test('locked and expired accounts: password class and shadow ageing fields, never the hash', async () => {
    await makeVendor()
    await sh(`usermod -L ${VENDOR} && chage -E 2020-01-01 -M 30 -d 2020-01-01 -I 5 ${VENDOR}`)
    let facts = await probe()
    assert.equal(facts.user.password, 'locked')
    assert.equal(facts.user.expireDay, Math.floor(Date.UTC(2020, 0, 1) / 86_400_000))
    assert.equal(facts.user.lastChange, Math.floor(Date.UTC(2020, 0, 1) / 86_400_000))
    assert.equal(facts.user.maxDays, 30)
    assert.equal(facts.user.inactiveDays, 5)

    await sh(`usermod -p ${quoteShell('$6$salt$hashhashhash')} ${VENDOR} && chage -d 0 ${VENDOR}`)
    facts = await probe()
    assert.equal(facts.user.password, 'hash')
    assert.equal(facts.user.lastChange, 0, 'must change the password at next login')
    assert.ok(!lastStdout.includes('hashhashhash'), 'the hash never leaves the host')

    await sh(`usermod -p '' ${VENDOR}`)
    assert.equal((await probe()).user.password, 'empty')
  })

  test('without ss, listening sockets come from /proc/net/tcp with sshd found by socket inode', async () => {
    const script = probeScript(input())
    const r = await lab.exec('unshare -m sh -c \'mount --bind /bin/false "$(command -v ss)" && exec sh -s\'', script)
    assert.equal(r.code, 0, r.stderr)
    assertDeclared(r.stdout)
    const facts = readProbeFacts(r.stdout)
    assert.deepEqual(facts.sshd.listening, [{address: lab.address, port: 22, process: 'sshd'}])
    assert.match(facts.sshd.effective[0]?.spec ?? '', new RegExp(`laddr=${lab.address.replaceAll('.', '\\.')},`))
  })

  test('the probe changes nothing on the host', async () => {
    await makeVendor()
    const snapshot = () => sh(
      "find /etc /home /root /srv /tmp /var/tmp /var/lib /usr/local -xdev -printf '%p %m %U %G %s %T@\\n' 2>/dev/null | sort | md5sum",
    )
    const before = await snapshot()
    await probe({dbs: [hp(lab.db.host, lab.db.port)], vendorIps: ['52.6.1.0/24']})
    assert.equal(await snapshot(), before)
  })

  test('an invalid vendor name is refused on the host (REMOTE_BAD_VENDOR) before anything runs', async () => {
    await assert.rejects(probe({vendor: 'bad name;id'}), (e: unknown) => {
      assert.ok(e instanceof BastionError)
      assert.equal(e.code, 'REMOTE_BAD_VENDOR')
      assert.equal(e.exit, Exit.REMOTE)
      return true
    })
  })
})
