/**
 * The probe's reader: readProbeFacts on real outputs captured from a lab host (test/doctor/fixtures, written by
 * probe-lab.test.ts with PROBE_FIXTURES_OUT) and on hand-made outputs of hosts the lab is not (older OpenSSH, ncat,
 * no ss, RHEL shadow); the rendered script's parameters and syntax.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {BastionError, Exit} from '../../src/errors.js'
import {
  PLACEHOLDER_VENDOR_ADDRESS,
  classifyTcp,
  gatherHostFacts,
  matchAddresses,
  opensshVersionNumber,
  parseOsRelease,
  parseSshdT,
  pickSshdVersion,
  probeScript,
  readProbeFacts,
  vendorProbeAddress,
} from '../../src/doctor/probe.js'
import type {DoctorInput} from '../../src/doctor/types.js'
import {packageRoot} from '../../src/paths.js'

const fixture = (name: string) => readFileSync(join(packageRoot, 'test', 'doctor', 'fixtures', name), 'utf8')
const b64 = (s: string) => (s === '' ? '-' : Buffer.from(s).toString('base64'))

const input = (extra: Partial<DoctorInput> = {}): DoctorInput => ({vendor: 'hevo', dbs: [], vendorIps: [], sshPort: 22, ...extra})

describe('readProbeFacts on a Debian 12 lab host (captured output)', () => {
  const facts = readProbeFacts(fixture('debian12-healthy.out'))

  test('host: probe version, clock, os-release, hostname, tools', () => {
    assert.equal(facts.probeVersion, 1)
    assert.ok(facts.now instanceof Date && facts.now.getTime() > Date.UTC(2024, 0, 1))
    assert.deepEqual(facts.os, {id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)'})
    assert.match(facts.hostname, /^lab-\d+$/)
    assert.deepEqual(facts.tools, {nc: true, ncFlavor: 'openbsd', bash: true, timeout: true, getent: true, ss: true, setpriv: true})
    assert.deepEqual(facts.notes, [])
  })

  test('sshd: binary, the package version from ssh -V (sshd -V says only OpenSSH_9.2), listener, effective settings', () => {
    assert.equal(facts.sshd.binary, '/usr/sbin/sshd')
    assert.match(facts.sshd.version ?? '', /^OpenSSH_9\.2p1 Debian-2\+deb12u\d+$/)
    assert.equal(facts.sshd.versionNumber, 9.2)
    assert.equal(facts.sshd.running, true)
    assert.equal(facts.sshd.pids.length, 1)
    assert.equal(facts.sshd.listening.length, 1)
    assert.equal(facts.sshd.listening[0]?.port, 22)
    assert.equal(facts.sshd.listening[0]?.process, 'sshd')
    assert.equal(facts.sshd.configOk, true)
    assert.equal(facts.sshd.configError, undefined)
    const [eff] = facts.sshd.effective
    assert.equal(eff?.cidr, '52.6.1.0/24')
    assert.equal(eff?.address, '52.6.1.1')
    assert.match(eff?.spec ?? '', /^user=hevo,addr=52\.6\.1\.1,host=52\.6\.1\.1,laddr=10\.231\.\d+\.2,lport=22$/)
    assert.deepEqual(eff?.settings.pubkeyauthentication, ['yes'])
    assert.deepEqual(eff?.settings.permitopen, ['any'])
    assert.deepEqual(eff?.settings.maxstartups, ['100:30:200'])
    assert.deepEqual(eff?.settings.acceptenv, ['LANG', 'LC_*'], 'multi-valued keywords: one entry per line sshd -T printed')
    assert.ok(eff?.settings.pubkeyacceptedalgorithms?.[0]?.includes('ssh-ed25519'))
  })

  test('user: account, groups, shell, password class and ageing', () => {
    const u = facts.user
    assert.equal(u.name, 'hevo')
    assert.equal(u.exists, true)
    assert.equal(u.group, 'hevo')
    assert.deepEqual(u.groups, ['hevo'])
    assert.equal(u.home, '/home/hevo')
    assert.equal(u.shell, '/usr/sbin/nologin')
    assert.equal(u.shellExecutable, true)
    assert.equal(u.shellListed, false)
    assert.equal(u.password, 'star')
    assert.equal(u.maxDays, 99999)
    assert.equal(u.minDays, 0)
    assert.equal(u.expireDay, undefined)
    assert.equal(u.homeStat?.mode, '750')
  })

  test('authorized_keys: both default files, stat, chain up to /, content', () => {
    assert.deepEqual(facts.authorizedKeys.map((a) => a.path), ['/home/hevo/.ssh/authorized_keys', '/home/hevo/.ssh/authorized_keys2'])
    const [ak, ak2] = facts.authorizedKeys
    assert.equal(ak?.stat.type, 'file')
    assert.equal(ak?.stat.mode, '600')
    assert.equal(ak?.stat.uid, facts.user.uid)
    assert.deepEqual(ak?.chain.map((c) => `${c.path} ${c.mode} ${c.type}`), [
      '/home/hevo/.ssh 700 dir', '/home/hevo 750 dir', '/home 755 dir', '/ 755 dir',
    ])
    assert.match(ak?.content ?? '', /^restrict,port-forwarding ssh-ed25519 AAAA\S+ hevo@prod\n$/)
    assert.equal(ak?.readableByUser, true)
    assert.deepEqual(ak2?.stat, {path: '/home/hevo/.ssh/authorized_keys2', exists: false})
    assert.equal(ak2?.chain.length, 4)
  })

  test('the home and the paths under it, as lstat sees them: no link, one link to authorized_keys, the home the vendor\'s own', () => {
    const uid = facts.user.uid
    assert.equal(facts.user.homeReal, '/home/hevo')
    assert.deepEqual(facts.user.homeShared, [])
    assert.deepEqual(facts.homePaths?.map((l) => `${l.path} ${l.type} ${l.uid === uid ? 'vendor' : l.uid} ${l.type === 'dir' ? '' : l.links}`), [
      '/home/hevo dir vendor ', '/home/hevo/.ssh dir vendor ', '/home/hevo/.ssh/authorized_keys file vendor 1',
    ])
  })

  test('network: in the order asked, each outcome told apart, with tool, time, detail and addresses', () => {
    assert.deepEqual(facts.network.map((n) => n.result), ['open', 'refused', 'timeout', 'noroute', 'dns', 'open'])
    assert.deepEqual(facts.network.map((n) => n.tool), ['nc-openbsd', 'nc-openbsd', 'nc-openbsd', 'nc-openbsd', 'getent', 'nc-openbsd'])
    const [open, refused, timeout, , dns, named] = facts.network
    assert.match(open?.target ?? '', /^10\.231\.\d+\.1:5432$/)
    assert.match(open?.detail ?? '', /succeeded/)
    assert.match(refused?.detail ?? '', /Connection refused/)
    assert.ok((timeout?.ms ?? 0) >= 1900, String(timeout?.ms))
    assert.equal(dns?.target, 'no-such-host.invalid:5432')
    assert.deepEqual(dns?.addresses, [])
    assert.match(dns?.detail ?? '', /name not found/)
    assert.equal(named?.host, 'db.lab')
    assert.deepEqual(named?.addresses, [open?.host])
  })
})

test('readProbeFacts on the lab host with nc hidden: bash /dev/tcp made every attempt, same outcomes', () => {
  const facts = readProbeFacts(fixture('debian12-no-nc.out'))
  assert.equal(facts.tools.nc, false)
  assert.equal(facts.tools.ncFlavor, undefined)
  assert.deepEqual(facts.notes, ['nc ignored: PROBE_NO_NC=1'])
  assert.deepEqual(facts.network.map((n) => n.result), ['open', 'refused', 'timeout', 'noroute', 'dns', 'open'])
  assert.deepEqual(facts.network.map((n) => n.tool), ['bash', 'bash', 'bash', 'bash', 'getent', 'bash'])
  assert.match(facts.network[2]?.detail ?? '', /no answer within 2s/)
  assert.equal(facts.sshd.effective[0]?.placeholder, true)
  assert.equal(facts.sshd.effective[0]?.address, PLACEHOLDER_VENDOR_ADDRESS)
})

test('readProbeFacts on outputs of nmap ncat 7.93 and netcat-traditional 1.10 (captured on a lab host with them mounted over nc)', () => {
  for (const [file, flavor] of [['debian12-ncat.out', 'ncat'], ['debian12-nc-traditional.out', 'traditional']] as const) {
    const facts = readProbeFacts(fixture(file))
    assert.equal(facts.tools.ncFlavor, flavor)
    assert.deepEqual(facts.network.map((n) => n.result), ['open', 'refused', 'timeout', 'noroute', 'dns', 'open'], file)
    assert.deepEqual(facts.network.map((n) => n.tool), [`nc-${flavor}`, `nc-${flavor}`, `nc-${flavor}`, `nc-${flavor}`, 'getent', `nc-${flavor}`])
  }
})

/** A probe output as an older RHEL-family host would print it (hand-made: the lab runs Debian 12). */
function olderHost(): string {
  const sshdT = ['port 22', 'pubkeyauthentication yes', 'allowtcpforwarding yes', 'authorizedkeysfile .ssh/authorized_keys', 'usepam yes', ''].join('\n')
  return [
    'unrelated noise a login script printed',
    '@bastion net 1 db.internal 5432 tcp 1 3004 nc-ncat 10.0.1.5 ' + b64('Ncat: Version 7.50 ( https://nmap.org/ncat )\nNcat: Connection timed out.\n'),
    '@bastion net 0 10.0.1.5 5432 tcp 0 12 nc-ncat - ' + b64('Ncat: Version 7.50 ( https://nmap.org/ncat )\nNcat: Connected to 10.0.1.5:5432.\nNcat: 0 bytes sent, 0 bytes received in 0.01 seconds.\n'),
    '@bastion net 2 fd00::5 5432 tcp 1 4 nc-ncat fd00::5 ' + b64('Ncat: Network is unreachable.\n'),
    '@bastion net 3 10.0.1.6 5432 error - - - - ' + b64('no usable nc (netcat) here, and no timeout(1) to bound an attempt'),
    '@bastion probe 1',
    '@bastion now 1767225600',
    '@bastion hostname ip-10-0-0-5.ec2.internal',
    '@bastion osrelease ' + b64('NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\nPRETTY_NAME="Amazon Linux 2"\n'),
    '@bastion tools nc ncat bash 1 timeout 1 getent 1 ss 0 setpriv 1',
    '@bastion net_count 4',
    '@bastion sshd_binary /usr/sbin/sshd',
    '@bastion sshd_version OpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017',
    '@bastion ssh_version OpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017',
    '@bastion sshd_pid 1234',
    '@bastion listen 0000:0000:0000:0000:0000:0000:0000:0000 22 sshd',
    '@bastion listen 0.0.0.0 22 sshd',
    '@bastion sshd_t 0 -',
    '@bastion effective 52.6.1.0/24 user=hevo,addr=52.6.1.1,host=52.6.1.1 255 - ' + b64('no such user: hevo\n'),
    '@bastion global ' + b64(sshdT),
    '@bastion user hevo 1001 1001 hevo',
    '@bastion user_home /home/hevo dir',
    '@bastion user_shell /sbin/nologin',
    '@bastion user_groups hevo wheel',
    '@bastion user_shellinfo 1 1',
    '@bastion shadow locked 19000 0 99999 7 - 19500',
    '@bastion st 1001 1001 700 41c0 62 /home/hevo dir',
    '@bastion ak 0 1 /home/hevo dir/.ssh/authorized_keys',
    '@bastion akreal 0 /srv/keys/hevo',
    '@bastion akdir 0 /srv/keys',
    '@bastion akdir 0 /srv',
    '@bastion akdir 0 /',
    '@bastion st 0 0 600 81a4 1200000 /srv/keys/hevo',
    '@bastion st 0 0 777 41ff 6 /srv/keys',
    '@bastion st 0 0 755 41ed 6 /',
    '@bastion akcontent 0 ' + b64('ssh-ed25519 AAAA x\r\n'),
    '@bastion akreadable 0 0',
    '@bastion done',
    '',
  ].join('\n')
}

