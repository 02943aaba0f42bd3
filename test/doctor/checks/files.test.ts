import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'
import {FILES_IDS, filesChecks} from '../../../src/doctor/checks/files.js'
import type {Check, Finding, HostFacts} from '../../../src/doctor/types.js'
import {ctxOf, healthyFacts, missing, only, stat, withKeyFile, withSettings} from '../fixtures/facts.js'

/** All files.* findings, as doctor produces them (one context for every files check). */
function files(facts: HostFacts = healthyFacts()): Finding[] {
  const ctx = ctxOf(facts)
  return filesChecks.flatMap((c: Check) => c.run(ctx))
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

  it('authorized_keys 0666 fails (sshd: bad ownership or modes for file) with chmod 600 as a guarded script', () => {
    const f = only(files(withKeyFile((e) => (e.stat.mode = '666'))), 'files.authorized_keys.mode')
    assert.equal(f.status, 'fail')
    assert.match(f.why!, /bad ownership or modes for file \/home\/hevo\/\.ssh\/authorized_keys/)
    assert.equal(f.fix!.command, "chmod 600 '/home/hevo/.ssh/authorized_keys'")
    assert.equal(f.fix!.script, "[ ! -L '/home/hevo/.ssh/authorized_keys' ] && chmod 600 '/home/hevo/.ssh/authorized_keys'")
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

  it('authorized_keys owned by another user fails with chown to the vendor', () => {
    const f = only(files(withKeyFile((e) => (e.stat.uid = 1002))), 'files.authorized_keys.owner')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix!.command, "chown 'hevo:hevo' '/home/hevo/.ssh/authorized_keys'")
  })

  it('a root-owned 0600 authorized_keys passes the owner rule but the user cannot read it: readable fails with chown', () => {
    const fs = files(withKeyFile((e) => Object.assign(e.stat, {uid: 0, gid: 0})))
    assert.equal(only(fs, 'files.authorized_keys.owner').status, 'pass')
    const r = only(fs, 'files.authorized_keys.readable')
    assert.equal(r.status, 'fail')
    assert.match(r.seen, /authorized_keys \(root, gid 0, 600\) lacks read/)
    assert.equal(r.fix!.script, "[ ! -L '/home/hevo/.ssh/authorized_keys' ] && chown 'hevo:hevo' '/home/hevo/.ssh/authorized_keys'")
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

  it('~/.ssh owned by another user fails', () => {
    assert.equal(only(files(withKeyFile(chainWith('/home/hevo/.ssh', {uid: 1002}))), 'files.ssh_dir.owner').status, 'fail')
  })

  it('a world-writable home fails (sshd: bad ownership or modes for directory) with chmod go-w as a script', () => {
    const f = only(files(withKeyFile(chainWith('/home/hevo', {mode: '777'}))), 'files.home.mode')
    assert.equal(f.status, 'fail')
    assert.match(f.why!, /bad ownership or modes for directory \/home\/hevo/)
    assert.equal(f.fix!.script, "[ ! -L '/home/hevo' ] && chmod go-w '/home/hevo'")
  })

  it('a home owned by another user fails; 0755 home passes', () => {
    assert.equal(only(files(withKeyFile(chainWith('/home/hevo', {uid: 1002}))), 'files.home.owner').status, 'fail')
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

  it('a symlinked authorized_keys is judged at its target; a target outside home gets no automatic fix', () => {
    const facts = withKeyFile((e) => {
      // as the probe reports a link: type symlink, the target's type, owner and mode
      e.stat = stat('/home/hevo/.ssh/authorized_keys', 'symlink', 1002, 1002, '600', {symlinkTo: '/srv/keys/hevo', targetType: 'file'})
      e.realPath = '/srv/keys/hevo'
      e.chain = [stat('/srv/keys', 'dir', 0, 0, '755'), stat('/srv', 'dir', 0, 0, '755'), stat('/', 'dir', 0, 0, '755')]
    })
    const fs = files(facts)
    const o = only(fs, 'files.authorized_keys.owner')
    assert.equal(o.status, 'fail')
    assert.match(o.seen, /\/home\/hevo\/\.ssh\/authorized_keys \(→ \/srv\/keys\/hevo\)/)
    assert.equal(o.fix!.command, "chown 'hevo:hevo' '/srv/keys/hevo'")
    assert.equal(o.fix!.script, undefined)
    assert.equal(only(fs, 'files.authorized_keys.type').status, 'pass')
    assert.equal(only(fs, 'files.parents').status, 'pass', 'outside home the walk goes up to /')
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

  it('a home reached through a symlink (/home/hevo → /data/hevo) is compared by its real path, as the probe reports it', () => {
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
    const fs = files(facts)
    assert.equal(only(fs, 'files.home.mode').status, 'fail')
    assert.match(only(fs, 'files.home.mode').seen, /^\/data\/hevo is 0777/)
    assert.equal(only(fs, 'files.ssh_dir.mode').status, 'pass')
    assert.equal(only(fs, 'files.parents').status, 'pass', 'the walk stops at the real home')
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

  it('a missing authorized_keys fails exists (add-vendor-key) and the other files checks skip', () => {
    const fs = files(withKeyFile((e) => (e.stat = missing(e.path))))
    const f = only(fs, 'files.authorized_keys.exists')
    assert.equal(f.status, 'fail')
    assert.match(f.fix!.command, /^bastion add-vendor-key /)
    assert.deepEqual([...new Set(fs.filter((x) => x.id !== 'files.authorized_keys.exists').map((x) => x.status))], ['skip'])
  })

  it('every files check skips when the user does not exist or sshd reads no file', () => {
    assert.deepEqual([...new Set(files(healthyFacts({user: {exists: false}})).map((x) => x.status))], ['skip'])
    assert.deepEqual([...new Set(files(healthyFacts({authorizedKeys: []})).map((x) => x.status))], ['skip'])
  })

  it('paths with quotes are quoted in fix commands and scripts, and the scripts are valid sh', () => {
    const odd = "/home/o'brien"
    const facts = healthyFacts({user: {home: odd}})
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
