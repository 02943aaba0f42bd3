/** doctor --tunnel's checks: pure functions of one tunnel report; each id documented in docs/checks.md. */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {packageRoot} from '../../src/paths.js'
import {runChecks} from '../../src/doctor/report.js'
import type {Finding, TcpProbe} from '../../src/doctor/types.js'
import {tunnelCheckIds, tunnelChecks, type TunnelFacts} from '../../src/tunnel/checks.js'
import {tunnelSpecFromFlags} from '../../src/tunnel/input.js'
import {parseTunnelConfig, type TunnelReport} from '../../src/tunnel/status.js'
import {renderSshConfig} from '../../src/tunnel/unit.js'

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'
const spec = tunnelSpecFromFlags({name: 'wh', server: 'tunnel.vendor.example', 'server-port': 50683, 'server-user': 'sshtunnel', 'remote-port': 12345, db: '10.0.1.5:5432', 'server-host-key': KEY}).spec
const open = (host: string, port: number): TcpProbe => ({target: `${host}:${port}`, host, port, addresses: [host], result: 'open'})

function healthy(): TunnelReport {
  return {
    name: 'wh',
    configured: true,
    config: parseTunnelConfig(renderSshConfig(spec)),
    pinnedKeys: [{type: 'ssh-ed25519', fingerprint: 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU'}],
    links: [],
    publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake bastion-tunnel:wh@h',
    keyFile: {mode: '600', owner: 'bastion-tunnel', links: 1},
    unit: {load: 'loaded', active: 'active', sub: 'running', result: 'success', restarts: 1, mainPid: 42, enabled: 'enabled'},
    since: '2026-11-30T02:00:00.000Z',
    upSeconds: 600,
    forward: 'established',
    connections: [{local: '10.0.0.7:40000', peer: '203.0.113.9:50683'}],
    log: [],
    runLog: ['Authenticated to tunnel.vendor.example ([203.0.113.9]:50683) using "publickey".'],
    net: {db: open('10.0.1.5', 5432), server: open('tunnel.vendor.example', 50683)},
    ssAvailable: true,
  }
}

function judge(report: TunnelReport): Finding[] {
  const facts: TunnelFacts = {name: 'wh', report, host: 'admin@10.0.0.7'}
  return runChecks(tunnelChecks, {input: {vendor: '', dbs: [], vendorIps: [], sshPort: 22}, facts, now: new Date()})
}
const statusOf = (fs: Finding[], id: string) => fs.find((f) => f.id === id)?.status

describe('doctor --tunnel checks', () => {
  it('a healthy tunnel passes every check', () => {
    const bad = judge(healthy()).filter((f) => f.status !== 'pass')
    assert.deepEqual(bad.map((f) => `${f.id}: ${f.seen}`), [])
    assert.deepEqual(judge(healthy()).map((f) => f.id), tunnelCheckIds)
  })

  it('a server whose key is not the pinned one: host_key, forward, restarts and active fail, and say why', () => {
    const r = healthy()
    Object.assign(r, {
      forward: 'down', connections: [], since: undefined, upSeconds: undefined,
      unit: {...r.unit, active: 'activating', sub: 'auto-restart', result: 'exit-code', restarts: 9},
      problem: {code: 'host-key', line: 'Host key verification failed.', message: "the server's host key is not the pinned one"},
    })
    const fs = judge(r)
    for (const id of ['tunnel.host_key', 'tunnel.forward', 'tunnel.restarts', 'tunnel.active']) assert.equal(statusOf(fs, id), 'fail', id)
    assert.match(fs.find((f) => f.id === 'tunnel.host_key')?.fix?.command ?? '', /ssh-keyscan -p 50683 'tunnel\.vendor\.example' \| ssh-keygen -lf -/)
  })

  it('a key the vendor does not have: the fix hands over the public key', () => {
    const r = healthy()
    Object.assign(r, {forward: 'down', unit: {...r.unit, active: 'activating', sub: 'auto-restart'}, problem: {code: 'auth', line: 'sshtunnel@x: Permission denied (publickey).', message: 'not accepted'}})
    const f = judge(r).find((x) => x.id === 'tunnel.forward')
    assert.equal(f?.status, 'fail')
    assert.match(f?.fix?.command ?? '', /ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake/)
  })

  it('ExitOnForwardFailure off, host key checking off, a loose key: each fails', () => {
    const r = healthy()
    const text = renderSshConfig(spec).replace('ExitOnForwardFailure yes', 'ExitOnForwardFailure no').replace('StrictHostKeyChecking yes', 'StrictHostKeyChecking no')
    r.config = parseTunnelConfig(text)
    r.keyFile = {mode: '644', owner: 'root', links: 1}
    const fs = judge(r)
    for (const id of ['tunnel.exit_on_forward_failure', 'tunnel.host_key', 'tunnel.key']) assert.equal(statusOf(fs, id), 'fail', id)
  })

  it('a server port refused, timed out or unresolvable: tunnel.server says which; an unreachable database fails tunnel.db', () => {
    const seen = (result: TcpProbe['result']) => {
      const r = healthy()
      r.net = {db: {...open('10.0.1.5', 5432), result: 'timeout'}, server: {...open('tunnel.vendor.example', 50683), result}}
      const fs = judge(r)
      assert.equal(statusOf(fs, 'tunnel.db'), 'fail')
      return fs.find((f) => f.id === 'tunnel.server')
    }
    assert.match(seen('refused')?.seen ?? '', /refused the connection/)
    assert.match(seen('timeout')?.seen ?? '', /timed out/)
    assert.match(seen('dns')?.seen ?? '', /does not resolve/)
    assert.equal(seen('open')?.status, 'pass')
  })

  it('no such tunnel: tunnel.exists fails, the rest skip', () => {
    const r = healthy()
    Object.assign(r, {configured: false, config: undefined, unit: {...r.unit, load: 'not-found', active: 'inactive', sub: 'dead'}})
    const fs = judge(r)
    assert.equal(statusOf(fs, 'tunnel.exists'), 'fail')
    assert.deepEqual([...new Set(fs.filter((f) => f.id !== 'tunnel.exists').map((f) => f.status))], ['skip'])
  })

  it('every failure says why and has a fix command; docs/checks.md documents every id', () => {
    const doc = readFileSync(join(packageRoot, 'docs/checks.md'), 'utf8')
    assert.deepEqual(tunnelCheckIds.filter((id) => !doc.includes(`\`${id}\``)), [])
    const r = healthy()
    Object.assign(r, {forward: 'down', keyFile: undefined, unit: {...r.unit, active: 'failed', sub: 'failed'}, net: {}})
    for (const f of judge(r).filter((x) => x.status === 'fail' || x.status === 'warn')) {
      assert.ok(f.why && f.why.length > 20, `${f.id} has no why`)
      assert.ok(f.fix?.command, `${f.id} has no fix`)
    }
  })
})
