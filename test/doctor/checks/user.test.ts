import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  userChecks,
  userExists,
  userExpired,
  userGroup,
  userHome,
  userLocked,
  userPassword,
  userPasswordExpired,
  userShell,
} from '../../../src/doctor/checks/user.js'
import {TODAY, healthyFacts, healthyInput, only, run, withSettings} from '../fixtures/facts.js'

describe('doctor/checks/user', () => {
  it('user.exists passes for an existing user; a missing one fails with add-vendor-key and every other user check skips', () => {
    assert.equal(only(run(userExists), 'user.exists').status, 'pass')
    const facts = healthyFacts({user: {exists: false, uid: undefined, gid: undefined, group: undefined, groups: [], home: undefined, shell: undefined, password: undefined}})
    const f = only(run(userExists, facts), 'user.exists')
    assert.equal(f.status, 'fail')
    assert.match(f.fix!.command, /^bastion add-vendor-key --host 'bastion-1' --vendor 'hevo' --key 'ssh-ed25519 AAAA\S+ hevo@prod' --db '10\.0\.1\.5:5432' --vendor-ip '52\.6\.1\.0\/24'$/)
    for (const c of userChecks.slice(1)) assert.equal(run(c, facts)[0]!.status, 'skip', c.ids[0])
  })

  it('user.group passes with a named group (noting a name other than the vendor\'s), warns for a gid without a group entry', () => {
    assert.equal(only(run(userGroup), 'user.group').status, 'pass')
    const other = only(run(userGroup, healthyFacts({user: {group: 'vendors', groups: ['vendors']}})), 'user.group')
    assert.equal(other.status, 'pass')
    assert.match(other.seen, /uses vendors/)
    const f = only(run(userGroup, healthyFacts({user: {group: undefined, groups: []}})), 'user.group')
    assert.equal(f.status, 'warn')
    assert.equal(f.fix!.command, "groupadd -g '1001' 'hevo'")
  })

  it('user.home passes for a directory, fails when missing or unset, skips without a stat', () => {
    assert.equal(only(run(userHome), 'user.home').status, 'pass')
    const gone = healthyFacts()
    for (const a of gone.authorizedKeys) a.chain = a.chain.map((s) => (s.path === '/home/hevo' ? {path: '/home/hevo', exists: false} : s))
    const f = only(run(userHome, gone), 'user.home')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix!.command, "install -d -m 0750 -o 'hevo' -g 'hevo' '/home/hevo'")
    assert.equal(only(run(userHome, healthyFacts({user: {home: ''}})), 'user.home').status, 'fail')
    assert.equal(only(run(userHome, healthyFacts({user: {home: '/srv/hevo'}})), 'user.home').status, 'skip')
  })

  it('user.shell: nologin passes, a missing or non-executable shell fails (sshd refuses it), unknown skips', () => {
    assert.match(only(run(userShell), 'user.shell').seen, /nologin/)
    assert.equal(only(run(userShell, healthyFacts({user: {shell: '/bin/bash'}})), 'user.shell').status, 'pass')
    const f = only(run(userShell, healthyFacts({user: {shell: '/usr/local/bin/zsh', shellExecutable: false}})), 'user.shell')
    assert.equal(f.status, 'fail')
    assert.match(f.why!, /not allowed because shell/)
    assert.equal(f.fix!.command, "usermod -s /usr/sbin/nologin 'hevo'")
    const chroot = withSettings({chrootdirectory: '/srv/jail'})
    chroot.user.shellExecutable = false
    assert.equal(only(run(userShell, chroot), 'user.shell').status, 'pass')
    assert.equal(only(run(userShell, healthyFacts({user: {shellExecutable: undefined}})), 'user.shell').status, 'skip')
  })

  it('user.locked: "!" fails with UsePAM no (fix usermod -p \'*\' as a script), passes with UsePAM yes, warns when UsePAM is unknown', () => {
    assert.equal(only(run(userLocked), 'user.locked').status, 'pass')
    const noPam = withSettings({usepam: 'no'})
    noPam.user.password = 'locked'
    const f = only(run(userLocked, noPam), 'user.locked')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix!.command, "usermod -p '*' 'hevo'")
    assert.equal(f.fix!.script, "usermod -p '*' 'hevo'")
    const pam = healthyFacts({user: {password: 'locked'}})
    const p = only(run(userLocked, pam), 'user.locked')
    assert.equal(p.status, 'pass')
    assert.match(p.seen, /UsePAM yes/)
    const unknown = healthyFacts({user: {password: 'locked'}, sshd: {effective: []}})
    assert.equal(only(run(userLocked, unknown), 'user.locked').status, 'warn')
    assert.equal(only(run(userLocked, healthyFacts({user: {password: undefined}})), 'user.locked').status, 'skip')
  })

  it('user.password warns on an empty password, passes otherwise, skips when shadow was unreadable', () => {
    assert.equal(only(run(userPassword), 'user.password').status, 'pass')
    const f = only(run(userPassword, healthyFacts({user: {password: 'empty'}})), 'user.password')
    assert.equal(f.status, 'warn')
    assert.equal(f.fix!.script, undefined)
    assert.equal(only(run(userPassword, healthyFacts({user: {password: undefined}})), 'user.password').status, 'skip')
  })

  it('user.expired: a past expiry fails with chage -E -1 (script), one within 14 days warns (no script), none passes', () => {
    assert.equal(only(run(userExpired), 'user.expired').status, 'pass')
    const f = only(run(userExpired, healthyFacts({user: {expireDay: TODAY - 3}})), 'user.expired')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix!.script, "chage -E -1 'hevo'")
    const soon = only(run(userExpired, healthyFacts({user: {expireDay: TODAY + 5}})), 'user.expired')
    assert.equal(soon.status, 'warn')
    assert.equal(soon.fix!.script, undefined)
    assert.equal(only(run(userExpired, healthyFacts({user: {expireDay: TODAY + 100}})), 'user.expired').status, 'pass')
    assert.equal(only(run(userExpired, healthyFacts({user: {expireDay: -1}})), 'user.expired').status, 'pass')
  })

  it('user.expired on the expiry day itself: PAM refuses, sshd without PAM still lets in', () => {
    assert.equal(only(run(userExpired, healthyFacts({user: {expireDay: TODAY}})), 'user.expired').status, 'fail')
    const noPam = withSettings({usepam: 'no'})
    noPam.user.expireDay = TODAY
    assert.equal(only(run(userExpired, noPam), 'user.expired').status, 'warn')
  })

  it('user.password_expired: a forced change (lastChange 0) or an aged password fails with UsePAM yes, passes with UsePAM no', () => {
    assert.equal(only(run(userPasswordExpired), 'user.password_expired').status, 'pass')
    const forced = only(run(userPasswordExpired, healthyFacts({user: {lastChange: 0}})), 'user.password_expired')
    assert.equal(forced.status, 'fail')
    assert.match(forced.why!, /administratively prohibited/)
    assert.equal(forced.fix!.command, "chage -d '2026-11-24' 'hevo'")
    const aged = only(run(userPasswordExpired, healthyFacts({user: {lastChange: TODAY - 100, maxDays: 90}})), 'user.password_expired')
    assert.equal(aged.status, 'fail')
    assert.equal(aged.fix!.command, "chage -M -1 'hevo'")
    const noPam = withSettings({usepam: 'no'})
    noPam.user.lastChange = 0
    assert.equal(only(run(userPasswordExpired, noPam), 'user.password_expired').status, 'pass')
    assert.equal(only(run(userPasswordExpired, healthyFacts({user: {lastChange: undefined}})), 'user.password_expired').status, 'skip')
  })

  it('values in fix commands are shell-quoted', () => {
    const f = only(run(userExpired, healthyFacts({user: {expireDay: TODAY - 3}}), healthyInput()), 'user.expired')
    assert.match(f.fix!.command, /'hevo'$/)
  })
})
