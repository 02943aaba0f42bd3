/**
 * The tunnel's files as rendered text: the systemd template unit (checked by the machine's own systemd-analyze
 * verify), the ssh_config file (read back by the machine's own `ssh -G`, which connects nowhere) and the equivalent
 * ssh command line.
 */
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {tunnelSpecFromFlags, type TunnelSpec} from '../../src/tunnel/input.js'
import {
  renderBackoffDropIn,
  renderSshConfig,
  renderUnit,
  SANDBOX,
  sshCommandLine,
  knownHostsLineFor,
} from '../../src/tunnel/unit.js'

const HOST_KEY = 'tunnel.vendor.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'

function spec(extra: Record<string, unknown> = {}): TunnelSpec {
  return tunnelSpecFromFlags({
    name: 'warehouse',
    server: 'tunnel.vendor.example',
    'server-port': 50683,
    'server-user': 'sshtunnel',
    'remote-port': 12345,
    db: '10.0.1.5:5432',
    'server-host-key': HOST_KEY,
    ...extra,
  }).spec
}

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bastion-tunnel-unit-'))
})
after(() => rmSync(dir, {recursive: true, force: true}))

/** `ssh -G`: the options ssh would use, after reading only this config file (it connects nowhere). */
function effective(config: string): Map<string, string[]> {
  const file = join(dir, `ssh-${Math.random().toString(16).slice(2)}.conf`)
  writeFileSync(file, config)
  const out = execFileSync('ssh', ['-G', '-F', file, 'bastion-tunnel'], {encoding: 'utf8'})
  const map = new Map<string, string[]>()
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ')
    if (sp < 0) continue
    const k = line.slice(0, sp)
    map.set(k, [...(map.get(k) ?? []), line.slice(sp + 1)])
  }
  return map
}