describe('readProbeFacts on an older RHEL-family host (hand-made output)', () => {
  const facts = readProbeFacts(olderHost())

  test('version from the usage text of an sshd without -V; IPv6 wildcard from /proc normalised', () => {
    assert.equal(facts.os.id, 'amzn')
    assert.equal(facts.os.prettyName, 'Amazon Linux 2')
    assert.equal(facts.sshd.version, 'OpenSSH_7.4p1')
    assert.equal(facts.sshd.versionNumber, 7.4)
    assert.deepEqual(facts.sshd.listening, [{address: '::', port: 22, process: 'sshd'}, {address: '0.0.0.0', port: 22, process: 'sshd'}])
    assert.equal(facts.tools.ss, false)
    assert.equal(facts.tools.ncFlavor, 'ncat')
  })

  test('a failed sshd -T -C keeps its error; the global settings stand in', () => {
    const [eff] = facts.sshd.effective
    assert.equal(eff?.error, 'no such user: hevo')
    assert.deepEqual(eff?.settings, {})
    assert.equal(eff?.spec, 'user=hevo,addr=52.6.1.1,host=52.6.1.1')
    assert.deepEqual(facts.sshd.globalSettings?.authorizedkeysfile, ['.ssh/authorized_keys'])
  })

  test('paths with spaces, a locked account with an expiry day, a symlinked root-owned key file the user cannot read', () => {
    assert.equal(facts.user.home, '/home/hevo dir')
    assert.deepEqual(facts.user.groups, ['hevo', 'wheel'])
    assert.equal(facts.user.password, 'locked')
    assert.equal(facts.user.expireDay, 19500)
    assert.equal(facts.user.inactiveDays, undefined)
    assert.deepEqual(facts.user.homeStat, {path: '/home/hevo dir', exists: true, type: 'dir', uid: 1001, gid: 1001, mode: '700', size: 62})
    const [ak] = facts.authorizedKeys
    assert.deepEqual(ak?.stat, {
      path: '/home/hevo dir/.ssh/authorized_keys', exists: true, type: 'symlink', targetType: 'file', symlinkTo: '/srv/keys/hevo',
      uid: 0, gid: 0, mode: '600', size: 1200000,
    })
    assert.deepEqual(ak?.chain, [
      {path: '/srv/keys', exists: true, type: 'dir', uid: 0, gid: 0, mode: '777', size: 6},
      {path: '/srv', exists: false},
      {path: '/', exists: true, type: 'dir', uid: 0, gid: 0, mode: '755', size: 6},
    ])
    assert.equal(ak?.content, 'ssh-ed25519 AAAA x\r\n', 'content byte for byte, CRLF included')
    assert.equal(ak?.truncated, true)
    assert.equal(ak?.readableByUser, false)
  })

  test('ncat messages, an IPv6 target, and a host with no tool to test with', () => {
    assert.deepEqual(facts.network.map((n) => [n.target, n.result]), [
      ['10.0.1.5:5432', 'open'], ['db.internal:5432', 'timeout'], ['[fd00::5]:5432', 'noroute'], ['10.0.1.6:5432', 'error'],
    ])
    assert.deepEqual(facts.network[0]?.addresses, ['10.0.1.5'], 'an address literal is its own address')
    assert.equal(facts.network[3]?.tool, undefined)
    assert.match(facts.network[3]?.detail ?? '', /no usable nc/)
  })
})

