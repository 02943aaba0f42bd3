/** `bastion tunnel add` input: names, presets as the vendors' documents give them, and the pinned host key. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {BastionError} from '../../src/errors.js'
import {parseServerHostKey, parseTunnelName, tunnelSpecFromFlags, type TunnelFlagValues} from '../../src/tunnel/input.js'

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'
const FP = 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU'

function refused(fn: () => unknown, code: string): BastionError {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof BastionError, String(e))
    assert.equal(e.code, code, e.message)
    assert.equal(e.exit, 2)
    assert.ok(e.suggestions.length > 0)
    return e
  }
  assert.fail(`expected ${code}`)
}

const base: TunnelFlagValues = {name: 'warehouse', db: '10.0.1.5:5432'}

describe('tunnel names', () => {
  it('accepts lower-case names that make a plain systemd instance name', () => {
    assert.equal(parseTunnelName('warehouse-2'), 'warehouse-2')
  })
  it('refuses names systemd would have to escape, or that could climb out of a directory', () => {
    for (const bad of ['Warehouse', 'a/b', '../x', '-x', 'x-', 'a.b', 'a b', '', 'x'.repeat(33), '9lives']) refused(() => parseTunnelName(bad), 'TUNNEL_NAME')
  })
})

describe('presets, as the vendors document them', () => {
  it('chartio: connect.chartio.com:22 as tunnel<remote port>, with the host key its document publishes', () => {
    const {spec} = tunnelSpecFromFlags({...base, preset: 'chartio', 'remote-port': 12345})
    assert.equal(spec.server, 'connect.chartio.com')
    assert.equal(spec.serverPort, 22)
    assert.equal(spec.serverUser, 'tunnel12345')
    assert.equal(spec.bindAll, false)
    assert.equal(spec.hostKey?.type, 'ssh-rsa')
  })

  it('integrate-io: port 50683 and user sshtunnel; the server is assigned per connection, so --server is required', () => {
    refused(() => tunnelSpecFromFlags({...base, preset: 'integrate-io', 'remote-port': 12345, 'server-host-key-fingerprint': FP}), 'TUNNEL_SERVER')
    const {spec} = tunnelSpecFromFlags({...base, preset: 'integrate-io', server: 'tunnel.integrate.example', 'remote-port': 12345, 'server-host-key-fingerprint': FP})
    assert.equal(spec.serverPort, 50683)
    assert.equal(spec.serverUser, 'sshtunnel')
    assert.equal(spec.hostKeyFingerprint, FP)
    assert.equal(spec.hostKey, undefined)
  })

  it('holistics: tunnel.holistics.io:50022 as autossh, listening on all addresses (-R *:port); a port outside 20000-20100 warns', () => {
    const {spec, warnings} = tunnelSpecFromFlags({...base, preset: 'holistics', 'remote-port': 20032, 'server-host-key-fingerprint': FP})
    assert.equal(spec.server, 'tunnel.holistics.io')
    assert.equal(spec.serverPort, 50022)
    assert.equal(spec.serverUser, 'autossh')
    assert.equal(spec.bindAll, true)
    assert.deepEqual(warnings, [])
    const outside = tunnelSpecFromFlags({...base, preset: 'holistics', 'remote-port': 30000, 'server-host-key-fingerprint': FP})
    assert.match(outside.warnings[0] ?? '', /outside the Holistics tunnel range 20000-20100/)
  })

  it('every preset field is overridden by its flag; another --server drops the preset host key', () => {
    refused(() => tunnelSpecFromFlags({...base, preset: 'chartio', server: 'other.example', 'remote-port': 1}), 'TUNNEL_HOST_KEY_MISSING')
    const {spec} = tunnelSpecFromFlags({
      ...base, preset: 'holistics', server: 'other.example', 'server-port': 2222, 'server-user': 'me', 'remote-port': 20001, 'bind-all': false, 'server-host-key': KEY,
    })
    assert.deepEqual([spec.server, spec.serverPort, spec.serverUser, spec.bindAll], ['other.example', 2222, 'me', false])
  })

  it('refuses an unknown preset and names the known ones', () => {
    const e = refused(() => tunnelSpecFromFlags({...base, preset: 'fivetran', 'remote-port': 1}), 'TUNNEL_PRESET')
    assert.match(e.suggestions[0] ?? '', /chartio, integrate-io, holistics/)
  })
})

describe('the server host key', () => {
  it('takes a known_hosts line or a bare "type base64", and computes its fingerprint', () => {
    assert.equal(parseServerHostKey(`tunnel.vendor.example ${KEY}`).fingerprint, FP)
    assert.equal(parseServerHostKey(KEY).fingerprint, FP)
    assert.equal(parseServerHostKey(`[tunnel.vendor.example]:50683 ${KEY} comment here`).type, 'ssh-ed25519')
  })

  it('refuses a damaged key, a marker line, and a line that is not a key', () => {
    refused(() => parseServerHostKey(KEY.replace('ssh-ed25519 ', 'ssh-rsa ')), 'TUNNEL_HOST_KEY')
    refused(() => parseServerHostKey(KEY.slice(0, 30)), 'TUNNEL_HOST_KEY')
    refused(() => parseServerHostKey(`@revoked * ${KEY}`), 'TUNNEL_HOST_KEY')
    refused(() => parseServerHostKey('hello world'), 'TUNNEL_HOST_KEY')
  })

  it('refuses a tunnel without a pinned key (no trust on first use), and both ways at once', () => {
    refused(() => tunnelSpecFromFlags({...base, server: 's.example', 'server-user': 'u', 'remote-port': 1}), 'TUNNEL_HOST_KEY_MISSING')
    refused(() => tunnelSpecFromFlags({...base, server: 's.example', 'server-user': 'u', 'remote-port': 1, 'server-host-key': KEY, 'server-host-key-fingerprint': FP}), 'TUNNEL_HOST_KEY')
    refused(() => tunnelSpecFromFlags({...base, server: 's.example', 'server-user': 'u', 'remote-port': 1, 'server-host-key-fingerprint': 'MD5:aa:bb'}), 'TUNNEL_HOST_KEY_FINGERPRINT')
  })

  it('refuses a server that is not a host name or address, and a --db without a port', () => {
    refused(() => tunnelSpecFromFlags({...base, server: 'a b', 'server-user': 'u', 'remote-port': 1, 'server-host-key': KEY}), 'TUNNEL_SERVER')
    refused(() => tunnelSpecFromFlags({...base, db: '10.0.1.5', server: 's.example', 'server-user': 'u', 'remote-port': 1, 'server-host-key': KEY}), 'HOST_PORT')
  })
})
