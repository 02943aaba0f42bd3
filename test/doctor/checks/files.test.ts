import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {FILES_IDS, FILES_LINK_IDS, filesChecks} from '../../../src/doctor/checks/files.js'
import {hostChecks} from '../../../src/doctor/checks/index.js'
import {runChecks} from '../../../src/doctor/report.js'
import type {Check, Finding, HostFacts} from '../../../src/doctor/types.js'
import {ctxOf, healthyFacts, lk, missing, only, stat, symlink, withKeyFile, withSettings} from '../fixtures/facts.js'

/** All files.* findings, as doctor produces them (one context for every files check). */
function files(facts: HostFacts = healthyFacts()): Finding[] {
  const ctx = ctxOf(facts)
  return filesChecks.flatMap((c: Check) => c.run(ctx))
}

/** Every absolute path a command names (quoted or bare words). */
function pathsIn(command: string): string[] {
  return [...command.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] ?? m[2] ?? '').replaceAll("'\\''", "'")).filter((w) => w.startsWith('/'))
}

/** Fix commands (of every host check) that name a path outside the home. */
function outsideHome(findings: Finding[], home = '/home/hevo'): string[] {
  return findings
    .filter((f) => f.fix)
    .flatMap((f) => pathsIn(f.fix!.command).filter((p) => p !== home && !p.startsWith(`${home}/`)).map((p) => `${f.id}: ${p} in ${f.fix!.command}`))
}

/** ~/.ssh a symlink to /root/.ssh, as the probe reports it: sshd's files are root's. */
function sshDirLinkedToRoot(): HostFacts {
  const facts = healthyFacts()
  facts.homePaths = [lk('/home/hevo', 'dir'), symlink('/home/hevo/.ssh', '/root/.ssh'), lk('/home/hevo/.ssh/authorized_keys', 'file', 0)]
  const rootChain = [stat('/root/.ssh', 'dir', 0, 0, '700'), stat('/root', 'dir', 0, 0, '700'), stat('/', 'dir', 0, 0, '755')]
  facts.authorizedKeys = [
    {
      path: '/home/hevo/.ssh/authorized_keys',
      realPath: '/root/.ssh/authorized_keys',
      stat: stat('/home/hevo/.ssh/authorized_keys', 'file', 0, 0, '644', {symlinkTo: '/root/.ssh/authorized_keys'}),
      chain: rootChain,
      content: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@ops\n',
      readableByUser: false,
    },
    {path: '/home/hevo/.ssh/authorized_keys2', realPath: '/root/.ssh/authorized_keys2', stat: {...missing('/home/hevo/.ssh/authorized_keys2'), symlinkTo: '/root/.ssh/authorized_keys2'}, chain: rootChain},
  ]
  return facts
}

/** The home a symlink to /root: lstat below the home already follows it into /root. */
function homeLinkedToRoot(): HostFacts {
  const facts = sshDirLinkedToRoot()
  facts.user.homeReal = '/root'
  facts.homePaths = [symlink('/home/hevo', '/root'), lk('/home/hevo/.ssh', 'dir', 0), lk('/home/hevo/.ssh/authorized_keys', 'file', 0)]
  return facts
}

/** authorized_keys hard-linked to a root-only file: same path, two links, root's owner and mode. */
function hardLinkedKeys(): HostFacts {
  return withKeyFile((e) => {
    e.stat = stat(e.path, 'file', 0, 0, '600')
    e.content = 'root-only secret\n'
    e.readableByUser = false
  }, healthyFacts({homePaths: [lk('/home/hevo', 'dir'), lk('/home/hevo/.ssh', 'dir'), lk('/home/hevo/.ssh/authorized_keys', 'file', 0, {links: 2})]}))
}

function chainWith(path: string, change: Partial<HostFacts['authorizedKeys'][number]['chain'][number]>) {
  return (e: HostFacts['authorizedKeys'][number]) => {
    e.chain = e.chain.map((s) => (s.path === path ? {...s, ...change} : s))
  }
}