test('readProbeFacts: a user that does not exist, and a host without sshd', () => {
  const facts = readProbeFacts(['@bastion probe 1', '@bastion now 1767225600', '@bastion sshd_binary -', '@bastion user_absent hevo', '@bastion done'].join('\n'))
  assert.deepEqual(facts.user, {name: 'hevo', exists: false, groups: []})
  assert.deepEqual(facts.authorizedKeys, [])
  assert.equal(facts.sshd.binary, null)
  assert.equal(facts.sshd.running, false)
  assert.equal(facts.sshd.configOk, false)
  assert.equal(facts.sshd.version, null)
  assert.equal(facts.sshd.versionNumber, null)
  assert.equal(facts.now.toISOString(), '2026-01-01T00:00:00.000Z')
  assert.deepEqual(facts.network, [])
})

test('readProbeFacts: a shadow entry root cannot read (directory accounts) leaves the password unknown', () => {
  const facts = readProbeFacts(['@bastion probe 1', '@bastion user hevo 5001 5001 -', '@bastion shadow -', '@bastion done'].join('\n'))
  assert.equal(facts.user.password, undefined)
  assert.equal(facts.user.shadowReadable, false)
  assert.equal(facts.user.group, undefined)
})

test('readProbeFacts refuses output that is not the probe\'s, or another probe version, as PROBE_OUTPUT (exit 8)', () => {
  for (const out of ['', 'Welcome to Ubuntu\n@bastion done\n', '@bastion probe 2\n@bastion done\n']) {
    assert.throws(() => readProbeFacts(out), (e: unknown) => e instanceof BastionError && e.code === 'PROBE_OUTPUT' && e.exit === Exit.REMOTE)
  }
})

