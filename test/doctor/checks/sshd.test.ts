import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  sshdAllowGroups,
  sshdAllowTcpForwarding,
  sshdAllowUsers,
  sshdAuthenticationMethods,
  sshdAuthorizedKeysFile,
  sshdConfig,
  sshdDenyGroups,
  sshdDenyUsers,
  sshdDisableForwarding,
  sshdEffective,
  sshdHostKeyAlgorithms,
  sshdListening,
  sshdMaxSessions,
  sshdMaxStartups,
  sshdPermitOpen,
  sshdPubkeyAlgorithms,
  sshdPubkeyAuthentication,
  sshdRunning,
  sshdSession,
  sshdStrictModes,
  sshdUsePam,
  sshdVersion,
} from '../../../src/doctor/checks/sshd.js'
import {parseHostPort} from '../../../src/input/parse.js'
import {effective, healthyFacts, healthyInput, only, rsaKey, run, statuses, withSettings} from '../fixtures/facts.js'

describe('doctor/checks/sshd: the daemon', () => {
  it('sshd.running passes when sshd runs, fails without a binary or a process', () => {
    assert.equal(only(run(sshdRunning), 'sshd.running').status, 'pass')
    const none = only(run(sshdRunning, healthyFacts({sshd: {binary: null}})), 'sshd.running')
    assert.equal(none.status, 'fail')
    assert.match(none.fix!.command, /apt-get install -y openssh-server/)
    const stopped = only(run(sshdRunning, healthyFacts({sshd: {running: false, pids: []}})), 'sshd.running')
    assert.equal(stopped.status, 'fail')
    assert.match(stopped.fix!.command, /systemctl enable --now ssh/)
    assert.equal(stopped.fix!.script, undefined, 'starting sshd is not an automatic fix')
  })

  it('sshd.listening passes on the expected port, fails on another port, a foreign process or loopback only, skips when unknown', () => {
    assert.equal(only(run(sshdListening), 'sshd.listening').status, 'pass')
    const other = only(run(sshdListening, healthyFacts({sshd: {listening: [{address: '0.0.0.0', port: 2222, process: 'sshd'}]}})), 'sshd.listening')
    assert.equal(other.status, 'fail')
    assert.match(other.seen, /port 2222, not on 22/)
    const foreign = only(run(sshdListening, healthyFacts({sshd: {listening: [{address: '0.0.0.0', port: 22, process: 'sslh'}]}})), 'sshd.listening')
    assert.equal(foreign.status, 'fail')
    assert.match(foreign.seen, /held by sslh/)
    const lo = only(run(sshdListening, healthyFacts({sshd: {listening: [{address: '127.0.0.1', port: 22, process: 'sshd'}, {address: '::1', port: 22}]}})), 'sshd.listening')
    assert.equal(lo.status, 'fail')
    assert.match(lo.seen, /loopback/)
    assert.equal(only(run(sshdListening, healthyFacts({sshd: {running: false}})), 'sshd.listening').status, 'skip')
    assert.equal(only(run(sshdListening, healthyFacts({sshd: {listening: []}, tools: {ss: false}})), 'sshd.listening').status, 'skip')
    assert.equal(only(run(sshdListening, healthyFacts(), healthyInput({sshPort: 2222})), 'sshd.listening').status, 'fail')
  })

  it('sshd.config passes when sshd -t is clean, fails with its error, skips without sshd', () => {
    assert.equal(only(run(sshdConfig), 'sshd.config').status, 'pass')
    const bad = only(run(sshdConfig, healthyFacts({sshd: {configOk: false, configError: '/etc/ssh/sshd_config line 12: Bad configuration option: PermitOpn'}})), 'sshd.config')
    assert.equal(bad.status, 'fail')
    assert.match(bad.seen, /PermitOpn/)
    assert.equal(only(run(sshdConfig, healthyFacts({sshd: {binary: null}})), 'sshd.config').status, 'skip')
  })

  it('sshd.version passes for current OpenSSH, warns below 7.4, skips when unreadable', () => {
    assert.equal(only(run(sshdVersion), 'sshd.version').status, 'pass')
    const old = only(run(sshdVersion, healthyFacts({sshd: {version: 'OpenSSH_6.6.1p1', versionNumber: 6.6}})), 'sshd.version')
    assert.equal(old.status, 'warn')
    assert.match(old.fix!.command, /only-upgrade openssh-server/)
    assert.equal(only(run(sshdVersion, healthyFacts({sshd: {version: null, versionNumber: null}})), 'sshd.version').status, 'skip')
  })

  it('sshd.effective passes with settings, fails when sshd -T failed or printed nothing, skips without sshd', () => {
    assert.equal(only(run(sshdEffective), 'sshd.effective').status, 'pass')
    const err = only(run(sshdEffective, healthyFacts({sshd: {effective: [{spec: 'user=hevo,addr=52.6.1.0', settings: {}, error: 'Bad Match condition'}]}})), 'sshd.effective')
    assert.equal(err.status, 'fail')
    assert.match(err.fix!.command, /^sshd -T -C 'user=hevo,addr=52\.6\.1\.0'$/)
    assert.equal(only(run(sshdEffective, healthyFacts({sshd: {effective: []}})), 'sshd.effective').status, 'fail')
    assert.equal(only(run(sshdEffective, healthyFacts({sshd: {binary: null}})), 'sshd.effective').status, 'skip')
  })
})

