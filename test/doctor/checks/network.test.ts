import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {networkDns, networkTcp, networkTools} from '../../../src/doctor/checks/network.js'
import {parseHostPort} from '../../../src/input/parse.js'
import type {TcpProbe} from '../../../src/doctor/types.js'
import {DB, healthyFacts, healthyInput, only, run, statuses} from '../fixtures/facts.js'

const NAMED = parseHostPort('db.internal:5432', '--db')

function probe(result: TcpProbe['result'], extra: Partial<TcpProbe> = {}): TcpProbe {
  return {target: DB.text, host: DB.host, port: DB.port, addresses: [DB.host], result, ms: 5000, tool: 'nc', ...extra}
}

describe('doctor/checks/network', () => {
  it('network.tools: nc passes, bash /dev/tcp fallback passes and says so, neither warns, no --db skips', () => {
    assert.equal(only(run(networkTools), 'network.tools').status, 'pass')
    const bash = only(run(networkTools, healthyFacts({tools: {nc: false, ncFlavor: undefined}})), 'network.tools')
    assert.equal(bash.status, 'pass')
    assert.match(bash.seen, /bash's \/dev\/tcp/)
    const none = only(run(networkTools, healthyFacts({tools: {nc: false, bash: false}})), 'network.tools')
    assert.equal(none.status, 'warn')
    assert.equal(none.fix!.command, 'apt-get install -y netcat-openbsd')
    assert.equal(only(run(networkTools, healthyFacts(), healthyInput({dbs: []})), 'network.tools').status, 'skip')
  })

  it('network.dns: an address needs no lookup, a name that resolves passes, one that does not fails with the name', () => {
    assert.equal(only(run(networkDns), 'network.dns').status, 'pass')
    const ok = healthyFacts({network: [{target: NAMED.text, host: NAMED.host, port: 5432, addresses: ['10.0.1.5', '10.0.1.6'], result: 'open'}]})
    assert.match(only(run(networkDns, ok, healthyInput({dbs: [NAMED]})), 'network.dns').seen, /resolves to 10\.0\.1\.5 and 10\.0\.1\.6/)
    const bad = healthyFacts({network: [{target: NAMED.text, host: NAMED.host, port: 5432, addresses: [], result: 'dns', detail: 'getent: no answer'}]})
    const f = only(run(networkDns, bad, healthyInput({dbs: [NAMED]})), 'network.dns')
    assert.equal(f.status, 'fail')
    assert.match(f.seen, /db\.internal does not resolve/)
    assert.equal(f.fix!.command, "getent ahosts 'db.internal'")
    assert.equal(only(run(networkDns, healthyFacts({network: []}), healthyInput({dbs: [NAMED]})), 'network.dns').status, 'skip')
    assert.equal(only(run(networkDns, healthyFacts(), healthyInput({dbs: []})), 'network.dns').status, 'skip')
  })

  it('network.tcp: open passes', () => {
    const f = only(run(networkTcp), 'network.tcp')
    assert.equal(f.status, 'pass')
    assert.match(f.seen, /accepted a connection after 2 ms \(nc\)/)
  })

  it('network.tcp: refused fails with "nothing listens" advice', () => {
    const f = only(run(networkTcp, healthyFacts({network: [probe('refused', {ms: 1})]})), 'network.tcp')
    assert.equal(f.status, 'fail')
    assert.match(f.why!, /nothing listens on port 5432/)
    assert.match(f.why!, /listening on all interfaces/)
    assert.match(f.why!, /connect failed: Connection refused/)
    assert.equal(f.fix!.command, "nc -vz -w 5 '10.0.1.5' '5432'")
  })

  it('network.tcp: a timeout fails naming the firewall rule to add (bastion address → db:port)', () => {
    const facts = healthyFacts({network: [probe('timeout')], sshd: {listening: [{address: '10.0.0.5', port: 22, process: 'sshd'}]}})
    const f = only(run(networkTcp, facts), 'network.tcp')
    assert.equal(f.status, 'fail')
    assert.match(f.why!, /allow 10\.0\.0\.5 → 10\.0\.1\.5:5432/)
    assert.equal(f.fix!.command, "ip route get '10.0.1.5'")
    const generic = only(run(networkTcp, healthyFacts({network: [probe('timeout')]})), 'network.tcp')
    assert.match(generic.why!, /allow the bastion's private address → 10\.0\.1\.5:5432/)
  })

  it('network.tcp: no route fails, an unclear error warns, a DNS failure skips (network.dns says it)', () => {
    assert.equal(only(run(networkTcp, healthyFacts({network: [probe('noroute')]})), 'network.tcp').status, 'fail')
    const err = only(run(networkTcp, healthyFacts({network: [probe('error', {detail: 'nc: getaddrinfo: weird'})]})), 'network.tcp')
    assert.equal(err.status, 'warn')
    assert.match(err.seen, /weird/)
    const dns = healthyFacts({network: [{target: NAMED.text, host: NAMED.host, port: 5432, addresses: [], result: 'dns'}]})
    assert.equal(only(run(networkTcp, dns, healthyInput({dbs: [NAMED]})), 'network.tcp').status, 'skip')
  })

  it('network.tcp: the bash fallback recheck command is used when nc is missing', () => {
    const f = only(run(networkTcp, healthyFacts({network: [probe('refused', {tool: 'bash'})], tools: {nc: false}})), 'network.tcp')
    assert.equal(f.fix!.command, "timeout 5 bash -c 'exec 3<>/dev/tcp/10.0.1.5/5432' && echo open")
  })

  it('network.tcp: one finding per database, no --db skips', () => {
    const db2 = parseHostPort('10.0.1.6:3306', '--db')
    const facts = healthyFacts({network: [probe('open', {ms: 2}), {target: db2.text, host: db2.host, port: db2.port, addresses: [db2.host], result: 'refused'}]})
    assert.deepEqual(statuses(run(networkTcp, facts, healthyInput({dbs: [DB, db2]}))), ['pass', 'fail'])
    assert.deepEqual(statuses(run(networkTcp, healthyFacts(), healthyInput({dbs: []}))), ['skip'])
  })
})