describe('readProbeFacts: the paths under the home as lstat sees them (hand-made output)', () => {
  const out = (lines: string[]) => readProbeFacts(['@bastion probe 1', '@bastion user hevo 1001 1001 hevo', '@bastion user_home /home/hevo', ...lines, '@bastion done', ''].join('\n'))

  test('a symlinked ~/.ssh: its link text and target; the home\'s realpath; no shared home', () => {
    const facts = out([
      '@bastion user_home_real /home/hevo',
      '@bastion lk 41e8 1001 1001 3 - - /home/hevo',
      '@bastion home_shared -',
      '@bastion ak 0 0 /home/hevo/.ssh/authorized_keys',
      `@bastion lk a1ff 0 0 1 ${b64('../../root/.ssh')} ${b64('/root/.ssh')} /home/hevo/.ssh`,
      '@bastion lk 8180 0 0 1 - - /home/hevo/.ssh/authorized_keys',
    ])
    assert.equal(facts.user.homeReal, '/home/hevo')
    assert.deepEqual(facts.user.homeShared, [])
    assert.deepEqual(facts.homePaths, [
      {path: '/home/hevo', type: 'dir', uid: 1001, gid: 1001, links: 3},
      {path: '/home/hevo/.ssh', type: 'symlink', uid: 0, gid: 0, links: 1, linkText: '../../root/.ssh', target: '/root/.ssh'},
      {path: '/home/hevo/.ssh/authorized_keys', type: 'file', uid: 0, gid: 0, links: 1},
    ])
  })

  test('a hard-linked authorized_keys keeps its link count; accounts sharing the home are listed with their homes', () => {
    const facts = out([
      '@bastion user_home_real /home/hevo',
      `@bastion home_shared ${b64('root:/home/hevo\nalice:/home/hevo/alice/\n')}`,
      '@bastion lk 81a4 0 42 2 - - /home/hevo/.ssh/authorized_keys',
      '@bastion lk a1ff 0 0 1 bm9uZQ== - /home/hevo/dangling',
    ])
    assert.deepEqual(facts.user.homeShared, [{name: 'root', home: '/home/hevo'}, {name: 'alice', home: '/home/hevo/alice/'}])
    assert.deepEqual(facts.homePaths, [
      {path: '/home/hevo/.ssh/authorized_keys', type: 'file', uid: 0, gid: 42, links: 2},
      {path: '/home/hevo/dangling', type: 'symlink', uid: 0, gid: 0, links: 1, linkText: 'none'},
    ])
  })

  test('without a vendor account there are no home paths', () => {
    const facts = readProbeFacts('@bastion probe 1\n@bastion user_absent hevo\n@bastion done\n')
    assert.equal(facts.homePaths, undefined)
  })
})