describe('doctor/checks/files (StrictModes walk)', () => {
  it('a healthy layout passes every files check, each id once', () => {
    const fs = files()
    assert.deepEqual(fs.map((f) => f.status), fs.map(() => 'pass'))
    assert.deepEqual([...fs.map((f) => f.id)].sort(), [...FILES_IDS].sort())
  })

  it('authorized_keys 0666 fails (sshd: bad ownership or modes for file) with chmod 600 as a script guarded from the home down', () => {
    const f = only(files(withKeyFile((e) => (e.stat.mode = '666'))), 'files.authorized_keys.mode')
    assert.equal(f.status, 'fail')
    assert.match(f.why!, /bad ownership or modes for file \/home\/hevo\/\.ssh\/authorized_keys/)
    assert.equal(f.fix!.command, "chmod 600 '/home/hevo/.ssh/authorized_keys'")
    assert.match(f.fix!.script!, /^\( for p in '\/home\/hevo' '\/home\/hevo\/\.ssh' '\/home\/hevo\/\.ssh\/authorized_keys'; do \[ ! -L "\$p" \]/)
    assert.match(f.fix!.script!, /case \$\{o%% \*\} in 0\|1001\) ;;/)
    assert.ok(f.fix!.script!.endsWith(" ) && chmod 600 '/home/hevo/.ssh/authorized_keys'"), f.fix!.script)
  })

  it('authorized_keys 0644 only warns (sshd accepts it; 0600 is usual)', () => {
    const f = only(files(withKeyFile((e) => (e.stat.mode = '644'))), 'files.authorized_keys.mode')
    assert.equal(f.status, 'warn')
    assert.ok(f.fix!.script)
  })

  it('with StrictModes no, what sshd would refuse is only a warning', () => {
    const facts = withSettings({strictmodes: 'no'})
    facts.authorizedKeys[0]!.stat.mode = '666'
    const f = only(files(facts), 'files.authorized_keys.mode')
    assert.equal(f.status, 'warn')
    assert.match(f.seen, /StrictModes no/)
  })

  it('authorized_keys owned by another user fails and is moved aside, never handed to the vendor (even with StrictModes no)', () => {
    for (const facts of [withKeyFile((e) => (e.stat.uid = 1002)), withKeyFile((e) => (e.stat.uid = 1002), withSettings({strictmodes: 'no'}))]) {
      facts.homePaths![2]!.uid = 1002
      const f = only(files(facts), 'files.authorized_keys.owner')
      assert.equal(f.status, 'fail')
      assert.match(f.why!, /belongs to another account/)
      assert.equal(f.fix!.command, "ls -la '/home/hevo/.ssh/authorized_keys' && mv '/home/hevo/.ssh/authorized_keys' '/home/hevo/.ssh/authorized_keys.moved-by-doctor'")
      assert.equal(f.fix!.script, undefined)
    }
  })

  it('a file owned by another user in the home gets no chmod either: nothing there is changed for the vendor', () => {
    const facts = withKeyFile((e) => Object.assign(e.stat, {uid: 1002, mode: '666'}))
    facts.homePaths![2]!.uid = 1002
    const fs = files(facts)
    assert.equal(only(fs, 'files.authorized_keys.mode').status, 'fail')
    assert.equal(only(fs, 'files.authorized_keys.mode').fix, undefined)
    assert.deepEqual(fs.filter((f) => f.fix?.script).map((f) => f.id), [])
  })

  it('a root-owned 0600 authorized_keys passes the owner rule but the user cannot read it: readable fails with chown', () => {
    const fs = files(withKeyFile((e) => Object.assign(e.stat, {uid: 0, gid: 0})))
    assert.equal(only(fs, 'files.authorized_keys.owner').status, 'pass')
    const r = only(fs, 'files.authorized_keys.readable')
    assert.equal(r.status, 'fail')
    assert.match(r.seen, /authorized_keys \(root, gid 0, 600\) lacks read/)
    assert.ok(r.fix!.script!.endsWith(" ) && chown 'hevo:hevo' '/home/hevo/.ssh/authorized_keys'"), r.fix!.script)
  })

  it('~/.ssh owned by root (0700) passes StrictModes but blocks the user: readable fails with chown of ~/.ssh', () => {
    const fs = files(withKeyFile(chainWith('/home/hevo/.ssh', {uid: 0, gid: 0})))
    assert.equal(only(fs, 'files.ssh_dir.owner').status, 'pass')
    const r = only(fs, 'files.authorized_keys.readable')
    assert.equal(r.status, 'fail')
    assert.equal(r.fix!.command, "chown 'hevo:hevo' '/home/hevo/.ssh'")
  })

  it('~/.ssh 0755 warns, 0775 fails', () => {
    assert.equal(only(files(withKeyFile(chainWith('/home/hevo/.ssh', {mode: '755'}))), 'files.ssh_dir.mode').status, 'warn')
    const f = only(files(withKeyFile(chainWith('/home/hevo/.ssh', {mode: '775'}))), 'files.ssh_dir.mode')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix!.command, "chmod go-w '/home/hevo/.ssh'")
  })

  it('~/.ssh owned by another user fails and is moved aside, never handed to the vendor; the key file in it gets no fix', () => {
    const facts = withKeyFile(chainWith('/home/hevo/.ssh', {uid: 1002}))
    facts.authorizedKeys[0]!.stat.mode = '666'
    facts.homePaths![1]!.uid = 1002
    const fs = files(facts)
    const f = only(fs, 'files.ssh_dir.owner')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix!.command, "ls -la '/home/hevo/.ssh' && mv '/home/hevo/.ssh' '/home/hevo/.ssh.moved-by-doctor'")
    assert.equal(only(fs, 'files.authorized_keys.mode').fix, undefined)
    assert.deepEqual(fs.filter((x) => x.fix?.script).map((x) => x.id), [])
  })

  it('a world-writable home fails (sshd: bad ownership or modes for directory) with chmod go-w as a script', () => {
    const f = only(files(withKeyFile(chainWith('/home/hevo', {mode: '777'}))), 'files.home.mode')
    assert.equal(f.status, 'fail')
    assert.match(f.why!, /bad ownership or modes for directory \/home\/hevo/)
    assert.ok(f.fix!.script!.startsWith("( for p in '/home/hevo'; do "), f.fix!.script)
    assert.ok(f.fix!.script!.endsWith(" ) && chmod go-w '/home/hevo'"), f.fix!.script)
  })

  it('a home owned by another user fails with an inspect-only fix and nothing applied under it; 0755 home passes', () => {
    const facts = withKeyFile(chainWith('/home/hevo', {uid: 1002, mode: '777'}))
    facts.homePaths![0]!.uid = 1002
    const fs = files(facts)
    const f = only(fs, 'files.home.owner')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix!.command, "ls -ld '/home/hevo'")
    assert.equal(only(fs, 'files.home.mode').fix, undefined)
    assert.deepEqual(fs.filter((x) => x.fix?.script).map((x) => x.id), [])
    assert.equal(only(files(withKeyFile(chainWith('/home/hevo', {mode: '755'}))), 'files.home.mode').status, 'pass')
  })

  it('the walk stops at home: a group-writable /home is not sshd\'s business for a key file inside home', () => {
    const fs = files(withKeyFile(chainWith('/home', {mode: '775'})))
    assert.equal(only(fs, 'files.parents').status, 'pass')
  })

  it('a key file outside home (AuthorizedKeysFile /etc/ssh/keys/%u) is walked up to /: a group-writable /etc/ssh/keys fails, no automatic fix', () => {
    const facts = healthyFacts()
    facts.authorizedKeys = [{
      path: '/etc/ssh/keys/hevo',
      stat: stat('/etc/ssh/keys/hevo', 'file', 0, 0, '644'),
      chain: [stat('/etc/ssh/keys', 'dir', 0, 0, '775'), stat('/etc/ssh', 'dir', 0, 0, '755'), stat('/etc', 'dir', 0, 0, '755'), stat('/', 'dir', 0, 0, '755')],
      content: '',
    }]
    const fs = files(facts)
    const p = only(fs, 'files.parents')
    assert.equal(p.status, 'fail')
    assert.match(p.seen, /\/etc\/ssh\/keys \(root, 0775\)/)
    assert.equal(p.fix!.command, "chmod go-w '/etc/ssh/keys'")
    assert.equal(p.fix!.script, undefined)
    assert.equal(only(fs, 'files.home.mode').status, 'skip')
    assert.equal(only(fs, 'files.ssh_dir.mode').status, 'skip')
    assert.equal(only(fs, 'files.authorized_keys.readable').status, 'pass')
  })

  it('a directory on the way without search permission for the user fails readable (fixed outside home by a command only)', () => {
    const facts = withKeyFile(chainWith('/home', {mode: '700'}))
    const r = only(files(facts), 'files.authorized_keys.readable')
    assert.equal(r.status, 'fail')
    assert.match(r.seen, /\/home \(root, gid 0, 700\) lacks search/)
    assert.equal(r.fix!.command, "chmod o+x '/home'")
    assert.equal(r.fix!.script, undefined)
  })

  it('access that depends on a supplementary group (unknown gids) warns', () => {
    const r = only(files(withKeyFile((e) => Object.assign(e.stat, {uid: 0, gid: 50, mode: '640'}))), 'files.authorized_keys.readable')
    assert.equal(r.status, 'warn')
  })

  it('group 0640 readable through the primary group passes', () => {
    assert.equal(only(files(withKeyFile((e) => Object.assign(e.stat, {uid: 0, gid: 1001, mode: '640'}))), 'files.authorized_keys.readable').status, 'pass')
  })

  it('a symlinked authorized_keys is judged at its target, fails files.authorized_keys.link, and no finding suggests changing the target', () => {
    const facts = withKeyFile((e) => {
      // as the probe reports a link: type symlink, the target's type, owner and mode
      e.stat = stat('/home/hevo/.ssh/authorized_keys', 'symlink', 1002, 1002, '600', {symlinkTo: '/srv/keys/hevo', targetType: 'file'})
      e.realPath = '/srv/keys/hevo'
      e.chain = [stat('/srv/keys', 'dir', 0, 0, '755'), stat('/srv', 'dir', 0, 0, '755'), stat('/', 'dir', 0, 0, '755')]
    })
    facts.homePaths![2] = symlink('/home/hevo/.ssh/authorized_keys', '/srv/keys/hevo', '../../../srv/keys/hevo')
    const fs = files(facts)
    const l = only(fs, 'files.authorized_keys.link')
    assert.equal(l.status, 'fail')
    assert.equal(l.seen, '/home/hevo/.ssh/authorized_keys is a symlink to /srv/keys/hevo (the link says ../../../srv/keys/hevo)')
    assert.equal(l.fix!.command, "ls -la '/home/hevo/.ssh/authorized_keys' && rm '/home/hevo/.ssh/authorized_keys'")
    const o = only(fs, 'files.authorized_keys.owner')
    assert.equal(o.status, 'fail')
    assert.match(o.seen, /\/home\/hevo\/\.ssh\/authorized_keys \(→ \/srv\/keys\/hevo\) is owned by uid 1002 \(no fix offered while files\.authorized_keys\.link fails/)
    assert.equal(o.fix, undefined)
    assert.equal(only(fs, 'files.authorized_keys.type').status, 'pass')
    assert.equal(only(fs, 'files.parents').status, 'pass', 'outside home the walk goes up to /')
    assert.deepEqual(outsideHome(fs), [])
  })

  it('a dangling authorized_keys symlink fails type', () => {
    const facts = withKeyFile((e) => {
      e.stat = {path: e.path, exists: true, type: 'symlink', symlinkTo: '/gone/keys'}
      e.realPath = '/gone/keys'
      delete e.content
    })
    const f = only(files(facts), 'files.authorized_keys.type')
    assert.equal(f.status, 'fail')
    assert.match(f.seen, /does not exist/)
  })

  it('a home that is a symlink (/home/hevo → /data/hevo) fails files.home.link; the walk is judged at the real path with no fix', () => {
    const facts = withKeyFile((e) => {
      e.stat = stat('/home/hevo/.ssh/authorized_keys', 'file', 1001, 1001, '600', {symlinkTo: '/data/hevo/.ssh/authorized_keys'})
      e.realPath = '/data/hevo/.ssh/authorized_keys'
      e.chain = [
        stat('/data/hevo/.ssh', 'dir', 1001, 1001, '700'),
        stat('/data/hevo', 'dir', 1001, 1001, '777'),
        stat('/data', 'dir', 0, 0, '777'),
        stat('/', 'dir', 0, 0, '755'),
      ]
    })
    facts.user.homeReal = '/data/hevo'
    facts.homePaths = [symlink('/home/hevo', '/data/hevo'), lk('/home/hevo/.ssh', 'dir'), lk('/home/hevo/.ssh/authorized_keys', 'file')]
    const fs = files(facts)
    assert.equal(only(fs, 'files.home.link').status, 'fail')
    assert.equal(only(fs, 'files.home.mode').status, 'fail')
    assert.match(only(fs, 'files.home.mode').seen, /^\/data\/hevo is 0777/)
    assert.equal(only(fs, 'files.home.mode').fix, undefined)
    assert.equal(only(fs, 'files.ssh_dir.mode').status, 'pass')
    assert.equal(only(fs, 'files.parents').status, 'pass', 'the walk stops at the real home')
  })

  it('a directory above the home that is a symlink (/home → /data/home) changes nothing: fixes name the path as passwd does', () => {
    const facts = withKeyFile((e) => {
      e.stat = stat(e.path, 'file', 1001, 1001, '666', {symlinkTo: '/data/home/hevo/.ssh/authorized_keys'})
      e.realPath = '/data/home/hevo/.ssh/authorized_keys'
      e.chain = [stat('/data/home/hevo/.ssh', 'dir', 1001, 1001, '700'), stat('/data/home/hevo', 'dir', 1001, 1001, '750'), stat('/data/home', 'dir', 0, 0, '755'), stat('/data', 'dir', 0, 0, '755'), stat('/', 'dir', 0, 0, '755')]
    })
    facts.user.homeReal = '/data/home/hevo'
    const fs = files(facts)
    assert.deepEqual(FILES_LINK_IDS.map((id) => only(fs, id).status), ['pass', 'pass', 'pass', 'pass'])
    const f = only(fs, 'files.authorized_keys.mode')
    assert.equal(f.fix!.command, "chmod 600 '/home/hevo/.ssh/authorized_keys'")
    assert.ok(f.fix!.script!.endsWith(" ) && chmod 600 '/home/hevo/.ssh/authorized_keys'"))
  })

  it('the probe\'s own open-as-the-user test settles readability both ways', () => {
    const unknown = (readableByUser?: boolean) => withKeyFile((e) => {
      Object.assign(e.stat, {uid: 0, gid: 50, mode: '640'})
      if (readableByUser !== undefined) e.readableByUser = readableByUser
    })
    assert.equal(only(files(unknown(true)), 'files.authorized_keys.readable').status, 'pass')
    const no = only(files(unknown(false)), 'files.authorized_keys.readable')
    assert.equal(no.status, 'fail')
    assert.match(no.seen, /setpriv/)
    const acl = only(files(withKeyFile((e) => (e.readableByUser = false))), 'files.authorized_keys.readable')
    assert.equal(acl.status, 'fail', 'modes look fine but the user cannot open it (an ACL?)')
    assert.equal(acl.fix!.command, "namei -l '/home/hevo/.ssh/authorized_keys'")
  })

  it('authorized_keys that is a directory fails type', () => {
    const f = only(files(withKeyFile((e) => (e.stat.type = 'dir'))), 'files.authorized_keys.type')
    assert.equal(f.status, 'fail')
    assert.match(f.why!, /not a regular file/)
  })

  it('a missing authorized_keys fails exists (add-vendor-key) and the other files checks skip, but the home\'s links are judged', () => {
    const facts = withKeyFile((e) => (e.stat = missing(e.path)))
    facts.homePaths = facts.homePaths!.slice(0, 2)
    const fs = files(facts)
    const f = only(fs, 'files.authorized_keys.exists')
    assert.equal(f.status, 'fail')
    assert.match(f.fix!.command, /^bastion add-vendor-key /)
    assert.deepEqual(FILES_LINK_IDS.map((id) => only(fs, id).status), ['pass', 'pass', 'pass', 'skip'])
    const rest = fs.filter((x) => x.id !== 'files.authorized_keys.exists' && !(FILES_LINK_IDS as readonly string[]).includes(x.id))
    assert.deepEqual([...new Set(rest.map((x) => x.status))], ['skip'])
  })

  it('a missing authorized_keys behind a symlinked ~/.ssh: no add-vendor-key is suggested, it would write through the link', () => {
    const facts = sshDirLinkedToRoot()
    facts.authorizedKeys = facts.authorizedKeys.map((a) => ({...a, stat: {...missing(a.path), symlinkTo: a.realPath!}}))
    facts.homePaths = facts.homePaths!.slice(0, 2)
    const fs = files(facts)
    assert.equal(only(fs, 'files.ssh_dir.link').status, 'fail')
    const f = only(fs, 'files.authorized_keys.exists')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix, undefined)
    assert.match(f.seen, /no fix offered while files\.ssh_dir\.link fails/)
  })

  it('every files check skips when the user does not exist; with no key file sshd reads, only the home\'s own checks run', () => {
    assert.deepEqual([...new Set(files(healthyFacts({user: {exists: false}})).map((x) => x.status))], ['skip'])
    const none = files(healthyFacts({authorizedKeys: []}))
    assert.deepEqual(none.filter((x) => x.status !== 'skip').map((x) => `${x.id} ${x.status}`), ['files.home.link pass', 'files.home.shared pass'])
  })

  it('paths with quotes are quoted in fix commands and scripts, and the scripts are valid sh', () => {
    const odd = "/home/o'brien"
    const facts = healthyFacts({user: {home: odd, homeReal: odd}, homePaths: [lk(odd, 'dir'), lk(`${odd}/.ssh`, 'dir'), lk(`${odd}/.ssh/authorized_keys`, 'file')]})
    facts.authorizedKeys = [{
      path: `${odd}/.ssh/authorized_keys`,
      stat: stat(`${odd}/.ssh/authorized_keys`, 'file', 1001, 1001, '666'),
      chain: [stat(`${odd}/.ssh`, 'dir', 1001, 1001, '777'), stat(odd, 'dir', 1001, 1001, '777'), stat('/home', 'dir', 0, 0, '755'), stat('/', 'dir', 0, 0, '755')],
      content: '',
    }]
    const fs = files(facts).filter((f) => f.fix?.script)
    assert.ok(fs.length >= 3)
    for (const f of fs) {
      assert.ok(f.fix!.script!.includes(`'/home/o'\\''brien`), f.fix!.script)
      const r = spawnSync('sh', ['-n', '-c', f.fix!.script!])
      assert.equal(r.status, 0, String(r.stderr))
    }
  })
})