describe('doctor/checks/sshd: effective settings', () => {
  it('settings checks skip when sshd -T gave nothing usable', () => {
    const facts = healthyFacts({sshd: {effective: []}})
    for (const c of [sshdPubkeyAuthentication, sshdAllowTcpForwarding, sshdPermitOpen, sshdAllowUsers, sshdPubkeyAlgorithms, sshdMaxStartups]) {
      assert.deepEqual(statuses(run(c, facts)), ['skip'], c.ids[0])
    }
  })

  it('settings checks fall back on plain sshd -T (no Match applied) when every sshd -T -C failed, and say so', () => {
    const facts = healthyFacts({sshd: {effective: [{spec: 'user=hevo,addr=52.6.1.0', settings: {}, error: 'bad'}], globalSettings: {allowtcpforwarding: ['no']}}})
    const f = only(run(sshdAllowTcpForwarding, facts), 'sshd.allow_tcp_forwarding')
    assert.equal(f.status, 'fail')
    assert.match(f.seen, /Match blocks not applied/)
  })

  it('sshd.allow_users notes a placeholder address for user@host patterns', () => {
    const facts = healthyFacts()
    facts.sshd.effective = [{...effective({allowusers: 'hevo@10.0.0.0/8'}, 'user=hevo,addr=192.0.2.1'), placeholder: true, address: '192.0.2.1'}]
    const f = only(run(sshdAllowUsers, facts, healthyInput({vendorIps: []})), 'sshd.allow_users')
    assert.equal(f.status, 'fail')
    assert.match(f.seen, /placeholder address/)
  })

  it('sshd.pubkey_authentication fails on "no" with a Match User block as fix', () => {
    assert.equal(only(run(sshdPubkeyAuthentication), 'sshd.pubkey_authentication').status, 'pass')
    const f = only(run(sshdPubkeyAuthentication, withSettings({pubkeyauthentication: 'no'})), 'sshd.pubkey_authentication')
    assert.equal(f.status, 'fail')
    assert.match(f.fix!.command, /^printf '%s\\n' '' 'Match User hevo' ' {4}PubkeyAuthentication yes' >> \/etc\/ssh\/sshd_config && sshd -t && /)
    assert.equal(f.fix!.script, undefined)
  })

  it('sshd.authentication_methods passes for any or a publickey-only list, fails when a second factor is required', () => {
    assert.equal(only(run(sshdAuthenticationMethods), 'sshd.authentication_methods').status, 'pass')
    assert.equal(only(run(sshdAuthenticationMethods, withSettings({authenticationmethods: 'publickey,password publickey'})), 'sshd.authentication_methods').status, 'pass')
    assert.equal(only(run(sshdAuthenticationMethods, withSettings({authenticationmethods: 'publickey,password'})), 'sshd.authentication_methods').status, 'fail')
  })

  it('sshd.allow_tcp_forwarding: yes/all/local pass, no/remote fail', () => {
    for (const v of ['yes', 'all', 'local']) assert.equal(only(run(sshdAllowTcpForwarding, withSettings({allowtcpforwarding: v})), 'sshd.allow_tcp_forwarding').status, 'pass', v)
    for (const v of ['no', 'remote']) {
      const f = only(run(sshdAllowTcpForwarding, withSettings({allowtcpforwarding: v})), 'sshd.allow_tcp_forwarding')
      assert.equal(f.status, 'fail', v)
      assert.match(f.why!, /administratively prohibited/)
      assert.match(f.fix!.command, /AllowTcpForwarding local/)
    }
  })

  it('sshd.disable_forwarding fails on yes, passes on no or when this sshd has no such keyword', () => {
    assert.equal(only(run(sshdDisableForwarding), 'sshd.disable_forwarding').status, 'pass')
    assert.equal(only(run(sshdDisableForwarding, withSettings({disableforwarding: 'yes'})), 'sshd.disable_forwarding').status, 'fail')
    assert.equal(only(run(sshdDisableForwarding, withSettings({disableforwarding: undefined})), 'sshd.disable_forwarding').status, 'pass')
  })

  it('sshd.permit_open: any and matching entries pass (also * wildcards and IPv6), none and other entries fail, a resolved address warns', () => {
    const po = (v: string | undefined, input = healthyInput(), facts?: ReturnType<typeof healthyFacts>) => only(run(sshdPermitOpen, withSettings({permitopen: v}, facts), input), 'sshd.permit_open')
    assert.equal(po('any').status, 'pass')
    assert.equal(po(undefined).status, 'pass', 'not printed = any')
    assert.equal(po('db:5432 10.0.1.5:5432').status, 'pass')
    assert.equal(po('*:5432').status, 'pass')
    assert.equal(po('10.0.1.5:*').status, 'pass')
    const none = po('none')
    assert.equal(none.status, 'fail')
    assert.match(none.fix!.command, /' {4}PermitOpen 10\.0\.1\.5:5432'/)
    const other = po('10.0.1.6:5432 10.0.1.5:3306')
    assert.equal(other.status, 'fail')
    assert.match(other.fix!.command, /' {4}PermitOpen 10\.0\.1\.6:5432 10\.0\.1\.5:3306 10\.0\.1\.5:5432'/)
    const v6 = parseHostPort('[fd00::5]:5432', '--db')
    assert.equal(po('[fd00::5]:5432', healthyInput({dbs: [v6]})).status, 'pass')
    const named = parseHostPort('db.internal:5432', '--db')
    const facts = healthyFacts({network: [{target: 'db.internal:5432', host: 'db.internal', port: 5432, addresses: ['10.0.1.5'], result: 'open'}]})
    const alias = po('10.0.1.5:5432', healthyInput({dbs: [named]}), facts)
    assert.equal(alias.status, 'warn')
    assert.match(alias.why!, /literally/)
    assert.equal(only(run(sshdPermitOpen, healthyFacts(), healthyInput({dbs: []})), 'sshd.permit_open').status, 'skip')
  })

  it('sshd.permit_open judges each database on its own', () => {
    const dbs = [parseHostPort('10.0.1.5:5432', '--db'), parseHostPort('10.0.1.6:3306', '--db')]
    const fs = run(sshdPermitOpen, withSettings({permitopen: '10.0.1.5:5432'}), healthyInput({dbs}))
    assert.deepEqual(statuses(fs), ['pass', 'fail'])
    assert.match(fs[1]!.title, /10\.0\.1\.6:3306/)
  })

  it('sshd.allow_users: unset or a matching pattern passes (user@CIDR included), a list without the vendor fails', () => {
    assert.equal(only(run(sshdAllowUsers), 'sshd.allow_users').status, 'pass')
    assert.equal(only(run(sshdAllowUsers, withSettings({allowusers: ['admin', 'he*']})), 'sshd.allow_users').status, 'pass')
    assert.equal(only(run(sshdAllowUsers, withSettings({allowusers: ['admin', 'hevo@52.6.0.0/16']})), 'sshd.allow_users').status, 'pass')
    const f = only(run(sshdAllowUsers, withSettings({allowusers: ['admin', 'hevo@10.0.0.0/8']})), 'sshd.allow_users')
    assert.equal(f.status, 'fail')
    assert.match(f.why!, /not listed in AllowUsers/)
    assert.match(f.fix!.command, /'Match User hevo' ' {4}AllowUsers hevo'/)
  })

  it('sshd.allow_users reports per vendor address when the verdicts differ', () => {
    const facts = healthyFacts()
    facts.sshd.effective = [
      effective({allowusers: 'hevo@52.6.1.0/24'}, 'user=hevo,addr=52.6.1.0'),
      effective({allowusers: 'hevo@52.6.1.0/24'}, 'user=hevo,addr=35.1.1.1'),
    ]
    const fs = run(sshdAllowUsers, facts, healthyInput({vendorIps: ['52.6.1.0/24', '35.1.1.1']}))
    assert.deepEqual(statuses(fs), ['pass', 'fail'])
    assert.match(fs[1]!.title, /addr=35\.1\.1\.1/)
  })

  it('sshd.deny_users fails when a pattern matches the vendor', () => {
    assert.equal(only(run(sshdDenyUsers), 'sshd.deny_users').status, 'pass')
    assert.equal(only(run(sshdDenyUsers, withSettings({denyusers: 'root'})), 'sshd.deny_users').status, 'pass')
    const f = only(run(sshdDenyUsers, withSettings({denyusers: ['root', 'h?vo']})), 'sshd.deny_users')
    assert.equal(f.status, 'fail')
    assert.match(f.fix!.command, /grep -rniE .*DenyUsers/)
  })

  it('sshd.allow_groups / sshd.deny_groups judge every group of the user, and skip without the user', () => {
    assert.equal(only(run(sshdAllowGroups, withSettings({allowgroups: 'sshusers hevo'})), 'sshd.allow_groups').status, 'pass')
    const supp = withSettings({allowgroups: 'tunnel*'})
    supp.user.groups = ['hevo', 'tunnelers']
    assert.equal(only(run(sshdAllowGroups, supp), 'sshd.allow_groups').status, 'pass')
    const f = only(run(sshdAllowGroups, withSettings({allowgroups: 'sshusers'})), 'sshd.allow_groups')
    assert.equal(f.status, 'fail')
    assert.match(f.fix!.command, /AllowGroups hevo/)
    assert.equal(only(run(sshdAllowGroups, healthyFacts({user: {exists: false}})), 'sshd.allow_groups').status, 'skip')
    assert.equal(only(run(sshdDenyGroups), 'sshd.deny_groups').status, 'pass')
    assert.equal(only(run(sshdDenyGroups, withSettings({denygroups: 'he*'})), 'sshd.deny_groups').status, 'fail')
    assert.equal(only(run(sshdDenyGroups, healthyFacts({user: {exists: false}})), 'sshd.deny_groups').status, 'skip')
  })

  it('sshd.authorized_keys_file: none fails (warns with an AuthorizedKeysCommand), a path that misses ~/.ssh/authorized_keys warns', () => {
    assert.equal(only(run(sshdAuthorizedKeysFile), 'sshd.authorized_keys_file').status, 'pass')
    assert.equal(only(run(sshdAuthorizedKeysFile, withSettings({authorizedkeysfile: '%h/.ssh/authorized_keys'})), 'sshd.authorized_keys_file').status, 'pass')
    assert.equal(only(run(sshdAuthorizedKeysFile, withSettings({authorizedkeysfile: 'none'})), 'sshd.authorized_keys_file').status, 'fail')
    assert.equal(only(run(sshdAuthorizedKeysFile, withSettings({authorizedkeysfile: 'none', authorizedkeyscommand: '/usr/bin/fetch-keys %u'})), 'sshd.authorized_keys_file').status, 'warn')
    const elsewhere = only(run(sshdAuthorizedKeysFile, withSettings({authorizedkeysfile: '/etc/ssh/authorized_keys/%u'})), 'sshd.authorized_keys_file')
    assert.equal(elsewhere.status, 'warn')
    assert.match(elsewhere.seen, /\/etc\/ssh\/authorized_keys\/hevo/)
  })

  it('sshd.strict_modes passes either way and says what "no" means', () => {
    assert.equal(only(run(sshdStrictModes), 'sshd.strict_modes').status, 'pass')
    const no = only(run(sshdStrictModes, withSettings({strictmodes: 'no'})), 'sshd.strict_modes')
    assert.equal(no.status, 'pass')
    assert.match(no.seen, /warnings only/)
  })

  it('sshd.pubkey_algorithms: an RSA key warns without ssh-rsa (Hevo\'s note), fails without any RSA algorithm, passes with ssh-rsa', () => {
    const rsa = healthyInput({key: rsaKey(3072)})
    const warn = only(run(sshdPubkeyAlgorithms, healthyFacts(), rsa), 'sshd.pubkey_algorithms')
    assert.equal(warn.status, 'warn')
    assert.match(warn.why!, /Unable to verify SSH details/)
    assert.match(warn.fix!.command, /PubkeyAcceptedAlgorithms \+ssh-rsa/)
    const noRsa = withSettings({pubkeyacceptedalgorithms: 'ssh-ed25519,ecdsa-sha2-nistp256'})
    assert.equal(only(run(sshdPubkeyAlgorithms, noRsa, rsa), 'sshd.pubkey_algorithms').status, 'fail')
    const withSha1 = withSettings({pubkeyacceptedalgorithms: 'ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa'})
    assert.equal(only(run(sshdPubkeyAlgorithms, withSha1, rsa), 'sshd.pubkey_algorithms').status, 'pass')
    const oldName = withSettings({pubkeyacceptedalgorithms: undefined, pubkeyacceptedkeytypes: 'ssh-rsa,ssh-ed25519'})
    assert.equal(only(run(sshdPubkeyAlgorithms, oldName, rsa), 'sshd.pubkey_algorithms').status, 'pass')
  })

  it('sshd.pubkey_algorithms: an ed25519 key passes, fails when not accepted, skips without a known key', () => {
    assert.equal(only(run(sshdPubkeyAlgorithms), 'sshd.pubkey_algorithms').status, 'pass')
    assert.equal(only(run(sshdPubkeyAlgorithms, withSettings({pubkeyacceptedalgorithms: 'rsa-sha2-512,rsa-sha2-256'})), 'sshd.pubkey_algorithms').status, 'fail')
    const noKeys = healthyFacts()
    noKeys.authorizedKeys[0]!.content = ''
    assert.equal(only(run(sshdPubkeyAlgorithms, noKeys, healthyInput({key: undefined})), 'sshd.pubkey_algorithms').status, 'skip')
  })

  it('sshd.pubkey_algorithms without --key-file judges the key types found in authorized_keys', () => {
    const fs = run(sshdPubkeyAlgorithms, healthyFacts(), healthyInput({key: undefined}))
    assert.deepEqual(statuses(fs), ['pass'])
    assert.match(fs[0]!.title, /ssh-ed25519/)
  })

  it('sshd.hostkey_algorithms passes with common types, warns with none of them', () => {
    assert.equal(only(run(sshdHostKeyAlgorithms), 'sshd.hostkey_algorithms').status, 'pass')
    assert.equal(only(run(sshdHostKeyAlgorithms, withSettings({hostkeyalgorithms: 'sk-ssh-ed25519@openssh.com'})), 'sshd.hostkey_algorithms').status, 'warn')
    assert.equal(only(run(sshdHostKeyAlgorithms, withSettings({hostkeyalgorithms: undefined})), 'sshd.hostkey_algorithms').status, 'skip')
  })

  it('sshd.max_startups warns when the start of dropping is below 10 or per-source limits are low', () => {
    assert.equal(only(run(sshdMaxStartups), 'sshd.max_startups').status, 'pass')
    const low = only(run(sshdMaxStartups, withSettings({maxstartups: '3:30:10'})), 'sshd.max_startups')
    assert.equal(low.status, 'warn')
    assert.match(low.why!, /Exceeded MaxStartups/)
    assert.match(low.fix!.command, /MaxStartups 100:30:200/)
    assert.equal(only(run(sshdMaxStartups, withSettings({persourcemaxstartups: '2'})), 'sshd.max_startups').status, 'warn')
  })

  it('sshd.max_sessions warns below 10', () => {
    assert.equal(only(run(sshdMaxSessions), 'sshd.max_sessions').status, 'pass')
    assert.equal(only(run(sshdMaxSessions, withSettings({maxsessions: '2'})), 'sshd.max_sessions').status, 'warn')
  })

  it('sshd.use_pam and sshd.session are informational passes', () => {
    assert.match(only(run(sshdUsePam), 'sshd.use_pam').seen, /UsePAM yes/)
    assert.match(only(run(sshdUsePam, withSettings({usepam: 'no'})), 'sshd.use_pam').seen, /UsePAM no/)
    assert.match(only(run(sshdUsePam, withSettings({usepam: undefined})), 'sshd.use_pam').seen, /without PAM/)
    const s = only(run(sshdSession, withSettings({forcecommand: '/bin/false', permittty: 'no'})), 'sshd.session')
    assert.equal(s.status, 'pass')
    assert.match(s.seen, /ForceCommand \/bin\/false/)
  })
})