describe('interpreting tool output', () => {
  test('classifyTcp tells open / refused / timeout / noroute / dns / error apart for every tool', () => {
    const cases: Array<[number | null, string, string]> = [
      [0, 'Connection to 10.0.1.5 5432 port [tcp/postgresql] succeeded!', 'open'],
      [1, 'nc: connect to 10.0.1.5 port 5433 (tcp) failed: Connection refused', 'refused'],
      [1, 'nc: connect to 10.0.1.9 port 5432 (tcp) timed out: Operation now in progress', 'timeout'],
      [1, 'nc: connect to 10.0.1.70 port 5432 (tcp) failed: No route to host', 'noroute'],
      [1, 'nc: getaddrinfo for host "db.x" port 5432: Name or service not known', 'dns'],
      [0, 'Ncat: Connected to 10.0.1.5:5432.', 'open'],
      [1, 'Ncat: Connection refused.', 'refused'],
      [1, 'Ncat: TIMEOUT.', 'timeout'],
      [1, 'Ncat: Connection timed out.', 'timeout'],
      [1, 'Ncat: No route to host.', 'noroute'],
      [1, 'Ncat: Could not resolve hostname "db.x": Name or service not known. QUITTING.', 'dns'],
      [1, 'db.x [10.0.1.5] 5433 (?) : Connection refused', 'refused'],
      [1, 'db.x [10.0.1.9] 5432 (postgresql) : Connection timed out', 'timeout'],
      [1, 'bash: connect: Connection refused\nbash: line 1: /dev/tcp/10.0.1.5/5433: Connection refused', 'refused'],
      [1, 'bash: connect: Network is unreachable', 'noroute'],
      [124, '', 'timeout'],
      [1, 'bash: db.x: Temporary failure in name resolution', 'dns'],
      [1, 'bash: /dev/tcp/10.0.1.5/5432: No such file or directory', 'error'],
      [null, '', 'error'],
    ]
    for (const [rc, out, want] of cases) assert.equal(classifyTcp(rc, out), want, `${rc} ${out}`)
  })

  test('parseSshdT: lower-case keyword, rest of line as value, repeated keywords kept in order', () => {
    assert.deepEqual(parseSshdT('Port 22\npermitopen 10.0.1.5:5432 10.0.1.6:5432\nallowusers admin\nallowusers hevo@52.6.1.0/24\n\n'), {
      port: ['22'],
      permitopen: ['10.0.1.5:5432 10.0.1.6:5432'],
      allowusers: ['admin', 'hevo@52.6.1.0/24'],
    })
  })

  test('sshd version: sshd -V first, the client\'s fuller text only for the same release', () => {
    assert.equal(pickSshdVersion('OpenSSH_9.2, OpenSSL 3.0.11', 'OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.11'), 'OpenSSH_9.2p1 Debian-2+deb12u3')
    assert.equal(pickSshdVersion('OpenSSH_9.6p1 Ubuntu-3ubuntu13, OpenSSL 3.0.13', 'OpenSSH_9.6p1 Ubuntu-3ubuntu13, OpenSSL 3.0.13'), 'OpenSSH_9.6p1 Ubuntu-3ubuntu13')
    assert.equal(pickSshdVersion('OpenSSH_9.2, OpenSSL 3.0.11', 'OpenSSH_9.20p1'), 'OpenSSH_9.2', 'another release is not taken')
    assert.equal(pickSshdVersion('OpenSSH_8.0p1, OpenSSL 1.1.1k', 'OpenSSH_9.9p1'), 'OpenSSH_8.0p1')
    assert.equal(pickSshdVersion(undefined, 'OpenSSH_8.7p1, OpenSSL 3.0.7'), 'OpenSSH_8.7p1')
    assert.equal(pickSshdVersion('sshd: illegal option -- V', undefined), null)
    assert.equal(opensshVersionNumber('OpenSSH_10.0p2'), 10)
    assert.equal(opensshVersionNumber('OpenSSH_8.9p1 Ubuntu-3ubuntu0.10'), 8.9)
    assert.equal(opensshVersionNumber(null), null)
  })

  test('parseOsRelease: quoted, single-quoted, escaped and bare values', () => {
    assert.deepEqual(parseOsRelease('ID=ubuntu\nVERSION_ID="22.04"\nPRETTY_NAME=\'Ubuntu 22.04.4 LTS\'\nX="a \\"b\\""\n# comment\n'), {
      ID: 'ubuntu', VERSION_ID: '22.04', PRETTY_NAME: 'Ubuntu 22.04.4 LTS', X: 'a "b"',
    })
  })
})

