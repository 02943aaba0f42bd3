import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {hostCheckIds, hostChecks} from '../../../src/doctor/checks/index.js'
import {runChecks} from '../../../src/doctor/report.js'
import type {Finding, HostFacts} from '../../../src/doctor/types.js'
import {TODAY, ctxOf, effective, healthyFacts, healthyInput, keyText, rsaKey, VENDOR_KEY} from '../fixtures/facts.js'

function repoFile(rel: string): string {
  let d = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, rel))) return join(d, rel)
    d = dirname(d)
  }
  throw new Error(`${rel} not found`)
}

/** Many things broken at once, to run every check through its failure paths. */
function brokenFacts(): HostFacts {
  const f = healthyFacts({
    sshd: {version: 'OpenSSH_7.2p2', versionNumber: 7.2, configOk: false, configError: 'line 3: bad option', listening: [{address: '127.0.0.1', port: 22, process: 'sshd'}]},
    user: {password: 'locked', expireDay: TODAY - 1, lastChange: 0, shellExecutable: false, shell: '/bin/zsh', group: undefined},
    network: [{target: '10.0.1.5:5432', host: '10.0.1.5', port: 5432, addresses: ['10.0.1.5'], result: 'timeout', ms: 5000}],
    tools: {nc: false, bash: false},
  })
  f.sshd.effective = [
    effective({usepam: 'no', allowtcpforwarding: 'no', disableforwarding: 'yes', permitopen: '10.9.9.9:5432', allowusers: ['admin'], denyusers: 'h*', allowgroups: 'ssh', denygroups: 'hevo', authenticationmethods: 'publickey,password', pubkeyauthentication: 'no', maxstartups: '2:30:10', maxsessions: '1', pubkeyacceptedalgorithms: 'ssh-ed25519', hostkeyalgorithms: 'sk-ssh-ed25519@openssh.com', authorizedkeysfile: '/etc/ssh/keys/%u'}),
  ]
  const ak = f.authorizedKeys[0]!
  ak.stat = {...ak.stat, uid: 0, gid: 0, mode: '622'}
  ak.chain = ak.chain.map((s) => (s.path === '/home/hevo' ? {...s, mode: '777'} : s.path === '/home/hevo/.ssh' ? {...s, uid: 1002, mode: '775'} : s))
  ak.content = `no-port-forwarding,from="35.0.0.0/8",expiry-time="20260101" ${keyText(VENDOR_KEY)}\r\nstray text\n${keyText(VENDOR_KEY)}\n`
  return f
}

function all(facts: HostFacts, input = healthyInput()): Finding[] {
  return runChecks(hostChecks, ctxOf(facts, input))
}

describe('doctor/checks: the registry', () => {
  it('a healthy bastion passes every host check', () => {
    const bad = all(healthyFacts()).filter((f) => f.status !== 'pass')
    assert.deepEqual(bad.map((f) => `${f.id} ${f.status}: ${f.seen}`), [])
  })

  it('hostChecks run in report order: sshd, user, files, keys, network', () => {
    const areas = hostChecks.map((c) => c.area).filter((a, i, xs) => xs.indexOf(a) === i)
    assert.deepEqual(areas, ['sshd', 'user', 'files', 'keys', 'network'])
  })

  it('ids are unique, lower-case dotted names, and every finding uses an id its check declares', () => {
    const declared = hostChecks.flatMap((c) => c.ids)
    assert.equal(new Set(declared).size, declared.length)
    for (const id of declared) assert.match(id, /^[a-z]+(\.[a-z0-9_]+)+$/)
    for (const facts of [healthyFacts(), brokenFacts()]) {
      const ctx = ctxOf(facts)
      for (const c of hostChecks) for (const f of c.run(ctx)) assert.ok(c.ids.includes(f.id) && f.area === c.area, `${f.id} from ${c.ids.join(',')}`)
    }
  })

  it('docs/checks.md documents every finding id', () => {
    const doc = readFileSync(repoFile('docs/checks.md'), 'utf8')
    const missing = hostCheckIds.filter((id) => !doc.includes(`\`${id}\``))
    assert.deepEqual(missing, [])
  })

  it('every failure and warning says why; every fix has a command; every fix script is valid sh', () => {
    const findings = [...all(brokenFacts()), ...all(brokenFacts(), healthyInput({key: rsaKey(1024)})), ...all(brokenFacts(), healthyInput({key: undefined}))]
    const failing = findings.filter((f) => f.status === 'fail' || f.status === 'warn')
    assert.ok(failing.length > 40, `only ${failing.length} problems found`)
    for (const f of failing) assert.ok(f.why && f.why.length > 20, `${f.id} has no why`)
    for (const f of findings) {
      if (f.status === 'pass') assert.equal(f.fix, undefined, `${f.id} pass with a fix`)
      if (!f.fix) continue
      assert.ok(f.fix.command.length > 0)
      if (f.fix.script) {
        const r = spawnSync('sh', ['-n', '-c', f.fix.script])
        assert.equal(r.status, 0, `${f.id}: ${f.fix.script}: ${r.stderr}`)
      }
    }
  })

  it('the broken bastion is reported with the ids the issue\'s lab scenarios expect', () => {
    const failed = new Set(all(brokenFacts()).filter((f) => f.status === 'fail').map((f) => f.id))
    for (const id of [
      'sshd.config', 'sshd.listening', 'sshd.pubkey_authentication', 'sshd.allow_tcp_forwarding', 'sshd.disable_forwarding', 'sshd.permit_open',
      'sshd.allow_users', 'sshd.deny_users', 'sshd.allow_groups', 'sshd.deny_groups', 'sshd.authentication_methods',
      'user.shell', 'user.locked', 'user.expired',
      'files.authorized_keys.mode', 'files.authorized_keys.readable', 'files.ssh_dir.owner', 'files.ssh_dir.mode', 'files.home.mode',
      'keys.options.forwarding', 'keys.options.from', 'keys.options.expiry', 'network.tcp',
    ]) assert.ok(failed.has(id), `${id} did not fail`)
  })

  it('checks are pure: they do not change the facts and give the same findings twice', () => {
    const facts = brokenFacts()
    const before = structuredClone(facts)
    const a = all(facts)
    const b = all(facts)
    assert.deepEqual(facts, before)
    assert.deepEqual(a, b)
  })
})