describe('doctor/checks/files: links out of the vendor\'s home', () => {
  /** Every host finding, as doctor reports them. */
  const all = (facts: HostFacts) => runChecks(hostChecks, ctxOf(facts))

  it('~/.ssh a symlink to /root/.ssh fails files.ssh_dir.link naming both; no finding has a fix script or names a path outside the home', () => {
    const fs = all(sshDirLinkedToRoot())
    const f = only(fs, 'files.ssh_dir.link')
    assert.equal(f.status, 'fail')
    assert.equal(f.seen, '/home/hevo/.ssh is a symlink to /root/.ssh')
    assert.match(f.why!, /another account's or the system's/)
    assert.match(f.why!, /the vendor's key added to \/root\/\.ssh\/authorized_keys, which lets the vendor log in as root/)
    assert.equal(f.fix!.command, "ls -la '/home/hevo/.ssh' && rm '/home/hevo/.ssh'")
    assert.equal(f.fix!.script, undefined)
    assert.equal(only(fs, 'files.home.link').status, 'pass')
    assert.equal(only(fs, 'files.authorized_keys.link').status, 'skip', 'the file is reached through the link')
    assert.equal(only(fs, 'files.authorized_keys.readable').status, 'fail', 'sshd still reads it as root\'s 0700 /root')
    assert.deepEqual(fs.filter((x) => x.fix?.script).map((x) => x.id), [])
    assert.deepEqual(outsideHome(fs), [])
  })

  it('the home a symlink to /root fails files.home.link naming /root; the paths under it are not judged as the vendor\'s, and nothing names /root in a fix', () => {
    const fs = all(homeLinkedToRoot())
    const f = only(fs, 'files.home.link')
    assert.equal(f.status, 'fail')
    assert.equal(f.seen, '/home/hevo is a symlink to /root')
    assert.match(f.why!, /rm removes only the link, not \/root/)
    assert.equal(f.fix!.command, "ls -ld '/home/hevo' && rm '/home/hevo' && mkdir -m 0750 '/home/hevo' && chown 'hevo:hevo' '/home/hevo'")
    assert.equal(f.fix!.script, undefined)
    assert.equal(only(fs, 'files.ssh_dir.link').status, 'skip')
    assert.equal(only(fs, 'files.authorized_keys.link').status, 'skip')
    assert.deepEqual(fs.filter((x) => x.fix?.script).map((x) => x.id), [])
    assert.deepEqual(outsideHome(fs), [])
  })

  it('authorized_keys hard-linked (2 links) fails files.authorized_keys.link; the root-owned file is not handed to the vendor', () => {
    const fs = all(hardLinkedKeys())
    const f = only(fs, 'files.authorized_keys.link')
    assert.equal(f.status, 'fail')
    assert.match(f.seen, /^\/home\/hevo\/\.ssh\/authorized_keys is hard-linked, 2 links: the same file has 1 other name elsewhere \(owner root\)$/)
    assert.match(f.why!, /not a copy/)
    assert.equal(f.fix!.command, "ls -li '/home/hevo/.ssh/authorized_keys' && mv '/home/hevo/.ssh/authorized_keys' '/home/hevo/.ssh/authorized_keys.hardlink-moved-by-doctor'")
    assert.equal(f.fix!.script, undefined)
    const r = only(fs, 'files.authorized_keys.readable')
    assert.equal(r.status, 'fail')
    assert.equal(r.fix, undefined, 'no chown of the linked file')
    assert.deepEqual(fs.filter((x) => x.fix?.script).map((x) => x.id), [])
    assert.deepEqual(outsideHome(fs), [])
  })

  it('a home that is another account\'s home (root\'s /root) fails files.home.shared, and nothing in it is changed', () => {
    const facts = healthyFacts({user: {home: '/root', homeReal: '/root', homeShared: [{name: 'root', home: '/root'}]}})
    facts.homePaths = [lk('/root', 'dir', 0), lk('/root/.ssh', 'dir', 0), lk('/root/.ssh/authorized_keys', 'file', 0)]
    facts.authorizedKeys = [{
      path: '/root/.ssh/authorized_keys',
      stat: stat('/root/.ssh/authorized_keys', 'file', 0, 0, '600'),
      chain: [stat('/root/.ssh', 'dir', 0, 0, '700'), stat('/root', 'dir', 0, 0, '700'), stat('/', 'dir', 0, 0, '755')],
      content: '',
    }]
    const fs = all(facts)
    const f = only(fs, 'files.home.shared')
    assert.equal(f.status, 'fail')
    assert.equal(f.seen, '/root is also the home of root')
    assert.equal(f.fix!.command, "usermod -d '/home/hevo' 'hevo' && mkdir -m 0750 '/home/hevo' && chown 'hevo:hevo' '/home/hevo'")
    assert.deepEqual(fs.filter((x) => x.fix?.script).map((x) => x.id), [])
    assert.deepEqual(outsideHome(fs), [])
  })

  it('a home of / or one that holds other accounts\' homes fails files.home.shared', () => {
    const slash = only(files(healthyFacts({user: {home: '/', homeReal: '/'}})), 'files.home.shared')
    assert.equal(slash.status, 'fail')
    assert.match(slash.seen, /every file on the host/)
    const holds = only(files(healthyFacts({user: {homeShared: [{name: 'alice', home: '/home/hevo/alice'}]}})), 'files.home.shared')
    assert.equal(holds.status, 'fail')
    assert.equal(holds.seen, '/home/hevo holds the home of alice (/home/hevo/alice)')
  })

  it('without the probe\'s lstat facts, no fix script is offered for paths in the home (nothing proves them safe)', () => {
    const facts = withKeyFile((e) => (e.stat.mode = '666'))
    delete facts.homePaths
    const fs = files(facts)
    assert.equal(only(fs, 'files.home.link').status, 'skip')
    assert.equal(only(fs, 'files.authorized_keys.mode').fix, undefined)
  })

  it('the guard of a fix script re-checks on the host: it applies in a clean home, and refuses a symlink, a hard link or another owner planted after the probe', (t) => {
    const uid = process.getuid?.()
    if (uid === undefined) return t.skip('needs a POSIX uid')
    const base = mkdtempSync(join(tmpdir(), 'bastion-guard-'))
    try {
      const home = join(base, 'hevo')
      const outside = join(base, 'outside')
      const keys = `${home}/.ssh/authorized_keys`
      const reset = () => {
        rmSync(home, {recursive: true, force: true})
        rmSync(outside, {recursive: true, force: true})
        mkdirSync(`${home}/.ssh`, {recursive: true})
        mkdirSync(outside)
        writeFileSync(keys, 'key\n', {mode: 0o666})
        chmodSync(keys, 0o666)
        writeFileSync(`${outside}/authorized_keys`, 'secret\n', {mode: 0o666})
        chmodSync(`${outside}/authorized_keys`, 0o666)
      }
      const facts = withKeyFile((e) => {
        e.path = keys
        e.stat = stat(keys, 'file', uid, uid, '666')
        e.chain = [stat(`${home}/.ssh`, 'dir', uid, uid, '700'), stat(home, 'dir', uid, uid, '750'), stat(base, 'dir', 0, 0, '755'), stat('/', 'dir', 0, 0, '755')]
      }, healthyFacts({user: {uid, gid: uid, home, homeReal: home}, homePaths: [lk(home, 'dir', uid), lk(`${home}/.ssh`, 'dir', uid), lk(keys, 'file', uid)]}))
      facts.authorizedKeys = facts.authorizedKeys.slice(0, 1)
      const script = only(files(facts), 'files.authorized_keys.mode').fix!.script!
      const mode = (p: string) => (statSync(p).mode & 0o777).toString(8)
      const run = () => spawnSync('sh', ['-c', script]).status

      reset()
      assert.equal(run(), 0)
      assert.equal(mode(keys), '600', 'applied in a clean home')

      reset()
      rmSync(`${home}/.ssh`, {recursive: true})
      symlinkSync(outside, `${home}/.ssh`)
      assert.notEqual(run(), 0)
      assert.equal(mode(`${outside}/authorized_keys`), '666', '~/.ssh became a symlink: the target is untouched')

      reset()
      rmSync(keys)
      linkSync(`${outside}/authorized_keys`, keys)
      assert.notEqual(run(), 0)
      assert.equal(mode(`${outside}/authorized_keys`), '666', 'a hard link: the other name is untouched')

      reset()
      rmSync(keys)
      symlinkSync(`${outside}/authorized_keys`, keys)
      assert.notEqual(run(), 0)
      assert.equal(mode(`${outside}/authorized_keys`), '666', 'authorized_keys became a symlink: the target is untouched')

      if (uid === 0) {
        reset()
        spawnSync('chown', ['65534', keys])
        assert.notEqual(run(), 0)
        assert.equal(mode(keys), '666', 'another owner: unchanged')
      }
    } finally {
      rmSync(base, {recursive: true, force: true})
    }
  })
})