describe('the addresses sshd -T -C is asked about', () => {
  test('a single address as is, a block\'s first address, /31 and /127 their network address, IPv6 too', () => {
    assert.equal(vendorProbeAddress('52.6.1.1'), '52.6.1.1')
    assert.equal(vendorProbeAddress('52.6.1.1/32'), '52.6.1.1')
    assert.equal(vendorProbeAddress('52.6.1.0/24'), '52.6.1.1')
    assert.equal(vendorProbeAddress('52.6.0.0/16'), '52.6.0.1')
    assert.equal(vendorProbeAddress('52.6.1.2/31'), '52.6.1.2')
    assert.equal(vendorProbeAddress('2600:1f18::/64'), '2600:1f18::1')
    assert.equal(vendorProbeAddress('2600:1f18::7/128'), '2600:1f18::7')
  })

  test('one per distinct address; the documentation address when no vendor address was given', () => {
    assert.deepEqual(matchAddresses([]), [{cidr: null, address: '192.0.2.1'}])
    assert.deepEqual(matchAddresses(['52.6.1.0/24', '52.6.1.1/32', '34.1.1.1']), [
      {cidr: '52.6.1.0/24', address: '52.6.1.1'}, {cidr: '34.1.1.1', address: '34.1.1.1'},
    ])
  })
})

