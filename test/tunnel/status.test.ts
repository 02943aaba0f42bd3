/** Reading what the host reports about a tunnel, and judging it: up, connecting, down, and why (ssh's own words). */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseFacts} from '../../src/remote/script.js'
import {diagnose, parseSystemdTime, parseTunnelConfig, readTunnelReports} from '../../src/tunnel/status.js'
import {tunnelSpecFromFlags} from '../../src/tunnel/input.js'
import {renderSshConfig} from '../../src/tunnel/unit.js'

const b64 = (s: string) => Buffer.from(s).toString('base64')
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'
const spec = tunnelSpecFromFlags({name: 'wh', server: '10.231.9.2', 'server-port': 22, 'server-user': 'tunnel', 'remote-port': 15432, db: '10.0.1.5:5432', 'server-host-key': KEY}).spec

function facts(o: {active: string; sub: string; runlog: string[]; conn?: boolean; restarts?: number; ss?: boolean}): string {
  return [
    '@bastion t_tunnel wh',
    `@bastion t_file wh conf ${b64(renderSshConfig(spec))}`,
    `@bastion t_file wh known_hosts ${b64(`10.231.9.2 ${KEY}\n`)}`,
    `@bastion t_file wh pubkey ${b64('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake bastion-tunnel:wh@h\n')}`,
    '@bastion t_key wh 600 bastion-tunnel 1',
    `@bastion t_unit wh loaded ${o.active} ${o.sub} success ${o.restarts ?? 0} 4242 enabled`,
    '@bastion t_since wh @1700000000',
    '@bastion t_changed wh @1700000000',
    '@bastion t_now wh 1700000090',
    `@bastion t_runlog wh ${o.runlog.length ? b64(o.runlog.join('\n')) : '-'}`,
    `@bastion t_journal wh ${b64('2026-11-30T02:00:00+0000 h systemd[1]: Started bastion-tunnel@wh.service.')}`,
    `@bastion t_tool wh ss ${o.ss === false ? 0 : 1}`,
    ...(o.conn ? ['@bastion t_conn wh 10.231.8.2:40000 10.231.9.2:22'] : []),
    '@bastion done',
  ].join('\n')
}

describe('tunnel reports', () => {
  it('logged in, running and connected: the forward is established, up since the unit became active', () => {
    const [r] = readTunnelReports(parseFacts(facts({active: 'active', sub: 'running', runlog: ['Authenticated to 10.231.9.2 ([10.231.9.2]:22) using "publickey".'], conn: true})))
    assert.ok(r)
    assert.equal(r.forward, 'established')
    assert.equal(r.since, '2023-11-14T22:13:20.000Z')
    assert.equal(r.upSeconds, 90)
    assert.equal(r.problem, undefined)
    assert.equal(r.config?.remotePort, 15432)
    assert.equal(r.config?.db, '10.0.1.5:5432')
    assert.deepEqual(r.pinnedKeys, [{type: 'ssh-ed25519', fingerprint: 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU'}])
    assert.deepEqual(r.keyFile, {mode: '600', owner: 'bastion-tunnel', links: 1})
  })

  it('running but without its connection to the server: not established', () => {
    const [r] = readTunnelReports(parseFacts(facts({active: 'active', sub: 'running', runlog: ['Authenticated to 10.231.9.2 ([10.231.9.2]:22) using "publickey".']})))
    assert.equal(r?.forward, 'connecting')
  })

  it('a wrong pinned key: down, restarting, and the reason is the host key', () => {
    const [r] = readTunnelReports(parseFacts(facts({
      active: 'activating', sub: 'auto-restart', restarts: 7,
      runlog: ['No ED25519 host key is known for 10.231.9.2 and you have requested strict checking.', 'Host key verification failed.'],
    })))
    assert.equal(r?.forward, 'down')
    assert.equal(r?.unit.restarts, 7)
    assert.equal(r?.problem?.code, 'host-key')
    assert.equal(r?.since, undefined)
  })

  it("tells ssh's failures apart from its words", () => {
    const cases: Array<[string, string]> = [
      ['sshtunnel@10.0.0.1: Permission denied (publickey).', 'auth'],
      ['Error: remote port forwarding failed for listen port 12345', 'forward'],
      ['ssh: connect to host 10.0.0.1 port 22: Connection refused', 'refused'],
      ['ssh: connect to host 10.0.0.1 port 22: Connection timed out', 'timeout'],
      ['ssh: Could not resolve hostname tunnel.example: Name or service not known', 'dns'],
      ['ssh: connect to host 10.0.0.1 port 22: No route to host', 'noroute'],
      ['Timeout, server 10.0.0.1 not responding.', 'keepalive'],
      ['WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!', 'host-key'],
    ]
    for (const [line, code] of cases) assert.equal(diagnose(['Authenticated to x', line])?.code, code, line)
    assert.equal(diagnose(['Authenticated to x']), undefined)
  })
})

describe('small readers', () => {
  it('systemd timestamps: @unix, the plain UTC form, and "never"', () => {
    assert.equal(parseSystemdTime('@1700000000')?.toISOString(), '2023-11-14T22:13:20.000Z')
    assert.equal(parseSystemdTime('Mon 2026-11-30 02:10:00 UTC')?.toISOString(), '2026-11-30T02:10:00.000Z')
    assert.equal(parseSystemdTime('@0'), undefined)
    assert.equal(parseSystemdTime(''), undefined)
  })

  it('the config file reads back as it was written (bind-all, remote port, preset)', () => {
    const s = tunnelSpecFromFlags({name: 'r', preset: 'holistics', 'remote-port': 20032, db: 'db.internal:5432', 'server-host-key': KEY}).spec
    const c = parseTunnelConfig(renderSshConfig(s))
    assert.equal(c.bindAll, true)
    assert.equal(c.remotePort, 20032)
    assert.equal(c.preset, 'holistics')
    assert.equal(c.server, 'tunnel.holistics.io')
    assert.deepEqual(c.settings.exitonforwardfailure, ['yes'])
  })
})