describe('the systemd template unit', () => {
  it('passes systemd-analyze verify as an instance (bastion-tunnel@demo.service), with nothing to complain about', () => {
    const file = join(dir, 'bastion-tunnel@demo.service')
    writeFileSync(file, renderUnit())
    const r = spawnSync('systemd-analyze', ['verify', file], {encoding: 'utf8'})
    assert.equal(r.error, undefined, 'systemd-analyze must be installed on the test machine')
    assert.equal(r.status, 0, r.stderr)
    const complaints = r.stderr.split('\n').filter((l) => l.includes('bastion-tunnel@demo.service'))
    assert.deepEqual(complaints, [])
  })

  it('systemd-analyze verify does complain about a broken copy (the check above can fail)', () => {
    const file = join(dir, 'bastion-tunnel@broken.service')
    writeFileSync(file, renderUnit().replace('Restart=always', 'Restart=sometimes'))
    const r = spawnSync('systemd-analyze', ['verify', file], {encoding: 'utf8'})
    assert.match(r.stderr, /bastion-tunnel@broken\.service:\d+: Failed to parse service restart specifier/)
  })

  it('restarts ssh forever with a back-off, as the bastion-tunnel user, from the instance config file', () => {
    const unit = renderUnit()
    assert.match(unit, /^Restart=always$/m)
    assert.match(unit, /^RestartSec=5$/m)
    assert.match(unit, /^StartLimitIntervalSec=0$/m)
    assert.match(unit, /^User=bastion-tunnel$/m)
    assert.match(unit, /^ExecStart=\/usr\/bin\/ssh -N -F \/etc\/bastion\/tunnels\/%i\.conf bastion-tunnel$/m)
    assert.match(unit, /^WantedBy=multi-user\.target$/m)
    assert.doesNotMatch(unit, /^ExecStart=.*autossh/m)
    const backoff = renderBackoffDropIn()
    assert.match(backoff, /^RestartSteps=\d+$/m)
    assert.match(backoff, /^RestartMaxDelaySec=\d+$/m)
  })

  it('carries every sandboxing option, each once, none of which takes the network away', () => {
    const unit = renderUnit()
    for (const [k, v] of SANDBOX) assert.ok(unit.split('\n').includes(`${k}=${v}`), `${k}=${v}`)
    for (const k of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes']) assert.match(unit, new RegExp(`^${k}$`, 'm'))
    assert.doesNotMatch(unit, /^PrivateNetwork=/m)
    assert.match(unit, /^RestrictAddressFamilies=.*AF_INET .*AF_INET6/m)
  })
})

describe("the tunnel's ssh_config file, as ssh itself reads it (ssh -G)", () => {
  it('forwards the remote port to the database, exits on a failed forward, keeps alive, and trusts only the pinned key', () => {
    const eff = effective(renderSshConfig(spec()))
    assert.deepEqual(eff.get('hostname'), ['tunnel.vendor.example'])
    assert.deepEqual(eff.get('port'), ['50683'])
    assert.deepEqual(eff.get('user'), ['sshtunnel'])
    assert.deepEqual(eff.get('remoteforward'), ['12345 [10.0.1.5]:5432'])
    assert.deepEqual(eff.get('exitonforwardfailure'), ['yes'])
    assert.deepEqual(eff.get('serveraliveinterval'), ['15'])
    assert.deepEqual(eff.get('serveralivecountmax'), ['3'])
    assert.deepEqual(eff.get('identitiesonly'), ['yes'])
    assert.deepEqual(eff.get('batchmode'), ['yes'])
    assert.deepEqual(eff.get('stricthostkeychecking'), ['true'])
    assert.deepEqual(eff.get('userknownhostsfile'), ['/etc/bastion/tunnels/warehouse.known_hosts'])
    assert.deepEqual(eff.get('globalknownhostsfile'), ['/dev/null'])
    assert.deepEqual(eff.get('identityfile'), ['/var/lib/bastion-tunnel/warehouse/id_ed25519'])
    assert.deepEqual(eff.get('passwordauthentication'), ['no'])
  })

  it('--bind-all makes ssh ask the server to listen on every address (*:port; ssh -G prints it bracketed)', () => {
    assert.deepEqual(effective(renderSshConfig(spec({'bind-all': true}))).get('remoteforward'), ['[*]:12345 [10.0.1.5]:5432'])
  })

  it('an IPv6 database is written in brackets and ssh reads it as one destination', () => {
    assert.deepEqual(effective(renderSshConfig(spec({db: '[fd00::5]:5432'}))).get('remoteforward'), ['12345 [fd00::5]:5432'])
  })

  it('never turns host key checking off', () => {
    const text = renderSshConfig(spec())
    assert.doesNotMatch(text, /StrictHostKeyChecking\s+(no|accept-new|off)/i)
    assert.match(text, /^\s*StrictHostKeyChecking yes$/m)
  })
})

describe('the equivalent ssh command line', () => {
  it('is ssh -N -R <port>:<db> with the same options, user@server last', () => {
    const argv = sshCommandLine(spec())
    assert.equal(argv[0], '/usr/bin/ssh')
    assert.equal(argv[1], '-N')
    assert.deepEqual(argv.slice(2, 4), ['-R', '12345:10.0.1.5:5432'])
    assert.equal(argv.at(-1), 'sshtunnel@tunnel.vendor.example')
    for (const o of ['ExitOnForwardFailure=yes', 'ServerAliveInterval=15', 'ServerAliveCountMax=3', 'IdentitiesOnly=yes', 'BatchMode=yes', 'StrictHostKeyChecking=yes'])
      assert.ok(argv.includes(o), o)
    assert.ok(argv.includes('UserKnownHostsFile=/etc/bastion/tunnels/warehouse.known_hosts'))
    assert.deepEqual(argv.slice(argv.indexOf('-p'), argv.indexOf('-p') + 2), ['-p', '50683'])
  })

  it('--bind-all puts *: in front of the remote port', () => {
    assert.ok(sshCommandLine(spec({'bind-all': true})).includes('*:12345:10.0.1.5:5432'))
  })
})

describe('the pinned known_hosts line', () => {
  it('names the server as ssh looks it up: host for port 22, [host]:port otherwise', () => {
    assert.equal(knownHostsLineFor({server: 'tunnel.vendor.example', serverPort: 22}, 'ssh-ed25519', 'AAAA'), 'tunnel.vendor.example ssh-ed25519 AAAA')
    assert.equal(knownHostsLineFor({server: 'tunnel.vendor.example', serverPort: 50683}, 'ssh-ed25519', 'AAAA'), '[tunnel.vendor.example]:50683 ssh-ed25519 AAAA')
  })
})