describe('probeScript', () => {
  const script = probeScript(input({
    vendor: 'hevo',
    dbs: [{host: '10.0.1.5', port: 5432, text: '10.0.1.5:5432'}, {host: 'fd00::5', port: 5432, text: '[fd00::5]:5432'}, {host: 'db.internal', port: 3306, text: 'db.internal:3306'}],
    vendorIps: ['52.6.1.0/24', '34.1.1.1'],
    sshPort: 2222,
  }), {netTimeoutSeconds: 5})

  test('lib.sh and the probe with every input as a quoted parameter', () => {
    assert.match(script, /^#!\/bin\/sh\n# rendered by bastion from templates\/doctor-probe.sh\n/)
    assert.ok(script.includes("VENDOR='hevo'\n"))
    assert.ok(script.includes("MATCH_ADDRS='52.6.1.0/24,52.6.1.1 34.1.1.1,34.1.1.1'\n"))
    assert.ok(script.includes("DBS='10.0.1.5,5432 fd00::5,5432 db.internal,3306'\n"))
    assert.ok(script.includes("SSH_PORT='2222'\n"))
    assert.ok(script.includes("NET_TIMEOUT='5'\n"))
    assert.ok(script.includes("PROBE_NO_NC=''\n"))
    assert.ok(script.includes('check_vendor_name() {'), 'lib.sh is in front')
    assert.ok(!script.includes('bastion_lock "'), 'read-only: takes no lock')
    assert.ok(probeScript(input(), {noNc: true}).includes("PROBE_NO_NC='1'\n"))
    assert.ok(probeScript(input()).includes("NET_TIMEOUT='3'\n"), 'default 3 s')
  })

  test('is valid POSIX sh for dash and for bash in POSIX mode', () => {
    for (const [shell, args] of [['dash', ['-n']], ['bash', ['--posix', '-n']]] as const) {
      const r = spawnSync(shell, args, {input: script, encoding: 'utf8'})
      assert.equal(r.status, 0, `${shell}: ${r.stderr}`)
    }
  })

  test('refuses a timeout out of range and values that would break the parameter lists', () => {
    assert.throws(() => probeScript(input(), {netTimeoutSeconds: 0}), /whole number of seconds/)
    assert.throws(() => probeScript(input(), {netTimeoutSeconds: 1.5}), /whole number of seconds/)
    assert.throws(() => probeScript(input({dbs: [{host: 'a b', port: 1, text: 'a b:1'}]})), /not a host name/)
    assert.throws(() => probeScript(input({dbs: [{host: 'a,b', port: 1, text: 'a,b:1'}]})), /not a host name/)
  })
})

describe('gatherHostFacts', () => {
  test('runs the rendered probe once and reads its facts', async () => {
    const scripts: string[] = []
    const facts = await gatherHostFacts(async (s) => {
      scripts.push(s)
      return {code: 0, stdout: fixture('debian12-healthy.out'), stderr: ''}
    }, input())
    assert.equal(scripts.length, 1)
    assert.ok(scripts[0]?.includes('templates/doctor-probe.sh'))
    assert.equal(facts.user.name, 'hevo')
  })

  test('an error the probe reports becomes REMOTE_<CODE>; a run cut short becomes REMOTE_FAILED', async () => {
    await assert.rejects(
      gatherHostFacts(async () => ({code: 3, stdout: '@bastion error BAD_VENDOR invalid vendor name: X\n', stderr: ''}), input(), {host: 'h1'}),
      (e: unknown) => e instanceof BastionError && e.code === 'REMOTE_BAD_VENDOR' && e.exit === Exit.REMOTE && e.message.startsWith('h1: '),
    )
    await assert.rejects(
      gatherHostFacts(async () => ({code: null, signal: 'KILL', stdout: '@bastion probe 1\n', stderr: 'Killed'}), input()),
      (e: unknown) => e instanceof BastionError && e.code === 'REMOTE_FAILED',
    )
  })
})
